//! The sync server over real HTTP: started in-process on 127.0.0.1:0 over a temporary
//! store, spoken to with a plain blocking client.

mod common;

use chrono::{Duration as Days, Utc};
use common::{ensure, free_address};
use floorhand::domain::{Event, MoveReason};
use floorhand::import;
use floorhand::server::{self, AppState, LocalServer, admin};
use floorhand::store::{StockFilter, Store};
use floorhand::sync::wire::{
    Availability, EnrollResponse, ErrorBody, MAX_BATCH, PENDING_HEADER, PullResponse, PushRequest,
    PushResponse, PushResult, Snapshot, SnapshotBalance, WireEvent,
};
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The server in process over a temporary store, and a client for it.
struct Server {
    /// Declared before `_dir`, so that dropping stops the server before its store goes.
    local: LocalServer,
    path: PathBuf,
    agent: ureq::Agent,
    _dir: tempfile::TempDir,
}

/// An HTTP answer: status, content type, body.
struct Answer {
    status: u16,
    content_type: String,
    body: String,
}

impl Answer {
    fn json<T: serde::de::DeserializeOwned>(&self) -> TestResult<T> {
        serde_json::from_str(&self.body)
            .map_err(|e| format!("{e} in HTTP {} answer {}", self.status, self.body).into())
    }

    fn error(&self) -> TestResult<ErrorBody> {
        self.json()
    }
}

fn start(setup: impl FnOnce(&mut Store) -> TestResult) -> TestResult<Server> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("server.db");
    let mut store = admin::open_store(&path)?;
    setup(&mut store)?;
    let local = LocalServer::start(AppState::new(store))?;
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(40)))
            .build(),
    );
    Ok(Server {
        local,
        path,
        agent,
        _dir: dir,
    })
}

/// The demo warehouse with its customer orders and RMAs.
fn demo_server() -> TestResult<Server> {
    start(|store| Ok(admin::load_demo(store)?))
}

impl Server {
    fn answer(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> TestResult<Answer> {
        let mut response = result?;
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        Ok(Answer {
            status: response.status().as_u16(),
            content_type,
            body: response.body_mut().read_to_string()?,
        })
    }

    fn get(&self, path: &str, token: Option<&str>) -> TestResult<Answer> {
        let mut req = self.agent.get(format!("{}{path}", self.local.url()));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        Self::answer(req.call())
    }

    fn post_raw(&self, path: &str, token: Option<&str>, body: &[u8]) -> TestResult<Answer> {
        let mut req = self
            .agent
            .post(format!("{}{path}", self.local.url()))
            .content_type("application/json");
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        Self::answer(req.send(body))
    }

    fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: &impl serde::Serialize,
    ) -> TestResult<Answer> {
        self.post_raw(path, token, &serde_json::to_vec(body)?)
    }

    fn push(&self, token: &str, events: &[WireEvent]) -> TestResult<Answer> {
        self.post(
            "/v1/push",
            Some(token),
            &PushRequest {
                events: events.to_vec(),
            },
        )
    }

    fn head(&self) -> TestResult<i64> {
        let a = self.get("/v1/health", None)?;
        assert_eq!(a.status, 200, "{}", a.body);
        let v: serde_json::Value = a.json()?;
        assert_eq!(v["status"], "ok");
        v["head"].as_i64().ok_or_else(|| "no head".into())
    }

    /// A second connection to the server's store, as `floorhand server ...` would open.
    fn admin(&self) -> TestResult<Store> {
        Ok(admin::open_store(&self.path)?)
    }

    fn code(&self, terminal: &str) -> TestResult<String> {
        Ok(admin::enroll(&mut self.admin()?, terminal, "WH1", Utc::now())?.code)
    }

    fn enroll(&self, terminal: &str) -> TestResult<String> {
        let a = self.post("/v1/enroll", None, &json!({ "code": self.code(terminal)? }))?;
        assert_eq!(a.status, 200, "{}", a.body);
        let r: EnrollResponse = a.json()?;
        assert_eq!((r.terminal.as_str(), r.site.as_str()), (terminal, "WH1"));
        Ok(r.token)
    }

    /// The pull cursor the server has recorded for `terminal`.
    fn cursor(&self, terminal: &str) -> TestResult<i64> {
        let report = self.admin()?.terminals_report()?;
        Ok(report
            .iter()
            .find(|t| t.terminal == terminal)
            .map_or(0, |t| t.cursor))
    }

    fn shutdown(mut self) -> TestResult {
        self.stop()
    }

    /// Stop the server and wait for it; its store stays until `self` is dropped.
    fn stop(&mut self) -> TestResult {
        Ok(self.local.stop()?)
    }
}

fn wire(terminal: &str, seq: i64, user: &str, event: Event) -> WireEvent {
    WireEvent {
        id: uuid::Uuid::now_v7().to_string(),
        terminal: terminal.into(),
        seq,
        user: user.into(),
        at: Utc::now().to_rfc3339(),
        event,
    }
}

