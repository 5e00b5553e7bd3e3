//! The typed payloads of journal events. Names are past tense: they say what happened.
//!
//! A payload is stored as JSON with its kind as the tag, so a journal row can be read
//! back without knowing the code that wrote it, and new kinds can be added without
//! touching old rows.

use super::orders::{CustomerOrder, OrderRef, Rma};
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

/// Serialized with its kind as the tag, first: `{"kind": "stock_moved", "sku": ...}`.
/// (The derives below are serde's own code for that shape, as inherent functions; the
/// trait impls after the enum use them, reading movements faster.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
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
        /// Set when the movement picks or ships for a customer order line.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        order: Option<OrderRef>,
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
    /// The server closed an exception: `resolution` says how (a count of its balance
    /// that saw every movement, which also does the recount it asked for).
    ExceptionResolved {
        id: String,
        resolution: String,
    },
    /// A count of one balance: `counted` of (sku, lot) found at `location`, by a counter
    /// whose terminal had applied the server's events up to `basis` (its pull cursor).
    /// It moves no stock by itself. The server turns it into an adjustment against the
    /// site's loss location, or, when that stock moved after `basis`, raises an
    /// exception for review instead: a count is never applied over movements it did not
    /// see.
    BinCounted {
        location: String,
        sku: String,
        lot: String,
        counted: i64,
        basis: i64,
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
            Self::ExceptionResolved { .. } => "exception_resolved",
            Self::BinCounted { .. } => "bin_counted",
            Self::TerminalEnrolled { .. } => "terminal_enrolled",
            Self::TerminalRevoked { .. } => "terminal_revoked",
            Self::CustomerOrderDefined { .. } => "customer_order_defined",
            Self::RmaDefined { .. } => "rma_defined",
        }
    }
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Event::serialize(self, s)
    }
}

/// Serde's derived code reads an internally tagged enum through a buffer of every field,
/// since the tag could come last: a sixth of a push went there. Floorhand writes the
/// kind first, so the common kinds (see `read_common`) are read straight from the
/// object once the kind is known. Any other kind, or an object whose kind is not first,
/// is gathered and read by the derived code, with the same errors.
impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EventVisitor)
    }
}

struct EventVisitor;

impl<'de> serde::de::Visitor<'de> for EventVisitor {
    type Value = Event;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an event: an object with its kind")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
        use serde_json::Value;
        let mut gathered = serde_json::Map::new();
        match map.next_key::<String>()? {
            Some(key) if key == "kind" => {
                let kind: String = map.next_value()?;
                if let Some(event) = read_common(&kind, &mut map)? {
                    return Ok(event);
                }
                gathered.insert(key, Value::String(kind));
            }
            Some(key) => {
                let value: Value = map.next_value()?;
                gathered.insert(key, value);
            }
            None => {}
        }
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            gathered.insert(key, value);
        }
        Event::deserialize(Value::Object(gathered)).map_err(serde::de::Error::custom)
    }
}

/// The kinds that come by the thousand (movements in pushes and pulls, reference data
/// in snapshots), read from the rest of the object; `None` for any other kind.
fn read_common<'de, A: serde::de::MapAccess<'de>>(
    kind: &str,
    map: &mut A,
) -> Result<Option<Event>, A::Error> {
    fn rest<'de, T: Deserialize<'de>, A: serde::de::MapAccess<'de>>(
        map: &mut A,
    ) -> Result<T, A::Error> {
        T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
    }
    Ok(Some(match kind {
        "stock_moved" => {
            let m: Moved = rest(map)?;
            Event::StockMoved {
                sku: m.sku,
                lot: m.lot,
                from: m.from,
                to: m.to,
                qty: m.qty,
                reason: m.reason,
                receipt: m.receipt,
                order: m.order,
            }
        }
        "item_defined" => {
            let d: ItemFields = rest(map)?;
            Event::ItemDefined { item: d.item }
        }
        "location_defined" => {
            let d: LocationFields = rest(map)?;
            Event::LocationDefined {
                location: d.location,
            }
        }
        "lot_defined" => {
            let d: LotFields = rest(map)?;
            Event::LotDefined {
                sku: d.sku,
                lot: d.lot,
                expiry: d.expiry,
            }
        }
        _ => return Ok(None),
    }))
}

#[derive(Deserialize)]
struct ItemFields {
    item: Item,
}

#[derive(Deserialize)]
struct LocationFields {
    location: Location,
}

#[derive(Deserialize)]
struct LotFields {
    sku: String,
    lot: String,
    expiry: Option<chrono::NaiveDate>,
}

