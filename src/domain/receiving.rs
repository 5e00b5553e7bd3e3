//! Purchase orders, receipts and discrepancies: the pure rules of receiving.

use super::gs1::{self, GS, Gs1Error};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoLine {
    pub line: i64,
    pub sku: String,
    pub qty: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrder {
    pub po: String,
    pub supplier: String,
    pub site: String,
    pub expected: Option<NaiveDate>,
    pub lines: Vec<PoLine>,
}

/// What a supervisor must look at after a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscrepancyKind {
    /// Less arrived than was ordered.
    Short,
    /// More arrived than the tolerance allows.
    Over,
    /// Arrived damaged; the goods are in quarantine.
    Damaged,
    /// An item that is not on the purchase order.
    Unexpected,
    /// A lot that had already expired when it arrived.
    ExpiredLot,
}

impl DiscrepancyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Short => "short",
            Self::Over => "over",
            Self::Damaged => "damaged",
            Self::Unexpected => "unexpected",
            Self::ExpiredLot => "expired_lot",
        }
    }
}

/// What the site does with the unreceived rest of a purchase order when a receipt closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClosePolicy {
    /// The rest stays open on the PO for a later delivery.
    #[default]
    Backorder,
    /// The PO is closed; the rest is not expected any more.
    Close,
}

/// The largest quantity of a line that may be received without a supervisor: the
/// ordered quantity plus the site's tolerance in percent, rounded down.
pub fn over_limit(ordered: i64, tolerance_pct: u32) -> i64 {
    ordered + ordered.saturating_mul(i64::from(tolerance_pct)) / 100
}

/// One line of a receipt's closing summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineSummary {
    /// 0 for an item that was not on the PO.
    pub line: i64,
    pub sku: String,
    pub ordered: i64,
    /// Received on this PO before this receipt.
    pub before: i64,
    pub good: i64,
    pub damaged: i64,
    /// A short on this line that already waits for a supervisor (from an earlier receipt
    /// of a backordered PO); the same short is not raised again.
    pub short_pending: i64,
}

impl LineSummary {
    /// Still missing after this receipt, counting damaged units as arrived.
    pub fn short(&self) -> i64 {
        (self.ordered - self.before - self.good - self.damaged).max(0)
    }

    /// More than ordered, counting what arrived before.
    pub fn over(&self) -> i64 {
        (self.before + self.good + self.damaged - self.ordered).max(0)
    }

    /// The discrepancies this line raises when the receipt closes, with quantities. An
    /// over-receipt within the site's tolerance is accepted as it is.
    pub fn discrepancies(&self, tolerance_pct: u32) -> Vec<(DiscrepancyKind, i64)> {
        let mut out = Vec::new();
        if self.line == 0 {
            return out; // unexpected items are raised when they are received
        }
        if self.short() > 0 && self.short() != self.short_pending {
            out.push((DiscrepancyKind::Short, self.short()));
        }
        let arrived = self.before + self.good + self.damaged;
        if arrived > over_limit(self.ordered, tolerance_pct) {
            out.push((DiscrepancyKind::Over, self.over()));
        }
        if self.damaged > 0 {
            out.push((DiscrepancyKind::Damaged, self.damaged));
        }
        out
    }
}

/// What a receiving scan carried.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScannedItem {
    /// A SKU or a GTIN as scanned or keyed, for the store to resolve.
    pub code: String,
    pub lot: Option<String>,
    pub expiry: Option<NaiveDate>,
    /// Units counted in the scan (AI 30 or 37).
    pub count: Option<i64>,
    pub sscc: Option<String>,
}

