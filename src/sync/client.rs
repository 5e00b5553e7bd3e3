//! The terminal's sync client: one round (bootstrap, push the outbox in batches, pull what
//! others did) over a [`Transport`], the HTTP transport, and the worker thread the TUI
//! runs it on. The decisions are in `plan.rs`; this is the I/O around them.

use super::plan::{self, Conflict, Facts, Step};
use super::wire::{
    EnrollRequest, EnrollResponse, ErrorBody, MAX_BATCH, Ordered, PENDING_HEADER, Pulled,
    PulledPage, PushRequest, PushResponse, PushResult, Snapshot, WireEvent,
};
use crate::store::{Enrolment, NextPage, Pages, Store, StoreError};
use chrono::{SecondsFormat, Utc};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the server could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No answer: network down, server stopped, timeout. Try again later.
    #[error("server not reachable: {0}")]
    Offline(String),
    #[error("the server refused this terminal's token: enrol it again")]
    Unauthorized,
    /// 409: the sequence rules were broken.
    #[error("conflict: {}", .0.error)]
    Conflict(ErrorBody),
    /// Any other refusal, with the server's reason.
    #[error("the server refused the request ({status}): {}", .body.error)]
    Refused { status: u16, body: ErrorBody },
}

/// The server as the client sees it; tests put faults between the two.
pub trait Transport {
    fn push(&mut self, request: &PushRequest) -> Result<PushResponse, TransportError>;
    fn pull(
        &mut self,
        after: i64,
        limit: usize,
        wait_secs: u64,
    ) -> Result<PulledPage, TransportError>;
    fn snapshot(&mut self) -> Result<Snapshot, TransportError>;
    /// How many events this terminal has waiting to push, told to the server with its
    /// next requests (the server shows it in `server terminals`); ignored by default.
    fn report_pending(&mut self, _pending: i64) {}
    /// Another handle to the same server, usable from another thread (its own
    /// connection), so that a round keeps two pushes in flight; `None` (the default)
    /// sends one push at a time.
    fn pipeline(&self) -> Option<Box<dyn Transport + Send>> {
        None
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    #[error(
        "this store is a copy of another terminal's or was restored: enrol it again (nothing pending is lost)"
    )]
    Reenroll,
    #[error("the server is missing events from seq {expected} on that this terminal sent: call IT")]
    ServerBehind { expected: i64 },
    #[error("this terminal is not enrolled")]
    NotEnrolled,
    #[error(
        "the server's journal ends at event {head}, before event {cursor} that this terminal has pulled: it was restored from an older copy. Call IT"
    )]
    ServerRestored { head: i64, cursor: i64 },
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    pub pushed: usize,
    pub rejected: usize,
    pub pulled: usize,
    pub bootstrapped: bool,
    /// Loaded the snapshot again ([`resync`]), keeping this many pending events.
    pub resynced: Option<usize>,
}

/// One sync round: bootstrap if new, push every pending event in batches of at most 500,
/// then pull until caught up. Answers are recorded in the order the batches were sent,
/// and an event counts as sent only once its answer is recorded, so a round cut short
/// anywhere resumes safely: the server answers a resent event with its stored result.
pub fn round(store: &mut Store, transport: &mut dyn Transport) -> Result<Round, SyncError> {
    let mut done = Round::default();
    store.use_sync_memory()?;
    push_outbox(store, transport, &mut done)?;
    pull_and_finish(store, transport, &mut done)?;
    Ok(done)
}

/// A round that first loads the site's snapshot again in place of what this terminal
/// built from its pulls (see [`Store::resync`]), keeping every pending event. The outbox
/// is pushed before the snapshot is asked for, so that every event sent has its answer
/// recorded and the snapshot says which of them it includes.
pub fn resync(store: &mut Store, transport: &mut dyn Transport) -> Result<Round, SyncError> {
    let mut done = Round::default();
    store.use_sync_memory()?;
    push_outbox(store, transport, &mut done)?;
    // A sync worker on the same store may pull or record answers between the snapshot
    // and loading it, which makes the store refuse it: push again and ask once more.
    let mut attempts = 0;
    while !done.bootstrapped && done.resynced.is_none() {
        attempts += 1;
        let snapshot = transport.snapshot()?;
        match store.resync(&snapshot) {
            Ok(kept) => done.resynced = Some(kept),
            Err(StoreError::Rejected(_)) if attempts < 2 => {}
            Err(e) => return Err(e.into()),
        }
        // Events recorded meanwhile.
        push_outbox(store, transport, &mut done)?;
    }
    pull_and_finish(store, transport, &mut done)?;
    Ok(done)
}

