//! Administration of the server's store, for `floorhand server ...`: opening it safely,
//! enrolment codes, users, imports of reference data, terminals and availability. Every
//! change is recorded by the user `server` (see [`ADMIN_USER`]).

use crate::domain::permissions::SERVER_TERMINAL;
use crate::domain::{Event, Role};
use crate::import::{self, ImportError};
use crate::store::{NewUser, Store, StoreError, TerminalReport, UserRecord};
use crate::sync::wire::{Availability, ExceptionRow};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use std::fmt::Write;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The user the server's own changes (imports, users, enrolments) are recorded by.
pub const ADMIN_USER: &str = SERVER_TERMINAL;

/// The meta key that marks a store as a server's store.
pub const SERVER_STORE_META: &str = "server.store";

/// The file name of the server's store in the platform data directory.
pub const DEFAULT_STORE_FILE: &str = "server.db";

pub use crate::store::ENROLMENT_VALID_HOURS;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("cannot open the server store {}", path.display())]
    Open { path: PathBuf, source: StoreError },
    #[error(
        "{} holds a store that is not a server's store (a terminal's store?); it was left alone. \
         Give the server another store with --store",
        path.display()
    )]
    NotServerStore { path: PathBuf },
    #[error("{file}: {error}. Nothing was imported")]
    Import { file: String, error: ImportError },
    #[error("{file}: {reason}. Nothing was imported")]
    ImportRefused { file: String, reason: String },
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Demo(#[from] crate::demo::DemoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

type Result<T, E = AdminError> = std::result::Result<T, E>;

/// `server.db` in `data_dir`.
pub fn default_store_path(data_dir: &Path) -> PathBuf {
    data_dir.join(DEFAULT_STORE_FILE)
}

/// Open (creating if needed) the server's store at `path`, as terminal `server`. A new,
/// empty store is marked as a server's store; a store with data that is not marked (a
/// terminal's store) is refused, so a terminal's journal is never served by mistake.
pub fn open_store(path: &Path) -> Result<Store> {
    let mut store = Store::open(path, SERVER_TERMINAL).map_err(|source| AdminError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    store.use_server_memory()?;
    let not_server = || AdminError::NotServerStore {
        path: path.to_path_buf(),
    };
    if store.terminal() != SERVER_TERMINAL || store.enrolment()?.is_some() {
        return Err(not_server());
    }
    if store.meta(SERVER_STORE_META)?.as_deref() == Some("1") {
        return Ok(store);
    }
    if store.journal_len()? > 0 {
        return Err(not_server());
    }
    store.set_meta(SERVER_STORE_META, "1")?;
    Ok(store)
}

/// What `server init` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initialised {
    pub path: PathBuf,
    pub head: i64,
    pub demo: bool,
}

/// Create the server's store (or check an existing one). With `demo`, load the demo
/// warehouse with its customer orders and RMAs into a new store.
pub fn init(path: &Path, demo: bool) -> Result<Initialised> {
    let mut store = open_store(path)?;
    if demo {
        if store.journal_len()? > 0 {
            return Err(AdminError::Refused(format!(
                "{} already holds data: --demo needs a new store",
                path.display()
            )));
        }
        load_demo(&mut store)?;
    }
    Ok(Initialised {
        path: path.to_path_buf(),
        head: store.head()?,
        demo,
    })
}

/// The demo warehouse, plus the demo's customer orders and RMAs (which the terminal's
/// demo leaves out).
pub fn load_demo(store: &mut Store) -> Result<()> {
    crate::demo::load(store)?;
    let demo_file = |file: &str, error| AdminError::Import {
        file: file.into(),
        error,
    };
    let orders = import::orders(crate::demo::ORDERS_CSV.as_bytes())
        .map_err(|e| demo_file("orders.csv", e))?;
    store.define_orders(ADMIN_USER, &orders)?;
    let rmas =
        import::rmas(crate::demo::RMAS_CSV.as_bytes()).map_err(|e| demo_file("rmas.csv", e))?;
    store.define_rmas(ADMIN_USER, &rmas)?;
    Ok(())
}

/// A one-time enrolment code, as `server enroll` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentCode {
    pub terminal: String,
    pub site: String,
    pub code: String,
    pub expires: DateTime<Utc>,
    /// The terminal id was enrolled before: a store enrolled under it again must carry
    /// on its sequence numbers, so a fresh store needs a new id.
    pub known: bool,
}

