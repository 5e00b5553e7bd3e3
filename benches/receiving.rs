//! Receiving benchmark.
//!
//! Builds the large warehouse of the lookup benchmark (100,000 items, 20,000 locations,
//! 1,000,000 journal events, the same builder and seed), adds open purchase orders of 20
//! lines for it, then receives at least 10,000 scans through the real app loop (tick, key,
//! draw after every key, as `tui::run` does) on an 80x24 `TestBackend`, logged in as a
//! receiver: one receipt per PO, each scan typed and Entered, the quantity confirmed with
//! Enter (good), which is one durable commit of the store. Scan-to-frame runs from the
//! first key of the scan to the end of the frame drawn after that second Enter.
//!
//! Between two receipts (closing one, starting the next PO: not timed) the receiver walks
//! to the next delivery, and the app loop has an idle tick, in which it checkpoints the
//! WAL; within a receipt the scans come without a pause, so no idle tick. `wal_peak_mb` is
//! the largest the WAL grew.
//!
//! Scans are unit GTIN-13s, case GTIN-14s (12 units) and, for lot-tracked items, GS1
//! element strings `]C101<GTIN>17<YYMMDD>10<LOT><GS>37<n>`. Each PO orders exactly what
//! its scans bring, so no line goes over (no supervisor prompt) and every receipt closes
//! without discrepancies.
//!
//! The physical baseline, one durable SQLite commit (WAL, synchronous FULL, one-row
//! insert, after a warm-up past the WAL's first checkpoint), is measured in the same run,
//! in blocks between the blocks of receiving scans, so both sample the disk over the same
//! minutes. `ratio_p99` is scan-to-frame p99 over that commit's p50.
//!
//! Beside it, in the same blocks, a durable commit of a scan's shape: one row updated in
//! each of seven tables, so it writes the seven pages a receiving scan's commit writes
//! (the journal and its two indexes, the supplier's and the dock's balance, the PO line
//! and the receipt line), and does nothing else. `floor_ratio_p99` is its p99 over the
//! one-row commit's p50: what a receiving screen that cost nothing besides its commit
//! would show.
//!
//! The machine may be shared: `p99_uncontended_ms` is scan-to-frame less the time the
//! bench thread spent runnable but waiting for a CPU (`/proc/thread-self/schedstat`).
//!
//! Its last line is
//! `receiving: p50_ms=.. p99_ms=.. commit_p50_ms=.. ratio_p99=.. ...`
//!
//! Knobs (environment):
//! - `RECEIVING_BENCH_SCALE` (default 1.0): scales items, locations, events and scans (0.05
//!   for a quick run);
//! - `RECEIVING_BENCH_SCANS` (default 10,000 times the scale, at least 200): scans measured;
//! - `RECEIVING_BENCH_DIR`: where the temporary store is built (default: the system temp
//!   directory);
//! - `RECEIVING_BENCH_KEEP=1`: keep the store afterwards (its path is printed).

mod common;

use chrono::{Duration as Days, NaiveDate, Utc};
use common::*;
use floorhand::config::Config;
use floorhand::domain::Task;
use floorhand::domain::receiving::{PoLine, PurchaseOrder};
use floorhand::flows::receiving::Step;
use floorhand::store::{SYSTEM_USER, Store};
use floorhand::tui::{self, App, app::Screen};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// The receiver the builder adds (role receiver).
const RECEIVER: &str = "9003";
/// Lines per purchase order.
const LINES: usize = 20;
/// Scans per receipt: one PO each, closed before the next is started.
const PER_RECEIPT: usize = 500;
/// Receiving scans between two blocks of baseline commits.
const SCAN_BLOCK: usize = 100;
/// Baseline commits per block; the first of each block is not counted.
const COMMIT_BLOCK: usize = 26;
/// How often (at most) the frame is checked for the "received" notice; a fifth of the
/// scans on a quick run.
const CHECK_EVERY: usize = 1_000;
const GS: char = '\u{1d}';
const SITE: &str = "WH1";

