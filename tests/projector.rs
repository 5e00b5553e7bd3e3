//! The server's projector: a push only appends to the journal, and the balances follow
//! when the journal is folded into them (`catch_up`, `project_balances`, `upkeep`).
//! These tests pin down what that must never change: the balances are always exactly
//! the journal up to the mark (`projected_through`), folding in pieces or all at once
//! gives the same balances, nothing is counted twice when two connections fold the same
//! file, a crash before a fold loses nothing, merge exceptions are raised once when the
//! sums are written, and every reader (open, snapshot, pull, availability) sees current
//! balances.
//!
//! Time plays little part: the 250 ms quiet rule of `upkeep` is relied on in its
//! "not yet" direction (an `upkeep` right after a push on the same connection reads
//! without writing), and where it matters the test checks that it did; one test polls
//! for the "now" direction, with a deadline.
//!
//! The random test is seeded: it prints its seed, `FLOORHAND_SYNC_SEED=<seed>` replays
//! it, and a failure names the seed it failed with.

mod common;

use chrono::{NaiveDate, Utc};
use common::sync::{Key, Rng, base_seed, fast, journal_moves, replay_moves, seeded};
use common::{TestResult, ensure};
use floorhand::domain::orders::OrderRef;
use floorhand::domain::receiving::DiscrepancyKind;
use floorhand::domain::{Event, LocationKind, LocationRole, MoveReason};
use floorhand::store::{Move, Store, StoreError, TerminalInfo};
use floorhand::sync::wire::{Ordered, PushResult, Snapshot, WireEvent};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

type Balances = BTreeMap<Key, i64>;

// ---------------------------------------------------------------------------------------
// A server store and terminals in process

/// The demo server's database file, with terminals T1, T2 and T3 enrolled at WH1, built
/// once per test process (the demo hashes nine PINs with Argon2, slow in the dev profile).
static TEMPLATE: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();

fn template() -> TestResult<&'static [u8]> {
    let build = || -> TestResult<Vec<u8>> {
        let dir = tempfile::tempdir()?;
        let mut server = Store::open(&dir.path().join("server.db"), "server")?;
        fast(&server)?;
        floorhand::demo::load(&mut server)?;
        let now = Utc::now();
        for t in ["T1", "T2", "T3"] {
            let code = server.create_enrolment(t, "WH1", now)?;
            server.enroll(&code, now)?;
        }
        let copy = dir.path().join("copy.db");
        server
            .connection()
            .execute("VACUUM INTO ?1", [copy.to_string_lossy().as_ref()])?;
        Ok(std::fs::read(copy)?)
    };
    TEMPLATE
        .get_or_init(|| build().map_err(|e| e.to_string()))
        .as_deref()
        .map_err(|e| format!("building the template server store failed: {e}").into())
}

/// A new server store file `name` in `dir`, from the template.
fn server_file(dir: &Path, name: &str) -> TestResult<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, template()?)?;
    Ok(path)
}

/// Open (another connection to) the server store at `path`.
fn open_server(path: &Path) -> TestResult<Store> {
    let s = Store::open(path, "server")?;
    fast(&s)?;
    ensure!(
        s.projects_balances(),
        "a store opened as `server` does not project its balances"
    );
    Ok(s)
}

/// A new terminal store `name`, bootstrapped from a snapshot of WH1 taken now.
fn bootstrapped_terminal(server: &mut Store, dir: &Path, name: &str) -> TestResult<Store> {
    let mut t = Store::open(&dir.join(format!("{name}.db")), name)?;
    fast(&t)?;
    let snapshot = server.snapshot("WH1")?;
    t.bootstrap(&snapshot)?;
    Ok(t)
}

/// One movement as a terminal pushes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mv {
    sku: String,
    lot: String,
    from: String,
    to: String,
    qty: i64,
}

fn mv(sku: &str, lot: &str, from: &str, to: &str, qty: i64) -> Mv {
    Mv {
        sku: sku.into(),
        lot: lot.into(),
        from: from.into(),
        to: to.into(),
        qty,
    }
}

impl Mv {
    fn reversed(&self) -> Mv {
        Mv {
            from: self.to.clone(),
            to: self.from.clone(),
            ..self.clone()
        }
    }

    /// The event and the user who may record it on the server: the receiver for goods
    /// from the supplier, the supervisor (a transfer) for everything else.
    fn event(&self) -> (Event, &'static str) {
        let (reason, user) = if self.from == "SUPPLIER" {
            (MoveReason::Receipt, "1001")
        } else {
            (MoveReason::Transfer, "1007")
        };
        (
            Event::StockMoved {
                sku: self.sku.clone(),
                lot: self.lot.clone(),
                from: self.from.clone(),
                to: self.to.clone(),
                qty: self.qty,
                reason,
                receipt: None,
                order: None,
            },
            user,
        )
    }
}

/// A terminal as the server sees it: who it is and its next sequence number.
struct Term {
    who: TerminalInfo,
    seq: i64,
}

impl Term {
    fn new(name: &str) -> Self {
        Self {
            who: TerminalInfo {
                terminal: name.into(),
                site: "WH1".into(),
                pending: None,
            },
            seq: 0,
        }
    }

    /// `event` recorded by `user` as this terminal's next event.
    fn stamp(&mut self, user: &str, event: Event) -> WireEvent {
        self.seq += 1;
        WireEvent {
            id: uuid::Uuid::now_v7().to_string(),
            terminal: self.who.terminal.clone(),
            seq: self.seq,
            user: user.into(),
            at: Utc::now().to_rfc3339(),
            event,
        }
    }

    /// The wire events of `moves`, with this terminal's next sequence numbers.
    fn wire(&mut self, moves: &[Mv]) -> Vec<WireEvent> {
        moves
            .iter()
            .map(|m| {
                let (event, user) = m.event();
                self.stamp(user, event)
            })
            .collect()
    }

    /// Push `moves` to `server`; every one must be accepted.
    fn push(&mut self, server: &mut Store, moves: &[Mv]) -> TestResult {
        let events = self.wire(moves);
        push_wire(server, &self.who, &events)
    }
}

