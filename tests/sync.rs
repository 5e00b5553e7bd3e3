//! Sync correctness, in process: a server store and terminal stores talking through a
//! transport that loses requests and answers, delivers them twice or out of order, and
//! goes offline. The properties: everyone converges to the server's balances, every
//! terminal event is in the server's journal exactly once (or rejected), nothing is
//! applied twice, and the invariants `check` verifies hold everywhere.
//!
//! Seeded: each test prints its seed; `FLOORHAND_SYNC_SEED=<seed>` replays it, and every
//! failure names the seed it failed with.

mod common;

use chrono::{NaiveDate, Utc};
use common::sync::{
    Floor, Key, Mix, Rng, as_move, balances, base_seed, fast, floor, journal_moves, random_move,
    replay_moves, replay_onto, seeded,
};
use common::{TestResult, ensure, from_supplier, mv};
use floorhand::domain::{Event, MoveReason};
use floorhand::store::{
    Enrolment, Move, NextPage, Pages, PushError, Receive, StockFilter, Store, StoreError,
    TerminalInfo,
};
use floorhand::sync::client::{self, Round, SyncError, Transport, TransportError};
use floorhand::sync::plan;
use floorhand::sync::wire::{
    ErrorBody, MAX_BATCH, Ordered, Pulled, PulledPage, PushRequest, PushResponse, PushResult,
    Snapshot, WireEvent,
};
use rusqlite::types::ValueRef;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::rc::Rc;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------
// The server in process

type Shared = Rc<RefCell<Store>>;

/// A demo server store and an empty terminal store, built once per test process (the
/// demo hashes nine PINs with Argon2, which is slow in the dev profile) and copied.
/// The demo server's database file and an empty terminal's.
type Templates = (Vec<u8>, Vec<u8>);

static TEMPLATES: OnceLock<Result<Templates, String>> = OnceLock::new();

fn templates() -> TestResult<&'static Templates> {
    let build = || -> TestResult<Templates> {
        let dir = tempfile::tempdir()?;
        let mut server = Store::open(&dir.path().join("server.db"), "server")?;
        fast(&server)?;
        floorhand::demo::load(&mut server)?;
        let empty = Store::open(&dir.path().join("empty.db"), "T0")?;
        let copy = |store: &Store, name: &str| -> TestResult<Vec<u8>> {
            let path = dir.path().join(name);
            store
                .connection()
                .execute("VACUUM INTO ?1", [path.to_string_lossy().as_ref()])?;
            Ok(std::fs::read(path)?)
        };
        Ok((
            copy(&server, "server-copy.db")?,
            copy(&empty, "empty-copy.db")?,
        ))
    };
    TEMPLATES
        .get_or_init(|| build().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| format!("building the template stores failed: {e}").into())
}

/// A new server store with the demo warehouse, in `dir`.
fn new_server(dir: &Path) -> TestResult<Shared> {
    let path = dir.join("server.db");
    std::fs::write(&path, &templates()?.0)?;
    let s = Store::open(&path, "server")?;
    fast(&s)?;
    Ok(Rc::new(RefCell::new(s)))
}

/// A new, empty terminal store `name` in `dir`, not enrolled.
fn new_terminal(dir: &Path, name: &str) -> TestResult<Store> {
    let path = dir.join(format!("{name}.db"));
    std::fs::write(&path, &templates()?.1)?;
    let s = Store::open(&path, name)?;
    fast(&s)?;
    Ok(s)
}

/// Enrol a new, empty terminal store `name` at WH1; returns it and its token.
fn enrol(server: &Shared, dir: &Path, name: &str) -> TestResult<(Store, String)> {
    let mut store = new_terminal(dir, name)?;
    let token = enrol_store(server, &mut store, name)?;
    Ok((store, token))
}

fn enrol_store(server: &Shared, store: &mut Store, name: &str) -> TestResult<String> {
    let now = Utc::now();
    let (info, token) = {
        let mut s = server.borrow_mut();
        let code = s.create_enrolment(name, "WH1", now)?;
        s.enroll(&code, now)?
    };
    ensure!(
        info.terminal == name && info.site == "WH1",
        "enrolled as {info:?}"
    );
    store.set_enrolment(&Enrolment {
        server: "local".into(),
        terminal: info.terminal,
        site: info.site,
        token: token.clone(),
    })?;
    Ok(token)
}

fn refused(e: &StoreError) -> TransportError {
    TransportError::Refused {
        status: if matches!(e, StoreError::Rejected(_)) {
            400
        } else {
            500
        },
        body: ErrorBody {
            error: e.to_string(),
            expected_seq: None,
        },
    }
}

/// The server's HTTP handlers without HTTP: authenticate the token, call the store, map
/// its errors as the HTTP layer does.
struct Local {
    server: Shared,
    token: String,
    /// What the terminal last said it has waiting to push.
    pending: Option<i64>,
}

impl Local {
    fn who(&self) -> Result<TerminalInfo, TransportError> {
        match self.server.borrow().authenticate(&self.token) {
            Ok(Some(who)) => Ok(TerminalInfo {
                pending: self.pending,
                ..who
            }),
            Ok(None) => Err(TransportError::Unauthorized),
            Err(e) => Err(refused(&e)),
        }
    }
}

impl Transport for Local {
    fn push(&mut self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        let who = self.who()?;
        let answer = self
            .server
            .borrow_mut()
            .push(&who, &request.events, Utc::now());
        match answer {
            Ok(results) => Ok(PushResponse { results }),
            Err(PushError::Conflict {
                expected_seq,
                reason,
            }) => Err(TransportError::Conflict(ErrorBody {
                error: reason,
                expected_seq: Some(expected_seq),
            })),
            Err(PushError::Store(e)) => Err(refused(&e)),
        }
    }

    fn pull(
        &mut self,
        after: i64,
        limit: usize,
        _wait_secs: u64,
    ) -> Result<PulledPage, TransportError> {
        let who = self.who()?;
        let answer = self.server.borrow_mut().pull_stored(&who, after, limit);
        answer
            .map_err(|e| refused(&e))?
            .into_pulled()
            .map_err(|(gseq, e)| TransportError::Offline(format!("event {gseq} is no event: {e}")))
    }

    fn snapshot(&mut self) -> Result<Snapshot, TransportError> {
        let who = self.who()?;
        let answer = self.server.borrow_mut().snapshot_for(&who);
        answer.map_err(|e| refused(&e))
    }

    fn report_pending(&mut self, pending: i64) {
        self.pending = Some(pending);
    }
}

// ---------------------------------------------------------------------------------------
// The fault layer

/// How likely each fault is, per call.
#[derive(Debug, Clone, Copy, Default)]
struct Faults {
    /// The request never reaches the server.
    drop_request: f64,
    /// The server answers (and commits) but the answer is lost.
    drop_response: f64,
    /// The request reaches the server twice; the client sees the second answer.
    duplicate: f64,
    /// A push is split in two and the halves reach the server out of order.
    reorder: f64,
    /// An old push, answered long ago, reaches the server again before this one.
    stale: f64,
    /// The network goes away for the next several calls.
    offline: f64,
}

impl Faults {
    const NONE: Self = Self {
        drop_request: 0.0,
        drop_response: 0.0,
        duplicate: 0.0,
        reorder: 0.0,
        stale: 0.0,
        offline: 0.0,
    };

    fn all() -> Self {
        Self {
            drop_request: 0.1,
            drop_response: 0.15,
            duplicate: 0.15,
            reorder: 0.2,
            stale: 0.1,
            offline: 0.05,
        }
    }
}

/// What the fault layers did, and what they saw go wrong.
#[derive(Debug, Default, Clone)]
struct Stats {
    pushes: usize,
    pushed_events: usize,
    batch_sizes: Vec<usize>,
    pulls: usize,
    snapshots: usize,
    dropped_requests: usize,
    dropped_responses: usize,
    duplicates: usize,
    reorders: usize,
    gap_conflicts: usize,
    stale_replays: usize,
    offline_periods: usize,
    offline_calls: usize,
}

impl Stats {
    fn add(&mut self, o: &Stats) {
        self.pushes += o.pushes;
        self.pushed_events += o.pushed_events;
        self.pulls += o.pulls;
        self.snapshots += o.snapshots;
        self.dropped_requests += o.dropped_requests;
        self.dropped_responses += o.dropped_responses;
        self.duplicates += o.duplicates;
        self.reorders += o.reorders;
        self.gap_conflicts += o.gap_conflicts;
        self.stale_replays += o.stale_replays;
        self.offline_periods += o.offline_periods;
        self.offline_calls += o.offline_calls;
    }
}

/// Shared by every terminal's fault layer: each answer the server ever gave per event id
/// (it must never change), and the violations seen.
#[derive(Default)]
struct Ledger {
    answers: HashMap<String, PushResult>,
    violations: Vec<String>,
    stats: Stats,
}

type SharedLedger = Rc<RefCell<Ledger>>;

struct Faulty {
    inner: Local,
    rng: Rng,
    faults: Faults,
    offline_for: u32,
    /// Recent push requests, to deliver again late.
    history: Vec<PushRequest>,
    ledger: SharedLedger,
    /// Lose the answer of the push with this number (counted over all links, from 1),
    /// once; for scripted tests.
    lose_answer_of_push: Option<usize>,
    /// Lose every push request before it reaches the server, while set.
    lose_pushes: bool,
}

impl Faulty {
    fn new(server: &Shared, token: &str, rng: Rng, faults: Faults, ledger: &SharedLedger) -> Self {
        Self {
            inner: Local {
                server: Rc::clone(server),
                token: token.to_string(),
                pending: None,
            },
            rng,
            faults,
            offline_for: 0,
            history: Vec::new(),
            ledger: Rc::clone(ledger),
            lose_answer_of_push: None,
            lose_pushes: false,
        }
    }

    fn violation(&self, v: String) {
        self.ledger.borrow_mut().violations.push(v);
    }

    /// Offline periods and lost requests: the server never sees the call.
    fn gate(&mut self) -> Result<(), TransportError> {
        if self.offline_for > 0 {
            self.offline_for -= 1;
            self.ledger.borrow_mut().stats.offline_calls += 1;
            return Err(TransportError::Offline("offline period".into()));
        }
        if self.rng.chance(self.faults.offline) {
            self.offline_for = 2 + self.rng.below(10) as u32;
            self.ledger.borrow_mut().stats.offline_periods += 1;
            return Err(TransportError::Offline("offline period starts".into()));
        }
        if self.rng.chance(self.faults.drop_request) {
            self.ledger.borrow_mut().stats.dropped_requests += 1;
            return Err(TransportError::Offline("request lost".into()));
        }
        Ok(())
    }

