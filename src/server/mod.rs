//! The sync server: terminals push their events and pull everyone else's over HTTP/JSON
//! under `/v1` (the model is in `src/sync/README.md`, the JSON types in `sync::wire`).
//!
//! | Method and path          | Token  | Answer |
//! |--------------------------|--------|--------|
//! | `POST /v1/enroll`        | none   | 200 [`EnrollResponse`]; 400 unknown, used or expired code (with the reason) |
//! | `POST /v1/push`          | Bearer | 200 [`PushResponse`]; 409 sequence conflict with `expected_seq`; 413 more than [`MAX_BATCH`] events |
//! | `GET /v1/pull`           | Bearer | 200 [`PullResponse`]; `?after=N&limit=M&wait=S` (limit 1..=5000, default 500; wait 0..=30 s) |
//! | `GET /v1/snapshot`       | Bearer | 200 [`Snapshot`] of the terminal's site |
//! | `GET /v1/availability`   | none   | 200 `[Availability]`, `?site=S` optional |
//! | `GET /v1/health`         | none   | 200 `{"status":"ok","head":N}`; 503 when the store cannot answer |
//! | `GET /v1/metrics`        | none   | Prometheus text format; also at `/metrics`, Prometheus' default path |
//!
//! A terminal sends the [`PENDING_HEADER`](crate::sync::wire::PENDING_HEADER) header with its pushes and pulls: how many of its
//! events wait to be pushed after this request; `server terminals` shows the last one.
//!
//! Every 4xx/5xx body is an [`ErrorBody`]: a missing, unknown or revoked token is 401;
//! a body that is not JSON is 400; JSON of the wrong shape (an unknown event kind, a
//! missing field) is 422; a body over [`BODY_LIMIT`] is 413; a request without
//! `Content-Type: application/json` is 415; a store that is busy, read-only or out of disk
//! is 503; any other store failure is 500. A refused request writes nothing.
//!
//! Availability is open without a token: it is what a web shop shows its visitors, and
//! the answer carries nothing but site, item and quantities.
//!
//! Storage sits behind [`Backend`], so the handlers do not know it is SQLite. The backend
//! is blocking; handlers call it on tokio's blocking pool, one call at a time.
//!
//! [`EnrollResponse`]: crate::sync::wire::EnrollResponse
//! [`PushResponse`]: crate::sync::wire::PushResponse
//! [`PullResponse`]: crate::sync::wire::PullResponse
//! [`Snapshot`]: crate::sync::wire::Snapshot
//! [`ErrorBody`]: crate::sync::wire::ErrorBody
//! [`MAX_BATCH`]: crate::sync::wire::MAX_BATCH

pub mod admin;
mod http;
mod metrics;
mod sqlite;

pub use metrics::Metrics;

use crate::store::{PushError, StoreError, TerminalInfo, TerminalReport};
use crate::sync::wire::{Availability, PushResult, Snapshot, StoredPage, WireEvent};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, watch};

