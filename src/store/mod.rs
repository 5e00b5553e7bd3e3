//! The one module that talks to SQLite. Everything else calls the typed functions here.
//!
//! Every change is recorded with [`Store::record`]: the events are appended to the
//! journal and applied to the projections (balances, reference data, users) in one
//! transaction, so the journal and the projections can never disagree.

mod apply;
mod check;
mod commands;
mod gate;
mod ids;
mod migrations;
mod projector;
mod queries;
mod receiving;
mod server;
mod sync;

pub use check::{CheckItem, CheckReport};
pub use commands::{LoginOutcome, Move, NewUser};
pub use migrations::MIGRATIONS;
pub use queries::{Found, StockFilter, StockRow, UserRecord};
pub use receiving::{Discrepancy, OpenReceipt, PoLineState, PoState, PoSummary, Receive, Received};
pub use server::{ENROLMENT_VALID_HOURS, PushError, TerminalInfo, TerminalReport, TokenReader};
pub use sync::{Enrolment, NextPage, Pages, RejectedEvent};

use crate::domain::Event;
use crate::sync::wire::Pulled;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::Path;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "this store was written by a newer Floorhand (schema {found}, this version knows {supported}); \
         upgrade Floorhand or open another store"
    )]
    TooNew { found: i64, supported: i64 },
    #[error("the store is read-only: nothing was saved. Check the file's permissions, or ask IT")]
    ReadOnly,
    #[error("the disk is full: nothing was saved. Free space on the terminal, then try again")]
    DiskFull,
    #[error("the store is busy in another program: nothing was saved. Try again")]
    Busy,
    /// The request was refused by a rule; nothing was written.
    #[error("{0}")]
    Rejected(String),
    #[error("store error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("corrupt journal row {ord}: {reason}")]
    CorruptJournal { ord: i64, reason: String },
    #[error("could not encode an event: {0}")]
    Encode(#[from] serde_json::Error),
    /// Another request's failure, shared (a group commit that could not commit).
    #[error("store error: {0}")]
    Shared(String),
}