/// Bootstrap if new, then push every pending event in batches.
fn push_outbox(
    store: &mut Store,
    transport: &mut dyn Transport,
    done: &mut Round,
) -> Result<(), SyncError> {
    // The next batch itself, not a count of the whole outbox: counting a long backlog
    // before every batch would cost more than sending it.
    let mut batch = store.pending(MAX_BATCH)?;
    // What the server is told is still waiting after each batch: counted once, then each
    // batch sent takes its events off.
    let mut waiting = if batch.is_empty() {
        0
    } else {
        store.pending_count()?
    };
    // The last batch sent and its answers, not yet recorded in the store.
    let mut answered: Option<Vec<PushResult>> = None;
    // Two connections for pushes, when the transport has them; otherwise one push at a
    // time, overlapped with the store's work below.
    let mut pair = pipelined(transport);
    loop {
        let facts = Facts {
            enrolled: store.enrolment()?.is_some(),
            bootstrapped: store.is_bootstrapped()? || store.cursor()? > 0,
            pending: batch.len(),
        };
        match plan::next_step(facts) {
            Step::NotEnrolled => return Err(SyncError::NotEnrolled),
            Step::Bootstrap => {
                let snapshot = transport.snapshot()?;
                store.bootstrap(&snapshot)?;
                done.bootstrapped = true;
                batch = store.pending(MAX_BATCH)?;
            }
            Step::Push(_) if pair.is_some() => {
                if let Some(pair) = pair.take() {
                    let batch = std::mem::take(&mut batch);
                    push_pipelined(store, pair, batch, done, &mut waiting)?;
                }
                batch = store.pending(MAX_BATCH)?;
            }
            Step::Push(n) => {
                batch.truncate(n);
                waiting = after_sending(waiting, batch.len());
                transport.report_pending(waiting);
                let request = PushRequest { events: batch };
                let sent_up_to = request.events.last().map_or(0, |e| e.seq);
                // While the server works on this batch, the store records the answers to
                // the one before and reads the next (the next is sent only once this one
                // is answered, so the server sees every terminal's events in order).
                let (response, local) = std::thread::scope(|s| {
                    let local = s.spawn(|| -> Result<Vec<WireEvent>, StoreError> {
                        if let Some(results) = answered.take() {
                            store.record_push_results(&results)?;
                        }
                        store.pending_after(sent_up_to, MAX_BATCH)
                    });
                    let response = transport.push(&request);
                    (response, local.join())
                });
                let next = joined(local, "reading the outbox")?;
                let response = response.map_err(|e| refused(&request, e))?;
                plan::check_results(&request.events, &response.results)?;
                count(done, &response.results);
                answered = Some(response.results);
                batch = next;
            }
            Step::Pull => break,
        }
    }
    if let Some(results) = answered.take() {
        store.record_push_results(&results)?;
    }
    Ok(())
}

/// Pull until caught up, and note the time of this successful round.
fn pull_and_finish(
    store: &mut Store,
    transport: &mut dyn Transport,
    done: &mut Round,
) -> Result<(), SyncError> {
    transport.report_pending(store.pending_count()?);
    done.pulled += pull_to_head(store, transport)?;
    store.set_last_sync(&Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true))?;
    Ok(())
}

/// Two handles for pushes from other threads, when the transport offers them.
fn pipelined(transport: &dyn Transport) -> Option<[Box<dyn Transport + Send>; 2]> {
    Some([transport.pipeline()?, transport.pipeline()?])
}

/// What a push thread hands back: its connection, what it sent and the answer.
type Sent = (
    Box<dyn Transport + Send>,
    PushRequest,
    Result<PushResponse, TransportError>,
);