/// Create a one-time code that enrols `terminal` at `site`. The site must have
/// locations (so a typo is caught here, not on the floor).
pub fn enroll(
    store: &mut Store,
    terminal: &str,
    site: &str,
    now: DateTime<Utc>,
) -> Result<EnrolmentCode> {
    let valid_id = |s: &str| {
        !s.is_empty()
            && s.len() <= 40
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    if !valid_id(terminal) || terminal == SERVER_TERMINAL {
        return Err(AdminError::Refused(format!(
            "{terminal:?} cannot be a terminal id: use letters, digits and - _ . (at most 40), \
             and not {SERVER_TERMINAL:?}"
        )));
    }
    if !store.locations()?.iter().any(|l| l.site == site) {
        return Err(AdminError::Refused(format!(
            "site {site} has no locations on this server: import its locations first"
        )));
    }
    let known = store
        .terminals_report()?
        .iter()
        .any(|t| t.terminal == terminal);
    let code = store.create_enrolment(terminal, site, now)?;
    Ok(EnrolmentCode {
        terminal: terminal.to_string(),
        site: site.to_string(),
        code,
        expires: now + Duration::hours(ENROLMENT_VALID_HOURS),
        known,
    })
}

/// Add a user, or replace one with the same badge (which also enables it again),
/// recorded as `by`.
pub fn add_user(store: &mut Store, by: &str, user: &NewUser) -> Result<()> {
    if user.roles.is_empty() {
        return Err(AdminError::Refused(format!(
            "badge {}: give at least one role",
            user.badge
        )));
    }
    crate::domain::auth::validate_pin(&user.pin)
        .map_err(|e| AdminError::Refused(format!("badge {}: {e}", user.badge)))?;
    store.add_users(by, std::slice::from_ref(user))?;
    Ok(())
}

/// Parse a comma-separated list of roles.
pub fn parse_roles(list: &[String]) -> Result<Vec<Role>> {
    list.iter()
        .map(|r| {
            Role::parse(r.trim()).ok_or_else(|| {
                AdminError::Refused(format!(
                    "{r:?} is not a role; roles are {}",
                    Role::ALL.map(|x| x.as_str()).join(", ")
                ))
            })
        })
        .collect()
}

/// Disable a user: terminals refuse their logins once they pulled the change, and the
/// server rejects their events. Disabling a disabled user changes nothing.
pub fn disable_user(store: &mut Store, badge: &str) -> Result<bool> {
    let Some(user) = store.user(badge)? else {
        return Err(AdminError::Refused(format!("not found: user {badge}")));
    };
    if user.user.disabled {
        return Ok(false);
    }
    store.record(
        ADMIN_USER,
        &[Event::UserDisabled {
            badge: badge.to_string(),
        }],
    )?;
    Ok(true)
}

pub fn users_table(users: &[UserRecord]) -> String {
    let mut out = format!("{:<8} {:<24} {:<22} state\n", "badge", "name", "roles");
    for u in users {
        let state = if u.user.disabled {
            "disabled".to_string()
        } else if u.locked {
            "LOCKED".to_string()
        } else if u.failed_attempts > 0 {
            format!("{} failed PINs", u.failed_attempts)
        } else {
            "active".to_string()
        };
        let _ = writeln!(
            out,
            "{:<8} {:<24} {:<22} {state}",
            u.user.badge,
            u.user.name,
            u.user.roles_label()
        );
    }
    out
}

pub fn users_json(users: &[UserRecord]) -> serde_json::Value {
    users
        .iter()
        .map(|u| {
            serde_json::json!({
                "badge": u.user.badge,
                "name": u.user.name,
                "roles": u.user.roles,
                "disabled": u.user.disabled,
                "locked": u.locked,
                "failed_attempts": u.failed_attempts,
            })
        })
        .collect()
}

/// What a server import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    Items,
    Locations,
    Users,
    PurchaseOrders,
    PutawayRules,
    Orders,
    Rmas,
}

impl ImportKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Items => "items",
            Self::Locations => "locations",
            Self::Users => "users",
            Self::PurchaseOrders => "purchase orders",
            Self::PutawayRules => "putaway rules",
            Self::Orders => "customer orders",
            Self::Rmas => "RMAs",
        }
    }
}

