//! Applying one event to the projections. The same function serves recording and
//! events pulled from the server: the projections are always a fold of the journal.

use super::ids::{self, Ids, StockKey};
use super::{Balances, Result};
use crate::domain::orders::{self, OrderRef};
use crate::domain::{Event, LocationRole, LoginFailure};
use rusqlite::{Connection, OptionalExtension, params};
use rustc_hash::FxHashMap;

/// Who recorded an event, where and when.
pub(super) struct Meta<'a> {
    pub user: &'a str,
    pub terminal: &'a str,
    pub at: &'a str,
    pub balances: Balances,
}

pub(super) fn apply(tx: &Connection, event: &Event, meta: &Meta<'_>) -> Result<()> {
    let at = meta.at;
    match event {
        Event::ItemDefined { item } => {
            tx.prepare_cached(
                "INSERT INTO items (sku, description, base_unit, lot_tracked, expiry_tracked,
                     shelf_life_days, abc, unit_cost_cents, category)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (sku) DO UPDATE SET description = excluded.description,
                     base_unit = excluded.base_unit, lot_tracked = excluded.lot_tracked,
                     expiry_tracked = excluded.expiry_tracked,
                     shelf_life_days = excluded.shelf_life_days, abc = excluded.abc,
                     unit_cost_cents = excluded.unit_cost_cents, category = excluded.category",
            )?
            .execute(params![
                item.sku,
                item.description,
                item.base_unit,
                item.lot_tracked,
                item.expiry_tracked,
                item.shelf_life_days,
                item.abc.as_str(),
                item.unit_cost_cents,
                item.category
            ])?;
            tx.prepare_cached("DELETE FROM gtins WHERE sku = ?1")?
                .execute([&item.sku])?;
            let mut ins =
                tx.prepare_cached("INSERT INTO gtins (gtin, sku, pack_qty) VALUES (?1, ?2, ?3)")?;
            for g in &item.gtins {
                ins.execute(params![g.gtin, item.sku, g.pack_qty])?;
            }
        }
        Event::LocationDefined { location: l } => {
            tx.prepare_cached(
                "INSERT INTO locations (code, site, zone, kind, role, pick_seq, check_digits, capacity)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (code) DO UPDATE SET site = excluded.site, zone = excluded.zone,
                     kind = excluded.kind, role = excluded.role, pick_seq = excluded.pick_seq,
                     check_digits = excluded.check_digits, capacity = excluded.capacity",
            )?
            .execute(params![
                l.code,
                l.site,
                l.zone,
                l.kind.as_str(),
                l.role.as_str(),
                l.pick_seq,
                l.check_digits,
                l.capacity
            ])?;
        }
        Event::UserDefined {
            badge,
            name,
            roles,
            pin_hash,
        } => {
            let roles = roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(",");
            tx.prepare_cached(
                "INSERT INTO users (badge, name, roles, pin_hash) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (badge) DO UPDATE SET name = excluded.name, roles = excluded.roles,
                     pin_hash = excluded.pin_hash, disabled = 0",
            )?
            .execute(params![badge, name, roles, pin_hash])?;
        }
        Event::UserDisabled { badge } => {
            tx.prepare_cached("UPDATE users SET disabled = 1 WHERE badge = ?1")?
                .execute([badge])?;
        }
        Event::LotDefined { sku, lot, expiry } => {
            tx.prepare_cached(
                "INSERT INTO lots (sku, code, expiry) VALUES (?1, ?2, ?3)
                 ON CONFLICT (sku, code) DO UPDATE SET expiry = excluded.expiry",
            )?
            .execute(params![sku, lot, expiry.map(|d| d.to_string())])?;
        }
        Event::StockMoved {
            sku,
            qty,
            receipt,
            order,
            from,
            to,
            ..
        } => {
            if meta.balances == Balances::Now
                && let Some(m) = movement(event)
            {
                move_stock(tx, &m)?;
            }
            if let Some(o) = order {
                order_progress(tx, o, from, to, *qty)?;
            }
            if let Some(r) = receipt {
                let (good, damaged) = if r.damaged { (0, *qty) } else { (*qty, 0) };
                tx.prepare_cached(
                    "INSERT INTO receipt_lines (receipt, line, sku, good, damaged)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (receipt, line, sku) DO UPDATE
                     SET good = good + excluded.good, damaged = damaged + excluded.damaged",
                )?
                .execute(params![r.receipt, r.line, sku, good, damaged])?;
                tx.prepare_cached(
                    "UPDATE po_lines SET received = received + ?3, damaged = damaged + ?4
                     WHERE po = ?1 AND line = ?2",
                )?
                .execute(params![r.po, r.line, good, damaged])?;
            }
        }
        Event::PurchaseOrderDefined { order } => {
            tx.prepare_cached(
                "INSERT INTO purchase_orders (po, supplier, site, expected) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (po) DO UPDATE SET supplier = excluded.supplier,
                     site = excluded.site, expected = excluded.expected",
            )?
            .execute(params![
                order.po,
                order.supplier,
                order.site,
                order.expected.map(|d| d.to_string())
            ])?;
            tx.prepare_cached("DELETE FROM po_lines WHERE po = ?1")?
                .execute([&order.po])?;
            let mut ins = tx.prepare_cached(
                "INSERT INTO po_lines (po, line, sku, ordered) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for l in &order.lines {
                ins.execute(params![order.po, l.line, l.sku, l.qty])?;
            }
        }
        Event::ReceiptStarted {
            receipt,
            po,
            delivery_note,
        } => {
            tx.prepare_cached(
                "INSERT INTO receipts (receipt, po, delivery_note, terminal, started_by, started_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![receipt, po, delivery_note, meta.terminal, meta.user, at])?;
        }
        Event::DiscrepancyRaised {
            id,
            discrepancy,
            receipt,
            po,
            line,
            sku,
            lot,
            qty,
            note,
        } => {
            tx.prepare_cached(
                "INSERT INTO discrepancies
                     (id, kind, receipt, po, line, sku, lot, qty, note, raised_by, raised_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                id,
                discrepancy.as_str(),
                receipt,
                po,
                line,
                sku,
                lot,
                qty,
                note,
                meta.user,
                at
            ])?;
        }
        Event::ReceiptChecked { receipt, by } => {
            tx.prepare_cached("UPDATE receipts SET checked_by = ?2 WHERE receipt = ?1")?
                .execute([receipt, by])?;
        }
        Event::ReceiptClosed { receipt, po_closed } => {
            tx.prepare_cached("UPDATE receipts SET status = 'closed' WHERE receipt = ?1")?
                .execute([receipt])?;
            if *po_closed {
                tx.prepare_cached(
                    "UPDATE purchase_orders SET status = 'closed'
                     WHERE po = (SELECT po FROM receipts WHERE receipt = ?1)",
                )?
                .execute([receipt])?;
            }
        }
        // The server decides what a count does (see the projector); the adjustment it
        // records, if any, arrives as a movement.
        Event::LabelPrinted { .. } | Event::BinCounted { .. } => {}
        Event::ExceptionRaised {
            id,
            location,
            sku,
            lot,
            qty,
            reason,
            recount,
        } => {
            tx.prepare_cached(
                "INSERT INTO exceptions (id, location, sku, lot, qty, reason, recount, raised_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![id, location, sku, lot, qty, reason, recount, at])?;
        }
        Event::ExceptionResolved { id, .. } => {
            tx.prepare_cached("UPDATE exceptions SET state = 'resolved' WHERE id = ?1")?
                .execute([id])?;
        }
        Event::TerminalEnrolled { terminal, site } => {
            tx.prepare_cached(
                "INSERT INTO terminals (terminal, site, enrolled_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (terminal) DO UPDATE SET site = excluded.site,
                     enrolled_at = excluded.enrolled_at, revoked = 0",
            )?
            .execute(params![terminal, site, at])?;
        }
        Event::TerminalRevoked { terminal } => {
            tx.prepare_cached(
                "UPDATE terminals SET revoked = 1, token_hash = NULL WHERE terminal = ?1",
            )?
            .execute([terminal])?;
        }
        Event::CustomerOrderDefined { order } => {
            // A replaced order keeps what was picked and shipped on the lines it keeps
            // for the same item.
            let done: FxHashMap<(i64, String), (i64, i64)> = tx
                .prepare_cached(
                    "SELECT line, sku, picked, shipped FROM customer_orders WHERE order_no = ?1",
                )?
                .query_map([&order.order], |r| {
                    Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?)))
                })?
                .collect::<rusqlite::Result<_>>()?;
            tx.prepare_cached("DELETE FROM customer_orders WHERE order_no = ?1")?
                .execute([&order.order])?;
            let mut ins = tx.prepare_cached(
                "INSERT INTO customer_orders
                     (order_no, line, customer, site, due, sku, qty, picked, shipped)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for l in &order.lines {
                let (picked, shipped) = done
                    .get(&(l.line, l.sku.clone()))
                    .copied()
                    .unwrap_or_default();
                ins.execute(params![
                    order.order,
                    l.line,
                    order.customer,
                    order.site,
                    order.due.map(|d| d.to_string()),
                    l.sku,
                    l.qty,
                    picked,
                    shipped
                ])?;
            }
        }
        Event::RmaDefined { rma } => {
            tx.prepare_cached("DELETE FROM rmas WHERE rma = ?1")?
                .execute([&rma.rma])?;
            let mut ins = tx.prepare_cached(
                "INSERT INTO rmas (rma, line, customer, site, order_no, created, sku, qty, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for l in &rma.lines {
                ins.execute(params![
                    rma.rma,
                    l.line,
                    rma.customer,
                    rma.site,
                    rma.order,
                    rma.created.map(|d| d.to_string()),
                    l.sku,
                    l.qty,
                    l.reason
                ])?;
            }
        }
        Event::PutawayRulesDefined { rules } => {
            tx.prepare_cached("DELETE FROM putaway_rules")?
                .execute([])?;
            let mut ins = tx.prepare_cached(
                "INSERT INTO putaway_rules (sku, category, zone, location) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for r in rules {
                ins.execute(params![r.sku, r.category, r.zone, r.location])?;
            }
        }
        Event::LoginSucceeded { badge } => {
            tx.prepare_cached(
                "UPDATE users SET failed_attempts = 0, last_failed_at = NULL WHERE badge = ?1",
            )?
            .execute([badge])?;
        }
        Event::LoginFailed { badge, failure } => {
            if *failure == LoginFailure::WrongPin {
                tx.prepare_cached(
                    "UPDATE users SET failed_attempts = failed_attempts + 1, last_failed_at = ?2
                     WHERE badge = ?1",
                )?
                .execute([badge, at])?;
            }
        }
        Event::BadgeLocked { badge } => {
            tx.prepare_cached("UPDATE users SET locked = 1 WHERE badge = ?1")?
                .execute([badge])?;
        }
        Event::BadgeUnlocked { badge, .. } => {
            tx.prepare_cached(
                "UPDATE users SET locked = 0, failed_attempts = 0, last_failed_at = NULL
                 WHERE badge = ?1",
            )?
            .execute([badge])?;
        }
        Event::LoggedOut { .. } => {}
    }
    Ok(())
}

