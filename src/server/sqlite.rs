//! The default backend: the SQLite store, opened with terminal id `server`.

use super::{Backend, BackendError, Tokens};
use crate::store::{Store, TerminalInfo, TerminalReport, TokenReader};
use crate::sync::wire::{Availability, PushResult, Snapshot, StoredPage, WireEvent};
use chrono::{DateTime, NaiveDate, Utc};

impl Backend for Store {
    fn enroll(
        &mut self,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<(TerminalInfo, String), BackendError> {
        Ok(Store::enroll(self, code, now)?)
    }

    fn authenticate(&mut self, token: &str) -> Result<Option<TerminalInfo>, BackendError> {
        Ok(Store::authenticate(self, token)?)
    }

    fn tokens(&self) -> Option<Box<dyn Tokens>> {
        match self.token_reader() {
            Ok(reader) => reader.map(|r| Box::new(r) as Box<dyn Tokens>),
            Err(e) => {
                tracing::warn!("no token reader beside the store, tokens are checked in turn: {e}");
                None
            }
        }
    }

    fn expected_seq(&mut self, terminal: &str) -> Result<Option<i64>, BackendError> {
        Ok(Some(Store::expected_seq(self, terminal)?))
    }

    fn push(
        &mut self,
        who: &TerminalInfo,
        events: &[WireEvent],
        now: DateTime<Utc>,
    ) -> Result<Vec<PushResult>, BackendError> {
        Ok(Store::push(self, who, events, now)?)
    }

    fn push_many(
        &mut self,
        pushes: &[(&TerminalInfo, &[WireEvent])],
        now: DateTime<Utc>,
    ) -> Vec<Result<Vec<PushResult>, BackendError>> {
        Store::push_many(self, pushes, now)
            .into_iter()
            .map(|r| r.map_err(BackendError::from))
            .collect()
    }

    fn pull(
        &mut self,
        who: &TerminalInfo,
        after: i64,
        limit: usize,
    ) -> Result<StoredPage, BackendError> {
        Ok(Store::pull_stored(self, who, after, limit)?)
    }

    fn head(&mut self) -> Result<i64, BackendError> {
        Ok(Store::head(self)?)
    }

    fn snapshot(&mut self, who: &TerminalInfo) -> Result<Snapshot, BackendError> {
        Ok(Store::snapshot_for(self, who)?)
    }

    fn availability(
        &mut self,
        site: Option<&str>,
        today: NaiveDate,
    ) -> Result<Vec<Availability>, BackendError> {
        Ok(Store::availability(self, site, today)?)
    }

    fn terminals(&mut self) -> Result<Vec<TerminalReport>, BackendError> {
        Ok(Store::terminals_report(self)?)
    }

    fn upkeep(&mut self) -> Result<bool, BackendError> {
        Ok(Store::upkeep(self)?)
    }
}

impl Tokens for TokenReader {
    fn authenticate(&mut self, token: &str) -> Result<Option<TerminalInfo>, BackendError> {
        Ok(TokenReader::authenticate(self, token)?)
    }
}
