//! The server's balances, folded from the journal behind the pushes.
//!
//! A push appends its accepted events to the journal and commits; it does not touch the
//! balances. Applying each movement to two random balance rows in the push's own
//! transaction made every push rewrite hundreds of scattered pages of the balance tree,
//! which cost more than everything else a push does. The projector folds many events at
//! once instead: it sums the movements past its mark per (location, sku, lot), applies
//! each sum once in key order, raises the merge exceptions for physical balances left
//! negative, and moves its mark, all in one transaction. So the balances are always
//! exactly the journal up to the mark.
//!
//! The background turns read new journal rows into sums in memory as pushes arrive,
//! and write them to the balances when pushes pause (or the sums have waited or grown
//! too long), so a burst of pushes is folded in one transaction after it. The mark moves
//! only with the balances; after a crash the sums are simply read again.
//!
//! Whoever reads the server's balances catches up first: opening a server store does,
//! and so do the snapshot and availability. The server runs the projector in the
//! background as well (see `server::upkeep`), so merge exceptions follow a push within
//! a moment.

use super::apply::BalanceSums;
use super::{Balances, Result, Store, StoreError, put_meta, record_by_server};
use crate::domain::permissions::SERVER_TERMINAL;
use crate::domain::{Event, LocationRole, MoveReason};
use chrono::Utc;
use rusqlite::params;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Meta key: the journal `ord` the server's balances include.
pub(super) const PROJECTED_THROUGH: &str = "balances.through";

/// Journal events a catch-up folds per transaction at most.
const PROJECTION_CHUNK: usize = 20_000;
/// Journal events a background turn reads: a few milliseconds of holding the store.
const UPKEEP_READ: usize = 5_000;
/// Above this many balances owed, a pull at the head writes them without looking first.
const OWED_CHECK_LIMIT: usize = 10_000;
/// The background turn writes the sums once no push came for this long...
const FLUSH_WHEN_QUIET_FOR: Duration = Duration::from_millis(250);
/// ...or when the oldest sum has waited this long (merge exceptions are raised then)...
const FLUSH_AT_THE_LATEST: Duration = Duration::from_secs(10);
/// ...or when this many balances are owed.
const FLUSH_AT_KEYS: usize = 200_000;

/// Movements read from the journal that the balances do not include yet: the sums per
/// balance of the journal rows after `from` up to `through`.
#[derive(Default)]
pub(super) struct Fold {
    /// Whether `from` and `through` were read from the store (or set by a flush).
    known: bool,
    /// The stored mark when the sums began.
    from: i64,
    /// The last journal row read into the sums.
    through: i64,
    /// Journal rows read (every kind).
    events: usize,
    sums: BalanceSums,
    /// What the counts read decided, recorded by the server when the sums are written:
    /// adjustments (movements) and exceptions for counts that were based on an old view.
    decided: Vec<Event>,
    /// The adjustments among `decided`, summed: later counts in the same fold see them.
    adjusted: BalanceSums,
    /// The balances a count in this fold decided on, with that count's journal row.
    counted: Vec<((String, String, String), i64)>,
    /// When the first row was read.
    since: Option<Instant>,
}

/// The event of the journal row `ord`, whose payload is `text`.
fn journaled(ord: i64, text: &str) -> Result<Event> {
    serde_json::from_str(text).map_err(|e| StoreError::CorruptJournal {
        ord,
        reason: e.to_string(),
    })
}

impl Fold {
    /// Keep what a count (journal row `ord`) decided.
    fn note_count(&mut self, ord: i64, count: &Event, decided: Vec<Event>) {
        if let Event::BinCounted {
            location, sku, lot, ..
        } = count
        {
            self.counted
                .push(((location.clone(), sku.clone(), lot.clone()), ord));
        }
        for e in decided {
            self.adjusted.add_event(&e);
            self.decided.push(e);
        }
    }
}