/// A movement of `qty` from `from` to `to` for the order line `o`: its progress changes
/// as [`orders::progress`] says (a rejected movement is taken back with `from` and `to`
/// swapped).
pub(super) fn order_progress(
    tx: &Connection,
    o: &OrderRef,
    from: &str,
    to: &str,
    qty: i64,
) -> Result<()> {
    let role = |code: &str| -> Result<Option<LocationRole>> {
        let role: Option<String> = tx
            .prepare_cached("SELECT role FROM locations WHERE code = ?1")?
            .query_row([code], |r| r.get(0))
            .optional()?;
        Ok(role.as_deref().and_then(LocationRole::parse))
    };
    let (Some(from), Some(to)) = (role(from)?, role(to)?) else {
        return Ok(());
    };
    let (picked, shipped) = orders::progress(from, to, qty);
    tx.prepare_cached(
        "UPDATE customer_orders SET picked = picked + ?3, shipped = shipped + ?4
         WHERE order_no = ?1 AND line = ?2",
    )?
    .execute(params![o.order, o.line, picked, shipped])?;
    Ok(())
}

/// Move a movement's stock between its two balances now: the item's id is read once,
/// for both. An unknown location or item is refused.
pub(super) fn move_stock(tx: &Connection, m: &Movement<'_>) -> Result<()> {
    let item = ids::item_id(tx, m.sku)?;
    let from = ids::location_id(tx, m.from)?;
    let to = ids::location_id(tx, m.to)?;
    add_to_stock(tx, (from, item, m.lot), -m.qty)?;
    add_to_stock(tx, (to, item, m.lot), m.qty)?;
    Ok(())
}

