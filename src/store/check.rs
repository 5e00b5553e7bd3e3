//! `floorhand check`: the invariants of the store, verified from scratch.

use super::{Result, Store};
use crate::domain::Event;
use rusqlite::params;
use serde::Serialize;
use std::collections::HashMap;

/// One invariant and what breaks it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CheckItem {
    pub name: &'static str,
    pub ok: bool,
    /// Each violation, named so a person can find it.
    pub violations: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CheckReport {
    pub ok: bool,
    pub checks: Vec<CheckItem>,
}

/// At most this many violations are listed per check; the count says how many more.
const MAX_LISTED: usize = 50;

impl Store {
    /// Verify every invariant of the store. Reading only; never repairs anything.
    pub fn check(&self) -> Result<CheckReport> {
        // One read transaction: the journal and the projections as of one moment, even
        // while another connection writes.
        let began = self.conn.is_autocommit() && self.conn.execute_batch("BEGIN").is_ok();
        let checks = self.checks();
        if began {
            let _ = self.conn.execute_batch("COMMIT");
        }
        let checks = checks?;
        Ok(CheckReport {
            ok: checks.iter().all(|c| c.ok),
            checks,
        })
    }

    fn checks(&self) -> Result<Vec<CheckItem>> {
        Ok(vec![
            item("integrity", self.integrity()?),
            item("foreign_keys", self.foreign_keys()?),
            item("conservation", self.conservation()?),
            item("balances_equal_replay", self.replay()?),
            item("no_negative_physical", self.negative_physical()?),
            item("terminal_sequences_gapless", self.gapless()?),
        ])
    }

    fn strings(&self, sql: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn integrity(&self) -> Result<Vec<String>> {
        let rows = self.strings("PRAGMA integrity_check")?;
        Ok(rows.into_iter().filter(|r| r != "ok").collect())
    }

    fn foreign_keys(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("PRAGMA foreign_key_check")?;
        let rows = stmt.query_map([], |r| {
            Ok(format!(
                "{} row {} references missing {}",
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?
                    .map_or("?".into(), |v| v.to_string()),
                r.get::<_, String>(2)?
            ))
        })?;
        let mut out: Vec<String> = rows.collect::<rusqlite::Result<_>>()?;
        // `stock` keys by ids without declared foreign keys (see migration 6).
        out.extend(self.strings(
            "SELECT 'stock row (location id ' || s.location_id || ', item id ' || s.item_id
                    || ', lot ' || quote(s.lot) || ') references missing '
                    || CASE WHEN l.id IS NULL THEN 'locations' ELSE 'items' END
             FROM stock s LEFT JOIN locations l ON l.id = s.location_id
             LEFT JOIN items i ON i.id = s.item_id
             WHERE l.id IS NULL OR i.id IS NULL",
        )?);
        Ok(out)
    }

    fn conservation(&self) -> Result<Vec<String>> {
        self.strings(
            "SELECT 'item ' || i.sku || CASE s.lot WHEN '' THEN '' ELSE ' lot ' || s.lot END
                    || ' sums to ' || SUM(s.qty) || ' over all locations, not 0'
             FROM stock s JOIN items i ON i.id = s.item_id
             GROUP BY s.item_id, s.lot HAVING SUM(s.qty) != 0",
        )
    }

    /// Replay every movement in the journal and compare with the balances projection.
    fn replay(&self) -> Result<Vec<String>> {
        // A bootstrapped terminal starts from its snapshot's balances.
        let mut expected: HashMap<(String, String, String), i64> = HashMap::new();
        {
            let mut stmt = self
                .conn
                .prepare("SELECT location, sku, lot, qty FROM baseline")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                expected.insert((r.get(0)?, r.get(1)?, r.get(2)?), r.get(3)?);
            }
        }
        let mut out = Vec::new();
        // The server's balances are the journal up to the projector's mark.
        let through = self.projected_through()?.unwrap_or(i64::MAX);
        // Events the server rejected were taken back from the stock on this terminal. The
        // baseline holds the journal up to its row, except the own events after the seq
        // the snapshot included (those were pending, and applied on top).
        let (baseline_ord, baseline_sent) = (
            self.meta_number(super::sync::BASELINE_ORD)?,
            self.meta_number(super::sync::BASELINE_SENT)?,
        );
        let mut stmt = self.conn.prepare(
            "SELECT ord, kind, payload FROM journal j
             WHERE ord <= ?1
               AND (ord > ?2 OR (terminal = ?3 AND seq > ?4))
               AND NOT EXISTS (SELECT 1 FROM sync_results r WHERE r.id = j.id AND r.reason IS NOT NULL)
             ORDER BY ord",
        )?;
        let mut rows = stmt.query(params![through, baseline_ord, self.terminal, baseline_sent])?;
        while let Some(r) = rows.next()? {
            let ord: i64 = r.get(0)?;
            let kind: String = r.get(1)?;
            let payload: String = r.get(2)?;
            match serde_json::from_str::<Event>(&payload) {
                Ok(e) if e.kind() != kind => {
                    out.push(format!(
                        "journal row {ord}: kind {kind} but payload is {}",
                        e.kind()
                    ));
                }
                Ok(Event::StockMoved {
                    sku,
                    lot,
                    from,
                    to,
                    qty,
                    ..
                }) => {
                    *expected
                        .entry((from, sku.clone(), lot.clone()))
                        .or_default() -= qty;
                    *expected.entry((to, sku, lot)).or_default() += qty;
                }
                Ok(_) => {}
                Err(e) => out.push(format!("journal row {ord}: unreadable payload: {e}")),
            }
        }
        let mut stmt = self
            .conn
            .prepare("SELECT location, sku, lot, qty FROM balances")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let key: (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let qty: i64 = r.get(3)?;
            let want = expected.remove(&key).unwrap_or(0);
            if want != qty {
                out.push(format!(
                    "{} {} {}: balance {qty}, journal replay {want}",
                    key.0, key.1, key.2
                ));
            }
        }
        let mut missing: Vec<_> = expected.into_iter().filter(|(_, q)| *q != 0).collect();
        missing.sort();
        for ((loc, sku, lot), want) in missing {
            out.push(format!(
                "{loc} {sku} {lot}: no balance, journal replay {want}"
            ));
        }
        Ok(out)
    }

