//! The real `floorhand` binary in a real pseudo-terminal.
//!
//! [`Session::start`] runs `floorhand --db <tmp>/demo.db demo` in a PTY with its own data,
//! config and home directories. A reader thread drains the PTY into both the raw bytes
//! (to count BEL and find the terminal-restore sequences) and a `vt100` emulator. Nothing
//! sleeps to wait: every wait polls for what it expects on screen, bounded by a
//! deadline, and a timeout fails with the screen printed.

use super::TestResult;
use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};
use std::error::Error;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How long any one thing may take to show up (or the app to exit).
pub const DEADLINE: Duration = Duration::from_secs(20);
/// The pause between two looks at the screen while waiting.
const POLL: Duration = Duration::from_millis(10);

const BEL: u8 = 0x07;
const ENTER_ALT_SCREEN: &[u8] = b"\x1b[?1049h";
const LEAVE_ALT_SCREEN: &[u8] = b"\x1b[?1049l";

// Keys as an xterm sends them.
pub const F1: &[u8] = b"\x1bOP";
pub const F2: &[u8] = b"\x1bOQ";
/// F3: damaged, at the receiving quantity.
pub const F3: &[u8] = b"\x1bOR";
pub const F9: &[u8] = b"\x1b[20~";
pub const F10: &[u8] = b"\x1b[21~";
pub const ESC: &[u8] = b"\x1b";
pub const DOWN: &[u8] = b"\x1b[B";
pub const UP: &[u8] = b"\x1b[A";
pub const CTRL_Q: &[u8] = b"\x11";

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

pub fn fail(message: String) -> Box<dyn Error> {
    Box::new(Failure(message))
}

/// What the PTY has sent so far.
pub struct Output {
    pub raw: Vec<u8>,
    pub parser: vt100::Parser,
    /// The reader saw end of file (or an error): the child and every copy of the slave
    /// side are gone, so `raw` is complete.
    pub closed: bool,
}

impl Output {
    /// The screen as text, one line per row (so a full-width row never joins the next).
    pub fn screen_text(&self) -> String {
        let screen = self.parser.screen();
        let (_, cols) = screen.size();
        screen.rows(0, cols).collect::<Vec<_>>().join("\n")
    }

    pub fn bells(&self) -> usize {
        self.raw.iter().filter(|&&b| b == BEL).count()
    }