/// Add `delta` to the balance (location id, item id, lot); a balance that reaches zero
/// is removed. Returns the new quantity.
///
/// A read, then one write, rather than an upsert with `RETURNING`: SQLite gives every
/// execution of a `RETURNING` statement a temporary table of its own, which cost more
/// than the update.
fn add_to_stock(tx: &Connection, (location, item, lot): StockKey<'_>, delta: i64) -> Result<i64> {
    let key = params![location, item, lot];
    let before: Option<i64> = tx
        .prepare_cached(
            "SELECT qty FROM stock WHERE location_id = ?1 AND item_id = ?2 AND lot = ?3",
        )?
        .query_row(key, |r| r.get(0))
        .optional()?;
    let now = before.unwrap_or(0) + delta;
    match before {
        None if now != 0 => {
            tx.prepare_cached(
                "INSERT INTO stock (location_id, item_id, lot, qty) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![location, item, lot, now])?;
        }
        None => {}
        Some(_) if now == 0 => {
            tx.prepare_cached(
                "DELETE FROM stock WHERE location_id = ?1 AND item_id = ?2 AND lot = ?3",
            )?
            .execute(key)?;
        }
        Some(_) => {
            tx.prepare_cached(
                "UPDATE stock SET qty = ?4 WHERE location_id = ?1 AND item_id = ?2 AND lot = ?3",
            )?
            .execute(params![location, item, lot, now])?;
        }
    }
    Ok(now)
}

/// What a movement moves, borrowed from its event.
pub(super) struct Movement<'a> {
    pub sku: &'a str,
    pub lot: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub qty: i64,
}