/// Largest request body accepted; a full push of [`crate::sync::wire::MAX_BATCH`] events
/// is far below it.
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// The address `floorhand serve` listens on unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Why a backend call failed, in terms the HTTP layer can answer with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// A push was refused as a whole (sequence gap or reuse): nothing was written.
    #[error("{reason}")]
    Conflict { expected_seq: i64, reason: String },
    /// A rule refused the request (e.g. an unknown enrolment code): nothing was written.
    #[error("{0}")]
    Refused(String),
    /// The store cannot take writes now (busy, read-only, disk full); try again later.
    #[error("{0}")]
    Unavailable(String),
    /// Anything else.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for BackendError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Rejected(reason) => Self::Refused(reason),
            StoreError::Busy | StoreError::ReadOnly | StoreError::DiskFull => {
                Self::Unavailable(e.to_string())
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<PushError> for BackendError {
    fn from(e: PushError) -> Self {
        match e {
            PushError::Conflict {
                expected_seq,
                reason,
            } => Self::Conflict {
                expected_seq,
                reason,
            },
            PushError::Store(e) => e.into(),
        }
    }
}

/// What the HTTP handlers need from storage. The SQLite [`crate::store::Store`]
/// implements it; another database can follow without touching the handlers. Calls are
/// blocking and made one at a time.
pub trait Backend: Send + 'static {
    /// Use a one-time enrolment code: the terminal and its new token.
    fn enroll(
        &mut self,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<(TerminalInfo, String), BackendError>;
    /// The terminal a token belongs to; `None` when unknown or revoked.
    fn authenticate(&mut self, token: &str) -> Result<Option<TerminalInfo>, BackendError>;
    /// A token check that runs beside this backend, so that a request does not queue
    /// behind pushes to learn who sent it; `None` if the backend cannot offer one (then
    /// [`Backend::authenticate`] answers).
    fn tokens(&self) -> Option<Box<dyn Tokens>> {
        None
    }
    /// The next `seq` the store expects from `terminal`, if the backend can tell; the
    /// server asks once per terminal, to keep its pushes in order (see
    /// [`AppState::push`]).
    fn expected_seq(&mut self, terminal: &str) -> Result<Option<i64>, BackendError> {
        let _ = terminal;
        Ok(None)
    }
    /// Accept or reject a batch of the terminal's events in one durable commit.
    fn push(
        &mut self,
        who: &TerminalInfo,
        events: &[WireEvent],
        now: DateTime<Utc>,
    ) -> Result<Vec<PushResult>, BackendError>;
    /// Several pushes, each answered as [`Backend::push`] would; a backend that can
    /// commits them together (one sync to disk for all). The answers are in order.
    fn push_many(
        &mut self,
        pushes: &[(&TerminalInfo, &[WireEvent])],
        now: DateTime<Utc>,
    ) -> Vec<Result<Vec<PushResult>, BackendError>> {
        pushes
            .iter()
            .map(|(who, events)| self.push(who, events, now))
            .collect()
    }
    /// Events after `after` that the terminal's site sees, in global order.
    fn pull(
        &mut self,
        who: &TerminalInfo,
        after: i64,
        limit: usize,
    ) -> Result<StoredPage, BackendError>;
    /// The highest global sequence number.
    fn head(&mut self) -> Result<i64, BackendError>;
    /// The snapshot of `who`'s site, with how far the server has `who`'s own events.
    fn snapshot(&mut self, who: &TerminalInfo) -> Result<Snapshot, BackendError>;
    fn availability(
        &mut self,
        site: Option<&str>,
        today: NaiveDate,
    ) -> Result<Vec<Availability>, BackendError>;
    fn terminals(&mut self) -> Result<Vec<TerminalReport>, BackendError>;
    /// Background work between requests (the SQLite store folds new events into its
    /// balances). Returns `true` while there is more to do right away.
    fn upkeep(&mut self) -> Result<bool, BackendError>;
}

/// Token checks beside the backend (see [`Backend::tokens`]).
pub trait Tokens: Send + 'static {
    /// The terminal a token belongs to; `None` when unknown or revoked.
    fn authenticate(&mut self, token: &str) -> Result<Option<TerminalInfo>, BackendError>;
}

/// How long a push that overtook its predecessor waits for it (see
/// [`AppState::push`]).
const OVERTAKEN_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// How often the server looks for background work when it is otherwise idle.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// Run the backend's upkeep on an interval until the server stops; between two chunks
/// the store is free for requests.
async fn upkeep(state: AppState) {
    let mut stopping = state.stopping.clone();
    loop {
        tokio::select! {
            () = tokio::time::sleep(UPKEEP_EVERY) => {}
            _ = stopping.changed() => return,
        }
        loop {
            if *stopping.borrow() {
                return;
            }
            match state.call(|b| b.upkeep()).await {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    tracing::warn!("server upkeep failed: {e}");
                    break;
                }
            }
        }
    }
}

/// A push waiting for the store, and where its answer goes.
struct PushJob {
    who: TerminalInfo,
    events: Vec<WireEvent>,
    reply: tokio::sync::oneshot::Sender<Result<Vec<PushResult>, BackendError>>,
}

/// A lock that a panic elsewhere did not make unusable (what it guards stays valid).
fn lock<T: ?Sized>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Shared by every request: the backend, the wake-up for long polls, the metrics.
#[derive(Clone)]
pub struct AppState {
    backend: Arc<Mutex<dyn Backend>>,
    /// Token checks that need not wait for the backend, if it offers them.
    tokens: Option<Arc<Mutex<Box<dyn Tokens>>>>,
    /// Notified after every push that committed, so waiting pulls look again.
    pushed: Arc<Notify>,
    /// Pushes waiting for the store: whichever request gets the store first commits all
    /// of them together (see [`AppState::push`]).
    push_queue: Arc<Mutex<Vec<PushJob>>>,
    /// The next `seq` the store expects from each terminal that pushed since the server
    /// started, so that a push which overtook its predecessor can wait for it.
    next_seq: Arc<Mutex<HashMap<String, i64>>>,
    metrics: Arc<Metrics>,
    /// Turns `true` when the server shuts down, so long polls answer at once.
    stopping: watch::Receiver<bool>,
    stop: Arc<watch::Sender<bool>>,
}

