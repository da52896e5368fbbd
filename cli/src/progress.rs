//! Progress on standard error for long operations.
//!
//! Shown only when standard error is a terminal and `-q` was not given, and only once an
//! operation has run for [`DELAY`] (short ones never draw anything). Bytes done, average
//! rate and, when the total is known, a bar and the time left (drawn by indicatif).

use indicatif::{HumanBytes, HumanDuration, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How long an operation runs before its progress appears.
pub const DELAY: Duration = Duration::from_secs(2);

/// Progress of one file or stream (does nothing when disabled).
pub struct Progress {
    enabled: bool,
    start: Instant,
    total: Option<u64>,
    label: String,
    done: u64,
    bar: Option<ProgressBar>,
    shown: Option<Instant>,
}

/// True when progress may be drawn: stderr is a terminal and not `quiet`.
pub fn allowed(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

impl Progress {
    /// Progress of `label`, `total` bytes if known; drawn only if `enabled`.
    pub fn new(enabled: bool, total: Option<u64>, label: String) -> Progress {
        Progress {
            enabled,
            start: Instant::now(),
            total,
            label,
            done: 0,
            bar: None,
            shown: None,
        }
    }

    /// Records `n` more bytes done.
    pub fn add(&mut self, n: u64) {
        self.done += n;
        if !self.enabled {
            return;
        }
        if self.bar.is_none() && self.start.elapsed() >= DELAY {
            self.bar = Some(self.make_bar());
        }
        let Some(b) = &self.bar else { return };
        b.set_position(self.done);
        // Rate and time left from the average since the start (indicatif's own estimate
        // would only see the bar's life, which starts after DELAY).
        let now = Instant::now();
        if self
            .shown
            .is_some_and(|t| now.duration_since(t) < Duration::from_millis(250))
        {
            return;
        }
        self.shown = Some(now);
        let secs = self.start.elapsed().as_secs_f64().max(1e-3);
        let rate = self.done as f64 / secs;
        let mut info = format!("{}/s", HumanBytes(rate as u64));
        if let Some(t) = self.total.filter(|_| rate > 0.0) {
            let left = t.saturating_sub(self.done) as f64 / rate;
            info.push_str(&format!(
                ", {} left",
                HumanDuration(Duration::from_secs_f64(left))
            ));
        }
        b.set_prefix(info);
    }

    fn make_bar(&self) -> ProgressBar {
        let (bar, template) = match self.total {
            Some(t) => (
                ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr()),
                "{msg} [{bar:30}] {bytes}/{total_bytes} {prefix}",
            ),
            None => (
                ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
                "{msg} {spinner} {bytes} {prefix}",
            ),
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(self.label.clone());
        bar
    }

    /// Removes the bar, if one was drawn.
    pub fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disabled_progress_never_draws() {
        let mut p = Progress::new(false, Some(10), "x".into());
        p.start -= DELAY * 2;
        p.add(5);
        assert!(p.bar.is_none());
        assert_eq!(p.done, 5);
    }

    #[test]
    fn an_enabled_progress_waits_for_the_delay() {
        let mut p = Progress::new(true, Some(10), "x".into());
        p.add(1);
        assert!(p.bar.is_none(), "nothing before the delay");
        p.start -= DELAY * 2;
        p.add(1);
        assert!(p.bar.is_some(), "drawn after the delay");
        p.finish();
    }
}
