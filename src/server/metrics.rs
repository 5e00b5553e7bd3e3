//! Counters for `GET /metrics`, in Prometheus' text format. Plain atomics: they count
//! since the server started.

use crate::sync::wire::PushResult;
use std::collections::HashSet;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the push latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Debug, Default)]
pub struct Metrics {
    accepted: AtomicU64,
    rejected: AtomicU64,
    conflicts: AtomicU64,
    /// Store transactions that committed pushes (several pushes share one under load).
    push_commits: AtomicU64,
    /// Pushes per latency bucket (not cumulative); the last one is above every bound.
    push_buckets: [AtomicU64; BUCKETS.len() + 1],
    push_nanos: AtomicU64,
    push_count: AtomicU64,
    /// Pushes waiting now for a push of the same terminal sent before them.
    overtaken: AtomicU64,
    terminals_seen: Mutex<HashSet<String>>,
}

impl Metrics {
    /// Count the answers of one push. An idempotent re-push is answered, and counted,
    /// again.
    pub(super) fn pushed(&self, results: &[PushResult]) {
        let accepted = results
            .iter()
            .filter(|r| matches!(r, PushResult::Accepted { .. }))
            .count() as u64;
        self.accepted.fetch_add(accepted, Ordering::Relaxed);
        self.rejected
            .fetch_add(results.len() as u64 - accepted, Ordering::Relaxed);
    }

    /// One store transaction committed pushes.
    pub(super) fn push_commit(&self) {
        self.push_commits.fetch_add(1, Ordering::Relaxed);
    }

    /// Store transactions that committed pushes; fewer than pushes when they queue up.
    pub fn push_commits(&self) -> u64 {
        self.push_commits.load(Ordering::Relaxed)
    }

    /// A push waits for its predecessor (`true`), or has stopped waiting.
    pub(super) fn overtaken(&self, waiting: bool) {
        if waiting {
            self.overtaken.fetch_add(1, Ordering::Relaxed);
        } else {
            self.overtaken.fetch_sub(1, Ordering::Relaxed);
        }
    }

    pub(super) fn conflict(&self) {
        self.conflicts.fetch_add(1, Ordering::Relaxed);
    }

    /// How long one push took in the store, waiting for it included.
    pub(super) fn push_took(&self, took: Duration) {
        let secs = took.as_secs_f64();
        let i = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        if let Some(b) = self.push_buckets.get(i) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.push_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.push_count.fetch_add(1, Ordering::Relaxed);
    }

    /// A terminal authenticated.
    pub(super) fn saw(&self, terminal: &str) {
        let mut seen = self
            .terminals_seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !seen.contains(terminal) {
            seen.insert(terminal.to_string());
        }
    }

    pub fn events_accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    pub fn events_rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    pub fn terminals_seen(&self) -> usize {
        self.terminals_seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {v}");
        };
        counter(
            &mut out,
            "floorhand_events_accepted_total",
            "Pushed events answered as accepted.",
            self.events_accepted(),
        );
        counter(
            &mut out,
            "floorhand_events_rejected_total",
            "Pushed events answered as rejected, with a reason.",
            self.events_rejected(),
        );
        counter(
            &mut out,
            "floorhand_push_conflicts_total",
            "Pushes refused whole for a sequence gap or reuse (HTTP 409).",
            self.conflicts.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "floorhand_push_commits_total",
            "Store transactions that committed pushes (pushes that queue up share one).",
            self.push_commits(),
        );
        let name = "floorhand_push_seconds";
        let _ = writeln!(out, "# HELP {name} Time a push took in the store.");
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulative = 0u64;
        for (bound, count) in BUCKETS.iter().zip(&self.push_buckets) {
            cumulative += count.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.push_count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.push_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {count}");
        let name = "floorhand_pushes_waiting_for_predecessor";
        let _ = writeln!(
            out,
            "# HELP {name} Pushes that reached the server before an earlier push of their terminal and wait for it."
        );
        let _ = writeln!(out, "# TYPE {name} gauge");
        let _ = writeln!(out, "{name} {}", self.overtaken.load(Ordering::Relaxed));
        let name = "floorhand_terminals_seen";
        let _ = writeln!(
            out,
            "# HELP {name} Distinct terminals that authenticated since the server started."
        );
        let _ = writeln!(out, "# TYPE {name} gauge");
        let _ = writeln!(out, "{name} {}", self.terminals_seen());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.pushed(&[
            PushResult::Accepted {
                seq: 1,
                id: "a".into(),
                gseq: 7,
            },
            PushResult::Rejected {
                seq: 2,
                id: "b".into(),
                reason: "no".into(),
            },
        ]);
        m.push_took(Duration::from_millis(3));
        m.push_took(Duration::from_secs(20));
        m.saw("T1");
        m.saw("T1");
        m.saw("T2");
        let text = m.render();
        for line in [
            "floorhand_events_accepted_total 1",
            "floorhand_events_rejected_total 1",
            "floorhand_push_seconds_bucket{le=\"0.0025\"} 0",
            "floorhand_push_seconds_bucket{le=\"0.005\"} 1",
            "floorhand_push_seconds_bucket{le=\"5\"} 1",
            "floorhand_push_seconds_bucket{le=\"+Inf\"} 2",
            "floorhand_push_seconds_count 2",
            "floorhand_push_seconds_sum 20.003",
            "floorhand_terminals_seen 2",
            "# TYPE floorhand_push_seconds histogram",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }
}