fn main() -> Res<()> {
    let scale = env_scale("RECEIVING_BENCH_SCALE")?;
    let sizes = Sizes::new(scale);
    let default_scans = ((10_000.0 * scale).round() as usize).max(200);
    let scans = env_parse("RECEIVING_BENCH_SCANS", default_scans)?.max(1);
    let warmup = (scans / 20).clamp(10, 100);

    let dir = bench_dir("RECEIVING_BENCH_DIR", "floorhand-receiving-")?;
    let db = dir.path().join("floorhand.db");
    println!(
        "bench: scale {scale}: {} items, {} locations, {} journal events; {scans} scans \
         (+{warmup} warm-up); store {}",
        sizes.items,
        sizes.locations,
        sizes.events,
        db.display()
    );
    let load_start = load_average();
    println!(
        "machine: {} CPUs, load average {load_start} at the start",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );

    // Build: the lookup benchmark's warehouse, same seed.
    let mut rng = Rng::new(0x5eed_f100_7a4d);
    let t = Instant::now();
    let wh = build(&db, &sizes, &mut rng)?;
    let build_s = t.elapsed().as_secs_f64();

    // Purchase orders that bring exactly what the scans bring.
    let today = Utc::now().date_naive();
    let pos = plan(&wh, warmup + scans, &mut rng, today)?;
    let mut store = Store::open(&db, TERMINAL)?;
    let orders: Vec<PurchaseOrder> = pos.iter().map(|p| p.order.clone()).collect();
    store.define_purchase_orders(SYSTEM_USER, &orders)?;
    let events_before = store.journal_len()?;
    let moved_before = stock_moved(&store)?;
    let ord_before = last_ord(&store)?;
    println!(
        "build: {events_before} events in {build_s:.2} s, then {} purchase orders of up to \
         {LINES} lines ({} lines; {} GS1 scans of lot-tracked items, {} case and {} unit GTINs)",
        pos.len(),
        orders.iter().map(|o| o.lines.len()).sum::<usize>(),
        pos.iter()
            .flat_map(|p| &p.scans)
            .filter(|s| s.kind == "gs1")
            .count(),
        pos.iter()
            .flat_map(|p| &p.scans)
            .filter(|s| s.kind == "case")
            .count(),
        pos.iter()
            .flat_map(|p| &p.scans)
            .filter(|s| s.kind == "unit")
            .count(),
    );

    // The baseline's database, warmed up, then the app.
    let conn = baseline_connection(&dir.path().join("commit-baseline.db"))?;
    let mut baseline = CommitBaseline::new(&conn)?;
    let mut commits = Vec::new();
    let shaped_conn = shaped_connection(&dir.path().join("commit-shaped.db"))?;
    let mut shaped = ShapedCommits::new(&shaped_conn)?;
    let mut shaped_ms = Vec::new();
    let mut app = App::new(store, Config::default(), Utc::now());
    let mut term = Terminal::new(TestBackend::new(COLS, ROWS))?;
    tui::draw(&mut term, &app)?;
    type_line(&mut app, &mut term, RECEIVER)?;
    type_line(&mut app, &mut term, PIN)?;
    let Screen::Home(home) = app.screen() else {
        return Err(format!("login as {RECEIVER} failed:\n{}", body_text(&term)).into());
    };
    let n = home
        .tasks
        .iter()
        .position(|t| *t == Task::Receiving)
        .ok_or("Receiving is not on the receiver's menu")?
        + 1;
    type_line(&mut app, &mut term, &n.to_string())?;

    let mut all = Vec::with_capacity(scans);
    let mut uncontended = Vec::with_capacity(scans);
    let mut waited = 0usize;
    let mut enter = Vec::with_capacity(scans);
    let mut resolve = Vec::with_capacity(scans);
    let mut per_key = Vec::with_capacity(scans * 20);
    let mut frames = Vec::with_capacity(scans * 2);
    let mut kinds: Vec<(&'static str, Vec<f64>)> = Vec::new();
    let mut keys = 0usize;
    let mut done = 0usize;
    let mut frames_checked = 0usize;
    let check_every = CHECK_EVERY.min((warmup + scans).div_ceil(5));
    let mut close_s = 0.0;
    let wal = db.with_extension("db-wal");
    let mut wal_peak_mb = 0.0_f64;
    baseline.block(COMMIT_BLOCK, &mut commits)?;
    shaped.block(COMMIT_BLOCK, &mut shaped_ms)?;
    let t_run = Instant::now();
    for po in &pos {
        if !matches!(step(&app)?, Step::ChoosePo) {
            return Err(format!("not at the PO list:\n{}", body_text(&term)).into());
        }
        type_line(&mut app, &mut term, &po.order.po)?;
        type_line(&mut app, &mut term, "")?;
        if !matches!(step(&app)?, Step::ScanItem) {
            return Err(format!(
                "could not start a receipt of {}:\n{}",
                po.order.po,
                body_text(&term)
            )
            .into());
        }
        for scan in &po.scans {
            let wait0 = runqueue_wait_ns();
            let t0 = Instant::now();
            let mut t_key = t0;
            // The scanner sends the code and its Enter in one burst: one frame, as in
            // the app loop (see tui::run).
            for c in scan.code.chars() {
                key(&mut app, KeyCode::Char(c));
                let now = Instant::now();
                if done >= warmup {
                    per_key.push(ms(now - t_key));
                }
                t_key = now;
            }
            let frame1 = press_framed(&mut app, &mut term, KeyCode::Enter)?;
            let t1 = Instant::now();
            let frame2 = press_framed(&mut app, &mut term, KeyCode::Enter)?;
            let t2 = Instant::now();
            let wait = match (wait0, runqueue_wait_ns()) {
                (Some(a), Some(b)) => Duration::from_nanos(b.saturating_sub(a)),
                _ => Duration::ZERO,
            };

            // Not timed: the scan must have been received.
            let want = format!("received {} {}", scan.qty, scan.sku);
            let notice = notice(&app)?;
            if notice != want || !matches!(step(&app)?, Step::ScanItem) {
                return Err(format!(
                    "scan {:?} ({}): expected {want:?}, the notice is {notice:?}:\n{}",
                    scan.code.replace(GS, "<GS>"),
                    scan.kind,
                    body_text(&term)
                )
                .into());
            }
            done += 1;
            if done % check_every == 0 {
                let body = body_text(&term);
                if !body.contains(&want) {
                    return Err(format!("the frame does not show {want:?}:\n{body}").into());
                }
                frames_checked += 1;
            }
            if done <= warmup {
                continue;
            }
            keys += scan.code.chars().count() + 2;
            all.push(ms(t2 - t0));
            uncontended.push(ms((t2 - t0).saturating_sub(wait)));
            waited += usize::from(wait > Duration::from_millis(1));
            enter.push(ms(t2 - t1));
            frames.push(ms(frame1));
            frames.push(ms(frame2));
            resolve.push(ms(t1 - t_key));
            match kinds.iter_mut().find(|(k, _)| *k == scan.kind) {
                Some((_, v)) => v.push(ms(t2 - t0)),
                None => kinds.push((scan.kind, vec![ms(t2 - t0)])),
            }
            if all.len() % SCAN_BLOCK == 0 {
                baseline.block(COMMIT_BLOCK, &mut commits)?;
                shaped.block(COMMIT_BLOCK, &mut shaped_ms)?;
            }
        }
        // Close the receipt (not timed): F2 for the summary, Enter to close.
        let t = Instant::now();
        press(&mut app, &mut term, KeyCode::F(2))?;
        press(&mut app, &mut term, KeyCode::Enter)?;
        close_s += t.elapsed().as_secs_f64();
        // The receiver goes to the next delivery: the app loop has an idle tick, and
        // checkpoints the WAL then (not timed, like the closing).
        wal_peak_mb = wal_peak_mb.max(file_size_mb(&wal));
        app.idle();
        let closed = notice(&app)?;
        if !closed.contains("receipt closed: 0 discrepancies") {
            return Err(format!(
                "{} did not close cleanly: {closed:?}:\n{}",
                po.order.po,
                body_text(&term)
            )
            .into());
        }
    }
    let run_s = t_run.elapsed().as_secs_f64();
    baseline.block(COMMIT_BLOCK, &mut commits)?;
    shaped.block(COMMIT_BLOCK, &mut shaped_ms)?;
    drop(app);

    // The store afterwards: one movement per scan, every PO closed, every check holding.
    let store = Store::open(&db, TERMINAL)?;
    let events_after = store.journal_len()?;
    let moved = stock_moved(&store)? - moved_before;
    let grown = kinds_since(&store, ord_before)?;
    let open_left = store.open_purchase_orders(SITE)?.len();
    let t = Instant::now();
    let report = store.check()?;
    let check_s = t.elapsed().as_secs_f64();
    let total = warmup + scans;
    println!(
        "store after: journal grew by {} events ({grown}) for {total} scans on {} receipts; \
         {open_left} POs left open; check {} in {check_s:.2} s; {frames_checked} frames \
         checked for the notice",
        events_after - events_before,
        pos.len(),
        if report.ok {
            "all checks hold"
        } else {
            "VIOLATIONS FOUND"
        }
    );
    for c in report.checks.iter().filter(|c| !c.ok) {
        println!("  {} failed: {:?}", c.name, c.violations.first());
    }
    if moved != total as i64 {
        return Err(format!("{moved} stock movements journaled for {total} scans").into());
    }
    if !report.ok {
        return Err("the store's checks failed after receiving".into());
    }
    if open_left != 0 {
        return Err(format!("{open_left} purchase orders are still open").into());
    }

    let n = all.len();
    let all = Summary::of(all);
    let uncontended = Summary::of(uncontended);
    let enter = Summary::of(enter);
    let resolve = Summary::of(resolve);
    let per_key = Summary::of(per_key);
    let frames = Summary::of(frames);
    let commit = Summary::of(commits);
    let ratio_p99 = all.p99 / commit.p50;
    let ratio_p50 = all.p50 / commit.p50;
    let ratio_uncontended = uncontended.p99 / commit.p50;
    println!(
        "receiving scan-to-frame: p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms \
         over {n} scans ({:.1} keys per scan; a frame after each burst: the code with its Enter, then the quantity Enter); {run_s:.1} s for all scans, \
         {close_s:.2} s of it closing receipts",
        all.p50,
        all.p99,
        all.p999,
        all.max,
        keys as f64 / n.max(1) as f64
    );
    println!(
        "receiving scan-to-frame less time spent waiting for a CPU (schedstat): p50 {:.3} ms, \
         p99 {:.3} ms; {waited} scans waited over 1 ms for a CPU",
        uncontended.p50, uncontended.p99
    );
    println!(
        "  quantity Enter (receive: durable commit + PO reload) to frame: p50 {:.3} ms, \
         p99 {:.3} ms, max {:.3} ms",
        enter.p50, enter.p99, enter.max
    );
    println!(
        "  scan Enter (resolve the code) to frame: p50 {:.3} ms, p99 {:.3} ms; one key + \
         frame while typing: p50 {:.3} ms, p99 {:.3} ms",
        resolve.p50, resolve.p99, per_key.p50, per_key.p99
    );
    println!(
        "  of which drawing one frame (two a scan): p50 {:.3} ms, p99 {:.3} ms",
        frames.p50, frames.p99
    );
    kinds.sort_by_key(|(k, _)| *k);
    for (kind, v) in kinds {
        let s = Summary::of(v);
        println!(
            "  {kind:<5} n={:<5} p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms",
            s.n, s.p50, s.p99, s.max
        );
    }
    println!(
        "durable commit baseline (WAL, FULL, one-row insert), in blocks of {} between blocks \
         of {SCAN_BLOCK} scans: p50 {:.3} ms, p99 {:.3} ms over {} commits",
        COMMIT_BLOCK - 1,
        commit.p50,
        commit.p99,
        commit.n
    );
    let shaped = Summary::of(shaped_ms);
    let floor_ratio = shaped.p99 / commit.p50.max(1e-9);
    println!(
        "durable commit of a scan's shape (one row updated in each of {SCAN_PAGES} tables, \
         {SCAN_PAGES} pages, nothing else), in the same blocks: p50 {:.3} ms, p99 {:.3} ms over \
         {} commits; its p99 is {floor_ratio:.2}x the one-row commit's p50, the ratio a \
         receiving screen that cost nothing besides its commit would show",
        shaped.p50, shaped.p99, shaped.n
    );

    let bench_rss_mb = vm_hwm_mb("self")?;
    if std::env::var_os("RECEIVING_BENCH_KEEP").is_some_and(|v| v != "0") {
        println!(
            "kept the store: {}",
            dir.keep().join("floorhand.db").display()
        );
    }
    println!("machine: load average {} at the end", load_average());
    let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
    println!(
        "target: scan-to-frame p99 < 3x the durable commit p50 ({:.3} ms): {} (ratio {ratio_p99:.2})",
        3.0 * commit.p50,
        verdict(ratio_p99 < 3.0)
    );
    println!(
        "receiving: p50_ms={:.3} p99_ms={:.3} commit_p50_ms={:.3} ratio_p99={ratio_p99:.2} \
         ratio_p50={ratio_p50:.2} p99_uncontended_ms={:.3} ratio_p99_uncontended={ratio_uncontended:.2} \
         p99_9_ms={:.3} max_ms={:.3} enter_p50_ms={:.3} enter_p99_ms={:.3} resolve_p50_ms={:.3} \
         key_p50_ms={:.3} frame_p50_ms={:.3} wal_peak_mb={wal_peak_mb:.1} commit_p99_ms={:.3} commits={} \
         shaped_p50_ms={:.3} shaped_p99_ms={:.3} floor_ratio_p99={floor_ratio:.2} scans={n} receipts={} build_s={build_s:.2} \
         check_ok={} events={events_after} items={} locations={} bench_rss_mb={bench_rss_mb:.2} \
         scale={scale} load_avg={load_start}",
        all.p50,
        all.p99,
        commit.p50,
        uncontended.p99,
        all.p999,
        all.max,
        enter.p50,
        enter.p99,
        resolve.p50,
        per_key.p50,
        frames.p50,
        commit.p99,
        commit.n,
        shaped.p50,
        shaped.p99,
        pos.len(),
        u8::from(report.ok),
        sizes.items,
        sizes.locations,
    );
    Ok(())
}

/// The pages a receiving scan's commit writes: the journal and its two indexes, the
/// supplier's and the dock's balance, the PO line and the receipt line.
const SCAN_PAGES: usize = 7;
/// Rows in each table of the shaped commit: about 50 pages, so its updates land on
/// pages all over the table.
const SHAPED_ROWS: i64 = 1_000;

/// The database of the shaped commit at `path`: WAL, synchronous FULL, [`SCAN_PAGES`]
/// tables of [`SHAPED_ROWS`] rows of 150 bytes.
fn shaped_connection(path: &std::path::Path) -> Res<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch("BEGIN")?;
    for t in 0..SCAN_PAGES {
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS p{t} (id INTEGER PRIMARY KEY, v BLOB NOT NULL)"
        ))?;
        let mut insert = conn.prepare(&format!(
            "INSERT OR IGNORE INTO p{t} (id, v) VALUES (?1, zeroblob(150))"
        ))?;
        for id in 0..SHAPED_ROWS {
            insert.execute([id])?;
        }
    }
    conn.execute_batch("COMMIT")?;
    Ok(conn)
}

