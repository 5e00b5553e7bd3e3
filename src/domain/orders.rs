//! Customer orders and return authorisations, as reference data for the flows to come and
//! for availability (open order lines reserve stock).

use super::{LocationRole, MoveReason};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The customer order line a movement picks or ships for. Order progress follows such
/// movements: one that takes stock out of sellable locations (storage, pick faces) picks
/// it, one that reaches the customer ships it; the reverse movements take them back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRef {
    pub order: String,
    pub line: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub line: i64,
    pub sku: String,
    pub qty: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerOrder {
    pub order: String,
    pub customer: String,
    pub site: String,
    pub due: Option<NaiveDate>,
    pub lines: Vec<OrderLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RmaLine {
    pub line: i64,
    pub sku: String,
    pub qty: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rma {
    pub rma: String,
    pub customer: String,
    pub site: String,
    pub order: String,
    pub created: Option<NaiveDate>,
    pub lines: Vec<RmaLine>,
}

/// What a movement of `qty` for an order line does to its progress, as (picked, shipped):
/// out of sellable stock picks, back into it unpicks; into the customer ships, back from
/// it unships. A movement between two other places (pack to ship) changes neither.
pub fn progress(from: LocationRole, to: LocationRole, qty: i64) -> (i64, i64) {
    let sellable = |r: LocationRole| i64::from(r.is_available());
    let customer = |r: LocationRole| i64::from(r == LocationRole::Customer);
    (
        qty * (sellable(from) - sellable(to)),
        qty * (customer(to) - customer(from)),
    )
}

/// An order line as a movement for it is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProgress {
    pub site: String,
    pub sku: String,
    pub qty: i64,
    pub picked: i64,
    pub shipped: i64,
}

/// The movements that may count for an order line: picking, packing, shipping it, and a
/// return against it. An adjustment or a transfer out of sellable stock is no pick.
pub fn counts_for_orders(reason: MoveReason) -> bool {
    matches!(
        reason,
        MoveReason::Pick | MoveReason::Pack | MoveReason::Ship | MoveReason::Return
    )
}

/// Whether a movement of `sku` in `site` for `reason` may name the order line `at`: a
/// movement that counts for orders, of the line's item and in its site. The server
/// checks this much: movements made on two terminals at once may pick more than ordered
/// between them, and happened all the same.
pub fn check_line(
    at: &OrderRef,
    line: &LineProgress,
    sku: &str,
    site: &str,
    reason: MoveReason,
) -> Result<(), String> {
    let name = format!("order {} line {}", at.order, at.line);
    if !counts_for_orders(reason) {
        return Err(format!(
            "a movement for {} cannot count for {name}: only picks, packing, shipments and returns do",
            format!("{reason:?}").to_lowercase()
        ));
    }
    if line.sku != sku {
        return Err(format!("{name} is for {}, not {sku}", line.sku));
    }
    if line.site != site {
        return Err(format!("{name} is for site {}, not {site}", line.site));
    }
    Ok(())
}

/// [`check_line`], and, for the terminal that makes the movement, that its progress
/// `delta` (from [`progress`]) picks or ships no more than ordered and takes back no
/// more than was picked or shipped.
pub fn check_move(
    at: &OrderRef,
    line: &LineProgress,
    sku: &str,
    site: &str,
    reason: MoveReason,
    delta: (i64, i64),
) -> Result<(), String> {
    check_line(at, line, sku, site, reason)?;
    let name = format!("order {} line {}", at.order, at.line);
    let (picked, shipped) = delta;
    if picked == 0 && shipped == 0 {
        return Err(format!(
            "this movement neither picks nor ships: it cannot count for {name}"
        ));
    }
    let check = |delta: i64, done: i64, verb: &str, undo: &str| {
        if delta > 0 && done + delta > line.qty {
            Err(format!(
                "{name} has {} left to {verb}, not {delta}",
                (line.qty - done).max(0)
            ))
        } else if delta < 0 && done + delta < 0 {
            Err(format!("{name} has {done} {undo}, not {}", -delta))
        } else {
            Ok(())
        }
    };
    check(picked, line.picked, "pick", "picked")?;
    check(shipped, line.shipped, "ship", "shipped")
}

#[cfg(test)]
mod tests {
    use super::*;
    use LocationRole::*;

    #[test]
    fn a_movement_picks_ships_or_takes_back() {
        assert_eq!(progress(Storage, Pack, 3), (3, 0));
        assert_eq!(progress(PickFace, Customer, 3), (3, 3));
        assert_eq!(progress(Pack, Ship, 3), (0, 0));
        assert_eq!(progress(Ship, Customer, 3), (0, 3));
        assert_eq!(progress(Pack, Storage, 2), (-2, 0));
        assert_eq!(progress(Customer, Returns, 2), (0, -2));
    }

    #[test]
    fn a_movement_may_not_do_more_than_the_line_allows() {
        let at = OrderRef {
            order: "SO-1".into(),
            line: 1,
        };
        let line = LineProgress {
            site: "WH1".into(),
            sku: "SKU-1".into(),
            qty: 10,
            picked: 6,
            shipped: 2,
        };
        let check = |sku: &str, site: &str, delta| {
            check_move(&at, &line, sku, site, MoveReason::Pick, delta)
        };
        assert_eq!(check("SKU-1", "WH1", (4, 0)), Ok(()));
        assert_eq!(check("SKU-1", "WH1", (0, 8)), Ok(()));
        assert_eq!(check("SKU-1", "WH1", (-6, 0)), Ok(()));
        assert_eq!(
            check("SKU-1", "WH1", (5, 0)),
            Err("order SO-1 line 1 has 4 left to pick, not 5".into())
        );
        assert_eq!(
            check("SKU-1", "WH1", (0, 9)),
            Err("order SO-1 line 1 has 8 left to ship, not 9".into())
        );
        assert_eq!(
            check("SKU-1", "WH1", (0, -3)),
            Err("order SO-1 line 1 has 2 shipped, not 3".into())
        );
        assert_eq!(
            check("SKU-2", "WH1", (1, 0)),
            Err("order SO-1 line 1 is for SKU-1, not SKU-2".into())
        );
        assert_eq!(
            check("SKU-1", "WH2", (1, 0)),
            Err("order SO-1 line 1 is for site WH1, not WH2".into())
        );
        assert!(check("SKU-1", "WH1", (0, 0)).is_err());
        assert_eq!(
            check_move(&at, &line, "SKU-1", "WH1", MoveReason::Adjustment, (1, 0)),
            Err("a movement for adjustment cannot count for order SO-1 line 1: only picks, packing, shipments and returns do".into())
        );
    }
}