fn push_wire(server: &mut Store, who: &TerminalInfo, events: &[WireEvent]) -> TestResult {
    let results = server.push(who, events, Utc::now())?;
    ensure!(
        results.len() == events.len(),
        "{} pushed {} events, {} answers",
        who.terminal,
        events.len(),
        results.len()
    );
    for r in &results {
        ensure!(
            matches!(r, PushResult::Accepted { .. }),
            "{} pushed an event the server did not accept: {r:?}",
            who.terminal
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// What the tests look at

/// The balances table as it is, every row. A row holding zero is an error: the store
/// deletes a balance that reaches zero.
fn balances(s: &Store) -> TestResult<Balances> {
    let mut stmt = s
        .connection()
        .prepare("SELECT location, sku, lot, qty FROM balances ORDER BY 1, 2, 3")?;
    let mut rows = stmt.query([])?;
    let mut out = Balances::new();
    while let Some(r) = rows.next()? {
        let key: Key = (r.get(0)?, r.get(1)?, r.get(2)?);
        let qty: i64 = r.get(3)?;
        ensure!(
            qty != 0,
            "a zero balance row was left behind: {} {} {:?}",
            key.0,
            key.1,
            key.2
        );
        out.insert(key, qty);
    }
    Ok(out)
}

/// `base` with `moves` applied, zeros removed: computed from what the test pushed, not
/// from the journal.
fn with_moves(base: &Balances, moves: &[Mv]) -> Balances {
    let mut out = base.clone();
    for m in moves {
        *out.entry((m.from.clone(), m.sku.clone(), m.lot.clone()))
            .or_default() -= m.qty;
        *out.entry((m.to.clone(), m.sku.clone(), m.lot.clone()))
            .or_default() += m.qty;
    }
    out.retain(|_, q| *q != 0);
    out
}

/// The server's journal replayed up to `through` (the server has no baseline).
fn replay(s: &Store, through: i64) -> TestResult<Balances> {
    let baseline: i64 = s
        .connection()
        .query_row("SELECT COUNT(*) FROM baseline", [], |r| r.get(0))?;
    ensure!(baseline == 0, "the server store has a baseline");
    Ok(replay_moves(&journal_moves(s, through)?))
}

/// The differences between two sets of balances, for a failure message.
fn diff(got: &Balances, want: &Balances) -> String {
    let mut out = Vec::new();
    for (k, g) in got {
        let w = want.get(k).copied().unwrap_or(0);
        if *g != w {
            out.push(format!("{} {} {:?}: {g}, want {w}", k.0, k.1, k.2));
        }
    }
    for (k, w) in want {
        if !got.contains_key(k) {
            out.push(format!("{} {} {:?}: no row, want {w}", k.0, k.1, k.2));
        }
    }
    let n = out.len();
    out.truncate(8);
    format!("{n} differ: {}", out.join("; "))
}

fn ensure_balances(s: &Store, want: &Balances, when: &str) -> TestResult {
    let got = balances(s)?;
    ensure!(got == *want, "{when}: balances {}", diff(&got, want));
    Ok(())
}

/// The journal `ord` the balances include.
fn mark(s: &Store) -> TestResult<i64> {
    Ok(s.projected_through()?
        .ok_or("a server store has no projection mark")?)
}

/// `check` passes, and the balances are the journal replayed to the mark.
fn ensure_checked(s: &Store, when: &str) -> TestResult {
    let report = s.check()?;
    let failed: Vec<_> = report
        .checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| format!("{}: {:?}", c.name, c.violations))
        .collect();
    ensure!(report.ok, "{when}: check failed: {failed:?}");
    let at = mark(s)?;
    let want = replay(s, at)?;
    let got = balances(s)?;
    ensure!(
        got == want,
        "{when}: balances are not the journal up to the mark {at}: {}",
        diff(&got, &want)
    );
    Ok(())
}

/// Folded to the head: the mark is the head and the balances are the whole journal.
fn ensure_current(s: &Store, want: &Balances, when: &str) -> TestResult {
    let (at, head) = (mark(s)?, s.head()?);
    ensure!(at == head, "{when}: projected through {at}, head {head}");
    ensure_checked(s, when)?;
    ensure_balances(s, want, when)
}

/// Exceptions in `state`: (location, sku, lot, qty).
fn exceptions(s: &Store, state: &str) -> TestResult<Vec<(String, String, String, i64)>> {
    let mut stmt = s.connection().prepare(
        "SELECT location, sku, lot, qty FROM exceptions WHERE state = ?1 ORDER BY location, sku",
    )?;
    let rows = stmt.query_map([state], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Journal rows of `kind`.
fn journal_count(s: &Store, kind: &str) -> TestResult<i64> {
    Ok(s.connection().query_row(
        "SELECT COUNT(*) FROM journal WHERE kind = ?1",
        [kind],
        |r| r.get(0),
    )?)
}

/// A physical storage bin that holds nothing at all, other than those in `taken`.
fn empty_bin(s: &Store, b: &Balances, taken: &[&str]) -> TestResult<String> {
    s.locations()?
        .into_iter()
        .filter(|l| {
            l.kind == LocationKind::Physical
                && l.role == LocationRole::Storage
                && l.capacity.is_none()
        })
        .map(|l| l.code)
        .find(|code| !taken.contains(&code.as_str()) && !b.keys().any(|k| &k.0 == code))
        .ok_or_else(|| "the demo warehouse has no empty storage bin".into())
}

/// Push `moves` from `t`, then run one background turn right away. Returns whether the
/// turn read the rows into its sums without writing them (the push was under 250 ms ago,
/// so it should not have written; a test that needs the sums held retries if it did).
fn push_then_upkeep(s: &mut Store, t: &mut Term, moves: &[Mv]) -> TestResult<bool> {
    t.push(s, moves)?;
    let before = mark(s)?;
    let more = s.upkeep()?;
    ensure!(
        !more,
        "upkeep says there is more to read after a small push"
    );
    Ok(mark(s)? == before && before < s.head()?)
}

/// Received goods put away in two steps: never a negative balance, so no exception.
fn receipt_put_away(sku: &str, qty: i64, bin: &str) -> Vec<Mv> {
    vec![
        mv(sku, "", "SUPPLIER", "DOCK-01", qty),
        mv(sku, "", "DOCK-01", bin, qty),
    ]
}

// ---------------------------------------------------------------------------------------
// 1. Pushes append; the fold brings the balances

#[test]
fn pushes_leave_the_balances_alone_until_the_fold_catches_up() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut s = open_server(&server_file(dir.path(), "server.db")?)?;
    let b0 = balances(&s)?;
    let m0 = mark(&s)?;
    ensure!(
        m0 == s.head()?,
        "opening did not catch up: mark {m0}, head {}",
        s.head()?
    );
    ensure_checked(&s, "at open")?;
    let (mut t1, mut t2) = (Term::new("T1"), Term::new("T2"));
    let from_t1 = [
        mv("SKU-10001", "", "SUPPLIER", "DOCK-01", 40),
        mv("SKU-10001", "", "DOCK-01", "A-01-01-2", 25),
        mv("SKU-10002", "", "SUPPLIER", "DOCK-02", 12),
    ];
    let from_t2 = [
        mv("SKU-10001", "", "PF-A-01", "PACK-01", 8),
        mv("SKU-10005", "L2610A", "B-03-06-4", "PF-B-01", 20),
        mv("SKU-10001", "", "PACK-01", "CUSTOMER", 8),
    ];
    t1.push(&mut s, &from_t1[..2])?;
    t2.push(&mut s, &from_t2)?;
    t1.push(&mut s, &from_t1[2..])?;
    let head = s.head()?;
    ensure!(
        head == m0 + 6,
        "6 accepted events moved the head from {m0} to {head}"
    );
    ensure_balances(&s, &b0, "after the pushes, before a fold")?;
    ensure!(
        mark(&s)? == m0,
        "a push moved the mark from {m0} to {}",
        mark(&s)?
    );
    // The balances are the journal up to the mark, which is all `check` asks.
    ensure_checked(&s, "after the pushes, before a fold")?;

    let read = s.catch_up()?;
    let want = with_moves(&b0, &[&from_t1[..], &from_t2[..]].concat());
    ensure_current(&s, &want, "after catch_up")?;
    ensure!(
        replay(&s, head)? == want,
        "the journal replay differs from the pushed movements"
    );
    // As documented: catch_up returns how many events it read.
    ensure!(
        read == 6,
        "catch_up read {read} events, 6 were pushed since the mark"
    );
    ensure!(
        s.catch_up()? == 0 && s.project_balances(10)? == 0,
        "a second catch_up found more to read"
    );
    ensure_current(&s, &want, "after a second catch_up")?;
    Ok(())
}

/// Once pushes pause, the background turn also copies the WAL into the database file,
/// so the next push's commit does not pay for SQLite's own checkpoint. (The only test
/// here that waits for the quiet rule: it polls `upkeep` with a deadline.)
#[test]
fn a_quiet_background_turn_checkpoints_the_wal() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = server_file(dir.path(), "server.db")?;
    let mut s = open_server(&path)?;
    let mut t1 = Term::new("T1");
    let moves: Vec<Mv> = (0..200)
        .flat_map(|_| receipt_put_away("SKU-10001", 1, "A-01-01-2"))
        .collect();
    t1.push(&mut s, &moves)?;
    let before = std::fs::read(&path)?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        s.upkeep()?;
        if std::fs::read(&path)? != before {
            break;
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "20 s after the push, the database file still lacks what the WAL holds"
        );
        std::thread::yield_now();
    }
    // Everything the WAL held is in the database file now.
    let (log, copied): (i64, i64) =
        s.connection()
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get(1)?, r.get(2)?))
            })?;
    ensure!(log == copied, "{copied} of {log} WAL frames copied");
    ensure_checked(&s, "after the quiet turn")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 2. Folding in pieces equals one fold

#[test]
fn folding_in_pieces_gives_the_balances_of_one_catch_up() -> TestResult {
    let test = "folding_in_pieces_gives_the_balances_of_one_catch_up";
    let base = base_seed(test);
    for case in 0..4 {
        let seed = base.wrapping_add(case);
        seeded(test, seed, folding_in_pieces)?;
    }
    Ok(())
}

