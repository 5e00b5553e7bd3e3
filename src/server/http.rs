//! The HTTP layer: routes, extractors that answer in [`ErrorBody`] JSON, and handlers.
//! The handlers only translate between HTTP and [`super::Backend`].

use super::{AppState, BODY_LIMIT, BackendError};
use crate::store::TerminalInfo;
use crate::sync::wire::{
    Availability, EnrollRequest, EnrollResponse, ErrorBody, MAX_BATCH, PENDING_HEADER, PushRequest,
    PushResponse, Snapshot, StoredPage,
};
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header, request::Parts};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::time::Duration;
use tokio::time::Instant;

/// Events one pull returns unless it asks for another number.
pub const PULL_DEFAULT_LIMIT: usize = 500;
/// Most events one pull returns.
pub const PULL_MAX_LIMIT: usize = 5000;
/// Longest a pull may wait for new events.
pub const PULL_MAX_WAIT_SECS: u64 = 30;

pub(super) fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/enroll", post(enroll))
        .route("/v1/push", post(push))
        .route("/v1/pull", get(pull))
        .route("/v1/snapshot", get(snapshot))
        .route("/v1/availability", get(availability))
        .route("/v1/health", get(health))
        .route("/v1/metrics", get(metrics))
        // Where Prometheus looks unless told otherwise.
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// A 4xx/5xx answer with an [`ErrorBody`].
#[derive(Debug)]
pub(super) struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    fn new(status: StatusCode, error: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                error: error.into(),
                expected_seq: None,
            },
        }
    }

    fn unauthorized(error: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, error)
    }
}

impl From<BackendError> for ApiError {
    fn from(e: BackendError) -> Self {
        match e {
            BackendError::Conflict {
                expected_seq,
                reason,
            } => Self {
                status: StatusCode::CONFLICT,
                body: ErrorBody {
                    error: reason,
                    expected_seq: Some(expected_seq),
                },
            },
            BackendError::Refused(reason) => Self::new(StatusCode::BAD_REQUEST, reason),
            BackendError::Unavailable(reason) => Self::new(StatusCode::SERVICE_UNAVAILABLE, reason),
            BackendError::Internal(reason) => Self::new(StatusCode::INTERNAL_SERVER_ERROR, reason),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = %self.status, "{}", self.body.error);
        }
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// `axum::Json`, with its rejections (not JSON: 400, wrong shape: 422, too large: 413,
/// wrong content type: 415) answered as [`ErrorBody`] naming what was wrong.
///
/// A good body is decoded by `serde_json` directly; only a bad one goes through
/// `axum::Json`, whose message names the path of the offending field (`events[3].event`)
/// but whose path tracking more than doubled the cost of decoding a push.
pub(super) struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|m| {
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            });
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Expected request with `Content-Type: application/json`",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
        if let Ok(v) = serde_json::from_slice::<T>(&bytes) {
            return Ok(Self(v));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(ApiError::new(rejection.status(), rejection.body_text())),
        }
    }
}

/// `axum::extract::Query`, its rejection answered as [`ErrorBody`] (400).
pub(super) struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Self(v)),
            Err(rejection) => Err(ApiError::new(rejection.status(), rejection.body_text())),
        }
    }
}

/// The terminal named by the request's `Authorization: Bearer <token>`; a missing,
/// unknown or revoked token is answered 401. Its [`PENDING_HEADER`], when there and a
/// number, says how many events it has waiting to push.
pub(super) struct Authed(pub TerminalInfo);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token>"))?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim().to_string())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be Bearer <token>")
            })?;
        let pending = parts
            .headers
            .get(PENDING_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u32>().ok())
            .map(i64::from);
        match state.authenticate(token).await? {
            Some(who) => {
                state.metrics.saw(&who.terminal);
                Ok(Self(TerminalInfo { pending, ..who }))
            }
            None => Err(ApiError::unauthorized(
                "unknown or revoked token: enrol this terminal again",
            )),
        }
    }
}

async fn enroll(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<EnrollRequest>,
) -> Result<axum::Json<EnrollResponse>, ApiError> {
    match state.call(move |b| b.enroll(&req.code, Utc::now())).await {
        Ok((who, token)) => {
            tracing::info!(terminal = %who.terminal, site = %who.site, "terminal enrolled");
            // The enrolment is an event of the server's that terminals pull.
            state.pushed.notify_waiters();
            Ok(axum::Json(EnrollResponse {
                terminal: who.terminal,
                site: who.site,
                token,
            }))
        }
        Err(BackendError::Refused(reason)) => {
            // 400, not 401: a 401 tells a terminal its token is bad; the code is what is.
            tracing::info!("enrolment refused: {reason}");
            Err(ApiError::new(StatusCode::BAD_REQUEST, reason))
        }
        Err(e) => Err(e.into()),
    }
}

