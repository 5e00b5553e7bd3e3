//! Sync over real HTTP with the real binary: `floorhand serve` is killed with SIGKILL while
//! terminals push, restarted on the same port and store, and afterwards every terminal
//! event is in the server's journal exactly once and everyone holds the same balances.
//!
//! Seeded: the test prints its seed; `FLOORHAND_SYNC_SEED=<seed>` replays the same
//! schedule (which terminal moves what, when the server dies; the exact instant a kill
//! lands still depends on timing).

#![cfg(unix)]

mod common;

use common::serve::{Server, admin, enrolment_code, on_server};
use common::sync::{Key, Mix, Rng, balances, base_seed, fast, floor, random_move, seeded};
use common::{TestResult, ensure};
use floorhand::store::Store;
use floorhand::sync::client::{self, Http, Round, SyncError, TransportError};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const TERMINALS: usize = 3;
/// The server is killed at least this many times ...
const MIN_KILLS: usize = 10;
/// ... and until this many kills took the answer of a committed push, or this many kills.
const LOST_ANSWERS: usize = 3;
/// A kill takes a committed push's answer only when it lands in the short time between
/// the commit and the answer; on a fast server that was as rare as 1 kill in 20, so a
/// run of 60 kills found none about once in 40 runs.
const MAX_KILLS: usize = 200;
/// A kill lands up to this long after a push was seen starting.
const MAX_KILL_DELAY_MICROS: usize = 20_000;

// ---------------------------------------------------------------------------------------
// Terminals

struct Term {
    store: Store,
    http: Http,
}

/// The movements terminals record: stock moving through the warehouse, transfers by the
/// supervisor, no losses.
const MIX: Mix = Mix {
    receipt: 25,
    putaway: 20,
    transfer: 30,
    pick: 15,
    ship: 10,
    loss: 0,
    transfers_by_putaway: 0.0,
};

/// What the pushing thread saw.
#[derive(Debug, Default)]
struct Seen {
    rounds: usize,
    ok: usize,
    offline: usize,
    /// Rounds that failed while the terminal had events to push.
    cut_with_pending: usize,
    /// Of those, the ones whose push the server had committed: the kill took the answer.
    committed_unanswered: usize,
    unavailable: usize,
    moves: usize,
}

/// One round: `Ok(None)` when the server could not be reached or answered mid-way (it
/// is being killed), an error for anything else.
fn round(t: &mut Term, seen: &mut Seen, server: &Path) -> Result<Option<Round>, String> {
    seen.rounds += 1;
    let first = t.store.pending(1).map_err(|e| e.to_string())?;
    match client::round(&mut t.store, &mut t.http) {
        Ok(r) => {
            seen.ok += 1;
            Ok(Some(r))
        }
        Err(SyncError::Transport(TransportError::Offline(_))) => {
            seen.offline += 1;
            if let Some(e) = first.first() {
                seen.cut_with_pending += 1;
                // Still pending here, yet on the server: its answer was lost.
                let pending = t.store.pending(1).map_err(|e| e.to_string())?;
                if pending.first().is_some_and(|p| p.id == e.id) && on_server(server, &e.id)? {
                    seen.committed_unanswered += 1;
                }
            }
            Ok(None)
        }
        Err(SyncError::Transport(TransportError::Refused { status: 503, .. })) => {
            seen.unavailable += 1;
            Ok(None)
        }
        Err(e) => Err(format!("{}: sync failed: {e}", t.store.terminal())),
    }
}

// ---------------------------------------------------------------------------------------
// The test

#[test]
fn server_killed_mid_push_loses_and_repeats_nothing() -> TestResult {
    let test = "server_killed_mid_push_loses_and_repeats_nothing";
    seeded(test, base_seed(test), run)
}

