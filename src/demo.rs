//! The demo warehouse: reference data and opening stock from `assets/demo/`, built into
//! the binary so `floorhand demo` works from anywhere.

use crate::import::{self, ImportError};
use crate::store::{NewUser, SYSTEM_USER, Store, StoreError};

pub const SITE_TOML: &str = include_str!("../assets/demo/site.toml");
pub const LOCATIONS_CSV: &str = include_str!("../assets/demo/locations.csv");
pub const ITEMS_CSV: &str = include_str!("../assets/demo/items.csv");
pub const USERS_CSV: &str = include_str!("../assets/demo/users.csv");
pub const STOCK_CSV: &str = include_str!("../assets/demo/stock.csv");
pub const PURCHASE_ORDERS_CSV: &str = include_str!("../assets/demo/purchase_orders.csv");
pub const ORDERS_CSV: &str = include_str!("../assets/demo/orders.csv");
pub const RMAS_CSV: &str = include_str!("../assets/demo/rmas.csv");
pub const PUTAWAY_RULES_CSV: &str = include_str!("../assets/demo/putaway_rules.csv");

/// The meta key that marks a store as a demo store.
pub const DEMO_META_KEY: &str = "demo";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo data {file}: {source}")]
    Data {
        file: &'static str,
        source: ImportError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One demo login, shown on the login screen of a demo store and printed by `init --demo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    pub badge: String,
    pub name: String,
    pub roles: String,
    pub pin: String,
}

pub fn logins() -> Vec<DemoLogin> {
    import::users(USERS_CSV.as_bytes())
        .map(|users| users.into_iter().map(login_of).collect())
        .unwrap_or_default()
}

fn login_of(u: NewUser) -> DemoLogin {
    DemoLogin {
        roles: u
            .roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join("+"),
        badge: u.badge,
        name: u.name,
        pin: u.pin,
    }
}

/// The virtual location opening stock comes from.
pub const OPENING_FROM: &str = "SUPPLIER";

fn data<T>(file: &'static str, r: Result<T, ImportError>) -> Result<T, DemoError> {
    r.map_err(|source| DemoError::Data { file, source })
}

/// Load the demo warehouse into an empty store. Each file goes in as one transaction.
pub fn load(store: &mut Store) -> Result<(), DemoError> {
    let locations = data("locations.csv", import::locations(LOCATIONS_CSV.as_bytes()))?;
    let items = data("items.csv", import::items(ITEMS_CSV.as_bytes()))?;
    let users = data("users.csv", import::users(USERS_CSV.as_bytes()))?;
    let stock = data(
        "stock.csv",
        import::opening_stock(STOCK_CSV.as_bytes(), OPENING_FROM),
    )?;
    store.define_locations(SYSTEM_USER, &locations)?;
    store.define_items(SYSTEM_USER, &items)?;
    store.add_users(SYSTEM_USER, &users)?;
    let orders = data(
        "purchase_orders.csv",
        import::purchase_orders(PURCHASE_ORDERS_CSV.as_bytes()),
    )?;
    let rules = data(
        "putaway_rules.csv",
        import::putaway_rules(PUTAWAY_RULES_CSV.as_bytes()),
    )?;
    store.move_batch(SYSTEM_USER, &stock)?;
    store.define_purchase_orders(SYSTEM_USER, &orders)?;
    store.define_putaway_rules(SYSTEM_USER, &rules)?;
    store.set_meta(DEMO_META_KEY, "1")?;
    Ok(())
}

/// Whether the store was built by [`load`].
pub fn is_demo(store: &Store) -> bool {
    matches!(store.meta(DEMO_META_KEY), Ok(Some(v)) if v == "1")
}
