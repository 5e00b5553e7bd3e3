//! Stock lookup benchmark.
//!
//! Builds a warehouse of 100,000 items, 20,000 locations and 1,000,000 journal events
//! through the public [`Store`] API, then measures, in one run:
//!
//! - start-up: spawn of the real `floorhand` binary in a pseudo-terminal until its first
//!   frame (the login screen) is on the screen; median of several runs;
//! - lookup latency: scan-to-frame of stock lookups through the real app loop (tick, key,
//!   draw after every key, as `tui::run` does) on an 80x24 `TestBackend`: from the first
//!   key of a scan to the end of the frame drawn after its Enter;
//! - peak memory: `VmHWM` of the real app process after a login and a few hundred lookups
//!   through the pseudo-terminal (MB here are 10^6 bytes);
//! - the physical baseline: one durable SQLite commit (WAL, synchronous FULL, one-row
//!   insert), in the same run and on the same disk.
//!
//! The machine may be shared: `p99_uncontended_ms` is scan-to-frame less the time the
//! bench thread spent runnable but waiting for a CPU (`/proc/thread-self/schedstat`), so a
//! busy machine can be told from a slow app.
//!
//! Its last line is
//! `lookup: build_s=.. startup_ms=.. p50_ms=.. p99_ms=.. commit_p50_ms=.. peak_rss_mb=.. ...`
//!
//! Knobs (environment):
//! - `LOOKUP_BENCH_SCALE` (default 1.0): scales items, locations and events (0.05 for a
//!   quick run);
//! - `LOOKUP_BENCH_SCANS` (default 10,000): lookups measured in process;
//! - `LOOKUP_BENCH_STARTS` (default 15): start-ups measured;
//! - `LOOKUP_BENCH_DIR`: where the temporary store is built (default: the system temp
//!   directory);
//! - `LOOKUP_BENCH_KEEP=1`: keep the store afterwards (its path is printed) to look into it.

mod common;

use chrono::Utc;
use common::*;
use floorhand::config::Config;
use floorhand::domain::MoveReason;
use floorhand::store::{Move, Store};
use floorhand::tui::{self, App, app::Screen};
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What the login screen shows: the first frame.
const FIRST_FRAME: &str = "Scan your badge";
/// Lookups driven through the pseudo-terminal before reading the app's peak memory.
const PTY_SCANS: usize = 200;
/// Durable commits measured for the physical baseline.
const COMMITS: usize = 1_000;