fn folding_in_pieces(seed: u64) -> TestResult {
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir()?;
    // The same events go to both: `pieces` folds a few at a time between pushes,
    // `whole` once at the end. `pieces` is two connections to one file, each pushing
    // and folding now and then, as the server's requests and the admin commands may.
    let path = server_file(dir.path(), "pieces.db")?;
    let mut pieces = [open_server(&path)?, open_server(&path)?];
    let mut whole = open_server(&server_file(dir.path(), "whole.db")?)?;
    let b0 = balances(&pieces[0])?;
    ensure!(b0 == balances(&whole)?, "two copies of one store differ");
    let places = [
        "DOCK-01",
        "DOCK-02",
        "PACK-01",
        "PF-A-01",
        "A-01-01-2",
        "A-01-01-3",
        "B-03-06-4",
        "PF-B-01",
        "CUSTOMER",
    ];
    let empty = empty_bin(&pieces[0], &b0, &places)?;
    let stock = [
        ("SKU-10001", ""),
        ("SKU-10002", ""),
        ("SKU-10005", "L2610A"),
        ("SKU-10005", "L-NEW"),
    ];
    let mut terms = [Term::new("T1"), Term::new("T2")];
    let mut pushed: Vec<Mv> = Vec::new();
    // Reverses still to push: each cancels a movement pushed before.
    let mut owed: Vec<Mv> = Vec::new();

    // A whole baseline balance leaves and comes back: its row goes, then returns.
    let full = b0
        .get(&(
            "PF-A-01".to_string(),
            "SKU-10001".to_string(),
            String::new(),
        ))
        .copied()
        .ok_or("the demo has no SKU-10001 at PF-A-01")?;
    let out = mv("SKU-10001", "", "PF-A-01", "A-01-01-3", full);
    owed.push(out.reversed());
    let mut first = vec![out];

    let steps = 40 + rng.below(40);
    for step in 0..=steps {
        let mut batch = std::mem::take(&mut first);
        let size = 1 + rng.below(6);
        while batch.len() < size {
            let (sku, lot) = *rng.pick(&stock).ok_or("no stock")?;
            let qty = rng.range(1, 60);
            match rng.below(10) {
                0 | 1 => {
                    let to = *rng.pick(&places).ok_or("no places")?;
                    batch.push(mv(sku, lot, "SUPPLIER", to, qty));
                }
                // Into the empty bin and out again: nothing may be left there.
                2 => {
                    let m = mv(sku, lot, "SUPPLIER", &empty, qty);
                    owed.push(m.reversed());
                    batch.push(m);
                }
                // The reverse of something pushed before (or in this batch), except
                // the empty bin's, which are reversed once already.
                3 => {
                    if let Some(m) = rng.pick(&pushed).or_else(|| batch.last())
                        && m.from != empty
                        && m.to != empty
                    {
                        owed.push(m.reversed());
                    }
                }
                _ => {
                    let from = *rng.pick(&places).ok_or("no places")?;
                    let to = *rng.pick(&places).ok_or("no places")?;
                    if from != to {
                        batch.push(mv(sku, lot, from, to, qty));
                    }
                }
            }
            if !owed.is_empty() && (step == steps || rng.chance(0.3)) {
                batch.push(owed.swap_remove(rng.below(owed.len())));
            }
        }
        if step == steps {
            batch.append(&mut owed);
        }
        let t = &mut terms[rng.below(2)];
        let events = t.wire(&batch);
        push_wire(&mut pieces[rng.below(2)], &t.who, &events)?;
        push_wire(&mut whole, &t.who, &events)?;
        pushed.extend(batch);
        // Fold a few events now and then, sometimes several times in a row.
        while rng.chance(0.5) {
            let n = 1 + rng.below(5);
            let p = &mut pieces[rng.below(2)];
            let (before, head) = (mark(p)?, p.head()?);
            let read = p.project_balances(n)?;
            let after = mark(p)?;
            let raised = p.head()? - head;
            ensure_checked(p, &format!("step {step}, after folding {read}"))?;
            // In pieces indeed: what this connection's pushes handed the fold plus up to n
            // more read from the journal, never past the head; at least n when there are.
            let past = usize::try_from(head - before)?;
            ensure!(
                read <= past && read >= past.min(n),
                "step {step}: project_balances({n}) folded {read} with {past} events past the mark"
            );
            // The mark moves by what was folded, and over the exceptions it raised when it
            // folded up to the head.
            let folded = i64::try_from(read)?;
            ensure!(
                after == before + folded || (after == head + raised && before + folded == head),
                "step {step}: project_balances({n}) folded {read} events but moved the mark from {before} to {after}"
            );
        }
    }
    ensure!(owed.is_empty(), "reverses left unpushed");
    let mut reads = 0;
    while mark(&pieces[0])? < pieces[0].head()? {
        let p = &mut pieces[rng.below(2)];
        p.project_balances(1 + rng.below(5))?;
        ensure_checked(p, "folding the rest in pieces")?;
        reads += 1;
        ensure!(reads < 10_000, "project_balances never reached the head");
    }
    let before = mark(&whole)?;
    let head = whole.head()?;
    let read = whole.catch_up()?;
    ensure!(
        i64::try_from(read)? >= head - before,
        "catch_up read {read} of the {} events past the mark",
        head - before
    );
    let want = with_moves(&b0, &pushed);
    ensure_current(&whole, &want, "one catch_up")?;
    ensure_current(&pieces[0], &want, "folded in pieces (first connection)")?;
    ensure_current(&pieces[1], &want, "folded in pieces (second connection)")?;
    ensure!(
        !want.keys().any(|k| k.0 == empty),
        "the test's own sums leave stock in the empty bin {empty}"
    );
    eprintln!(
        "seed {seed}: {} movements, {} balances, exceptions {} (pieces) / {} (whole)",
        pushed.len(),
        want.len(),
        exceptions(&pieces[0], "open")?.len(),
        exceptions(&whole, "open")?.len()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 3. Merge exceptions are raised by the fold

const BIN: &str = "A-01-02-1";
const SKU: &str = "SKU-10021";

/// T1 and T2 both empty `BIN` of `SKU`: the merge leaves it at minus what it held. A
/// movement out of CUSTOMER (which holds nothing) and a receipt leave two virtual
/// balances negative. Returns what the bin held.
fn negative_merge(s: &mut Store, t1: &mut Term, t2: &mut Term) -> TestResult<i64> {
    let held = s.balance(BIN, SKU, "")?;
    ensure!(held > 0, "the demo holds no {SKU} at {BIN}");
    ensure!(
        s.balance("CUSTOMER", "SKU-10001", "")? == 0,
        "the demo has SKU-10001 at CUSTOMER"
    );
    let moves = merge_moves(held);
    let (from_t1, from_t2) = moves.split_at(2);
    t1.push(s, from_t1)?;
    t2.push(s, from_t2)?;
    Ok(held)
}

/// What [`negative_merge`] pushes: T1's two movements, then T2's.
fn merge_moves(held: i64) -> Vec<Mv> {
    vec![
        mv(SKU, "", BIN, "A-01-01-2", held),
        mv("SKU-10001", "", "CUSTOMER", "RET-01", 5),
        mv(SKU, "", BIN, "A-01-01-3", held),
        mv("SKU-10002", "", "SUPPLIER", "DOCK-01", 7),
    ]
}

/// A server with T3 bootstrapped on it, then [`negative_merge`] pushed by T1 and T2.
struct Merged {
    _dir: tempfile::TempDir,
    s: Store,
    t3: Store,
    who3: TerminalInfo,
    held: i64,
}

fn merged() -> TestResult<Merged> {
    let dir = tempfile::tempdir()?;
    let mut s = open_server(&server_file(dir.path(), "server.db")?)?;
    let t3 = bootstrapped_terminal(&mut s, dir.path(), "T3")?;
    let (mut t1, mut t2) = (Term::new("T1"), Term::new("T2"));
    let held = negative_merge(&mut s, &mut t1, &mut t2)?;
    Ok(Merged {
        _dir: dir,
        s,
        t3,
        who3: Term::new("T3").who,
        held,
    })
}

/// The ExceptionRaised events among `events`: (id, location, sku, qty).
fn raised_in(events: &[floorhand::sync::wire::Ordered]) -> Vec<(String, String, String, i64)> {
    events
        .iter()
        .filter_map(|o| match &o.event.event {
            Event::ExceptionRaised {
                id,
                location,
                sku,
                qty,
                ..
            } => Some((id.clone(), location.clone(), sku.clone(), *qty)),
            _ => None,
        })
        .collect()
}

fn exception_ids(s: &Store) -> TestResult<Vec<String>> {
    let mut stmt = s
        .connection()
        .prepare("SELECT id FROM exceptions ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[test]
fn a_negative_merge_raises_one_exception_when_folded_and_terminals_pull_it() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut s = open_server(&server_file(dir.path(), "server.db")?)?;
    let mut t3 = bootstrapped_terminal(&mut s, dir.path(), "T3")?;
    let who3 = Term::new("T3").who;
    let b0 = balances(&s)?;
    let (mut t1, mut t2) = (Term::new("T1"), Term::new("T2"));
    let held = negative_merge(&mut s, &mut t1, &mut t2)?;
    // Not at push time.
    ensure!(
        exceptions(&s, "open")?.is_empty() && journal_count(&s, "exception_raised")? == 0,
        "an exception was raised at push time: {:?}",
        exceptions(&s, "open")?
    );
    ensure!(
        s.balance(BIN, SKU, "")? == held,
        "a push changed the balance of {BIN}"
    );

    s.catch_up()?;
    let want_open = vec![(BIN.to_string(), SKU.to_string(), String::new(), -held)];
    ensure!(
        exceptions(&s, "open")? == want_open,
        "after the fold, open exceptions {:?}, want {want_open:?} (none for the virtual CUSTOMER or SUPPLIER)",
        exceptions(&s, "open")?
    );
    ensure!(
        journal_count(&s, "exception_raised")? == 1,
        "{} ExceptionRaised events in the journal",
        journal_count(&s, "exception_raised")?
    );
    ensure!(
        s.balance("CUSTOMER", "SKU-10001", "")? == -5,
        "CUSTOMER should stand at -5"
    );
    let moves = merge_moves(held);
    let mut pushed = moves.to_vec();
    ensure_current(&s, &with_moves(&b0, &pushed), "after the fold")?;

    // Folding again, or draining the bin further, raises nothing new while it is open.
    ensure!(s.catch_up()? == 0, "a second catch_up found events");
    let more = mv(SKU, "", BIN, "A-01-01-2", 1);
    t1.push(&mut s, std::slice::from_ref(&more))?;
    pushed.push(more);
    s.catch_up()?;
    ensure!(
        journal_count(&s, "exception_raised")? == 1 && exceptions(&s, "open")?.len() == 1,
        "a bin with an open exception was raised again: {:?}",
        exceptions(&s, "open")?
    );
    let want = with_moves(&b0, &pushed);
    ensure_current(&s, &want, "after draining the bin further")?;

    // T3, bootstrapped before all this, pulls to the head and gets the exception.
    let page = s.pull(&who3, t3.cursor()?, 1000)?;
    ensure!(
        page.events.last().map(|e| e.gseq) == Some(page.head),
        "the pull did not reach the head"
    );
    let raised = raised_in(&page.events);
    ensure!(
        raised.len() == 1
            && raised[0].1 == BIN
            && raised[0].2 == SKU
            && raised[0].3 == -held
            && exception_ids(&s)? == [raised[0].0.clone()],
        "T3 pulled the exceptions {raised:?}, the server holds {:?}",
        exception_ids(&s)?
    );
    t3.apply_pulled(&page.events)?;
    ensure!(
        exceptions(&t3, "open")? == want_open,
        "T3 holds the open exceptions {:?}",
        exceptions(&t3, "open")?
    );
    ensure!(
        t3.balance(BIN, SKU, "")? == -held - 1,
        "T3 holds {} at {BIN}",
        t3.balance(BIN, SKU, "")?
    );
    let report = t3.check()?;
    ensure!(report.ok, "T3's check failed: {:?}", report.checks);
    Ok(())
}

/// A pull that reaches the head folds first: a terminal that syncs right after the
/// pushes learns the exception in the same round, without anyone calling catch_up.
#[test]
fn a_pull_to_the_head_folds_first_and_carries_the_exception() -> TestResult {
    let Merged {
        _dir,
        mut s,
        mut t3,
        who3,
        held,
    } = merged()?;
    ensure!(
        mark(&s)? < s.head()? && exceptions(&s, "open")?.is_empty(),
        "the pushes were folded without a fold"
    );
    let page = s.pull(&who3, t3.cursor()?, 1000)?;
    let raised = raised_in(&page.events);
    ensure!(
        raised.len() == 1 && raised[0].1 == BIN && raised[0].3 == -held,
        "a pull to the head carried the exceptions {raised:?}"
    );
    ensure!(
        page.events.last().map(|e| e.gseq) == Some(page.head) && page.head == s.head()?,
        "the pull stopped short of the head"
    );
    ensure!(
        mark(&s)? == s.head()?,
        "the pull to the head did not fold everything"
    );
    t3.apply_pulled(&page.events)?;
    let report = t3.check()?;
    ensure!(report.ok, "T3's check failed: {:?}", report.checks);
    ensure!(
        exceptions(&t3, "open")?.len() == 1,
        "T3 holds the open exceptions {:?}",
        exceptions(&t3, "open")?
    );
    Ok(())
}

/// A pull to the head writes the fold only when it owes an exception: after ordinary
/// movements the balances wait for a pause in the pushes, and the pull answers all the
/// same.
#[test]
fn a_pull_to_the_head_leaves_an_ordinary_fold_for_later() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut s = open_server(&server_file(dir.path(), "server.db")?)?;
    let t3 = bootstrapped_terminal(&mut s, dir.path(), "T3")?;
    let who3 = Term::new("T3").who;
    let mut t1 = Term::new("T1");
    let before = balances(&s)?;
    let (mark_before, head_before) = (mark(&s)?, s.head()?);
    let moves = receipt_put_away("SKU-10001", 12, "A-01-01-2");
    t1.push(&mut s, &moves)?;
    let page = s.pull(&who3, t3.cursor()?, 1000)?;
    ensure!(
        page.events.last().map(|e| e.gseq) == Some(s.head()?) && s.head()? == head_before + 2,
        "the pull did not reach the head"
    );
    ensure!(
        mark(&s)? == mark_before && balances(&s)? == before,
        "a pull that owed no exception wrote the fold"
    );
    s.catch_up()?;
    ensure_current(&s, &with_moves(&before, &moves), "after the catch-up")?;
    Ok(())
}

/// Events that come back in a later page (same ids, later gseqs) are applied once: the
/// journal keeps each once, the balances count each once, and the cursor still moves.
#[test]
fn events_pulled_again_are_applied_once() -> TestResult {
    let Merged {
        _dir,
        mut s,
        mut t3,
        who3,
        held,
    } = merged()?;
    let page = s.pull(&who3, t3.cursor()?, 1000)?;
    let applied = t3.apply_pulled(&page.events)?;
    let before = (t3.journal_len()?, t3.balance(BIN, SKU, "")?);
    ensure!(
        applied >= 4 && before.1 == -held,
        "the first page applied {applied} events and left {} at {BIN}",
        before.1
    );
    let again: Vec<Ordered> = page
        .events
        .iter()
        .map(|o| Ordered {
            gseq: o.gseq + page.head,
            event: o.event.clone(),
        })
        .collect();
    let reapplied = t3.apply_pulled(&again)?;
    let after = (t3.journal_len()?, t3.balance(BIN, SKU, "")?);
    ensure!(
        reapplied == 0 && after == before,
        "pulled again: {reapplied} applied, (journal, {BIN}) went from {before:?} to {after:?}"
    );
    ensure!(
        Some(t3.cursor()?) == again.last().map(|o| o.gseq),
        "the cursor stayed at {} after the page pulled again",
        t3.cursor()?
    );
    let report = t3.check()?;
    ensure!(report.ok, "T3's check failed: {:?}", report.checks);
    Ok(())
}

/// A pulled movement that empties a balance on the terminal removes its row: no balance
/// is kept at zero, as when the terminal records the movement itself.
#[test]
fn a_pulled_movement_that_empties_a_bin_removes_its_balance() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut s = open_server(&server_file(dir.path(), "server.db")?)?;
    let mut t3 = bootstrapped_terminal(&mut s, dir.path(), "T3")?;
    let who3 = Term::new("T3").who;
    let held = t3.balance(BIN, SKU, "")?;
    ensure!(held > 0, "T3 holds no {SKU} at {BIN}");
    let zero_rows = |t: &Store| -> TestResult<i64> {
        Ok(t.connection()
            .query_row("SELECT COUNT(*) FROM balances WHERE qty = 0", [], |r| {
                r.get(0)
            })?)
    };
    let mut t1 = Term::new("T1");
    t1.push(&mut s, &[mv(SKU, "", BIN, "A-01-01-2", held)])?;
    let page = s.pull(&who3, t3.cursor()?, 1000)?;
    t3.apply_pulled(&page.events)?;
    let emptied: i64 = t3.connection().query_row(
        "SELECT COUNT(*) FROM balances WHERE location = ?1 AND sku = ?2",
        [BIN, SKU],
        |r| r.get(0),
    )?;
    ensure!(
        emptied == 0 && zero_rows(&t3)? == 0,
        "after the pull {BIN} has {emptied} rows of {SKU}, and {} balances are at zero",
        zero_rows(&t3)?
    );
    ensure!(
        t3.balance("A-01-01-2", SKU, "")? >= held,
        "the stock did not arrive at A-01-01-2"
    );
    let report = t3.check()?;
    ensure!(report.ok, "T3's check failed: {:?}", report.checks);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 4. Two connections fold the same file

/// Push from `t` and read without writing, retrying (with more pushes) in the unlikely
/// case that more than 250 ms passed between the push and the background turn.
fn hold_sums(s: &mut Store, t: &mut Term, pushed: &mut Vec<Mv>, bin: &str) -> TestResult {
    for i in 0..20 {
        let batch = receipt_put_away("SKU-10001", 3 + i, bin);
        let held = push_then_upkeep(s, t, &batch)?;
        pushed.extend(batch);
        if held {
            return Ok(());
        }
    }
    Err("upkeep wrote its sums every time right after a push".into())
}

/// `catch_up`, then check that nothing was counted twice. Should it stop short of the
/// head (the known bug `one_catch_up_reaches_the_head_after_another_connection_folded`
/// pins down), catch up again, so the rest of a test still runs.
fn catch_up_checked(s: &mut Store, when: &str) -> TestResult {
    for _ in 0..3 {
        s.catch_up()?;
        ensure_checked(s, when)?;
        if mark(s)? == s.head()? {
            break;
        }
    }
    Ok(())
}

#[test]
fn two_connections_never_count_a_movement_twice() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = server_file(dir.path(), "server.db")?;
    let mut a = open_server(&path)?;
    let b0 = balances(&a)?;
    let (mut t1, mut t2) = (Term::new("T1"), Term::new("T2"));
    let mut pushed = Vec::new();

    // A holds sums it read; B opens the file, which folds everything, A's rows too.
    hold_sums(&mut a, &mut t1, &mut pushed, "A-01-01-2")?;
    ensure_checked(&a, "A holding its sums")?;
    let mut b = open_server(&path)?;
    ensure_current(&b, &with_moves(&b0, &pushed), "B after opening")?;
    // A reads more into its sums, now stale, then catches up.
    hold_sums(&mut a, &mut t1, &mut pushed, "A-01-01-3")?;
    catch_up_checked(&mut a, "A after catch_up, B having opened")?;
    let want = with_moves(&b0, &pushed);
    ensure_current(&a, &want, "A after catch_up, B having opened")?;
    ensure_current(&b, &want, "B after A's catch_up")?;

    // The same with B's explicit catch_up, and A's catch_up reading nothing new.
    hold_sums(&mut a, &mut t1, &mut pushed, "A-01-01-2")?;
    catch_up_checked(&mut b, "B after catch_up")?;
    let want = with_moves(&b0, &pushed);
    ensure_current(&b, &want, "B after catch_up")?;
    ensure!(
        a.catch_up()? == 0,
        "A read events that B had folded already"
    );
    ensure_current(&a, &want, "A after catch_up, B having caught up")?;

    // Both hold sums over overlapping rows; each catches up in turn.
    hold_sums(&mut a, &mut t1, &mut pushed, "A-01-01-3")?;
    hold_sums(&mut b, &mut t2, &mut pushed, "A-01-01-2")?;
    let want = with_moves(&b0, &pushed);
    catch_up_checked(&mut a, "A after catch_up, both holding sums")?;
    ensure_current(&a, &want, "A after catch_up, both holding sums")?;
    catch_up_checked(&mut b, "B after catch_up, both holding sums")?;
    ensure_current(&b, &want, "B after catch_up, both holding sums")?;
    ensure_current(&a, &want, "A after B's catch_up")?;

    // A background turn on a connection that accepted no push writes at once; the
    // pushing connection's next turns find nothing to add.
    let mut c = open_server(&path)?;
    let batch = receipt_put_away("SKU-10002", 11, "A-01-01-3");
    t1.push(&mut a, &batch)?;
    pushed.extend(batch);
    let want = with_moves(&b0, &pushed);
    ensure!(!c.upkeep()?, "upkeep says there is more to read");
    ensure_current(&c, &want, "C after one background turn")?;
    a.upkeep()?;
    catch_up_checked(&mut a, "A after C's background turn")?;
    b.upkeep()?;
    ensure_current(&a, &want, "A after C's background turn")?;
    ensure_current(&b, &want, "B after C's background turn")?;
    Ok(())
}

/// One catch_up folds everything the balances do not include, even when this
/// connection's sums went stale (another connection folded meanwhile) after they had read
/// past what the other one folded. The reader that caught up (here availability) must
/// count every movement pushed before it.
#[test]
fn one_catch_up_reaches_the_head_after_another_connection_folded() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = server_file(dir.path(), "server.db")?;
    let mut a = open_server(&path)?;
    let mut b = open_server(&path)?;
    let b0 = balances(&a)?;
    let today = NaiveDate::from_ymd_opt(2026, 1, 15).ok_or("bad date")?;
    let sellable0 = sellable(&mut a, today, "SKU-10001")?;
    let mut t1 = Term::new("T1");
    let mut pushed = Vec::new();
    hold_sums(&mut a, &mut t1, &mut pushed, "A-01-01-2")?;
    b.catch_up()?;
    // A reads more rows into its sums, stale since B moved the mark.
    hold_sums(&mut a, &mut t1, &mut pushed, "A-01-01-3")?;
    let put_away: i64 = pushed
        .iter()
        .filter(|m| m.to.starts_with("A-01"))
        .map(|m| m.qty)
        .sum();
    let now = sellable(&mut a, today, "SKU-10001")?;
    ensure!(
        now == sellable0 + put_away,
        "availability right after the pushes: {now} sellable, want {sellable0} + {put_away}; \
         A's catch_up stopped at {} with the head at {}",
        mark(&a)?,
        a.head()?
    );
    ensure_current(&a, &with_moves(&b0, &pushed), "A after availability")?;
    Ok(())
}