fn run(seed: u64) -> TestResult {
    let started = Instant::now();
    let mut rng = Rng::new(seed);
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let store_path = dir.join("server.db");
    admin(dir, &store_path, &["init", "--demo"])?;
    let mut codes = Vec::new();
    for i in 1..=TERMINALS {
        codes.push(enrolment_code(dir, &store_path, &format!("T{i}"), "WH1")?);
    }
    let mut server = Server::start(dir, &store_path)?;
    let url = server.url();
    let mut terms = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let name = format!("T{}", i + 1);
        let mut store = Store::open(&dir.join(format!("{name}.db")), &name)?;
        // Terminals are not the ones killed here; spare them the fsyncs.
        fast(&store)?;
        let e = client::enroll(&mut store, &url, code)?;
        ensure!(e.terminal == name, "enrolled as {}", e.terminal);
        let mut t = Term {
            store,
            http: Http::new(&url, &e.token),
        };
        let r = client::round(&mut t.store, &mut t.http)?;
        ensure!(r.bootstrapped, "{name} did not bootstrap");
        terms.push(t);
    }
    let floor = floor(&terms[0].store, 1)?;

    // A thread keeps the terminals working and pushing; this one kills the server.
    let pushes = AtomicUsize::new(0);
    let lost_answers = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut worker_rng = rng.fork();
    let (terms, seen, kills) =
        std::thread::scope(|scope| -> TestResult<(Vec<Term>, Seen, usize)> {
            let worker = scope.spawn(|| -> Result<(Vec<Term>, Seen), String> {
                let mut terms = terms;
                let mut seen = Seen::default();
                let rng = &mut worker_rng;
                while !stop.load(Ordering::SeqCst) && seen.rounds < 20_000 {
                    let i = rng.below(terms.len());
                    for _ in 0..rng.range(1, 25) {
                        if random_move(rng, &mut terms[i].store, &floor, &MIX)
                            .map_err(|e| e.to_string())?
                        {
                            seen.moves += 1;
                        }
                    }
                    pushes.fetch_add(1, Ordering::SeqCst);
                    round(&mut terms[i], &mut seen, &store_path)?;
                    lost_answers.store(seen.committed_unanswered, Ordering::SeqCst);
                }
                Ok((terms, seen))
            });
            let mut kills = 0;
            let outcome = (|| -> TestResult {
                while kills < MAX_KILLS
                    && (kills < MIN_KILLS || lost_answers.load(Ordering::SeqCst) < LOST_ANSWERS)
                {
                    // Let a few rounds through, then kill while the next one is under way.
                    let target = pushes.load(Ordering::SeqCst) + 1 + rng.below(4);
                    wait_for(&pushes, target, &worker)?;
                    std::thread::sleep(Duration::from_micros(
                        rng.below(MAX_KILL_DELAY_MICROS + 1) as u64
                    ));
                    server.kill()?;
                    kills += 1;
                    // Some rounds find it down.
                    let target = pushes.load(Ordering::SeqCst) + rng.below(3);
                    wait_for(&pushes, target, &worker)?;
                    server.restart()?;
                }
                let target = pushes.load(Ordering::SeqCst) + 3;
                wait_for(&pushes, target, &worker)
            })();
            stop.store(true, Ordering::SeqCst);
            let joined = worker.join().map_err(|_| "the pushing thread panicked")?;
            outcome?;
            let (terms, seen) = joined?;
            Ok((terms, seen, kills))
        })?;
    let mut terms = terms;
    eprintln!("{kills} kills; the pushing thread saw {seen:?}");

    // Everyone syncs until nothing moves.
    let mut quiet = false;
    let mut settle = Seen::default();
    for _ in 0..30 {
        quiet = true;
        for t in &mut terms {
            match round(t, &mut settle, &store_path)? {
                Some(r) => quiet &= r.pushed == 0 && r.pulled == 0 && t.store.pending_count()? == 0,
                None => quiet = false,
            }
        }
        if quiet {
            break;
        }
    }
    ensure!(
        quiet,
        "the terminals did not settle in 30 passes: {settle:?}"
    );
    server.kill()?;
    let server = Store::open(&store_path, "server")?;
    let stores: Vec<&Store> = terms.iter().map(|t| &t.store).collect();
    verify(&server, &stores)?;
    eprintln!(
        "{} movements, server head {}, {:?}",
        seen.moves,
        server.head()?,
        started.elapsed()
    );
    ensure!(
        seen.committed_unanswered > 0,
        "in {kills} kills no push was committed and its answer lost: the kills proved little"
    );
    Ok(())
}

