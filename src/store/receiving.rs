//! Purchase orders, receipts, discrepancies and putaway facts.

use super::{Recorded, Result, StockRow, Store, StoreError};
use crate::domain::putaway::{Bin, PutawayRule};
use crate::domain::receiving::{
    ClosePolicy, DiscrepancyKind, LineSummary, PurchaseOrder, over_limit,
};
use crate::domain::{Event, LocationRole, MoveReason, ReceiptRef};
use chrono::{NaiveDate, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use std::collections::HashSet;
use uuid::Uuid;

/// An open PO as the receiver chooses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoSummary {
    pub po: String,
    pub supplier: String,
    pub expected: Option<NaiveDate>,
    pub lines: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoLineState {
    pub line: i64,
    pub sku: String,
    pub description: String,
    pub base_unit: String,
    pub ordered: i64,
    /// Received in good condition, all receipts.
    pub received: i64,
    pub damaged: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoState {
    pub po: String,
    pub supplier: String,
    pub site: String,
    pub expected: Option<NaiveDate>,
    pub open: bool,
    pub lines: Vec<PoLineState>,
}

/// An open receipt, to resume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenReceipt {
    pub receipt: String,
    pub po: String,
    pub delivery_note: Option<String>,
    pub checked_by: Option<String>,
}

/// A discrepancy as the store keeps it (the same row travels in snapshots).
pub type Discrepancy = crate::sync::wire::DiscrepancyRow;

/// A discrepancies row, in the column order of [`DISCREPANCY_COLUMNS`].
pub(super) fn discrepancy_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Discrepancy> {
    Ok(Discrepancy {
        id: r.get(0)?,
        kind: r.get(1)?,
        state: r.get(2)?,
        receipt: r.get(3)?,
        po: r.get(4)?,
        line: r.get(5)?,
        sku: r.get(6)?,
        lot: r.get(7)?,
        qty: r.get(8)?,
        note: r.get(9)?,
        raised_by: r.get(10)?,
        raised_at: r.get(11)?,
    })
}

pub(super) const DISCREPANCY_COLUMNS: &str = "d.id, d.kind, d.state, d.receipt, d.po, d.line, d.sku, d.lot, d.qty, d.note, d.raised_by, d.raised_at";

/// A received scan as recorded, and its PO as the same transaction left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub recorded: Vec<Recorded>,
    pub po: PoState,
}

/// One received scan, as the receiving flow confirms it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receive {
    pub receipt: String,
    /// The PO line; 0 for an item that is not on the PO (raised as unexpected).
    pub line: i64,
    pub sku: String,
    pub lot: String,
    pub expiry: Option<NaiveDate>,
    pub qty: i64,
    pub damaged: bool,
    /// Where the goods go: the dock, or quarantine for damaged or parked goods.
    pub to: String,
    /// A supervisor who approved an over-receipt or an expired lot on the spot.
    pub approved_by: Option<String>,
    pub sscc: Option<String>,
    /// The site's over-receipt tolerance in percent.
    pub tolerance_pct: u32,
    /// Today's date on the floor, for the expiry check.
    pub today: NaiveDate,
}

fn reject(msg: impl Into<String>) -> StoreError {
    StoreError::Rejected(msg.into())
}

fn date(s: Option<String>) -> Option<NaiveDate> {
    s.and_then(|s| s.parse().ok())
}

impl Store {
    /// Create or replace purchase orders. A PO that has receipts cannot be replaced.
    pub fn define_purchase_orders(&mut self, by: &str, orders: &[PurchaseOrder]) -> Result<()> {
        for o in orders {
            if o.lines.is_empty() {
                return Err(reject(format!("{} has no lines", o.po)));
            }
            let mut seen = HashSet::new();
            for l in &o.lines {
                if self.item(&l.sku)?.is_none() {
                    return Err(reject(format!(
                        "{} line {}: not found: {}",
                        o.po, l.line, l.sku
                    )));
                }
                if l.qty <= 0 || !seen.insert(l.line) {
                    return Err(reject(format!(
                        "{} line {}: bad or repeated line",
                        o.po, l.line
                    )));
                }
            }
            let received: i64 = self.conn.query_row(
                "SELECT COUNT(*) FROM receipts WHERE po = ?1",
                [&o.po],
                |r| r.get(0),
            )?;
            if received > 0 {
                return Err(reject(format!(
                    "{} has receipts already and cannot be replaced",
                    o.po
                )));
            }
        }
        let events: Vec<Event> = orders
            .iter()
            .map(|o| Event::PurchaseOrderDefined { order: o.clone() })
            .collect();
        self.record(by, &events)?;
        Ok(())
    }