    /// Lost answers: the server did the work, the client never hears of it.
    fn deliver<T>(&mut self, answer: Result<T, TransportError>) -> Result<T, TransportError> {
        if self.rng.chance(self.faults.drop_response) {
            self.ledger.borrow_mut().stats.dropped_responses += 1;
            return Err(TransportError::Offline("response lost".into()));
        }
        answer
    }

    /// Check an answer against what was sent and against every earlier answer.
    fn note(&self, sent: &[floorhand::sync::wire::WireEvent], results: &[PushResult]) {
        if let Err(e) = plan::check_results(sent, results) {
            self.violation(format!("answer does not fit the request: {e}"));
            return;
        }
        let mut ledger = self.ledger.borrow_mut();
        for r in results {
            let id = match r {
                PushResult::Accepted { id, .. } | PushResult::Rejected { id, .. } => id.clone(),
            };
            match ledger.answers.get(&id) {
                Some(before) if before != r => {
                    let v =
                        format!("the server answered event {id} with {before:?}, later with {r:?}");
                    ledger.violations.push(v);
                }
                Some(_) => {}
                None => {
                    ledger.answers.insert(id, r.clone());
                }
            }
        }
    }

    fn push_once(
        &mut self,
        events: &[floorhand::sync::wire::WireEvent],
    ) -> Result<PushResponse, TransportError> {
        let request = PushRequest {
            events: events.to_vec(),
        };
        let answer = self.inner.push(&request);
        if let Ok(r) = &answer {
            self.note(events, &r.results);
        }
        answer
    }

    /// The second half first (a gap: refused whole), then the first, then the second again.
    fn reordered(&mut self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        self.ledger.borrow_mut().stats.reorders += 1;
        let mid = request.events.len() / 2;
        let (first, second) = request.events.split_at(mid);
        match self.push_once(second) {
            // Everything before it was committed by an earlier attempt.
            Ok(_) => {}
            Err(TransportError::Conflict(body)) => {
                self.ledger.borrow_mut().stats.gap_conflicts += 1;
                let (lo, hi) = (first[0].seq, second[0].seq);
                match body.expected_seq {
                    Some(x) if x >= lo && x < hi => {}
                    other => self.violation(format!(
                        "a push of seq {hi}.. ahead of {lo}.. got 409 expecting {other:?}"
                    )),
                }
            }
            Err(e) => self.violation(format!("the second half pushed early got {e}")),
        }
        let a = self.push_once(first)?;
        let b = self.push_once(second)?;
        Ok(PushResponse {
            results: a.results.into_iter().chain(b.results).collect(),
        })
    }
}

impl Transport for Faulty {
    fn push(&mut self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        {
            let mut l = self.ledger.borrow_mut();
            l.stats.pushes += 1;
            l.stats.pushed_events += request.events.len();
            l.stats.batch_sizes.push(request.events.len());
        }
        let number = self.ledger.borrow().stats.pushes;
        self.gate()?;
        if self.lose_pushes {
            self.ledger.borrow_mut().stats.dropped_requests += 1;
            return Err(TransportError::Offline("request lost (scripted)".into()));
        }
        if !self.history.is_empty() && self.rng.chance(self.faults.stale) {
            let old = self.history[self.rng.below(self.history.len())].clone();
            self.ledger.borrow_mut().stats.stale_replays += 1;
            if let Err(e) = self.push_once(&old.events) {
                self.violation(format!(
                    "an old push of seq {:?}.. delivered again got {e}",
                    old.events.first().map(|e| e.seq)
                ));
            }
        }
        let answer = if request.events.len() >= 2 && self.rng.chance(self.faults.reorder) {
            self.reordered(request)
        } else if self.rng.chance(self.faults.duplicate) {
            self.ledger.borrow_mut().stats.duplicates += 1;
            let first = self.push_once(&request.events);
            let second = self.push_once(&request.events);
            if let (Ok(a), Ok(b)) = (&first, &second)
                && a != b
            {
                self.violation(format!(
                    "the same push answered twice differently: {a:?} then {b:?}"
                ));
            }
            second
        } else {
            self.push_once(&request.events)
        };
        self.history.push(request.clone());
        if self.history.len() > 16 {
            self.history.remove(0);
        }
        if self.lose_answer_of_push == Some(number) {
            self.lose_answer_of_push = None;
            self.ledger.borrow_mut().stats.dropped_responses += 1;
            return Err(TransportError::Offline("response lost (scripted)".into()));
        }
        self.deliver(answer)
    }

    fn pull(
        &mut self,
        after: i64,
        limit: usize,
        wait_secs: u64,
    ) -> Result<PulledPage, TransportError> {
        self.ledger.borrow_mut().stats.pulls += 1;
        self.gate()?;
        let answer = if self.rng.chance(self.faults.duplicate) {
            self.ledger.borrow_mut().stats.duplicates += 1;
            let first = self.inner.pull(after, limit, wait_secs);
            let second = self.inner.pull(after, limit, wait_secs);
            if let (Ok(a), Ok(b)) = (&first, &second)
                && a.events != b.events
            {
                self.violation(format!(
                    "the same pull after {after} answered twice differently"
                ));
            }
            second
        } else {
            self.inner.pull(after, limit, wait_secs)
        };
        self.deliver(answer)
    }

    fn snapshot(&mut self) -> Result<Snapshot, TransportError> {
        self.ledger.borrow_mut().stats.snapshots += 1;
        self.gate()?;
        let answer = self.inner.snapshot();
        self.deliver(answer)
    }

    fn report_pending(&mut self, pending: i64) {
        self.inner.report_pending(pending);
    }
}

// ---------------------------------------------------------------------------------------
// The floor: random movements a terminal's own stock allows

/// The movements terminals record: mostly stock moving through the warehouse, now and
/// then a loss.
const MIX: Mix = Mix {
    receipt: 20,
    putaway: 20,
    transfer: 30,
    pick: 15,
    ship: 10,
    loss: 5,
    transfers_by_putaway: 0.5,
};

// ---------------------------------------------------------------------------------------
// A world: a server and its terminals

struct Term {
    store: Store,
    link: Faulty,
}

struct World {
    dir: tempfile::TempDir,
    server: Shared,
    terms: Vec<Term>,
    ledger: SharedLedger,
    floor: Floor,
}

impl World {
    fn new(rng: &mut Rng, terminals: usize, faults: Faults) -> TestResult<Self> {
        let dir = tempfile::tempdir()?;
        let server = new_server(dir.path())?;
        let floor = floor(&server.borrow(), 11)?;
        let ledger = SharedLedger::default();
        let mut w = Self {
            dir,
            server,
            terms: Vec::new(),
            ledger,
            floor,
        };
        for i in 1..=terminals {
            w.add_terminal(&format!("T{i}"), rng.fork(), faults)?;
        }
        Ok(w)
    }

    fn add_terminal(&mut self, name: &str, rng: Rng, faults: Faults) -> TestResult<usize> {
        let store = new_terminal(self.dir.path(), name)?;
        self.join(store, name, rng, faults)
    }

    /// Enrol `store` as terminal `name` and link it to the server; returns its index.
    fn join(
        &mut self,
        mut store: Store,
        name: &str,
        rng: Rng,
        faults: Faults,
    ) -> TestResult<usize> {
        let token = enrol_store(&self.server, &mut store, name)?;
        let link = Faulty::new(&self.server, &token, rng, faults, &self.ledger);
        self.terms.push(Term { store, link });
        Ok(self.terms.len() - 1)
    }

    /// Everyone syncs until nothing moves; faults stay on for a while, then stop.
    fn quiesce(&mut self) -> TestResult {
        for pass in 0..60 {
            if pass == 15 {
                for t in &mut self.terms {
                    t.link.faults = Faults::NONE;
                    t.link.offline_for = 0;
                }
            }
            let mut quiet = true;
            for t in &mut self.terms {
                match sync(t)? {
                    Some(r) => {
                        quiet &= r.pushed == 0 && r.pulled == 0 && t.store.pending_count()? == 0
                    }
                    None => quiet = false,
                }
            }
            if quiet {
                return Ok(());
            }
        }
        Err("the terminals did not settle within 60 sync passes".into())
    }

    fn violations(&self) -> TestResult {
        let l = self.ledger.borrow();
        ensure!(
            l.violations.is_empty(),
            "the fault layer saw {} violations: {:#?}",
            l.violations.len(),
            l.violations.iter().take(10).collect::<Vec<_>>()
        );
        Ok(())
    }

    fn verify(&self) -> TestResult {
        self.violations()?;
        // The server's balances follow its journal; whoever reads them catches up first.
        self.server.borrow_mut().catch_up()?;
        let stores: Vec<&Store> = self.terms.iter().map(|t| &t.store).collect();
        verify(&self.server.borrow(), &stores)
    }
}

/// One round; `None` when the network was away. Anything else that fails fails the test.
fn sync(t: &mut Term) -> TestResult<Option<Round>> {
    match client::round(&mut t.store, &mut t.link) {
        Ok(r) => Ok(Some(r)),
        Err(SyncError::Transport(TransportError::Offline(_))) => Ok(None),
        Err(e) => Err(format!("{}: sync failed: {e}", t.store.terminal()).into()),
    }
}

// ---------------------------------------------------------------------------------------
// What must hold after everyone synced

fn diff(a: &BTreeMap<Key, i64>, b: &BTreeMap<Key, i64>) -> Vec<String> {
    let keys: BTreeSet<&Key> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            format!(
                "{} {} {:?}: {:?} vs {:?}",
                k.0,
                k.1,
                k.2,
                a.get(k),
                b.get(k)
            )
        })
        .collect()
}

/// The checks of `store.check()` that fail, with their first violations.
fn failed_checks(store: &Store) -> TestResult<Vec<String>> {
    Ok(store
        .check()?
        .checks
        .into_iter()
        .filter(|c| !c.ok)
        .map(|c| {
            format!(
                "{}: {:?}",
                c.name,
                c.violations.iter().take(5).collect::<Vec<_>>()
            )
        })
        .collect())
}

fn negative_physical(store: &Store) -> TestResult<Vec<(Key, i64)>> {
    Ok(store
        .stock(&StockFilter::default())?
        .into_iter()
        .filter(|r| r.qty < 0)
        .map(|r| ((r.location, r.sku, r.lot), r.qty))
        .collect())
}