/// Durable commits of a receiving scan's shape: one row, chosen at random, updated in
/// each of [`SCAN_PAGES`] tables, so each commit writes that many pages.
struct ShapedCommits<'c> {
    conn: &'c rusqlite::Connection,
    updates: Vec<rusqlite::Statement<'c>>,
    rng: Rng,
}

impl<'c> ShapedCommits<'c> {
    /// Prepare the updates and warm up past the WAL's first checkpoint, like the one-row
    /// baseline.
    fn new(conn: &'c rusqlite::Connection) -> Res<Self> {
        let updates = (0..SCAN_PAGES)
            .map(|t| {
                conn.prepare(&format!(
                    "UPDATE p{t} SET v = randomblob(150) WHERE id = ?1"
                ))
            })
            .collect::<rusqlite::Result<_>>()?;
        let mut c = Self {
            conn,
            updates,
            rng: Rng::new(0x5ca1_ab1e),
        };
        for _ in 0..WAL_CYCLE / SCAN_PAGES + 10 {
            c.commit()?;
        }
        Ok(c)
    }

    fn commit(&mut self) -> Res<Duration> {
        let t = Instant::now();
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        for update in &mut self.updates {
            let id = (self.rng.next() % SHAPED_ROWS as u64) as i64;
            update.execute([id])?;
        }
        self.conn.execute_batch("COMMIT")?;
        Ok(t.elapsed())
    }

