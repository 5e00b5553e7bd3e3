//! The JSON that crosses the wire between terminals and the server, under `/v1`.

use crate::domain::Event;
use serde::{Deserialize, Serialize};

/// Most events one push may carry.
pub const MAX_BATCH: usize = 500;

/// A request header by which a terminal tells the server how many of its events are
/// waiting to be pushed (after the batch the request carries); `server terminals` shows
/// the last number each terminal gave, so a terminal stuck with a backlog can be seen.
pub const PENDING_HEADER: &str = "floorhand-pending";

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

impl<E> Ordered<E> {
    /// The same event, its payload turned into another form by `f`.
    pub fn map<F>(self, f: impl FnOnce(E) -> F) -> Ordered<F> {
        match self.try_map(|e| Ok::<_, std::convert::Infallible>(f(e))) {
            Ok(mapped) => mapped,
            Err(never) => match never {},
        }
    }

    /// [`Ordered::map`] with a conversion that may fail.
    pub fn try_map<F, X>(self, f: impl FnOnce(E) -> Result<F, X>) -> Result<Ordered<F>, X> {
        let e = self.event;
        Ok(Ordered {
            gseq: self.gseq,
            event: WireEvent {
                event: f(e.event)?,
                id: e.id,
                terminal: e.terminal,
                seq: e.seq,
                user: e.user,
                at: e.at,
            },
        })
    }
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
    /// The page as a terminal reads it, each payload kept as it came; the error names
    /// the `gseq` of a payload that is not an event.
    pub fn into_pulled(self) -> Result<PulledPage, (i64, serde_json::Error)> {
        let events = self
            .events
            .into_iter()
            .map(|o| {
                let gseq = o.gseq;
                o.try_map(Pulled::read).map_err(|err| (gseq, err))
            })
            .collect::<Result<_, _>>()?;
        Ok(PullResponse {
            events,
            head: self.head,
        })
    }

    /// The page decoded, without the payloads' text.
    pub fn decode(self) -> Result<PullResponse, (i64, serde_json::Error)> {
        let page = self.into_pulled()?;
        let events = page
            .events
            .into_iter()
            .map(|o| o.map(|p| p.event))
            .collect();
        Ok(PullResponse {
            events,
            head: page.head,
        })
    }
}

/// A pulled event: decoded, and with its payload as the server sent it, which the
/// terminal's journal keeps as it is (an event pulled by the thousand is not encoded again
/// to be stored). It reads and writes as the payload alone.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub event: Event,
    pub payload: Box<serde_json::value::RawValue>,
}

impl Pulled {
    /// An event with the payload serde writes for it.
    pub fn new(event: Event) -> Result<Self, serde_json::Error> {
        let payload = serde_json::value::to_raw_value(&event)?;
        Ok(Self { event, payload })
    }

    /// The event of a payload; the error says why it is no event.
    pub fn read(payload: Box<serde_json::value::RawValue>) -> Result<Self, serde_json::Error> {
        Ok(Self {
            event: serde_json::from_str(payload.get())?,
            payload,
        })
    }
}

impl PartialEq for Pulled {
    fn eq(&self, other: &Self) -> bool {
        self.event == other.event && self.payload.get() == other.payload.get()
    }
}

impl Serialize for Pulled {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.payload.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Pulled {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let payload = Box::<serde_json::value::RawValue>::deserialize(d)?;
        Self::read(payload).map_err(serde::de::Error::custom)
    }
}

/// A page as a terminal pulls it.
pub type PulledPage = PullResponse<Pulled>;

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
    /// The highest sequence number of the asking terminal the server holds (accepted or
    /// rejected) as of `gseq`: a resync knows from it which of its own events the
    /// snapshot includes. 0 when the snapshot is not for a terminal.
    #[serde(default)]
    pub sent: i64,
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
    /// (order, line, picked, shipped) of the customer order lines under way.
    #[serde(default)]
    pub order_lines: Vec<(String, i64, i64, i64)>,
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
    /// What open customer order lines still need from sellable stock: ordered, less
    /// what was picked out of it for them.
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
                        order: None,
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
        for o in want.events.clone() {
            // As the journal keeps it.
            events.push(o.try_map(|e| serde_json::value::to_raw_value(&e))?);
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

    /// A pulled event keeps its payload as it came, whatever the order of its fields,
    /// writes it back unchanged, and a payload that is no event is refused.
    #[test]
    fn a_pulled_event_keeps_its_payload_as_sent() -> Result<(), serde_json::Error> {
        let text = r#"{"gseq":5,"event":{"id":"x","terminal":"T01","seq":1,"user":"u","at":"","event":{"idle":true,"kind":"logged_out","badge":"1001"}}}"#;
        let o: Ordered<Pulled> = serde_json::from_str(text)?;
        assert_eq!(
            o.event.event.payload.get(),
            r#"{"idle":true,"kind":"logged_out","badge":"1001"}"#
        );
        assert_eq!(
            o.event.event.event,
            Event::LoggedOut {
                badge: "1001".into(),
                idle: true
            }
        );
        assert_eq!(serde_json::to_string(&o)?, text);
        let bad = text.replace("logged_out", "no_such_kind");
        assert!(serde_json::from_str::<Ordered<Pulled>>(&bad).is_err());
        Ok(())
    }
}
