//! The JSON that crosses the wire between terminals and the server, under `/v1`.

use crate::domain::Event;
use serde::{Deserialize, Serialize};

/// Most events one push may carry.
pub const MAX_BATCH: usize = 500;

/// A journal event as it travels: who wrote it where, and what happened. `E` is the
/// event (the server sends it on as its journal holds it, see [`StoredPage`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireEvent<E = Event> {
    pub id: String,
    pub terminal: String,
    pub seq: i64,
    pub user: String,
    /// UTC, RFC 3339; for audit only.
    pub at: String,
    pub event: E,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    pub events: Vec<WireEvent>,
}

/// The server's answer for one pushed event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PushResult {
    Accepted {
        seq: i64,
        id: String,
        gseq: i64,
    },
    Rejected {
        seq: i64,
        id: String,
        reason: String,
    },
}

impl PushResult {
    pub fn seq(&self) -> i64 {
        match self {
            Self::Accepted { seq, .. } | Self::Rejected { seq, .. } => *seq,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    pub results: Vec<PushResult>,
}

/// An accepted event with its place in the server's order: `{"gseq": .., "event":
/// {..}}`. (Nested rather than flattened: serde reads a flattened struct through a
/// buffer of every field, which cost a tenth of a pull.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ordered<E = Event> {
    pub gseq: i64,
    pub event: WireEvent<E>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse<E = Event> {
    pub events: Vec<Ordered<E>>,
    /// The highest `gseq` the server has; the terminal is caught up when its cursor
    /// reaches it.
    pub head: i64,
}

/// A page of events as the server reads it from its journal, each payload as stored:
/// sent on without being decoded and encoded again. It serializes exactly as the
/// [`PullResponse`] a terminal reads (the journal holds each payload as serde writes
/// the event).
pub type StoredPage = PullResponse<Box<serde_json::value::RawValue>>;

impl StoredPage {
    /// The page as a terminal reads it; the error names the `gseq` of a payload that
    /// is not an event.
    pub fn decode(self) -> Result<PullResponse, (i64, serde_json::Error)> {
        let mut events = Vec::with_capacity(self.events.len());
        for o in self.events {
            let e = o.event;
            events.push(Ordered {
                gseq: o.gseq,
                event: WireEvent {
                    event: serde_json::from_str(e.event.get()).map_err(|err| (o.gseq, err))?,
                    id: e.id,
                    terminal: e.terminal,
                    seq: e.seq,
                    user: e.user,
                    at: e.at,
                },
            });
        }
        Ok(PullResponse {
            events,
            head: self.head,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub terminal: String,
    pub site: String,
    /// Shown once; the server keeps only its hash.
    pub token: String,
}

/// A 4xx/5xx answer: what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    /// On a sequence gap or reuse: the `seq` the server expects next from this terminal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_seq: Option<i64>,
}

/// One balance in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotBalance {
    pub location: String,
    pub sku: String,
    pub lot: String,
    pub qty: i64,
}

/// A site's reference data and state as of `gseq`, to bootstrap a terminal. Reference
/// data (items, locations, lots, users, POs, rules, orders, RMAs, open exceptions)
/// travels as the events that would define it; balances and document progress as rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub site: String,
    pub gseq: i64,
    pub reference: Vec<Event>,
    pub balances: Vec<SnapshotBalance>,
    #[serde(default)]
    pub progress: Progress,
}

/// How far the site's documents have come: what the reference events cannot say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// (po, line, received, damaged)
    pub po_lines: Vec<(String, i64, i64, i64)>,
    pub closed_pos: Vec<String>,
    pub receipts: Vec<ReceiptRow>,
    /// (receipt, line, sku, good, damaged)
    pub receipt_lines: Vec<(String, i64, String, i64, i64)>,
    pub discrepancies: Vec<DiscrepancyRow>,
    pub exceptions: Vec<ExceptionRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionRow {
    pub id: String,
    pub location: String,
    pub sku: String,
    pub lot: String,
    pub qty: i64,
    pub reason: String,
    pub recount: bool,
    pub state: String,
    pub raised_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptRow {
    pub receipt: String,
    pub po: String,
    pub delivery_note: Option<String>,
    pub terminal: String,
    pub started_by: String,
    pub started_at: String,
    pub checked_by: Option<String>,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscrepancyRow {
    pub id: String,
    pub kind: String,
    pub state: String,
    pub receipt: Option<String>,
    pub po: Option<String>,
    pub line: Option<i64>,
    pub sku: String,
    pub lot: String,
    pub qty: i64,
    pub note: String,
    pub raised_by: String,
    pub raised_at: String,
}

/// Available to promise for one item at one site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    pub site: String,
    pub sku: String,
    /// On hand in storage and pick faces, expired lots left out.
    pub sellable: i64,
    /// Open customer order lines not yet shipped.
    pub reserved: i64,
    /// `sellable - reserved`, never below zero.
    pub available: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::MoveReason;

    fn page() -> PullResponse {
        let event = |gseq: i64, event: Event| Ordered {
            gseq,
            event: WireEvent {
                id: format!("id-{gseq}"),
                terminal: "T01".into(),
                seq: gseq,
                user: "1001".into(),
                at: "2026-11-22T10:00:00Z".into(),
                event,
            },
        };
        PullResponse {
            events: vec![
                event(
                    7,
                    Event::StockMoved {
                        sku: "SKU-\"1\"".into(),
                        lot: "L\u{e4}".into(),
                        from: "SUPPLIER".into(),
                        to: "DOCK-01".into(),
                        qty: 12,
                        reason: MoveReason::Transfer,
                        receipt: None,
                    },
                ),
                event(
                    9,
                    Event::LoggedOut {
                        badge: "1001".into(),
                        idle: true,
                    },
                ),
            ],
            head: 11,
        }
    }

    /// The server's page of stored payloads is, byte for byte, the JSON of the page a
    /// terminal reads; and decodes to it.
    #[test]
    fn a_stored_page_is_sent_as_the_page_it_stands_for() -> Result<(), serde_json::Error> {
        let want = page();
        let mut events = Vec::new();
        for o in &want.events {
            let e = &o.event;
            events.push(Ordered {
                gseq: o.gseq,
                event: WireEvent {
                    id: e.id.clone(),
                    terminal: e.terminal.clone(),
                    seq: e.seq,
                    user: e.user.clone(),
                    at: e.at.clone(),
                    // As the journal keeps it.
                    event: serde_json::value::RawValue::from_string(serde_json::to_string(
                        &e.event,
                    )?)?,
                },
            });
        }
        let stored = StoredPage {
            events,
            head: want.head,
        };
        assert_eq!(
            serde_json::to_string(&stored)?,
            serde_json::to_string(&want)?
        );
        assert_eq!(stored.decode().ok(), Some(want));
        Ok(())
    }

    /// A stored payload that is JSON but not an event is named by its place.
    #[test]
    fn a_stored_payload_that_is_no_event_is_named() -> Result<(), serde_json::Error> {
        let stored = StoredPage {
            events: vec![Ordered {
                gseq: 42,
                event: WireEvent {
                    id: "x".into(),
                    terminal: "T01".into(),
                    seq: 1,
                    user: "u".into(),
                    at: "".into(),
                    event: serde_json::value::RawValue::from_string(
                        r#"{"kind":"no_such_kind"}"#.into(),
                    )?,
                },
            }],
            head: 42,
        };
        assert!(matches!(stored.decode(), Err((42, _))));
        Ok(())
    }
}