/// A fold that raises a merge exception appends it to the journal: the mark must still
/// not pass rows that the fold did not read (here another connection's receipt).
#[test]
fn a_fold_that_raises_an_exception_passes_no_row_it_did_not_read() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = server_file(dir.path(), "server.db")?;
    let mut a = open_server(&path)?;
    let mut b = open_server(&path)?;
    let b0 = balances(&a)?;
    let (mut t1, mut t2, mut t3) = (Term::new("T1"), Term::new("T2"), Term::new("T3"));
    let held = negative_merge(&mut a, &mut t1, &mut t2)?;
    let receipt = receipt_put_away("SKU-10003", 21, "A-01-01-3");
    t3.push(&mut b, &receipt)?;
    let mut folds = 0;
    while mark(&a)? < a.head()? {
        a.project_balances(1)?;
        folds += 1;
        ensure_checked(&a, &format!("after fold {folds} of one event"))?;
        ensure!(folds < 100, "project_balances(1) never reached the head");
    }
    let mut pushed = merge_moves(held);
    pushed.extend(receipt);
    let want = with_moves(&b0, &pushed);
    ensure_current(&a, &want, "A folded one event at a time")?;
    ensure_current(&b, &want, "B")?;
    ensure!(
        exceptions(&a, "open")?.len() == 1,
        "open exceptions {:?}",
        exceptions(&a, "open")?
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 5. A crash before the fold loses nothing

#[test]
fn reopening_after_a_crash_before_the_fold_catches_up() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = server_file(dir.path(), "server.db")?;
    let mut s = open_server(&path)?;
    let b0 = balances(&s)?;
    let (mut t1, mut t2) = (Term::new("T1"), Term::new("T2"));
    let mut pushed = Vec::new();
    let first = receipt_put_away("SKU-10003", 17, "A-01-01-3");
    t1.push(&mut s, &first)?;
    pushed.extend(first);
    // Part folded, then a negative merge pushed and read into memory only.
    s.project_balances(1)?;
    ensure_checked(&s, "after folding one event")?;
    let held = negative_merge(&mut s, &mut t1, &mut t2)?;
    pushed.extend(merge_moves(held));
    hold_sums(&mut s, &mut t1, &mut pushed, "A-01-01-2")?;
    let (at, head) = (mark(&s)?, s.head()?);
    ensure!(at < head, "nothing is owed to the balances");
    ensure_checked(&s, "before the crash")?;
    // The process dies: the sums in memory are gone, the file keeps the mark.
    drop(s);
    let on_disk: String = rusqlite::Connection::open(&path)?.query_row(
        "SELECT value FROM meta WHERE key = 'balances.through'",
        [],
        |r| r.get(0),
    )?;
    ensure!(
        on_disk == at.to_string(),
        "the file's mark is {on_disk}, the store said {at}"
    );

    let s = open_server(&path)?;
    let want = with_moves(&b0, &pushed);
    ensure_current(&s, &want, "reopened after the crash")?;
    let want_open = vec![(BIN.to_string(), SKU.to_string(), String::new(), -held)];
    ensure!(
        exceptions(&s, "open")? == want_open,
        "after reopening, open exceptions {:?}",
        exceptions(&s, "open")?
    );
    drop(s);
    // Again: nothing more to fold, nothing raised twice.
    let s = open_server(&path)?;
    ensure_current(&s, &want, "reopened a second time")?;
    ensure!(
        journal_count(&s, "exception_raised")? == 1,
        "{} exceptions raised after two reopenings",
        journal_count(&s, "exception_raised")?
    );
    Ok(())
}

