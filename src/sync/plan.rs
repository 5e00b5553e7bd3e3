//! The decisions of sync as pure functions of facts: what to do next, whether the
//! server's answers fit what was sent, how long to wait after a failure. Tested without a
//! network; `client.rs` gathers the facts and performs the steps.

use super::wire::{MAX_BATCH, PushResult, WireEvent};
use std::time::Duration;

/// What the terminal knows before a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub enrolled: bool,
    /// Loaded a snapshot, or synced before.
    pub bootstrapped: bool,
    pub pending: usize,
}

/// The next step of a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Nothing to do: the terminal has no server.
    NotEnrolled,
    /// A new terminal loads its site's snapshot first.
    Bootstrap,
    /// Send the oldest pending events, at most this many.
    Push(usize),
    /// Fetch what others did.
    Pull,
}

pub fn next_step(f: Facts) -> Step {
    if !f.enrolled {
        Step::NotEnrolled
    } else if !f.bootstrapped {
        Step::Bootstrap
    } else if f.pending > 0 {
        Step::Push(f.pending.min(MAX_BATCH))
    } else {
        Step::Pull
    }
}

/// Why the server's answer cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("the server answered {got} events of {sent} sent")]
    Count { sent: usize, got: usize },
    #[error("the server's answer {index} is for seq {got} ({got_id}), not seq {want} ({want_id})")]
    Mismatch {
        index: usize,
        want: i64,
        want_id: String,
        got: i64,
        got_id: String,
    },
}

/// The server must answer every event sent, in order, naming each by seq and id.
pub fn check_results(sent: &[WireEvent], results: &[PushResult]) -> Result<(), PlanError> {
    if sent.len() != results.len() {
        return Err(PlanError::Count {
            sent: sent.len(),
            got: results.len(),
        });
    }
    for (index, (e, r)) in sent.iter().zip(results).enumerate() {
        let (seq, id) = match r {
            PushResult::Accepted { seq, id, .. } | PushResult::Rejected { seq, id, .. } => {
                (*seq, id)
            }
        };
        if seq != e.seq || *id != e.id {
            return Err(PlanError::Mismatch {
                index,
                want: e.seq,
                want_id: e.id.clone(),
                got: seq,
                got_id: id.clone(),
            });
        }
    }
    Ok(())
}

/// What a 409 from the server means for this terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// The server already has a different event at one of our sequence numbers: this
    /// store is a clone or a restored copy. Syncing stops until it is enrolled again;
    /// nothing pending is discarded.
    Reenroll,
    /// The server expects an earlier sequence number than we have pending: it lost events
    /// we thought it had (a server restored from backup). A person must look.
    ServerBehind { expected: i64 },
}

pub fn conflict(sent: &[WireEvent], expected_seq: Option<i64>) -> Conflict {
    match (expected_seq, sent.first()) {
        (Some(expected), Some(first)) if expected < first.seq => {
            Conflict::ServerBehind { expected }
        }
        _ => Conflict::Reenroll,
    }
}

/// How long to wait before the next try after `failures` failed rounds in a row:
/// 1, 2, 4 ... seconds up to a minute, spread by `jitter` (0..1) over 50-100% so that a
/// site's terminals do not all come back at once.
pub fn backoff(failures: u32, jitter: f64) -> Duration {
    let base = 2f64
        .powi(failures.saturating_sub(1).min(6) as i32)
        .min(60.0);
    let factor = 0.5 + 0.5 * jitter.clamp(0.0, 1.0);
    Duration::from_secs_f64(base * factor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Event;

    fn ev(seq: i64) -> WireEvent {
        WireEvent {
            id: format!("id{seq}"),
            terminal: "T1".into(),
            seq,
            user: "1".into(),
            at: String::new(),
            event: Event::LoggedOut {
                badge: "1".into(),
                idle: false,
            },
        }
    }

    #[test]
    fn steps_in_order() {
        let f = |enrolled, bootstrapped, pending| {
            next_step(Facts {
                enrolled,
                bootstrapped,
                pending,
            })
        };
        assert_eq!(f(false, false, 3), Step::NotEnrolled);
        assert_eq!(f(true, false, 3), Step::Bootstrap);
        assert_eq!(f(true, true, 1200), Step::Push(500));
        assert_eq!(f(true, true, 0), Step::Pull);
    }

    #[test]
    fn answers_must_match_what_was_sent() {
        let sent = vec![ev(1), ev(2)];
        let ok = vec![
            PushResult::Accepted {
                seq: 1,
                id: "id1".into(),
                gseq: 10,
            },
            PushResult::Rejected {
                seq: 2,
                id: "id2".into(),
                reason: "no".into(),
            },
        ];
        assert_eq!(check_results(&sent, &ok), Ok(()));
        assert!(matches!(
            check_results(&sent, &ok[..1]),
            Err(PlanError::Count { .. })
        ));
        let swapped = vec![ok[1].clone(), ok[0].clone()];
        assert!(matches!(
            check_results(&sent, &swapped),
            Err(PlanError::Mismatch { index: 0, .. })
        ));
    }

    #[test]
    fn conflicts_and_backoff() {
        assert_eq!(
            conflict(&[ev(5)], Some(3)),
            Conflict::ServerBehind { expected: 3 }
        );
        assert_eq!(conflict(&[ev(5)], Some(9)), Conflict::Reenroll);
        assert_eq!(conflict(&[ev(5)], None), Conflict::Reenroll);
        assert_eq!(backoff(1, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(3, 1.0), Duration::from_secs(4));
        assert_eq!(backoff(30, 1.0), Duration::from_secs(60));
        assert_eq!(backoff(3, 0.0), Duration::from_secs(2));
    }
}