fn open_exception(store: &Store, k: &Key) -> TestResult<bool> {
    Ok(store.connection().query_row(
        "SELECT EXISTS (SELECT 1 FROM exceptions WHERE location = ?1 AND sku = ?2 AND lot = ?3
                        AND state = 'open')",
        [&k.0, &k.1, &k.2],
        |r| r.get(0),
    )?)
}

fn strings2(store: &Store, sql: &str, param: &str) -> TestResult<Vec<(String, i64)>> {
    let mut stmt = store.connection().prepare(sql)?;
    let rows = stmt.query_map([param], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every property of a settled system.
fn verify(server: &Store, terminals: &[&Store]) -> TestResult {
    let conn = server.connection();
    // The global sequence is gapless.
    let (count, min, max): (i64, i64, i64) = conn.query_row(
        "SELECT COUNT(*), COALESCE(MIN(ord), 0), COALESCE(MAX(ord), 0) FROM journal",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    ensure!(
        count == max && (count == 0 || min == 1),
        "server gseq not gapless: {count} rows, {min}..{max}"
    );
    let mut journal: HashMap<String, (String, i64, i64)> = HashMap::new();
    {
        let mut stmt = conn.prepare("SELECT id, terminal, seq, ord FROM journal")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            journal.insert(r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?));
        }
    }
    let mut rejected: HashMap<String, (String, i64)> = HashMap::new();
    {
        let mut stmt = conn.prepare("SELECT id, terminal, seq FROM rejected_events")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            rejected.insert(r.get(0)?, (r.get(1)?, r.get(2)?));
        }
    }
    let mut problems: Vec<String> = Vec::new();
    for bad in failed_checks(server)? {
        problems.push(format!("server check {bad}"));
    }
    let server_balances = balances(server)?;
    for t in terminals {
        let name = t.terminal().to_string();
        // Every event it recorded is on the server once, accepted or rejected, and the
        // server holds nothing from it that it did not record.
        let own = strings2(
            t,
            "SELECT id, seq FROM journal WHERE terminal = ?1 ORDER BY seq",
            &name,
        )?;
        let answers: HashMap<String, (Option<i64>, Option<String>)> = {
            let mut stmt = t
                .connection()
                .prepare("SELECT id, gseq, reason FROM sync_results")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?;
            rows.collect::<Result<_, _>>()?
        };
        for (id, seq) in &own {
            match (journal.get(id), rejected.get(id)) {
                (Some((term, s, ord)), None) => {
                    if *term != name || s != seq {
                        problems.push(format!(
                            "{name} seq {seq} ({id}) is on the server as {term} seq {s}"
                        ));
                    }
                    if answers.get(id).map(|a| a.0) != Some(Some(*ord)) {
                        problems.push(format!(
                            "{name} seq {seq} ({id}) has gseq {ord} on the server but {:?} on the terminal",
                            answers.get(id)
                        ));
                    }
                }
                (None, Some(_)) => {
                    if answers.get(id).is_none_or(|a| a.1.is_none()) {
                        problems.push(format!(
                            "{name} seq {seq} ({id}) was rejected but the terminal does not know"
                        ));
                    }
                }
                (Some(_), Some(_)) => problems.push(format!(
                    "{name} seq {seq} ({id}) is both accepted and rejected"
                )),
                (None, None) => problems.push(format!(
                    "{name} seq {seq} ({id}) was lost: not on the server"
                )),
            }
        }
        let on_server = journal.values().filter(|v| v.0 == name).count()
            + rejected.values().filter(|v| v.0 == name).count();
        if on_server != own.len() {
            problems.push(format!(
                "the server holds {on_server} events of {name}, which recorded {}",
                own.len()
            ));
        }
        let pending = t.pending_count()?;
        if pending != 0 {
            problems.push(format!("{name} still has {pending} pending events"));
        }
        // It holds every event of the others since its snapshot, once (ids are UNIQUE);
        // those pulled before a resync's snapshot stay in its journal too.
        let base: i64 = t
            .meta("sync.bootstrapped")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let theirs: BTreeSet<String> =
            strings2(t, "SELECT id, ord FROM journal WHERE terminal != ?1", &name)?
                .into_iter()
                .map(|(id, _)| id)
                .collect();
        let want: BTreeSet<String> = journal
            .iter()
            .filter(|(_, v)| v.2 > base && v.0 != name)
            .map(|(id, _)| id.clone())
            .collect();
        let missing: Vec<_> = want.difference(&theirs).take(5).collect();
        // Those before a resync's snapshot: journal rows up to the baseline's.
        let baseline_ord: i64 = t
            .meta("sync.baseline_ord")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let before_baseline: BTreeSet<String> =
            strings2(t, "SELECT id, ord FROM journal WHERE terminal != ?1", &name)?
                .into_iter()
                .filter(|(_, ord)| *ord <= baseline_ord)
                .map(|(id, _)| id)
                .collect();
        let extra: Vec<_> = theirs
            .difference(&want)
            .filter(|id| {
                !(before_baseline.contains(*id)
                    && journal.get(*id).is_some_and(|v| v.2 <= base && v.0 != name))
            })
            .take(5)
            .collect();
        if !missing.is_empty() || !extra.is_empty() {
            problems.push(format!(
                "{name}'s events of others differ from the server's since gseq {base}: missing {missing:?}, extra {extra:?}"
            ));
        }
        // Same balances, virtual locations included.
        let d = diff(&balances(t)?, &server_balances);
        if !d.is_empty() {
            problems.push(format!(
                "{name}'s balances differ from the server's in {} places (terminal vs server): {:?}",
                d.len(),
                d.iter().take(8).collect::<Vec<_>>()
            ));
        }
        // Every check holds, except that a negative physical balance is fine where the
        // server raised an exception for it (a terminal that bootstrapped after the
        // exception does not have it: see `late_terminal_knows_what_the_others_pulled`).
        for bad in failed_checks(t)? {
            if !bad.starts_with("no_negative_physical") {
                problems.push(format!("{name} check {bad}"));
            }
        }
        let mut unknown_here = 0;
        for (k, qty) in negative_physical(t)? {
            if !open_exception(server, &k)? {
                problems.push(format!(
                    "{name}: {} holds {qty} of {} {:?} and the server raised no exception for it",
                    k.0, k.1, k.2
                ));
            } else if !open_exception(t, &k)? {
                unknown_here += 1;
            }
        }
        if unknown_here > 0 {
            eprintln!(
                "note: {name} holds {unknown_here} negative balances the server raised exceptions for \
                 before {name}'s snapshot; {name} does not have those exceptions"
            );
        }
    }
    ensure!(
        problems.is_empty(),
        "{} problems:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Convergence and exactly-once under faults

struct Outcome {
    moves: usize,
    stats: Stats,
    exceptions: i64,
}

/// Terminals make `moves` random movements, syncing at random through faulty links (and,
/// if `late`, one more terminal joins half-way); then everyone settles and everything is
/// verified.
fn scenario(
    seed: u64,
    faults: Faults,
    terminals: usize,
    moves: usize,
    late: bool,
) -> TestResult<Outcome> {
    let mut rng = Rng::new(seed);
    let mut w = World::new(&mut rng, terminals, faults)?;
    let mut made = 0;
    let mut steps = 0;
    while made < moves && steps < moves * 20 {
        steps += 1;
        if late && made == moves / 2 && w.terms.len() == terminals {
            // One more terminal joins in the middle of the traffic.
            w.add_terminal(&format!("T{}", terminals + 1), rng.fork(), faults)?;
        }
        let i = rng.below(w.terms.len());
        if rng.chance(0.3) {
            sync(&mut w.terms[i])?;
        } else if random_move(&mut rng, &mut w.terms[i].store, &w.floor, &MIX)? {
            made += 1;
        }
    }
    ensure!(
        made == moves,
        "only {made} of {moves} movements could be made in {steps} steps"
    );
    w.quiesce()?;
    w.verify()?;
    let exceptions: i64 =
        w.server
            .borrow()
            .connection()
            .query_row("SELECT COUNT(*) FROM exceptions", [], |r| r.get(0))?;
    let stats = w.ledger.borrow().stats.clone();
    Ok(Outcome {
        moves: made,
        stats,
        exceptions,
    })
}

#[test]
fn terminals_converge_through_every_fault() -> TestResult {
    let test = "terminals_converge_through_every_fault";
    let seed = base_seed(test);
    let started = std::time::Instant::now();
    let o = seeded(test, seed, |s| scenario(s, Faults::all(), 3, 300, true))?;
    eprintln!(
        "{test}: {} moves, {} exceptions raised, {:?} in {:?}",
        o.moves,
        o.exceptions,
        o.stats,
        started.elapsed()
    );
    // The run must have exercised what it claims to.
    let s = &o.stats;
    ensure!(
        s.dropped_requests > 0
            && s.dropped_responses > 0
            && s.duplicates > 0
            && s.reorders > 0
            && s.offline_periods > 0,
        "seed {seed}: some fault never fired: {s:?}"
    );
    ensure!(
        o.exceptions > 0,
        "seed {seed}: no merge left a bin negative; the run proves less than it should"
    );
    Ok(())
}

const SEEDS: u64 = 10;

/// Ten seeds of one fault kind alone; the fault must actually fire.
fn exactly_once(test: &str, faults: Faults, fired: impl Fn(&Stats) -> usize) -> TestResult {
    let base = base_seed(test);
    let started = std::time::Instant::now();
    let mut total = Stats::default();
    for i in 0..SEEDS {
        let o = seeded(test, base.wrapping_add(i), |s| {
            scenario(s, faults, 3, 60, false)
        })?;
        total.add(&o.stats);
    }
    eprintln!(
        "{test}: {SEEDS} seeds from {base} in {:?}: {total:?}",
        started.elapsed()
    );
    ensure!(
        fired(&total) > 0,
        "{test}: the fault never fired in {SEEDS} seeds from {base}"
    );
    Ok(())
}

#[test]
fn exactly_once_when_requests_are_lost() -> TestResult {
    let f = Faults {
        drop_request: 0.3,
        ..Faults::NONE
    };
    exactly_once("exactly_once_when_requests_are_lost", f, |s| {
        s.dropped_requests
    })
}

#[test]
fn exactly_once_when_answers_are_lost() -> TestResult {
    let f = Faults {
        drop_response: 0.3,
        ..Faults::NONE
    };
    exactly_once("exactly_once_when_answers_are_lost", f, |s| {
        s.dropped_responses
    })
}

#[test]
fn exactly_once_when_requests_arrive_twice() -> TestResult {
    let f = Faults {
        duplicate: 0.4,
        ..Faults::NONE
    };
    exactly_once("exactly_once_when_requests_arrive_twice", f, |s| {
        s.duplicates
    })
}

#[test]
fn exactly_once_when_batches_arrive_out_of_order() -> TestResult {
    let f = Faults {
        reorder: 0.5,
        ..Faults::NONE
    };
    exactly_once("exactly_once_when_batches_arrive_out_of_order", f, |s| {
        s.gap_conflicts
    })
}

#[test]
fn exactly_once_when_old_pushes_arrive_late() -> TestResult {
    let f = Faults {
        stale: 0.5,
        ..Faults::NONE
    };
    exactly_once("exactly_once_when_old_pushes_arrive_late", f, |s| {
        s.stale_replays
    })
}

#[test]
fn exactly_once_through_offline_periods() -> TestResult {
    let f = Faults {
        offline: 0.15,
        ..Faults::NONE
    };
    exactly_once("exactly_once_through_offline_periods", f, |s| {
        s.offline_periods
    })
}

#[test]
fn exactly_once_under_all_faults_together() -> TestResult {
    exactly_once(
        "exactly_once_under_all_faults_together",
        Faults::all(),
        |s| {
            s.dropped_requests
                .min(s.dropped_responses)
                .min(s.duplicates)
                .min(s.gap_conflicts)
                .min(s.stale_replays)
        },
    )
}

// ---------------------------------------------------------------------------------------
// Scripted scenarios

/// A scripted scenario, seeded: `f` gets the generator and a world of `terminals`
/// terminals on fault-free links.
fn scripted(
    test: &str,
    terminals: usize,
    f: impl FnOnce(&mut Rng, &mut World) -> TestResult,
) -> TestResult {
    seeded(test, base_seed(test), |seed| {
        let mut rng = Rng::new(seed);
        let mut w = World::new(&mut rng, terminals, Faults::NONE)?;
        f(&mut rng, &mut w)
    })
}

/// The demo's locations and items imported locally, as a terminal that never synced may
/// know them (no stock).
fn import_demo_reference(store: &mut Store) -> TestResult {
    store.define_locations(
        "system",
        &floorhand::import::locations(floorhand::demo::LOCATIONS_CSV.as_bytes())?,
    )?;
    store.define_items(
        "system",
        &floorhand::import::items(floorhand::demo::ITEMS_CSV.as_bytes())?,
    )?;
    Ok(())
}

/// `qty` of SKU-10099 (no lot) received good on line 1 of PO-5002 to DOCK-01, on
/// 2026-11-21 with a 10 % tolerance.
fn po_5002_line_1(receipt: &str, qty: i64) -> TestResult<Receive> {
    Ok(Receive {
        receipt: receipt.to_string(),
        line: 1,
        sku: "SKU-10099".into(),
        lot: String::new(),
        expiry: None,
        qty,
        damaged: false,
        to: "DOCK-01".into(),
        approved_by: None,
        sscc: None,
        tolerance_pct: 10,
        today: NaiveDate::from_ymd_opt(2026, 11, 21).ok_or("date")?,
    })
}

/// A round that must succeed.
fn sync_ok(t: &mut Term) -> TestResult<Round> {
    sync(t)?.ok_or_else(|| format!("{}: unexpectedly offline", t.store.terminal()).into())
}

/// Rounds until one succeeds (the link may be faulty).
fn sync_eventually(t: &mut Term) -> TestResult<Round> {
    for _ in 0..100 {
        if let Some(r) = sync(t)? {
            return Ok(r);
        }
    }
    Err(format!("{}: no round succeeded in 100 tries", t.store.terminal()).into())
}

fn stock_moved(sku: &str, from: &str, to: &str, qty: i64, reason: MoveReason) -> Event {
    Event::StockMoved {
        sku: sku.into(),
        lot: String::new(),
        from: from.into(),
        to: to.into(),
        qty,
        reason,
        receipt: None,
        order: None,
    }
}

fn journal_has(store: &Store, id: &str) -> TestResult<bool> {
    Ok(store.connection().query_row(
        "SELECT EXISTS (SELECT 1 FROM journal WHERE id = ?1)",
        [id],
        |r| r.get(0),
    )?)
}

/// A movement by a user whose role may not record it (the picker receiving goods) is
/// rejected with a reason, listed on the terminal, does not block the events after it,
/// and never reaches other terminals. Its answer is lost and repeated on the way.
#[test]
fn rejected_event_is_reported_never_blocks_and_stays_home() -> TestResult {
    let test = "rejected_event_is_reported_never_blocks_and_stays_home";
    scripted(test, 2, |_, w| {
        sync_ok(&mut w.terms[0])?;
        sync_ok(&mut w.terms[1])?;
        w.terms[0].link.faults = Faults {
            drop_response: 0.5,
            duplicate: 0.5,
            ..Faults::NONE
        };
        let t1 = &mut w.terms[0].store;
        // Bypass the menu: the picker records a receipt.
        let bad = t1.record(
            "1003",
            &[stock_moved(
                "SKU-10001",
                "SUPPLIER",
                "DOCK-01",
                5,
                MoveReason::Receipt,
            )],
        )?;
        let good = t1.move_stock("1001", &from_supplier("SKU-10001", "DOCK-02", 7))?;
        let bad_id = bad[0].id.to_string();
        let good_id = good[0].id.to_string();
        sync_eventually(&mut w.terms[0])?;
        let t1 = &mut w.terms[0].store;
        ensure!(
            t1.pending_count()? == 0,
            "{} events still pending",
            t1.pending_count()?
        );
        let rejected = t1.rejected_events()?;
        ensure!(
            rejected.len() == 1 && t1.rejected_count()? == 1,
            "rejected on the terminal: {rejected:?}"
        );
        let r = &rejected[0];
        ensure!(
            r.id == bad_id && r.seq == bad[0].seq && r.user == "1003" && r.kind == "stock_moved",
            "the wrong event is listed as rejected: {r:?}"
        );
        ensure!(
            r.reason.contains("may not record a receipt movement"),
            "the reason does not say why: {:?}",
            r.reason
        );
        {
            let server = w.server.borrow();
            let reason: String = server.connection().query_row(
                "SELECT reason FROM rejected_events WHERE terminal = 'T1' AND id = ?1",
                [&bad_id],
                |row| row.get(0),
            )?;
            ensure!(
                reason == r.reason,
                "server says {reason:?}, terminal {:?}",
                r.reason
            );
            ensure!(
                !journal_has(&server, &bad_id)?,
                "the rejected event is in the server's journal"
            );
            ensure!(
                journal_has(&server, &good_id)?,
                "the event after the rejected one was not accepted"
            );
        }
        // Later events are accepted too.
        let later = t1.move_stock(
            "1002",
            &mv(
                "SKU-10001",
                "",
                "DOCK-02",
                "A-01-01-2",
                7,
                MoveReason::Putaway,
            ),
        )?;
        sync_eventually(&mut w.terms[0])?;
        ensure!(
            journal_has(&w.server.borrow(), &later[0].id.to_string())?,
            "the putaway was not accepted"
        );
        ensure!(
            w.terms[0].store.rejected_count()? == 1,
            "more rejections than the one"
        );
        // The other terminal gets the accepted events, never the rejected one.
        sync_ok(&mut w.terms[1])?;
        let t2 = &w.terms[1].store;
        ensure!(!journal_has(t2, &bad_id)?, "the rejected event reached T2");
        ensure!(
            journal_has(t2, &good_id)?,
            "T2 did not get the accepted receipt"
        );
        ensure!(
            journal_has(t2, &later[0].id.to_string())?,
            "T2 did not get the accepted putaway"
        );
        // And everyone agrees with the server, the terminal that made the rejected
        // movement included.
        w.quiesce()?;
        w.verify()
    })
}

/// A terminal that works before it ever reached the server keeps its events through the
/// bootstrap: they stay pending, stay applied on top of the snapshot, and are pushed.
#[test]
fn bootstrap_keeps_pending_local_events() -> TestResult {
    let test = "bootstrap_keeps_pending_local_events";
    scripted(test, 1, |rng, w| {
        // The other terminal works and syncs meanwhile, so the server moves on.
        sync_ok(&mut w.terms[0])?;
        for _ in 0..20 {
            random_move(rng, &mut w.terms[0].store, &w.floor, &MIX)?;
        }
        sync_ok(&mut w.terms[0])?;
        // T9 knows the warehouse from a local import (no stock), and works offline.
        let mut t9 = new_terminal(w.dir.path(), "T9")?;
        import_demo_reference(&mut t9)?;
        let mut moves = Vec::new();
        moves.extend(t9.move_stock("1001", &from_supplier("SKU-10001", "DOCK-01", 12))?);
        moves.extend(t9.move_stock(
            "1002",
            &mv(
                "SKU-10001",
                "",
                "DOCK-01",
                "A-01-01-2",
                5,
                MoveReason::Putaway,
            ),
        )?);
        moves.extend(t9.move_stock("1001", &from_supplier("SKU-10002", "DOCK-02", 3))?);
        let t9 = w.join(t9, "T9", rng.fork(), Faults::NONE)?;
        let pending = w.terms[t9].store.pending_count()?;
        // The first round bootstraps, then its push is lost on the way.
        w.terms[t9].link.lose_pushes = true;
        ensure!(
            sync(&mut w.terms[t9])?.is_none(),
            "the push should have been lost"
        );
        let t = &w.terms[t9].store;
        ensure!(t.is_bootstrapped()?, "not bootstrapped");
        ensure!(
            t.pending_count()? == pending,
            "pending went from {pending} to {}",
            t.pending_count()?
        );
        for m in &moves {
            ensure!(
                journal_has(t, &m.id.to_string())?,
                "the bootstrap discarded {m:?}"
            );
        }
        // Its balances are the server's plus its own movements.
        w.server.borrow_mut().catch_up()?;
        let mut want = balances(&w.server.borrow())?;
        for (loc, sku, qty) in [
            ("SUPPLIER", "SKU-10001", -12),
            ("DOCK-01", "SKU-10001", 7),
            ("A-01-01-2", "SKU-10001", 5),
            ("SUPPLIER", "SKU-10002", -3),
            ("DOCK-02", "SKU-10002", 3),
        ] {
            *want
                .entry((loc.into(), sku.into(), String::new()))
                .or_default() += qty;
        }
        want.retain(|_, q| *q != 0);
        let d = diff(&balances(t)?, &want);
        ensure!(
            d.is_empty(),
            "after the bootstrap, T9 vs server + own movements: {d:?}"
        );
        let bad = failed_checks(t)?;
        ensure!(bad.is_empty(), "T9 after its bootstrap: {bad:?}");
        // Then they are pushed: the movements accepted, the local reference data rejected.
        w.terms[t9].link.lose_pushes = false;
        sync_ok(&mut w.terms[t9])?;
        for m in &moves {
            ensure!(
                journal_has(&w.server.borrow(), &m.id.to_string())?,
                "{m:?} was not accepted"
            );
        }
        w.quiesce()?;
        w.verify()
    })
}

/// A copy of a terminal's store records other events under the same sequence numbers:
/// whichever pushes second gets a 409 and must be enrolled again; nothing pending is
/// discarded, and the server keeps only the first.
#[test]
fn cloned_terminal_is_told_to_reenrol_and_keeps_its_events() -> TestResult {
    let test = "cloned_terminal_is_told_to_reenrol_and_keeps_its_events";
    scripted(test, 2, |_, w| {
        sync_ok(&mut w.terms[0])?;
        let receipt = |qty| from_supplier("SKU-10003", "DOCK-01", qty);
        for q in 1..=3 {
            w.terms[0].store.move_stock("1001", &receipt(q))?;
        }
        sync_ok(&mut w.terms[0])?;
        // Two more, not pushed yet, then the store is copied.
        for q in 4..=5 {
            w.terms[0].store.move_stock("1001", &receipt(q))?;
        }
        let path = w.dir.path().join("T1-clone.db");
        w.terms[0]
            .store
            .connection()
            .execute("VACUUM INTO ?1", [path.to_string_lossy().as_ref()])?;
        let mut clone = Store::open(&path, "whatever")?;
        fast(&clone)?;
        ensure!(
            clone.terminal() == "T1",
            "the clone is terminal {}",
            clone.terminal()
        );
        ensure!(
            clone.pending_count()? == 2,
            "the clone has {} pending",
            clone.pending_count()?
        );
        // Both go on working: same sequence numbers, different events.
        for q in 6..=7 {
            w.terms[0].store.move_stock("1001", &receipt(q))?;
        }
        for q in 8..=10 {
            clone.move_stock("1001", &receipt(q))?;
        }
        let clone_pending = clone.pending(100)?;
        sync_ok(&mut w.terms[0])?;
        let head = w.server.borrow().head()?;
        let token = w.terms[0].link.inner.token.clone();
        let mut link = Local {
            server: Rc::clone(&w.server),
            token,
            pending: None,
        };
        match client::round(&mut clone, &mut link) {
            Err(SyncError::Reenroll) => {}
            other => {
                return Err(
                    format!("the clone's push should need re-enrolment, got {other:?}").into(),
                );
            }
        }
        ensure!(
            w.server.borrow().head()? == head,
            "the refused push changed the server"
        );
        ensure!(
            clone.pending(100)? == clone_pending,
            "the clone lost pending events"
        );
        for e in &clone_pending[2..] {
            ensure!(
                !journal_has(&w.server.borrow(), &e.id)?,
                "the clone's seq {} reached the server",
                e.seq
            );
        }
        // The original goes on as if nothing happened.
        w.terms[0].store.move_stock("1001", &receipt(11))?;
        w.quiesce()?;
        w.verify()
    })
}

/// A terminal offline for a whole shift records 1,500 events; on reconnect the backlog
/// drains in batches of at most 500 (one answer lost on the way) and all converge.
#[test]
fn a_shift_offline_drains_in_batches_of_at_most_500() -> TestResult {
    let test = "a_shift_offline_drains_in_batches_of_at_most_500";
    scripted(test, 2, |rng, w| {
        sync_ok(&mut w.terms[0])?;
        sync_ok(&mut w.terms[1])?;
        let bins: Vec<String> = w.floor.storage.iter().take(20).cloned().collect();
        let skus = w.floor.skus.clone();
        let mut recorded = 0;
        while recorded < 1500 {
            // 25 receipts, then 25 putaways of one unit of each, in one transaction each.
            let batch: Vec<Move> = (0..25)
                .map(|i| {
                    mv(
                        &skus[i % skus.len()],
                        "",
                        "SUPPLIER",
                        "DOCK-01",
                        2,
                        MoveReason::Receipt,
                    )
                })
                .collect();
            recorded += w.terms[0].store.move_batch("1001", &batch)?.len();
            let batch: Vec<Move> = (0..25)
                .map(|i| {
                    mv(
                        &skus[i % skus.len()],
                        "",
                        "DOCK-01",
                        &bins[rng.below(bins.len())],
                        1,
                        MoveReason::Putaway,
                    )
                })
                .collect();
            recorded += w.terms[0].store.move_batch("1002", &batch)?.len();
            // The other terminal works online meanwhile.
            if random_move(rng, &mut w.terms[1].store, &w.floor, &MIX)? && rng.chance(0.3) {
                sync_ok(&mut w.terms[1])?;
            }
        }
        ensure!(
            w.terms[0].store.pending_count()? == 1500,
            "{} pending",
            w.terms[0].store.pending_count()?
        );
        // Back online; the answer to the second batch is lost.
        let before = w.ledger.borrow().stats.pushes;
        w.terms[0].link.lose_answer_of_push = Some(before + 2);
        ensure!(
            sync(&mut w.terms[0])?.is_none(),
            "the second batch's answer should have been lost"
        );
        ensure!(
            w.terms[0].store.pending_count()? == 1000,
            "after one answered batch: {} pending",
            w.terms[0].store.pending_count()?
        );
        // The server knows what is left: the terminal said so with each batch.
        let told = |w: &World| -> TestResult<Option<i64>> {
            let terminal = w.terms[0].store.terminal().to_string();
            Ok(w.server
                .borrow()
                .terminals_report()?
                .into_iter()
                .find(|t| t.terminal == terminal)
                .and_then(|t| t.pending))
        };
        ensure!(
            told(w)? == Some(500),
            "the server was told {:?} waiting after the second batch",
            told(w)?
        );
        sync_ok(&mut w.terms[0])?;
        ensure!(told(w)? == Some(0), "after the drain: {:?}", told(w)?);
        w.quiesce()?;
        w.verify()?;
        let sizes = w.ledger.borrow().stats.batch_sizes.clone();
        ensure!(
            sizes.iter().all(|n| *n <= MAX_BATCH),
            "a push carried more than {MAX_BATCH}: {sizes:?}"
        );
        let full = sizes.iter().filter(|n| **n == MAX_BATCH).count();
        ensure!(
            full >= 4,
            "expected at least 4 full batches (3 + the resend), got {full}: {sizes:?}"
        );
        Ok(())
    })
}

/// Whatever a terminal learnt by pulling, a terminal bootstrapped later from a snapshot
/// knows too: open exceptions, what was received on POs, open receipts, customer orders,
/// RMAs.
#[test]
fn late_terminal_knows_what_the_others_pulled() -> TestResult {
    let test = "late_terminal_knows_what_the_others_pulled";
    scripted(test, 2, |rng, w| {
        sync_ok(&mut w.terms[0])?;
        sync_ok(&mut w.terms[1])?;
        {
            let mut server = w.server.borrow_mut();
            let orders = floorhand::import::orders(floorhand::demo::ORDERS_CSV.as_bytes())?;
            server.define_orders("system", &orders)?;
            let rmas = floorhand::import::rmas(floorhand::demo::RMAS_CSV.as_bytes())?;
            server.define_rmas("system", &rmas)?;
        }
        // T1 receives 10 on PO-5002 line 1.
        let t1 = &mut w.terms[0].store;
        let receipt = t1.start_receipt("1001", "PO-5002", None)?;
        t1.receive("1001", &po_5002_line_1(&receipt, 10)?)?;
        // Both empty the same bin: the merge leaves it at -72 and the server raises it.
        w.terms[0].store.move_stock(
            "1007",
            &mv(
                "SKU-10021",
                "",
                "A-01-02-1",
                "A-01-01-2",
                72,
                MoveReason::Transfer,
            ),
        )?;
        w.terms[1].store.move_stock(
            "1002",
            &mv(
                "SKU-10021",
                "",
                "A-01-02-1",
                "A-01-01-3",
                72,
                MoveReason::Transfer,
            ),
        )?;
        w.quiesce()?;
        ensure!(
            w.server.borrow().balance("A-01-02-1", "SKU-10021", "")? == -72,
            "the merge did not go negative"
        );
        let raised: i64 = w.server.borrow().connection().query_row(
            "SELECT COUNT(*) FROM exceptions WHERE location = 'A-01-02-1' AND state = 'open'",
            [],
            |r| r.get(0),
        )?;
        ensure!(raised == 1, "{raised} exceptions raised for A-01-02-1");
        // T3 joins now.
        w.add_terminal("T3", rng.fork(), Faults::NONE)?;
        w.quiesce()?;
        let mut differ = Vec::new();
        for table in [
            "items",
            "gtins",
            "locations",
            "lots",
            "balances",
            "users",
            "purchase_orders",
            "po_lines",
            "putaway_rules",
            "exceptions",
            "customer_orders",
            "rmas",
            "receipts",
            "receipt_lines",
            "discrepancies",
        ] {
            let t2 = dump(&w.terms[1].store, table)?;
            let t3 = dump(&w.terms[2].store, table)?;
            if t2 != t3 {
                let only2: Vec<_> = t2.iter().filter(|r| !t3.contains(r)).take(3).collect();
                let only3: Vec<_> = t3.iter().filter(|r| !t2.contains(r)).take(3).collect();
                differ.push(format!(
                    "{table}: T2 (pulled) has {} rows, T3 (bootstrapped) {}; only T2: {only2:?}; only T3: {only3:?}",
                    t2.len(),
                    t3.len()
                ));
            }
        }
        let checks = failed_checks(&w.terms[2].store)?;
        ensure!(
            differ.is_empty() && checks.is_empty(),
            "T3, bootstrapped after the others, differs from T2:\n  {}\nT3's failed checks: {checks:?}",
            differ.join("\n  ")
        );
        w.verify()
    })
}

/// Every row of a table, as text, sorted.
fn dump(store: &Store, table: &str) -> TestResult<Vec<String>> {
    let mut stmt = store
        .connection()
        .prepare(&format!("SELECT * FROM {table}"))?;
    let n = stmt.column_count();
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut cells = Vec::with_capacity(n);
        for i in 0..n {
            cells.push(match r.get_ref(i)? {
                ValueRef::Null => "NULL".to_string(),
                ValueRef::Integer(v) => v.to_string(),
                ValueRef::Real(v) => v.to_string(),
                ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                ValueRef::Blob(b) => format!("{b:?}"),
            });
        }
        out.push(cells.join("|"));
    }
    out.sort();
    Ok(out)
}

/// A server restored from a backup has lost events a terminal had confirmed: the terminal
/// stops with ServerBehind, naming the first missing seq, and discards nothing.
#[test]
fn server_restored_from_backup_is_detected() -> TestResult {
    let test = "server_restored_from_backup_is_detected";
    scripted(test, 2, |_, w| {
        sync_ok(&mut w.terms[0])?;
        let receipt = |qty| from_supplier("SKU-10003", "DOCK-01", qty);
        for q in 1..=2 {
            w.terms[0].store.move_stock("1001", &receipt(q))?;
        }
        sync_ok(&mut w.terms[0])?;
        let backup = w.dir.path().join("server-backup.db");
        w.server
            .borrow()
            .connection()
            .execute("VACUUM INTO ?1", [backup.to_string_lossy().as_ref()])?;
        for q in 3..=5 {
            w.terms[0].store.move_stock("1001", &receipt(q))?;
        }
        sync_ok(&mut w.terms[0])?;
        // T2 pulled those; it has nothing to push.
        sync_ok(&mut w.terms[1])?;
        let restored = Store::open(&backup, "server")?;
        *w.server.borrow_mut() = restored;
        w.terms[0].store.move_stock("1001", &receipt(6))?;
        let t1 = &mut w.terms[0];
        match client::round(&mut t1.store, &mut t1.link) {
            Err(SyncError::ServerBehind { expected: 3 }) => {}
            other => return Err(format!("expected ServerBehind from seq 3, got {other:?}").into()),
        }
        ensure!(
            w.terms[0].store.pending_count()? == 1,
            "the terminal dropped its pending event"
        );
        // T2 finds the server's journal behind its cursor, and a resync refuses to
        // drop what it pulled.
        let t2 = &mut w.terms[1];
        let cursor = t2.store.cursor()?;
        match client::round(&mut t2.store, &mut t2.link) {
            Err(SyncError::ServerRestored { head, cursor: c }) if head < cursor && c == cursor => {}
            other => return Err(format!("expected ServerRestored, got {other:?}").into()),
        }
        match client::resync(&mut t2.store, &mut t2.link) {
            Err(SyncError::Store(StoreError::Rejected(why))) if why.contains("older copy") => {}
            other => return Err(format!("expected the resync refused, got {other:?}").into()),
        }
        ensure!(t2.store.cursor()? == cursor, "the cursor moved");
        Ok(())
    })
}

/// A revoked terminal is refused (401) and keeps its events; enrolled again under the
/// same terminal id, it pushes them.
#[test]
fn revoked_terminal_keeps_its_events_and_can_be_enrolled_again() -> TestResult {
    let test = "revoked_terminal_keeps_its_events_and_can_be_enrolled_again";
    scripted(test, 1, |rng, w| {
        sync_ok(&mut w.terms[0])?;
        // T2 joins after T1, so T1 pulls the server's event about it.
        w.add_terminal("T2", rng.fork(), Faults::NONE)?;
        sync_ok(&mut w.terms[1])?;
        sync_ok(&mut w.terms[0])?;
        w.server.borrow_mut().revoke_terminal("T1")?;
        let moved = w.terms[0]
            .store
            .move_stock("1001", &from_supplier("SKU-10003", "DOCK-01", 4))?;
        let t1 = &mut w.terms[0];
        match client::round(&mut t1.store, &mut t1.link) {
            Err(SyncError::Transport(TransportError::Unauthorized)) => {}
            other => {
                return Err(format!("a revoked terminal should be refused, got {other:?}").into());
            }
        }
        ensure!(
            w.terms[0].store.pending_count()? == 1,
            "the refused terminal dropped its event"
        );
        let token = enrol_store(&w.server, &mut w.terms[0].store, "T1")
            .map_err(|e| format!("enrolling T1's store again failed: {e}"))?;
        w.terms[0].link.inner.token = token;
        sync_ok(&mut w.terms[0])?;
        ensure!(
            journal_has(&w.server.borrow(), &moved[0].id.to_string())?,
            "the event was not pushed"
        );
        w.quiesce()?;
        w.verify()
    })
}

/// A store whose own events are still pending under one terminal id cannot be enrolled
/// under another (the server would see them under the wrong sequence); events pulled
/// from other terminals never stand in the way.
#[test]
fn a_store_with_pending_events_of_another_id_is_not_enrolled() -> TestResult {
    let test = "a_store_with_pending_events_of_another_id_is_not_enrolled";
    scripted(test, 1, |rng, w| {
        // T2 pulls T1's movement, then enrols its store again under its own id: fine.
        sync_ok(&mut w.terms[0])?;
        w.add_terminal("T2", rng.fork(), Faults::NONE)?;
        sync_ok(&mut w.terms[1])?;
        w.terms[0]
            .store
            .move_stock("1001", &from_supplier("SKU-10003", "DOCK-01", 4))?;
        sync_ok(&mut w.terms[0])?;
        sync_ok(&mut w.terms[1])?;
        ensure!(
            w.terms[1].store.cursor()? > 0 && w.terms[1].store.journal_len()? > 0,
            "T2 pulled nothing"
        );
        w.server.borrow_mut().revoke_terminal("T2")?;
        let token = enrol_store(&w.server, &mut w.terms[1].store, "T2")
            .map_err(|e| format!("enrolling T2's store again failed: {e}"))?;
        w.terms[1].link.inner.token = token;
        sync_ok(&mut w.terms[1])?;

        // A store with a pending movement of its own, enrolled under another id: refused,
        // and the movement stays pending.
        let mut t9 = new_terminal(w.dir.path(), "T9")?;
        import_demo_reference(&mut t9)?;
        t9.move_stock("1001", &from_supplier("SKU-10003", "DOCK-01", 2))?;
        let pending = t9.pending_count()?;
        match enrol_store(&w.server, &mut t9, "T8") {
            Err(e) if e.to_string().contains("another terminal id") => {}
            other => return Err(format!("enrolling T9's store as T8 gave {other:?}").into()),
        }
        ensure!(
            t9.enrolment()?.is_none() && t9.pending_count()? == pending,
            "the refused store changed: enrolment {:?}, {} pending instead of {pending}",
            t9.enrolment()?,
            t9.pending_count()?
        );
        w.quiesce()?;
        w.verify()
    })
}

/// A receipt against a PO made before the first round stays counted on that PO line
/// through the bootstrap, as its movement stays counted in the balances.
#[test]
fn bootstrap_keeps_pending_receipts_on_their_po() -> TestResult {
    let test = "bootstrap_keeps_pending_receipts_on_their_po";
    scripted(test, 0, |rng, w| {
        let mut t9 = new_terminal(w.dir.path(), "T9")?;
        import_demo_reference(&mut t9)?;
        t9.define_purchase_orders(
            "system",
            &floorhand::import::purchase_orders(floorhand::demo::PURCHASE_ORDERS_CSV.as_bytes())?,
        )?;
        let receipt = t9.start_receipt("1001", "PO-5002", None)?;
        t9.receive("1001", &po_5002_line_1(&receipt, 10)?)?;
        let received = |s: &Store| -> TestResult<i64> {
            let po = s.purchase_order("PO-5002")?.ok_or("no PO-5002")?;
            Ok(po
                .lines
                .iter()
                .find(|l| l.line == 1)
                .map_or(-1, |l| l.received))
        };
        ensure!(
            received(&t9)? == 10,
            "before the bootstrap PO-5002 line 1 shows {}",
            received(&t9)?
        );
        let t9 = w.join(t9, "T9", rng.fork(), Faults::NONE)?;
        w.terms[t9].link.lose_pushes = true;
        ensure!(
            sync(&mut w.terms[t9])?.is_none(),
            "the push should have been lost"
        );
        let after_bootstrap = received(&w.terms[t9].store)?;
        w.terms[t9].link.lose_pushes = false;
        w.quiesce()?;
        let (server, terminal) = (received(&w.server.borrow())?, received(&w.terms[t9].store)?);
        ensure!(
            after_bootstrap == 10 && server == 10 && terminal == 10,
            "PO-5002 line 1 received: {after_bootstrap} on T9 right after its bootstrap, then {terminal} on T9 \
         and {server} on the server once synced; 10 everywhere expected"
        );
        w.verify()
    })
}

/// The snapshot's balances are exactly the journal up to the snapshot's gseq, even while
/// a terminal pushes on another connection (as the HTTP server's requests may).
/// Otherwise a bootstrapped terminal counts the events in between twice: once in the
/// snapshot's balances and once when it pulls them.
#[test]
fn snapshot_balances_match_its_gseq_while_pushes_commit() -> TestResult {
    let dir = tempfile::tempdir()?;
    let server = new_server(dir.path())?;
    let (mut t1, token) = enrol(&server, dir.path(), "T1")?;
    let mut link = Local {
        server: Rc::clone(&server),
        token,
        pending: None,
    };
    client::round(&mut t1, &mut link)?;
    let who = link.who().map_err(|e| e.to_string())?;
    for _ in 0..12 {
        let batch: Vec<Move> = (0..25)
            .map(|_| from_supplier("SKU-10001", "DOCK-01", 1))
            .collect();
        t1.move_batch("1001", &batch)?;
    }
    let events = t1.pending(usize::MAX)?;
    drop(link);
    drop(server);
    let path = dir.path().join("server.db");
    let done = std::sync::atomic::AtomicBool::new(false);
    let (pushed, snapshots) = std::thread::scope(|scope| {
        let pusher = scope.spawn(|| -> Result<usize, String> {
            let mut s = Store::open(&path, "server").map_err(|e| e.to_string())?;
            let mut n = 0;
            for chunk in events.chunks(3) {
                n += s
                    .push(&who, chunk, Utc::now())
                    .map_err(|e| e.to_string())?
                    .len();
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(n)
        });
        let snapper = scope.spawn(|| -> Result<Vec<Snapshot>, String> {
            let mut s = Store::open(&path, "server").map_err(|e| e.to_string())?;
            let mut out = Vec::new();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                out.push(s.snapshot("WH1").map_err(|e| e.to_string())?);
            }
            Ok(out)
        });
        (pusher.join(), snapper.join())
    });
    let pushed = pushed.map_err(|_| "the pushing thread panicked")??;
    let snapshots = snapshots.map_err(|_| "the snapshot thread panicked")??;
    ensure!(
        pushed == events.len(),
        "pushed {pushed} of {}",
        events.len()
    );
    // Replay the journal to each snapshot's gseq.
    let server = Store::open(&path, "server")?;
    let moves = journal_moves(&server, i64::MAX)?;
    let mut inconsistent = Vec::new();
    for snap in &snapshots {
        let want = replay_moves(moves.iter().filter(|m| m.ord <= snap.gseq));
        let got: BTreeMap<Key, i64> = snap
            .balances
            .iter()
            .map(|b| ((b.location.clone(), b.sku.clone(), b.lot.clone()), b.qty))
            .collect();
        let d = diff(&got, &want);
        if !d.is_empty() {
            inconsistent.push(format!("gseq {}: {:?}", snap.gseq, d));
        }
    }
    eprintln!(
        "{} snapshots taken while {pushed} events were pushed",
        snapshots.len()
    );
    ensure!(
        inconsistent.is_empty(),
        "{} of {} snapshots hold balances that are not the journal up to their gseq (snapshot vs replay), e.g. {}",
        inconsistent.len(),
        snapshots.len(),
        inconsistent.first().map_or("", String::as_str)
    );
    Ok(())
}

/// A bootstrap loses no movement recorded at the same moment on another connection to
/// the terminal's store (the TUI records while the sync worker bootstraps).
#[test]
fn bootstrap_loses_no_movement_recorded_meanwhile() -> TestResult {
    let dir = tempfile::tempdir()?;
    let server = new_server(dir.path())?;
    let snapshot = server.borrow_mut().snapshot("WH1")?;
    for attempt in 0..10 {
        let name = format!("T{attempt}");
        let mut t = new_terminal(dir.path(), &name)?;
        import_demo_reference(&mut t)?;
        let batch: Vec<Move> = (0..200)
            .map(|_| from_supplier("SKU-10001", "DOCK-01", 1))
            .collect();
        t.move_batch("1001", &batch)?;
        enrol_store(&server, &mut t, &name)?;
        let path = dir.path().join(format!("{name}.db"));
        let done = std::sync::atomic::AtomicBool::new(false);
        let (booted, recorded) = std::thread::scope(|scope| {
            let floor = scope.spawn(|| -> Result<usize, String> {
                let mut s = Store::open(&path, "?").map_err(|e| e.to_string())?;
                let m = from_supplier("SKU-10002", "DOCK-02", 1);
                let mut n = 0;
                while !done.load(std::sync::atomic::Ordering::SeqCst) {
                    s.move_stock("1001", &m).map_err(|e| e.to_string())?;
                    n += 1;
                    // A floor pace (a scan every millisecond is already far beyond one):
                    // a writer in a tight loop would starve SQLite's other writer, which
                    // is not what this test is about.
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Ok(n)
            });
            // Let the floor get going before the bootstrap starts.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while t.pending_count().unwrap_or(0) < 205 && std::time::Instant::now() < deadline {
                std::thread::yield_now();
            }
            let booted = t.bootstrap(&snapshot).map_err(|e| e.to_string());
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            (booted, floor.join())
        });
        booted?;
        let recorded = recorded.map_err(|_| "the floor thread panicked")??;
        let bad = failed_checks(&t)?;
        ensure!(
            bad.is_empty(),
            "attempt {attempt}: after a bootstrap while {recorded} movements were recorded on another connection, \
             {name} fails: {bad:?}"
        );
    }
    Ok(())
}

/// A receipt started before a terminal's snapshot and continued after it: the terminal
/// pulls the later scans like any event and keeps syncing.
#[test]
fn late_terminal_pulls_scans_of_a_receipt_started_before_its_snapshot() -> TestResult {
    let test = "late_terminal_pulls_scans_of_a_receipt_started_before_its_snapshot";
    scripted(test, 1, |rng, w| {
        sync_ok(&mut w.terms[0])?;
        let receipt = w.terms[0].store.start_receipt("1001", "PO-5002", None)?;
        w.terms[0]
            .store
            .receive("1001", &po_5002_line_1(&receipt, 6)?)?;
        sync_ok(&mut w.terms[0])?;
        // T2 joins mid-receipt, then T1 scans more of it.
        w.add_terminal("T2", rng.fork(), Faults::NONE)?;
        sync_ok(&mut w.terms[1])?;
        w.terms[0]
            .store
            .receive("1001", &po_5002_line_1(&receipt, 6)?)?;
        sync_ok(&mut w.terms[0])?;
        match sync(&mut w.terms[1]) {
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                "T2 cannot pull T1's scan of receipt {receipt}, started before T2's snapshot: {e}"
            )
            .into());
            }
        }
        w.quiesce()?;
        w.verify()
    })
}