/// Read a receiving scan: a GS1 element string (with or without a symbology identifier,
/// in human-readable form or raw with GS separators) is split into its fields; anything
/// else is a plain code (SKU or GTIN). Best-before (15) stands in for expiry (17) when
/// only it is present.
pub fn read_scan(
    text: &str,
    gs_standin: Option<char>,
    today: NaiveDate,
) -> Result<ScannedItem, Gs1Error> {
    let looks_gs1 = text.starts_with(']')
        || text.starts_with('(')
        || text.contains(GS)
        || gs_standin.is_some_and(|c| text.contains(c))
        // A raw element string from a scanner that sends no symbology identifier.
        || (text.len() > 14 && ["00", "01", "02"].iter().any(|ai| text.starts_with(ai)));
    if !looks_gs1 || gs1::valid_gtin(text) {
        return Ok(ScannedItem {
            code: text.to_string(),
            ..ScannedItem::default()
        });
    }
    let p = gs1::parse_at(text, gs_standin, today)?;
    let code = p
        .gtin()
        .or_else(|| p.get("02").map(|e| e.raw.as_str()))
        .map(str::to_string)
        .unwrap_or_default();
    Ok(ScannedItem {
        code,
        lot: p.lot().map(str::to_string),
        expiry: p.expiry().or_else(|| p.best_before()),
        count: p.count().and_then(|c| i64::try_from(c).ok()),
        sscc: p.sscc().map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default()
    }

    #[test]
    fn tolerance_rounds_down() {
        assert_eq!(over_limit(10, 0), 10);
        assert_eq!(over_limit(10, 5), 10);
        assert_eq!(over_limit(10, 10), 11);
        assert_eq!(over_limit(250, 2), 255);
    }

    #[test]
    fn summary_counts_short_over_damaged() {
        let l = LineSummary {
            line: 1,
            sku: "S".into(),
            ordered: 10,
            before: 2,
            good: 5,
            damaged: 1,
            short_pending: 0,
        };
        assert_eq!(l.short(), 2);
        assert_eq!(l.over(), 0);
        assert_eq!(
            l.discrepancies(0),
            vec![(DiscrepancyKind::Short, 2), (DiscrepancyKind::Damaged, 1)]
        );
        let o = LineSummary {
            line: 2,
            sku: "S".into(),
            ordered: 4,
            before: 0,
            good: 6,
            damaged: 0,
            short_pending: 0,
        };
        assert_eq!(o.discrepancies(0), vec![(DiscrepancyKind::Over, 2)]);
        let again = LineSummary {
            short_pending: 2,
            ..l.clone()
        };
        assert_eq!(
            again.discrepancies(0),
            vec![(DiscrepancyKind::Damaged, 1)],
            "short 2 waits already"
        );
        assert_eq!(o.discrepancies(50), vec![], "within a 50% tolerance");
        assert_eq!(
            o.discrepancies(25),
            vec![(DiscrepancyKind::Over, 2)],
            "5 allowed, 6 came"
        );
    }

    #[test]
    fn scans_plain_and_gs1() -> Result<(), Gs1Error> {
        assert_eq!(read_scan("SKU-10001", None, today())?.code, "SKU-10001");
        assert_eq!(
            read_scan("0614141100019", None, today())?.code,
            "0614141100019"
        );
        let s = read_scan("]C10109506000134352172612311012AB\u{1d}3712", None, today())?;
        assert_eq!(s.code, "09506000134352");
        assert_eq!(s.lot.as_deref(), Some("12AB"));
        assert_eq!(s.expiry, NaiveDate::from_ymd_opt(2026, 12, 31));
        assert_eq!(s.count, Some(12));
        let h = read_scan("(01)09506000134352(15)270100(10)X~", Some('~'), today())?;
        assert_eq!(
            h.expiry,
            NaiveDate::from_ymd_opt(2027, 1, 31),
            "best before, day 00"
        );
        let raw = read_scan("010950600013435210LOT7~3724", Some('~'), today())?;
        assert_eq!((raw.lot.as_deref(), raw.count), (Some("LOT7"), Some(24)));
        assert!(
            read_scan("(01)09506000134353", None, today()).is_err(),
            "bad check digit"
        );
        Ok(())
    }
}