impl StoreError {
    /// The same failure for another request: the kind is kept (busy, read-only, disk
    /// full, refused), the rest carries the message.
    pub fn duplicate(&self) -> Self {
        match self {
            Self::TooNew { found, supported } => Self::TooNew {
                found: *found,
                supported: *supported,
            },
            Self::ReadOnly => Self::ReadOnly,
            Self::DiskFull => Self::DiskFull,
            Self::Busy => Self::Busy,
            Self::Rejected(reason) => Self::Rejected(reason.clone()),
            other => Self::Shared(other.to_string()),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::ReadOnly) => Self::ReadOnly,
            Some(ErrorCode::DiskFull) => Self::DiskFull,
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Self::Busy,
            _ => Self::Sqlite(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What the journal says about one recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub id: Uuid,
    pub terminal: String,
    pub seq: i64,
}

/// The user name written on events that no person caused (init, imports from the CLI).
pub const SYSTEM_USER: &str = "system";

/// SQLite's own default for `wal_autocheckpoint`, which the syncing connection keeps
/// outside a long catch-up.
const SQLITE_AUTOCHECKPOINT_PAGES: u32 = 1000;

pub struct Store {
    conn: Connection,
    terminal: String,
    read_only: bool,
    /// The server's balances follow the journal in the background (see `projector.rs`)
    /// instead of in the transaction that appends each event.
    balances: Balances,
    /// What the projector has read and not yet written (server stores).
    fold: projector::Fold,
    /// When this connection last accepted a push.
    last_push: Option<std::time::Instant>,
    /// Reference facts pushes looked up (server stores).
    seen: server::Seen,
    /// The writers of this database waiting for its write lock (see `gate.rs`).
    gate: std::sync::Arc<gate::Gate>,
    /// Location and item ids read so far (see `ids.rs`).
    ids: ids::Ids,
}

/// When an event's stock effect reaches the balances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Balances {
    /// In the transaction that appends the event (terminals).
    Now,
    /// Later, by the projector, many events folded at once (the server).
    Projected,
}

impl Store {
    /// Open (creating if needed) the store at `path` and bring its schema up to date.
    /// If the file cannot be written, it is opened read-only so lookups still work;
    /// [`Store::is_read_only`] tells.
    pub fn open(path: &Path, terminal: &str) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // A missing directory shows up as an open error just below.
            let _ = std::fs::create_dir_all(dir);
        }
        match Connection::open(path) {
            Ok(conn) => match Self::init(conn, terminal, false, gate::Gate::of(path)) {
                Err(StoreError::ReadOnly) => Self::open_read_only(path, terminal),
                other => other,
            },
            Err(e) if path.exists() => {
                tracing::warn!("opening the store read-write failed: {e}");
                Self::open_read_only(path, terminal)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn open_read_only(path: &Path, terminal: &str) -> Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Self::init(conn, terminal, true, gate::Gate::of(path))
    }

    pub fn open_in_memory(terminal: &str) -> Result<Self> {
        Self::init(
            Connection::open_in_memory()?,
            terminal,
            false,
            std::sync::Arc::default(),
        )
    }

    fn init(
        conn: Connection,
        terminal: &str,
        read_only: bool,
        gate: std::sync::Arc<gate::Gate>,
    ) -> Result<Self> {
        // Waits for another writer's lock, trying every millisecond for up to 15 s: long
        // enough for the sync worker and the floor screens to take turns under load.
        conn.busy_handler(Some(gate::retry_busy))?;
        // Room for every statement of a receiving scan, so none is compiled again.
        conn.set_prepared_statement_cache_capacity(64);
        if !read_only {
            // WAL for concurrent readers; FULL so a confirmed scan survives power loss.
            conn.pragma_update(None, "journal_mode", "WAL")?;
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut store = Self {
            conn,
            terminal: terminal.to_string(),
            read_only,
            balances: Balances::Now,
            fold: projector::Fold::default(),
            last_push: None,
            seen: server::Seen::default(),
            gate,
            ids: ids::Ids::default(),
        };
        store.migrate()?;
        store.adopt_enrolled_terminal()?;
        store.start_projection()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let found: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        let supported = MIGRATIONS.len() as i64;
        if found > supported {
            return Err(StoreError::TooNew { found, supported });
        }
        if found == supported {
            return Ok(());
        }
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        // A migration may rebuild a table that others reference (SQLite's way to change
        // a table's key), which needs foreign keys off; each is checked before it commits.
        self.conn.pragma_update(None, "foreign_keys", "OFF")?;
        let migrated = self.run_migrations(found as usize);
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        migrated
    }

    fn run_migrations(&mut self, from: usize) -> Result<()> {
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(from) {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(sql)?;
            let broken: i64 =
                tx.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                    r.get(0)
                })?;
            if broken > 0 {
                return Err(StoreError::Rejected(format!(
                    "migration {} would leave {broken} rows referring to rows that do not \
                     exist; nothing was changed",
                    i + 1
                )));
            }
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// The server holds every site's data and has memory to spare: a page cache of
    /// 512 MB and a memory map of 1 GB instead of SQLite's 2 MB, and fewer checkpoints.
    pub fn use_server_memory(&self) -> Result<()> {
        self.conn.pragma_update(None, "cache_size", -512 * 1024)?;
        self.conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
        self.conn.pragma_update(None, "wal_autocheckpoint", 16384)?;
        Ok(())
    }

    /// For the connection that syncs: a 32 MB page cache instead of SQLite's 2 MB, so
    /// applying a page of pulled events finds the balance pages it updates in memory.
    /// Pages are allocated as they are used; the floor screens' own connection keeps the
    /// small cache.
    pub fn use_sync_memory(&self) -> Result<()> {
        self.conn.pragma_update(None, "cache_size", -32 * 1024)?;
        Ok(())
    }

    /// While a long catch-up runs on the connection that syncs: no checkpoint until
    /// [`Store::end_catch_up`]. The page cache stays at 32 MB: a transaction's journal
    /// pages go to the WAL as the cache fills, in buffers used again, rather than being
    /// held to the commit in fresh memory whose page faults cost about as much (a cache
    /// of 128 MB measured alternately: about as fast on a quiet machine, slower in busy
    /// spells).
    pub fn begin_catch_up(&self) -> Result<()> {
        self.defer_checkpoints(0)
    }

    /// After a long catch-up: SQLite's own checkpoints again, then one checkpoint of what
    /// the catch-up wrote. The transactions rewrote many of the same pages (the
    /// balances), which are copied into the database once.
    pub fn end_catch_up(&self) -> Result<()> {
        self.defer_checkpoints(SQLITE_AUTOCHECKPOINT_PAGES)?;
        self.checkpoint()
    }

    /// Leave checkpoints to [`Store::checkpoint`] at quiet moments: a commit checkpoints
    /// (SQLite's fallback) only once the WAL holds `pages` pages instead of 1,000.
    pub fn defer_checkpoints(&self, pages: u32) -> Result<()> {
        self.conn.pragma_update(None, "wal_autocheckpoint", pages)?;
        Ok(())
    }

    /// Copy the WAL into the database file without waiting for any reader or writer
    /// (a PASSIVE checkpoint), so later commits reuse the WAL from its start. Cheap when
    /// there is nothing to copy.
    pub fn checkpoint(&self) -> Result<()> {
        if !self.read_only {
            self.conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        }
        Ok(())
    }

    pub fn terminal(&self) -> &str {
        &self.terminal
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The schema version of this store.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Append `events` to the journal and apply them to the projections, all in one
    /// durable transaction. Either every event is recorded or none is.
    pub fn record(&mut self, user: &str, events: &[Event]) -> Result<Vec<Recorded>> {
        self.record_at(user, events, Utc::now())
    }

    /// [`Store::record`] with the wall-clock time given, for callers that decided on a
    /// time already (login delays are measured against the time of the attempt).
    pub fn record_at(
        &mut self,
        user: &str,
        events: &[Event],
        at: DateTime<Utc>,
    ) -> Result<Vec<Recorded>> {
        self.transact(|s| record_in(&s.conn, s.balances, &s.terminal, user, at, events))
    }

    /// Roll back a transaction an earlier failure left open, so nothing reads writes
    /// that will never commit.
    pub(super) fn end_leftover_transaction(&self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }

    /// [`Store::transact`] for a write that cannot change what pushes check events
    /// against (balances, exceptions, enrolments): the server keeps its loaded items,
    /// locations and users.
    fn transact_keeping_seen<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let seen = std::mem::take(&mut self.seen);
        let out = self.transact(f);
        self.seen = seen;
        out
    }

    /// Run `f` in one immediate transaction; commit if it returns `Ok`, roll back
    /// otherwise. Reads inside `f` see its own uncommitted writes.
    fn transact<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        self.end_leftover_transaction();
        {
            // Counted while it waits, so a long catch-up steps aside (see `gate.rs`).
            let _queued = self.gate.queue();
            self.conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        }
        // Whatever this writes may change what pushes check against.
        self.seen = server::Seen::default();
        let out = f(self).and_then(|v| {
            self.conn.prepare_cached("COMMIT")?.execute([])?;
            Ok(v)
        });
        if out.is_err() {
            if !self.conn.is_autocommit() {
                let _ = self.conn.execute_batch("ROLLBACK");
            }
            // Ids this transaction inserted are gone, and may be reused for other codes.
            self.ids.clear();
        }
        out
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// A number kept in `meta`; 0 when there is none.
    pub(crate) fn meta_number(&self, key: &str) -> Result<i64> {
        Ok(self.meta(key)?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.transact(|s| put_meta(&s.conn, key, value))
    }

    /// Direct access for tests that need to break the store on purpose.
    #[doc(hidden)]
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Append events to the journal with gapless per-terminal sequence numbers and apply each
/// to the projections. Must run inside a transaction.
/// Append `events` as the server's own (the server's store is its terminal `server`),
/// inside the caller's transaction.
fn record_by_server(s: &Store, at: DateTime<Utc>, events: &[Event]) -> Result<Vec<Recorded>> {
    use crate::domain::permissions::SERVER_TERMINAL;
    record_in(
        &s.conn,
        s.balances,
        SERVER_TERMINAL,
        SERVER_TERMINAL,
        at,
        events,
    )
}

/// Set `key` in `meta` to `value`, inside the caller's transaction.
fn put_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([key, value])?;
    Ok(())
}

fn record_in(
    tx: &Connection,
    balances: Balances,
    terminal: &str,
    user: &str,
    at: DateTime<Utc>,
    events: &[Event],
) -> Result<Vec<Recorded>> {
    let last: i64 = tx
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM journal WHERE terminal = ?1")?
        .query_row([terminal], |r| r.get(0))?;
    let at = at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut out = Vec::with_capacity(events.len());
    for (seq, event) in (last + 1..).zip(events) {
        let id = Uuid::now_v7();
        append(
            tx,
            balances,
            &Row {
                id: &id.to_string(),
                terminal,
                seq,
                user,
                at: &at,
                event,
                payload: None,
            },
        )?;
        out.push(Recorded {
            id,
            terminal: terminal.to_string(),
            seq,
        });
    }
    Ok(out)
}

/// One journal row, borrowed from whoever holds it.
struct Row<'a> {
    id: &'a str,
    terminal: &'a str,
    seq: i64,
    user: &'a str,
    at: &'a str,
    event: &'a Event,
    /// The event as JSON, when it came so (pulled); otherwise it is encoded here.
    payload: Option<&'a str>,
}

impl<'a> Row<'a> {
    fn of<E>(
        e: &'a crate::sync::wire::WireEvent<E>,
        event: &'a Event,
        payload: Option<&'a str>,
    ) -> Self {
        Self {
            id: &e.id,
            terminal: &e.terminal,
            seq: e.seq,
            user: &e.user,
            at: &e.at,
            event,
            payload,
        }
    }
}

impl<'a> From<&'a crate::sync::wire::WireEvent> for Row<'a> {
    fn from(e: &'a crate::sync::wire::WireEvent) -> Self {
        Self::of(e, &e.event, None)
    }
}

impl<'a> From<&'a crate::sync::wire::WireEvent<Pulled>> for Row<'a> {
    fn from(e: &'a crate::sync::wire::WireEvent<Pulled>) -> Self {
        Self::of(e, &e.event.event, Some(e.event.payload.get()))
    }
}

