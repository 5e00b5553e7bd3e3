//! The terminal's side of sync: its enrolment, the outbox of pending events, the answers
//! the server gave, the pull cursor, and applying pulled events and snapshots.

use super::apply::StockSums;
use super::{Balances, Known, Result, Store, StoreError, append_with, put_meta};
use crate::domain::Event;
use crate::domain::permissions::SERVER_TERMINAL;
use crate::sync::wire::{Ordered, Pulled, PushResult, Snapshot, SnapshotBalance, WireEvent};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use std::time::Duration;

const SERVER: &str = "sync.server";
const TOKEN: &str = "sync.token";
const TERMINAL: &str = "sync.terminal";
const SITE: &str = "sync.site";
const CURSOR: &str = "sync.cursor";
const LAST_SYNC: &str = "sync.last";
const BOOTSTRAPPED: &str = "sync.bootstrapped";
/// The last journal row when the baseline was loaded, and the own events the snapshot
/// included (up to that seq): `check` replays what came after them on top of it.
pub(super) const BASELINE_ORD: &str = "sync.baseline_ord";
pub(super) const BASELINE_SENT: &str = "sync.baseline_sent";
/// Every own event up to this seq has the server's answer: the outbox starts after it.
const ANSWERED: &str = "sync.answered";

/// The most pulled events one transaction of a catch-up applies.
const PULL_TRANSACTION: usize = 100_000;
/// How long, in all, a catch-up's transaction stays open waiting for pages.
const HOLD_FOR_AT_MOST: Duration = Duration::from_millis(250);
/// How often a catch-up waiting for a page looks for floor writers waiting for it.
const PAGE_WAIT_SLICE: Duration = Duration::from_millis(2);
/// How long a catch-up that stepped aside waits for the writers it let go first.
const LET_IN_FOR_AT_MOST: Duration = Duration::from_secs(1);

/// Where a catch-up's pages come from, and where they go once applied (see
/// [`Store::apply_pulled_pages`]). A closure that answers `next` is one, freeing each page
/// where it was applied.
pub trait Pages {
    /// The next page in server order. `None` waits as long as it takes (a `NotYet` answer
    /// is asked again); `Some(d)` waits at most `d`, and `Some(Duration::ZERO)` only asks
    /// whether a page is there.
    fn next(&mut self, wait: Option<Duration>) -> NextPage;

    /// A page that was applied, handed back. Freeing a page of thousands of events takes
    /// milliseconds, in which the store could apply the next one: a caller with a thread
    /// to spare frees it there. By default it is freed here.
    fn applied(&mut self, page: Vec<Ordered<Pulled>>) {
        drop(page);
    }
}

impl<F: FnMut(Option<Duration>) -> NextPage> Pages for F {
    fn next(&mut self, wait: Option<Duration>) -> NextPage {
        self(wait)
    }
}

/// What [`Pages::next`] answers when [`Store::apply_pulled_pages`] asks for a page.
#[derive(Debug)]
pub enum NextPage {
    /// The next page, in server order.
    Ready(Vec<Ordered<Pulled>>),
    /// More will come, but not yet.
    NotYet,
    /// The catch-up is over.
    End,
}

/// Where this terminal syncs, once enrolled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub server: String,
    pub terminal: String,
    pub site: String,
    pub token: String,
}

/// An own event the server refused, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedEvent {
    pub seq: i64,
    pub id: String,
    pub user: String,
    pub at: String,
    pub kind: String,
    pub reason: String,
}

impl Store {
    /// The enrolment of this store, if it has one.
    pub fn enrolment(&self) -> Result<Option<Enrolment>> {
        let get = |k| self.meta(k);
        match (get(SERVER)?, get(TERMINAL)?, get(SITE)?, get(TOKEN)?) {
            (Some(server), Some(terminal), Some(site), Some(token)) => Ok(Some(Enrolment {
                server,
                terminal,
                site,
                token,
            })),
            _ => Ok(None),
        }
    }