/// Import one CSV file, recorded as `by`: every row is checked first, then everything is
/// recorded in one transaction, or nothing is. `file` names the file in errors. Returns
/// how many records (items, orders, ...) were imported. Terminals and the server share it.
pub fn import(
    store: &mut Store,
    by: &str,
    kind: ImportKind,
    reader: impl Read,
    file: &str,
) -> Result<usize> {
    let bad = |error| AdminError::Import {
        file: file.to_string(),
        error,
    };
    let refused = |e: StoreError| match e {
        StoreError::Rejected(reason) => AdminError::ImportRefused {
            file: file.to_string(),
            reason,
        },
        other => AdminError::Store(other),
    };
    let n = match kind {
        ImportKind::Items => {
            let items = import::items(reader).map_err(bad)?;
            store.define_items(by, &items).map_err(refused)?;
            items.len()
        }
        ImportKind::Locations => {
            let locations = import::locations(reader).map_err(bad)?;
            store.define_locations(by, &locations).map_err(refused)?;
            locations.len()
        }
        ImportKind::Users => {
            let users = import::users(reader).map_err(bad)?;
            store.add_users(by, &users).map_err(refused)?;
            users.len()
        }
        ImportKind::PurchaseOrders => {
            let orders = import::purchase_orders(reader).map_err(bad)?;
            store.define_purchase_orders(by, &orders).map_err(refused)?;
            orders.len()
        }
        ImportKind::PutawayRules => {
            let rules = import::putaway_rules(reader).map_err(bad)?;
            store.define_putaway_rules(by, &rules).map_err(refused)?;
            rules.len()
        }
        ImportKind::Orders => {
            let orders = import::orders(reader).map_err(bad)?;
            store.define_orders(by, &orders).map_err(refused)?;
            orders.len()
        }
        ImportKind::Rmas => {
            let rmas = import::rmas(reader).map_err(bad)?;
            store.define_rmas(by, &rmas).map_err(refused)?;
            rmas.len()
        }
    };
    Ok(n)
}

pub fn terminals_table(terminals: &[TerminalReport]) -> String {
    let mut out = format!(
        "{:<12} {:<6} {:<24} {:>8} {:>7} {:>8} {:>9} {:>9}  state\n",
        "terminal", "site", "last seen", "cursor", "behind", "pending", "accepted", "rejected"
    );
    for t in terminals {
        let _ = writeln!(
            out,
            "{:<12} {:<6} {:<24} {:>8} {:>7} {:>8} {:>9} {:>9}  {}",
            t.terminal,
            t.site,
            t.last_seen.as_deref().unwrap_or("never"),
            t.cursor,
            t.behind,
            t.pending.map_or_else(|| "-".to_string(), |n| n.to_string()),
            t.accepted,
            t.rejected,
            if t.revoked { "REVOKED" } else { "enrolled" }
        );
    }
    if terminals.is_empty() {
        out.push_str("no terminals enrolled\n");
    }
    out
}

/// Revoke a terminal's token: its next request is answered 401.
pub fn revoke(store: &mut Store, terminal: &str) -> Result<()> {
    store.revoke_terminal(terminal).map_err(|e| match e {
        StoreError::Rejected(reason) => AdminError::Refused(reason),
        other => AdminError::Store(other),
    })
}

pub fn availability_table(rows: &[Availability]) -> String {
    let mut out = format!(
        "{:<6} {:<12} {:>9} {:>9} {:>9}\n",
        "site", "item", "sellable", "reserved", "available"
    );
    for a in rows {
        let _ = writeln!(
            out,
            "{:<6} {:<12} {:>9} {:>9} {:>9}",
            a.site, a.sku, a.sellable, a.reserved, a.available
        );
    }
    out
}

/// The exceptions as `server exceptions` prints them (`--json` has their ids).
pub fn exceptions_table(rows: &[ExceptionRow]) -> String {
    if rows.is_empty() {
        return "no exceptions\n".into();
    }
    let mut out = format!(
        "{:<20} {:<12} {:<12} {:<10} {:>7} {:<8} {:<8} reason\n",
        "raised", "location", "item", "lot", "qty", "recount", "state"
    );
    for e in rows {
        let _ = writeln!(
            out,
            "{:<20} {:<12} {:<12} {:<10} {:>7} {:<8} {:<8} {}",
            e.raised_at.get(..19).unwrap_or(&e.raised_at),
            e.location,
            e.sku,
            if e.lot.is_empty() { "-" } else { &e.lot },
            e.qty,
            if e.recount { "yes" } else { "no" },
            e.state,
            e.reason
        );
    }
    out
}