// ---------------------------------------------------------------------------------------
// A long catch-up and the floor

/// Another terminal's (T9's) event, as the server orders it at `gseq`: its id is
/// `pulled-<gseq>`.
fn from_t9(gseq: i64, event: Pulled) -> Ordered<Pulled> {
    Ordered {
        gseq,
        event: WireEvent {
            id: format!("pulled-{gseq}"),
            terminal: "T9".into(),
            seq: gseq,
            user: "1001".into(),
            at: "2026-11-22T08:00:00.000Z".into(),
            event,
        },
    }
}

/// `n` logouts of another terminal, as the server orders them after gseq `after`.
fn logouts(after: i64, n: i64) -> Vec<Ordered<Pulled>> {
    (after + 1..=after + n)
        .map(|gseq| {
            let logout = Pulled::new(Event::LoggedOut {
                badge: "1001".into(),
                idle: false,
            });
            from_t9(gseq, logout.expect("a logout encodes"))
        })
        .collect()
}

/// A pulled event is journaled as the server sent it: its payload's text is kept, not
/// encoded again (here with its fields in another order than this build writes them).
#[test]
fn a_pulled_event_is_journaled_as_sent() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(&dir.path().join("terminal.db"), "T1")?;
    let sent = r#"{"idle":true,"badge":"1001","kind":"logged_out"}"#;
    let payload = serde_json::value::RawValue::from_string(sent.into())?;
    let mut page = Some(vec![from_t9(1, Pulled::read(payload)?)]);
    let applied =
        store.apply_pulled_pages(&mut |_| page.take().map_or(NextPage::End, NextPage::Ready))?;
    assert_eq!(applied, 1);
    let kept: String = store.connection().query_row(
        "SELECT payload FROM journal WHERE id = 'pulled-1'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(kept, sent);
    assert_eq!(store.cursor()?, 1);
    Ok(())
}