    /// `n` commits in a row, timed as [`timed_block`] says.
    fn block(&mut self, n: usize, out: &mut Vec<f64>) -> Res<()> {
        timed_block(n, out, || self.commit())
    }
}

/// One scan to receive and what it brings.
struct PlannedScan {
    kind: &'static str,
    code: String,
    sku: String,
    qty: i64,
}

struct PlannedPo {
    order: PurchaseOrder,
    scans: Vec<PlannedScan>,
}

/// `total` scans over purchase orders of [`PER_RECEIPT`] scans and up to [`LINES`] lines,
/// distinct items on each; every line gets at least one scan, and each line orders exactly
/// the quantity its scans bring.
fn plan(wh: &Warehouse, total: usize, rng: &mut Rng, today: NaiveDate) -> Res<Vec<PlannedPo>> {
    let expiry = (today + Days::days(400)).format("%y%m%d").to_string();
    let mut out = Vec::new();
    let mut left = total;
    while left > 0 {
        let p = out.len() + 1;
        let n = left.min(PER_RECEIPT);
        left -= n;
        let lines = n.min(LINES).min(wh.items.len());
        let mut chosen = HashSet::new();
        let mut items = Vec::with_capacity(lines);
        while items.len() < lines {
            let i = rng.below(wh.items.len());
            if chosen.insert(i) {
                items.push(wh.items.get(i).ok_or("no items")?);
            }
        }
        let mut qty = vec![0i64; lines];
        let mut scans = Vec::with_capacity(n);
        for k in 0..n {
            let l = if k < lines { k } else { rng.below(lines) };
            let it = items.get(l).ok_or("no such line")?;
            let (kind, code, q) = if it.lot_tracked {
                let count = 1 + rng.below(3) as i64;
                let lot = format!("R{p:04}L{:02}", l + 1);
                (
                    "gs1",
                    format!("]C1010{}17{expiry}10{lot}{GS}37{count}", it.gtin13),
                    count,
                )
            } else {
                match &it.case14 {
                    Some(case) if rng.chance(30) => ("case", case.clone(), 12),
                    _ => ("unit", it.gtin13.clone(), 1),
                }
            };
            if let Some(sum) = qty.get_mut(l) {
                *sum += q;
            }
            scans.push(PlannedScan {
                kind,
                code,
                sku: it.sku.clone(),
                qty: q,
            });
        }
        let order = PurchaseOrder {
            po: format!("PO-B{p:05}"),
            supplier: "Bench Supplies".into(),
            site: SITE.into(),
            expected: Some(today),
            lines: items
                .iter()
                .zip(&qty)
                .enumerate()
                .map(|(l, (it, q))| PoLine {
                    line: l as i64 + 1,
                    sku: it.sku.clone(),
                    qty: *q,
                })
                .collect(),
        };
        out.push(PlannedPo { order, scans });
    }
    Ok(out)
}

