//! The release date written into a page: a UTC calendar day, `YYYY-MM-DD`.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

/// A calendar day between 1970-01-01 and 9999-12-31, written `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReleaseDate {
    year: u16,
    month: u8,
    day: u8,
}

/// Why a date was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not `YYYY-MM-DD` with digits.
    #[error("date {0:?} is not YYYY-MM-DD")]
    Format(String),
    /// Year, month or day out of range (years 1970-9999, days of that month).
    #[error("no such day {year:04}-{month:02}-{day:02} (years 1970-9999)")]
    NoSuchDay {
        /// The year given.
        year: u32,
        /// The month given.
        month: u32,
        /// The day given.
        day: u32,
    },
    /// A time before 1970 or after 9999.
    #[error("time out of the supported range 1970-9999")]
    OutOfRange,
}

impl ReleaseDate {
    /// The day `year`-`month`-`day`, e.g. `ReleaseDate::new(2026, 7, 21)`.
    pub fn new(year: u32, month: u32, day: u32) -> Result<Self, DateError> {
        let no_such_day = DateError::NoSuchDay { year, month, day };
        if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err(no_such_day);
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(no_such_day);
        }
        // The ranges checked above fit the narrower types.
        match (u16::try_from(year), u8::try_from(month), u8::try_from(day)) {
            (Ok(year), Ok(month), Ok(day)) => Ok(Self { year, month, day }),
            _ => Err(no_such_day),
        }
    }

    /// Parses `YYYY-MM-DD`, e.g. `2026-07-21`.
    pub fn parse(text: &str) -> Result<Self, DateError> {
        let format_error = || DateError::Format(text.chars().take(40).collect());
        let bytes = text.as_bytes();
        let shape_ok = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shape_ok {
            return Err(format_error());
        }
        let field = |range: std::ops::Range<usize>| {
            text.get(range)
                .and_then(|digits| digits.parse::<u32>().ok())
                .ok_or_else(format_error)
        };
        Self::new(field(0..4)?, field(5..7)?, field(8..10)?)
    }

    /// The UTC day of `seconds` since the Unix epoch.
    pub fn from_unix_seconds(seconds: u64) -> Result<Self, DateError> {
        let days = seconds / 86_400;
        let (year, month, day) = civil_from_days(days);
        Self::new(year, month, day).map_err(|_| DateError::OutOfRange)
    }

    /// The UTC day of `time`, e.g. `ReleaseDate::from_system_time(SystemTime::now())`.
    pub fn from_system_time(time: SystemTime) -> Result<Self, DateError> {
        let since_epoch = time
            .duration_since(UNIX_EPOCH)
            .map_err(|_| DateError::OutOfRange)?;
        Self::from_unix_seconds(since_epoch.as_secs())
    }
}

fn is_leap(year: u32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Year, month and day of the `days`-th day after 1970-01-01, walking years then months.
/// Days past 9999 give a year that [`ReleaseDate::new`] refuses.
fn civil_from_days(mut days: u64) -> (u32, u32, u32) {
    let mut year = 1970;
    while year <= 9999 {
        let year_len = if is_leap(year) { 366 } else { 365 };
        if days < year_len {
            break;
        }
        days -= year_len;
        year += 1;
    }
    let mut month = 1;
    while month < 12 && days >= u64::from(days_in_month(year, month)) {
        days -= u64::from(days_in_month(year, month));
        month += 1;
    }
    // `days` is now below 31, the length of the longest month.
    let day = u32::try_from(days).map_or(u32::MAX, |d| d + 1);
    (year, month, day)
}

impl fmt::Display for ReleaseDate {
    /// `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for ReleaseDate {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_parses_iso_days() {
        let date = ReleaseDate::new(2026, 7, 1).expect("valid");
        assert_eq!(date.to_string(), "2026-07-01");
        assert_eq!(ReleaseDate::parse("2026-07-01"), Ok(date));
        assert_eq!(
            ReleaseDate::parse("2024-02-29").map(|d| d.to_string()),
            Ok("2024-02-29".to_owned())
        );
    }

    #[test]
    fn refuses_impossible_days_and_other_shapes() {
        for bad in [
            "2025-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "2026-01-00",
            "1969-12-31",
            "2026-7-1",
            "2026/07/01",
            "20260701",
            " 2026-07-01",
            "2026-07-01\n",
            "+026-07-01",
            "",
        ] {
            assert!(ReleaseDate::parse(bad).is_err(), "accepted {bad:?}");
        }
        assert_eq!(
            ReleaseDate::parse("2026-04-31")
                .expect_err("refused")
                .to_string(),
            "no such day 2026-04-31 (years 1970-9999)"
        );
    }

    #[test]
    fn converts_unix_time_to_the_utc_day() {
        let day = |s| {
            ReleaseDate::from_unix_seconds(s)
                .expect("in range")
                .to_string()
        };
        assert_eq!(day(0), "1970-01-01");
        assert_eq!(day(86_399), "1970-01-01");
        assert_eq!(day(86_400), "1970-01-02");
        // 2000-02-29T12:00:00Z, a leap day of a century divisible by 400.
        assert_eq!(day(951_825_600), "2000-02-29");
        // 2026-07-21T23:59:59Z and the next second.
        assert_eq!(day(1_784_678_399), "2026-07-21");
        assert_eq!(day(1_784_678_400), "2026-07-22");
        // 2100-03-01T00:00:00Z: 2100 is not a leap year.
        assert_eq!(day(4_107_542_400), "2100-03-01");
        assert_eq!(
            ReleaseDate::from_unix_seconds(u64::MAX),
            Err(DateError::OutOfRange)
        );
    }
}
