//! Download progress: a terminal bar for people, log lines for CI and files.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// How downloads report progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgressMode {
    /// A bar when stderr is a terminal and `CI` is unset, log lines otherwise.
    #[default]
    Auto,
    /// Always an `indicatif` bar on stderr.
    Bar,
    /// `tracing` info lines at start and end (size, duration, rate).
    Log,
    /// `tracing` debug lines only.
    Quiet,
}

impl ProgressMode {
    /// `Auto` decided for this process; other modes unchanged.
    pub fn resolve(self) -> Self {
        match self {
            Self::Auto if std::io::stderr().is_terminal() && std::env::var_os("CI").is_none() => {
                Self::Bar
            }
            Self::Auto => Self::Log,
            other => other,
        }
    }
}

/// One download being reported.
pub(crate) struct Transfer {
    mode: ProgressMode,
    url: String,
    started: Instant,
    bar: Option<ProgressBar>,
}

impl Transfer {
    /// Starts reporting a download of `url` (already redacted), `len` bytes if known. In
    /// [`ProgressMode::Bar`] the bar joins `bars`, so concurrent downloads stack cleanly.
    pub(crate) fn start(
        mode: ProgressMode,
        bars: &MultiProgress,
        url: String,
        len: Option<u64>,
    ) -> Self {
        let bar = (mode == ProgressMode::Bar).then(|| {
            let bar = bars.add(ProgressBar::new(len.unwrap_or(0)));
            if len.is_none() {
                bar.unset_length();
            }
            let template = "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}";
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(url.clone());
            bar
        });
        match mode {
            ProgressMode::Log => tracing::info!(url = %url, bytes = len, "download started"),
            _ => tracing::debug!(url = %url, bytes = len, "download started"),
        }
        Self {
            mode,
            url,
            started: Instant::now(),
            bar,
        }
    }

    /// Records `n` more bytes.
    pub(crate) fn advance(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// Ends the report after `bytes` were received in full.
    pub(crate) fn finish(self, bytes: u64) {
        let secs = self.started.elapsed().as_secs_f64();
        let mib_per_s = if secs > 0.0 {
            bytes as f64 / secs / (1024.0 * 1024.0)
        } else {
            0.0
        };
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let ms = (secs * 1000.0) as u64;
        match self.mode {
            ProgressMode::Quiet => {
                tracing::debug!(url = %self.url, bytes, ms, mib_per_s, "download finished")
            }
            _ => {
                tracing::info!(url = %self.url, bytes, ms, mib_per_s = format!("{mib_per_s:.1}"), "download finished")
            }
        }
    }
}

impl Drop for Transfer {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            if !bar.is_finished() {
                bar.abandon();
            }
        }
    }
}
