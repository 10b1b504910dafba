//! The progress display on stderr: only when stderr is a terminal, and only for long scans
//! (more than one account snapshot directory, or more than two seconds).

use std::io::IsTerminal as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A spinner/bar that stays hidden until the scan is long enough to deserve it.
pub struct Progress {
    bar: ProgressBar,
    done: Arc<AtomicBool>,
}

/// How long a scan runs before the progress display appears.
const DELAY: Duration = Duration::from_secs(2);

impl Progress {
    /// Starts the display for a scan of `paths`; `None` when stderr is not a terminal.
    #[must_use]
    pub fn start(paths: &[String]) -> Option<Progress> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let style = ProgressStyle::with_template("{spinner} {msg} {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_message("loading inputs");
        let done = Arc::new(AtomicBool::new(false));
        if snapshot_dirs(paths) > 1 {
            show(&bar);
        } else {
            let (bar, done) = (bar.clone(), Arc::clone(&done));
            std::thread::spawn(move || {
                let step = Duration::from_millis(100);
                let mut waited = Duration::ZERO;
                while waited < DELAY {
                    if done.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(step);
                    waited += step;
                }
                if !done.load(Ordering::Relaxed) {
                    show(&bar);
                }
            });
        }
        Some(Progress { bar, done })
    }

    /// Switches to counting `len` rules.
    pub fn rules(&self, len: usize) {
        self.bar.set_length(len as u64);
        self.bar.set_position(0);
        self.bar.set_message("running rules");
    }

    /// One rule finished.
    pub fn rule_done(&self) {
        self.bar.inc(1);
    }

    /// Removes the display.
    pub fn finish(&self) {
        self.done.store(true, Ordering::Relaxed);
        self.bar.finish_and_clear();
    }
}

fn show(bar: &ProgressBar) {
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar.enable_steady_tick(Duration::from_millis(120));
}

/// Number of account snapshot directories (named by a 12-digit id) at most three levels
/// below the given directories.
fn snapshot_dirs(paths: &[String]) -> usize {
    fn walk(dir: &Path, depth: usize, n: &mut usize) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if !p.is_dir() {
                continue;
            }
            if p.file_name().and_then(|s| s.to_str()).is_some_and(crate::policy::arn::is_account_id) {
                *n += 1;
            } else if depth < 3 {
                walk(&p, depth + 1, n);
            }
        }
    }
    let mut n = 0;
    for p in paths {
        walk(Path::new(p), 0, &mut n);
    }
    n
}