/// Wait, with a deadline, until `store` sees a writer of its database waiting for the
/// write lock.
fn until_a_writer_waits(store: &Store) -> TestResult {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while store.writers_waiting() == 0 {
        ensure!(
            std::time::Instant::now() < deadline,
            "the writer never waited for the lock"
        );
        std::thread::yield_now();
    }
    Ok(())
}

#[test]
fn a_floor_write_during_a_long_catch_up_goes_between_its_transactions() -> TestResult {
    const PAGE: i64 = 100;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("terminal.db");
    let mut sync = Store::open(&path, "T1")?;
    let mut floor = Some(Store::open(&path, "T1")?);
    let watcher = Store::open(&path, "T1")?;
    let mut handed = 0;
    // For each page asked: did the catch-up wait as long as it takes (a new
    // transaction) or only a moment (in the open one)?
    let mut asked = Vec::new();
    let mut between: Option<TestResult<(i64, Option<String>)>> = None;
    let applied = std::thread::scope(|s| {
        let mut writing: Option<std::thread::ScopedJoinHandle<'_, Result<(), StoreError>>> = None;
        sync.apply_pulled_pages(&mut |wait: Option<std::time::Duration>| {
            asked.push(if wait.is_none() { "new" } else { "open" });
            if let Some(writer) = writing.take() {
                // The catch-up committed the first three pages and let the writer in
                // before it asked for the fourth.
                between = Some(match writer.join() {
                    Ok(Ok(())) => watcher
                        .cursor()
                        .and_then(|c| Ok((c, watcher.meta("floor.write")?)))
                        .map_err(Into::into),
                    Ok(Err(e)) => Err(e.into()),
                    Err(_) => Err("the floor writer panicked".into()),
                });
            }
            if handed == 2 * PAGE
                && let Some(mut store) = floor.take()
            {
                // A floor screen writes while the catch-up holds the write lock; the
                // third page is handed over once the writer waits for it.
                writing = Some(s.spawn(move || store.set_meta("floor.write", "done")));
                if let Err(e) = until_a_writer_waits(&watcher) {
                    between = Some(Err(e));
                    return NextPage::End;
                }
            }
            if handed == 6 * PAGE {
                return NextPage::End;
            }
            let page = logouts(handed, PAGE);
            handed += PAGE;
            NextPage::Ready(page)
        })
    })?;
    let (cursor, written) = between.ok_or("the floor write never happened")??;
    assert_eq!(cursor, 3 * PAGE, "committed before the floor write");
    assert_eq!(written.as_deref(), Some("done"));
    assert_eq!(
        asked,
        ["new", "open", "open", "new", "open", "open", "open"],
        "one transaction before the floor write, one after"
    );
    assert_eq!(applied, 600);
    assert_eq!(sync.cursor()?, 6 * PAGE);
    assert_eq!(sync.journal_len()?, 6 * PAGE);
    Ok(())
}