fn main() -> Res<()> {
    let scale = env_parse("LOOKUP_BENCH_SCALE", 1.0_f64)?;
    if !(scale.is_finite() && scale > 0.0) {
        return Err(format!("LOOKUP_BENCH_SCALE must be a positive number, not {scale}").into());
    }
    let sizes = Sizes::new(scale);
    let scans = env_parse("LOOKUP_BENCH_SCANS", 10_000_usize)?.max(1);
    let starts = env_parse("LOOKUP_BENCH_STARTS", 15_usize)?.max(1);
    let bin = floorhand_binary()?;

    let dir = match std::env::var_os("LOOKUP_BENCH_DIR") {
        Some(parent) => tempfile::Builder::new()
            .prefix("floorhand-lookup-")
            .tempdir_in(parent)?,
        None => tempfile::Builder::new()
            .prefix("floorhand-lookup-")
            .tempdir()?,
    };
    let db = dir.path().join("floorhand.db");
    println!(
        "bench: scale {scale}: {} items, {} locations, {} journal events; store {}; binary {}",
        sizes.items,
        sizes.locations,
        sizes.events,
        db.display(),
        bin.display()
    );

    let load_start = load_average();
    println!(
        "machine: {} CPUs, load average {load_start} at the start",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );

    // Build.
    let mut rng = Rng::new(0x5eed_f100_7a4d);
    let t = Instant::now();
    let wh = build(&db, &sizes, &mut rng)?;
    let build_s = t.elapsed().as_secs_f64();
    let store = Store::open(&db, TERMINAL)?;
    let events = store.journal_len()?;
    let (balances, physical_balances, db_mb) = store_stats(&store, &db)?;
    println!(
        "build: {events} events in {build_s:.2} s ({:.0} events/s, {} per transaction); \
         {balances} balances ({physical_balances} at physical locations); store {db_mb:.1} MB",
        events as f64 / build_s,
        BATCH
    );

    let rss_before_check = vm_hwm_mb("self")?;
    let t = Instant::now();
    let report = store.check()?;
    let check_s = t.elapsed().as_secs_f64();
    let rss_after_check = vm_hwm_mb("self")?;
    println!(
        "check: {} in {check_s:.2} s (bench VmHWM {rss_before_check:.1} MB before, \
         {rss_after_check:.1} MB after)",
        if report.ok {
            "all checks hold"
        } else {
            "VIOLATIONS FOUND"
        }
    );
    for c in report.checks.iter().filter(|c| !c.ok) {
        println!("  {} failed: {:?}", c.name, c.violations.first());
    }
    drop(store);

    // Start-up to first frame, the real binary in a pseudo-terminal.
    let mut startup = Vec::with_capacity(starts);
    for run in 0..starts {
        let mut pty = Pty::spawn(&bin, dir.path(), &db)?;
        let frame = pty.wait_for(FIRST_FRAME, Duration::from_secs(20), |s| {
            s.contents().contains(FIRST_FRAME)
        })?;
        let ms = ms(frame - pty.started);
        pty.quit()?;
        println!("startup run {}: {ms:.3} ms", run + 1);
        startup.push(ms);
    }
    let startup = Summary::of(startup);
    println!(
        "startup to first frame: median {:.3} ms (min {:.3}, max {:.3}, {} runs)",
        startup.p50, startup.min, startup.max, startup.n
    );

    // Peak memory of the real app: login and lookups through the pseudo-terminal.
    let app_mem = app_memory(&bin, dir.path(), &db, &wh, &mut rng)?;
    println!(
        "app memory: VmHWM {:.2} MB at first frame, {:.2} MB after login and {} lookups \
         (VmRSS {:.2} MB); lookups through the pty: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        app_mem.first_frame_mb,
        app_mem.peak_mb,
        app_mem.pty.n,
        app_mem.rss_mb,
        app_mem.pty.p50,
        app_mem.pty.p99,
        app_mem.pty.max
    );

    // Scan-to-frame in process.
    let look = lookups(&db, &wh, scans, &mut rng)?;
    println!(
        "app memory after a lookup of {SUPPLIER} too: VmHWM {:.2} MB",
        app_mem.supplier_peak_mb
    );
    println!(
        "lookup scan-to-frame: p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms over {} scans \
         ({:.1} keys per scan; each key drawn)",
        look.all.p50, look.all.p99, look.all.p999, look.all.max, look.all.n, look.keys_per_scan
    );
    println!(
        "lookup scan-to-frame less time spent waiting for a CPU (schedstat): p50 {:.3} ms, \
         p99 {:.3} ms; {} scans waited over 1 ms for a CPU (other processes on this machine)",
        look.uncontended.p50, look.uncontended.p99, look.waited
    );
    println!(
        "lookup Enter-to-frame: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms; one key + frame \
         while typing: p50 {:.3} ms",
        look.enter.p50, look.enter.p99, look.enter.max, look.per_key_p50
    );
    println!(
        "lookup of the virtual location {} ({} balance rows): scan-to-frame {:.3} ms",
        look.worst.0, look.worst.1, look.worst.2
    );
    for (kind, s, rows) in &look.by_kind {
        println!(
            "  {kind:<9} n={:<5} p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms  rows mean {:.1} max {}",
            s.n, s.p50, s.p99, s.max, rows.0, rows.1
        );
    }

    // The app's own durable write: one stock movement, planned and recorded.
    // The physical baseline, in turns with the app's own durable write.
    let (commit, moves) = durable_writes(&db, dir.path(), &wh)?;
    println!(
        "durable commit baseline (WAL, FULL, one-row insert): p50 {:.3} ms, p99 {:.3} ms over {} commits",
        commit.p50, commit.p99, commit.n
    );
    println!(
        "move_stock on the built store (plan + record, one transaction), in blocks between \
         the baseline's: p50 {:.3} ms, p99 {:.3} ms over {} moves",
        moves.p50, moves.p99, moves.n
    );

    let bench_rss_mb = vm_hwm_mb("self")?;
    if std::env::var_os("LOOKUP_BENCH_KEEP").is_some_and(|v| v != "0") {
        println!(
            "kept the store: {}",
            dir.keep().join("floorhand.db").display()
        );
    }
    println!("bench process VmHWM: {bench_rss_mb:.2} MB");

    let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
    println!("machine: load average {} at the end", load_average());
    println!(
        "targets: startup < 100 ms {}; lookup p99 < 5 ms {}; peak memory < 50 MB {}",
        verdict(startup.p50 < 100.0),
        verdict(look.all.p99 < 5.0),
        verdict(app_mem.peak_mb < 50.0)
    );
    println!(
        "lookup: build_s={build_s:.2} startup_ms={:.3} p50_ms={:.3} p99_ms={:.3} commit_p50_ms={:.3} \
         peak_rss_mb={:.2} check_s={check_s:.2} check_ok={} startup_min_ms={:.3} startup_max_ms={:.3} \
         p99_9_ms={:.3} max_ms={:.3} p99_uncontended_ms={:.3} enter_p50_ms={:.3} enter_p99_ms={:.3} pty_p50_ms={:.3} \
         pty_p99_ms={:.3} first_frame_rss_mb={:.2} move_p50_ms={:.3} commit_p99_ms={:.3} \
         bench_rss_mb={bench_rss_mb:.2} supplier_lookup_ms={:.3} supplier_peak_rss_mb={:.2} scans={} events={events} items={} locations={} \
         balances={balances} scale={scale} load_avg={load_start}",
        startup.p50,
        look.all.p50,
        look.all.p99,
        commit.p50,
        app_mem.peak_mb,
        u8::from(report.ok),
        startup.min,
        startup.max,
        look.all.p999,
        look.all.max,
        look.uncontended.p99,
        look.enter.p50,
        look.enter.p99,
        app_mem.pty.p50,
        app_mem.pty.p99,
        app_mem.first_frame_mb,
        moves.p50,
        commit.p99,
        look.worst.2,
        app_mem.supplier_peak_mb,
        look.all.n,
        sizes.items,
        sizes.locations,
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Scans.
// ------------------------------------------------------------------------------------------

/// One code to scan and what the lookup screen must show for it.
struct Scan {
    kind: &'static str,
    code: String,
    /// Text the body of the frame must contain once the answer is drawn.
    expect: String,
}

/// A mix of what is scanned on the floor: SKUs, unit and case GTINs, physical locations,
/// lot codes and the odd unknown code.
fn pick_scan(rng: &mut Rng, wh: &Warehouse) -> Option<Scan> {
    let roll = rng.below(100);
    let scan = match roll {
        0..25 => {
            let it = rng.pick(&wh.items)?;
            Scan {
                kind: "sku",
                code: it.sku.clone(),
                expect: it.sku.clone(),
            }
        }
        25..55 => {
            let it = rng.pick(&wh.items)?;
            let (kind, code) = match (&it.case14, rng.chance(30)) {
                (Some(case), true) => ("gtin14", case.clone()),
                _ => ("gtin13", it.gtin13.clone()),
            };
            Scan {
                kind,
                code,
                expect: it.sku.clone(),
            }
        }
        55..88 => {
            let code = rng.pick(&wh.physical)?.clone();
            Scan {
                kind: "location",
                expect: code.clone(),
                code,
            }
        }
        88..98 => {
            let code = rng.pick(&wh.lot_codes)?.clone();
            Scan {
                kind: "lot",
                expect: format!("Lot {code}"),
                code,
            }
        }
        _ => {
            let code = format!("ZZ{:08}", rng.below(100_000_000));
            Scan {
                kind: "unknown",
                expect: format!("not found: {code}"),
                code,
            }
        }
    };
    Some(scan)
}

struct LookupStats {
    all: Summary,
    /// Scan-to-frame less the time the thread waited for a CPU.
    uncontended: Summary,
    /// Scans that waited more than 1 ms for a CPU.
    waited: usize,
    enter: Summary,
    per_key_p50: f64,
    keys_per_scan: f64,
    by_kind: Vec<(&'static str, Summary, (f64, usize))>,
    /// The supplier location, which holds a balance for nearly every item: code, rows, ms.
    worst: (&'static str, usize, f64),
}

fn lookups(db: &Path, wh: &Warehouse, scans: usize, rng: &mut Rng) -> Res<LookupStats> {
    let store = Store::open(db, TERMINAL)?;
    let mut app = App::new(store, Config::default(), Utc::now());
    let mut term = Terminal::new(TestBackend::new(COLS, ROWS))?;
    tui::draw(&mut term, &app)?;
    type_line(&mut app, &mut term, BADGE)?;
    type_line(&mut app, &mut term, PIN)?;
    if !matches!(app.screen(), Screen::Home(_)) {
        return Err(format!("login as {BADGE} failed:\n{}", body_text(&term)).into());
    }
    type_line(&mut app, &mut term, "1")?;
    if !matches!(app.screen(), Screen::Lookup(_)) {
        return Err(format!("could not open Stock lookup:\n{}", body_text(&term)).into());
    }

    let warmup = (scans / 20).clamp(10, 100);
    let mut all = Vec::with_capacity(scans);
    let mut uncontended = Vec::with_capacity(scans);
    let mut waited = 0;
    let mut enter = Vec::with_capacity(scans);
    let mut per_key = Vec::with_capacity(scans * 12);
    let mut keys = 0usize;
    let mut kinds: Vec<(&'static str, Vec<f64>, Vec<usize>)> = Vec::new();
    let mut wrong = Vec::new();
    for n in 0..warmup + scans {
        let scan = pick_scan(rng, wh).ok_or("nothing to scan: the warehouse is empty")?;
        let wait0 = runqueue_wait_ns();
        let t0 = Instant::now();
        let mut t_key = t0;
        for c in scan.code.chars() {
            press(&mut app, &mut term, KeyCode::Char(c))?;
            let now = Instant::now();
            if n >= warmup {
                per_key.push(ms(now - t_key));
            }
            t_key = now;
        }
        press(&mut app, &mut term, KeyCode::Enter)?;
        let t1 = Instant::now();
        let wait = match (wait0, runqueue_wait_ns()) {
            (Some(a), Some(b)) => Duration::from_nanos(b.saturating_sub(a)),
            _ => Duration::ZERO,
        };

        let body = body_text(&term);
        if !body.contains(&scan.expect) && wrong.len() < 5 {
            wrong.push(format!(
                "scan {:?} ({}): expected {:?} in\n{body}",
                scan.code, scan.kind, scan.expect
            ));
        }
        if n < warmup {
            continue;
        }
        let rows = match app.screen() {
            Screen::Lookup(f) => f.answer.as_ref().map_or(0, |a| a.rows.len()),
            _ => 0,
        };
        keys += scan.code.chars().count() + 1;
        all.push(ms(t1 - t0));
        uncontended.push(ms((t1 - t0).saturating_sub(wait)));
        waited += usize::from(wait > Duration::from_millis(1));
        enter.push(ms(t1 - t_key));
        match kinds.iter_mut().find(|(k, _, _)| *k == scan.kind) {
            Some((_, v, r)) => {
                v.push(ms(t1 - t0));
                r.push(rows);
            }
            None => kinds.push((scan.kind, vec![ms(t1 - t0)], vec![rows])),
        }
    }
    if !wrong.is_empty() {
        return Err(format!(
            "lookups did not show what was scanned:\n{}",
            wrong.join("\n")
        )
        .into());
    }
    // Not on the floor's scan list, but nothing stops anyone keying it.
    let t0 = Instant::now();
    type_line(&mut app, &mut term, SUPPLIER)?;
    let worst_ms = ms(t0.elapsed());
    let worst_rows = match app.screen() {
        Screen::Lookup(f) => f.answer.as_ref().map_or(0, |a| a.rows.len()),
        _ => 0,
    };
    println!(
        "lookup sanity: every scanned code's answer was on the frame (checked all {scans} scans)"
    );
    kinds.sort_by_key(|(k, _, _)| *k);
    let by_kind = kinds
        .into_iter()
        .map(|(k, v, r)| {
            let mean = r.iter().sum::<usize>() as f64 / r.len().max(1) as f64;
            let max = r.iter().copied().max().unwrap_or(0);
            (k, Summary::of(v), (mean, max))
        })
        .collect();
    let n = all.len();
    Ok(LookupStats {
        all: Summary::of(all),
        uncontended: Summary::of(uncontended),
        waited,
        enter: Summary::of(enter),
        per_key_p50: Summary::of(per_key).p50,
        keys_per_scan: keys as f64 / n.max(1) as f64,
        by_kind,
        worst: (SUPPLIER, worst_rows, worst_ms),
    })
}

// ------------------------------------------------------------------------------------------
// Durable writes.
// ------------------------------------------------------------------------------------------

/// The physical floor under every saved scan, a one-row insert committed durably (WAL,
/// synchronous FULL), and the app's own durable write, one unit moved back and forth
/// between two storage locations with `Store::move_stock` (plan + record in one
/// transaction). They alternate in blocks of [`BLOCK`] so both sample the disk over the
/// same minutes (its fsync latency wanders on a shared machine) without one commit's
/// flush paying for the other's writes.
fn durable_writes(db: &Path, dir: &Path, wh: &Warehouse) -> Res<(Summary, Summary)> {
    const BLOCK: usize = 50;
    let Some((sku, a, b)) = &wh.move_sample else {
        return Err("no stock at a storage location to move".into());
    };
    let mut store = Store::open(db, TERMINAL)?;
    let conn = baseline_connection(&dir.join("commit-baseline.db"))?;
    let mut baseline = CommitBaseline::new(&conn)?;
    let mut commits = Vec::with_capacity(COMMITS);
    let mut moves = Vec::with_capacity(COMMITS);
    let mut n = 0usize;
    while commits.len() < COMMITS {
        for k in 0..BLOCK {
            let d = baseline.commit_value((n + k) as i64)?;
            // The first commit of a block may pay for the other's writes.
            if k > 0 && n > 0 {
                commits.push(ms(d));
            }
        }
        for k in 0..BLOCK {
            let (from, to) = if k % 2 == 0 { (a, b) } else { (b, a) };
            let m = Move {
                sku: sku.clone(),
                lot: String::new(),
                expiry: None,
                from: from.clone(),
                to: to.clone(),
                qty: 1,
                reason: MoveReason::Transfer,
                order: None,
            };
            let t = Instant::now();
            store.move_stock(BADGE, &m)?;
            if k > 0 && n > 0 {
                moves.push(ms(t.elapsed()));
            }
        }
        n += BLOCK;
    }
    commits.truncate(COMMITS);
    moves.truncate(COMMITS);
    Ok((Summary::of(commits), Summary::of(moves)))
}

// ------------------------------------------------------------------------------------------
// The real binary in a pseudo-terminal.
// ------------------------------------------------------------------------------------------

/// The `floorhand` binary of this build: Cargo names it for benches, else it sits next to
/// the `deps` directory the bench runs from.
fn floorhand_binary() -> Res<PathBuf> {
    let path = match option_env!("CARGO_BIN_EXE_floorhand") {
        Some(p) => PathBuf::from(p),
        None => {
            let exe = std::env::current_exe()?;
            let profile_dir = exe
                .parent()
                .and_then(Path::parent)
                .ok_or("cannot tell the target directory from the bench's path")?;
            profile_dir.join(format!("floorhand{}", std::env::consts::EXE_SUFFIX))
        }
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "the floorhand binary is not at {}: build it first (cargo build --release), \
             or run this with `cargo bench --bench lookup`",
            path.display()
        )
        .into())
    }
}

struct Pty {
    _master: Box<dyn MasterPty + Send>,
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    output: mpsc::Receiver<(Instant, Vec<u8>)>,
    screen: vt100::Parser,
    started: Instant,
}

impl Pty {
    /// Start `floorhand --db <db>` in an 80x24 pseudo-terminal with a clean environment:
    /// its data and config directories inside `dir`, no config file.
    fn spawn(bin: &Path, dir: &Path, db: &Path) -> Res<Self> {
        let pair = native_pty_system().openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })?;
        let mut cmd = CommandBuilder::new(bin);
        cmd.arg("--db");
        cmd.arg(db);
        cmd.cwd(dir);
        cmd.env("XDG_DATA_HOME", dir.join("xdg-data"));
        cmd.env("XDG_CONFIG_HOME", dir.join("xdg-config"));
        cmd.env("HOME", dir.join("home"));
        cmd.env("FLOORHAND_CONFIG", dir.join("no-such-config.toml"));
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("FLOORHAND_DB");
        let mut reader = pair.master.try_clone_reader()?;
        let (tx, output) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let writer = pair.master.take_writer()?;
        let started = Instant::now();
        let child = pair.slave.spawn_command(cmd)?;
        // Only the child holds the terminal's other end now, so reads end when it exits.
        drop(pair.slave);
        Ok(Self {
            _master: pair.master,
            child,
            writer,
            output,
            screen: vt100::Parser::new(ROWS, COLS, 0),
            started,
        })
    }

    /// Feed output to the screen until `ready` holds; the time the output that made it
    /// hold was read.
    fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        ready: impl Fn(&vt100::Screen) -> bool,
    ) -> Res<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok((at, bytes)) => {
                    self.screen.process(&bytes);
                    if ready(self.screen.screen()) {
                        return Ok(at);
                    }
                }
                Err(e) => {
                    let status = self.child.try_wait().ok().flatten();
                    return Err(format!(
                        "waiting for {what:?} ({e}; child exit status {status:?}); the screen:\n{}",
                        self.screen.screen().contents()
                    )
                    .into());
                }
            }
        }
    }

    fn send(&mut self, bytes: &[u8]) -> Res<()> {
        self.writer.write_all(bytes)?;
        self.writer.flush()?;
        Ok(())
    }

    fn pid(&self) -> Res<u32> {
        Ok(self
            .child
            .process_id()
            .ok_or("the child has no process id")?)
    }

    /// Ctrl-Q, then wait for the app to exit; killed if it does not within 5 s.
    fn quit(mut self) -> Res<()> {
        self.send(b"\x11")?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            // Keep draining so the child never blocks on a full terminal.
            while self.output.try_recv().is_ok() {}
            std::thread::sleep(Duration::from_millis(2));
        }
        self.child.kill()?;
        self.child.wait()?;
        Err("the app did not quit on Ctrl-Q within 5 s; killed it".into())
    }
}