/// Insert one journal row and apply it to the projections; returns its `ord`, which on
/// the server is the event's global sequence number.
fn append(tx: &Connection, balances: Balances, row: &Row<'_>) -> Result<i64> {
    append_with(tx, Known::Fails, balances, row)?
        .ok_or_else(|| StoreError::Rejected(format!("event {} is in the journal already", row.id)))
}

/// What [`append_with`] does with an event whose id the journal holds already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    /// Fail: the id is new by construction (recorded here, or pushed at a new `seq`).
    Fails,
    /// Write nothing and answer `None`: an event pulled a second time. One statement
    /// rather than a lookup and an insert.
    Skipped,
}

fn append_with(
    tx: &Connection,
    known: Known,
    balances: Balances,
    row: &Row<'_>,
) -> Result<Option<i64>> {
    let Row {
        id,
        terminal,
        seq,
        user,
        at,
        event,
        payload,
    } = *row;
    let payload = match payload {
        Some(text) => std::borrow::Cow::Borrowed(text),
        None => std::borrow::Cow::Owned(serde_json::to_string(event)?),
    };
    let insert = match known {
        Known::Fails => {
            "INSERT INTO journal (id, terminal, seq, user, at, kind, payload)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        }
        Known::Skipped => {
            "INSERT INTO journal (id, terminal, seq, user, at, kind, payload)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING"
        }
    };
    let inserted = tx.prepare_cached(insert)?.execute(rusqlite::params![
        id,
        terminal,
        seq,
        user,
        at,
        event.kind(),
        payload
    ])?;
    if inserted == 0 {
        return Ok(None);
    }
    let ord = tx.last_insert_rowid();
    let meta = apply::Meta {
        user,
        terminal,
        at,
        balances,
    };
    apply::apply(tx, event, &meta)?;
    Ok(Some(ord))
}
