//! The server's side of sync, on the same store: terminals and their tokens, enrolment
//! codes, accepting pushed events in a global order, pulls, snapshots and availability.
//! The server's store has terminal id `server`; its journal's `ord` is the global
//! sequence number.

use super::receiving::{DISCREPANCY_COLUMNS, discrepancy_from_row};
use super::{Result, Store, StoreError, append, record_by_server};
use crate::domain::orders::{CustomerOrder, OrderLine, Rma, RmaLine};
use crate::domain::permissions::{SERVER_TERMINAL, may_record};
use crate::domain::{Event, LocationKind, User};
use crate::sync::wire::{
    Availability, ExceptionRow, Ordered, Progress, PullResponse, PushResult, ReceiptRow, Snapshot,
    SnapshotBalance, StoredPage, WireEvent,
};
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use rusqlite::{OptionalExtension, params};
use rustc_hash::FxHashMap;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How long an enrolment code stays valid.
pub const ENROLMENT_VALID_HOURS: i64 = 24;

/// An enrolled terminal, as a valid token names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalInfo {
    pub terminal: String,
    pub site: String,
    /// How many events the terminal says it has waiting to push, sent with the request
    /// (`server terminals` shows the last one said); `None` when it did not say.
    pub pending: Option<i64>,
}

/// Why a whole push was refused (HTTP 409): nothing of it was written.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("{reason}")]
    Conflict { expected_seq: i64, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One line of `server terminals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TerminalReport {
    pub terminal: String,
    pub site: String,
    pub enrolled_at: Option<String>,
    pub last_seen: Option<String>,
    pub cursor: i64,
    /// Events the terminal has not pulled yet.
    pub behind: i64,
    /// Events the terminal had waiting to push, as it said with its last push or pull;
    /// `None` until it has said.
    pub pending: Option<i64>,
    pub accepted: i64,
    pub rejected: i64,
    pub revoked: bool,
}

/// What pushes check events against: users as they are looked up, and every item
/// (whether lot-tracked) and location (its site), read in one pass by the first push
/// (a few tens of milliseconds for 100,000 items; asking per name cost a third of a
/// push). Pushes cannot change these (reference data comes only from the server), so
/// the answers hold until this connection writes anything else (see `Store::transact`)
/// or another connection commits (SQLite's `data_version` moves); then the next push
/// reads them again.
#[derive(Default)]
pub(super) struct Seen {
    /// `PRAGMA data_version` when these answers were read.
    version: i64,
    users: FxHashMap<String, Option<User>>,
    /// Every item and location, once `loaded`.
    items: FxHashMap<String, bool>,
    locations: FxHashMap<String, String>,
    loaded: bool,
}

impl Seen {
    /// Read every item and location, unless done already.
    fn load(&mut self, store: &Store) -> Result<()> {
        if self.loaded {
            return Ok(());
        }
        let mut stmt = store.conn.prepare("SELECT sku, lot_tracked FROM items")?;
        let items = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        self.items = items.collect::<rusqlite::Result<_>>()?;
        let mut stmt = store.conn.prepare("SELECT code, site FROM locations")?;
        let locations = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        self.locations = locations.collect::<rusqlite::Result<_>>()?;
        self.loaded = true;
        Ok(())
    }

    /// `None` when the item does not exist, else whether it is lot-tracked.
    fn lot_tracked(&self, sku: &str) -> Option<bool> {
        self.items.get(sku).copied()
    }

    fn site_of(&self, code: &str) -> Option<&str> {
        self.locations.get(code).map(String::as_str)
    }
}

/// Checks tokens on a read-only connection beside the store's own; it sees every commit
/// (an enrolment, a revocation) as soon as it is made. See [`Store::token_reader`].
pub struct TokenReader(rusqlite::Connection);

impl TokenReader {
    /// The terminal a token belongs to; `None` when unknown or revoked.
    pub fn authenticate(&self, token: &str) -> Result<Option<TerminalInfo>> {
        authenticate(&self.0, token)
    }
}

fn authenticate(conn: &rusqlite::Connection, token: &str) -> Result<Option<TerminalInfo>> {
    Ok(conn
        .prepare_cached(
            "SELECT terminal, site FROM terminals WHERE token_hash = ?1 AND revoked = 0",
        )?
        .query_row([hash(token)], |r| {
            Ok(TerminalInfo {
                terminal: r.get(0)?,
                site: r.get(1)?,
                pending: None,
            })
        })
        .optional()?)
}

fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut buf = [0u8; N];
    OsRng
        .try_fill_bytes(&mut buf)
        .map_err(|e| StoreError::Rejected(format!("no randomness: {e}")))?;
    Ok(buf)
}

/// Crockford base32: no I, L, O or U, so a code read aloud or keyed is not misread.
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn now_text(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// What an event names, checked by a push against the reference data: at most one item
/// (with the lot, and the quantity when the event carries stock) and two locations.
#[derive(Default)]
struct Named<'a> {
    sku: Option<&'a str>,
    lot: Option<&'a str>,
    qty: Option<i64>,
    locations: [Option<&'a str>; 2],
}

impl<'a> Named<'a> {
    /// An event that holds stock of `sku` and `lot`.
    fn holding(sku: &'a str, lot: &'a str, qty: Option<i64>) -> Self {
        Self {
            sku: Some(sku),
            lot: Some(lot),
            qty,
            locations: [None, None],
        }
    }
}

impl Store {
    /// A one-time enrolment code for `terminal` at `site`, valid for 24 hours. Only its
    /// hash is stored.
    pub fn create_enrolment(
        &mut self,
        terminal: &str,
        site: &str,
        now: DateTime<Utc>,
    ) -> Result<String> {
        if terminal == SERVER_TERMINAL || terminal.trim().is_empty() {
            return Err(StoreError::Rejected(format!(
                "{terminal:?} cannot be a terminal id"
            )));
        }
        let bytes = random_bytes::<12>()?;
        let code: String = bytes
            .iter()
            .map(|b| char::from(CODE_ALPHABET[usize::from(b % 32)]))
            .collect();
        let expires = now_text(now + Duration::hours(ENROLMENT_VALID_HOURS));
        self.transact_keeping_seen(|s| {
            s.conn.execute(
                "INSERT INTO enrolments (code_hash, terminal, site, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![hash(&code), terminal, site, expires],
            )?;
            Ok(())
        })?;
        Ok(code)
    }

    /// Use an enrolment code: once, before it expires. Returns the terminal and its new
    /// token (at least 128 random bits; only the hash is kept).
    pub fn enroll(&mut self, code: &str, now: DateTime<Utc>) -> Result<(TerminalInfo, String)> {
        let code = code.trim().to_ascii_uppercase();
        let row: Option<(String, String, String, bool)> = self
            .conn
            .query_row(
                "SELECT terminal, site, expires_at, used FROM enrolments WHERE code_hash = ?1",
                [hash(&code)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((terminal, site, expires, used)) = row else {
            return Err(StoreError::Rejected("unknown enrolment code".into()));
        };
        if used {
            return Err(StoreError::Rejected(
                "this enrolment code was used already".into(),
            ));
        }
        if expires < now_text(now) {
            return Err(StoreError::Rejected(
                "this enrolment code has expired".into(),
            ));
        }
        let token: String = random_bytes::<32>()?
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let at = now_text(now);
        self.transact_keeping_seen(|s| {
            s.conn.execute(
                "UPDATE enrolments SET used = 1 WHERE code_hash = ?1",
                [hash(&code)],
            )?;
            let enrolled = Event::TerminalEnrolled {
                terminal: terminal.clone(),
                site: site.clone(),
            };
            record_by_server(s, now, &[enrolled])?;
            s.conn.execute(
                "UPDATE terminals SET token_hash = ?2, last_seen = ?3 WHERE terminal = ?1",
                params![terminal, hash(&token), at],
            )?;
            Ok(())
        })?;
        Ok((
            TerminalInfo {
                terminal,
                site,
                pending: None,
            },
            token,
        ))
    }

    /// The terminal a token belongs to, unless it is unknown or revoked.
    pub fn authenticate(&self, token: &str) -> Result<Option<TerminalInfo>> {
        authenticate(&self.conn, token)
    }

    /// A read-only connection of its own to this store's file for checking tokens, so
    /// a request learns who sent it without waiting for a push to commit. `None` for a
    /// store in memory.
    pub fn token_reader(&self) -> Result<Option<TokenReader>> {
        let Some(path) = self.conn.path().filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        let conn = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Some(TokenReader(conn)))
    }

    pub fn revoke_terminal(&mut self, terminal: &str) -> Result<()> {
        let known: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM terminals WHERE terminal = ?1)",
            [terminal],
            |r| r.get(0),
        )?;
        if !known {
            return Err(StoreError::Rejected(format!(
                "not found: terminal {terminal}"
            )));
        }
        self.record(
            SERVER_TERMINAL,
            &[Event::TerminalRevoked {
                terminal: terminal.into(),
            }],
        )?;
        Ok(())
    }

    /// The next sequence number the server expects from `terminal`.
    pub fn expected_seq(&self, terminal: &str) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT MAX(COALESCE((SELECT MAX(seq) FROM journal WHERE terminal = ?1), 0),
                            COALESCE((SELECT MAX(seq) FROM rejected_events WHERE terminal = ?1), 0)) + 1",
            )?
            .query_row([terminal], |r| r.get(0))?)
    }

    /// The stored answer for `(terminal, seq)`, if that event was pushed before.
    fn stored_result(&self, terminal: &str, seq: i64) -> Result<Option<(String, PushResult)>> {
        let accepted: Option<(String, i64)> = self
            .conn
            .prepare_cached("SELECT id, ord FROM journal WHERE terminal = ?1 AND seq = ?2")?
            .query_row(params![terminal, seq], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((id, gseq)) = accepted {
            return Ok(Some((id.clone(), PushResult::Accepted { seq, id, gseq })));
        }
        let rejected: Option<(String, String)> = self
            .conn
            .prepare_cached(
                "SELECT id, reason FROM rejected_events WHERE terminal = ?1 AND seq = ?2",
            )?
            .query_row(params![terminal, seq], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(rejected.map(|(id, reason)| (id.clone(), PushResult::Rejected { seq, id, reason })))
    }

    /// Accept or reject a batch of a terminal's events in one durable commit. Accepted
    /// events get the next global sequence numbers in order; rejected ones are stored
    /// with their reason. The same event again returns the stored answer. A different
    /// event at a used sequence number, or a gap, refuses the whole batch.
    pub fn push(
        &mut self,
        who: &TerminalInfo,
        events: &[WireEvent],
        now: DateTime<Utc>,
    ) -> std::result::Result<Vec<PushResult>, PushError> {
        self.push_many(&[(who, events)], now)
            .pop()
            .unwrap_or_else(|| Err(PushError::Store(StoreError::Shared("no answer".into()))))
    }

    /// Several terminals' pushes in one durable commit (a group commit): each is
    /// accepted or refused on its own, inside a savepoint, exactly as if it were alone,
    /// and they share one transaction and one sync to disk. If the commit
    /// fails, every push fails with it and nothing is written.
    pub fn push_many(
        &mut self,
        pushes: &[(&TerminalInfo, &[WireEvent])],
        now: DateTime<Utc>,
    ) -> Vec<std::result::Result<Vec<PushResult>, PushError>> {
        let at = now_text(now);
        self.last_push = Some(std::time::Instant::now());
        self.end_leftover_transaction();
        let fail_all = |e: &StoreError| {
            pushes
                .iter()
                .map(|_| Err(PushError::Store(e.duplicate())))
                .collect()
        };
        if let Err(e) = self.conn.execute_batch("BEGIN IMMEDIATE") {
            return fail_all(&StoreError::from(e));
        }
        let mut out = Vec::with_capacity(pushes.len());
        let mut appended_all = Vec::with_capacity(pushes.len());
        for (who, events) in pushes {
            let mut appended = Vec::new();
            let result = self
                .conn
                .execute_batch("SAVEPOINT push")
                .map_err(|e| PushError::Store(e.into()))
                .and_then(|()| self.push_in(who, events, &at, &mut appended));
            let closed = match &result {
                Ok(_) => self.conn.execute_batch("RELEASE push"),
                Err(_) => self.conn.execute_batch("ROLLBACK TO push; RELEASE push"),
            };
            if let Err(e) = closed {
                let _ = self.conn.execute_batch("ROLLBACK");
                return fail_all(&StoreError::from(e));
            }
            if result.is_err() {
                appended.clear();
            }
            out.push(result);
            appended_all.push(appended);
        }
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            let _ = self.conn.execute_batch("ROLLBACK");
            return fail_all(&StoreError::from(e));
        }
        for ((_, events), appended) in pushes.iter().zip(appended_all) {
            self.fold_appended(appended.into_iter().map(|(ord, i)| (ord, &events[i].event)));
        }
        out
    }

    fn push_in(
        &mut self,
        who: &TerminalInfo,
        events: &[WireEvent],
        at: &str,
        appended: &mut Vec<(i64, usize)>,
    ) -> std::result::Result<Vec<PushResult>, PushError> {
        let expected = self.expected_seq(&who.terminal)?;
        let version: i64 = self
            .conn
            .pragma_query_value(None, "data_version", |r| r.get(0))
            .map_err(StoreError::from)?;
        let mut seen = std::mem::take(&mut self.seen);
        if seen.version != version {
            seen = Seen {
                version,
                ..Seen::default()
            };
        }
        let out = seen
            .load(self)
            .map_err(PushError::Store)
            .and_then(|()| self.push_events(who, events, at, appended, &mut seen, expected));
        self.seen = seen;
        out
    }

    fn push_events(
        &mut self,
        who: &TerminalInfo,
        events: &[WireEvent],
        at: &str,
        appended: &mut Vec<(i64, usize)>,
        seen: &mut Seen,
        mut expected: i64,
    ) -> std::result::Result<Vec<PushResult>, PushError> {
        let mut results = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            if e.terminal != who.terminal {
                return Err(PushError::Conflict {
                    expected_seq: expected,
                    reason: format!(
                        "event of terminal {} pushed by {}",
                        e.terminal, who.terminal
                    ),
                });
            }
            if e.seq < expected {
                match self.stored_result(&who.terminal, e.seq)? {
                    Some((id, result)) if id == e.id => {
                        results.push(result);
                        continue;
                    }
                    _ => {
                        return Err(PushError::Conflict {
                            expected_seq: expected,
                            reason: format!(
                                "sequence {} of {} was used by another event: this terminal must be enrolled again",
                                e.seq, who.terminal
                            ),
                        });
                    }
                }
            }
            if e.seq > expected {
                return Err(PushError::Conflict {
                    expected_seq: expected,
                    reason: format!(
                        "sequence gap: expected {expected} from {}, got {}",
                        who.terminal, e.seq
                    ),
                });
            }
            expected += 1;
            match self.validate(&who.site, e, seen)? {
                Ok(()) => {
                    let gseq = append(&self.conn, self.balances, &e.into())?;
                    appended.push((gseq, i));
                    results.push(PushResult::Accepted {
                        seq: e.seq,
                        id: e.id.clone(),
                        gseq,
                    });
                }
                Err(reason) => {
                    self.conn
                        .prepare_cached(
                            "INSERT INTO rejected_events
                                 (terminal, seq, id, user, at, kind, payload, reason, rejected_at)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        )
                        .map_err(StoreError::from)?
                        .execute(params![
                            e.terminal,
                            e.seq,
                            e.id,
                            e.user,
                            e.at,
                            e.event.kind(),
                            serde_json::to_string(&e.event).map_err(StoreError::from)?,
                            reason,
                            at
                        ])
                        .map_err(StoreError::from)?;
                    results.push(PushResult::Rejected {
                        seq: e.seq,
                        id: e.id.clone(),
                        reason,
                    });
                }
            }
        }
        // The balances, and the exceptions a merge raises, follow in the projector.
        self.conn
            .prepare_cached(
                "UPDATE terminals SET last_seen = ?2, pending = COALESCE(?3, pending)
                 WHERE terminal = ?1",
            )
            .map_err(StoreError::from)?
            .execute(params![who.terminal, at, who.pending])
            .map_err(StoreError::from)?;
        Ok(results)
    }

    /// The server's own check of an event: the user's roles, and that what it names
    /// exists. `Ok(Err(reason))` rejects the event.
    fn validate(
        &self,
        site: &str,
        e: &WireEvent,
        seen: &mut Seen,
    ) -> Result<std::result::Result<(), String>> {
        if !seen.users.contains_key(&e.user) {
            let u = self.user(&e.user)?.map(|r| r.user);
            seen.users.insert(e.user.clone(), u);
        }
        let user = seen.users.get(&e.user).and_then(Option::as_ref);
        if let Err(reason) = may_record(user, &e.user, &e.event) {
            return Ok(Err(reason));
        }
        let mut named = Named::default();
        match &e.event {
            Event::StockMoved {
                sku,
                from,
                to,
                qty,
                lot,
                ..
            } => {
                named = Named::holding(sku, lot, Some(*qty));
                named.locations = [Some(from), Some(to)];
            }
            Event::BinCounted {
                location,
                sku,
                lot,
                counted,
                basis,
            } => {
                if *counted < 0 || *counted > crate::domain::MAX_MOVE_QTY {
                    return Ok(Err(format!("counted quantity {counted} is out of range")));
                }
                let head = self.head()?;
                if *basis < 0 || *basis > head {
                    return Ok(Err(format!(
                        "the count is based on event {basis}, and the server has {head}"
                    )));
                }
                if self
                    .location(location)?
                    .is_some_and(|l| l.kind != LocationKind::Physical)
                {
                    return Ok(Err(format!(
                        "{location} is not a physical location: only stock on the floor is counted"
                    )));
                }
                named = Named::holding(sku, lot, None);
                named.locations = [Some(location), None];
            }
            Event::LotDefined { sku, .. } => named.sku = Some(sku),
            Event::ReceiptStarted { po, .. } if self.purchase_order(po)?.is_none() => {
                return Ok(Err(format!("not found: purchase order {po}")));
            }
            Event::DiscrepancyRaised { po: Some(po), .. } if self.purchase_order(po)?.is_none() => {
                return Ok(Err(format!("not found: purchase order {po}")));
            }
            // A discrepancy may be about a whole PO line, so its lot is not checked.
            Event::DiscrepancyRaised { sku, .. } => named.sku = Some(sku),
            Event::LabelPrinted { sku, lot, qty, .. } => {
                named = Named::holding(sku, lot, Some(*qty));
            }
            _ => {}
        }
        if let Some(qty) = named.qty
            && (qty <= 0 || qty > crate::domain::MAX_MOVE_QTY)
        {
            return Ok(Err(format!("quantity {qty} is out of range")));
        }
        if let Some(sku) = named.sku {
            match (seen.lot_tracked(sku), named.lot) {
                (None, _) => return Ok(Err(format!("not found: item {sku}"))),
                (Some(tracked), Some(lot)) if tracked == lot.is_empty() => {
                    return Ok(Err(format!(
                        "lot {lot:?} does not fit the lot rules of {sku}"
                    )));
                }
                _ => {}
            }
        }
        for code in named.locations.into_iter().flatten() {
            match seen.site_of(code) {
                None => return Ok(Err(format!("not found: location {code}"))),
                Some(s) if s != site => {
                    return Ok(Err(format!("location {code} is not in site {site}")));
                }
                Some(_) => {}
            }
        }
        if let Event::StockMoved {
            order: Some(at),
            sku,
            reason,
            ..
        } = &e.event
        {
            let Some(line) = self.order_line(at)? else {
                return Ok(Err(format!(
                    "not found: order {} line {}",
                    at.order, at.line
                )));
            };
            if let Err(reason) = crate::domain::orders::check_line(at, &line, sku, site, *reason) {
                return Ok(Err(reason));
            }
        }
        Ok(Ok(()))
    }

    /// Exceptions for physical balances that a merge left negative (location, sku, lot,
    /// quantity), one per balance until it is resolved, each asking for a recount.
    pub(super) fn merge_exceptions(
        &self,
        negative: &[(String, String, String, i64)],
    ) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        for (location, sku, lot, qty) in negative {
            let qty = *qty;
            let physical = self
                .location(location)?
                .is_some_and(|l| l.kind == LocationKind::Physical);
            if physical && self.open_exceptions(location, sku, lot)?.is_empty() {
                out.push(Event::ExceptionRaised {
                    id: Uuid::now_v7().to_string(),
                    location: location.clone(),
                    sku: sku.clone(),
                    lot: lot.clone(),
                    qty,
                    reason: format!("terminals' movements left {location} at {qty}: count it"),
                    recount: true,
                });
            }
        }
        Ok(out)
    }

    /// The ids of a balance's open exceptions, oldest first.
    pub(super) fn open_exceptions(
        &self,
        location: &str,
        sku: &str,
        lot: &str,
    ) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM exceptions
             WHERE location = ?1 AND sku = ?2 AND lot = ?3 AND state = 'open'
             ORDER BY raised_at, id",
        )?;
        let ids = stmt.query_map([location, sku, lot], |r| r.get(0))?;
        Ok(ids.collect::<rusqlite::Result<_>>()?)
    }

    /// The highest global sequence number.
    pub fn head(&self) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached("SELECT COALESCE(MAX(ord), 0) FROM journal")?
            .query_row([], |r| r.get(0))?)
    }

    /// Events after `after` for a terminal of `site`: its site's terminals' events and the
    /// server's own, in global order. Records the terminal's cursor.
    pub fn pull(&mut self, who: &TerminalInfo, after: i64, limit: usize) -> Result<PullResponse> {
        self.pull_stored(who, after, limit)?
            .decode()
            .map_err(|(ord, e)| StoreError::CorruptJournal {
                ord,
                reason: e.to_string(),
            })
    }

    /// [`Store::pull`] with each payload as the journal holds it, for the server to send
    /// on without decoding it (a payload that is not JSON is refused).
    pub fn pull_stored(
        &mut self,
        who: &TerminalInfo,
        after: i64,
        limit: usize,
    ) -> Result<StoredPage> {
        self.end_leftover_transaction();
        // A pull that reaches the head also gets the merge exceptions of everything up to
        // it: one round after the last push, every terminal knows them. (Only then is the
        // fold written now; otherwise it waits for a pause in the pushes.)
        if self.projects_balances()
            && self.head()? - after <= i64::try_from(limit).unwrap_or(i64::MAX)
            && self.fold_owes_exceptions()?
        {
            self.catch_up()?;
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT j.ord, j.id, j.terminal, j.seq, j.user, j.at, j.payload FROM journal j
             WHERE j.ord > ?1 AND (+j.terminal = ?2 OR +j.terminal IN
                   (SELECT terminal FROM terminals WHERE site = ?3))
             ORDER BY j.ord LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            params![after, SERVER_TERMINAL, who.site, limit as i64],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            },
        )?;
        let mut events = Vec::new();
        for row in rows {
            let (gseq, id, terminal, seq, user, at, payload) = row?;
            let event = serde_json::value::RawValue::from_string(payload).map_err(|e| {
                StoreError::CorruptJournal {
                    ord: gseq,
                    reason: e.to_string(),
                }
            })?;
            events.push(Ordered {
                gseq,
                event: WireEvent {
                    id,
                    terminal,
                    seq,
                    user,
                    at,
                    event,
                },
            });
        }
        drop(stmt);
        let head = self.head()?;
        if after > 0 || who.pending.is_some() {
            self.conn
                .prepare_cached(
                    "UPDATE terminals SET cursor = MAX(cursor, ?2), last_seen = ?3,
                            pending = COALESCE(?4, pending)
                     WHERE terminal = ?1",
                )?
                .execute(params![
                    who.terminal,
                    after,
                    now_text(Utc::now()),
                    who.pending
                ])?;
        }
        Ok(StoredPage { events, head })
    }

    /// A site's reference data and state as of the current head, read in one
    /// transaction so the balances are exactly those of `gseq`: the projector catches up
    /// first, and if another connection appended meanwhile, it catches up again.
    pub fn snapshot(&mut self, site: &str) -> Result<Snapshot> {
        self.snapshot_as(site, None)
    }

    /// The snapshot of `who`'s site, saying how far the server has that terminal's own
    /// events ([`Snapshot::sent`]), read in the same transaction as the rest.
    pub fn snapshot_for(&mut self, who: &TerminalInfo) -> Result<Snapshot> {
        self.snapshot_as(&who.site, Some(&who.terminal))
    }

    fn snapshot_as(&mut self, site: &str, terminal: Option<&str>) -> Result<Snapshot> {
        for _ in 0..5 {
            self.catch_up()?;
            self.conn.execute_batch("BEGIN")?;
            let current = match self.projected_through() {
                Ok(Some(through)) => self.head().map(|head| head == through),
                Ok(None) => Ok(true),
                Err(e) => Err(e),
            };
            let out = match current {
                Ok(true) => Some(self.snapshot_in(site).and_then(|mut snap| {
                    if let Some(t) = terminal {
                        snap.sent = self.expected_seq(t)? - 1;
                    }
                    Ok(snap)
                })),
                Ok(false) => None,
                Err(e) => Some(Err(e)),
            };
            let _ = self.conn.execute_batch("COMMIT");
            if let Some(out) = out {
                return out;
            }
        }
        Err(StoreError::Busy)
    }

    fn snapshot_in(&self, site: &str) -> Result<Snapshot> {
        let gseq = self.head()?;
        let mut reference = Vec::new();
        for l in self.locations()?.into_iter().filter(|l| l.site == site) {
            reference.push(Event::LocationDefined { location: l });
        }
        for sku in self.column("SELECT sku FROM items ORDER BY sku", [])? {
            if let Some(item) = self.item(&sku)? {
                reference.push(Event::ItemDefined { item });
            }
        }
        {
            let mut stmt = self.conn.prepare("SELECT sku, code, expiry FROM lots")?;
            let rows = stmt.query_map([], |r| {
                Ok(Event::LotDefined {
                    sku: r.get(0)?,
                    lot: r.get(1)?,
                    expiry: r.get::<_, Option<String>>(2)?.and_then(|d| d.parse().ok()),
                })
            })?;
            for r in rows {
                reference.push(r?);
            }
        }
        for u in self.users()? {
            reference.push(Event::UserDefined {
                badge: u.user.badge.clone(),
                name: u.user.name.clone(),
                roles: u.user.roles.clone(),
                pin_hash: u.user.pin_hash.clone(),
            });
            if u.user.disabled {
                reference.push(Event::UserDisabled {
                    badge: u.user.badge,
                });
            }
        }
        let mut progress = Progress::default();
        for po in self.column(
            "SELECT po FROM purchase_orders WHERE site = ?1 ORDER BY po",
            [site],
        )? {
            let Some(p) = self.purchase_order(&po)? else {
                continue;
            };
            for l in &p.lines {
                progress
                    .po_lines
                    .push((p.po.clone(), l.line, l.received, l.damaged));
            }
            if !p.open {
                progress.closed_pos.push(p.po.clone());
            }
            reference.push(Event::PurchaseOrderDefined {
                order: crate::domain::receiving::PurchaseOrder {
                    po: p.po,
                    supplier: p.supplier,
                    site: p.site,
                    expected: p.expected,
                    lines: p
                        .lines
                        .iter()
                        .map(|l| crate::domain::receiving::PoLine {
                            line: l.line,
                            sku: l.sku.clone(),
                            qty: l.ordered,
                        })
                        .collect(),
                },
            });
        }
        reference.push(Event::PutawayRulesDefined {
            rules: self.putaway_rules()?,
        });
        reference.extend(self.orders_of(site)?);
        reference.extend(self.rmas_of(site)?);
        progress.exceptions = self.exceptions(Some(site), false)?;
        {
            let mut stmt = self.conn.prepare(
                "SELECT r.receipt, r.po, r.delivery_note, r.terminal, r.started_by, r.started_at,
                        r.checked_by, r.status
                 FROM receipts r JOIN purchase_orders p ON p.po = r.po WHERE p.site = ?1",
            )?;
            let rows = stmt.query_map([site], |r| {
                Ok(ReceiptRow {
                    receipt: r.get(0)?,
                    po: r.get(1)?,
                    delivery_note: r.get(2)?,
                    terminal: r.get(3)?,
                    started_by: r.get(4)?,
                    started_at: r.get(5)?,
                    checked_by: r.get(6)?,
                    status: r.get(7)?,
                })
            })?;
            progress.receipts = rows.collect::<rusqlite::Result<_>>()?;
            let mut stmt = self.conn.prepare(
                "SELECT rl.receipt, rl.line, rl.sku, rl.good, rl.damaged FROM receipt_lines rl
                 JOIN receipts r ON r.receipt = rl.receipt
                 JOIN purchase_orders p ON p.po = r.po WHERE p.site = ?1",
            )?;
            let rows = stmt.query_map([site], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
            progress.receipt_lines = rows.collect::<rusqlite::Result<_>>()?;
            let mut stmt = self.conn.prepare(&format!(
                "SELECT {DISCREPANCY_COLUMNS}
                 FROM discrepancies d LEFT JOIN purchase_orders p ON p.po = d.po
                 WHERE p.site = ?1 OR d.po IS NULL"
            ))?;
            let rows = stmt.query_map([site], discrepancy_from_row)?;
            progress.discrepancies = rows.collect::<rusqlite::Result<_>>()?;
        }
        let mut stmt = self.conn.prepare(
            "SELECT b.location, b.sku, b.lot, b.qty FROM balances b
             JOIN locations l ON l.code = b.location WHERE l.site = ?1 ORDER BY 1, 2, 3",
        )?;
        let rows = stmt.query_map([site], |r| {
            Ok(SnapshotBalance {
                location: r.get(0)?,
                sku: r.get(1)?,
                lot: r.get(2)?,
                qty: r.get(3)?,
            })
        })?;
        let balances = rows.collect::<rusqlite::Result<_>>()?;
        let mut stmt = self.conn.prepare(
            "SELECT order_no, line, picked, shipped FROM customer_orders
             WHERE site = ?1 AND (picked != 0 OR shipped != 0) ORDER BY order_no, line",
        )?;
        progress.order_lines = stmt
            .query_map([site], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Snapshot {
            site: site.to_string(),
            gseq,
            reference,
            balances,
            progress,
            sent: 0,
        })
    }

    fn column<P: rusqlite::Params>(&self, sql: &str, params: P) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map(params, |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The site's customer orders as the events that define them.
    fn orders_of(&self, site: &str) -> Result<Vec<Event>> {
        let mut stmt = self.conn.prepare(
            "SELECT order_no, customer, due, line, sku, qty FROM customer_orders
             WHERE site = ?1 ORDER BY order_no, line",
        )?;
        let rows = stmt.query_map([site], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                OrderLine {
                    line: r.get(3)?,
                    sku: r.get(4)?,
                    qty: r.get(5)?,
                },
            ))
        })?;
        let mut out: Vec<CustomerOrder> = Vec::new();
        for row in rows {
            let (order, customer, due, line) = row?;
            match out.last_mut() {
                Some(o) if o.order == order => o.lines.push(line),
                _ => out.push(CustomerOrder {
                    order,
                    customer,
                    site: site.to_string(),
                    due: due.and_then(|d| d.parse().ok()),
                    lines: vec![line],
                }),
            }
        }
        Ok(out
            .into_iter()
            .map(|order| Event::CustomerOrderDefined { order })
            .collect())
    }

    /// The site's RMAs as the events that define them.
    fn rmas_of(&self, site: &str) -> Result<Vec<Event>> {
        let mut stmt = self.conn.prepare(
            "SELECT rma, customer, order_no, created, line, sku, qty, reason FROM rmas
             WHERE site = ?1 ORDER BY rma, line",
        )?;
        let rows = stmt.query_map([site], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                RmaLine {
                    line: r.get(4)?,
                    sku: r.get(5)?,
                    qty: r.get(6)?,
                    reason: r.get(7)?,
                },
            ))
        })?;
        let mut out: Vec<Rma> = Vec::new();
        for row in rows {
            let (rma, customer, order, created, line) = row?;
            match out.last_mut() {
                Some(r) if r.rma == rma => r.lines.push(line),
                _ => out.push(Rma {
                    rma,
                    customer,
                    site: site.to_string(),
                    order,
                    created: created.and_then(|d| d.parse().ok()),
                    lines: vec![line],
                }),
            }
        }
        Ok(out
            .into_iter()
            .map(|rma| Event::RmaDefined { rma })
            .collect())
    }

    /// Exceptions raised by the server, oldest first: of one site or all, open ones only
    /// or all. An open exception with `recount` is a recount task: the next count of its
    /// balance that sees every movement resolves it. (Call `catch_up` first for the
    /// exceptions of everything pushed so far.)
    pub fn exceptions(&self, site: Option<&str>, open_only: bool) -> Result<Vec<ExceptionRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.id, e.location, e.sku, e.lot, e.qty, e.reason, e.recount, e.state,
                    e.raised_at
             FROM exceptions e JOIN locations l ON l.code = e.location
             WHERE (?1 IS NULL OR l.site = ?1) AND (NOT ?2 OR e.state = 'open')
             ORDER BY e.raised_at, e.id",
        )?;
        let rows = stmt.query_map(params![site, open_only], |r| {
            Ok(ExceptionRow {
                id: r.get(0)?,
                location: r.get(1)?,
                sku: r.get(2)?,
                lot: r.get(3)?,
                qty: r.get(4)?,
                reason: r.get(5)?,
                recount: r.get(6)?,
                state: r.get(7)?,
                raised_at: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Available to promise per site and item: sellable stock (storage and pick faces,
    /// lots not expired on `today`) minus what open customer order lines still need from
    /// it (ordered, less what was picked out of sellable stock for them).
    pub fn availability(
        &mut self,
        site: Option<&str>,
        today: NaiveDate,
    ) -> Result<Vec<Availability>> {
        self.catch_up()?;
        let mut stmt = self.conn.prepare_cached(
            "WITH sellable AS (
                 SELECT l.site, b.sku, SUM(b.qty) AS qty FROM balances b
                 JOIN locations l ON l.code = b.location
                 LEFT JOIN lots lo ON lo.sku = b.sku AND lo.code = b.lot
                 WHERE l.role IN ('storage', 'pick_face') AND b.qty > 0
                   AND (lo.expiry IS NULL OR lo.expiry >= ?2)
                 GROUP BY l.site, b.sku),
             reserved AS (
                 SELECT site, sku, SUM(qty - picked) AS qty FROM customer_orders
                 WHERE qty > picked GROUP BY site, sku)
             SELECT site, sku, SUM(s), SUM(r) FROM (
                 SELECT site, sku, qty AS s, 0 AS r FROM sellable
                 UNION ALL SELECT site, sku, 0, qty FROM reserved)
             WHERE ?1 IS NULL OR site = ?1
             GROUP BY site, sku ORDER BY site, sku",
        )?;
        let rows = stmt.query_map(params![site, today.to_string()], |r| {
            let sellable: i64 = r.get(2)?;
            let reserved: i64 = r.get(3)?;
            Ok(Availability {
                site: r.get(0)?,
                sku: r.get(1)?,
                sellable,
                reserved,
                available: (sellable - reserved).max(0),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn terminals_report(&self) -> Result<Vec<TerminalReport>> {
        let head = self.head()?;
        let mut stmt = self.conn.prepare(
            "SELECT t.terminal, t.site, t.enrolled_at, t.last_seen, t.cursor, t.revoked,
                    (SELECT COUNT(*) FROM journal j WHERE j.terminal = t.terminal),
                    (SELECT COUNT(*) FROM rejected_events r WHERE r.terminal = t.terminal),
                    t.pending
             FROM terminals t ORDER BY t.terminal",
        )?;
        let rows = stmt.query_map([], |r| {
            let cursor: i64 = r.get(4)?;
            Ok(TerminalReport {
                terminal: r.get(0)?,
                site: r.get(1)?,
                enrolled_at: r.get(2)?,
                last_seen: r.get(3)?,
                cursor,
                behind: (head - cursor).max(0),
                pending: r.get(8)?,
                revoked: r.get(5)?,
                accepted: r.get(6)?,
                rejected: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Create or replace customer orders (server imports). All or nothing.
    pub fn define_orders(
        &mut self,
        by: &str,
        orders: &[crate::domain::orders::CustomerOrder],
    ) -> Result<()> {
        for o in orders {
            for l in &o.lines {
                if self.item(&l.sku)?.is_none() {
                    return Err(StoreError::Rejected(format!(
                        "{} line {}: not found: {}",
                        o.order, l.line, l.sku
                    )));
                }
            }
        }
        let events: Vec<Event> = orders
            .iter()
            .map(|o| Event::CustomerOrderDefined { order: o.clone() })
            .collect();
        self.record(by, &events)?;
        Ok(())
    }

    /// Create or replace RMAs (server imports). All or nothing.
    pub fn define_rmas(&mut self, by: &str, rmas: &[crate::domain::orders::Rma]) -> Result<()> {
        for r in rmas {
            for l in &r.lines {
                if self.item(&l.sku)?.is_none() {
                    return Err(StoreError::Rejected(format!(
                        "{} line {}: not found: {}",
                        r.rma, l.line, l.sku
                    )));
                }
            }
        }
        let events: Vec<Event> = rmas
            .iter()
            .map(|r| Event::RmaDefined { rma: r.clone() })
            .collect();
        self.record(by, &events)?;
        Ok(())
    }
}
