//! The dates of a `releases.md` row: the run's UTC day, and that day some years later the way
//! GNU `date -d "+N years"` computes it (same month and day; a day the later month lacks rolls
//! over into the next month, so 2028-02-29 + 3 years is 2031-03-01).

use time::macros::format_description;
use time::{Date, Duration};

use crate::DocsError;

/// Parses the run's day, `YYYY-MM-DD`.
pub fn parse_day(text: &str) -> Result<Date, DocsError> {
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|e| DocsError::RunDate(format!("{text:?}: {e}")))
}

/// `day` written `YYYY-MM-DD`.
pub fn format_day(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// `day` plus `years` years, as `date -d "+N years"` does it.
pub fn add_years(day: Date, years: i32) -> Result<Date, DocsError> {
    let out_of_range = || DocsError::RunDate(format!("{} + {years} years", format_day(day)));
    let year = day.year().checked_add(years).ok_or_else(out_of_range)?;
    let first = Date::from_calendar_date(year, day.month(), 1).map_err(|_| out_of_range())?;
    first
        .checked_add(Duration::days(i64::from(day.day()) - 1))
        .ok_or_else(out_of_range)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn plus(day: &str, years: i32) -> String {
        format_day(add_years(parse_day(day).unwrap(), years).unwrap())
    }

    /// The expected values are what GNU `date -u -d "<day> +N years" +%F` printed on this
    /// project's machine.
    #[test]
    fn years_are_added_like_gnu_date() {
        assert_eq!(plus("2026-05-19", 3), "2029-05-19");
        assert_eq!(plus("2028-02-29", 3), "2031-03-01");
        assert_eq!(plus("2028-02-29", 5), "2033-03-01");
        assert_eq!(plus("2024-02-29", 4), "2028-02-29");
        assert_eq!(plus("2026-12-31", 5), "2031-12-31");
    }

    #[test]
    fn a_malformed_run_date_is_refused() {
        let error = parse_day("2026-13-01").unwrap_err().to_string();
        assert!(error.starts_with("run date \"2026-13-01\""), "{error}");
    }
}