impl Store {
    /// What the server does with a count (journal row `ord`), as it folds the journal:
    /// when no one else moved that stock after the event the count was based on, the
    /// adjustment that makes the balance the counted quantity (none when it is already),
    /// between the location and its site's loss location; otherwise an exception for a
    /// supervisor to review, and no adjustment. The counter's own terminal's earlier
    /// movements (before its `seq`) do not count against it: it had made them before it
    /// counted. A count that saw every movement is the recount that the open exceptions
    /// on its balance asked for: it resolves them.
    fn decide_count(
        &self,
        ord: i64,
        terminal: &str,
        seq: i64,
        count: &Event,
    ) -> Result<Vec<Event>> {
        let Event::BinCounted {
            location,
            sku,
            lot,
            counted,
            basis,
        } = count
        else {
            return Ok(Vec::new());
        };
        let review = |reason: String| Event::ExceptionRaised {
            id: Uuid::now_v7().to_string(),
            location: location.clone(),
            sku: sku.clone(),
            lot: lot.clone(),
            qty: *counted,
            reason,
            recount: true,
        };
        let key = (location.clone(), sku.clone(), lot.clone());
        let mut moved_after = self
            .fold
            .counted
            .iter()
            .filter(|(k, at)| *k == key && *at > *basis)
            .map(|(_, at)| *at)
            .max();
        if moved_after.is_none() {
            moved_after = self.moved_between(*basis, ord, location, sku, lot, terminal, seq)?;
        }
        if let Some(at) = moved_after {
            return Ok(vec![review(format!(
                "a count of {counted} at {location} saw the stock up to event {basis}, \
                 but it moved at event {at}: review it and count again"
            ))]);
        }
        let before = self.balance(location, sku, lot)?
            + self.fold.sums.get(location, sku, lot)
            + self.fold.adjusted.get(location, sku, lot);
        let diff = counted - before;
        // The count saw every movement of the balance: it is the recount that its open
        // exceptions asked for.
        let mut decided = self.open_exceptions(location, sku, lot)?;
        // This fold's own decisions are not in the table yet.
        for e in &self.fold.decided {
            match e {
                Event::ExceptionRaised {
                    id,
                    location: l,
                    sku: s,
                    lot: o,
                    ..
                } if (l, s, o) == (location, sku, lot) => decided.push(id.clone()),
                Event::ExceptionResolved { id, .. } => decided.retain(|open| open != id),
                _ => {}
            }
        }
        let mut decided: Vec<Event> = decided
            .into_iter()
            .map(|id| Event::ExceptionResolved {
                id,
                resolution: format!("counted {counted} at {location}"),
            })
            .collect();
        if diff == 0 {
            return Ok(decided);
        }
        let site = self.location(location)?.map(|l| l.site).unwrap_or_default();
        let Some(loss) = self.default_location(&site, LocationRole::Loss)? else {
            return Ok(vec![review(format!(
                "a count of {counted} at {location} differs by {diff}, and site {site} \
                 has no loss location to adjust against: add one, then count again"
            ))]);
        };
        let (from, to) = if diff > 0 {
            (loss, location.clone())
        } else {
            (location.clone(), loss)
        };
        decided.push(Event::StockMoved {
            sku: sku.clone(),
            lot: lot.clone(),
            from,
            to,
            qty: diff.abs(),
            reason: MoveReason::Adjustment,
            receipt: None,
            order: None,
        });
        Ok(decided)
    }

    /// The last journal row after `after` and before `before` that moved (location,
    /// sku, lot), leaving out the rows of `terminal` before its `seq`.
    #[allow(clippy::too_many_arguments)]
    fn moved_between(
        &self,
        after: i64,
        before: i64,
        location: &str,
        sku: &str,
        lot: &str,
        terminal: &str,
        seq: i64,
    ) -> Result<Option<i64>> {
        // Rows that do not name the item are passed over unread.
        let named = format!("\"sku\":{}", serde_json::to_string(sku)?);
        let mut stmt = self.conn.prepare_cached(
            "SELECT ord, payload FROM journal
             WHERE ord > ?1 AND ord < ?2 AND kind = 'stock_moved'
               AND instr(payload, ?3) > 0 AND NOT (terminal = ?4 AND seq < ?5)
             ORDER BY ord DESC",
        )?;
        let mut rows = stmt.query(params![after, before, named, terminal, seq])?;
        while let Some(row) = rows.next()? {
            let ord: i64 = row.get(0)?;
            let event = journaled(ord, row.get_ref(1)?.as_str().unwrap_or_default())?;
            if let Event::StockMoved {
                sku: s,
                lot: l,
                from,
                to,
                ..
            } = &event
                && s == sku
                && l == lot
                && (from == location || to == location)
            {
                return Ok(Some(ord));
            }
        }
        Ok(None)
    }

    /// At open: a server store projects its balances; one that did not before (made by
    /// an older version, whose balances include every event) starts its mark at the
    /// head. Then catch up, so whoever opened it reads current balances.
    pub(super) fn start_projection(&mut self) -> Result<()> {
        let marked = self.meta(PROJECTED_THROUGH)?.is_some();
        // An unmarked store's balances include every event (a read-only one stays so).
        if !marked && (self.terminal != SERVER_TERMINAL || self.read_only) {
            return Ok(());
        }
        self.balances = Balances::Projected;
        if self.read_only {
            return Ok(());
        }
        if !marked {
            self.transact(|s| {
                let head: i64 =
                    s.conn
                        .query_row("SELECT COALESCE(MAX(ord), 0) FROM journal", [], |r| {
                            r.get(0)
                        })?;
                s.set_projected_through(head)
            })?;
        }
        self.catch_up()?;
        Ok(())
    }

