//! Temporaries removed when a signal ends the process.
//!
//! The default action of `SIGINT` (Ctrl-C), `SIGTERM` (`kill`, service
//! managers) and `SIGHUP` (a closed terminal) ends the process without
//! running any destructor, so the drop guards of the named temporaries (see
//! the `io` module: the fallback where `O_TMPFILE` is unavailable) would
//! never run and the partial output, plaintext for `decrypt`, would stay on
//! disk. [`remove_temporaries_on_signals`] handles those signals on a thread
//! of its own (through `signal-hook`, whose handler only writes to a pipe,
//! so nothing unsafe runs in signal context): it deletes the temporaries,
//! then ends the process with the same signal, so the parent sees what it
//! would have seen without the handler (a shell prints nothing and a script
//! stops on Ctrl-C as usual).
//!
//! A library does not take signals over by itself: the application calls
//! this once, before it starts writing (the `aisec data` commands do).
//! `SIGKILL` cannot be handled: see the `io` module for what it leaves.

#[cfg(unix)]
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// The signals whose default action ends the process and that a user or a
/// supervisor sends to stop a run.
#[cfg(unix)]
pub const HANDLED: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

/// The shell's exit status for a process ended by signal N is this plus N.
#[cfg(unix)]
const SIGNAL_EXIT_BASE: i32 = 128;

/// Installs the handler (once per process; later calls do nothing). On
/// systems without Unix signals it does nothing: the drop guards still cover
/// errors and panics.
pub fn remove_temporaries_on_signals() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::sync::Mutex;
        static INSTALLED: Mutex<bool> = Mutex::new(false);
        let mut installed = INSTALLED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *installed {
            return Ok(());
        }
        let mut signals = signal_hook::iterator::Signals::new(HANDLED)?;
        std::thread::Builder::new()
            .name("aisec-signals".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    // Held until the process ends: no temporary is created
                    // or put in place after this point.
                    let _removed = crate::io::remove_temporaries();
                    // Restores the default action and raises the signal;
                    // for these three it ends the process (it aborts if
                    // that failed), so nothing after it runs.
                    let _ = signal_hook::low_level::emulate_default_handler(signal);
                    // Not reached; should the table lack the signal, end as
                    // a shell reports a death by signal.
                    std::process::exit(SIGNAL_EXIT_BASE + signal);
                }
            })?;
        *installed = true;
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::process::ExitStatusExt;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};

    use super::*;

    /// Set in the child process of the signal test.
    const CHILD_DIR: &str = "AISEC_DATASET_SIGNAL_CHILD_DIR";
    /// Precedes the temporary's path in the child's output (libtest writes
    /// `test ... ` before it on the same line).
    const TEMP_MARK: &str = "temporary=";

    /// The child: a named temporary (the fallback the handler exists for)
    /// with partial output in it, its path on stdout, then it waits to be
    /// signalled. Ignored in normal runs; the test below runs it.
    #[test]
    #[ignore = "run by temporaries_are_removed_when_a_signal_ends_the_process"]
    fn signal_child() {
        let Some(dir) = std::env::var_os(CHILD_DIR) else {
            return;
        };
        remove_temporaries_on_signals().unwrap();
        let out = PathBuf::from(dir).join("plain.csv");
        let mut tmp = crate::io::TempOutput::create(&out, false).unwrap();
        tmp.file_mut()
            .write_all(b"name,ssn\nJane,078-05-1120\n")
            .unwrap();
        println!("{TEMP_MARK}{}", tmp.path().unwrap().display());
        std::io::stdout().flush().unwrap();
        // Far longer than the parent ever waits: only the signal ends this.
        std::thread::sleep(std::time::Duration::from_secs(600));
        tmp.persist(&out).unwrap();
    }

    fn run_child_and_signal(signal: i32, name: &str) {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "interrupt::tests::signal_child", "--ignored"])
            .args(["--nocapture", "--test-threads", "1"])
            .env(CHILD_DIR, dir.path())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let temp = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                panic!("the child ended before naming its temporary");
            };
            if let Some((_, path)) = line.split_once(TEMP_MARK) {
                break PathBuf::from(path);
            }
        };
        assert!(temp.exists(), "{}", temp.display());
        let killed = Command::new("kill")
            .args([&format!("-{name}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(signal), "{name}: {status:?}");
        assert!(!temp.exists(), "{name} left {}", temp.display());
        assert!(empty(dir.path()), "{name}: {:?}", dir.path());
    }

    fn empty(dir: &Path) -> bool {
        std::fs::read_dir(dir).unwrap().next().is_none()
    }

    #[test]
    fn temporaries_are_removed_when_a_signal_ends_the_process() {
        for (signal, name) in [(SIGINT, "INT"), (SIGTERM, "TERM"), (SIGHUP, "HUP")] {
            run_child_and_signal(signal, name);
        }
    }
}
