//! End to end: the real `floorhand` binary in a real pseudo-terminal.
//!
//! Each test starts `floorhand --db <tmp>/demo.db demo` in a PTY with its own data,
//! config and home directories, types at it the way a person or a scanner would, and
//! reads the screen back through a `vt100` terminal emulator. A reader thread drains the
//! PTY into both the raw bytes (to count BEL and find the terminal-restore sequences) and
//! the emulated screen. Nothing sleeps to wait: every wait polls for what it expects on
//! screen, bounded by a deadline, and a timeout fails with the screen printed.

#![cfg(unix)]

use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};
use std::error::Error;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

type TestResult = Result<(), Box<dyn Error>>;

/// How long any one thing may take to show up (or the app to exit).
const DEADLINE: Duration = Duration::from_secs(20);
/// The pause between two looks at the screen while waiting.
const POLL: Duration = Duration::from_millis(10);

const BEL: u8 = 0x07;
const ENTER_ALT_SCREEN: &[u8] = b"\x1b[?1049h";
const LEAVE_ALT_SCREEN: &[u8] = b"\x1b[?1049l";

const F1: &[u8] = b"\x1bOP";
const F10: &[u8] = b"\x1b[21~";
const ESC: &[u8] = b"\x1b";
const CTRL_Q: &[u8] = b"\x11";

/// A test failure whose message (with a screen dump) prints as is: a test that returns
/// `Err` is reported with `{:?}`, which would escape every newline of a plain `String`.
struct Failure(String);

impl std::fmt::Debug for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for Failure {}

fn fail(message: String) -> Box<dyn Error> {
    Box::new(Failure(message))
}

/// What the PTY has sent so far.
struct Output {
    raw: Vec<u8>,
    parser: vt100::Parser,
    /// The reader saw end of file (or an error): the child and every copy of the slave
    /// side are gone, so `raw` is complete.
    closed: bool,
}

impl Output {
    /// The screen as text, one line per row (so a full-width row never joins the next).
    fn screen_text(&self) -> String {
        let screen = self.parser.screen();
        let (_, cols) = screen.size();
        screen.rows(0, cols).collect::<Vec<_>>().join("\n")
    }

    fn bells(&self) -> usize {
        self.raw.iter().filter(|&&b| b == BEL).count()
    }
}

/// Kills the child when dropped, so a failing test never leaves it running.
struct ChildGuard(Box<dyn Child + Send + Sync>);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// One run of the app in a PTY. Fields drop in order: the child is killed before the
/// PTY closes and the temp dir goes last.
struct Session {
    child: ChildGuard,
    writer: Box<dyn Write + Send>,
    master: Box<dyn MasterPty + Send>,
    output: Arc<Mutex<Output>>,
    dirs: Dirs,
    exit: Option<ExitStatus>,
}

/// The test's own directories; nothing outside `tmp` is read or written.
struct Dirs {
    data_home: PathBuf,
    config_home: PathBuf,
    home: PathBuf,
    config_file: PathBuf,
    db: PathBuf,
    tmp: tempfile::TempDir,
}

impl Dirs {
    fn new() -> Result<Self, Box<dyn Error>> {
        let tmp = tempfile::tempdir()?;
        let root = tmp.path().to_path_buf();
        let dirs = Self {
            data_home: root.join("data"),
            config_home: root.join("config"),
            home: root.join("home"),
            config_file: root.join("no-such-config.toml"),
            db: root.join("demo.db"),
            tmp,
        };
        for d in [&dirs.data_home, &dirs.config_home, &dirs.home] {
            std::fs::create_dir_all(d)?;
        }
        Ok(dirs)
    }