/// Any store whose meta has the mark projects its balances, whatever terminal id it is
/// opened with (as `floorhand check --db server.db` opens it with the config's id).
#[test]
fn a_marked_store_opened_under_another_id_catches_up_too() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = server_file(dir.path(), "server.db")?;
    let mut s = open_server(&path)?;
    let b0 = balances(&s)?;
    let batch = receipt_put_away("SKU-10004", 9, "A-01-01-3");
    Term::new("T1").push(&mut s, &batch)?;
    ensure!(mark(&s)? < s.head()?, "the push was folded");
    drop(s);
    let other = Store::open(&path, "T01")?;
    fast(&other)?;
    ensure!(
        other.projects_balances(),
        "a store with a projection mark, opened as T01, applies balances with each event"
    );
    ensure_current(&other, &with_moves(&b0, &batch), "opened as T01")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 6. Readers see current balances

fn snapshot_balances(snap: &Snapshot) -> Balances {
    snap.balances
        .iter()
        .map(|b| ((b.location.clone(), b.sku.clone(), b.lot.clone()), b.qty))
        .collect()
}

#[test]
fn a_snapshot_right_after_pushes_holds_the_balances_of_its_gseq() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = server_file(dir.path(), "server.db")?;
    let mut a = open_server(&path)?;
    let mut b = open_server(&path)?;
    let b0 = balances(&a)?;
    let (mut t1, mut t2) = (Term::new("T1"), Term::new("T2"));
    let mut pushed = Vec::new();
    let held = negative_merge(&mut a, &mut t1, &mut t2)?;
    pushed.extend(merge_moves(held));
    let batch = receipt_put_away("SKU-10001", 30, "A-01-01-2");
    t1.push(&mut a, &batch)?;
    pushed.extend(batch);
    let want = with_moves(&b0, &pushed);
    ensure!(mark(&a)? < a.head()?, "the pushes were folded");

    // On the connection that pushed, without a catch_up.
    let snap = a.snapshot("WH1")?;
    let head = a.head()?;
    ensure!(
        snap.gseq == head,
        "the snapshot is of gseq {}, the head is {head}",
        snap.gseq
    );
    let got = snapshot_balances(&snap);
    let replayed = replay(&a, snap.gseq)?;
    ensure!(
        got == replayed,
        "snapshot vs journal replay at its gseq {}: {}",
        snap.gseq,
        diff(&got, &replayed)
    );
    ensure!(
        got == want,
        "snapshot vs pushed movements: {}",
        diff(&got, &want)
    );
    ensure!(
        snap.progress.exceptions.len() == 1 && snap.progress.exceptions[0].location == BIN,
        "the snapshot holds the exceptions {:?}",
        snap.progress.exceptions
    );
    ensure_current(&a, &want, "after the snapshot")?;

    // On another connection while the pushing one holds sums it read.
    let mut more = Vec::new();
    hold_sums(&mut a, &mut t1, &mut more, "A-01-01-3")?;
    pushed.extend(more);
    let want = with_moves(&b0, &pushed);
    let snap = b.snapshot("WH1")?;
    ensure!(
        snap.gseq == b.head()?,
        "B's snapshot is of gseq {}, the head is {}",
        snap.gseq,
        b.head()?
    );
    let got = snapshot_balances(&snap);
    ensure!(
        got == replay(&b, snap.gseq)? && got == want,
        "B's snapshot vs pushed movements: {}",
        diff(&got, &want)
    );
    a.catch_up()?;
    ensure_current(&a, &want, "A after B's snapshot")?;

    // A terminal bootstrapped from it agrees.
    let mut t3 = Store::open(&dir.path().join("T3.db"), "T3")?;
    fast(&t3)?;
    t3.bootstrap(&snap)?;
    let report = t3.check()?;
    ensure!(report.ok, "T3's check failed: {:?}", report.checks);
    ensure_balances(&t3, &want, "T3 bootstrapped from B's snapshot")?;
    Ok(())
}

/// `sku` at WH1 as availability reports it (which catches up first): (sellable,
/// reserved), zeros when it has no row.
fn availability_of(s: &mut Store, today: NaiveDate, sku: &str) -> TestResult<(i64, i64)> {
    Ok(s.availability(Some("WH1"), today)?
        .into_iter()
        .find(|a| a.sku == sku)
        .map_or((0, 0), |a| (a.sellable, a.reserved)))
}

/// Sellable stock of `sku` at WH1, as [`availability_of`].
fn sellable(s: &mut Store, today: NaiveDate, sku: &str) -> TestResult<i64> {
    Ok(availability_of(s, today, sku)?.0)
}