fn received(sku: &str, to: &str, qty: i64) -> Event {
    Event::StockMoved {
        sku: sku.into(),
        lot: String::new(),
        from: "SUPPLIER".into(),
        to: to.into(),
        qty,
        reason: MoveReason::Receipt,
        receipt: None,
        order: None,
    }
}

fn login(badge: &str) -> Event {
    Event::LoginSucceeded {
        badge: badge.into(),
    }
}

/// Poll `f` until it is true or `within` has passed.
fn eventually(within: Duration, mut f: impl FnMut() -> TestResult<bool>) -> TestResult {
    let deadline = Instant::now() + within;
    loop {
        if f()? {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("condition not met in time".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn health_and_enrolment_codes_work_once() -> TestResult {
    let server = demo_server()?;
    let head = server.head()?;
    assert!(head > 0);

    let code = server.code("T01")?;
    let first = server.post("/v1/enroll", None, &json!({ "code": code }))?;
    assert_eq!(first.status, 200, "{}", first.body);
    let r: EnrollResponse = first.json()?;
    assert_eq!((r.terminal.as_str(), r.site.as_str()), ("T01", "WH1"));
    assert!(r.token.len() >= 32);
    // The enrolment is an event of the server's.
    assert_eq!(server.head()?, head + 1);

    let again = server.post("/v1/enroll", None, &json!({ "code": code }))?;
    assert_eq!(again.status, 400);
    assert!(
        again.error()?.error.contains("used already"),
        "{}",
        again.body
    );

    let unknown = server.post("/v1/enroll", None, &json!({ "code": "0000000000AB" }))?;
    assert_eq!(unknown.status, 400);
    assert!(unknown.error()?.error.contains("unknown enrolment code"));

    let old = server
        .admin()?
        .create_enrolment("T02", "WH1", Utc::now() - Days::hours(25))?;
    let expired = server.post("/v1/enroll", None, &json!({ "code": old }))?;
    assert_eq!(expired.status, 400);
    assert!(expired.error()?.error.contains("expired"));
    assert_eq!(server.head()?, head + 1);

    let snapshot = server.get("/v1/snapshot", Some(&r.token))?;
    assert_eq!(snapshot.status, 200, "{}", snapshot.body);
    server.shutdown()
}

#[test]
fn missing_wrong_and_revoked_tokens_are_refused() -> TestResult {
    let server = demo_server()?;
    let token = server.enroll("T01")?;
    let push = json!({ "events": [] });
    for (name, answer) in [
        ("missing", server.post("/v1/push", None, &push)?),
        (
            "wrong",
            server.post("/v1/push", Some("not-a-token"), &push)?,
        ),
        ("missing on pull", server.get("/v1/pull?after=0", None)?),
        ("wrong on snapshot", server.get("/v1/snapshot", Some("x"))?),
    ] {
        assert_eq!(answer.status, 401, "{name}: {}", answer.body);
        assert!(!answer.error()?.error.is_empty());
    }
    let basic = server
        .agent
        .get(format!("{}/v1/pull", server.local.url()))
        .header("Authorization", format!("Basic {token}"))
        .call()?;
    assert_eq!(basic.status().as_u16(), 401);

    assert_eq!(server.post("/v1/push", Some(&token), &push)?.status, 200);
    admin::revoke(&mut server.admin()?, "T01")?;
    let revoked = server.post("/v1/push", Some(&token), &push)?;
    assert_eq!(revoked.status, 401);
    assert!(revoked.error()?.error.contains("revoked"));
    server.shutdown()
}

#[test]
fn pushes_are_ordered_checked_and_idempotent() -> TestResult {
    let server = demo_server()?;
    let token = server.enroll("T01")?;
    let head = server.head()?;
    let batch = vec![
        wire("T01", 1, "1001", login("1001")),
        wire("T01", 2, "1001", received("SKU-10001", "DOCK-01", 12)),
        // A picker may not receive: rejected, and the events after it still count.
        wire("T01", 3, "1003", received("SKU-10001", "DOCK-01", 5)),
        wire("T01", 4, "1001", received("SKU-10002", "DOCK-01", 6)),
        wire("T01", 5, "1001", received("SKU-10001", "NO-SUCH-BIN", 1)),
    ];
    let a = server.push(&token, &batch)?;
    assert_eq!(a.status, 200, "{}", a.body);
    let results = a.json::<PushResponse>()?.results;
    assert_eq!(results.len(), 5);
    let mut gseqs = Vec::new();
    for (r, e) in results.iter().zip(&batch) {
        assert_eq!(r.seq(), e.seq);
        match r {
            PushResult::Accepted { id, gseq, .. } => {
                assert_eq!(id, &e.id);
                gseqs.push(*gseq);
            }
            PushResult::Rejected { id, reason, .. } => {
                assert_eq!(id, &e.id);
                assert!(matches!(e.seq, 3 | 5), "seq {} rejected: {reason}", e.seq);
            }
        }
    }
    // Accepted events get the next global numbers, gapless and in order.
    assert_eq!(gseqs, vec![head + 1, head + 2, head + 3]);
    assert!(
        matches!(&results[2], PushResult::Rejected { reason, .. } if reason.contains("may not record a receipt movement"))
    );
    assert!(
        matches!(&results[4], PushResult::Rejected { reason, .. } if reason.contains("NO-SUCH-BIN"))
    );
    let head = server.head()?;
    assert_eq!(head, gseqs[2]);
    let balance = server.admin()?.balance("DOCK-01", "SKU-10001", "")?;
    assert_eq!(balance, 12);

    // The same events again: the same answers, nothing written.
    let again = server.push(&token, &batch)?;
    assert_eq!(again.status, 200);
    assert_eq!(again.json::<PushResponse>()?.results, results);
    assert_eq!(server.head()?, head);

    // Another event at a used seq: the whole batch is refused.
    let clone = vec![wire("T01", 2, "1001", login("1001"))];
    let c = server.push(&token, &clone)?;
    assert_eq!(c.status, 409, "{}", c.body);
    let e = c.error()?;
    assert_eq!(e.expected_seq, Some(6));
    assert!(e.error.contains("enrolled again"), "{}", e.error);

    // A gap: refused with the seq expected next, and nothing of the batch is written.
    let gap = vec![
        wire("T01", 6, "1001", login("1001")),
        wire("T01", 8, "1001", login("1001")),
    ];
    let g = server.push(&token, &gap)?;
    assert_eq!(g.status, 409);
    let e = g.error()?;
    assert_eq!(e.expected_seq, Some(7));
    assert!(e.error.contains("gap"), "{}", e.error);

    // Someone else's events.
    let other = vec![wire("T09", 6, "1001", login("1001"))];
    assert_eq!(server.push(&token, &other)?.status, 409);

    // Too many events for one push.
    let many: Vec<WireEvent> = (0..=MAX_BATCH as i64)
        .map(|i| wire("T01", 6 + i, "1001", login("1001")))
        .collect();
    let m = server.push(&token, &many)?;
    assert_eq!(m.status, 413);
    assert!(m.error()?.error.contains("at most 500"));

    assert_eq!(server.head()?, head);
    // The refused pushes left the sequence where it was.
    let next = server.push(&token, &[wire("T01", 6, "1001", login("1001"))])?;
    assert_eq!(next.status, 200);
    assert!(matches!(
        next.json::<PushResponse>()?.results.as_slice(),
        [PushResult::Accepted { gseq, .. }] if *gseq == head + 1
    ));
    server.shutdown()
}

/// A terminal keeps two pushes in flight, and the later one can reach the server
/// first: it waits for its predecessor instead of being refused for the gap, and both
/// are answered as if they had come in order. Also for a terminal's first pushes since
/// the server started, when the server has not seen where it stands yet.
#[test]
fn a_push_that_overtakes_its_predecessor_waits_for_it() -> TestResult {
    let server = demo_server()?;
    // T02's first two pushes race; T01 races after a push the server has answered.
    let t2 = server.enroll("T02")?;
    overtaken(&server, &t2, "T02", 1)?;
    let t1 = server.enroll("T01")?;
    let first = server.push(&t1, &[wire("T01", 1, "1001", login("1001"))])?;
    assert_eq!(first.status, 200, "{}", first.body);
    overtaken(&server, &t1, "T01", 2)?;
    server.shutdown()
}

/// Send `terminal`'s next two pushes (from `seq`) the later one first, the earlier one
/// once the later waits at the server; both must be accepted in order.
fn overtaken(server: &Server, token: &str, terminal: &str, seq: i64) -> TestResult {
    let head = server.head()?;
    let before = server.admin()?.balance("DOCK-01", "SKU-10001", "")?;
    let earlier = vec![
        wire(terminal, seq, "1001", received("SKU-10001", "DOCK-01", 2)),
        wire(
            terminal,
            seq + 1,
            "1001",
            received("SKU-10002", "DOCK-01", 3),
        ),
    ];
    let later = vec![
        wire(
            terminal,
            seq + 2,
            "1001",
            received("SKU-10001", "DOCK-01", 4),
        ),
        wire(terminal, seq + 3, "1001", login("1001")),
    ];
    let waiting = |server: &Server| -> TestResult<bool> {
        let m = server.get("/metrics", None)?;
        Ok(m.body
            .lines()
            .any(|l| l == "floorhand_pushes_waiting_for_predecessor 1"))
    };
    let (later_answer, earlier_answer) = std::thread::scope(|s| -> TestResult<_> {
        let later_push = s.spawn(|| server.push(token, &later));
        // The earlier push leaves only once the later one waits at the server.
        eventually(Duration::from_secs(10), || waiting(server))?;
        let earlier_answer = server.push(token, &earlier)?;
        let later_answer = later_push.join().map_err(|_| "the later push panicked")??;
        Ok((later_answer, earlier_answer))
    })?;
    assert_eq!(earlier_answer.status, 200, "{}", earlier_answer.body);
    assert_eq!(later_answer.status, 200, "{}", later_answer.body);
    let gseqs = |a: &Answer| -> TestResult<Vec<(i64, i64)>> {
        Ok(a.json::<PushResponse>()?
            .results
            .iter()
            .map(|r| match r {
                PushResult::Accepted { seq, gseq, .. } => (*seq, *gseq),
                PushResult::Rejected { seq, .. } => (*seq, -1),
            })
            .collect())
    };
    assert_eq!(
        gseqs(&earlier_answer)?,
        vec![(seq, head + 1), (seq + 1, head + 2)]
    );
    assert_eq!(
        gseqs(&later_answer)?,
        vec![(seq + 2, head + 3), (seq + 3, head + 4)]
    );
    assert!(!waiting(server)?, "a push is still counted as waiting");
    assert_eq!(
        server.admin()?.balance("DOCK-01", "SKU-10001", "")?,
        before + 6
    );
    Ok(())
}

#[test]
fn bad_input_is_refused_with_a_reason_and_writes_nothing() -> TestResult {
    let server = demo_server()?;
    let token = server.enroll("T01")?;
    let head = server.head()?;

    let malformed = server.post_raw("/v1/push", Some(&token), b"{\"events\": [")?;
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    assert!(malformed.content_type.starts_with("application/json"));
    assert!(malformed.error()?.error.contains("JSON"));

    let mut event = serde_json::to_value(wire("T01", 1, "1001", login("1001")))?;
    event["event"] = json!({ "kind": "teleported", "sku": "SKU-10001" });
    let unknown = server.post("/v1/push", Some(&token), &json!({ "events": [event] }))?;
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    let why = unknown.error()?.error;
    assert!(
        why.contains("teleported") && why.contains("events[0]"),
        "{why}"
    );

    let missing = server.post("/v1/push", Some(&token), &json!({ "evnts": [] }))?;
    assert_eq!(missing.status, 422);
    assert!(missing.error()?.error.contains("events"));

    let huge = format!(
        "{{\"events\": [], \"padding\": \"{}\"}}",
        "x".repeat(server::BODY_LIMIT + 1)
    );
    let big = server.post_raw("/v1/push", Some(&token), huge.as_bytes())?;
    assert_eq!(big.status, 413, "{}", big.body);
    assert!(!big.error()?.error.is_empty());

    let text = server
        .agent
        .post(format!("{}/v1/push", server.local.url()))
        .header("Authorization", format!("Bearer {token}"))
        .content_type("text/plain")
        .send("{}")?;
    assert_eq!(text.status().as_u16(), 415);

    let query = server.get("/v1/pull?after=yesterday", Some(&token))?;
    assert_eq!(query.status, 400);
    assert!(query.error()?.error.contains("after"), "{}", query.body);

    let nowhere = server.get("/v1/nothing", None)?;
    assert_eq!(nowhere.status, 404);
    assert!(nowhere.error()?.error.contains("/v1/nothing"));
    let wrong_method = server.get("/v1/push", Some(&token))?;
    assert_eq!(wrong_method.status, 405);
    assert!(!wrong_method.error()?.error.is_empty());

    assert_eq!(server.head()?, head);
    let mut server = server;
    server.stop()?;
    let store = Store::open(&server.path, "server")?;
    assert_eq!(store.journal_len()?, head);
    Ok(())
}

#[test]
fn pull_after_a_cursor_with_a_limit() -> TestResult {
    let server = demo_server()?;
    let t1 = server.enroll("T01")?;
    let t2 = server.enroll("T02")?;
    let start = server.head()?;
    let batch: Vec<WireEvent> = (1..=3)
        .map(|seq| wire("T01", seq, "1001", received("SKU-10001", "DOCK-01", seq)))
        .collect();
    assert_eq!(server.push(&t1, &batch)?.status, 200);
    let head = server.head()?;
    assert_eq!(head, start + 3);

    let a = server.get(&format!("/v1/pull?after={start}&limit=2"), Some(&t2))?;
    assert_eq!(a.status, 200, "{}", a.body);
    let page: PullResponse = a.json()?;
    assert_eq!(page.head, head);
    let gseqs: Vec<i64> = page.events.iter().map(|o| o.gseq).collect();
    assert_eq!(gseqs, vec![start + 1, start + 2]);
    assert_eq!(page.events[0].event, batch[0]);
    assert_eq!(page.events[1].event.id, batch[1].id);

    let rest: PullResponse = server
        .get(&format!("/v1/pull?after={}", start + 2), Some(&t2))?
        .json()?;
    assert_eq!(rest.events.len(), 1);
    assert_eq!(rest.events[0].event.id, batch[2].id);
    assert_eq!(server.cursor("T02")?, start + 2);

    // From the start: the server's own events (reference data, enrolments) come too,
    // in order.
    let all: PullResponse = server
        .get("/v1/pull?after=0&limit=5000", Some(&t2))?
        .json()?;
    assert_eq!(all.events.len() as i64, head);
    assert!(all.events.windows(2).all(|w| w[0].gseq < w[1].gseq));
    assert!(all.events.iter().any(|o| o.event.terminal == "server"));

    let caught_up: PullResponse = server
        .get(&format!("/v1/pull?after={head}&wait=0"), Some(&t2))?
        .json()?;
    assert!(caught_up.events.is_empty());
    assert_eq!(caught_up.head, head);
    server.shutdown()
}

#[test]
fn a_long_poll_answers_as_soon_as_another_terminal_pushes() -> TestResult {
    let server = demo_server()?;
    let t1 = server.enroll("T01")?;
    let t2 = server.enroll("T02")?;
    let head = server.head()?;

    // Nothing new: a short wait runs to its end and answers empty.
    let started = Instant::now();
    let empty: PullResponse = server
        .get(&format!("/v1/pull?after={head}&wait=1"), Some(&t1))?
        .json()?;
    assert!(empty.events.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(900));

    // T02 has not pulled yet (checked before its pull starts: once started, the pull
    // may record its cursor at any moment).
    assert_eq!(server.cursor("T02")?, 0);
    let url = format!("{}/v1/pull?after={head}&wait=5", server.local.url());
    let agent = server.agent.clone();
    let token = t2.clone();
    let waiting = std::thread::spawn(move || -> TestResult<(PullResponse, Duration)> {
        let started = Instant::now();
        let mut r = agent
            .get(url)
            .header("Authorization", format!("Bearer {token}"))
            .call()?;
        let pulled: PullResponse = r.body_mut().read_json()?;
        Ok((pulled, started.elapsed()))
    });
    // The pull records T02's cursor before it waits; then another terminal pushes.
    eventually(Duration::from_secs(5), || Ok(server.cursor("T02")? == head))?;
    let event = wire("T01", 1, "1001", received("SKU-10001", "DOCK-01", 2));
    assert_eq!(server.push(&t1, std::slice::from_ref(&event))?.status, 200);
    let (pulled, took) = waiting
        .join()
        .map_err(|_| "the pulling thread panicked")??;
    assert_eq!(pulled.events.len(), 1);
    assert_eq!(pulled.events[0].event.id, event.id);
    assert!(took < Duration::from_secs(3), "the pull took {took:?}");
    server.shutdown()
}

#[test]
fn shutting_down_ends_long_polls() -> TestResult {
    let server = demo_server()?;
    let token = server.enroll("T01")?;
    let head = server.head()?;
    let url = format!("{}/v1/pull?after={head}&wait=30", server.local.url());
    let agent = server.agent.clone();
    let waiting = std::thread::spawn(move || -> TestResult<Duration> {
        let started = Instant::now();
        // Answered empty, or the connection closed: either way, promptly.
        let _ = agent
            .get(url)
            .header("Authorization", format!("Bearer {token}"))
            .call();
        Ok(started.elapsed())
    });
    eventually(Duration::from_secs(5), || Ok(server.cursor("T01")? == head))?;
    let started = Instant::now();
    server.shutdown()?;
    assert!(started.elapsed() < Duration::from_secs(5));
    let took = waiting
        .join()
        .map_err(|_| "the pulling thread panicked")??;
    assert!(took < Duration::from_secs(10), "the pull took {took:?}");
    Ok(())
}

#[test]
fn snapshot_holds_the_sites_locations_and_balances() -> TestResult {
    let server = demo_server()?;
    let token = server.enroll("T01")?;
    let a = server.get("/v1/snapshot", Some(&token))?;
    assert_eq!(a.status, 200, "{}", a.body);
    let snap: Snapshot = a.json()?;
    assert_eq!(snap.site, "WH1");
    assert_eq!(snap.gseq, server.head()?);
    assert!(snap.reference.iter().any(|e| matches!(
        e,
        Event::LocationDefined { location } if location.code == "PF-A-01" && location.site == "WH1"
    )));
    assert!(
        snap.reference
            .iter()
            .any(|e| matches!(e, Event::ItemDefined { item } if item.sku == "SKU-10001"))
    );
    assert!(snap.balances.contains(&SnapshotBalance {
        location: "PF-A-01".into(),
        sku: "SKU-10001".into(),
        lot: String::new(),
        qty: 108,
    }));
    server.shutdown()
}

#[test]
fn availability_is_sellable_stock_minus_open_order_lines() -> TestResult {
    let server = demo_server()?;
    // Open to a shop without a token.
    let a = server.get("/v1/availability?site=WH1", None)?;
    assert_eq!(a.status, 200, "{}", a.body);
    let rows: Vec<serde_json::Value> = a.json()?;
    for row in &rows {
        let mut keys: Vec<&str> = row
            .as_object()
            .ok_or("not an object")?
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["available", "reserved", "sellable", "site", "sku"],
            "{row}"
        );
    }
    let rows: Vec<Availability> = a.json()?;
    let water = rows
        .iter()
        .find(|r| r.sku == "SKU-10001")
        .ok_or("no SKU-10001")?;
    let sellable: i64 = server
        .admin()?
        .stock(&StockFilter {
            sku: Some("SKU-10001".into()),
            ..StockFilter::default()
        })?
        .iter()
        .filter(|r| r.available)
        .map(|r| r.qty)
        .sum();
    let reserved: i64 = import::orders(floorhand::demo::ORDERS_CSV.as_bytes())?
        .iter()
        .flat_map(|o| &o.lines)
        .filter(|l| l.sku == "SKU-10001")
        .map(|l| l.qty)
        .sum();
    assert_eq!(
        (water.site.as_str(), water.sellable, water.reserved),
        ("WH1", sellable, reserved)
    );
    assert_eq!(water.available, sellable - reserved);
    assert!(reserved > 0 && sellable > reserved);
    // An item ordered beyond its stock is available at zero, never below.
    assert!(
        rows.iter()
            .all(|r| r.available == (r.sellable - r.reserved).max(0))
    );

    let none: Vec<Availability> = server.get("/v1/availability?site=WH9", None)?.json()?;
    assert!(none.is_empty());
    let all: Vec<Availability> = server.get("/v1/availability", None)?.json()?;
    assert_eq!(all, rows);
    server.shutdown()
}

#[test]
fn metrics_count_events_pushes_and_terminals() -> TestResult {
    let server = demo_server()?;
    let t1 = server.enroll("T01")?;
    let t2 = server.enroll("T02")?;
    let batch = vec![
        wire("T01", 1, "1001", login("1001")),
        wire("T01", 2, "1003", received("SKU-10001", "DOCK-01", 1)),
        wire("T01", 3, "1001", received("SKU-10001", "DOCK-01", 1)),
    ];
    assert_eq!(server.push(&t1, &batch)?.status, 200);
    assert_eq!(
        server
            .push(&t1, &[wire("T01", 9, "1001", login("1001"))])?
            .status,
        409
    );
    assert_eq!(
        server.get("/v1/pull?after=0&limit=1", Some(&t2))?.status,
        200
    );
    assert_eq!(server.get("/v1/pull", Some(&t2))?.status, 200);

    let m = server.get("/v1/metrics", None)?;
    assert_eq!(m.status, 200);
    let default_path = server.get("/metrics", None)?;
    assert_eq!((default_path.status, &default_path.body), (200, &m.body));
    assert!(
        m.content_type.starts_with("text/plain; version=0.0.4"),
        "{}",
        m.content_type
    );
    for line in [
        "# TYPE floorhand_events_accepted_total counter",
        "floorhand_events_accepted_total 2",
        "floorhand_events_rejected_total 1",
        "floorhand_push_conflicts_total 1",
        "# TYPE floorhand_push_seconds histogram",
        "floorhand_push_seconds_bucket{le=\"+Inf\"} 2",
        "floorhand_push_seconds_count 2",
        "# TYPE floorhand_terminals_seen gauge",
        "floorhand_terminals_seen 2",
    ] {
        assert!(
            m.body.lines().any(|l| l == line),
            "{line} missing in\n{}",
            m.body
        );
    }
    assert!(
        m.body
            .lines()
            .any(|l| l.starts_with("floorhand_push_seconds_sum "))
    );
    server.shutdown()
}

/// `floorhand serve` and `floorhand server ...`, run as an administrator would.
struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn run(&self, args: &[&str]) -> TestResult<(bool, String, String)> {
        let out = self.command(args).output()?;
        Ok((
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }

    fn command(&self, args: &[&str]) -> std::process::Command {
        common::floorhand(self.dir.path(), args)
    }
}

#[test]
fn the_server_commands_administer_the_servers_store() -> TestResult {
    let cli = Cli {
        dir: tempfile::tempdir()?,
    };
    // The terminal's --db is not the server's store: server.db in the data directory is.
    let terminal_db = cli.dir.path().join("terminal.db");
    let db = terminal_db.to_string_lossy().into_owned();
    let (ok, out, err) = cli.run(&["--db", &db, "server", "init", "--demo"])?;
    assert!(ok, "{err}");
    assert!(out.contains("server.db") && out.contains("1001"), "{out}");
    assert!(!terminal_db.exists());
    let store_path = out
        .lines()
        .find_map(|l| l.strip_prefix("Server store ready at "))
        .and_then(|l| l.split(" (").next())
        .map(PathBuf::from)
        .ok_or("no store path printed")?;
    let head = || -> TestResult<i64> { Ok(Store::open(&store_path, "server")?.journal_len()?) };
    let start = head()?;

    let (ok, out, err) = cli.run(&["server", "enroll", "T01", "--site", "WH1"])?;
    assert!(ok, "{err}");
    let code = out.lines().nth(2).map(str::trim).ok_or("no code")?;
    assert_eq!(code.len(), 12, "{out}");
    assert!(out.contains("Valid once, until"));
    let (ok, _, err) = cli.run(&["server", "enroll", "T02", "--site", "XX"])?;
    assert!(!ok);
    assert!(err.contains("site XX has no locations"), "{err}");

    let user = [
        "server",
        "users",
        "add",
        "2001",
        "--name",
        "Ann Lee",
        "--roles",
        "picker,counter",
        "--pin",
        "2468",
    ];
    assert!(cli.run(&user)?.0);
    let (ok, out, _) = cli.run(&["server", "users", "disable", "2001"])?;
    assert!(ok && out.contains("2001 disabled"), "{out}");
    let (_, out, _) = cli.run(&["server", "users", "list", "--json"])?;
    let users: serde_json::Value = serde_json::from_str(&out)?;
    let ann = users
        .as_array()
        .and_then(|a| a.iter().find(|u| u["badge"] == "2001"))
        .ok_or("no user 2001")?;
    assert_eq!(ann["disabled"], true);
    assert_eq!(ann["roles"], json!(["picker", "counter"]));

    let before = head()?;
    let bad = cli.dir.path().join("orders.csv");
    std::fs::write(
        &bad,
        "order,customer,site,due_date,line,sku,qty\nSO-1,Shop,WH1,,1,SKU-10001,2\nSO-1,Shop,WH1,,2,SKU-10002,none\n",
    )?;
    let (ok, _, err) = cli.run(&["server", "import", "orders", &bad.to_string_lossy()])?;
    assert!(!ok);
    assert!(
        err.contains("line 3, field qty") && err.contains("Nothing was imported"),
        "{err}"
    );
    assert_eq!(head()?, before);
    std::fs::write(
        &bad,
        "order,customer,site,due_date,line,sku,qty\nSO-1,Shop,WH1,,1,SKU-10001,2\n",
    )?;
    let (ok, out, _) = cli.run(&["server", "import", "orders", &bad.to_string_lossy()])?;
    assert!(ok && out.contains("imported 1 customer orders"), "{out}");

    let (ok, out, _) = cli.run(&["server", "availability", "--site", "WH1", "--json"])?;
    assert!(ok);
    let rows: Vec<Availability> = serde_json::from_str(&out)?;
    assert!(rows.iter().any(|r| r.sku == "SKU-10001" && r.reserved > 0));
    let (ok, out, _) = cli.run(&["server", "terminals"])?;
    assert!(ok && out.contains("no terminals enrolled"), "{out}");
    let (ok, out, _) = cli.run(&["server", "exceptions", "--all"])?;
    assert!(ok && out.contains("no exceptions"), "{out}");
    let (ok, _, err) = cli.run(&["server", "revoke", "T99"])?;
    assert!(!ok && err.contains("not found: terminal T99"), "{err}");
    assert!(head()? > start);

    // A terminal's store is never served.
    let mut terminal = Store::open(&terminal_db, "T01")?;
    floorhand::demo::load(&mut terminal)?;
    drop(terminal);
    let (ok, _, err) = cli.run(&["serve", "--store", &db, "--listen", "127.0.0.1:0"])?;
    assert!(!ok);
    assert!(err.contains("not a server's store"), "{err}");

    // `serve` serves the server's store.
    let listen = free_address()?;
    let child = cli
        .command(&["serve", "--listen", &listen])
        .stderr(std::process::Stdio::null())
        .spawn()?;
    serves(child, &listen, |_| true)
}

/// Whether the `floorhand serve` in `child` comes to answer `/v1/health` on `listen`
/// with 200 and a body that `healthy` accepts, within 20 s; it is stopped either way.
fn serves(
    mut child: std::process::Child,
    listen: &str,
    healthy: impl Fn(&serde_json::Value) -> bool,
) -> TestResult {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(2)))
            .build(),
    );
    let served = eventually(Duration::from_secs(20), || {
        let Ok(mut r) = agent.get(format!("http://{listen}/v1/health")).call() else {
            return Ok(false);
        };
        let body: serde_json::Value = serde_json::from_str(&r.body_mut().read_to_string()?)?;
        Ok(r.status().as_u16() == 200 && healthy(&body))
    });
    child.kill()?;
    child.wait()?;
    served
}

/// Many terminals pushing at once (their pushes committed together when they queue up):
/// each terminal's events are all accepted, once, in its order; the global sequence is
/// gapless over all of them; and a terminal that skips a number is refused alone.
#[test]
fn terminals_pushing_at_once_are_each_answered_in_order() -> TestResult {
    const TERMINALS: usize = 12;
    const BATCHES: i64 = 15;
    const PER: i64 = 4;
    let server = demo_server()?;
    let tokens: Vec<(String, String)> = (1..=TERMINALS)
        .map(|k| {
            let name = format!("P{k:02}");
            server.enroll(&name).map(|t| (name, t))
        })
        .collect::<TestResult<_>>()?;
    let head = server.head()?;
    let barrier = std::sync::Barrier::new(TERMINALS + 1);
    let gseqs = std::thread::scope(|s| -> TestResult<Vec<i64>> {
        let handles: Vec<_> = tokens
            .iter()
            .map(|(name, token)| {
                let (server, barrier) = (&server, &barrier);
                s.spawn(move || -> Result<Vec<i64>, String> {
                    barrier.wait();
                    let mut mine = Vec::new();
                    for b in 0..BATCHES {
                        let batch: Vec<WireEvent> = (1..=PER)
                            .map(|i| {
                                let seq = b * PER + i;
                                wire(name, seq, "1001", received("SKU-10001", "DOCK-01", seq))
                            })
                            .collect();
                        let a = server.push(token, &batch).map_err(|e| e.to_string())?;
                        if a.status != 200 {
                            return Err(format!("{name}: HTTP {} {}", a.status, a.body));
                        }
                        let results = a.json::<PushResponse>().map_err(|e| e.to_string())?.results;
                        for (r, e) in results.iter().zip(&batch) {
                            match r {
                                PushResult::Accepted { seq, id, gseq }
                                    if *seq == e.seq && *id == e.id =>
                                {
                                    mine.push(*gseq)
                                }
                                other => {
                                    return Err(format!("{name}: {other:?} for seq {}", e.seq));
                                }
                            }
                        }
                    }
                    // A gap now is refused, alone.
                    let skip = wire(name, BATCHES * PER + 2, "1001", login("1001"));
                    let a = server.push(token, &[skip]).map_err(|e| e.to_string())?;
                    if a.status != 409 {
                        return Err(format!("{name}: a gap answered {} {}", a.status, a.body));
                    }
                    Ok(mine)
                })
            })
            .collect();
        barrier.wait();
        let mut all = Vec::new();
        for h in handles {
            let mine = h.join().map_err(|_| "a pushing thread panicked")??;
            ensure!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "a terminal's events were not sequenced in its order: {mine:?}"
            );
            all.extend(mine);
        }
        Ok(all)
    })?;
    let mut sorted = gseqs.clone();
    sorted.sort_unstable();
    let expected: Vec<i64> = (head + 1..=head + (TERMINALS as i64) * BATCHES * PER).collect();
    ensure!(
        sorted == expected,
        "global sequence numbers are not gapless from {head}"
    );
    ensure!(
        server.head()? == head + (TERMINALS as i64) * BATCHES * PER,
        "extra events in the journal"
    );
    let report = server.admin()?.check()?;
    ensure!(report.ok, "check after the pushes: {report:?}");
    Ok(())
}