/// The movement an event is, if it is one.
pub(super) fn movement(event: &Event) -> Option<Movement<'_>> {
    match event {
        Event::StockMoved {
            sku,
            lot,
            from,
            to,
            qty,
            ..
        } => Some(Movement {
            sku,
            lot,
            from,
            to,
            qty: *qty,
        }),
        _ => None,
    }
}

/// Movements summed per balance, written later in one pass: each balance once, in key
/// order, so consecutive updates land on the same pages of the tree.
///
/// A balance is keyed by one string (see [`pack`]): one allocation per balance owed
/// rather than three, and none to find a balance already owed.
#[derive(Debug, Default, Clone)]
pub(super) struct BalanceSums {
    sums: FxHashMap<String, i64>,
    /// The key being looked up, reused.
    scratch: String,
}

/// A balance (location, sku, lot) as one string: the location and the sku each after
/// its length in bytes and a colon, then the lot. Unambiguous whatever the codes hold.
fn pack(out: &mut String, location: &str, sku: &str, lot: &str) {
    use std::fmt::Write;
    out.clear();
    let _ = write!(out, "{}:{location}{}:{sku}{lot}", location.len(), sku.len());
}

/// The (location, sku, lot) that [`pack`] made `key` from.
fn unpack(key: &str) -> Option<(&str, &str, &str)> {
    let (n, rest) = key.split_once(':')?;
    let (location, rest) = rest.split_at_checked(n.parse().ok()?)?;
    let (n, rest) = rest.split_once(':')?;
    let (sku, lot) = rest.split_at_checked(n.parse().ok()?)?;
    Some((location, sku, lot))
}

impl BalanceSums {
    pub fn add(&mut self, from: &str, to: &str, sku: &str, lot: &str, qty: i64) {
        self.bump(from, sku, lot, -qty);
        self.bump(to, sku, lot, qty);
    }

    fn bump(&mut self, location: &str, sku: &str, lot: &str, delta: i64) {
        pack(&mut self.scratch, location, sku, lot);
        match self.sums.get_mut(self.scratch.as_str()) {
            Some(sum) => *sum += delta,
            None => {
                self.sums.insert(self.scratch.clone(), delta);
            }
        }
    }

    /// Add an event's stock effect, if it has one.
    pub fn add_event(&mut self, event: &Event) {
        if let Some(m) = movement(event) {
            self.add(m.from, m.to, m.sku, m.lot, m.qty);
        }
    }

    /// The sum owed to one balance (0 when none).
    pub fn get(&self, location: &str, sku: &str, lot: &str) -> i64 {
        let mut key = String::new();
        pack(&mut key, location, sku, lot);
        self.sums.get(key.as_str()).copied().unwrap_or(0)
    }