    /// Open POs of a site, by expected date.
    pub fn open_purchase_orders(&self, site: &str) -> Result<Vec<PoSummary>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.po, p.supplier, p.expected, COUNT(l.line)
             FROM purchase_orders p JOIN po_lines l ON l.po = p.po
             WHERE p.site = ?1 AND p.status = 'open'
             GROUP BY p.po ORDER BY p.expected, p.po",
        )?;
        let rows = stmt.query_map([site], |r| {
            Ok(PoSummary {
                po: r.get(0)?,
                supplier: r.get(1)?,
                expected: date(r.get(2)?),
                lines: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn purchase_order(&self, po: &str) -> Result<Option<PoState>> {
        let head = self
            .conn
            .prepare_cached(
                "SELECT po, supplier, site, expected, status FROM purchase_orders WHERE po = ?1",
            )?
            .query_row([po], |r| {
                Ok(PoState {
                    po: r.get(0)?,
                    supplier: r.get(1)?,
                    site: r.get(2)?,
                    expected: date(r.get(3)?),
                    open: r.get::<_, String>(4)? == "open",
                    lines: Vec::new(),
                })
            })
            .optional()?;
        let Some(mut head) = head else {
            return Ok(None);
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT l.line, l.sku, i.description, i.base_unit, l.ordered, l.received, l.damaged
             FROM po_lines l JOIN items i ON i.sku = l.sku WHERE l.po = ?1 ORDER BY l.line",
        )?;
        head.lines = stmt
            .query_map([po], |r| {
                Ok(PoLineState {
                    line: r.get(0)?,
                    sku: r.get(1)?,
                    description: r.get(2)?,
                    base_unit: r.get(3)?,
                    ordered: r.get(4)?,
                    received: r.get(5)?,
                    damaged: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Some(head))
    }

    /// The open receipt on this terminal, if one was interrupted.
    pub fn open_receipt(&self) -> Result<Option<OpenReceipt>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT receipt, po, delivery_note, checked_by FROM receipts
                 WHERE terminal = ?1 AND status = 'open' ORDER BY started_at DESC LIMIT 1",
            )?
            .query_row([&self.terminal], |r| {
                Ok(OpenReceipt {
                    receipt: r.get(0)?,
                    po: r.get(1)?,
                    delivery_note: r.get(2)?,
                    checked_by: r.get(3)?,
                })
            })
            .optional()?)
    }

    /// An open receipt by its id.
    pub fn receipt(&self, receipt: &str) -> Result<OpenReceipt> {
        self.conn
            .prepare_cached(
                "SELECT receipt, po, delivery_note, checked_by FROM receipts
                 WHERE receipt = ?1 AND status = 'open'",
            )?
            .query_row([receipt], |r| {
                Ok(OpenReceipt {
                    receipt: r.get(0)?,
                    po: r.get(1)?,
                    delivery_note: r.get(2)?,
                    checked_by: r.get(3)?,
                })
            })
            .optional()?
            .ok_or_else(|| reject(format!("receipt {receipt} is not open")))
    }

    /// Start receiving an open PO; returns the new receipt's id.
    pub fn start_receipt(
        &mut self,
        user: &str,
        po: &str,
        delivery_note: Option<&str>,
    ) -> Result<String> {
        match self.purchase_order(po)? {
            None => return Err(reject(format!("not found: {po}"))),
            Some(p) if !p.open => return Err(reject(format!("{po} is closed"))),
            Some(_) => {}
        }
        let receipt = Uuid::now_v7().to_string();
        self.record(
            user,
            &[Event::ReceiptStarted {
                receipt: receipt.clone(),
                po: po.to_string(),
                delivery_note: delivery_note.map(str::to_string),
            }],
        )?;
        Ok(receipt)
    }

    /// Receive one scan: supplier -> dock (or quarantine), journaled with the PO, line,
    /// receipt and delivery note. Over-receipts beyond the tolerance and expired lots need
    /// a supervisor's approval, except over-receipts parked in quarantine. An item that
    /// is not on the PO is raised as an unexpected discrepancy.
    ///
    /// Everything is checked inside the transaction that records it, so no other writer
    /// can change the line or the lot between the check and the write; the PO comes back
    /// as that transaction left it, for the screen.
    pub fn receive(&mut self, user: &str, r: &Receive) -> Result<Received> {
        let now = Utc::now();
        self.transact(|s| {
            let (events, receipt) = s.plan_receive(r)?;
            let recorded = super::record_in(&s.conn, s.balances, &s.terminal, user, now, &events)?;
            let po = s
                .purchase_order(&receipt.po)?
                .ok_or_else(|| reject(format!("not found: {}", receipt.po)))?;
            Ok(Received { recorded, po })
        })
    }

    /// The rules of [`Store::receive`] and the events it records.
    fn plan_receive(&self, r: &Receive) -> Result<(Vec<Event>, OpenReceipt)> {
        let receipt = self.receipt(&r.receipt)?;
        let to = self
            .location(&r.to)?
            .ok_or_else(|| reject(format!("not found: {}", r.to)))?;
        if !matches!(to.role, LocationRole::Dock | LocationRole::Quarantine) {
            return Err(reject(format!(
                "{} is not a dock or quarantine location",
                to.code
            )));
        }
        if r.damaged && to.role != LocationRole::Quarantine {
            return Err(reject("damaged goods go to quarantine"));
        }
        if r.line > 0 {
            let (ordered, received, damaged) =
                self.po_line(&receipt.po, r.line, &r.sku)?.ok_or_else(|| {
                    reject(format!(
                        "{} is not line {} of {}",
                        r.sku, r.line, receipt.po
                    ))
                })?;
            let after = received + damaged + r.qty;
            // Good goods sent to quarantine are a parked over-receipt: a supervisor decides
            // at the discrepancy. Damaged goods over the order still need one now.
            let parked = to.role == LocationRole::Quarantine && !r.damaged;
            if after > over_limit(ordered, r.tolerance_pct) && r.approved_by.is_none() && !parked {
                return Err(reject(format!(
                    "over-receipt: {after} of {ordered} ordered needs a supervisor"
                )));
            }
        }
        // A known lot keeps the expiry it was first received with, whatever a label says.
        let known = self.lot(&r.sku, &r.lot)?;
        let expiry = match &known {
            Some(known) => known.expiry,
            None => r.expiry,
        };
        let expired = expiry.is_some_and(|d| d < r.today);
        if expired && r.approved_by.is_none() {
            return Err(reject("the lot has expired: a supervisor must approve it"));
        }
        let supplier = self
            .first_location(&to.site, LocationRole::Supplier)?
            .ok_or_else(|| reject(format!("site {} has no supplier location", to.site)))?;
        let m = super::Move {
            sku: r.sku.clone(),
            lot: r.lot.clone(),
            expiry: r.expiry,
            from: supplier.code.clone(),
            to: to.code.clone(),
            qty: r.qty,
            reason: MoveReason::Receipt,
            order: None,
        };
        // The movement's own rules, on the facts read above.
        super::commands::check_qty(&m)?;
        let item = self
            .item_rules(&m.sku)?
            .ok_or_else(|| reject(format!("not found: {}", m.sku)))?;
        let mut events = self.plan_move_with(&m, &item, &supplier, &to, Some(known.is_some()))?;
        let reference = ReceiptRef {
            receipt: receipt.receipt.clone(),
            po: receipt.po.clone(),
            line: r.line,
            delivery_note: receipt.delivery_note.clone(),
            damaged: r.damaged,
            approved_by: r.approved_by.clone(),
            sscc: r.sscc.clone(),
        };
        for e in &mut events {
            if let Event::StockMoved { receipt, .. } = e {
                *receipt = Some(reference.clone());
            }
        }
        if r.line == 0 {
            events.push(Event::DiscrepancyRaised {
                id: Uuid::now_v7().to_string(),
                discrepancy: DiscrepancyKind::Unexpected,
                receipt: Some(receipt.receipt.clone()),
                po: Some(receipt.po.clone()),
                line: None,
                sku: r.sku.clone(),
                lot: r.lot.clone(),
                qty: r.qty,
                note: format!("not on {}; received to {}", receipt.po, to.code),
            });
        }
        // An expired lot let in by a supervisor stays on record for the approvals screen.
        if expired {
            events.push(Event::DiscrepancyRaised {
                id: Uuid::now_v7().to_string(),
                discrepancy: DiscrepancyKind::ExpiredLot,
                receipt: Some(receipt.receipt.clone()),
                po: Some(receipt.po.clone()),
                line: Some(r.line),
                sku: r.sku.clone(),
                lot: r.lot.clone(),
                qty: r.qty,
                note: format!(
                    "expired {}; approved by {}",
                    expiry.map(|d| d.to_string()).unwrap_or_default(),
                    r.approved_by.as_deref().unwrap_or("")
                ),
            });
        }
        Ok((events, receipt))
    }

    /// Ordered, received and damaged of one PO line, if it is that item's.
    fn po_line(&self, po: &str, line: i64, sku: &str) -> Result<Option<(i64, i64, i64)>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT ordered, received, damaged FROM po_lines
                 WHERE po = ?1 AND line = ?2 AND sku = ?3",
            )?
            .query_row(params![po, line, sku], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?)
    }

    /// The lines of a receipt as the closing summary shows them: every PO line, and the
    /// unexpected items received.
    pub fn receipt_summary(&self, receipt: &str) -> Result<Vec<LineSummary>> {
        let r = self.receipt(receipt)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT l.line, l.sku, l.ordered, l.received + l.damaged,
                    COALESCE(rl.good, 0), COALESCE(rl.damaged, 0),
                    COALESCE((SELECT MAX(d.qty) FROM discrepancies d
                              WHERE d.po = l.po AND d.line = l.line AND d.kind = 'short'
                                AND d.state = 'pending'
                                AND d.qty = l.ordered - l.received - l.damaged), 0)
             FROM po_lines l
             LEFT JOIN receipt_lines rl ON rl.receipt = ?2 AND rl.line = l.line AND rl.sku = l.sku
             WHERE l.po = ?1
             UNION ALL
             SELECT 0, sku, 0, good + damaged, good, damaged, 0 FROM receipt_lines
             WHERE receipt = ?2 AND line = 0
             ORDER BY 1, 2",
        )?;
        let rows = stmt.query_map(params![r.po, receipt], |row| {
            let all: i64 = row.get(3)?;
            let good: i64 = row.get(4)?;
            let damaged: i64 = row.get(5)?;
            Ok(LineSummary {
                line: row.get(0)?,
                sku: row.get(1)?,
                ordered: row.get(2)?,
                before: all - good - damaged,
                good,
                damaged,
                short_pending: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A second person confirms the counts of a receipt.
    pub fn check_receipt(&mut self, user: &str, receipt: &str, by: &str) -> Result<()> {
        let r = self.receipt(receipt)?;
        let started_by: String = self.conn.query_row(
            "SELECT started_by FROM receipts WHERE receipt = ?1",
            [&r.receipt],
            |row| row.get(0),
        )?;
        if by == started_by || by == user {
            return Err(reject("the check must be made by a second person"));
        }
        self.record(
            user,
            &[Event::ReceiptChecked {
                receipt: receipt.into(),
                by: by.into(),
            }],
        )?;
        Ok(())
    }

    /// Close a receipt: every short, over and damaged line becomes a discrepancy, and the
    /// PO keeps its rest open as a backorder or closes, by the site's policy (it always
    /// closes when everything arrived). Returns the discrepancies raised.
    pub fn close_receipt(
        &mut self,
        user: &str,
        receipt: &str,
        policy: ClosePolicy,
        require_check: bool,
        tolerance_pct: u32,
    ) -> Result<Vec<(DiscrepancyKind, LineSummary, i64)>> {
        let r = self.receipt(receipt)?;
        if require_check && r.checked_by.is_none() {
            return Err(reject(
                "a second person must check the counts before closing",
            ));
        }
        let lines = self.receipt_summary(receipt)?;
        let mut raised = Vec::new();
        let mut events = Vec::new();
        for l in &lines {
            for (kind, qty) in l.discrepancies(tolerance_pct) {
                events.push(Event::DiscrepancyRaised {
                    id: Uuid::now_v7().to_string(),
                    discrepancy: kind,
                    receipt: Some(r.receipt.clone()),
                    po: Some(r.po.clone()),
                    line: Some(l.line),
                    sku: l.sku.clone(),
                    lot: String::new(),
                    qty,
                    note: format!(
                        "{} ordered, {} before, {} good, {} damaged",
                        l.ordered, l.before, l.good, l.damaged
                    ),
                });
                raised.push((kind, l.clone(), qty));
            }
        }
        let complete = lines.iter().filter(|l| l.line > 0).all(|l| l.short() == 0);
        events.push(Event::ReceiptClosed {
            receipt: r.receipt.clone(),
            po_closed: complete || policy == ClosePolicy::Close,
        });
        self.record(user, &events)?;
        Ok(raised)
    }

    /// Discrepancies, newest first.
    pub fn discrepancies(&self) -> Result<Vec<Discrepancy>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {DISCREPANCY_COLUMNS} FROM discrepancies d ORDER BY d.raised_at DESC, d.id DESC"
        ))?;
        let rows = stmt.query_map([], discrepancy_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The first location of a role at a site, by code.
    pub fn default_location(&self, site: &str, role: LocationRole) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT code FROM locations WHERE site = ?1 AND role = ?2 ORDER BY code LIMIT 1",
            )?
            .query_row([site, role.as_str()], |r| r.get(0))
            .optional()?)
    }

    /// Record that an LPN label was printed; returns the new LPN, unique per terminal.
    /// The LPN the next label of this terminal gets: unique per terminal.
    pub fn next_lpn(&self) -> Result<String> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM journal WHERE terminal = ?1 AND kind = 'label_printed'",
            [&self.terminal],
            |r| r.get(0),
        )?;
        Ok(format!("{}-{:06}", self.terminal, n + 1))
    }

    /// Record that the label `lpn` was printed for received stock.
    pub fn record_label(
        &mut self,
        user: &str,
        lpn: &str,
        receipt: &str,
        sku: &str,
        lot: &str,
        qty: i64,
    ) -> Result<()> {
        if self.next_lpn()? != lpn {
            return Err(reject(format!(
                "label {lpn} is not this terminal's next label"
            )));
        }
        self.record(
            user,
            &[Event::LabelPrinted {
                lpn: lpn.into(),
                receipt: receipt.into(),
                sku: sku.into(),
                lot: lot.into(),
                qty,
            }],
        )?;
        Ok(())
    }

    pub fn define_putaway_rules(&mut self, by: &str, rules: &[PutawayRule]) -> Result<()> {
        for r in rules {
            if r.sku.is_none() == r.category.is_none() || r.zone.is_none() == r.location.is_none() {
                return Err(reject(
                    "a putaway rule names an item or a category, and a zone or a bin",
                ));
            }
            if let Some(loc) = &r.location
                && !self.location(loc)?.is_some_and(|l| {
                    matches!(l.role, LocationRole::Storage | LocationRole::PickFace)
                })
            {
                return Err(reject(format!("putaway rule: {loc} is not a storage bin")));
            }
        }
        self.record(
            by,
            &[Event::PutawayRulesDefined {
                rules: rules.to_vec(),
            }],
        )?;
        Ok(())
    }

    pub fn putaway_rules(&self) -> Result<Vec<PutawayRule>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT sku, category, zone, location FROM putaway_rules ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(PutawayRule {
                sku: r.get(0)?,
                category: r.get(1)?,
                zone: r.get(2)?,
                location: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every storage bin of a site with its load and whether it holds `sku`.
    pub fn putaway_bins(&self, site: &str, sku: &str) -> Result<Vec<Bin>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT l.code, l.zone, l.pick_seq, l.capacity,
                    COALESCE(SUM(s.qty), 0),
                    COALESCE(MAX(s.item_id = (SELECT id FROM items WHERE sku = ?2)
                                 AND s.qty > 0), 0),
                    l.role = 'storage'
             FROM locations l LEFT JOIN stock s ON s.location_id = l.id
             WHERE l.site = ?1 AND l.role IN ('storage', 'pick_face')
             GROUP BY l.code",
        )?;
        let rows = stmt.query_map([site, sku], |r| {
            Ok(Bin {
                code: r.get(0)?,
                zone: r.get(1)?,
                pick_seq: r.get(2)?,
                capacity: r.get(3)?,
                load: r.get(4)?,
                holds_item: r.get(5)?,
                storage: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Stock waiting at the docks of a site: the putaway task list.
    pub fn putaway_tasks(&self, site: &str) -> Result<Vec<StockRow>> {
        let docks: Vec<String> = {
            let mut stmt = self.conn.prepare_cached(
                "SELECT code FROM locations WHERE site = ?1 AND role = 'dock' ORDER BY code",
            )?;
            let rows = stmt.query_map([site], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut out = Vec::new();
        for d in docks {
            out.extend(
                self.stock(&super::StockFilter {
                    location: Some(d),
                    ..Default::default()
                })?
                .into_iter()
                .filter(|r| r.qty > 0),
            );
        }
        Ok(out)
    }
}