/// Poll until the worker has started `target` rounds (or has stopped).
fn wait_for(
    pushes: &AtomicUsize,
    target: usize,
    worker: &std::thread::ScopedJoinHandle<'_, Result<(Vec<Term>, Seen), String>>,
) -> TestResult {
    let deadline = Instant::now() + Duration::from_secs(60);
    while pushes.load(Ordering::SeqCst) < target {
        ensure!(!worker.is_finished(), "the pushing thread stopped early");
        ensure!(
            Instant::now() < deadline,
            "the pushing thread made no progress for 60 s"
        );
        std::thread::yield_now();
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// What must hold afterwards

fn verify(server: &Store, terminals: &[&Store]) -> TestResult {
    let conn = server.connection();
    let mut problems = Vec::new();
    let (count, min, max): (i64, i64, i64) = conn.query_row(
        "SELECT COUNT(*), COALESCE(MIN(ord), 0), COALESCE(MAX(ord), 0) FROM journal",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    if count != max || (count > 0 && min != 1) {
        problems.push(format!(
            "server gseq not gapless: {count} rows, {min}..{max}"
        ));
    }
    let mut journal: HashMap<String, (String, i64, i64)> = HashMap::new();
    {
        let mut stmt = conn.prepare("SELECT id, terminal, seq, ord FROM journal")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            journal.insert(r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?));
        }
    }
    let rejected: i64 = conn.query_row("SELECT COUNT(*) FROM rejected_events", [], |r| r.get(0))?;
    if rejected != 0 {
        problems.push(format!(
            "the server rejected {rejected} events; none were expected"
        ));
    }
    for c in server.check()?.checks.into_iter().filter(|c| !c.ok) {
        problems.push(format!("server check {}: {:?}", c.name, c.violations));
    }
    let server_balances = balances(server)?;
    for t in terminals {
        let name = t.terminal().to_string();
        let mut own: Vec<(String, i64, Option<i64>)> = Vec::new();
        {
            let mut stmt = t.connection().prepare(
                "SELECT j.id, j.seq, r.gseq FROM journal j LEFT JOIN sync_results r ON r.id = j.id
                 WHERE j.terminal = ?1 ORDER BY j.seq",
            )?;
            let mut rows = stmt.query([&name])?;
            while let Some(r) = rows.next()? {
                own.push((r.get(0)?, r.get(1)?, r.get(2)?));
            }
        }
        for (id, seq, gseq) in &own {
            match journal.get(id) {
                None => problems.push(format!(
                    "{name} seq {seq} ({id}) was lost: not on the server"
                )),
                Some((term, s, ord)) => {
                    if *term != name || s != seq || *gseq != Some(*ord) {
                        problems.push(format!(
                            "{name} seq {seq} ({id}, gseq {gseq:?} here) is on the server as {term} seq {s} gseq {ord}"
                        ));
                    }
                }
            }
        }
        let on_server = journal.values().filter(|v| v.0 == name).count();
        if on_server != own.len() {
            problems.push(format!(
                "the server holds {on_server} events of {name}, which recorded {}",
                own.len()
            ));
        }
        let base: i64 = t
            .meta("sync.bootstrapped")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let theirs: BTreeSet<String> = {
            let mut stmt = t
                .connection()
                .prepare("SELECT id FROM journal WHERE terminal != ?1")?;
            let rows = stmt.query_map([&name], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let want: BTreeSet<String> = journal
            .iter()
            .filter(|(_, v)| v.2 > base && v.0 != name)
            .map(|(id, _)| id.clone())
            .collect();
        if theirs != want {
            problems.push(format!(
                "{name} holds {} events of others, the server {} since gseq {base}",
                theirs.len(),
                want.len()
            ));
        }
        let mine = balances(t)?;
        let keys: BTreeSet<&Key> = mine.keys().chain(server_balances.keys()).collect();
        let d: Vec<String> = keys
            .into_iter()
            .filter(|k| mine.get(*k) != server_balances.get(*k))
            .take(8)
            .map(|k| format!("{k:?}: {:?} vs {:?}", mine.get(k), server_balances.get(k)))
            .collect();
        if !d.is_empty() {
            problems.push(format!(
                "{name}'s balances differ from the server's (terminal vs server): {d:?}"
            ));
        }
        // Every terminal bootstrapped before any exception was raised, so it pulled them
        // all: negative bins are covered on the terminals too.
        for c in t.check()?.checks.into_iter().filter(|c| !c.ok) {
            problems.push(format!("{name} check {}: {:?}", c.name, c.violations));
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