/// A terminal says with its pushes and pulls how many events it has waiting to push
/// (the `floorhand-pending` header); `server terminals` shows the last number it gave.
#[test]
fn server_terminals_shows_what_each_terminal_has_waiting() -> TestResult {
    let server = demo_server()?;
    let token = server.enroll("T01")?;
    let told = |s: &Server| -> TestResult<Option<i64>> {
        Ok(s.admin()?
            .terminals_report()?
            .into_iter()
            .find(|t| t.terminal == "T01")
            .and_then(|t| t.pending))
    };
    assert_eq!(told(&server)?, None, "nothing said yet");
    let url = server.local.url();
    let auth = format!("Bearer {token}");

    let pushed = server
        .agent
        .post(format!("{url}/v1/push"))
        .header("Authorization", &auth)
        .header(PENDING_HEADER, "1200")
        .send_json(PushRequest {
            events: vec![wire("T01", 1, "1001", login("1001"))],
        })?;
    assert_eq!(pushed.status().as_u16(), 200);
    assert_eq!(told(&server)?, Some(1200));
    let table = admin::terminals_table(&server.admin()?.terminals_report()?);
    let row = table
        .lines()
        .find(|l| l.starts_with("T01 "))
        .ok_or("no row for T01")?;
    assert!(
        table
            .lines()
            .next()
            .is_some_and(|h| h.contains(" pending "))
            && row.split_whitespace().any(|w| w == "1200"),
        "{table}"
    );

    let pull = |pending: Option<&str>| -> TestResult<u16> {
        let mut get = server
            .agent
            .get(format!("{url}/v1/pull?after=0"))
            .header("Authorization", &auth);
        if let Some(p) = pending {
            get = get.header(PENDING_HEADER, p);
        }
        Ok(get.call()?.status().as_u16())
    };
    // A request that does not say, or says something that is no count, changes nothing.
    assert_eq!(pull(None)?, 200);
    assert_eq!(pull(Some("lots"))?, 200);
    assert_eq!(pull(Some("-3"))?, 200);
    assert_eq!(told(&server)?, Some(1200));
    assert_eq!(pull(Some("0"))?, 200);
    assert_eq!(told(&server)?, Some(0));
    server.shutdown()
}

/// `floorhand serve` and `floorhand server ...` take the listen address and the store
/// from the config's `[server]` table when no flag or variable gives them.
#[test]
fn serve_takes_its_address_and_store_from_the_config() -> TestResult {
    let cli = Cli {
        dir: tempfile::tempdir()?,
    };
    let listen = free_address()?;
    let store = cli.dir.path().join("elsewhere").join("central.db");
    std::fs::create_dir_all(cli.dir.path().join("elsewhere"))?;
    let config = cli.dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"{listen}\"\nstore = {}\n",
            toml_string(&store.to_string_lossy())
        ),
    )?;
    let with_config = |args: &[&str]| {
        let mut c = cli.command(args);
        c.env("FLOORHAND_CONFIG", &config);
        c
    };
    let init = with_config(&["server", "init", "--demo"]).output()?;
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let head = Store::open(&store, "server")?.journal_len()?;
    assert!(head > 0, "server init did not use server.store");

    let child = with_config(&["serve"])
        .stderr(std::process::Stdio::null())
        .spawn()?;
    serves(child, &listen, |body| body["head"].as_i64() == Some(head))
}

/// `text` as a TOML basic string.
fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}