#[test]
fn availability_right_after_pushes_counts_them() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut s = open_server(&server_file(dir.path(), "server.db")?)?;
    let today = NaiveDate::from_ymd_opt(2026, 1, 15).ok_or("bad date")?;
    let before = sellable(&mut s, today, "SKU-10001")?;
    Term::new("T1").push(&mut s, &receipt_put_away("SKU-10001", 13, "A-01-01-2"))?;
    ensure!(mark(&s)? < s.head()?, "the push was folded");
    let after = sellable(&mut s, today, "SKU-10001")?;
    ensure!(
        after == before + 13,
        "sellable SKU-10001 went from {before} to {after} after 13 were put away"
    );
    ensure!(
        mark(&s)? == s.head()?,
        "availability did not fold the pushes"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// What pushes remember between them

/// Push one movement and return the server's answer for it.
fn push_one(server: &mut Store, t: &mut Term, m: Mv) -> TestResult<PushResult> {
    let (event, user) = m.event();
    t.send(server, user, event)
}

fn ensure_rejected(r: &PushResult, because: &str, when: &str) -> TestResult {
    match r {
        PushResult::Rejected { reason, .. } if reason.contains(because) => Ok(()),
        other => Err(format!("{when}: expected a rejection for {because:?}, got {other:?}").into()),
    }
}

fn ensure_accepted(r: &PushResult, when: &str) -> TestResult {
    ensure!(
        matches!(r, PushResult::Accepted { .. }),
        "{when}: expected the event accepted, got {r:?}"
    );
    Ok(())
}

/// Pushes remember the users, items and locations they looked up, but never past a
/// change: what another connection (an admin command) writes is seen by the very next
/// push, and so is what the serving connection writes itself.
#[test]
fn pushes_see_reference_changes_made_since_they_looked() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = server_file(dir.path(), "server.db")?;
    let mut server = open_server(&path)?;
    let mut t1 = Term::new("T1");
    let known = mv("SKU-10001", "", "SUPPLIER", "DOCK-01", 5);

    // The receiver and the item are looked up and remembered; an unknown item too.
    ensure_accepted(&push_one(&mut server, &mut t1, known.clone())?, "a receipt")?;
    let new = mv("SKU-LATER-1", "", "DOCK-01", "A-01-01-2", 1);
    let r = push_one(&mut server, &mut t1, new.clone())?;
    ensure_rejected(&r, "not found: item SKU-LATER-1", "an item not defined yet")?;

    // Another connection defines the item and disables the receiver.
    {
        let mut admin = open_server(&path)?;
        let mut item = admin.item("SKU-10001")?.ok_or("no SKU-10001")?;
        item.sku = "SKU-LATER-1".into();
        item.gtins.clear();
        admin.define_items("admin", &[item])?;
        ensure!(
            floorhand::server::admin::disable_user(&mut admin, "1001")?,
            "1001 was not disabled"
        );
    }
    let r = push_one(&mut server, &mut t1, known.clone())?;
    ensure_rejected(
        &r,
        "user 1001 is disabled",
        "a receipt by a user disabled elsewhere",
    )?;
    let r = push_one(
        &mut server,
        &mut t1,
        mv("SKU-LATER-1", "", "DOCK-01", "A-01-01-2", 1),
    )?;
    // DOCK-01 holds none of it yet: accepted all the same (a merge may go negative).
    ensure_accepted(&r, "a transfer of the item defined elsewhere")?;

    // The serving connection itself defines an item a push was refused for.
    let r = push_one(
        &mut server,
        &mut t1,
        mv("SKU-LATER-2", "", "DOCK-01", "A-01-01-2", 1),
    )?;
    ensure_rejected(&r, "not found: item SKU-LATER-2", "a second unknown item")?;
    let mut item = server.item("SKU-10001")?.ok_or("no SKU-10001")?;
    item.sku = "SKU-LATER-2".into();
    item.gtins.clear();
    server.define_items("admin", &[item])?;
    let r = push_one(
        &mut server,
        &mut t1,
        mv("SKU-LATER-2", "", "DOCK-01", "A-01-01-2", 1),
    )?;
    ensure_accepted(&r, "a transfer of the item this connection defined")?;
    server.catch_up()?;
    ensure_checked(&server, "after the pushes")
}

// ---------------------------------------------------------------------------------------
// Group commit

/// Pushes committed together are each answered exactly as alone: one refused for a gap
/// leaves nothing behind and does not disturb the others, the same push twice in one
/// group is answered the same both times, and the journal holds each event once.
#[test]
fn pushes_committed_together_are_each_answered_as_alone() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = server_file(dir.path(), "server.db")?;
    let mut server = open_server(&path)?;
    let (mut t1, mut t2, mut t3) = (Term::new("T1"), Term::new("T2"), Term::new("T3"));
    let before = balances(&server)?;
    let head = server.head()?;

    let ok1 = t1.wire(&receipt_put_away("SKU-10001", 12, "A-01-01-2"));
    let mut gap = t2.wire(&[mv("SKU-10002", "", "SUPPLIER", "DOCK-02", 3)]);
    gap[0].seq += 1; // T2 skips its first sequence number
    let ok3 = t3.wire(&receipt_put_away("SKU-10003", 6, "A-01-01-3"));
    let pushes = [
        (&t1.who, &ok1[..]),
        (&t2.who, &gap[..]),
        (&t3.who, &ok3[..]),
        (&t1.who, &ok1[..]),
    ];
    let results = server.push_many(&pushes, Utc::now());
    ensure!(results.len() == 4, "{} answers for 4 pushes", results.len());
    let mut answers = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        match (i, r) {
            (1, Err(floorhand::store::PushError::Conflict { expected_seq, .. })) => {
                ensure!(expected_seq == 1, "T2 told to send {expected_seq}, not 1")
            }
            (1, other) => return Err(format!("the push with a gap was answered {other:?}").into()),
            (_, Ok(r)) => {
                for a in &r {
                    ensure!(matches!(a, PushResult::Accepted { .. }), "push {i}: {a:?}");
                }
                answers.push(r);
            }
            (_, Err(e)) => return Err(format!("push {i} failed: {e}").into()),
        }
    }
    ensure!(
        answers.first() == answers.get(2),
        "the same push twice in one group was answered differently: {:?} vs {:?}",
        answers.first(),
        answers.get(2)
    );
    let appended = server.head()? - head;
    ensure!(
        appended == 4,
        "{appended} journal rows for 4 accepted events"
    );
    server.catch_up()?;
    let mut pushed = receipt_put_away("SKU-10001", 12, "A-01-01-2");
    pushed.extend(receipt_put_away("SKU-10003", 6, "A-01-01-3"));
    ensure_current(&server, &with_moves(&before, &pushed), "after the group")?;
    ensure_checked(&server, "after the group")
}

// ---------------------------------------------------------------------------------------
// Counts: an absolute quantity with the cursor it was based on

impl Term {
    /// Push one count by the counter 1006 of `counted` of `sku` (no lot) at `location`,
    /// having seen the server's events up to `basis`.
    fn count(
        &mut self,
        server: &mut Store,
        location: &str,
        sku: &str,
        counted: i64,
        basis: Option<i64>,
    ) -> TestResult<PushResult> {
        let basis = match basis {
            Some(b) => b,
            None => server.head()?,
        };
        self.send(server, "1006", bin_counted(location, sku, counted, basis))
    }

    /// Push one `event` recorded by `user`, and return the server's answer.
    fn send(&mut self, server: &mut Store, user: &str, event: Event) -> TestResult<PushResult> {
        let event = self.stamp(user, event);
        let mut results = server.push(&self.who, &[event], Utc::now())?;
        ensure!(
            results.len() == 1,
            "{} answers for one event",
            results.len()
        );
        results.pop().ok_or_else(|| "no answer".into())
    }
}

/// A count of `counted` of `sku` (no lot) at `location`, based on event `basis`.
fn bin_counted(location: &str, sku: &str, counted: i64, basis: i64) -> Event {
    Event::BinCounted {
        location: location.into(),
        sku: sku.into(),
        lot: String::new(),
        counted,
        basis,
    }
}

/// Exceptions raised for counts, with their reasons.
fn count_reviews(s: &Store) -> TestResult<Vec<(String, i64, String)>> {
    Ok(s.exceptions(None, false)?
        .into_iter()
        .filter(|e| e.reason.starts_with("a count of"))
        .map(|e| (e.location, e.qty, e.reason))
        .collect())
}

#[test]
fn a_count_becomes_an_adjustment_unless_the_stock_moved_after_its_basis() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut s = open_server(&server_file(dir.path(), "server.db")?)?;
    let (mut t1, mut t2) = (Term::new("T1"), Term::new("T2"));
    s.catch_up()?;
    let start = balances(&s)?;
    let bin = empty_bin(&s, &start, &[])?;
    let sku = "SKU-10001";
    let at = |s: &Store, location: &str| s.balance(location, sku, "");
    let loss = at(&s, "LOSS")?;
    t1.push(&mut s, &receipt_put_away(sku, 10, &bin))?;
    s.catch_up()?;

    // T2 saw everything and counts 7: three went missing.
    ensure_accepted(&t2.count(&mut s, &bin, sku, 7, None)?, "a fresh count")?;
    let adjustments = journal_count(&s, "stock_moved")?;
    s.catch_up()?;
    ensure!(
        at(&s, &bin)? == 7 && at(&s, "LOSS")? == loss + 3,
        "after the count: {bin} {}, LOSS {} (was {loss})",
        at(&s, &bin)?,
        at(&s, "LOSS")?
    );
    ensure!(
        journal_count(&s, "stock_moved")? == adjustments + 1,
        "one adjustment is journaled"
    );
    ensure_checked(&s, "after an adjustment")?;

    // Counting what the balance holds moves nothing; counting more finds it again.
    ensure_accepted(&t2.count(&mut s, &bin, sku, 7, None)?, "a matching count")?;
    s.catch_up()?;
    ensure!(
        journal_count(&s, "stock_moved")? == adjustments + 1,
        "a count that matches is no movement"
    );
    ensure_accepted(&t2.count(&mut s, &bin, sku, 9, None)?, "a higher count")?;
    s.catch_up()?;
    ensure!(
        at(&s, &bin)? == 9 && at(&s, "LOSS")? == loss + 1,
        "found two again"
    );

    // T2's view is old: T1 took 4 out of the bin after it. Flagged, never applied.
    let old = s.head()?;
    t1.push(&mut s, &[mv(sku, "", &bin, "DOCK-01", 4)])?;
    ensure_accepted(&t2.count(&mut s, &bin, sku, 9, Some(old))?, "a stale count")?;
    s.catch_up()?;
    ensure!(
        at(&s, &bin)? == 5,
        "a stale count changed the balance to {}",
        at(&s, &bin)?
    );
    let reviews = count_reviews(&s)?;
    ensure!(
        reviews.len() == 1
            && reviews[0].0 == bin
            && reviews[0].1 == 9
            && reviews[0]
                .2
                .contains(&format!("saw the stock up to event {old}")),
        "the stale count's review: {reviews:?}"
    );

    // Movements of other stock after the basis do not make a count stale, nor do the
    // counter's own terminal's movements before its count.
    let old = s.head()?;
    let other = empty_bin(&s, &balances(&s)?, &[&bin])?;
    t1.push(&mut s, &receipt_put_away("SKU-10002", 3, &other))?;
    ensure_accepted(
        &t2.count(&mut s, &bin, sku, 4, Some(old))?,
        "count of untouched stock",
    )?;
    s.catch_up()?;
    ensure!(
        at(&s, &bin)? == 4,
        "the count of untouched stock was not applied"
    );
    ensure!(count_reviews(&s)?.len() == 1, "{:?}", count_reviews(&s)?);
    let old = s.head()?;
    t2.push(&mut s, &[mv(sku, "", &bin, "DOCK-01", 1)])?;
    ensure_accepted(
        &t2.count(&mut s, &bin, sku, 2, Some(old))?,
        "count after own move",
    )?;
    s.catch_up()?;
    ensure!(
        at(&s, &bin)? == 2 && count_reviews(&s)?.len() == 1,
        "a count after the terminal's own movement: {bin} {}, reviews {:?}",
        at(&s, &bin)?,
        count_reviews(&s)?
    );
    ensure_checked(&s, "after the counts")
}