/// Push everything pending, starting with `batch`, with two batches in flight: while the
/// server commits one, the next is on its way and this thread records the answers to
/// the one before and reads the one after. Answers are taken in the order the batches
/// were sent; the server keeps each terminal's pushes in order (a push that overtakes
/// its predecessor waits for it there).
fn push_pipelined(
    store: &mut Store,
    handles: [Box<dyn Transport + Send>; 2],
    mut batch: Vec<WireEvent>,
    done: &mut Round,
    waiting: &mut i64,
) -> Result<(), SyncError> {
    let mut idle: Vec<Box<dyn Transport + Send>> = handles.into();
    std::thread::scope(|s| {
        let mut in_flight: VecDeque<std::thread::ScopedJoinHandle<'_, Sent>> = VecDeque::new();
        let mut answered: Option<PushResponse> = None;
        loop {
            // Send first (the next batch is read already), then record the last answers:
            // the server should never wait for this thread.
            while !batch.is_empty() {
                let Some(mut handle) = idle.pop() else { break };
                let request = PushRequest {
                    events: std::mem::take(&mut batch),
                };
                *waiting = after_sending(*waiting, request.events.len());
                handle.report_pending(*waiting);
                let sent_up_to = request.events.last().map_or(0, |e| e.seq);
                in_flight.push_back(s.spawn(move || {
                    let answer = handle.push(&request);
                    (handle, request, answer)
                }));
                batch = store.pending_after(sent_up_to, MAX_BATCH)?;
            }
            if let Some(response) = answered.take() {
                store.record_push_results(&response.results)?;
            }
            let Some(oldest) = in_flight.pop_front() else {
                return Ok(());
            };
            let (handle, request, answer) = oldest.join().map_err(|_| {
                SyncError::Store(StoreError::Rejected("a push failed unexpectedly".into()))
            })?;
            idle.push(handle);
            let response = answer.map_err(|e| refused(&request, e))?;
            plan::check_results(&request.events, &response.results)?;
            count(done, &response.results);
            answered = Some(response);
        }
    })
}

/// Events still waiting once a batch of `sent` is pushed.
fn after_sending(waiting: i64, sent: usize) -> i64 {
    waiting
        .saturating_sub(i64::try_from(sent).unwrap_or(i64::MAX))
        .max(0)
}

/// A push's transport error as the round reports it.
fn refused(request: &PushRequest, e: TransportError) -> SyncError {
    match e {
        TransportError::Conflict(body) => {
            match plan::conflict(&request.events, body.expected_seq) {
                Conflict::Reenroll => SyncError::Reenroll,
                Conflict::ServerBehind { expected } => SyncError::ServerBehind { expected },
            }
        }
        other => other.into(),
    }
}

/// Count a push's answers into the round.
fn count(done: &mut Round, results: &[PushResult]) {
    done.pushed += results.len();
    done.rejected += results
        .iter()
        .filter(|r| matches!(r, PushResult::Rejected { .. }))
        .count();
}

/// Pull pages until the head, applied by the store while the next ones are fetched:
/// a scoped thread applies the pages this thread hands over (up to [`PAGES_AHEAD`]
/// waiting), in long transactions that step aside for the floor screens (see
/// [`Store::apply_pulled_pages`]). Returns how many events were applied; what was applied
/// before a failed fetch stays applied.
///
/// When the backlog is longer than one page, the connection runs as a catch-up (see
/// [`Store::begin_catch_up`]): no checkpoint of its own until the end. The floor
/// screens may still checkpoint meanwhile, on an idle tick or after 8,192 pages.
fn pull_to_head(store: &mut Store, transport: &mut dyn Transport) -> Result<usize, SyncError> {
    let mut cursor = store.cursor()?;
    let first = transport.pull(cursor, PULL_PAGE, 0)?;
    if first.head < cursor {
        return Err(SyncError::ServerRestored {
            head: first.head,
            cursor,
        });
    }
    let Some(last) = first.events.last().map(|e| e.gseq) else {
        return Ok(0);
    };
    cursor = last;
    let mut at_head = last >= first.head;
    let catching_up = !at_head;
    if catching_up {
        store.begin_catch_up()?;
    }
    let (pages, handed) = std::sync::mpsc::sync_channel::<Vec<Ordered<Pulled>>>(PAGES_AHEAD);
    let applier = &mut *store;
    let outcome = std::thread::scope(|s| {
        // Threads are named, so that a profile of a catch-up tells the store's work from
        // the fetching and the freeing.
        let (spent, to_free) = mpsc::channel::<Vec<Ordered<Pulled>>>();
        let spent = std::thread::Builder::new()
            .name("pull-free".into())
            .spawn_scoped(s, move || to_free.into_iter().for_each(drop))
            .ok()
            .map(|_| spent);
        let apply = std::thread::Builder::new().name("pull-apply".into());
        let apply = apply.spawn_scoped(s, move || {
            applier.apply_pulled_pages(&mut Handed {
                pages: handed,
                spent,
            })
        });
        let apply = apply.map_err(|e| {
            SyncError::Store(StoreError::Rejected(format!(
                "could not start applying pulled events: {e}"
            )))
        })?;
        let mut fetched = Ok(());
        // A failed send means the store stopped applying; its error says why.
        if pages.send(first.events).is_ok() {
            while !at_head {
                match transport.pull(cursor, PULL_PAGE, 0) {
                    Ok(page) => match page.events.last().map(|e| e.gseq) {
                        Some(g) => {
                            cursor = g;
                            at_head = g >= page.head;
                            if pages.send(page.events).is_err() {
                                break;
                            }
                        }
                        None => at_head = true,
                    },
                    Err(e) => {
                        fetched = Err(e.into());
                        break;
                    }
                }
            }
        }
        drop(pages);
        let applied = joined(apply.join(), "applying pulled events")?;
        fetched.map(|()| applied)
    });
    if catching_up {
        store.end_catch_up()?;
    }
    outcome
}