    /// Remember the enrolment. Events written before under another terminal id would
    /// break the server's sequence rules, so a store that has them is refused.
    pub fn set_enrolment(&mut self, e: &Enrolment) -> Result<()> {
        // Events pulled from others are fine, and so are own events the server has
        // answered; own events still pending under another id are not.
        let others: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM journal j WHERE j.terminal = ?2 AND j.terminal != ?1
             AND NOT EXISTS (SELECT 1 FROM sync_results r WHERE r.id = j.id)",
            [&e.terminal, &self.terminal],
            |r| r.get(0),
        )?;
        if others > 0 {
            return Err(StoreError::Rejected(format!(
                "this store holds events of another terminal id than {}: enrol a new store",
                e.terminal
            )));
        }
        self.transact(|s| {
            for (k, v) in [
                (SERVER, &e.server),
                (TERMINAL, &e.terminal),
                (SITE, &e.site),
                (TOKEN, &e.token),
            ] {
                put_meta(&s.conn, k, v)?;
            }
            Ok(())
        })?;
        self.terminal = e.terminal.clone();
        Ok(())
    }

    /// The terminal id of an enrolled store overrides the configured one.
    pub(super) fn adopt_enrolled_terminal(&mut self) -> Result<()> {
        if let Some(t) = self.meta(TERMINAL)? {
            self.terminal = t;
        }
        Ok(())
    }

    /// Own events the server has not answered yet, oldest first.
    pub fn pending(&self, limit: usize) -> Result<Vec<WireEvent>> {
        self.pending_after(0, limit)
    }

    /// Own events after sequence number `after` the server has not answered yet (those
    /// up to `after` are on their way), oldest first.
    pub fn pending_after(&self, after: i64, limit: usize) -> Result<Vec<WireEvent>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT j.id, j.terminal, j.seq, j.user, j.at, j.payload FROM journal j
             WHERE j.terminal = ?1 AND j.seq > ?3
               AND NOT EXISTS (SELECT 1 FROM sync_results r WHERE r.id = j.id)
             ORDER BY j.seq LIMIT ?2",
        )?;
        let answered = self.answered()?.max(after);
        let rows = stmt.query_map(params![self.terminal, limit as i64, answered], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, terminal, seq, user, at, payload) = row?;
            let event: Event =
                serde_json::from_str(&payload).map_err(|e| StoreError::CorruptJournal {
                    ord: seq,
                    reason: e.to_string(),
                })?;
            out.push(WireEvent {
                id,
                terminal,
                seq,
                user,
                at,
                event,
            });
        }
        Ok(out)
    }

    pub fn pending_count(&self) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM journal j WHERE j.terminal = ?1 AND j.seq > ?2
             AND NOT EXISTS (SELECT 1 FROM sync_results r WHERE r.id = j.id)",
            )?
            .query_row(params![self.terminal, self.answered()?], |r| r.get(0))?)
    }

    fn answered(&self) -> Result<i64> {
        self.meta_number(ANSWERED)
    }

    /// Move the answered-up-to marker past every own event that has its answer, so the
    /// outbox queries never read the answered ones again.
    fn advance_answered(&self) -> Result<()> {
        let from = self.answered()?;
        let next: i64 = self
            .conn
            .prepare_cached(
                "SELECT COALESCE(
                     (SELECT MIN(j.seq) - 1 FROM journal j WHERE j.terminal = ?1 AND j.seq > ?2
                      AND NOT EXISTS (SELECT 1 FROM sync_results r WHERE r.id = j.id)),
                     (SELECT MAX(seq) FROM journal WHERE terminal = ?1), 0)",
            )?
            .query_row(params![self.terminal, from], |r| r.get(0))?;
        if next > from {
            put_meta(&self.conn, ANSWERED, &next.to_string())?;
        }
        Ok(())
    }

    /// Own events the server rejected, with the reasons.
    pub fn rejected_events(&self) -> Result<Vec<RejectedEvent>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT j.seq, j.id, j.user, j.at, j.kind, r.reason FROM journal j
             JOIN sync_results r ON r.id = j.id
             WHERE r.reason IS NOT NULL ORDER BY j.seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(RejectedEvent {
                seq: r.get(0)?,
                id: r.get(1)?,
                user: r.get(2)?,
                at: r.get(3)?,
                kind: r.get(4)?,
                reason: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn rejected_count(&self) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM sync_results WHERE reason IS NOT NULL")?
            .query_row([], |r| r.get(0))?)
    }

    /// Record the server's answers to pushed events. An answer repeated (a resend after
    /// a lost response) is ignored; an answer that contradicts an earlier one is refused.
    pub fn record_push_results(&mut self, results: &[PushResult]) -> Result<()> {
        self.transact(|s| {
            for r in results {
                let (id, gseq, reason) = match r {
                    PushResult::Accepted { id, gseq, .. } => (id, Some(*gseq), None),
                    PushResult::Rejected { id, reason, .. } => (id, None, Some(reason.as_str())),
                };
                // Mostly a first answer: one insert. Only a repeated one is read back.
                let inserted = s
                    .conn
                    .prepare_cached(
                        "INSERT INTO sync_results (id, gseq, reason) VALUES (?1, ?2, ?3)
                         ON CONFLICT (id) DO NOTHING",
                    )?
                    .execute(params![id, gseq, reason])?;
                if inserted == 1 {
                    if reason.is_some() {
                        undo_rejected(&s.conn, id)?;
                    }
                    continue;
                }
                let before: (Option<i64>, Option<String>) = s
                    .conn
                    .prepare_cached("SELECT gseq, reason FROM sync_results WHERE id = ?1")?
                    .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))?;
                match before {
                    (g, _) if g.is_some() && g == gseq => {}
                    (None, Some(why)) if gseq.is_none() && reason == Some(why.as_str()) => {}
                    _ => {
                        return Err(StoreError::Rejected(format!(
                            "the server answered event {id} twice, differently"
                        )));
                    }
                }
            }
            s.advance_answered()
        })
    }

    /// The last global sequence number pulled.
    pub fn cursor(&self) -> Result<i64> {
        self.meta_number(CURSOR)
    }

    pub fn last_sync(&self) -> Result<Option<String>> {
        self.meta(LAST_SYNC)
    }

    pub fn set_last_sync(&mut self, at: &str) -> Result<()> {
        self.set_meta(LAST_SYNC, at)
    }

    /// Apply pulled events in server order, in one transaction with the new cursor. Own
    /// events coming back are marked synced; others' are appended to the journal and
    /// applied, each once. Returns how many were applied.
    pub fn apply_pulled(&mut self, events: &[Ordered]) -> Result<usize> {
        if events.is_empty() {
            return Ok(0);
        }
        let mut page = Some(
            events
                .iter()
                .map(|o| o.clone().try_map(Pulled::new))
                .collect::<std::result::Result<Vec<_>, _>>()?,
        );
        self.apply_pulled_pages(&mut |_: Option<Duration>| {
            page.take().map_or(NextPage::End, NextPage::Ready)
        })
    }

    /// Apply a catch-up's pages as `pages` hands them over, like [`Store::apply_pulled`],
    /// in as few transactions as the floor allows: each commit rewrites every balance
    /// page it touched, so a long catch-up in few transactions rewrites them few times.
    ///
    /// A transaction takes pages until `PULL_TRANSACTION` (100,000) events, the end, or
    /// `HOLD_FOR_AT_MOST` (250 ms in all) spent waiting for pages; and it commits as soon
    /// as a writer of this database in this process waits for the write lock, then lets
    /// that writer go first (see `gate.rs`). So a floor screen waits for the page being
    /// applied, the balance writes under way or owed and the commit, never for the whole
    /// catch-up: up to about 0.3 s for a full transaction on the benchmark machine.
    /// Writers in other processes are not counted; they retry until the transaction
    /// ends.
    ///
    /// Each page goes back to `pages` once applied. Returns how many events were applied;
    /// what was committed stays if a later page never comes.
    pub fn apply_pulled_pages(&mut self, pages: &mut dyn Pages) -> Result<usize> {
        let (mut applied, mut ended) = (0, false);
        while !ended {
            let first = match pages.next(None) {
                NextPage::Ready(page) => page,
                // Between transactions nothing is held: ask again.
                NextPage::NotYet => continue,
                NextPage::End => break,
            };
            let mut stepped_aside = false;
            applied += self.transact(|s| {
                let from = s.cursor()?;
                let mut cursor = from;
                let (mut applied, mut taken) = (0, 0);
                // The movements are summed per balance and written in key order, so the
                // writes walk the balance tree in order: whenever the next page is not
                // there yet, and before the commit. Where fetching a page takes longer
                // than applying it (as on the benchmark), most of the writing is done by
                // the time the last page comes, instead of all of it after.
                let mut sums = StockSums::default();
                let mut page = Some(first);
                // Time this transaction has held the write lock waiting for pages.
                let mut held = Duration::ZERO;
                while let Some(events) = page.take() {
                    applied += s.apply_page(&events, cursor, &mut sums)?;
                    taken += events.len();
                    cursor = events.last().map_or(cursor, |e| e.gseq.max(cursor));
                    while taken < PULL_TRANSACTION && held < HOLD_FOR_AT_MOST {
                        if s.gate.waiting() > 0 {
                            stepped_aside = true;
                            break;
                        }
                        let owed = !sums.is_empty();
                        match pages.next(Some(if owed {
                            Duration::ZERO
                        } else {
                            PAGE_WAIT_SLICE
                        })) {
                            NextPage::Ready(p) => {
                                page = Some(p);
                                break;
                            }
                            NextPage::NotYet if owed => sums.write(&s.conn)?,
                            NextPage::NotYet => held += PAGE_WAIT_SLICE,
                            NextPage::End => {
                                ended = true;
                                break;
                            }
                        }
                    }
                    pages.applied(events);
                }
                sums.write(&s.conn)?;
                s.pulled_up_to(from, cursor)?;
                Ok(applied)
            })?;
            if stepped_aside {
                self.gate.let_in(LET_IN_FOR_AT_MOST);
            }
        }
        Ok(applied)
    }

    /// How many writers of this database in this process wait for its write lock now.
    pub fn writers_waiting(&self) -> usize {
        self.gate.waiting()
    }

    /// Before a catch-up's transaction commits: move the cursor from `from` to `to`, and
    /// the outbox past the own events the pages answered. Nothing when it did not move.
    fn pulled_up_to(&mut self, from: i64, to: i64) -> Result<()> {
        if to <= from {
            return Ok(());
        }
        put_meta(&self.conn, CURSOR, &to.to_string())?;
        self.advance_answered()
    }

    /// One page of a catch-up, inside its transaction: events after `cursor` only.
    fn apply_page(
        &mut self,
        events: &[Ordered<Pulled>],
        cursor: i64,
        sums: &mut StockSums,
    ) -> Result<usize> {
        let mut applied = 0;
        if self.balances == Balances::Now {
            // Look up the ids of the page's movements at once: the cache reads a whole
            // table in one scan when many are missing (the first page of a catch-up
            // after a start), one query per code otherwise.
            self.ids.fill(
                &self.conn,
                events
                    .iter()
                    .flat_map(|o| movement_codes(&o.event.event.event)),
            )?;
        }
        for o in events.iter().filter(|o| o.gseq > cursor) {
            let e = &o.event;
            if e.terminal == self.terminal {
                self.conn
                    .prepare_cached(
                        "INSERT INTO sync_results (id, gseq) VALUES (?1, ?2)
                         ON CONFLICT (id) DO NOTHING",
                    )?
                    .execute(params![e.id, o.gseq])?;
                continue;
            }
            // Another terminal's event: the journal keeps it once (a page pulled again
            // changes nothing), and only this terminal's own events have a row in
            // `sync_results`.
            let added = append_with(&self.conn, Known::Skipped, Balances::Projected, &e.into())?;
            if added.is_some() {
                if self.balances == Balances::Now {
                    sums.add_event(&self.conn, &mut self.ids, &e.event.event)?;
                }
                applied += 1;
            }
        }
        Ok(applied)
    }

    /// A snapshot's balances, as the balances and as the baseline `check` replays the
    /// journal from: the balances in key order, by ids.
    fn load_balances(&mut self, balances: &[SnapshotBalance]) -> Result<()> {
        let conn = &self.conn;
        let mut baseline = conn.prepare_cached(
            "INSERT INTO baseline (location, sku, lot, qty) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for b in balances {
            baseline.execute(params![b.location, b.sku, b.lot, b.qty])?;
        }
        let rows = self.ids.keyed(
            conn,
            balances
                .iter()
                .map(|b| ((b.location.as_str(), b.sku.as_str(), b.lot.as_str()), b.qty))
                .collect(),
        )?;
        let mut insert = conn.prepare_cached(
            "INSERT INTO stock (location_id, item_id, lot, qty) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for ((location, item, lot), qty) in rows {
            insert.execute(params![location, item, lot, qty])?;
        }
        Ok(())
    }

    pub fn is_bootstrapped(&self) -> Result<bool> {
        Ok(self.meta(BOOTSTRAPPED)?.is_some())
    }

    /// Load a site snapshot into a terminal that has never synced: reference data,
    /// document progress and balances as of the snapshot (the balances kept as the
    /// baseline). The terminal's own events, all still pending, are applied again on top,
    /// so nothing pending is lost. Everything happens in one transaction, so a movement
    /// recorded meanwhile by another connection is either before it or after it.
    pub fn bootstrap(&mut self, snapshot: &Snapshot) -> Result<()> {
        self.transact(|s| {
            let synced: i64 = s
                .conn
                .query_row("SELECT COUNT(*) FROM sync_results", [], |r| r.get(0))?;
            if synced > 0 || s.meta(BOOTSTRAPPED)?.is_some() {
                return Err(StoreError::Rejected("this store has synced already".into()));
            }
            s.load_snapshot(snapshot).map(|_| ())
        })
    }

    /// Load a site snapshot into a terminal that has synced before, in place of what it
    /// built from its pulls: for a terminal whose projections went wrong, or that was
    /// away so long that loading the site is quicker than pulling it. Like a bootstrap it
    /// keeps every pending event and applies it again on top; own events the server
    /// already has are in the snapshot. Returns how many pending events were kept.
    ///
    /// Refused, changing nothing, when the snapshot cannot stand in for this store:
    /// - the server is behind what this terminal pulled, or lacks events it accepted
    ///   from it (its store was restored from an older copy: a resync would drop what
    ///   the server lost);
    /// - events sent to the server have no recorded answer yet (another connection is
    ///   syncing; the snapshot may or may not include them).
    pub fn resync(&mut self, snapshot: &Snapshot) -> Result<usize> {
        self.transact(|s| {
            let cursor = s.cursor()?;
            if cursor > snapshot.gseq {
                return Err(StoreError::Rejected(format!(
                    "the server's snapshot ends at event {}, before event {cursor} that this \
                     terminal has pulled: if the server's store was restored from an older \
                     copy, a resync would drop what it lost. Call IT",
                    snapshot.gseq
                )));
            }
            let own = |sql: &str| -> Result<i64> {
                Ok(s.conn
                    .prepare_cached(sql)?
                    .query_row(params![s.terminal, snapshot.sent], |r| r.get(0))?)
            };
            let lost = own(
                "SELECT COUNT(*) FROM journal j JOIN sync_results r ON r.id = j.id
                 WHERE j.terminal = ?1 AND j.seq > ?2",
            )?;
            if lost > 0 && snapshot.sent == 0 {
                return Err(StoreError::Rejected(format!(
                    "the server holds none of the {lost} events it answered for this \
                     terminal: its store was restored from an older copy, or it runs an older \
                     version that does not say. Call IT"
                )));
            }
            if lost > 0 {
                return Err(StoreError::Rejected(format!(
                    "the server holds this terminal's events up to seq {} only, and had \
                     answered {lost} after it: its store was restored from an older copy. \
                     Call IT",
                    snapshot.sent
                )));
            }
            let unanswered = own(
                "SELECT COUNT(*) FROM journal j WHERE j.terminal = ?1 AND j.seq <= ?2
                 AND NOT EXISTS (SELECT 1 FROM sync_results r WHERE r.id = j.id)",
            )?;
            if unanswered > 0 {
                return Err(StoreError::Rejected(format!(
                    "{unanswered} events sent to the server have no recorded answer yet: \
                     sync, then resync"
                )));
            }
            s.load_snapshot(snapshot)
        })
    }

    /// Replace what the snapshot provides, inside the caller's transaction, and apply
    /// the pending events again; the caller has made sure the snapshot includes every
    /// own event that is not pending. Returns how many pending events were applied.
    fn load_snapshot(&mut self, snapshot: &Snapshot) -> Result<usize> {
        let pending = self.pending(usize::MAX)?;
        // The projections the snapshot provides are rebuilt from it.
        self.conn.execute_batch(
            "DELETE FROM receipt_lines; DELETE FROM receipts; DELETE FROM discrepancies;
             DELETE FROM exceptions; DELETE FROM stock; DELETE FROM baseline;
             UPDATE purchase_orders SET status = 'open';
             UPDATE customer_orders SET picked = 0, shipped = 0;",
        )?;
        let server = super::apply::Meta {
            user: SERVER_TERMINAL,
            terminal: SERVER_TERMINAL,
            at: "",
            balances: self.balances,
        };
        for e in &snapshot.reference {
            super::apply::apply(&self.conn, e, &server)?;
        }
        let p = &snapshot.progress;
        for (po, line, received, damaged) in &p.po_lines {
            self.conn
                .prepare_cached(
                    "UPDATE po_lines SET received = ?3, damaged = ?4 WHERE po = ?1 AND line = ?2",
                )?
                .execute(params![po, line, received, damaged])?;
        }
        for (order, line, picked, shipped) in &p.order_lines {
            self.conn
                .prepare_cached(
                    "UPDATE customer_orders SET picked = ?3, shipped = ?4
                     WHERE order_no = ?1 AND line = ?2",
                )?
                .execute(params![order, line, picked, shipped])?;
        }
        for po in &p.closed_pos {
            self.conn
                .prepare_cached("UPDATE purchase_orders SET status = 'closed' WHERE po = ?1")?
                .execute([po])?;
        }
        for r in &p.receipts {
            self.conn
                .prepare_cached(
                    "INSERT INTO receipts (receipt, po, delivery_note, terminal, started_by,
                         started_at, checked_by, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?
                .execute(params![
                    r.receipt,
                    r.po,
                    r.delivery_note,
                    r.terminal,
                    r.started_by,
                    r.started_at,
                    r.checked_by,
                    r.status
                ])?;
        }
        for (receipt, line, sku, good, damaged) in &p.receipt_lines {
            self.conn
                .prepare_cached(
                    "INSERT INTO receipt_lines (receipt, line, sku, good, damaged) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![receipt, line, sku, good, damaged])?;
        }
        for d in &p.discrepancies {
            self.conn
                .prepare_cached(
                    "INSERT INTO discrepancies (id, kind, state, receipt, po, line, sku, lot, qty,
                         note, raised_by, raised_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )?
                .execute(params![
                    d.id,
                    d.kind,
                    d.state,
                    d.receipt,
                    d.po,
                    d.line,
                    d.sku,
                    d.lot,
                    d.qty,
                    d.note,
                    d.raised_by,
                    d.raised_at
                ])?;
        }
        for x in &p.exceptions {
            self.conn
                .prepare_cached(
                    "INSERT INTO exceptions (id, location, sku, lot, qty, reason, recount, state, raised_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?
                .execute(params![
                    x.id, x.location, x.sku, x.lot, x.qty, x.reason, x.recount, x.state, x.raised_at
                ])?;
        }
        self.load_balances(&snapshot.balances)?;
        // Own events are not in the snapshot: apply again those whose projections
        // were rebuilt above. (Logins and reference data kept theirs.)
        for e in &pending {
            let rebuilt = matches!(
                e.event,
                Event::StockMoved { .. }
                    | Event::LotDefined { .. }
                    | Event::ReceiptStarted { .. }
                    | Event::ReceiptChecked { .. }
                    | Event::ReceiptClosed { .. }
                    | Event::DiscrepancyRaised { .. }
            );
            if rebuilt {
                let meta = super::apply::Meta {
                    user: &e.user,
                    terminal: &e.terminal,
                    at: &e.at,
                    balances: self.balances,
                };
                super::apply::apply(&self.conn, &e.event, &meta)?;
            }
        }
        // What `check` replays on top of the baseline: the journal after this point,
        // and the own events after `sent` (the pending ones applied again above).
        let last_ord = self.head()?;
        for (k, v) in [
            (CURSOR, snapshot.gseq.to_string()),
            (BOOTSTRAPPED, snapshot.gseq.to_string()),
            (BASELINE_ORD, last_ord.to_string()),
            (BASELINE_SENT, snapshot.sent.to_string()),
        ] {
            put_meta(&self.conn, k, &v)?;
        }
        Ok(pending.len())
    }
}

/// The server refused one of this terminal's events: take back what it did to the stock
/// (balances, the PO and receipt counts of a receipt, an order line's progress) and the
/// discrepancy it raised, so the terminal agrees with the server again. The event stays
/// in the journal, marked rejected, for the record; `check` leaves rejected events out
/// of its replay.
fn undo_rejected(conn: &rusqlite::Connection, id: &str) -> Result<()> {
    let payload: Option<String> = conn
        .prepare_cached("SELECT payload FROM journal WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    let event = payload.map(|p| serde_json::from_str::<Event>(&p));
    if let Some(Ok(Event::DiscrepancyRaised { id, .. })) = &event {
        conn.prepare_cached("DELETE FROM discrepancies WHERE id = ?1")?
            .execute([id])?;
        return Ok(());
    }
    let Some(Ok(Event::StockMoved {
        sku,
        lot,
        from,
        to,
        qty,
        receipt,
        order,
        ..
    })) = event
    else {
        return Ok(());
    };
    if let Some(o) = &order {
        super::apply::order_progress(conn, o, &to, &from, qty)?;
    }
    // The movement backwards.
    super::apply::move_stock(
        conn,
        &super::apply::Movement {
            sku: &sku,
            lot: &lot,
            from: &to,
            to: &from,
            qty,
        },
    )?;
    if let Some(r) = receipt {
        let (good, damaged) = if r.damaged { (0, qty) } else { (qty, 0) };
        conn.prepare_cached(
            "UPDATE receipt_lines SET good = good - ?4, damaged = damaged - ?5
             WHERE receipt = ?1 AND line = ?2 AND sku = ?3",
        )?
        .execute(params![r.receipt, r.line, sku, good, damaged])?;
        conn.prepare_cached(
            "UPDATE po_lines SET received = received - ?3, damaged = damaged - ?4
             WHERE po = ?1 AND line = ?2",
        )?
        .execute(params![r.po, r.line, good, damaged])?;
    }
    Ok(())
}

/// The (location, sku) pairs a movement's balances are keyed by.
fn movement_codes(event: &Event) -> impl Iterator<Item = (&str, &str)> + Clone {
    super::apply::movement(event)
        .map(|m| [(m.from, m.sku), (m.to, m.sku)])
        .into_iter()
        .flatten()
}