/// Two counts of the same balance folded together: the second sees the first's
/// adjustment, and a second count based on a view before the first is stale.
#[test]
fn counts_folded_together_see_each_other() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut s = open_server(&server_file(dir.path(), "server.db")?)?;
    let (mut t1, mut t2, mut t3) = (Term::new("T1"), Term::new("T2"), Term::new("T3"));
    s.catch_up()?;
    let bin = empty_bin(&s, &balances(&s)?, &[])?;
    let sku = "SKU-10001";
    t1.push(&mut s, &receipt_put_away(sku, 10, &bin))?;
    s.catch_up()?;
    let basis = s.head()?;
    // Neither count is folded before both are in the journal.
    ensure_accepted(&t2.count(&mut s, &bin, sku, 6, Some(basis))?, "first count")?;
    ensure_accepted(
        &t3.count(&mut s, &bin, sku, 8, Some(basis))?,
        "second count",
    )?;
    s.catch_up()?;
    ensure!(
        s.balance(&bin, sku, "")? == 6,
        "the first count applies, the second (based before it) does not: {}",
        s.balance(&bin, sku, "")?
    );
    ensure!(count_reviews(&s)?.len() == 1, "{:?}", count_reviews(&s)?);
    let basis = s.head()?;
    ensure_accepted(&t2.count(&mut s, &bin, sku, 5, Some(basis))?, "third count")?;
    ensure_accepted(&t3.count(&mut s, &bin, sku, 5, None)?, "fourth count")?;
    s.catch_up()?;
    ensure!(
        s.balance(&bin, sku, "")? == 5 && count_reviews(&s)?.len() == 1,
        "the fourth count saw the third's adjustment: {}",
        s.balance(&bin, sku, "")?
    );
    ensure_checked(&s, "after the counts")
}

#[test]
fn a_count_is_checked_like_any_event() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut s = open_server(&server_file(dir.path(), "server.db")?)?;
    let mut t = Term::new("T1");
    let head = s.head()?;
    ensure_rejected(
        &t.count(&mut s, "LOSS", "SKU-10001", 1, Some(head))?,
        "not a physical location",
        "a virtual location",
    )?;
    ensure_rejected(
        &t.count(&mut s, "DOCK-01", "SKU-10001", -1, Some(head))?,
        "out of range",
        "a negative count",
    )?;
    ensure_rejected(
        &t.count(&mut s, "DOCK-01", "SKU-10001", 1, Some(head + 50))?,
        "based on event",
        "a basis beyond the head",
    )?;
    ensure_rejected(
        &t.count(&mut s, "DOCK-01", "SKU-NOPE", 1, Some(head))?,
        "not found: item",
        "an unknown item",
    )?;
    ensure_rejected(
        &t.count(&mut s, "DOCK-01", "SKU-10005", 1, Some(head))?,
        "does not fit the lot rules of SKU-10005",
        "a lot-tracked item counted without its lot",
    )?;
    // A picker may not count.
    let r = t.send(&mut s, "1003", bin_counted("DOCK-01", "SKU-10001", 1, head))?;
    ensure_rejected(&r, "may not record bin counted", "a picker's count")?;
    Ok(())
}

/// Discrepancies and labels name an item (and a PO, a lot): the server checks them as it
/// checks movements, and accepts them when they hold.
#[test]
fn discrepancies_and_labels_name_what_the_server_knows() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut s = open_server(&server_file(dir.path(), "server.db")?)?;
    let mut t = Term::new("T1");
    let discrepancy = |po: &str, sku: &str| Event::DiscrepancyRaised {
        id: uuid::Uuid::now_v7().to_string(),
        discrepancy: DiscrepancyKind::Short,
        receipt: Some("R-1".into()),
        po: Some(po.into()),
        line: Some(1),
        sku: sku.into(),
        lot: String::new(),
        qty: 3,
        note: String::new(),
    };
    let label = |sku: &str, lot: &str, qty: i64| Event::LabelPrinted {
        lpn: "LPN-1".into(),
        receipt: "R-1".into(),
        sku: sku.into(),
        lot: lot.into(),
        qty,
    };
    let cases = [
        (
            discrepancy("PO-5001", "SKU-NOPE"),
            "not found: item SKU-NOPE",
        ),
        (
            discrepancy("PO-NOPE", "SKU-10040"),
            "not found: purchase order PO-NOPE",
        ),
        (label("SKU-NOPE", "", 1), "not found: item SKU-NOPE"),
        (label("SKU-10001", "", 0), "quantity 0 is out of range"),
        (
            label("SKU-10005", "", 1),
            "does not fit the lot rules of SKU-10005",
        ),
        (
            label("SKU-10001", "L1", 1),
            "does not fit the lot rules of SKU-10001",
        ),
    ];
    for (event, because) in cases {
        let r = t.send(&mut s, "1001", event.clone())?;
        ensure_rejected(&r, because, &format!("{event:?}"))?;
    }
    for event in [
        discrepancy("PO-5001", "SKU-10040"),
        label("SKU-10005", "L1", 4),
    ] {
        let r = t.send(&mut s, "1001", event.clone())?;
        ensure_accepted(&r, &format!("{event:?}"))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Order progress

/// A movement on a terminal for a customer order line.
fn for_order(from: &str, to: &str, qty: i64, reason: MoveReason, line: i64) -> Move {
    Move {
        sku: "SKU-10001".into(),
        lot: String::new(),
        expiry: None,
        from: from.into(),
        to: to.into(),
        qty,
        reason,
        order: Some(OrderRef {
            order: "SO-7001".into(),
            line,
        }),
    }
}

fn progress_of(s: &Store, line: i64) -> TestResult<(i64, i64)> {
    let at = OrderRef {
        order: "SO-7001".into(),
        line,
    };
    let l = s.order_line(&at)?.ok_or("no order line")?;
    Ok((l.picked, l.shipped))
}

fn reserved(s: &mut Store, today: NaiveDate, sku: &str) -> TestResult<i64> {
    Ok(availability_of(s, today, sku)?.1)
}

/// A pick out of the pick face and a shipment for an order line move its progress on the
/// terminal and, once pushed, on the server, where the line reserves that much less; a
/// rejected shipment is taken back on the terminal; a terminal bootstrapped later knows
/// the progress. The terminal refuses a movement the line cannot take, writing nothing.
#[test]
fn order_progress_follows_picks_and_shipments() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut s = open_server(&server_file(dir.path(), "server.db")?)?;
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).ok_or("bad date")?;
    let orders = floorhand::import::orders(floorhand::demo::ORDERS_CSV.as_bytes())?;
    s.define_orders("system", &orders)?;
    let reserved_before = reserved(&mut s, today, "SKU-10001")?;
    let mut t1 = bootstrapped_terminal(&mut s, dir.path(), "T1")?;
    ensure!(progress_of(&t1, 1)? == (0, 0), "{:?}", progress_of(&t1, 1)?);
    // SO-7001 line 1 is 23 of SKU-10001.
    t1.move_stock(
        "1003",
        &for_order("PF-A-01", "PACK-01", 5, MoveReason::Pick, 1),
    )?;
    t1.move_stock(
        "1004",
        &for_order("PACK-01", "CUSTOMER", 3, MoveReason::Ship, 1),
    )?;
    ensure!(progress_of(&t1, 1)? == (5, 3), "{:?}", progress_of(&t1, 1)?);
    let refused = |t: &mut Store, m: Move, because: &str| -> TestResult {
        let before = (t.pending_count()?, progress_of(t, 1)?);
        match t.move_stock("1003", &m) {
            Err(StoreError::Rejected(why)) if why.contains(because) => {}
            other => return Err(format!("expected {because:?}, got {other:?}").into()),
        }
        ensure!(
            (t.pending_count()?, progress_of(t, 1)?) == before,
            "a refused movement wrote something"
        );
        Ok(())
    };
    refused(
        &mut t1,
        for_order("PF-A-01", "PACK-01", 19, MoveReason::Pick, 1),
        "has 18 left to pick, not 19",
    )?;
    refused(
        &mut t1,
        for_order("PF-A-01", "PACK-01", 1, MoveReason::Pick, 2),
        "is for SKU-10075, not SKU-10001",
    )?;
    refused(
        &mut t1,
        for_order("PF-A-01", "PACK-01", 1, MoveReason::Pick, 99),
        "not found: order SO-7001 line 99",
    )?;
    refused(
        &mut t1,
        for_order("PF-A-01", "A-02-04-2", 1, MoveReason::Transfer, 1),
        "a movement for transfer cannot count for order SO-7001 line 1",
    )?;
    refused(
        &mut t1,
        for_order("PACK-01", "SHIP-01", 1, MoveReason::Pack, 1),
        "neither picks nor ships",
    )?;
    // The picker ships 2 more: the terminal records it, the server rejects it (a picker
    // may not ship).
    t1.move_stock(
        "1003",
        &for_order("PACK-01", "CUSTOMER", 2, MoveReason::Ship, 1),
    )?;
    ensure!(progress_of(&t1, 1)? == (5, 5), "{:?}", progress_of(&t1, 1)?);
    let results = s.push(&Term::new("T1").who, &t1.pending(usize::MAX)?, Utc::now())?;
    ensure!(
        matches!(results.last(), Some(PushResult::Rejected { .. })),
        "{results:?}"
    );
    t1.record_push_results(&results)?;
    ensure!(
        progress_of(&t1, 1)? == (5, 3),
        "after the rejection: {:?}",
        progress_of(&t1, 1)?
    );
    ensure!(
        progress_of(&s, 1)? == (5, 3),
        "the server: {:?}",
        progress_of(&s, 1)?
    );
    let reserved_after = reserved(&mut s, today, "SKU-10001")?;
    ensure!(
        reserved_after == reserved_before - 5,
        "reserved SKU-10001 went from {reserved_before} to {reserved_after} after 5 were picked"
    );
    let t2 = bootstrapped_terminal(&mut s, dir.path(), "T2")?;
    ensure!(
        progress_of(&t2, 1)? == (5, 3),
        "T2: {:?}",
        progress_of(&t2, 1)?
    );
    // The server checks the line an event names, whatever the terminal let through.
    let mut t3 = Term::new("T3");
    let pushed = |line: i64, reason: MoveReason| Event::StockMoved {
        sku: "SKU-10001".into(),
        lot: String::new(),
        from: "PF-A-01".into(),
        to: "PACK-01".into(),
        qty: 1,
        reason,
        receipt: None,
        order: Some(OrderRef {
            order: "SO-7001".into(),
            line,
        }),
    };
    for (line, reason, user, because) in [
        (
            99,
            MoveReason::Pick,
            "1003",
            "not found: order SO-7001 line 99",
        ),
        (
            2,
            MoveReason::Pick,
            "1003",
            "is for SKU-10075, not SKU-10001",
        ),
        (
            1,
            MoveReason::Transfer,
            "1007",
            "a movement for transfer cannot count",
        ),
    ] {
        let r = t3.send(&mut s, user, pushed(line, reason))?;
        ensure_rejected(&r, because, &format!("line {line}, {reason:?}"))?;
    }
    ensure!(
        progress_of(&s, 1)? == (5, 3),
        "after the rejections: {:?}",
        progress_of(&s, 1)?
    );
    // The order imported again keeps the progress of its lines.
    s.define_orders("system", &orders)?;
    ensure!(
        progress_of(&s, 1)? == (5, 3),
        "re-imported: {:?}",
        progress_of(&s, 1)?
    );
    ensure_checked(&s, "after the order movements")?;
    ensure!(t1.check()?.ok, "T1: {:?}", t1.check()?);
    Ok(())
}