    fn env(&self) -> [(&'static str, &Path); 4] {
        [
            ("XDG_DATA_HOME", &self.data_home),
            ("XDG_CONFIG_HOME", &self.config_home),
            ("HOME", &self.home),
            ("FLOORHAND_CONFIG", &self.config_file),
        ]
    }

    fn log_file(&self) -> PathBuf {
        self.data_home.join("floorhand").join("floorhand.log")
    }
}

fn pty_size(cols: u16, rows: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

impl Session {
    /// Start `floorhand --db <tmp>/demo.db demo` in a `cols` x `rows` PTY.
    fn start(cols: u16, rows: u16) -> Result<Self, Box<dyn Error>> {
        let dirs = Dirs::new()?;
        let pair = native_pty_system().openpty(pty_size(cols, rows))?;
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_floorhand"));
        cmd.arg("--db");
        cmd.arg(&dirs.db);
        cmd.arg("demo");
        cmd.cwd(dirs.tmp.path());
        for (key, value) in dirs.env() {
            cmd.env(key, value);
        }
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("FLOORHAND_DB");
        let child = ChildGuard(pair.slave.spawn_command(cmd)?);
        // Only the child holds the slave side now, so the reader sees end of file
        // once the child is gone.
        drop(pair.slave);

        let output = Arc::new(Mutex::new(Output {
            raw: Vec::new(),
            parser: vt100::Parser::new(rows, cols, 0),
            closed: false,
        }));
        let mut reader = pair.master.try_clone_reader()?;
        let shared = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        let mut out = shared.lock().unwrap_or_else(PoisonError::into_inner);
                        out.raw.extend_from_slice(&buf[..n]);
                        out.parser.process(&buf[..n]);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    // EIO once the slave side is closed: the end of the output.
                    Err(_) => break,
                }
            }
            shared.lock().unwrap_or_else(PoisonError::into_inner).closed = true;
        });
        let writer = pair.master.take_writer()?;
        Ok(Self {
            child,
            writer,
            master: pair.master,
            output,
            dirs,
            exit: None,
        })
    }

    fn output(&self) -> MutexGuard<'_, Output> {
        self.output.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn bells(&self) -> usize {
        self.output().bells()
    }

    /// Send bytes as if typed (or scanned) at the terminal.
    fn send(&mut self, bytes: &[u8]) -> TestResult {
        self.writer.write_all(bytes)?;
        self.writer.flush()?;
        Ok(())
    }

    /// Poll the output until `done` holds; after `deadline` fail with the screen. Fails
    /// at once if the child is gone and its output drained, since nothing can change.
    fn wait_until(
        &mut self,
        what: &str,
        deadline: Duration,
        mut done: impl FnMut(&Output) -> bool,
    ) -> TestResult {
        let start = Instant::now();
        loop {
            let closed = {
                let out = self.output();
                if done(&out) {
                    return Ok(());
                }
                out.closed
            };
            if self.exit.is_none() {
                self.exit = self.child.0.try_wait()?;
            }
            if closed && self.exit.is_some() {
                return Err(self.failure(&format!("the app exited while waiting for {what}")));
            }
            if start.elapsed() >= deadline {
                return Err(
                    self.failure(&format!("timed out after {deadline:?} waiting for {what}"))
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// A failure message with everything needed to see what went wrong.
    fn failure(&self, headline: &str) -> Box<dyn Error> {
        let out = self.output();
        let (rows, cols) = out.parser.screen().size();
        let child = match &self.exit {
            Some(s) => format!("exited: {s}"),
            None => "still running".to_string(),
        };
        let tail = &out.raw[out.raw.len().saturating_sub(300)..];
        fail(format!(
            "{headline}\nchild: {child}\nBEL bytes so far: {}\nlast raw output: {:?}\n\
             screen ({cols}x{rows}):\n{}\n",
            out.bells(),
            String::from_utf8_lossy(tail),
            framed(&out.screen_text()),
        ))
    }

    /// Poll the screen until `done(screen_text)` holds, and return that screen.
    fn wait_for(
        &mut self,
        what: &str,
        deadline: Duration,
        done: impl Fn(&str) -> bool,
    ) -> Result<String, Box<dyn Error>> {
        let mut seen = String::new();
        self.wait_until(what, deadline, |out| {
            seen = out.screen_text();
            done(&seen)
        })?;
        Ok(seen)
    }

    /// Wait for `text` anywhere on the screen.
    fn wait_text(&mut self, text: &str) -> Result<String, Box<dyn Error>> {
        self.wait_for(&format!("{text:?} on screen"), DEADLINE, |s| {
            s.contains(text)
        })
    }

    /// Wait for the child to exit, then for the reader to drain all of its output.
    fn wait_exit(&mut self) -> Result<ExitStatus, Box<dyn Error>> {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.0.try_wait()? {
                break status;
            }
            if start.elapsed() >= DEADLINE {
                return Err(self.failure(&format!("the app did not exit within {DEADLINE:?}")));
            }
            std::thread::sleep(POLL);
        };
        self.exit = Some(status.clone());
        self.wait_until("the end of the PTY output", DEADLINE, |out| out.closed)?;
        Ok(status)
    }

    /// Resize the PTY (the kernel sends the child SIGWINCH) and the emulator with it.
    fn resize(&mut self, cols: u16, rows: u16) -> TestResult {
        self.output().parser.screen_mut().set_size(rows, cols);
        self.master.resize(pty_size(cols, rows))?;
        Ok(())
    }

    /// Sign in from the login screen and wait for the home menu.
    fn login(&mut self, badge: &str, pin: &str) -> Result<String, Box<dyn Error>> {
        self.wait_for(
            &format!("the login screen listing demo badge {badge}"),
            DEADLINE,
            |s| s.contains("Scan your badge") && s.lines().any(|l| first_word(l) == Some(badge)),
        )?;
        self.send(format!("{badge}\r").as_bytes())?;
        self.wait_text("key your PIN")?;
        self.send(format!("{pin}\r").as_bytes())?;
        self.wait_for("the home menu", DEADLINE, |s| {
            s.contains("Hello,") && s.contains("Stock lookup")
        })
    }

    /// From the home menu, open Stock lookup by its menu number.
    fn open_lookup(&mut self, menu: &str) -> TestResult {
        let number = menu
            .lines()
            .find_map(|l| l.trim().strip_suffix("Stock lookup"))
            .map(str::trim)
            .ok_or_else(|| {
                fail(format!(
                    "no Stock lookup entry on the menu:\n{}",
                    framed(menu)
                ))
            })?
            .to_string();
        self.send(format!("{number}\r").as_bytes())?;
        self.wait_text("Scan a location, an item")?;
        Ok(())
    }
}

fn first_word(line: &str) -> Option<&str> {
    line.split_whitespace().next()
}

/// The last whole number on a line (the quantity column of a stock row).
fn last_number(line: &str) -> Option<i64> {
    line.split_whitespace()
        .rev()
        .find_map(|w| w.parse::<i64>().ok())
}

/// The stock row on screen whose first column is `key`, with its quantity.
fn row_qty(screen: &str, key: &str) -> Result<i64, Box<dyn Error>> {
    let line = screen
        .lines()
        .find(|l| first_word(l) == Some(key))
        .ok_or_else(|| fail(format!("no row for {key} on screen:\n{}", framed(screen))))?;
    last_number(line).ok_or_else(|| fail(format!("no quantity in the row {line:?}")))
}

/// The number after "On hand" on screen.
fn on_hand(screen: &str) -> Result<i64, Box<dyn Error>> {
    screen
        .lines()
        .find_map(|l| l.split_once("On hand ").map(|(_, rest)| rest))
        .and_then(|rest| first_word(rest))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| fail(format!("no \"On hand <n>\" on screen:\n{}", framed(screen))))
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// The screen with a frame, so trailing blanks and row boundaries are visible.
fn framed(screen: &str) -> String {
    let width = screen.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    let rule = format!("+{}+", "-".repeat(width));
    let mut out = vec![rule.clone()];
    for l in screen.lines() {
        out.push(format!("|{l:<width$}|"));
    }
    out.push(rule);
    out.join("\n")
}

/// The app left the terminal as it found it: after the last frame it left the
/// alternate screen (and the emulator agrees it is back on the main screen).
fn assert_terminal_restored(s: &Session) {
    let out = s.output();
    let enter = rfind(&out.raw, ENTER_ALT_SCREEN);
    let leave = rfind(&out.raw, LEAVE_ALT_SCREEN);
    assert!(
        enter.is_some(),
        "the app never entered the alternate screen"
    );
    assert!(
        leave > enter,
        "no \\e[?1049l (leave alternate screen) after the last frame; output ends with {:?}",
        String::from_utf8_lossy(&out.raw[out.raw.len().saturating_sub(200)..])
    );
    assert_eq!(
        count(&out.raw, LEAVE_ALT_SCREEN),
        1,
        "the alternate screen is left exactly once"
    );
    assert!(
        !out.parser.screen().alternate_screen(),
        "still on the alternate screen"
    );
    assert!(
        !out.parser.screen().hide_cursor(),
        "the cursor is still hidden"
    );
}

#[test]
fn sign_in_look_up_help_and_quit_80x24() -> TestResult {
    let mut s = Session::start(80, 24)?;
    let menu = s.login("1001", "1111")?;
    assert!(
        menu.contains("Rosa Alvarez"),
        "home greets the user:\n{menu}"
    );

    // Look up an item: one row per location, and the total.
    s.open_lookup(&menu)?;
    s.send(b"SKU-10001\r")?;
    let screen = s.wait_for("the SKU-10001 lookup result", DEADLINE, |s| {
        s.contains("On hand") && s.lines().any(|l| first_word(l) == Some("PF-A-01"))
    })?;
    assert!(
        screen.lines().any(|l| first_word(l) == Some("SKU-10001")),
        "the item heading:\n{}",
        framed(&screen)
    );
    let rows = [("A-02-04-2", 24), ("D-08-03-1", 54), ("PF-A-01", 108)];
    let mut total = 0;
    for (location, want) in rows {
        let qty = row_qty(&screen, location)?;
        assert_eq!(qty, want, "qty at {location}:\n{}", framed(&screen));
        total += qty;
    }
    let shown = on_hand(&screen)?;
    assert_eq!(shown, 186, "on hand:\n{}", framed(&screen));
    assert_eq!(shown, total, "on hand is the sum of the rows");

    // An unknown code: a notice on screen and the bell.
    let bells = s.bells();
    s.send(b"NOPE-123\r")?;
    s.wait_text("not found: NOPE-123")?;
    s.wait_until("a BEL after the failed lookup", DEADLINE, |out| {
        out.bells() > bells
    })?;

    // F1 opens this screen's procedure; a lone Esc closes it.
    s.send(F1)?;
    s.wait_text("Help: Stock lookup")?;
    s.send(ESC)?;
    s.wait_for("the help overlay to close", DEADLINE, |s| {
        !s.contains("Help: Stock lookup") && s.contains("Scan>")
    })?;

    s.send(CTRL_Q)?;
    let status = s.wait_exit()?;
    assert!(status.success(), "exit status {status}");
    assert_terminal_restored(&s);

    // The store the session wrote to still passes every check.
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_floorhand"))
        .arg("--db")
        .arg(&s.dirs.db)
        .arg("check")
        .envs(s.dirs.env())
        .env_remove("FLOORHAND_DB")
        .current_dir(s.dirs.tmp.path())
        .output()?;
    assert!(
        check.status.success(),
        "floorhand check failed ({}):\n{}{}",
        check.status,
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );

    let log_file = s.dirs.log_file();
    assert!(log_file.is_file(), "no log file at {}", log_file.display());
    let log = std::fs::read_to_string(&log_file)?;
    assert!(log.contains("login"), "the log records the login:\n{log}");
    Ok(())
}

#[test]
fn supervisor_looks_up_a_location_on_40x16() -> TestResult {
    let mut s = Session::start(40, 16)?;
    let menu = s.login("1007", "7777")?;
    let status_bar = menu.lines().last().unwrap_or_default();
    assert!(
        status_bar.contains("1007"),
        "the status bar shows the badge: {status_bar:?}\n{}",
        framed(&menu)
    );

    s.open_lookup(&menu)?;
    s.send(b"PF-A-01\r")?;
    let screen = s.wait_for("the PF-A-01 lookup result", DEADLINE, |s| {
        s.lines().any(|l| first_word(l) == Some("SKU-10001"))
    })?;
    assert!(
        screen.lines().any(|l| first_word(l) == Some("PF-A-01")),
        "the location heading:\n{}",
        framed(&screen)
    );
    assert_eq!(
        row_qty(&screen, "SKU-10001")?,
        108,
        "qty of SKU-10001 at PF-A-01:\n{}",
        framed(&screen)
    );

    s.send(F10)?;
    let status = s.wait_exit()?;
    assert!(status.success(), "exit status {status}");
    assert_terminal_restored(&s);
    Ok(())
}

#[test]
fn too_small_terminal_then_resized() -> TestResult {
    let mut s = Session::start(30, 10)?;
    s.wait_text("Terminal too small")?;
    s.resize(80, 24)?;
    s.wait_for("the login screen after the resize", DEADLINE, |s| {
        s.contains("Scan your badge") && !s.contains("Terminal too small")
    })?;
    s.send(CTRL_Q)?;
    let status = s.wait_exit()?;
    assert!(status.success(), "exit status {status}");
    assert_terminal_restored(&s);
    Ok(())
}
