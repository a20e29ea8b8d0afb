//! A per-thread capture of `tracing` output, through one global subscriber.

use std::cell::RefCell;
use std::io;
use std::sync::{Arc, Mutex, Once};

/// A shared buffer a `tracing_subscriber::fmt` subscriber writes into.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    pub fn contents(&self) -> String {
        String::from_utf8(self.0.lock().expect("log lock").clone()).expect("UTF-8 logs")
    }
}

impl io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

thread_local! {
    /// The buffer of the current thread's capture, if one is active.
    static CAPTURE: RefCell<Option<LogBuffer>> = const { RefCell::new(None) };
}

/// Writes into the current thread's capture buffer, or nowhere.
struct ThreadWriter;

impl io::Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        CAPTURE.with(|capture| match &mut *capture.borrow_mut() {
            Some(buffer) => buffer.write(buf),
            None => Ok(buf.len()),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Installs, once per test binary, a global TRACE-level fmt subscriber that writes into the
/// capture buffer of the thread that emitted the event.
///
/// Why global and not `tracing::subscriber::set_default` per test: tracing caches each
/// callsite's interest process-wide. When one test thread registers a callsite with no
/// subscriber while another thread is installing its scoped subscriber, the callsite can stay
/// cached as "never", and the capturing test misses events at random. A global subscriber
/// installed before the first request of the binary (`send` calls this) avoids the race; the
/// per-test capture stays thread-local, so parallel tests do not see each other's events.
pub fn install_log_router() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(|| ThreadWriter)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
    });
}

/// Ends the current thread's capture when dropped.
#[must_use = "the capture ends when the guard drops"]
pub struct CaptureGuard(());

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURE.with(|capture| capture.borrow_mut().take());
    }
}

/// Captures the events this thread emits (at every level, through the fmt formatter) into the
/// returned buffer until the guard drops. Use it from a current-thread runtime
/// (`#[tokio::test]`), where the requests run on the test's own thread.
pub fn capture_logs() -> (LogBuffer, CaptureGuard) {
    install_log_router();
    let buffer = LogBuffer::default();
    CAPTURE.with(|capture| *capture.borrow_mut() = Some(buffer.clone()));
    (buffer, CaptureGuard(()))
}

/// Asserts that one line of the captured logs contains every fragment.
#[track_caller]
pub fn assert_logged(logs: &str, fragments: &[&str]) {
    assert!(
        logs.lines()
            .any(|line| fragments.iter().all(|f| line.contains(f))),
        "no log line with all of {fragments:?}:\n{logs}"
    );
}

/// Asserts one `access decision` event per `(route, outcome, reason)`.
#[track_caller]
pub fn assert_decisions(logs: &str, decisions: &[(&str, &str, &str)]) {
    for (route, outcome, reason) in decisions {
        assert_logged(
            logs,
            &[
                "access decision",
                &format!("route={route} "),
                &format!(r#"outcome="{outcome}""#),
                &format!(r#"reason="{reason}""#),
            ],
        );
    }
}