    /// How many balances are owed.
    pub fn len(&self) -> usize {
        self.sums.len()
    }

    /// The sums owed, balance by balance: ((location, sku, lot), sum).
    pub fn iter(&self) -> impl Iterator<Item = ((&str, &str, &str), i64)> {
        self.sums.iter().filter_map(|(k, d)| Some((unpack(k)?, *d)))
    }

    /// The sums that change a balance, keyed by ids and in key order (so consecutive
    /// writes land on the same pages of the tree), each with its codes.
    fn owed_in_order(&self, tx: &Connection, ids: &mut Ids) -> Result<Vec<Owed<'_>>> {
        ids.keyed(
            tx,
            self.iter()
                .filter(|(_, d)| *d != 0)
                .map(|(codes, d)| (codes, (codes, d)))
                .collect(),
        )
    }

    /// Write every sum; returns the balances left negative, with their quantity.
    pub fn write(
        &self,
        tx: &Connection,
        ids: &mut Ids,
    ) -> Result<Vec<(String, String, String, i64)>> {
        let mut negative = Vec::new();
        for (key, ((location, sku, lot), delta)) in self.owed_in_order(tx, ids)? {
            let now = add_to_stock(tx, key, delta)?;
            if now < 0 {
                negative.push((location.to_string(), sku.to_string(), lot.to_string(), now));
            }
        }
        Ok(negative)
    }
}

/// A terminal's catch-up's movements summed per balance by ids, written in key order (as
/// [`BalanceSums`]) whenever the catch-up would otherwise wait for its next page, and
/// before the commit. Keyed by ids from the start: a movement costs three lookups of codes
/// the store keeps and two of small integer keys, and the sums need no translating at the
/// end.
#[derive(Debug, Default)]
pub(super) struct StockSums {
    /// (location id, item id, lot number in `lots`) -> sum.
    sums: FxHashMap<(i64, i64, usize), i64>,
    /// The lots met, numbered by first sight ("" is mostly the only one).
    lot_numbers: FxHashMap<Box<str>, usize>,
    lots: Vec<Box<str>>,
}

impl StockSums {
    /// Add an event's stock effect, if it has one; its item and locations must exist.
    pub fn add_event(&mut self, tx: &Connection, ids: &mut Ids, event: &Event) -> Result<()> {
        if let Some(m) = movement(event) {
            let item = ids.item(tx, m.sku)?;
            let lot = self.lot(m.lot);
            let from = ids.location(tx, m.from)?;
            let to = ids.location(tx, m.to)?;
            *self.sums.entry((from, item, lot)).or_default() -= m.qty;
            *self.sums.entry((to, item, lot)).or_default() += m.qty;
        }
        Ok(())
    }

    fn lot(&mut self, lot: &str) -> usize {
        if let Some(n) = self.lot_numbers.get(lot) {
            return *n;
        }
        let n = self.lots.len();
        self.lots.push(lot.into());
        self.lot_numbers.insert(lot.into(), n);
        n
    }

    /// Whether no movement was added since the sums were last written.
    pub fn is_empty(&self) -> bool {
        self.sums.is_empty()
    }