/// A catch-up writes the balances it has summed whenever its next page is not there yet
/// (here, before every page but the first), then goes on summing. It ends where a
/// catch-up whose pages all came at once ends: the same balances, each movement counted
/// once (balances emptied in one page and filled again in a later one included), and
/// `check` holding. Every page is handed back once applied.
#[test]
fn a_catch_up_that_waits_for_its_pages_ends_with_the_same_balances() -> TestResult {
    const PAGES: usize = 6;
    const PER_PAGE: i64 = 40;
    let seed = base_seed("a_catch_up_that_waits_for_its_pages_ends_with_the_same_balances");
    seeded("waiting catch-up", seed, |seed| {
        let dir = tempfile::tempdir()?;
        let mut at_once = new_terminal(dir.path(), "T1")?;
        import_demo_reference(&mut at_once)?;
        let mut waiting = new_terminal(dir.path(), "T2")?;
        import_demo_reference(&mut waiting)?;
        let f = floor(&at_once, 3)?;
        // Few balances, so that pages keep coming back to the same ones: receipts to a
        // dock, and everything on the dock (or a bin) moved on, back and forth.
        let places: Vec<&str> = f.docks[..1]
            .iter()
            .chain(&f.storage[..3])
            .map(String::as_str)
            .collect();
        let skus = &f.skus[..2];
        let mut rng = Rng::new(seed);
        let mut held: BTreeMap<(&str, &str), i64> = BTreeMap::new();
        let mut pages = Vec::new();
        let mut gseq = 0;
        for _ in 0..PAGES {
            let mut page = Vec::new();
            for _ in 0..PER_PAGE {
                let sku = rng.pick(skus).ok_or("no item")?.as_str();
                let from = *rng.pick(&places).ok_or("no place")?;
                let have = held.get(&(from, sku)).copied().unwrap_or(0);
                // Mostly everything there, so balances reach zero and are removed.
                let (from, to, qty) = if have <= 0 {
                    ("SUPPLIER", places[0], rng.range(1, 9))
                } else {
                    let to = *rng.pick(&places).ok_or("no place")?;
                    let qty = if rng.chance(0.6) {
                        have
                    } else {
                        rng.range(1, have)
                    };
                    (from, to, qty)
                };
                if from == to {
                    continue;
                }
                *held.entry((from, sku)).or_default() -= qty;
                *held.entry((to, sku)).or_default() += qty;
                gseq += 1;
                let moved = stock_moved(sku, from, to, qty, MoveReason::Transfer);
                page.push(from_t9(gseq, Pulled::new(moved)?));
            }
            pages.push(page);
        }

        let mut queue = pages.clone().into_iter();
        let applied_at_once = at_once
            .apply_pulled_pages(&mut |_| queue.next().map_or(NextPage::End, NextPage::Ready))?;
        let mut slow = Slow {
            pages: pages.into_iter(),
            asked_in_transaction: 0,
            not_yet: 0,
            handed_back: 0,
        };
        let applied_waiting = waiting.apply_pulled_pages(&mut slow)?;
        let not_yet = slow.not_yet;
        ensure!(
            slow.handed_back == PAGES,
            "{} of {PAGES} pages were handed back once applied",
            slow.handed_back
        );
        ensure!(
            not_yet >= PAGES - 1,
            "the catch-up never waited ({not_yet})"
        );
        ensure!(
            applied_at_once == gseq as usize && applied_waiting == applied_at_once,
            "applied {applied_at_once} at once and {applied_waiting} waiting, of {gseq}"
        );
        let want: BTreeMap<Key, i64> = held
            .iter()
            .filter(|(_, q)| **q != 0)
            .map(|((l, s), q)| ((l.to_string(), s.to_string(), String::new()), *q))
            .collect();
        let supplied: i64 = want
            .iter()
            .filter(|((l, _, _), _)| l == "SUPPLIER")
            .map(|(_, q)| *q)
            .sum();
        ensure!(supplied < 0, "nothing was received from the supplier");
        for (name, store) in [("at once", &at_once), ("waiting", &waiting)] {
            let got = balances(store)?;
            ensure!(
                got == want,
                "{name}: balances differ from the movements: {:?}",
                diff(&want, &got)
            );
            ensure!(
                failed_checks(store)?.is_empty(),
                "{name}: checks failed: {:?}",
                failed_checks(store)?
            );
            ensure!(
                store.cursor()? == gseq,
                "{name}: cursor {}",
                store.cursor()?
            );
        }
        Ok(())
    })
}

