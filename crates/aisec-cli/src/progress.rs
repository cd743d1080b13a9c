use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar on stderr: bytes and files done. Only made when stderr is
/// a terminal, so pipes and CI logs stay clean.
pub struct Bar {
    bar: ProgressBar,
    files_done: AtomicU64,
    files_total: AtomicU64,
}

impl Bar {
    pub fn new() -> Bar {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(10));
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} scanning [{bar:30}] {bytes}/{total_bytes}, {msg} ({elapsed})",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        Bar {
            bar,
            files_done: AtomicU64::new(0),
            files_total: AtomicU64::new(0),
        }
    }
}

impl aisec_engine::Progress for Bar {
    fn start(&self, files: u64, bytes: u64) {
        self.files_total.store(files, Ordering::Relaxed);
        self.bar.set_length(bytes);
        self.bar.set_message(format!("0/{files} files"));
    }

    fn file_done(&self, bytes: u64) {
        let done = self.files_done.fetch_add(1, Ordering::Relaxed) + 1;
        self.bar.inc(bytes);
        // indicatif redraws at most 10 times a second whatever we set here.
        self.bar.set_message(format!(
            "{done}/{} files",
            self.files_total.load(Ordering::Relaxed)
        ));
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
