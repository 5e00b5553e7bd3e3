//! The terminal's sync commands: enrol, one round, rejected events.

use color_eyre::Result;
use color_eyre::eyre::eyre;
use floorhand::store::Store;
use floorhand::sync::client::{self, Http, SyncError, TransportError};
use std::process::ExitCode;

/// Exit codes of `floorhand sync`, for scripts and monitoring.
pub const SYNCED: u8 = 0;
pub const OFFLINE: u8 = 2;
/// The server rejected some of the events this round pushed (`floorhand rejected` lists
/// them). Rejections of earlier rounds do not count again: every later round would
/// otherwise say 3 and hide whether anything new was rejected.
pub const HAS_REJECTED: u8 = 3;
pub const NEEDS_ATTENTION: u8 = 4;

pub fn enroll(store: &mut Store, server: &str, code: &str) -> Result<ExitCode> {
    let e = client::enroll(store, server, code).map_err(|e| eyre!("enrolment failed: {e}"))?;
    println!(
        "enrolled as terminal {} of site {} with {}",
        e.terminal, e.site, e.server
    );
    println!(
        "set terminal_id = \"{}\" and site = \"{}\" in this terminal's config",
        e.terminal, e.site
    );
    Ok(ExitCode::SUCCESS)
}

/// One round (with `resync`, one that loads the site's snapshot again first); the exit
/// code says whether it synced, was offline, or had events rejected.
pub fn sync(store: &mut Store, resync: bool) -> Result<ExitCode> {
    let Some(e) = store.enrolment()? else {
        return Err(eyre!(
            "this terminal is not enrolled: run floorhand enroll --server URL --code CODE"
        ));
    };
    let mut http = Http::new(&e.server, &e.token);
    let round = if resync {
        client::resync(store, &mut http)
    } else {
        client::round(store, &mut http)
    };
    match round {
        Ok(r) => {
            let rejected = store.rejected_count()?;
            let loaded = match (r.bootstrapped, r.resynced) {
                (true, _) => ", bootstrapped from a snapshot".to_string(),
                (false, Some(kept)) => {
                    format!(", resynced from a snapshot ({kept} pending events kept)")
                }
                (false, None) => String::new(),
            };
            println!(
                "synced: {} pushed ({} rejected), {} pulled{loaded}; {} pending, {} rejected in all",
                r.pushed,
                r.rejected,
                r.pulled,
                store.pending_count()?,
                rejected
            );
            Ok(ExitCode::from(if r.rejected > 0 {
                HAS_REJECTED
            } else {
                SYNCED
            }))
        }
        Err(SyncError::Transport(TransportError::Offline(why))) => {
            eprintln!("offline: {why}; {} events pending", store.pending_count()?);
            Ok(ExitCode::from(OFFLINE))
        }
        Err(e) => {
            eprintln!("sync failed: {e}");
            Ok(ExitCode::from(NEEDS_ATTENTION))
        }
    }
}

pub fn rejected(store: &Store, json: bool) -> Result<ExitCode> {
    let list = store.rejected_events()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else if list.is_empty() {
        println!("no rejected events");
    } else {
        println!(
            "{:>6} {:<20} {:<8} {:<24} reason",
            "seq", "kind", "user", "at"
        );
        for r in &list {
            println!(
                "{:>6} {:<20} {:<8} {:<24} {}",
                r.seq, r.kind, r.user, r.at, r.reason
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