/// A catch-up's pages as the store asks for them: from the fetching thread, and once
/// applied to a thread that frees them (when one could be started), so that the store
/// goes on with the next page meanwhile.
struct Handed {
    pages: Receiver<Vec<Ordered<Pulled>>>,
    spent: Option<Sender<Vec<Ordered<Pulled>>>>,
}

impl Pages for Handed {
    fn next(&mut self, wait: Option<Duration>) -> NextPage {
        let page = match wait {
            None => self
                .pages
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected),
            Some(d) => self.pages.recv_timeout(d),
        };
        match page {
            Ok(page) => NextPage::Ready(page),
            Err(RecvTimeoutError::Timeout) => NextPage::NotYet,
            Err(RecvTimeoutError::Disconnected) => NextPage::End,
        }
    }

    fn applied(&mut self, page: Vec<Ordered<Pulled>>) {
        // Freed here if the freeing thread is gone.
        if let Some(spent) = &self.spent {
            let _ = spent.send(page);
        }
    }
}

/// The store's answer from a scoped thread; a panic there becomes an error naming `what`.
fn joined<T>(
    answer: std::thread::Result<Result<T, StoreError>>,
    what: &str,
) -> Result<T, SyncError> {
    match answer {
        Ok(out) => Ok(out?),
        Err(_) => Err(SyncError::Store(StoreError::Rejected(format!(
            "{what} failed unexpectedly"
        )))),
    }
}

/// Pages fetched ahead of the one the store applies.
const PAGES_AHEAD: usize = 2;

/// The HTTP transport (blocking, `ureq`).
pub struct Http {
    agent: ureq::Agent,
    base: String,
    token: String,
    /// Events waiting to push, sent with every request once known.
    pending: Option<i64>,
}