/// Pages that come slowly: inside a transaction, every other question is answered
/// "not yet". Counts the pages handed back once applied.
struct Slow {
    pages: std::vec::IntoIter<Vec<Ordered<Pulled>>>,
    asked_in_transaction: usize,
    not_yet: usize,
    handed_back: usize,
}

impl Pages for Slow {
    fn next(&mut self, wait: Option<std::time::Duration>) -> NextPage {
        if wait.is_some() {
            self.asked_in_transaction += 1;
            if self.asked_in_transaction % 2 == 1 {
                self.not_yet += 1;
                return NextPage::NotYet;
            }
        }
        self.pages.next().map_or(NextPage::End, NextPage::Ready)
    }

    fn applied(&mut self, _page: Vec<Ordered<Pulled>>) {
        self.handed_back += 1;
    }
}

/// A terminal's stock, as its balances and the movements it has not pushed yet would
/// make it from the server's: the server's balances plus those movements.
fn server_plus_pending(w: &World, t: usize) -> TestResult<BTreeMap<Key, i64>> {
    w.server.borrow_mut().catch_up()?;
    let pending: Vec<_> = w.terms[t]
        .store
        .pending(usize::MAX)?
        .into_iter()
        .filter_map(|e| as_move(e.seq, e.event))
        .collect();
    Ok(replay_onto(balances(&w.server.borrow())?, &pending))
}