/// The body rows of the screen (below the title bar and the scan field).
fn body_has(screen: &vt100::Screen, text: &str) -> bool {
    screen.rows(0, COLS).skip(2).any(|row| row.contains(text))
}

struct AppMemory {
    first_frame_mb: f64,
    peak_mb: f64,
    rss_mb: f64,
    /// VmHWM after a lookup of the supplier location as well.
    supplier_peak_mb: f64,
    pty: Summary,
}

/// Start the app, sign in, open Stock lookup and scan SKUs and locations (each different,
/// so each answer is a new frame), then read the app's peak resident memory.
fn app_memory(bin: &Path, dir: &Path, db: &Path, wh: &Warehouse, rng: &mut Rng) -> Res<AppMemory> {
    let mut pty = Pty::spawn(bin, dir, db)?;
    let long = Duration::from_secs(20);
    pty.wait_for(FIRST_FRAME, long, |s| s.contents().contains(FIRST_FRAME))?;
    let pid = pty.pid()?;
    let first_frame_mb = vm_hwm_mb(&pid.to_string())?;
    pty.send(format!("{BADGE}\r").as_bytes())?;
    pty.wait_for("the PIN prompt", long, |s| body_has(s, "key your PIN"))?;
    pty.send(format!("{PIN}\r").as_bytes())?;
    pty.wait_for("the menu", long, |s| body_has(s, "Stock lookup"))?;
    pty.send(b"1\r")?;
    pty.wait_for("the lookup screen", long, |s| {
        body_has(s, "Scan a location")
    })?;

    let mut times = Vec::with_capacity(PTY_SCANS);
    let mut seen = std::collections::HashSet::new();
    while times.len() < PTY_SCANS {
        let code = if rng.chance(50) {
            rng.pick(&wh.items).map(|i| i.sku.clone())
        } else {
            rng.pick(&wh.physical).cloned()
        }
        .ok_or("nothing to scan: the warehouse is empty")?;
        if !seen.insert(code.clone()) {
            continue;
        }
        let t = Instant::now();
        pty.send(format!("{code}\r").as_bytes())?;
        let heading = format!("{code} ");
        let at = pty.wait_for(&code, long, |s| {
            s.rows(0, COLS)
                .skip(2)
                .take(3)
                .any(|row| row.starts_with(&heading))
        })?;
        times.push(ms(at.saturating_duration_since(t)));
    }
    let peak_mb = vm_hwm_mb(&pid.to_string())?;
    let rss_mb = proc_status_mb(&pid.to_string(), "VmRSS:")?;
    // Then the supplier location, which has a balance row for nearly every item.
    pty.send(format!("{SUPPLIER}\r").as_bytes())?;
    let heading = format!("{SUPPLIER} ");
    pty.wait_for(SUPPLIER, long, |s| {
        s.rows(0, COLS)
            .skip(2)
            .take(3)
            .any(|row| row.starts_with(&heading))
    })?;
    let supplier_peak_mb = vm_hwm_mb(&pid.to_string())?;
    pty.quit()?;
    Ok(AppMemory {
        first_frame_mb,
        peak_mb,
        rss_mb,
        supplier_peak_mb,
        pty: Summary::of(times),
    })
}