impl Http {
    pub fn new(server: &str, token: &str) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(3)))
            .timeout_global(Some(Duration::from_secs(60)))
            .build();
        Self {
            agent: ureq::Agent::new_with_config(config),
            base: server.trim_end_matches('/').to_string(),
            token: token.to_string(),
            pending: None,
        }
    }

    /// `request` with this terminal's token and, once known, how many events it has
    /// waiting to push.
    fn signed<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        let request = request.header("Authorization", format!("Bearer {}", self.token));
        match self.pending {
            Some(n) => request.header(PENDING_HEADER, n.to_string()),
            None => request,
        }
    }

    fn answer<T: serde::de::DeserializeOwned>(
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T, TransportError> {
        let mut response = result.map_err(|e| TransportError::Offline(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response.body_mut().with_config().limit(1 << 32);
        if status == 200 {
            return body
                .read_json::<T>()
                .map_err(|e| TransportError::Offline(format!("unreadable answer: {e}")));
        }
        let error = body.read_json::<ErrorBody>().unwrap_or(ErrorBody {
            error: format!("HTTP {status}"),
            expected_seq: None,
        });
        Err(match status {
            401 => TransportError::Unauthorized,
            409 => TransportError::Conflict(error),
            502..=504 => TransportError::Offline(error.error),
            _ => TransportError::Refused {
                status,
                body: error,
            },
        })
    }
}

impl Transport for Http {
    fn pipeline(&self) -> Option<Box<dyn Transport + Send>> {
        // The agent is shared: the handle takes another connection from its pool.
        Some(Box::new(Self {
            agent: self.agent.clone(),
            base: self.base.clone(),
            token: self.token.clone(),
            pending: None,
        }))
    }

    fn report_pending(&mut self, pending: i64) {
        self.pending = Some(pending);
    }

    fn push(&mut self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        let post = self.agent.post(format!("{}/v1/push", self.base));
        Self::answer(self.signed(post).send_json(request))
    }

    fn pull(
        &mut self,
        after: i64,
        limit: usize,
        wait_secs: u64,
    ) -> Result<PulledPage, TransportError> {
        let get = self.agent.get(format!(
            "{}/v1/pull?after={after}&limit={limit}&wait={wait_secs}",
            self.base
        ));
        Self::answer(self.signed(get).call())
    }

    fn snapshot(&mut self) -> Result<Snapshot, TransportError> {
        let get = self.agent.get(format!("{}/v1/snapshot", self.base));
        Self::answer(self.signed(get).call())
    }
}

/// Enrol this store with a server using a one-time code.
pub fn enroll(store: &mut Store, server: &str, code: &str) -> Result<Enrolment, SyncError> {
    let http = Http::new(server, "");
    let response: EnrollResponse = Http::answer(
        http.agent
            .post(format!("{}/v1/enroll", http.base))
            .send_json(EnrollRequest {
                code: code.to_string(),
            }),
    )?;
    let e = Enrolment {
        server: http.base.clone(),
        terminal: response.terminal,
        site: response.site,
        token: response.token,
    };
    store.set_enrolment(&e)?;
    Ok(e)
}

/// What the status bar shows about sync.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    pub enrolled: bool,
    pub online: bool,
    pub pending: i64,
    pub rejected: i64,
    /// UTC time of the last successful round, RFC 3339.
    pub last_sync: Option<String>,
    /// Why sync stopped, when it needs a person.
    pub problem: Option<String>,
}

impl Status {
    pub fn read(store: &Store) -> Self {
        Self {
            enrolled: matches!(store.enrolment(), Ok(Some(_))),
            online: false,
            pending: store.pending_count().unwrap_or(0),
            rejected: store.rejected_count().unwrap_or(0),
            last_sync: store.last_sync().ok().flatten(),
            problem: None,
        }
    }
}

/// The sync worker: its own store connection and thread; the TUI never waits on it.
pub struct Worker {
    status: Arc<Mutex<Status>>,
    /// Dropping the worker closes this channel; the thread stops after its round.
    nudge: Sender<()>,
}

/// Events asked for per pull: the server's largest page. (Pushes stay at 500.)
pub const PULL_PAGE: usize = 5000;

/// How often an idle, online terminal syncs.
const INTERVAL: Duration = Duration::from_secs(15);

impl Worker {
    /// Start syncing the store at `path` in the background, if it is enrolled.
    pub fn spawn(path: PathBuf, terminal: String) -> Option<Self> {
        let store = Store::open(&path, &terminal).ok()?;
        let enrolment = store.enrolment().ok().flatten()?;
        let status = Arc::new(Mutex::new(Status::read(&store)));
        let (nudge, wake) = mpsc::channel();
        let shared = Arc::clone(&status);
        std::thread::Builder::new()
            .name("sync".into())
            .spawn(move || work(store, enrolment, &shared, &wake))
            .ok()?;
        Some(Self { status, nudge })
    }

    /// Sync soon: something was just committed.
    pub fn nudge(&self) {
        let _ = self.nudge.send(());
    }

    pub fn status(&self) -> Status {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

fn work(mut store: Store, enrolment: Enrolment, status: &Mutex<Status>, wake: &Receiver<()>) {
    let mut http = Http::new(&enrolment.server, &enrolment.token);
    let mut failures = 0u32;
    let mut seed = u64::from(std::process::id()).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    loop {
        let result = round(&mut store, &mut http);
        let mut next = INTERVAL;
        let mut s = Status::read(&store);
        match result {
            Ok(r) => {
                failures = 0;
                s.online = true;
                tracing::debug!(?r, "sync round");
            }
            Err(SyncError::Transport(TransportError::Offline(why))) => {
                failures += 1;
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                next = plan::backoff(failures, (seed % 1000) as f64 / 1000.0);
                tracing::info!(%why, ?next, "sync offline");
            }
            Err(e) => {
                failures += 1;
                s.problem = Some(e.to_string());
                next = plan::backoff(failures.max(6), 1.0);
                tracing::warn!(error = %e, "sync stopped");
            }
        }
        if let Ok(mut shared) = status.lock() {
            *shared = s;
        }
        match wake.recv_timeout(next) {
            Ok(()) => {
                // Collect a burst of nudges into one round.
                while wake.try_recv().is_ok() {}
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Event;

    /// A server that holds `head` events (every gseq 1..=head) and answers pulls in pages;
    /// a pull after `offline_after` finds it unreachable.
    struct Pages {
        head: i64,
        asked: Vec<i64>,
        offline_after: Option<i64>,
    }

    impl Transport for Pages {
        fn push(&mut self, _: &PushRequest) -> Result<PushResponse, TransportError> {
            Err(TransportError::Offline("pull only".into()))
        }

        fn pull(&mut self, after: i64, limit: usize, _: u64) -> Result<PulledPage, TransportError> {
            self.asked.push(after);
            if self.offline_after.is_some_and(|at| after >= at) {
                return Err(TransportError::Offline("the network is down".into()));
            }
            let end = (after + i64::try_from(limit).unwrap_or(i64::MAX)).min(self.head);
            let events = (after + 1..=end)
                .map(|gseq| Ordered {
                    gseq,
                    event: WireEvent {
                        id: format!("e{gseq}"),
                        terminal: "T9".into(),
                        seq: gseq,
                        user: "1001".into(),
                        at: String::new(),
                        event: Event::LoggedOut {
                            badge: "1001".into(),
                            idle: false,
                        },
                    },
                })
                .map(|o| {
                    o.try_map(Pulled::new)
                        .map_err(|e| TransportError::Offline(e.to_string()))
                })
                .collect::<Result<_, TransportError>>()?;
            Ok(PulledPage {
                events,
                head: self.head,
            })
        }

        fn snapshot(&mut self) -> Result<Snapshot, TransportError> {
            Err(TransportError::Offline("pull only".into()))
        }
    }

    #[test]
    fn a_catch_up_applies_every_page_once_in_order_up_to_the_head()
    -> Result<(), Box<dyn std::error::Error>> {
        let head = i64::try_from(3 * PULL_PAGE + PULL_PAGE / 2)?;
        let mut server = Pages {
            head,
            asked: Vec::new(),
            offline_after: None,
        };
        let mut store = Store::open_in_memory("T1")?;
        let applied = pull_to_head(&mut store, &mut server)?;
        assert_eq!(applied, usize::try_from(head)?);
        assert_eq!(store.journal_len()?, head);
        assert_eq!(store.cursor()?, head);
        // Each page asked after the last one received, none twice.
        let page = i64::try_from(PULL_PAGE)?;
        assert_eq!(server.asked, vec![0, page, 2 * page, 3 * page]);
        // At the head, another catch-up asks once and applies nothing.
        assert_eq!(pull_to_head(&mut store, &mut server)?, 0);
        assert_eq!(server.asked.last(), Some(&head));
        assert_eq!(store.journal_len()?, head);
        Ok(())
    }

    #[test]
    fn a_catch_up_cut_off_keeps_what_it_applied_and_the_next_goes_on_from_there()
    -> Result<(), Box<dyn std::error::Error>> {
        let page = i64::try_from(PULL_PAGE)?;
        let mut server = Pages {
            head: 10 * page,
            asked: Vec::new(),
            offline_after: Some(3 * page),
        };
        let mut store = Store::open_in_memory("T1")?;
        let cut = pull_to_head(&mut store, &mut server);
        assert!(
            matches!(cut, Err(SyncError::Transport(TransportError::Offline(_)))),
            "{cut:?}"
        );
        assert_eq!(store.cursor()?, 3 * page);
        assert_eq!(store.journal_len()?, 3 * page);
        server.offline_after = None;
        assert_eq!(
            pull_to_head(&mut store, &mut server)?,
            usize::try_from(7 * page)?
        );
        assert_eq!(store.cursor()?, 10 * page);
        assert_eq!(store.journal_len()?, 10 * page);
        Ok(())
    }
}