    /// Negative physical balances, except those the server already raised as an open
    /// exception (a merge of real movements; a recount settles it).
    fn negative_physical(&self) -> Result<Vec<String>> {
        self.strings(
            "SELECT b.location || ' holds ' || b.qty || ' of ' || b.sku
                    || CASE b.lot WHEN '' THEN '' ELSE ' lot ' || b.lot END
             FROM balances b JOIN locations l ON l.code = b.location
             WHERE l.kind = 'physical' AND b.qty < 0
               AND NOT EXISTS (SELECT 1 FROM exceptions e WHERE e.location = b.location
                               AND e.sku = b.sku AND e.lot = b.lot AND e.state = 'open')
             ORDER BY b.location, b.sku",
        )
    }

    /// Each terminal's sequence runs 1..n. A terminal vouches for its own sequence; the
    /// server, which also holds the events it rejected, for every terminal's. (Events
    /// pulled from other terminals may have gaps where the server rejected one.)
    fn gapless(&self) -> Result<Vec<String>> {
        // UNIQUE (terminal, seq) rules out duplicates, so the sequence is gapless exactly
        // when it starts at 1 and its maximum equals its count.
        let mut stmt = self.conn.prepare(
            "SELECT 'terminal ' || terminal || ': ' || COUNT(*) || ' events but sequence runs '
                    || MIN(seq) || '..' || MAX(seq)
             FROM (SELECT terminal, seq FROM journal
                   UNION ALL SELECT terminal, seq FROM rejected_events)
             WHERE ?1 = 'server' OR terminal = ?1
             GROUP BY terminal HAVING MIN(seq) != 1 OR MAX(seq) != COUNT(*)",
        )?;
        let rows = stmt.query_map([&self.terminal], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn item(name: &'static str, mut violations: Vec<String>) -> CheckItem {
    let total = violations.len();
    if total > MAX_LISTED {
        violations.truncate(MAX_LISTED);
        violations.push(format!("... and {} more", total - MAX_LISTED));
    }
    CheckItem {
        name,
        ok: total == 0,
        violations,
    }
}