/// [`press`] (one turn of the app loop: tick, key, draw), returning how long the frame
/// took to draw.
fn press_framed(app: &mut App, term: &mut Term, code: KeyCode) -> Res<Duration> {
    key(app, code);
    let t = Instant::now();
    tui::draw(term, app)?;
    let frame = t.elapsed();
    let _ = app.take_bells();
    Ok(frame)
}

/// The size of a file in MB (0 when it does not exist).
fn file_size_mb(path: &std::path::Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1e6)
}

fn step(app: &App) -> Res<Step> {
    match app.screen() {
        Screen::Receiving(f) => Ok(f.step.clone()),
        other => Err(format!("not on receiving but on {}", other.title()).into()),
    }
}

fn notice(app: &App) -> Res<String> {
    match app.screen() {
        Screen::Receiving(f) => Ok(f
            .notice
            .as_ref()
            .map(|n| n.text.clone())
            .unwrap_or_default()),
        other => Err(format!("not on receiving but on {}", other.title()).into()),
    }
}

/// Stock movements in the journal (read-only SQL on the store's connection, for the
/// check only).
fn stock_moved(store: &Store) -> Res<i64> {
    Ok(store.connection().query_row(
        "SELECT COUNT(*) FROM journal WHERE kind = 'stock_moved'",
        [],
        |r| r.get(0),
    )?)
}

fn last_ord(store: &Store) -> Res<i64> {
    Ok(store
        .connection()
        .query_row("SELECT COALESCE(MAX(ord), 0) FROM journal", [], |r| {
            r.get(0)
        })?)
}

/// The kinds of the journal events after `ord`, with counts: `kind n, kind n`.
fn kinds_since(store: &Store, ord: i64) -> Res<String> {
    let conn = store.connection();
    let mut stmt = conn.prepare(
        "SELECT kind, COUNT(*) FROM journal WHERE ord > ?1 GROUP BY kind ORDER BY COUNT(*) DESC",
    )?;
    let rows = stmt.query_map([ord], |r| {
        Ok(format!(
            "{} {}",
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?.join(", "))
}