/// The fields of [`Event::StockMoved`], read after its kind.
#[derive(Deserialize)]
struct Moved {
    sku: String,
    lot: String,
    from: String,
    to: String,
    qty: i64,
    reason: MoveReason,
    #[serde(default)]
    receipt: Option<ReceiptRef>,
    #[serde(default)]
    order: Option<OrderRef>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<Event> {
        let moved = |receipt: Option<ReceiptRef>| Event::StockMoved {
            sku: "SKU-1".into(),
            lot: "L\"7".into(),
            from: "SUPPLIER".into(),
            to: "DOCK-01".into(),
            qty: 12,
            reason: MoveReason::Receipt,
            receipt,
            order: None,
        };
        use crate::{demo, import};
        let items = import::items(demo::ITEMS_CSV.as_bytes()).unwrap_or_default();
        let locations = import::locations(demo::LOCATIONS_CSV.as_bytes()).unwrap_or_default();
        let orders =
            import::purchase_orders(demo::PURCHASE_ORDERS_CSV.as_bytes()).unwrap_or_default();
        assert!(!items.is_empty() && !locations.is_empty() && !orders.is_empty());
        let reference = items
            .into_iter()
            .take(3)
            .map(|item| Event::ItemDefined { item })
            .chain(
                locations
                    .into_iter()
                    .take(3)
                    .map(|location| Event::LocationDefined { location }),
            )
            .chain(
                orders
                    .into_iter()
                    .take(2)
                    .map(|order| Event::PurchaseOrderDefined { order }),
            );
        reference
            .chain([
                moved(None),
                moved(Some(ReceiptRef {
                    receipt: "R1".into(),
                    po: "PO-1".into(),
                    line: 2,
                    delivery_note: Some("DN-9".into()),
                    damaged: true,
                    approved_by: None,
                    sscc: Some("003123450000000017".into()),
                })),
                Event::LotDefined {
                    sku: "SKU-2".into(),
                    lot: "L1".into(),
                    expiry: chrono::NaiveDate::from_ymd_opt(2027, 2, 28),
                },
                Event::ReceiptStarted {
                    receipt: "R1".into(),
                    po: "PO-1".into(),
                    delivery_note: None,
                },
                Event::LoginFailed {
                    badge: "1001".into(),
                    failure: LoginFailure::WrongPin,
                },
                Event::LoggedOut {
                    badge: "1001".into(),
                    idle: true,
                },
            ])
            .collect()
    }

    /// Every kind reads back as written, with its kind first (as written) or last, and
    /// the same as serde's derived code reads it.
    #[test]
    fn events_read_back_whatever_the_order_of_their_fields() -> Result<(), serde_json::Error> {
        for e in samples() {
            let text = serde_json::to_string(&e)?;
            assert!(
                text.starts_with(&format!("{{\"kind\":\"{}\"", e.kind())),
                "{text}"
            );
            assert_eq!(serde_json::from_str::<Event>(&text)?, e, "{text}");
            let derived = Event::deserialize(&mut serde_json::Deserializer::from_str(&text))?;
            assert_eq!(derived, e);
            // The kind last.
            let value = serde_json::to_value(&e)?;
            assert!(value.is_object(), "{text} is not an object");
            let mut fields = value.as_object().cloned().unwrap_or_default();
            let kind = fields.remove("kind");
            let mut reordered = serde_json::Map::new();
            reordered.extend(fields);
            reordered.extend(kind.map(|k| ("kind".to_string(), k)));
            let text = serde_json::to_string(&reordered)?;
            assert_eq!(serde_json::from_str::<Event>(&text)?, e, "{text}");
        }
        Ok(())
    }

    /// Bad events are refused with the messages serde's derived code gives.
    #[test]
    fn bad_events_are_refused_with_the_derived_messages() {
        for (text, says) in [
            (
                r#"{"kind":"stock_moved","sku":"S","lot":"","from":"A","to":"B","reason":"pick"}"#,
                "missing field `qty`",
            ),
            (
                r#"{"kind":"stock_moved","sku":"S","lot":"","from":"A","to":"B","qty":"x","reason":"pick"}"#,
                "invalid type: string",
            ),
            (
                r#"{"kind":"stock_moved","sku":"S","lot":"","from":"A","to":"B","qty":1,"reason":"stolen"}"#,
                "unknown variant `stolen`",
            ),
            (
                r#"{"kind":"teleported","badge":"1"}"#,
                "unknown variant `teleported`",
            ),
            (
                r#"{"kind":"item_defined","item":{"sku":"S"}}"#,
                "missing field `description`",
            ),
            (r#"{"kind":"lot_defined","sku":"S"}"#, "missing field `lot`"),
            (r#"{"badge":"1"}"#, "missing field `kind`"),
            (r#"{}"#, "missing field `kind`"),
            (r#"["stock_moved"]"#, "invalid type: sequence"),
        ] {
            let got = serde_json::from_str::<Event>(text);
            assert!(
                matches!(&got, Err(err) if err.to_string().contains(says)),
                "{text}: {got:?}"
            );
        }
    }

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
            order: None,
        };
        let v: serde_json::Value = serde_json::to_value(&e)?;
        assert_eq!(v["kind"], e.kind());
        assert_eq!(serde_json::from_value::<Event>(v)?, e);
        Ok(())
    }
}
