//! The App without a terminal: the demo warehouse in memory, a clock the test fixes, the
//! key events a scanner and a user send, and frames drawn into a `TestBackend`.

use super::TestResult;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use floorhand::config::Config;
use floorhand::domain::Task;
use floorhand::store::{Receive, Store};
use floorhand::tui::{self, App, app::Screen};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The sizes every screen is drawn at: an RF gun and a full terminal.
pub const SIZES: [(u16, u16); 2] = [(40, 16), (80, 24)];

/// 2026-11-22 at `hour`:`minute` UTC, the day the tests run on.
pub fn on_test_day(hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, hour, minute, 0)
        .single()
        .unwrap_or_default()
}

/// The start of the shift: 2026-11-22 06:00 UTC.
pub fn t0() -> DateTime<Utc> {
    on_test_day(6, 0)
}

pub fn date(y: i32, m: u32, d: u32) -> TestResult<NaiveDate> {
    Ok(NaiveDate::from_ymd_opt(y, m, d).ok_or("bad date")?)
}

/// The demo warehouse in memory, as terminal T01.
pub fn demo_store() -> TestResult<Store> {
    let mut store = Store::open_in_memory("T01")?;
    floorhand::demo::load(&mut store)?;
    Ok(store)
}

/// The App on `store` with `config`, its clock at `now`, shown in UTC.
pub fn app_at(store: Store, config: Config, now: DateTime<Utc>) -> TestResult<App> {
    let mut app = App::new(store, config, now);
    app.set_utc_offset(FixedOffset::east_opt(0).ok_or("offset")?);
    Ok(app)
}

/// The App on `store` with `config` at [`t0`], shown in UTC.
pub fn app_on(store: Store, config: Config) -> TestResult<App> {
    app_at(store, config, t0())
}

/// The App on the demo warehouse with `config` at [`t0`], shown in UTC.
pub fn app_with(config: Config) -> TestResult<App> {
    app_on(demo_store()?, config)
}

/// The App on the demo warehouse with `config` as the screen snapshots show it: at
/// 2026-11-22 14:20, shown in UTC.
pub fn snapshot_app_with(config: Config) -> TestResult<App> {
    app_at(demo_store()?, config, on_test_day(14, 20))
}

/// [`snapshot_app_with`] the default config.
pub fn snapshot_app() -> TestResult<App> {
    snapshot_app_with(Config::default())
}

pub fn key(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

/// Keys typed into the field, without the terminator.
pub fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// A scan: the text and the scanner's terminator (Enter).
pub fn scan(app: &mut App, text: &str) {
    typed(app, text);
    key(app, KeyCode::Enter);
}

/// Badge, then PIN.
pub fn login(app: &mut App, badge: &str, pin: &str) {
    scan(app, badge);
    scan(app, pin);
}

/// Open a task from the home menu by its number, as the user keys it.
pub fn open_task(app: &mut App, task: Task) -> TestResult {
    let Screen::Home(home) = app.screen() else {
        return Err(format!("not on the menu: {}", app.screen().title()).into());
    };
    let n = home
        .tasks
        .iter()
        .position(|t| *t == task)
        .ok_or(format!("{} is not on the menu", task.title()))?
        + 1;
    scan(app, &n.to_string());
    Ok(())
}

/// The tasks on the home menu, which must be on screen.
pub fn home_tasks(app: &App) -> TestResult<Vec<Task>> {
    let Screen::Home(home) = app.screen() else {
        return Err(format!("not on the menu: {}", app.screen().title()).into());
    };
    Ok(home.tasks.clone())
}

/// The frame the app draws on a `w` x `h` terminal, as text.
pub fn render(app: &App, w: u16, h: u16) -> TestResult<String> {
    let mut terminal = Terminal::new(TestBackend::new(w, h))?;
    tui::draw(&mut terminal, app)?;
    Ok(terminal.backend().to_string())
}

/// A good receipt of `qty` on PO line `line` of `receipt` to DOCK-01 on the test day,
/// without approval or over tolerance.
pub fn receive_to_dock(
    receipt: &str,
    line: i64,
    sku: &str,
    lot: &str,
    expiry: Option<NaiveDate>,
    qty: i64,
) -> TestResult<Receive> {
    Ok(Receive {
        receipt: receipt.to_string(),
        line,
        sku: sku.into(),
        lot: lot.into(),
        expiry,
        qty,
        damaged: false,
        to: "DOCK-01".into(),
        approved_by: None,
        sscc: None,
        tolerance_pct: 0,
        today: date(2026, 11, 22)?,
    })
}

pub fn assert_checked(store: &Store) -> TestResult {
    let report = store.check()?;
    assert!(report.ok, "store check failed: {:?}", report.checks);
    Ok(())
}