    /// The text of the highlighted (reverse video) row that starts at the left edge.
    pub fn selected_row(&self) -> Option<String> {
        let screen = self.parser.screen();
        let (rows, cols) = screen.size();
        (0..rows)
            .find(|&r| screen.cell(r, 0).is_some_and(|c| c.inverse()))
            .and_then(|r| screen.rows(0, cols).nth(usize::from(r)))
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

/// The test's own directories; nothing outside `tmp` is read or written.
pub struct Dirs {
    data_home: PathBuf,
    config_home: PathBuf,
    home: PathBuf,
    config_file: PathBuf,
    pub db: PathBuf,
    pub tmp: tempfile::TempDir,
}

impl Dirs {
    fn new() -> TestResult<Self> {
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

    pub fn env(&self) -> [(&'static str, &Path); 4] {
        [
            ("XDG_DATA_HOME", &self.data_home),
            ("XDG_CONFIG_HOME", &self.config_home),
            ("HOME", &self.home),
            ("FLOORHAND_CONFIG", &self.config_file),
        ]
    }

    pub fn log_file(&self) -> PathBuf {
        self.data_home.join("floorhand").join("floorhand.log")
    }

    /// Run a `floorhand --db <db>` command (not in the PTY) with the same isolation.
    pub fn floorhand(&self, args: &[&str]) -> TestResult<std::process::Output> {
        Ok(std::process::Command::new(env!("CARGO_BIN_EXE_floorhand"))
            .arg("--db")
            .arg(&self.db)
            .args(args)
            .envs(self.env())
            .env_remove("FLOORHAND_DB")
            .current_dir(self.tmp.path())
            .output()?)
    }
}

/// `floorhand check` passes on the store the session wrote to.
pub fn assert_store_checks(dirs: &Dirs) -> TestResult {
    let check = dirs.floorhand(&["check"])?;
    assert!(
        check.status.success(),
        "floorhand check failed ({}):\n{}{}",
        check.status,
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    Ok(())
}

fn pty_size(cols: u16, rows: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

/// One run of the app in a PTY. Fields drop in order: the child is killed before the
/// PTY closes and the temp dir goes last.
pub struct Session {
    child: ChildGuard,
    writer: Box<dyn Write + Send>,
    master: Box<dyn MasterPty + Send>,
    output: Arc<Mutex<Output>>,
    pub dirs: Dirs,
    exit: Option<ExitStatus>,
}

impl Session {
    /// Start `floorhand --db <tmp>/demo.db demo` in a `cols` x `rows` PTY.
    pub fn start(cols: u16, rows: u16) -> TestResult<Self> {
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

    pub fn output(&self) -> MutexGuard<'_, Output> {
        self.output.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn bells(&self) -> usize {
        self.output().bells()
    }

    /// Send bytes as if typed (or scanned) at the terminal.
    pub fn send(&mut self, bytes: &[u8]) -> TestResult {
        self.writer.write_all(bytes)?;
        self.writer.flush()?;
        Ok(())
    }

    /// Send a scan (or keyed text) followed by Enter, the scanner's terminator.
    pub fn scan(&mut self, text: &str) -> TestResult {
        self.send(format!("{text}\r").as_bytes())
    }

    /// Poll the output until `done` holds; after `deadline` fail with the screen. Fails
    /// at once if the child is gone and its output drained, since nothing can change.
    pub fn wait_until(
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

    /// Poll the screen until `done(screen_text)` holds (within [`DEADLINE`]), and return
    /// that screen.
    pub fn wait_for(&mut self, what: &str, done: impl Fn(&str) -> bool) -> TestResult<String> {
        let mut seen = String::new();
        self.wait_until(what, DEADLINE, |out| {
            seen = out.screen_text();
            done(&seen)
        })?;
        Ok(seen)
    }

    /// Wait for `text` anywhere on the screen, and return the screen.
    pub fn wait_text(&mut self, text: &str) -> TestResult<String> {
        self.wait_for(&format!("{text:?} on screen"), |s| s.contains(text))
    }

    /// Wait for the child to exit, then for the reader to drain all of its output.
    pub fn wait_exit(&mut self) -> TestResult<ExitStatus> {
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
    pub fn resize(&mut self, cols: u16, rows: u16) -> TestResult {
        self.output().parser.screen_mut().set_size(rows, cols);
        self.master.resize(pty_size(cols, rows))?;
        Ok(())
    }

    /// Sign in from the login screen, then wait until `home(screen)` says the home menu
    /// is up, and return that screen.
    pub fn sign_in(
        &mut self,
        badge: &str,
        pin: &str,
        home: impl Fn(&str) -> bool,
    ) -> TestResult<String> {
        self.wait_for(
            &format!("the login screen listing demo badge {badge}"),
            |s| s.contains("Scan your badge") && s.lines().any(|l| first_word(l) == Some(badge)),
        )?;
        self.scan(badge)?;
        self.wait_text("key your PIN")?;
        self.scan(pin)?;
        self.wait_for("the home menu", home)
    }
}

pub fn first_word(line: &str) -> Option<&str> {
    line.split_whitespace().next()
}

/// The screen with a frame, so trailing blanks and row boundaries are visible.
pub fn framed(screen: &str) -> String {
    let width = screen.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    let rule = format!("+{}+", "-".repeat(width));
    let mut out = vec![rule.clone()];
    for l in screen.lines() {
        out.push(format!("|{l:<width$}|"));
    }
    out.push(rule);
    out.join("\n")
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

/// The app left the terminal as it found it: after the last frame it left the
/// alternate screen (and the emulator agrees it is back on the main screen).
pub fn assert_terminal_restored(s: &Session) {
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
