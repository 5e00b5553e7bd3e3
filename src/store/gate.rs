//! Writers of one database take turns with a long catch-up.
//!
//! SQLite lets one writer in at a time; a writer that finds the write lock taken tries
//! again every millisecond ([`retry_busy`]). A terminal catching up a long backlog
//! applies it in long transactions, because each commit rewrites the balance pages it
//! touched and fewer commits rewrite them fewer times. So that a floor screen never
//! waits for a whole catch-up, the stores open on the same file in this process share
//! one [`Gate`] that counts the writers waiting for the lock: the catch-up looks at it
//! after each page, commits when someone waits, and lets them in before it goes on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

/// How long a writer waits for another's lock before it gives up with "busy".
const BUSY_FOR_AT_MOST: Duration = Duration::from_secs(15);
/// How often a writer waiting for the lock tries again.
const BUSY_RETRY_EVERY: Duration = Duration::from_millis(1);

/// The busy handler of every connection: try again every millisecond, for up to 15 s.
/// (SQLite's own `busy_timeout` sleeps up to 100 ms between tries, so a floor screen
/// would wait on after the lock was free.)
pub(super) fn retry_busy(tries: i32) -> bool {
    let most = BUSY_FOR_AT_MOST.as_millis() / BUSY_RETRY_EVERY.as_millis();
    if u128::try_from(tries).unwrap_or(u128::MAX) >= most {
        return false;
    }
    std::thread::sleep(BUSY_RETRY_EVERY);
    true
}

/// The writers waiting for the write lock of one database.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    waiting: Mutex<usize>,
    changed: Condvar,
}

/// A writer's place at the gate, from before it asks for the write lock until it has it
/// or gave up.
pub(crate) struct Waiting<'a>(&'a Gate);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut waiting = self.0.count();
        *waiting = waiting.saturating_sub(1);
        self.0.changed.notify_all();
    }
}

impl Gate {
    /// The gate of the database at `path`, shared by every store open on it in this
    /// process (the same file by any name).
    pub(crate) fn of(path: &Path) -> Arc<Gate> {
        static GATES: LazyLock<Mutex<HashMap<PathBuf, Weak<Gate>>>> = LazyLock::new(Mutex::default);
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let mut gates = GATES.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(gate) = gates.get(&key).and_then(Weak::upgrade) {
            return gate;
        }
        gates.retain(|_, g| g.strong_count() > 0);
        let gate = Arc::new(Gate::default());
        gates.insert(key, Arc::downgrade(&gate));
        gate
    }

    fn count(&self) -> MutexGuard<'_, usize> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queue for the write lock; the place is given up when the result is dropped.
    pub(crate) fn queue(&self) -> Waiting<'_> {
        *self.count() += 1;
        Waiting(self)
    }

    /// How many writers wait for the lock now.
    pub(crate) fn waiting(&self) -> usize {
        *self.count()
    }

    /// Wait until no writer is queued (those queued now have the lock or gave up, and
    /// so have any that queued meanwhile), at most `at_most`.
    pub(crate) fn let_in(&self, at_most: Duration) {
        let until = Instant::now() + at_most;
        let mut waiting = self.count();
        while *waiting > 0 {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            waiting = match self.changed.wait_timeout(waiting, left) {
                Ok((w, _)) => w,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_on_one_file_share_a_gate_and_others_do_not() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let a = dir.path().join("a.db");
        std::fs::write(&a, b"")?;
        let first = Gate::of(&a);
        let again = Gate::of(&dir.path().join(".").join("a.db"));
        assert!(Arc::ptr_eq(&first, &again));
        let other = Gate::of(&dir.path().join("b.db"));
        assert!(!Arc::ptr_eq(&first, &other));
        Ok(())
    }

    #[test]
    fn a_place_in_the_queue_ends_when_dropped_and_wakes_whoever_lets_in() {
        let gate = Arc::new(Gate::default());
        let place = gate.queue();
        assert_eq!(gate.waiting(), 1);
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                gate.let_in(Duration::from_secs(30));
                gate.waiting()
            });
            drop(place);
            assert_eq!(waiter.join().ok(), Some(0));
        });
        // Nobody waiting: no wait at all.
        let t = Instant::now();
        gate.let_in(Duration::from_secs(30));
        assert!(t.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn letting_in_gives_up_after_its_time() {
        let gate = Gate::default();
        let _place = gate.queue();
        gate.let_in(Duration::from_millis(20));
        assert_eq!(gate.waiting(), 1);
    }

    #[test]
    fn a_busy_writer_gives_up_after_fifteen_seconds_of_tries() {
        assert!(retry_busy(0));
        assert!(!retry_busy(15_000));
        assert!(!retry_busy(i32::MAX));
    }
}
