//! SIGINT, SIGTERM and SIGHUP: the run in progress is asked to stop (commands that poll
//! [`received`] cancel and remove their temporaries); whatever does not stop within a
//! second (checks sit between tiles, batches, folds, epochs and dates) has its temporaries removed and the process exits with 128 + the signal, as shells
//! expect. Nothing half-written survives either way.

use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// How long a command may take to stop by itself after a signal.
const GRACE: Duration = Duration::from_millis(750);

/// The signal received, if any.
pub fn received() -> Option<i32> {
    Some(RECEIVED.load(Ordering::Relaxed)).filter(|&s| s != 0)
}

pub fn install() {
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return; // no handler: the default disposition still kills the process
    };
    std::thread::spawn(move || {
        let Some(first) = signals.forever().next() else { return };
        RECEIVED.store(first, Ordering::Relaxed);
        // A second signal, or the grace period, ends it now.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                let _ = tx.send(());
            }
        });
        let _ = rx.recv_timeout(GRACE);
        terrapix::output::remove_live_temporaries_and_exit(128 + first);
    });
}
