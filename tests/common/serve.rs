//! The real `floorhand` binary as a server: `floorhand server ...` admin commands and a
//! running `floorhand serve` on a port of its own (Unix only: it is killed with SIGKILL).

use super::{TestResult, ensure};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const SIGKILL: i32 = 9;

pub use super::floorhand;

pub fn admin(dir: &Path, store: &Path, args: &[&str]) -> TestResult<String> {
    let store = store.to_string_lossy().into_owned();
    let mut all = vec!["server", "--store", store.as_str()];
    all.extend_from_slice(args);
    let out = floorhand(dir, &all).output()?;
    ensure!(
        out.status.success(),
        "floorhand {all:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A running `floorhand serve`; killed when dropped.
pub struct Server {
    child: Option<Child>,
    dir: PathBuf,
    store: PathBuf,
    listen: String,
    agent: ureq::Agent,
}

impl Server {
    /// `serve` prints the address it was asked for, not the one it bound, so the port is
    /// chosen here: one the OS has just handed out.
    pub fn start(dir: &Path, store: &Path) -> TestResult<Self> {
        let mut s = Self {
            child: None,
            dir: dir.to_path_buf(),
            store: store.to_path_buf(),
            listen: super::free_address()?,
            agent: ureq::Agent::new_with_config(
                ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(2)))
                    .build(),
            ),
        };
        s.restart()?;
        Ok(s)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.listen)
    }

    /// Start the binary (again) on the same port and store; wait until it answers.
    pub fn restart(&mut self) -> TestResult {
        let store = self.store.to_string_lossy().into_owned();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("serve.log"))?;
        let child = floorhand(
            &self.dir,
            &["serve", "--store", &store, "--listen", &self.listen],
        )
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let up = self
                .agent
                .get(format!("{}/v1/health", self.url()))
                .call()
                .is_ok_and(|r| r.status().as_u16() == 200);
            if up {
                return Ok(());
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                return Err(
                    format!("floorhand serve exited at start: {status}; see serve.log").into(),
                );
            }
            ensure!(
                Instant::now() < deadline,
                "floorhand serve did not answer within 30 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn kill(&mut self) -> TestResult {
        if let Some(mut child) = self.child.take() {
            child.kill()?; // SIGKILL
            let status = child.wait()?;
            ensure!(
                status.signal() == Some(SIGKILL) || status.code().is_some(),
                "unexpected end of the server: {status}"
            );
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Enrol `terminal` for `site` on the server's store; the one-time code it printed.
pub fn enrolment_code(dir: &Path, store: &Path, terminal: &str, site: &str) -> TestResult<String> {
    let out = admin(dir, store, &["enroll", terminal, "--site", site])?;
    let code = out
        .lines()
        .nth(2)
        .map(str::trim)
        .ok_or_else(|| format!("no code in {out:?}"))?;
    Ok(code.to_string())
}

/// Whether the server's store holds the event (read on a connection of our own; the
/// server may be running or dead).
pub fn on_server(server: &Path, id: &str) -> Result<bool, String> {
    let conn =
        rusqlite::Connection::open_with_flags(server, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| e.to_string())?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| e.to_string())?;
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM journal WHERE id = ?1)",
        [id],
        |r| r.get(0),
    )
    .map_err(|e| e.to_string())
}