    /// Whether balances follow the journal in the projector (a server store).
    pub fn projects_balances(&self) -> bool {
        self.balances == Balances::Projected
    }

    /// The journal `ord` the balances include; `None` on a store whose balances are
    /// applied with each event.
    pub fn projected_through(&self) -> Result<Option<i64>> {
        if !self.projects_balances() {
            return Ok(None);
        }
        Ok(Some(self.meta_number(PROJECTED_THROUGH)?))
    }

    /// For writes that applied their own balances to a store that was caught up.
    pub(super) fn move_mark_to_head(&self) -> Result<()> {
        self.set_projected_through(self.head()?)
    }

    /// Drop what the fold holds; the next read starts from the stored mark.
    pub(super) fn forget_fold(&mut self) {
        self.fold = Fold::default();
    }

    fn set_projected_through(&self, ord: i64) -> Result<()> {
        put_meta(&self.conn, PROJECTED_THROUGH, &ord.to_string())
    }

    /// Read up to `limit` journal events past what the fold holds into its sums (reads
    /// only). Returns how many were read.
    fn read_into_fold(&mut self, limit: usize) -> Result<usize> {
        if !self.fold.known || self.fold.events == 0 {
            let mark = self.projected_through()?.unwrap_or(0);
            self.fold = Fold {
                known: true,
                from: mark,
                through: mark,
                ..Fold::default()
            };
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT ord, kind, payload, terminal, seq FROM journal
             WHERE ord > ?1 ORDER BY ord LIMIT ?2",
        )?;
        let mut rows = stmt.query(params![
            self.fold.through,
            i64::try_from(limit).unwrap_or(i64::MAX)
        ])?;
        let mut read = 0;
        while let Some(row) = rows.next()? {
            let ord: i64 = row.get(0)?;
            read += 1;
            let kind = row.get_ref(1)?.as_str().unwrap_or_default();
            if kind == "stock_moved" || kind == "bin_counted" {
                let event = journaled(ord, row.get_ref(2)?.as_str().unwrap_or_default())?;
                if let Event::BinCounted { .. } = event {
                    let terminal = row.get_ref(3)?.as_str().unwrap_or_default();
                    let decided = self.decide_count(ord, terminal, row.get(4)?, &event)?;
                    self.fold.note_count(ord, &event, decided);
                } else {
                    self.fold.sums.add_event(&event);
                }
            }
            self.fold.through = ord;
            self.fold.events += 1;
            self.fold.since.get_or_insert_with(Instant::now);
        }
        Ok(read)
    }

    /// Apply the fold's sums to the balances in one transaction, in key order (so
    /// consecutive updates land on the same pages), raise the merge exceptions and move
    /// the mark. If another connection moved the mark meanwhile, the sums are stale: they
    /// are dropped and read again next time.
    /// Returns how many journal rows the balances took in; `None` if the sums were stale.
    fn flush_fold(&mut self) -> Result<Option<usize>> {
        if self.fold.events == 0 {
            return Ok(Some(0));
        }
        let fold = std::mem::take(&mut self.fold);
        // A flush writes balances and exceptions, no reference data.
        let out = self.transact_keeping_seen(|s| {
            if s.projected_through()?.unwrap_or(0) != fold.from {
                return Ok(None);
            }
            // What this flush appends goes at the end of the journal. When the fold had
            // read up to the end, the mark includes it, so the next pushes continue the
            // fold: the counts' adjustments are then written with these sums. Otherwise
            // a later read folds the adjustments like any movement (and passes over the
            // exceptions, which move no stock).
            let caught_up = s.head()? == fold.through;
            let negative = if caught_up && fold.adjusted.len() > 0 {
                let mut sums = fold.sums.clone();
                fold.decided.iter().for_each(|e| sums.add_event(e));
                sums.write(&s.conn, &mut s.ids)?
            } else {
                fold.sums.write(&s.conn, &mut s.ids)?
            };
            // The counts' decisions first: an exception a count resolved is closed before
            // the merge exceptions are raised, so a balance that went negative again
            // after the count gets a new one.
            let decided = record_by_server(s, Utc::now(), &fold.decided)?;
            let raised = record_by_server(s, Utc::now(), &s.merge_exceptions(&negative)?)?;
            let mut mark = fold.through;
            if !(decided.is_empty() && raised.is_empty()) && caught_up {
                mark = s.head()?;
            }
            s.set_projected_through(mark)?;
            Ok(Some(mark))
        });
        match out {
            Ok(Some(mark)) => {
                self.fold = Fold {
                    known: true,
                    from: mark,
                    through: mark,
                    ..Fold::default()
                };
                Ok(Some(fold.events))
            }
            // Stale: read again from the stored mark.
            Ok(None) => Ok(None),
            Err(e) => {
                // Nothing was written: the sums are still owed.
                self.fold = fold;
                Err(e)
            }
        }
    }

