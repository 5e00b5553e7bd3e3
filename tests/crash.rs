//! Crash safety: a writer process is killed with SIGKILL at random moments, over and over,
//! and every movement it acknowledged must survive exactly once, with `check` passing.
//!
//! The test binary re-executes itself: `crash_safety` (the parent) spawns this same binary
//! filtered to `crash_child` with `FLOORHAND_CRASH_CHILD_DB` set; `crash_child` passes at
//! once when that variable is absent (a normal test run) and otherwise becomes the writer.
//! It commits one movement at a time and prints `ACK <token> <seq> <id>` after each commit.
//!
//! Reproduce a failure with the seed it printed: `FLOORHAND_CRASH_SEED=<seed>`.
//! `FLOORHAND_CRASH_KILLS=<n>` changes the number of kills (default 200).

#![cfg(unix)]

use floorhand::domain::{AbcClass, Event, Item, Location, LocationKind, LocationRole, MoveReason};
use floorhand::store::{Move, SYSTEM_USER, Store};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::error::Error;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

type TestResult = Result<(), Box<dyn Error>>;

const CHILD_DB_ENV: &str = "FLOORHAND_CRASH_CHILD_DB";
const CHILD_TOKEN_ENV: &str = "FLOORHAND_CRASH_CHILD_TOKEN";
const SEED_ENV: &str = "FLOORHAND_CRASH_SEED";
const KILLS_ENV: &str = "FLOORHAND_CRASH_KILLS";

const TERMINAL: &str = "CRASH-T1";
const USER: &str = "crash-writer";
const SKU: &str = "CRASH-SKU";
const SUPPLIER: &str = "SUPPLIER";
const STORAGE: [&str; 4] = ["ST-01", "ST-02", "ST-03", "ST-04"];

/// The signal `Child::kill` sends on Unix; 9 everywhere.
const SIGKILL: i32 = 9;
const DEFAULT_KILLS: u32 = 200;
/// The kill comes between 0 and this long after the child's first acknowledgement.
const MAX_KILL_DELAY_MICROS: u64 = 30_000;
/// How long a child may take to start and commit its first movement.
const FIRST_ACK_DEADLINE: Duration = Duration::from_secs(60);
/// A writer that is never killed stops by itself after this many movements.
const CHILD_MAX_MOVES: u64 = 1_000_000;

/// The writer. Does nothing unless started by `crash_safety`.
#[test]
fn crash_child() -> TestResult {
    let (Some(db), Some(token)) = (
        std::env::var_os(CHILD_DB_ENV),
        std::env::var_os(CHILD_TOKEN_ENV),
    ) else {
        return Ok(());
    };
    let token = token.to_string_lossy().into_owned();
    let mut store = Store::open(Path::new(&db), TERMINAL)?;
    let mut out = std::io::stdout().lock();
    // End whatever line the test harness has started ("test crash_child ... ").
    out.write_all(b"\n")?;
    out.flush()?;
    // Carry the round robin on from where the last writer was killed.
    let start = u64::try_from(store.journal_len()?)?;
    for n in start..start + CHILD_MAX_MOVES {
        let m = next_move(&store, n)?;
        let recorded = store.move_stock(USER, &m)?;
        for r in &recorded {
            // A write error (the parent went away) ends the writer.
            writeln!(out, "ACK {token} {} {}", r.seq, r.id)?;
        }
        out.flush()?;
    }
    Ok(())
}

/// Every third movement is a transfer between two storage locations if the source has
/// stock; the others are receipts from the supplier into the storage locations in turn.
fn next_move(store: &Store, n: u64) -> Result<Move, Box<dyn Error>> {
    let i = usize::try_from(n % STORAGE.len() as u64)?;
    let here = STORAGE[i];
    let next = STORAGE[(i + 1) % STORAGE.len()];
    let (from, to, reason) = if n % 3 == 2 && store.balance(here, SKU, "")? > 0 {
        (here, next, MoveReason::Transfer)
    } else {
        (SUPPLIER, here, MoveReason::Receipt)
    };
    Ok(Move {
        sku: SKU.into(),
        lot: String::new(),
        expiry: None,
        from: from.into(),
        to: to.into(),
        qty: 1,
        reason,
        order: None,
    })
}

