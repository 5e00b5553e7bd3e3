//! Where received stock should go: the putaway suggestion, a pure function of the item,
//! the rules and the bins.

use super::{AbcClass, Item};
use serde::{Deserialize, Serialize};

/// A putaway rule: stock of an item, or of a category, goes to a zone or to one bin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutawayRule {
    /// The item this rule is for; `None` for a category rule.
    pub sku: Option<String>,
    /// The category this rule is for, when `sku` is `None`.
    pub category: Option<String>,
    /// Target zone, when `location` is `None`.
    pub zone: Option<String>,
    /// Target bin.
    pub location: Option<String>,
}

/// A storage bin as the suggestion sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bin {
    pub code: String,
    pub zone: String,
    pub pick_seq: Option<i64>,
    /// `None` is unlimited.
    pub capacity: Option<i64>,
    /// Units in the bin now, all items.
    pub load: i64,
    /// Whether the bin holds some of the item being put away.
    pub holds_item: bool,
    /// A storage bin; otherwise a pick face, which only a rule naming it fills.
    pub storage: bool,
}

impl Bin {
    /// Units that still fit.
    pub fn room(&self) -> i64 {
        self.capacity.map_or(i64::MAX, |c| (c - self.load).max(0))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    ItemRule,
    CategoryRule,
    HoldsItem,
    EmptyInClassZone,
}

impl Reason {
    pub fn describe(self) -> &'static str {
        match self {
            Self::ItemRule => "rule for this item",
            Self::CategoryRule => "rule for its category",
            Self::HoldsItem => "bin already holds it",
            Self::EmptyInClassZone => "empty bin in its ABC zone",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    pub bin: String,
    /// How much of the quantity fits there; the rest is suggested elsewhere afterwards.
    pub qty: i64,
    pub reason: Reason,
}

/// The zone for an ABC class: zone A for class A items, and so on.
pub fn class_zone(abc: AbcClass) -> &'static str {
    abc.as_str()
}

/// Suggest a bin for `qty` of `item`, trying in order: a rule for the item, a rule for
/// its category, a bin that already holds the item and has room, an empty bin in the
/// zone of the item's ABC class. Within a rule's zone, bins holding the item come first,
/// then empty bins. Ties go to the lower pick sequence, then the code. A bin never gets
/// more than its room. `None` when no bin has room: the stock stays at the dock.
pub fn suggest(item: &Item, qty: i64, rules: &[PutawayRule], bins: &[Bin]) -> Option<Suggestion> {
    if qty <= 0 {
        return None;
    }
    let item_rules = rules
        .iter()
        .filter(|r| r.sku.as_deref() == Some(item.sku.as_str()))
        .map(|r| (r, Reason::ItemRule));
    let category_rules = rules
        .iter()
        .filter(|r| r.sku.is_none() && r.category.as_deref() == Some(item.category.as_str()))
        .map(|r| (r, Reason::CategoryRule));
    // A bin that a rule gives to another item is kept for that item; pick faces take
    // stock only by a rule naming them.
    let open = |b: &&Bin| {
        b.storage
            && !rules.iter().any(|r| {
                r.location.as_deref() == Some(b.code.as_str())
                    && r.sku.as_deref() != Some(item.sku.as_str())
            })
    };
    for (rule, reason) in item_rules.chain(category_rules) {
        let found = match (&rule.location, &rule.zone) {
            (Some(loc), _) => best(bins.iter().filter(|b| &b.code == loc)),
            (None, Some(zone)) => {
                let in_zone = || bins.iter().filter(move |b| &b.zone == zone).filter(open);
                best(in_zone().filter(|b| b.holds_item))
                    .or_else(|| best(in_zone().filter(|b| b.load == 0)))
            }
            (None, None) => None,
        };
        if let Some(b) = found {
            return Some(make(b, qty, reason));
        }
    }
    if let Some(b) = best(bins.iter().filter(|b| b.holds_item).filter(open)) {
        return Some(make(b, qty, Reason::HoldsItem));
    }
    let zone = class_zone(item.abc);
    best(
        bins.iter()
            .filter(|b| b.zone == zone && b.load == 0)
            .filter(open),
    )
    .map(|b| make(b, qty, Reason::EmptyInClassZone))
}

/// The first bin with room in walking order.
fn best<'a>(bins: impl Iterator<Item = &'a Bin>) -> Option<&'a Bin> {
    bins.filter(|b| b.room() > 0).min_by(|a, b| {
        (a.pick_seq.unwrap_or(i64::MAX), &a.code).cmp(&(b.pick_seq.unwrap_or(i64::MAX), &b.code))
    })
}