    /// Whether writing what the journal holds past the mark would raise a merge
    /// exception (a physical balance it takes below zero that has no open exception) or
    /// record what a count decided.
    /// Reads only. A large backlog counts as yes (it is worth writing anyway).
    pub(super) fn fold_owes_exceptions(&mut self) -> Result<bool> {
        if !self.projects_balances() || self.read_only {
            return Ok(false);
        }
        if self.read_into_fold(PROJECTION_CHUNK)? == PROJECTION_CHUNK
            || self.fold.sums.len() > OWED_CHECK_LIMIT
            || !self.fold.decided.is_empty()
        {
            return Ok(true);
        }
        let mut negative = Vec::new();
        for ((location, sku, lot), delta) in self.fold.sums.iter() {
            if delta < 0 {
                let now = self.balance(location, sku, lot)? + delta;
                if now < 0 {
                    negative.push((location.to_string(), sku.to_string(), lot.to_string(), now));
                }
            }
        }
        Ok(!self.merge_exceptions(&negative)?.is_empty())
    }

    /// Add the movements a push just committed (journal `ord`, event) to the sums, so
    /// the background turn need not read them back. Only when they continue the fold
    /// exactly; otherwise the turn reads them from the journal as usual.
    pub(super) fn fold_appended<'a>(
        &mut self,
        appended: impl IntoIterator<Item = (i64, &'a Event)>,
    ) {
        if !self.projects_balances() || !self.fold.known {
            return;
        }
        for (ord, event) in appended {
            // A count is decided when read from the journal.
            if ord != self.fold.through + 1 || matches!(event, Event::BinCounted { .. }) {
                return;
            }
            self.fold.sums.add_event(event);
            self.fold.through = ord;
            self.fold.events += 1;
            self.fold.since.get_or_insert_with(Instant::now);
        }
    }

    /// Read up to `limit` more journal events and write everything the fold holds to
    /// the balances now (the pushes' movements it was given included). Returns how many
    /// journal rows the balances took in: 0 when they were current (and on a store that
    /// applies balances with each event).
    pub fn project_balances(&mut self, limit: usize) -> Result<usize> {
        if !self.projects_balances() || self.read_only {
            return Ok(0);
        }
        self.read_into_fold(limit)?;
        if let Some(n) = self.flush_fold()? {
            return Ok(n);
        }
        // Another connection folded first: start again from its mark.
        self.read_into_fold(limit)?;
        Ok(self.flush_fold()?.unwrap_or(0))
    }

    /// The server's background turn: read what was appended since, and write the sums
    /// to the balances once pushes pause, or when they have waited long or grown large;
    /// while pushes pause, checkpoint the WAL.
    /// Returns `true` while there is more to read right away.
    pub fn upkeep(&mut self) -> Result<bool> {
        if !self.projects_balances() || self.read_only {
            return Ok(false);
        }
        self.end_leftover_transaction();
        let read = self.read_into_fold(UPKEEP_READ)?;
        let more = read == UPKEEP_READ;
        let quiet = self
            .last_push
            .is_none_or(|t| t.elapsed() >= FLUSH_WHEN_QUIET_FOR);
        let waited = self
            .fold
            .since
            .is_some_and(|t| t.elapsed() >= FLUSH_AT_THE_LATEST);
        if (!more && quiet) || waited || self.fold.sums.len() >= FLUSH_AT_KEYS {
            self.flush_fold()?;
        }
        if !more && quiet {
            // Copy the WAL into the database while pushes pause, so a push's commit
            // rarely pays for SQLite's own checkpoint (a large flush leaves tens of MB).
            // Cheap when there is nothing to copy.
            self.checkpoint()?;
        }
        Ok(more)
    }

    /// Fold everything the balances do not include yet, including what the background
    /// turns have read. Returns how many events were read.
    pub fn catch_up(&mut self) -> Result<usize> {
        let mut total = 0;
        // Sums found stale (another connection folded first) fold nothing; they are read
        // again from the new mark, so go on until the mark is at the head.
        let mut stale = 0;
        while stale < 3 {
            let n = self.project_balances(PROJECTION_CHUNK)?;
            total += n;
            if n == 0 {
                if self.projected_through()? >= Some(self.head()?) || !self.projects_balances() {
                    break;
                }
                stale += 1;
            }
        }
        Ok(total)
    }
}