impl AppState {
    pub fn new(backend: impl Backend) -> Self {
        let (stop, stopping) = watch::channel(false);
        let tokens = backend.tokens().map(|t| Arc::new(Mutex::new(t)));
        Self {
            backend: Arc::new(Mutex::new(backend)),
            tokens,
            pushed: Arc::new(Notify::new()),
            push_queue: Arc::new(Mutex::new(Vec::new())),
            next_seq: Arc::new(Mutex::new(HashMap::new())),
            metrics: Arc::new(Metrics::default()),
            stopping,
            stop: Arc::new(stop),
        }
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Push a terminal's events. Pushes that arrive while the store is busy queue up,
    /// and the first of them to get the store commits all that are queued by then in one
    /// transaction (a group commit): under load, one sync to disk serves many terminals
    /// instead of each waiting for its own.
    async fn push(
        &self,
        who: TerminalInfo,
        events: Vec<WireEvent>,
    ) -> Result<Vec<PushResult>, BackendError> {
        if let Some(first) = events.first().map(|e| e.seq) {
            self.wait_for_predecessor(&who.terminal, first).await;
        }
        let (reply, answer) = tokio::sync::oneshot::channel();
        lock(&self.push_queue).push(PushJob { who, events, reply });
        let queue = Arc::clone(&self.push_queue);
        let metrics = Arc::clone(&self.metrics);
        let next_seq = Arc::clone(&self.next_seq);
        let pushed = Arc::clone(&self.pushed);
        // Awaited even when another request has committed this push already: each request
        // keeps its turn at the store, so terminals cannot queue up more work than the
        // store takes.
        self.call(move |b| {
            let jobs = std::mem::take(&mut *lock(&queue));
            if jobs.is_empty() {
                // An earlier request committed this one with its own.
                return Ok(());
            }
            metrics.push_commit();
            let pushes: Vec<(&TerminalInfo, &[WireEvent])> =
                jobs.iter().map(|j| (&j.who, &j.events[..])).collect();
            let results = b.push_many(&pushes, Utc::now());
            drop(pushes);
            for (job, result) in jobs.into_iter().zip(results) {
                if let Some(last) = result.as_ref().ok().and_then(|r| r.last()) {
                    let mut next = lock(&next_seq);
                    let at = next.entry(job.who.terminal.clone()).or_default();
                    *at = (*at).max(last.seq() + 1);
                }
                // The request may have gone away (client closed); its answer is moot.
                let _ = job.reply.send(result);
            }
            // Long polls look again; pushes waiting for a predecessor check their turn.
            pushed.notify_waiters();
            Ok(())
        })
        .await?;
        answer.await.map_err(|_| {
            BackendError::Internal("the push was lost before it was answered".into())
        })?
    }

    /// A terminal keeps up to two pushes in flight (each on its own connection), and the
    /// later one can reach the server first. It waits here, at most [`OVERTAKEN_WAIT`],
    /// until the store holds the events before its first, so the store does not refuse
    /// it for a gap that its predecessor is about to fill. A gap nothing fills is refused
    /// by the store after the wait, as before.
    async fn wait_for_predecessor(&self, terminal: &str, first: i64) {
        if first > 1 && !lock(&self.next_seq).contains_key(terminal) {
            // The first push from this terminal since the server started: ask the store
            // where the terminal stands (once), or its first two pushes could race.
            let t = terminal.to_string();
            match self.call(move |b| b.expected_seq(&t)).await {
                Ok(Some(expected)) => {
                    let mut next = lock(&self.next_seq);
                    let at = next.entry(terminal.to_string()).or_insert(expected);
                    *at = (*at).max(expected);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(%terminal, "where the terminal stands is unknown: {e}"),
            }
        }
        let deadline = tokio::time::Instant::now() + OVERTAKEN_WAIT;
        let mut waiting = false;
        loop {
            let mut notified = std::pin::pin!(self.pushed.notified());
            notified.as_mut().enable();
            let behind = lock(&self.next_seq)
                .get(terminal)
                .is_some_and(|&next| next < first);
            if behind && !waiting {
                waiting = true;
                self.metrics.overtaken(true);
            }
            if !behind || tokio::time::timeout_at(deadline, notified).await.is_err() {
                break;
            }
        }
        if waiting {
            self.metrics.overtaken(false);
        }
    }

    /// The terminal a bearer token belongs to; `None` when unknown or revoked.
    async fn authenticate(&self, token: String) -> Result<Option<TerminalInfo>, BackendError> {
        let Some(tokens) = &self.tokens else {
            return self.call(move |b| b.authenticate(&token)).await;
        };
        let tokens = Arc::clone(tokens);
        tokio::task::spawn_blocking(move || lock(&tokens).authenticate(&token))
            .await
            .map_err(|e| BackendError::Internal(format!("the token check failed: {e}")))?
    }

    /// Run `f` on the backend on tokio's blocking pool.
    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Backend) -> Result<T, BackendError> + Send + 'static,
    ) -> Result<T, BackendError> {
        let backend = Arc::clone(&self.backend);
        tokio::task::spawn_blocking(move || {
            // A panic inside a call left no transaction open (the store rolls back
            // before it begins the next one), so a poisoned lock is still usable.
            let mut guard = backend
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut *guard)
        })
        .await
        .map_err(|e| BackendError::Internal(format!("the store task failed: {e}")))?
    }
}