/// A merge's exception asks for a recount: a count that saw every movement of the
/// balance does it, setting the balance and resolving the exception (and the review a
/// stale count raised meanwhile); a stale count resolves nothing. Terminals pull both.
#[test]
fn a_fresh_count_is_the_recount_an_exception_asked_for() -> TestResult {
    let mut m = merged()?;
    let before_merge = 0;
    m.s.catch_up()?;
    ensure!(
        exceptions(&m.s, "open")?.len() == 1,
        "{:?}",
        exceptions(&m.s, "open")?
    );
    let mut counter = Term::new("T4");
    // Based on a view before the merge: stale, flagged, resolves nothing.
    ensure_accepted(
        &counter.count(&mut m.s, BIN, SKU, m.held, Some(before_merge))?,
        "the stale count",
    )?;
    m.s.catch_up()?;
    ensure!(
        exceptions(&m.s, "open")?.len() == 2 && m.s.balance(BIN, SKU, "")? == -m.held,
        "after the stale count: {:?}, balance {}",
        exceptions(&m.s, "open")?,
        m.s.balance(BIN, SKU, "")?
    );
    // Listed as recount tasks.
    let open = m.s.exceptions(Some("WH1"), true)?;
    ensure!(
        open.len() == 2 && open.iter().all(|e| e.recount && e.location == BIN),
        "{open:?}"
    );
    let table = floorhand::server::admin::exceptions_table(&open);
    ensure!(
        table
            .lines()
            .filter(|l| l.contains(BIN) && l.contains("yes") && l.contains("open"))
            .count()
            == 2,
        "{table}"
    );
    ensure!(
        m.s.exceptions(Some("WH2"), true)?.is_empty(),
        "WH2 has exceptions"
    );
    // The recount: the bin is found empty.
    ensure_accepted(&counter.count(&mut m.s, BIN, SKU, 0, None)?, "the recount")?;
    m.s.catch_up()?;
    ensure!(
        exceptions(&m.s, "open")?.is_empty() && exceptions(&m.s, "resolved")?.len() == 2,
        "after the recount, open {:?}",
        exceptions(&m.s, "open")?
    );
    ensure!(
        m.s.balance(BIN, SKU, "")? == 0,
        "the recount left {BIN} at {}",
        m.s.balance(BIN, SKU, "")?
    );
    ensure!(
        journal_count(&m.s, "exception_resolved")? == 2,
        "{} resolutions",
        journal_count(&m.s, "exception_resolved")?
    );
    let all = m.s.exceptions(None, false)?;
    ensure!(
        all.len() == 2 && all.iter().all(|e| e.state == "resolved"),
        "{all:?}"
    );
    // Counting again resolves nothing more.
    ensure_accepted(
        &counter.count(&mut m.s, BIN, SKU, 0, None)?,
        "a second count",
    )?;
    m.s.catch_up()?;
    ensure!(
        journal_count(&m.s, "exception_resolved")? == 2,
        "resolved twice"
    );
    ensure_checked(&m.s, "after the recount")?;
    // T3 pulls it all.
    let page = m.s.pull(&m.who3, m.t3.cursor()?, 1000)?;
    m.t3.apply_pulled(&page.events)?;
    ensure!(
        exceptions(&m.t3, "open")?.is_empty() && exceptions(&m.t3, "resolved")?.len() == 2,
        "T3: open {:?}",
        exceptions(&m.t3, "open")?
    );
    ensure!(m.t3.check()?.ok, "T3: {:?}", m.t3.check()?);
    Ok(())
}

/// A count that resolves a merge's exception, and a movement in the same fold that drains
/// the bin again: the bin gets a new exception, since the first was closed. Two fresh
/// counts folded together resolve it once.
#[test]
fn a_bin_drained_again_after_its_recount_gets_a_new_exception() -> TestResult {
    let mut m = merged()?;
    m.s.catch_up()?;
    let first = exception_ids(&m.s)?;
    ensure!(first.len() == 1, "{first:?}");
    let (mut counter, mut t1) = (Term::new("T4"), Term::new("T1"));
    t1.seq = 2; // T1 pushed two movements in the merge
    ensure_accepted(&counter.count(&mut m.s, BIN, SKU, 0, None)?, "the recount")?;
    ensure_accepted(
        &counter.count(&mut m.s, BIN, SKU, 0, None)?,
        "a second count",
    )?;
    t1.push(&mut m.s, &[mv(SKU, "", BIN, "A-01-01-2", 2)])?;
    m.s.catch_up()?;
    ensure!(
        journal_count(&m.s, "exception_resolved")? == 1,
        "{} resolutions",
        journal_count(&m.s, "exception_resolved")?
    );
    let open = exceptions(&m.s, "open")?;
    ensure!(
        open == vec![(BIN.to_string(), SKU.to_string(), String::new(), -2)],
        "after the bin was drained again: open {open:?}"
    );
    ensure_checked(&m.s, "after the recount and the drain")
}

/// A discrepancy the server rejects is taken back on the terminal that raised it.
#[test]
fn a_rejected_discrepancy_is_taken_back() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut s = open_server(&server_file(dir.path(), "server.db")?)?;
    let mut t1 = bootstrapped_terminal(&mut s, dir.path(), "T1")?;
    let raised = |po: &str| Event::DiscrepancyRaised {
        id: uuid::Uuid::now_v7().to_string(),
        discrepancy: DiscrepancyKind::Short,
        receipt: None,
        po: Some(po.into()),
        line: Some(1),
        sku: "SKU-10040".into(),
        lot: String::new(),
        qty: 2,
        note: String::new(),
    };
    t1.record("1001", &[raised("PO-5001"), raised("PO-NOPE")])?;
    let count = |t: &Store| -> TestResult<usize> { Ok(t.discrepancies()?.len()) };
    let before = count(&t1)?;
    let results = s.push(&Term::new("T1").who, &t1.pending(usize::MAX)?, Utc::now())?;
    ensure!(
        matches!(
            results.as_slice(),
            [PushResult::Accepted { .. }, PushResult::Rejected { .. }]
        ),
        "{results:?}"
    );
    t1.record_push_results(&results)?;
    ensure!(
        count(&t1)? == before - 1,
        "discrepancies went from {before} to {}",
        count(&t1)?
    );
    Ok(())
}