/// An enrolment code's expiry as the CLI prints it.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    type TestResult = std::result::Result<(), Box<dyn Error>>;

    #[test]
    fn a_terminal_store_is_never_opened_as_the_server_store() -> TestResult {
        let dir = tempfile::tempdir()?;
        let terminal = dir.path().join("floorhand.db");
        let mut t = Store::open(&terminal, "T01")?;
        crate::demo::load(&mut t)?;
        drop(t);
        assert!(matches!(
            open_store(&terminal),
            Err(AdminError::NotServerStore { .. })
        ));
        let server = dir.path().join("server.db");
        let s = init(&server, false)?;
        assert_eq!(s.head, 0);
        let mut store = open_store(&server)?;
        assert_eq!(store.terminal(), SERVER_TERMINAL);
        load_demo(&mut store)?;
        drop(store);
        let again = open_store(&server)?;
        assert!(again.head()? > 0);
        assert!(matches!(init(&server, true), Err(AdminError::Refused(_))));
        Ok(())
    }

    #[test]
    fn enrol_users_imports_and_terminals() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut store = open_store(&dir.path().join("server.db"))?;
        load_demo(&mut store)?;
        let now = Utc::now();

        assert!(matches!(
            enroll(&mut store, "T01", "NOWHERE", now),
            Err(AdminError::Refused(m)) if m.contains("site NOWHERE has no locations")
        ));
        assert!(enroll(&mut store, "server", "WH1", now).is_err());
        assert!(enroll(&mut store, "T 01", "WH1", now).is_err());
        let code = enroll(&mut store, "T01", "WH1", now)?;
        assert!(!code.known);
        assert_eq!(code.expires, now + Duration::hours(24));
        let (who, _token) = store.enroll(&code.code, now)?;
        assert_eq!(who.terminal, "T01");
        assert!(enroll(&mut store, "T01", "WH1", now)?.known);
        let table = terminals_table(&store.terminals_report()?);
        assert!(
            table
                .lines()
                .any(|l| l.starts_with("T01") && l.ends_with("enrolled"))
        );
        revoke(&mut store, "T01")?;
        assert!(terminals_table(&store.terminals_report()?).contains("REVOKED"));
        assert!(matches!(
            revoke(&mut store, "T99"),
            Err(AdminError::Refused(_))
        ));

        let roles = parse_roles(&["picker".into(), " counter".into()])?;
        assert_eq!(roles, vec![Role::Picker, Role::Counter]);
        assert!(parse_roles(&["boss".into()]).is_err());
        add_user(
            &mut store,
            ADMIN_USER,
            &NewUser {
                badge: "2001".into(),
                name: "New Picker".into(),
                roles,
                pin: "2468".into(),
            },
        )?;
        assert!(disable_user(&mut store, "2001")?);
        assert!(!disable_user(&mut store, "2001")?);
        assert!(disable_user(&mut store, "9999999").is_err());
        let list = store.users()?;
        assert!(
            users_table(&list)
                .lines()
                .any(|l| l.starts_with("2001") && l.ends_with("disabled"))
        );

        let before = store.journal_len()?;
        let bad = "order,customer,site,due_date,line,sku,qty\nSO-1,Shop,WH1,,1,SKU-10001,5\nSO-2,Shop,WH1,,1,NOPE,1\n";
        let e = import(
            &mut store,
            ADMIN_USER,
            ImportKind::Orders,
            bad.as_bytes(),
            "orders.csv",
        );
        assert_eq!(
            e.err().map(|e| e.to_string()),
            Some("orders.csv: SO-2 line 1: not found: NOPE. Nothing was imported".into())
        );
        let bad_qty = "order,customer,site,due_date,line,sku,qty\nSO-1,Shop,WH1,,1,SKU-10001,x\n";
        let e = import(
            &mut store,
            ADMIN_USER,
            ImportKind::Orders,
            bad_qty.as_bytes(),
            "o.csv",
        );
        assert_eq!(
            e.err().map(|e| e.to_string()),
            Some("o.csv: line 2, field qty: \"x\" is not a whole number from 1 to 1000000. Nothing was imported".into())
        );
        assert_eq!(store.journal_len()?, before);
        let ok = "order,customer,site,due_date,line,sku,qty\nSO-1,Shop,WH1,,1,SKU-10001,5\n";
        assert_eq!(
            import(
                &mut store,
                ADMIN_USER,
                ImportKind::Orders,
                ok.as_bytes(),
                "o.csv"
            )?,
            1
        );

        let rows = store.availability(Some("WH1"), now.date_naive())?;
        let water = rows
            .iter()
            .find(|a| a.sku == "SKU-10001")
            .ok_or("no SKU-10001")?;
        assert_eq!(water.available, (water.sellable - water.reserved).max(0));
        assert!(availability_table(&rows).contains("SKU-10001"));
        Ok(())
    }
}