fn make(b: &Bin, qty: i64, reason: Reason) -> Suggestion {
    Suggestion {
        bin: b.code.clone(),
        qty: qty.min(b.room()),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(abc: AbcClass) -> Item {
        Item {
            sku: "S1".into(),
            description: String::new(),
            base_unit: "EA".into(),
            gtins: vec![],
            lot_tracked: false,
            expiry_tracked: false,
            shelf_life_days: None,
            abc,
            unit_cost_cents: 0,
            category: "dairy".into(),
        }
    }

    fn bin(code: &str, zone: &str, seq: i64, cap: Option<i64>, load: i64, holds: bool) -> Bin {
        Bin {
            code: code.into(),
            zone: zone.into(),
            pick_seq: Some(seq),
            capacity: cap,
            load,
            holds_item: holds,
            storage: true,
        }
    }

    fn rule(
        sku: Option<&str>,
        cat: Option<&str>,
        zone: Option<&str>,
        loc: Option<&str>,
    ) -> PutawayRule {
        PutawayRule {
            sku: sku.map(Into::into),
            category: cat.map(Into::into),
            zone: zone.map(Into::into),
            location: loc.map(Into::into),
        }
    }

    #[test]
    fn order_of_preference() {
        let bins = vec![
            bin("A-1", "A", 1, Some(10), 0, false),
            bin("A-2", "A", 2, Some(10), 4, true),
            bin("B-1", "B", 3, None, 0, false),
            bin("C-1", "C", 4, Some(5), 5, false),
        ];
        let it = item(AbcClass::A);
        let s = |rules: &[PutawayRule], qty| suggest(&it, qty, rules, &bins);
        // No rule: a bin holding the item, limited by its room.
        assert_eq!(
            s(&[], 9),
            Some(Suggestion {
                bin: "A-2".into(),
                qty: 6,
                reason: Reason::HoldsItem
            })
        );
        // Item rule to a bin beats everything.
        let r = [
            rule(None, Some("dairy"), Some("B"), None),
            rule(Some("S1"), None, None, Some("A-1")),
        ];
        assert_eq!(
            s(&r, 3).map(|x| (x.bin, x.reason)),
            Some(("A-1".into(), Reason::ItemRule))
        );
        // Category rule to a zone: empty bin there.
        let r = [rule(None, Some("dairy"), Some("B"), None)];
        assert_eq!(s(&r, 50).map(|x| (x.bin, x.qty)), Some(("B-1".into(), 50)));
        // A rule whose bins are full falls through to the next preference.
        let r = [rule(Some("S1"), None, None, Some("C-1"))];
        assert_eq!(s(&r, 1).map(|x| x.reason), Some(Reason::HoldsItem));
    }

    #[test]
    fn empty_bin_in_class_zone_and_nothing_when_full() {
        let bins = vec![
            bin("B-2", "B", 9, Some(3), 0, false),
            bin("B-1", "B", 2, Some(3), 1, false),
        ];
        let it = item(AbcClass::B);
        assert_eq!(
            suggest(&it, 5, &[], &bins),
            Some(Suggestion {
                bin: "B-2".into(),
                qty: 3,
                reason: Reason::EmptyInClassZone
            })
        );
        // A bin an item rule gives to another item is not offered.
        let kept = [rule(Some("OTHER"), None, None, Some("B-1"))];
        assert_eq!(
            suggest(&it, 1, &kept, &bins).map(|s| s.bin),
            Some("B-2".into())
        );
        let full = vec![bin("B-1", "B", 2, Some(3), 3, true)];
        assert_eq!(suggest(&it, 1, &[], &full), None);
        assert_eq!(suggest(&it, 0, &[], &bins), None);
    }
}