#[test]
fn crash_safety() -> TestResult {
    let started = Instant::now();
    let seed = match std::env::var(SEED_ENV) {
        Ok(s) => s.trim().parse::<u64>()?,
        Err(_) => SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos() as u64,
    };
    let kills_wanted = match std::env::var(KILLS_ENV) {
        Ok(s) => s.trim().parse::<u32>()?,
        Err(_) => DEFAULT_KILLS,
    };
    println!("crash_safety: seed {seed} (rerun with {SEED_ENV}={seed}), {kills_wanted} kills");
    let mut rng = XorShift::new(seed);

    let dir = tempfile::tempdir()?;
    let db = dir.path().join("crash.db");
    set_up(&db)?;
    let token = format!("{}-{seed}", std::process::id());
    let exe = std::env::current_exe()?;

    let mut acks: Vec<(i64, String)> = Vec::new();
    let mut kills = 0u32;
    let mut partial_lines = 0u32;
    let mut last_partial = None;
    while kills < kills_wanted {
        let mut cmd = Command::new(&exe);
        cmd.args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_DB_ENV, &db)
            .env(CHILD_TOKEN_ENV, &token)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = KillOnDrop(cmd.spawn()?);
        let stdout = child.0.stdout.take().ok_or("the child has no stdout")?;
        let (tx, rx) = mpsc::channel();
        let reader: JoinHandle<std::io::Result<()>> = thread::spawn(move || {
            let mut stdout = BufReader::new(stdout);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                if stdout.read_until(b'\n', &mut buf)? == 0 {
                    return Ok(());
                }
                let text = String::from_utf8_lossy(&buf).into_owned();
                let line = if text.ends_with('\n') {
                    Line::Complete(text.trim_end().to_string())
                } else {
                    Line::Partial(text)
                };
                if tx.send(line).is_err() {
                    return Ok(());
                }
            }
        });

        let mut lines = Vec::new();
        let first = wait_for_first_ack(&rx, &token, &mut lines);
        if first {
            thread::sleep(Duration::from_micros(rng.below(MAX_KILL_DELAY_MICROS + 1)));
        }
        // SIGKILL on Unix. An error means the child had already exited.
        let _ = child.0.kill();
        let status = child.0.wait()?;
        lines.extend(rx.iter());
        match reader.join() {
            Ok(read) => read?,
            Err(_) => return Err("the stdout reader thread panicked".into()),
        }
        let killed = status.signal() == Some(SIGKILL);
        if !first || !killed {
            let tail: Vec<_> = lines.iter().rev().take(20).rev().collect();
            return Err(format!(
                "run {}: the writer {} ({status}); its last output: {tail:?}",
                kills + 1,
                if first {
                    "exited by itself"
                } else {
                    "gave no acknowledgement"
                },
            )
            .into());
        }
        kills += 1;
        for line in lines {
            match line {
                Line::Complete(text) => {
                    if let Some(ack) = parse_ack(&text, &token)? {
                        acks.push(ack);
                    }
                }
                Line::Partial(text) => {
                    partial_lines += 1;
                    last_partial = Some(text);
                }
            }
        }
    }

    let store = Store::open(&db, TERMINAL)?;
    let report = store.check()?;
    assert!(report.ok, "check failed after {kills} kills: {report:#?}");

    // Everything the journal holds for the writer's terminal.
    let mut journal: HashMap<String, (i64, String, usize)> = HashMap::new();
    let mut moved = 0i64;
    let mut receipts = 0i64;
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    {
        let mut stmt = store
            .connection()
            .prepare("SELECT id, seq, kind, payload FROM journal WHERE terminal = ?1")?;
        let mut rows = stmt.query([TERMINAL])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let seq: i64 = r.get(1)?;
            let kind: String = r.get(2)?;
            let payload: String = r.get(3)?;
            if let Event::StockMoved { from, to, qty, .. } = serde_json::from_str(&payload)? {
                moved += 1;
                receipts += i64::from(from == SUPPLIER);
                *expected.entry(from).or_default() -= qty;
                *expected.entry(to).or_default() += qty;
            }
            journal.entry(id).or_insert((seq, kind, 0)).2 += 1;
        }
    }

    // Acknowledged means present exactly once, with the acknowledged sequence number.
    let mut seen = HashSet::new();
    let mut last_seq = 0i64;
    for (seq, id) in &acks {
        assert!(seen.insert(id.as_str()), "id {id} was acknowledged twice");
        assert!(
            *seq > last_seq,
            "acknowledged seq {seq} (id {id}) does not follow {last_seq}: a sequence number was reused"
        );
        last_seq = *seq;
        let Some((jseq, kind, count)) = journal.get(id) else {
            return Err(
                format!("acknowledged movement seq {seq} id {id} is not in the journal").into(),
            );
        };
        assert_eq!(*count, 1, "id {id} is in the journal {count} times");
        assert_eq!(jseq, seq, "id {id} was acknowledged as seq {seq}");
        assert_eq!(kind, "stock_moved", "id {id}");
    }
    let acked = i64::try_from(acks.len())?;
    assert!(acked > 0, "no movement was acknowledged");
    assert!(
        moved >= acked,
        "{moved} movements in the journal but {acked} acknowledged"
    );
    // A writer commits its next movement only after acknowledging the last one, so each
    // kill leaves at most one committed but unacknowledged movement.
    assert!(
        moved - acked <= i64::from(kills),
        "{} unacknowledged movements after {kills} kills",
        moved - acked
    );

    // Balances are what the journal's movements add up to.
    for loc in std::iter::once(SUPPLIER).chain(STORAGE) {
        let want = expected.get(loc).copied().unwrap_or(0);
        assert_eq!(store.balance(loc, SKU, "")?, want, "balance at {loc}");
    }
    // Every receipt took one unit from the supplier and put it in storage.
    let in_storage: i64 = STORAGE.iter().filter_map(|l| expected.get(*l)).sum();
    assert_eq!(expected.get(SUPPLIER).copied().unwrap_or(0), -receipts);
    assert_eq!(in_storage, receipts);

    println!(
        "crash_safety: seed {seed}: {kills} kills, {acked} acks, {} unacknowledged commits, \
         {partial_lines} partial lines, {moved} movements ({receipts} receipts, {} transfers), \
         {} journal events, {:.1?}",
        moved - acked,
        moved - receipts,
        store.journal_len()?,
        started.elapsed()
    );
    if let Some(text) = last_partial {
        println!("crash_safety: last partial line (not an acknowledgement): {text:?}");
    }
    Ok(())
}