/// Break a terminal's balances behind its journal's back, as a fault would.
fn break_a_balance(store: &Store) -> TestResult {
    let changed = store.connection().execute(
        "UPDATE stock SET qty = qty + 7 WHERE (location_id, item_id, lot) =
             (SELECT location_id, item_id, lot FROM stock ORDER BY qty DESC LIMIT 1)",
        [],
    )?;
    ensure!(changed == 1, "no balance to break");
    ensure!(
        !failed_checks(store)?.is_empty(),
        "check did not notice the broken balance"
    );
    Ok(())
}

/// A terminal whose balances went wrong loads the site's snapshot again: its own events
/// the server has come with the snapshot, its pending ones are kept and applied on top,
/// and `check` holds again. A resync round pushes first, so nothing sent is in doubt.
#[test]
fn resync_rebuilds_a_terminal_and_keeps_its_pending_events() -> TestResult {
    let test = "resync_rebuilds_a_terminal_and_keeps_its_pending_events";
    scripted(test, 2, |rng, w| {
        for t in 0..2 {
            sync_ok(&mut w.terms[t])?;
        }
        for _ in 0..40 {
            let t = rng.below(2);
            random_move(rng, &mut w.terms[t].store, &w.floor, &MIX)?;
            if rng.chance(0.2) {
                sync_ok(&mut w.terms[t])?;
            }
        }
        for t in [0, 1, 0] {
            sync_ok(&mut w.terms[t])?;
        }
        // T2 works on without pushing, and then its balances break (movements planned
        // on broken balances would leave stock negative: not what this test is about).
        let mut recorded = 0;
        for _ in 0..200 {
            if recorded == 5 {
                break;
            }
            recorded += usize::from(random_move(rng, &mut w.terms[1].store, &w.floor, &MIX)?);
        }
        ensure!(recorded == 5, "only {recorded} movements in 200 tries");
        break_a_balance(&w.terms[1].store)?;
        let pending = w.terms[1].store.pending(usize::MAX)?;
        ensure!(pending.len() >= 5, "{} pending", pending.len());
        let who = w.terms[1].link.inner.who()?;
        let snapshot = w.server.borrow_mut().snapshot_for(&who)?;
        ensure!(snapshot.sent > 0, "the snapshot says T2 sent nothing");
        let kept = w.terms[1].store.resync(&snapshot)?;
        let t2 = &w.terms[1].store;
        ensure!(kept == pending.len(), "kept {kept} of {}", pending.len());
        ensure!(
            t2.pending(usize::MAX)? == pending,
            "the pending events changed"
        );
        ensure!(t2.cursor()? == snapshot.gseq, "cursor {}", t2.cursor()?);
        let d = diff(&balances(t2)?, &server_plus_pending(w, 1)?);
        ensure!(
            d.is_empty(),
            "T2 after the resync vs server + pending: {d:?}"
        );
        let bad = failed_checks(t2)?;
        ensure!(bad.is_empty(), "T2 after the resync: {bad:?}");
        // The other terminal breaks too, and resyncs by a round: it pushes first.
        random_move(rng, &mut w.terms[0].store, &w.floor, &MIX)?;
        break_a_balance(&w.terms[0].store)?;
        let t1 = &mut w.terms[0];
        let r = client::resync(&mut t1.store, &mut t1.link)?;
        ensure!(
            r.resynced == Some(0) && t1.store.pending_count()? == 0,
            "{r:?}, {} pending",
            t1.store.pending_count()?
        );
        let bad = failed_checks(&t1.store)?;
        ensure!(bad.is_empty(), "T1 after its resync round: {bad:?}");
        w.quiesce()?;
        w.verify()
    })
}

/// A resync is refused, changing nothing, when the snapshot cannot stand in for what
/// the terminal has: the server is behind its pulls or lacks its events (restored from
/// an older copy), or an event it sent has no recorded answer yet.
#[test]
fn resync_refuses_a_snapshot_that_cannot_stand_in() -> TestResult {
    let test = "resync_refuses_a_snapshot_that_cannot_stand_in";
    scripted(test, 2, |rng, w| {
        for t in [0, 1, 0] {
            for _ in 0..5 {
                random_move(rng, &mut w.terms[t].store, &w.floor, &MIX)?;
            }
            sync_ok(&mut w.terms[t])?;
        }
        let who = w.terms[0].link.inner.who()?;
        let old = w.server.borrow_mut().snapshot_for(&who)?;
        // T2 moves on, T1 pulls it: the old snapshot is behind T1's cursor.
        for _ in 0..3 {
            random_move(rng, &mut w.terms[1].store, &w.floor, &MIX)?;
        }
        sync_ok(&mut w.terms[1])?;
        sync_ok(&mut w.terms[0])?;
        let refused = |w: &mut World, snapshot: &Snapshot, because: &str| -> TestResult {
            let t1 = &mut w.terms[0].store;
            let before = (balances(t1)?, t1.cursor()?, t1.pending_count()?);
            match t1.resync(snapshot) {
                Err(StoreError::Rejected(why)) if why.contains(because) => {}
                other => {
                    return Err(format!("expected a refusal for {because:?}: {other:?}").into());
                }
            }
            let after = (balances(t1)?, t1.cursor()?, t1.pending_count()?);
            ensure!(before == after, "a refused resync changed the store");
            Ok(())
        };
        refused(w, &old, "restored from an older copy")?;
        // The server lacks events it had accepted from T1.
        let mut short = w.server.borrow_mut().snapshot_for(&who)?;
        short.sent -= 2;
        refused(w, &short, "restored from an older copy")?;
        // The answer to T1's next push is lost: the server has the events, T1 has no
        // answer for them.
        for _ in 0..3 {
            random_move(rng, &mut w.terms[0].store, &w.floor, &MIX)?;
        }
        let before = w.ledger.borrow().stats.pushes;
        w.terms[0].link.lose_answer_of_push = Some(before + 1);
        ensure!(sync(&mut w.terms[0])?.is_none(), "the answer was not lost");
        let now = w.server.borrow_mut().snapshot_for(&who)?;
        refused(w, &now, "no recorded answer")?;
        // A resync round asks again first, and then goes through.
        let t1 = &mut w.terms[0];
        let r = client::resync(&mut t1.store, &mut t1.link)?;
        ensure!(r.resynced == Some(0), "{r:?}");
        w.quiesce()?;
        w.verify()
    })
}