    /// Add every sum to its balance, one statement each and nothing read first, then
    /// remove the balances that reached zero: for a terminal, which need not know which
    /// went negative. The sums start again from nothing; the lots keep their numbers.
    pub fn write(&mut self, tx: &Connection) -> Result<()> {
        let mut owed: Vec<(StockKey<'_>, i64)> = self
            .sums
            .drain()
            .filter(|(_, d)| *d != 0)
            .filter_map(|((location, item, lot), d)| {
                let lot = self.lots.get(lot)?;
                Some(((location, item, &**lot), d))
            })
            .collect();
        if owed.is_empty() {
            return Ok(());
        }
        owed.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut add = tx.prepare_cached(
            "INSERT INTO stock (location_id, item_id, lot, qty) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (location_id, item_id, lot) DO UPDATE SET qty = qty + excluded.qty",
        )?;
        for ((location, item, lot), delta) in owed {
            add.execute(params![location, item, lot, delta])?;
        }
        tx.prepare_cached("DELETE FROM stock WHERE qty = 0")?
            .execute([])?;
        Ok(())
    }
}

/// A sum owed to a balance: its key by ids, then its codes and the sum.
type Owed<'a> = (StockKey<'a>, ((&'a str, &'a str, &'a str), i64));

#[cfg(test)]
mod tests {
    use super::*;

    /// A packed balance reads back as the codes it was made of, whatever they hold.
    #[test]
    fn a_packed_balance_unpacks_to_its_codes() {
        let cases = [
            ("DOCK-01", "SKU-1", ""),
            ("A:1", "12:3", "L:7"),
            ("", "", ""),
            ("3:x", "", "9"),
            ("Lager-Ä", "ÄÖÜ", "ß"),
        ];
        let mut key = String::new();
        for (location, sku, lot) in cases {
            pack(&mut key, location, sku, lot);
            assert_eq!(unpack(&key), Some((location, sku, lot)), "{key:?}");
        }
        assert_eq!(unpack("x:DOCK"), None);
        assert_eq!(unpack("9:DOCK"), None);
    }

    /// Movements sum per balance, and a balance's sum is found again whichever
    /// movement names it.
    #[test]
    fn movements_sum_per_balance() {
        let mut sums = BalanceSums::default();
        sums.add("SUPPLIER", "DOCK", "S1", "", 5);
        sums.add("DOCK", "A-1", "S1", "", 3);
        sums.add("DOCK", "A:1", "S1", "L", 2);
        let mut got: Vec<_> = sums.iter().collect();
        got.sort_unstable();
        assert_eq!(
            got,
            vec![
                (("A-1", "S1", ""), 3),
                (("A:1", "S1", "L"), 2),
                (("DOCK", "S1", ""), 2),
                (("DOCK", "S1", "L"), -2),
                (("SUPPLIER", "S1", ""), -5),
            ]
        );
        assert_eq!(sums.len(), 5);
    }

    /// A catch-up's sums reach the balances by ids: lots stay apart, movements that
    /// cancel out leave no row, a balance brought to zero is removed, and a movement
    /// naming an unknown item is refused.
    #[test]
    fn stock_sums_are_written_by_ids() -> Result<()> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(
            "CREATE TABLE locations (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);
             CREATE TABLE items (id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE);
             CREATE TABLE stock (location_id INTEGER NOT NULL, item_id INTEGER NOT NULL,
                 lot TEXT NOT NULL, qty INTEGER NOT NULL,
                 PRIMARY KEY (location_id, item_id, lot)) WITHOUT ROWID;
             INSERT INTO locations (id, code) VALUES (1, 'SUPPLIER'), (2, 'DOCK'), (3, 'A-1');
             INSERT INTO items (id, sku) VALUES (7, 'S1');
             INSERT INTO stock VALUES (2, 7, '', 4);",
        )?;
        let moved = |from: &str, to: &str, lot: &str, qty: i64| Event::StockMoved {
            sku: "S1".into(),
            lot: lot.into(),
            from: from.into(),
            to: to.into(),
            qty,
            reason: crate::domain::MoveReason::Transfer,
            receipt: None,
            order: None,
        };
        let mut ids = Ids::default();
        let mut sums = StockSums::default();
        for e in [
            moved("SUPPLIER", "DOCK", "L1", 5),
            moved("DOCK", "A-1", "L1", 5),
            moved("DOCK", "A-1", "", 4),
            moved("A-1", "DOCK", "", 1),
            moved("DOCK", "A-1", "", 1),
        ] {
            sums.add_event(&conn, &mut ids, &e)?;
        }
        sums.write(&conn)?;
        let mut stmt =
            conn.prepare("SELECT location_id, item_id, lot, qty FROM stock ORDER BY 1, 2, 3")?;
        let rows: Vec<(i64, i64, String, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        assert_eq!(
            rows,
            vec![
                (1, 7, "L1".to_string(), -5),
                (3, 7, String::new(), 4),
                (3, 7, "L1".to_string(), 5),
            ]
        );
        let err = sums
            .add_event(
                &conn,
                &mut ids,
                &Event::StockMoved {
                    sku: "NOPE".into(),
                    lot: String::new(),
                    from: "DOCK".into(),
                    to: "A-1".into(),
                    qty: 1,
                    reason: crate::domain::MoveReason::Transfer,
                    receipt: None,
                    order: None,
                },
            )
            .err()
            .map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("unknown item NOPE: nothing was saved"));
        Ok(())
    }
}