/// One item, a virtual supplier and a few storage locations without capacity limits.
fn set_up(db: &Path) -> TestResult {
    let mut store = Store::open(db, TERMINAL)?;
    store.define_items(
        SYSTEM_USER,
        &[Item {
            sku: SKU.into(),
            description: "Crash test widget".into(),
            base_unit: "EA".into(),
            gtins: Vec::new(),
            lot_tracked: false,
            expiry_tracked: false,
            shelf_life_days: None,
            abc: AbcClass::A,
            unit_cost_cents: 100,
            category: "test".into(),
        }],
    )?;
    let location = |code: &str, role: LocationRole| Location {
        code: code.into(),
        site: "S1".into(),
        zone: "Z1".into(),
        kind: role.kind(),
        role,
        pick_seq: None,
        check_digits: None,
        capacity: None,
    };
    let mut locations = vec![location(SUPPLIER, LocationRole::Supplier)];
    locations.extend(STORAGE.iter().map(|c| location(c, LocationRole::Storage)));
    assert_eq!(locations[0].kind, LocationKind::Virtual);
    store.define_locations(SYSTEM_USER, &locations)?;
    Ok(())
}

/// One line of the child's stdout: complete (ended by '\n') or cut off by the kill.
#[derive(Debug)]
enum Line {
    Complete(String),
    Partial(String),
}

/// Wait, with a deadline, until the child acknowledges its first movement. Keeps every
/// line read. False if the child's output ended or the deadline passed first.
fn wait_for_first_ack(rx: &Receiver<Line>, token: &str, lines: &mut Vec<Line>) -> bool {
    let deadline = Instant::now() + FIRST_ACK_DEADLINE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let is_ack = matches!(&line, Line::Complete(t) if is_ack(t, token));
                lines.push(line);
                if is_ack {
                    return true;
                }
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return false,
        }
    }
}

fn is_ack(line: &str, token: &str) -> bool {
    line.strip_prefix("ACK ")
        .and_then(|rest| rest.strip_prefix(token))
        .is_some_and(|rest| rest.starts_with(' '))
}

/// `ACK <token> <seq> <id>` as (seq, id); other lines (the test harness's) are `None`.
fn parse_ack(line: &str, token: &str) -> Result<Option<(i64, String)>, Box<dyn Error>> {
    if !is_ack(line, token) {
        return Ok(None);
    }
    let mut fields = line.split(' ').skip(2);
    let (Some(seq), Some(id), None) = (fields.next(), fields.next(), fields.next()) else {
        return Err(format!("malformed acknowledgement: {line:?}").into());
    };
    let id = uuid::Uuid::parse_str(id)?;
    Ok(Some((seq.parse()?, id.to_string())))
}

/// Kills the child if the parent leaves early, so no writer outlives the test.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// xorshift64*: small, seeded, reproducible.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        // Zero is a fixed point of xorshift; mix the seed so every seed works.
        Self(seed ^ 0x9E37_79B9_7F4A_7C15 | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform enough in `0..n` for picking delays.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}