async fn push(
    State(state): State<AppState>,
    Authed(who): Authed,
    ApiJson(req): ApiJson<PushRequest>,
) -> Result<axum::Json<PushResponse>, ApiError> {
    let n = req.events.len();
    if n > MAX_BATCH {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "a push carries at most {MAX_BATCH} events and this one has {n}: send them in batches"
            ),
        ));
    }
    let terminal = who.terminal.clone();
    let started = Instant::now();
    let out = state.push(who, req.events).await;
    state.metrics.push_took(started.elapsed());
    match out {
        Ok(results) => {
            state.metrics.pushed(&results);
            let rejected = results
                .iter()
                .filter(|r| matches!(r, crate::sync::wire::PushResult::Rejected { .. }))
                .count();
            tracing::info!(%terminal, events = n, rejected, "push");
            Ok(axum::Json(PushResponse { results }))
        }
        Err(e) => {
            if matches!(e, BackendError::Conflict { .. }) {
                state.metrics.conflict();
            }
            tracing::warn!(%terminal, "push refused: {e}");
            Err(e.into())
        }
    }
}

#[derive(Debug, Deserialize)]
struct PullQuery {
    /// The terminal's cursor: the last `gseq` it applied.
    #[serde(default)]
    after: i64,
    limit: Option<usize>,
    /// Seconds to wait for new events when there are none.
    #[serde(default)]
    wait: u64,
}

/// Events after the cursor. With `wait`, a pull that finds nothing waits until a push
/// commits (or the wait is over, or the server stops) and looks again.
async fn pull(
    State(state): State<AppState>,
    Authed(who): Authed,
    ApiQuery(q): ApiQuery<PullQuery>,
) -> Result<axum::Json<StoredPage>, ApiError> {
    let limit = q
        .limit
        .unwrap_or(PULL_DEFAULT_LIMIT)
        .clamp(1, PULL_MAX_LIMIT);
    let after = q.after.max(0);
    let deadline = Instant::now() + Duration::from_secs(q.wait.min(PULL_MAX_WAIT_SECS));
    let mut stopping = state.stopping.clone();
    loop {
        // Registered before looking, so a push that commits in between is not missed.
        let notified = state.pushed.notified();
        let mut notified = std::pin::pin!(notified);
        notified.as_mut().enable();
        let w = who.clone();
        let found = state.call(move |b| b.pull(&w, after, limit)).await?;
        if !found.events.is_empty() || Instant::now() >= deadline || *stopping.borrow() {
            return Ok(axum::Json(found));
        }
        tokio::select! {
            () = notified => {}
            () = tokio::time::sleep_until(deadline) => {}
            changed = stopping.changed() => {
                if changed.is_err() {
                    return Ok(axum::Json(found));
                }
            }
        }
    }
}

async fn snapshot(
    State(state): State<AppState>,
    Authed(who): Authed,
) -> Result<axum::Json<Snapshot>, ApiError> {
    Ok(axum::Json(state.call(move |b| b.snapshot(&who)).await?))
}

#[derive(Debug, Deserialize)]
struct AvailabilityQuery {
    site: Option<String>,
}

/// Open without a token: only site, item and quantities leave the server.
async fn availability(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AvailabilityQuery>,
) -> Result<axum::Json<Vec<Availability>>, ApiError> {
    let today = chrono::Local::now().date_naive();
    let site = q.site.filter(|s| !s.trim().is_empty());
    Ok(axum::Json(
        state
            .call(move |b| b.availability(site.as_deref(), today))
            .await?,
    ))
}

async fn health(State(state): State<AppState>) -> Result<Response, ApiError> {
    match state.call(|b| b.head()).await {
        Ok(head) => {
            Ok(axum::Json(serde_json::json!({ "status": "ok", "head": head })).into_response())
        }
        Err(e) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the store cannot answer: {e}"),
        )),
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics.render(),
    )
        .into_response()
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no such endpoint: {method} {}", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} does not take {method}", uri.path()),
    )
}

/// One log line per request: method, path (never the query or headers, which may carry
/// secrets), status and time taken.
async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status();
    let ms = started.elapsed().as_millis();
    if status.is_server_error() {
        tracing::warn!(%method, %path, status = status.as_u16(), ms, "request failed");
    } else if status.is_client_error() {
        tracing::info!(%method, %path, status = status.as_u16(), ms, "request refused");
    } else {
        tracing::debug!(%method, %path, status = status.as_u16(), ms, "request");
    }
    response
}