/// The routes under `/v1` (and `/metrics`), with the body limit and request logging.
pub fn router(state: AppState) -> axum::Router {
    http::router(state)
}

/// Serve until Ctrl-C or SIGTERM, then finish the requests in flight (long polls answer
/// at once) and return.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    serve_with_shutdown(listener, state, shutdown_signal()).await
}

/// [`serve`] until `signal` completes.
pub async fn serve_with_shutdown(
    listener: tokio::net::TcpListener,
    state: AppState,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stop = Arc::clone(&state.stop);
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "server listening");
    }
    tokio::spawn(upkeep(state.clone()));
    let app = router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            signal.await;
            tracing::info!("server shutting down");
            let _ = stop.send(true);
        })
        .await
}

/// The server on loopback (`127.0.0.1`, a port the system picks), on a tokio runtime in a
/// thread of its own: for tests and benchmarks that speak real HTTP to it in process.
/// Dropping it stops the server and waits for the thread.
pub struct LocalServer {
    addr: std::net::SocketAddr,
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl LocalServer {
    /// Serve `state` on a free loopback port; returns once the server is listening.
    pub fn start(state: AppState) -> std::io::Result<Self> {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("floorhand-local-server".into())
            .spawn(move || -> std::io::Result<()> {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()?;
                runtime.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
                    let _ = addr_tx.send(listener.local_addr()?);
                    serve_with_shutdown(listener, state, async {
                        let _ = stopped.await;
                    })
                    .await
                })
            })?;
        let Ok(addr) = addr_rx.recv() else {
            // The thread ended before it listened; its own error says why.
            return Err(match thread.join() {
                Ok(Err(e)) => e,
                Ok(Ok(())) => std::io::Error::other("the server stopped before it listened"),
                Err(_) => std::io::Error::other("the server thread panicked"),
            });
        };
        Ok(Self {
            addr,
            url: format!("http://{addr}"),
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stop the server (requests in flight finish, long polls answer at once) and wait
    /// for its thread; the server's error, if it failed. Calling it again does nothing.
    pub fn stop(&mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(std::io::Error::other("the server thread panicked")),
            None => Ok(()),
        }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] admin::AdminError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("the server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Open the server's store at `store_path`, listen on `listen` and serve until Ctrl-C or
/// SIGTERM. Blocks; builds its own tokio runtime.
pub fn run(listen: &str, store_path: &Path) -> Result<(), ServerError> {
    let store = admin::open_store(store_path)?;
    let state = AppState::new(store);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("floorhand-server")
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| ServerError::Bind {
                addr: listen.to_string(),
                source,
            })?;
        tracing::info!(store = %store_path.display(), "server store opened");
        serve(listener, state).await?;
        tracing::info!("server stopped");
        Ok(())
    })
}
