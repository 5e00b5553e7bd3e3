//! The typed payloads of journal events. Names are past tense: they say what happened.
//!
//! A payload is stored as JSON with its kind as the tag, so a journal row can be read
//! back without knowing the code that wrote it, and new kinds can be added without
//! touching old rows.

use super::orders::{CustomerOrder, Rma};
use super::putaway::PutawayRule;
use super::receiving::{DiscrepancyKind, PurchaseOrder};
use super::{Item, Location, Role};
use serde::{Deserialize, Serialize};

/// Why stock moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoveReason {
    /// Opening balance loaded with the reference data.
    Opening,
    Receipt,
    Putaway,
    Pick,
    Pack,
    Ship,
    Return,
    Adjustment,
    Transfer,
}

/// Why a login attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginFailure {
    UnknownBadge,
    WrongPin,
    Locked,
    Disabled,
    /// Tried again before the progressive delay had passed; the PIN was not checked.
    TooSoon,
}

/// What a receiving movement was received against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptRef {
    pub receipt: String,
    pub po: String,
    /// The PO line; 0 for an item that is not on the PO.
    pub line: i64,
    pub delivery_note: Option<String>,
    pub damaged: bool,
    /// The supervisor who approved an over-receipt or an expired lot on the spot.
    pub approved_by: Option<String>,
    /// The SSCC of the case or pallet, when the scan carried one.
    pub sscc: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// Reference data: an item was created or its master data replaced.
    ItemDefined {
        item: Item,
    },
    LocationDefined {
        location: Location,
    },
    /// A user was created or their master data replaced (roles, name, PIN hash).
    UserDefined {
        badge: String,
        name: String,
        roles: Vec<Role>,
        pin_hash: String,
    },
    UserDisabled {
        badge: String,
    },
    /// A lot became known (first receipt or opening stock).
    LotDefined {
        sku: String,
        lot: String,
        expiry: Option<chrono::NaiveDate>,
    },
    /// Stock moved from one location to another: the one kind of event that changes
    /// balances. `lot` is empty for items that are not lot-tracked.
    StockMoved {
        sku: String,
        lot: String,
        from: String,
        to: String,
        qty: i64,
        reason: MoveReason,
        /// Set when the movement receives goods against a purchase order.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        receipt: Option<ReceiptRef>,
    },
    /// A purchase order was created or replaced (while nothing was received on it).
    PurchaseOrderDefined {
        order: PurchaseOrder,
    },
    /// A receiver started receiving a PO; the delivery note or ASN is recorded if scanned.
    ReceiptStarted {
        receipt: String,
        po: String,
        delivery_note: Option<String>,
    },
    /// Something a supervisor must approve or reject.
    DiscrepancyRaised {
        id: String,
        discrepancy: DiscrepancyKind,
        receipt: Option<String>,
        po: Option<String>,
        line: Option<i64>,
        sku: String,
        lot: String,
        qty: i64,
        note: String,
    },
    /// A second person confirmed the counts of a receipt (two-person check).
    ReceiptChecked {
        receipt: String,
        by: String,
    },
    /// The receipt was closed; `po_closed` when the PO closed with it.
    ReceiptClosed {
        receipt: String,
        po_closed: bool,
    },
    /// An LPN label was printed for received stock.
    LabelPrinted {
        lpn: String,
        receipt: String,
        sku: String,
        lot: String,
        qty: i64,
    },
    /// The site's putaway rules, replacing the previous set.
    PutawayRulesDefined {
        rules: Vec<PutawayRule>,
    },
    /// The server found something a person must look at, e.g. a merge that left a
    /// physical location negative; `recount` asks for a count of that balance.
    ExceptionRaised {
        id: String,
        location: String,
        sku: String,
        lot: String,
        qty: i64,
        reason: String,
        recount: bool,
    },
    /// A terminal was enrolled for a site (its token is never in an event).
    TerminalEnrolled {
        terminal: String,
        site: String,
    },
    TerminalRevoked {
        terminal: String,
    },
    /// A customer order was created or replaced.
    CustomerOrderDefined {
        order: CustomerOrder,
    },
    /// A return authorisation was created or replaced.
    RmaDefined {
        rma: Rma,
    },
    LoginSucceeded {
        badge: String,
    },
    LoginFailed {
        badge: String,
        failure: LoginFailure,
    },
    /// Too many wrong PINs: the badge stays locked until a supervisor unlocks it.
    BadgeLocked {
        badge: String,
    },
    BadgeUnlocked {
        badge: String,
        by: String,
    },
    LoggedOut {
        badge: String,
        idle: bool,
    },
}

impl Event {
    /// The tag stored in the journal's `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ItemDefined { .. } => "item_defined",
            Self::LocationDefined { .. } => "location_defined",
            Self::UserDefined { .. } => "user_defined",
            Self::UserDisabled { .. } => "user_disabled",
            Self::LotDefined { .. } => "lot_defined",
            Self::StockMoved { .. } => "stock_moved",
            Self::LoginSucceeded { .. } => "login_succeeded",
            Self::LoginFailed { .. } => "login_failed",
            Self::BadgeLocked { .. } => "badge_locked",
            Self::BadgeUnlocked { .. } => "badge_unlocked",
            Self::LoggedOut { .. } => "logged_out",
            Self::PurchaseOrderDefined { .. } => "purchase_order_defined",
            Self::ReceiptStarted { .. } => "receipt_started",
            Self::DiscrepancyRaised { .. } => "discrepancy_raised",
            Self::ReceiptChecked { .. } => "receipt_checked",
            Self::ReceiptClosed { .. } => "receipt_closed",
            Self::LabelPrinted { .. } => "label_printed",
            Self::PutawayRulesDefined { .. } => "putaway_rules_defined",
            Self::ExceptionRaised { .. } => "exception_raised",
            Self::TerminalEnrolled { .. } => "terminal_enrolled",
            Self::TerminalRevoked { .. } => "terminal_revoked",
            Self::CustomerOrderDefined { .. } => "customer_order_defined",
            Self::RmaDefined { .. } => "rma_defined",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_matches_serde_tag() -> Result<(), serde_json::Error> {
        let e = Event::StockMoved {
            sku: "S".into(),
            lot: String::new(),
            from: "SUPPLIER".into(),
            to: "DOCK-01".into(),
            qty: 3,
            reason: MoveReason::Receipt,
            receipt: None,
        };
        let v: serde_json::Value = serde_json::to_value(&e)?;
        assert_eq!(v["kind"], e.kind());
        assert_eq!(serde_json::from_value::<Event>(v)?, e);
        Ok(())
    }
}
