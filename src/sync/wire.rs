//! The JSON that crosses the wire between terminals and the server, under `/v1`.

use crate::domain::Event;
use serde::{Deserialize, Serialize};

/// Most events one push may carry.
pub const MAX_BATCH: usize = 500;

/// A journal event as it travels: who wrote it where, and what happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireEvent {
    pub id: String,
    pub terminal: String,
    pub seq: i64,
    pub user: String,
    /// UTC, RFC 3339; for audit only.
    pub at: String,
    pub event: Event,
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
pub struct Ordered {
    pub gseq: i64,
    pub event: WireEvent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub events: Vec<Ordered>,
    /// The highest `gseq` the server has; the terminal is caught up when its cursor
    /// reaches it.
    pub head: i64,
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
