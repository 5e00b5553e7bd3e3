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

/// An accepted event with its place in the server's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ordered {
    pub gseq: i64,
    #[serde(flatten)]
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

/// A site's reference data and balances as of `gseq`, to bootstrap a terminal. The
/// reference data travels as the events that would define it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub site: String,
    pub gseq: i64,
    pub reference: Vec<Event>,
    pub balances: Vec<SnapshotBalance>,
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
