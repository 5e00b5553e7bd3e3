//! Command-line interface (clap derive). Each command is a thin shell over the library.

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use color_eyre::Result;
use color_eyre::eyre::{WrapErr, bail, eyre};
use floorhand::config::{Config, Paths};
use floorhand::domain::{gs1, scan};
use floorhand::server::admin;
use floorhand::store::{NewUser, SYSTEM_USER, StockFilter, Store};
use floorhand::{demo, tui};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "floorhand",
    version,
    about = "Warehouse floor terminal: receiving, putaway, picking, packing, returns and counts",
    long_about = "Floorhand is a terminal application for warehouse floor staff, backed by a local \
                  journal-first SQLite store.\n\nWith no command it opens the floor screens on the \
                  configured store. Start with `floorhand demo` to try it on a demo warehouse."
)]
struct Cli {
    /// The store to use [default: floorhand.db in the platform data directory]
    #[arg(long, global = true, env = "FLOORHAND_DB", value_name = "PATH")]
    db: Option<PathBuf>,
    /// The config file [default: config.toml in the platform config directory]
    #[arg(long, global = true, env = "FLOORHAND_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build a fresh demo warehouse and open the floor screens on it
    Demo {
        /// Reopen the existing demo store instead of building a fresh one
        #[arg(long)]
        keep: bool,
    },
    /// Create a store without opening the floor screens
    Init {
        /// Load the demo warehouse into the new store and print its logins
        #[arg(long)]
        demo: bool,
    },
    /// Import reference data from a CSV file (all rows or none)
    Import {
        #[arg(value_enum)]
        what: ImportKind,
        /// The CSV file; its header row names the columns (see README)
        file: PathBuf,
    },
    /// List on-hand stock by location, item and lot
    Stock {
        /// Only this item (SKU or GTIN)
        #[arg(long)]
        item: Option<String>,
        /// Only this location
        #[arg(long)]
        location: Option<String>,
        /// Only this lot code
        #[arg(long)]
        lot: Option<String>,
        /// Include virtual locations (supplier, customer, loss, scrap, transit)
        #[arg(long)]
        all: bool,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Verify the store's invariants; exit 0 when all hold
    Check {
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
    /// Manage users
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Show what Floorhand reads in a barcode scan, for setting up scanners
    Barcode {
        /// The scanned data: a GS1 element string (with or without a symbology
        /// identifier, raw with GS separators or human-readable with parentheses), or a
        /// plain GTIN
        data: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// List receiving discrepancies and their state
    Discrepancies {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Enrol this terminal with a server, using a one-time code from `server enroll`
    Enroll {
        /// The server's address, e.g. http://10.0.0.2:8080
        #[arg(long)]
        server: String,
        #[arg(long)]
        code: String,
    },
    /// Run one sync round without the floor screens; exit 0 synced, 2 offline,
    /// 3 the server rejected events in this round, 4 sync needs attention
    Sync {
        /// Load the site's snapshot again in place of what this terminal built from its
        /// pulls (after `floorhand check` found a fault, or a long time away), keeping
        /// every pending event
        #[arg(long)]
        resync: bool,
    },
    /// List this terminal's events that the server rejected, with the reasons
    Rejected {
        #[arg(long)]
        json: bool,
    },
    /// Run the sync server for terminals (HTTP/JSON under /v1) until Ctrl-C or SIGTERM
    #[command(long_about = SERVE_ABOUT)]
    Serve {
        /// Address and port to listen on [default: server.listen in the config, else
        /// 127.0.0.1:8080]
        #[arg(long, env = "FLOORHAND_LISTEN", value_name = "ADDR:PORT")]
        listen: Option<String>,
        #[command(flatten)]
        store: ServerStore,
    },
    /// Administer the server's store: enrolment codes, terminals, users, reference data
    #[command(long_about = SERVER_ABOUT)]
    Server {
        #[command(flatten)]
        store: ServerStore,
        #[command(subcommand)]
        command: ServerCommand,
    },
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ImportKind {
    Items,
    Locations,
    Users,
    PurchaseOrders,
    PutawayRules,
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Add a user or replace one with the same badge
    Add {
        badge: String,
        /// Full name
        #[arg(long)]
        name: String,
        /// Comma-separated roles: receiver, putaway, picker, packer, returns, counter,
        /// supervisor, trainer, admin
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// The PIN (4 to 8 digits); read from standard input when left out
        #[arg(long)]
        pin: Option<String>,
    },
    /// List users and the state of their badges
    List {
        #[arg(long)]
        json: bool,
    },
    /// Unlock a badge locked by wrong PINs
    Unlock { badge: String },
}

pub fn main() -> Result<ExitCode> {
    let cli = Cli::parse();
    let paths = Paths::platform();
    let config_path = cli
        .config
        .clone()
        .unwrap_or_else(|| paths.config_file.clone());
    let config = Config::load(&config_path)?;
    init_logging(&paths.data_dir, &config);
    let store_path = |default: &str| {
        cli.db
            .clone()
            .unwrap_or_else(|| paths.data_dir.join(default))
    };
    match cli.command {
        None => {
            let path = store_path("floorhand.db");
            let store = open(&path, &config)?;
            run_tui(store, config, &path)
        }
        Some(Command::Demo { keep }) => {
            let path = store_path("demo.db");
            let store = if keep && path.exists() {
                open(&path, &config)?
            } else {
                fresh_demo(&path, &config)?
            };
            run_tui(store, config, &path)
        }
        Some(Command::Init { demo: with_demo }) => {
            let path = store_path("floorhand.db");
            let mut store = open(&path, &config)?;
            if with_demo {
                if store.journal_len()? > 0 {
                    bail!(
                        "{} already holds data: init --demo needs a new store",
                        path.display()
                    );
                }
                demo::load(&mut store)?;
                println!("Created the demo warehouse in {}", path.display());
                print_logins();
            } else {
                println!("Store ready at {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Import { what, file }) => {
            let mut store = open(&store_path("floorhand.db"), &config)?;
            import_file(&mut store, what, &file)
        }
        Some(Command::Stock {
            item,
            location,
            lot,
            all,
            json,
        }) => {
            let store = open(&store_path("floorhand.db"), &config)?;
            stock(&store, item, location, lot, all, json)
        }
        Some(Command::Check { json }) => {
            let store = open(&store_path("floorhand.db"), &config)?;
            check(&store, json)
        }
        Some(Command::Users { command }) => {
            let mut store = open(&store_path("floorhand.db"), &config)?;
            users(&mut store, command)
        }
        Some(Command::Barcode { data, json }) => barcode(&data, config.scanner.gs_standin, json),
        Some(Command::Discrepancies { json }) => {
            let store = open(&store_path("floorhand.db"), &config)?;
            discrepancies(&store, json)
        }
        Some(Command::Enroll { server, code }) => {
            let mut store = open(&store_path("floorhand.db"), &config)?;
            crate::sync_cmd::enroll(&mut store, &server, &code)
        }
        Some(Command::Sync { resync }) => {
            let mut store = open(&store_path("floorhand.db"), &config)?;
            crate::sync_cmd::sync(&mut store, resync)
        }
        Some(Command::Rejected { json }) => {
            let store = open(&store_path("floorhand.db"), &config)?;
            crate::sync_cmd::rejected(&store, json)
        }
        Some(Command::Serve { listen, store }) => {
            let listen = listen
                .or_else(|| config.server.listen.clone())
                .unwrap_or_else(|| floorhand::server::DEFAULT_LISTEN.to_string());
            serve(
                &listen,
                &store.resolve(&config, &paths.data_dir),
                &paths.data_dir,
            )
        }
        Some(Command::Server { store, command }) => {
            server_admin(&store.resolve(&config, &paths.data_dir), command)
        }
        Some(Command::Completions { shell }) => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "floorhand",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn open(path: &Path, config: &Config) -> Result<Store> {
    Store::open(path, &config.terminal_id)
        .wrap_err_with(|| format!("cannot open the store {}", path.display()))
}

/// Replace the demo store at `path` with a freshly built one. A store that is not a demo
/// store is never replaced.
fn fresh_demo(path: &Path, config: &Config) -> Result<Store> {
    if path.exists() {
        let existing = open(path, config)?;
        if !demo::is_demo(&existing) && existing.journal_len()? > 0 {
            bail!(
                "{} holds a store that is not a demo store; it was left alone. Use another --db",
                path.display()
            );
        }
        drop(existing);
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            match std::fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(e).wrap_err_with(|| {
                        format!("cannot remove the old demo store {}", path.display())
                    });
                }
                _ => {}
            }
        }
    }
    let mut store = open(path, config)?;
    demo::load(&mut store)?;
    tracing::info!(path = %path.display(), "demo warehouse built");
    Ok(store)
}

fn run_tui(store: Store, config: Config, path: &Path) -> Result<ExitCode> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        bail!("the floor screens need a terminal; for scripts use stock, check or import");
    }
    let terminal = store.terminal().to_string();
    let mut app = tui::App::new(store, config, chrono::Utc::now());
    if let Some(worker) = floorhand::sync::client::Worker::spawn(path.to_path_buf(), terminal) {
        app.set_sync(worker);
    }
    tui::run(app)?;
    Ok(ExitCode::SUCCESS)
}

fn print_logins() {
    println!("\nDemo logins (badge / PIN / role):");
    for d in demo::logins() {
        println!("  {:<6} {:<6} {:<20} {}", d.badge, d.pin, d.roles, d.name);
    }
}

fn import_file(store: &mut Store, what: ImportKind, file: &Path) -> Result<ExitCode> {
    let reader =
        std::fs::File::open(file).wrap_err_with(|| format!("cannot read {}", file.display()))?;
    let kind = match what {
        ImportKind::Items => admin::ImportKind::Items,
        ImportKind::Locations => admin::ImportKind::Locations,
        ImportKind::Users => admin::ImportKind::Users,
        ImportKind::PurchaseOrders => admin::ImportKind::PurchaseOrders,
        ImportKind::PutawayRules => admin::ImportKind::PutawayRules,
    };
    let n = admin::import(
        store,
        SYSTEM_USER,
        kind,
        reader,
        &file.display().to_string(),
    )?;
    println!("imported {n} {}", kind.label());
    Ok(ExitCode::SUCCESS)
}

fn stock(
    store: &Store,
    item: Option<String>,
    location: Option<String>,
    lot: Option<String>,
    all: bool,
    json: bool,
) -> Result<ExitCode> {
    // An item may be given by any of its GTINs as well as by SKU.
    let sku = match item {
        Some(code) => match (store.item(&code)?, store.item_by_gtin(&code)?) {
            (Some(i), _) | (None, Some((i, _))) => Some(i.sku),
            (None, None) => bail!("not found: item {}", scan::display(&code)),
        },
        None => None,
    };
    if let Some(l) = &location
        && store.location(l)?.is_none()
    {
        bail!("not found: location {}", scan::display(l));
    }
    let rows = store.stock(&StockFilter {
        sku,
        location,
        lot,
        include_virtual: all,
        limit: None,
    })?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{:<12} {:<11} {:<12} {:<10} {:>9}  avail",
            "location", "role", "item", "lot", "qty"
        )?;
        for r in &rows {
            writeln!(
                out,
                "{:<12} {:<11} {:<12} {:<10} {:>9}  {}",
                r.location,
                r.role.as_str(),
                r.sku,
                r.lot,
                r.qty,
                if r.available { "yes" } else { "no" }
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What a scan means to Floorhand: a plain GTIN, or the fields of a GS1 element string.
fn barcode(data: &str, gs_standin: Option<char>, json: bool) -> Result<ExitCode> {
    let shown = scan::display(data);
    let digits = data.bytes().all(|b| b.is_ascii_digit());
    if digits && matches!(data.len(), 8 | 12 | 13 | 14) {
        let Some(gtin) = gs1::normalize_gtin(data) else {
            let (body, _) = data.split_at(data.len() - 1);
            let want = gs1::gtin_check_digit(body).map_or("?".into(), |d| d.to_string());
            bail!(
                "{shown} is not a valid GTIN-{}: its check digit should be {want}",
                data.len()
            );
        };
        if json {
            println!(
                "{}",
                serde_json::json!({ "gtin": gtin, "length": data.len() })
            );
        } else {
            println!("GTIN-{} {data}: check digit ok", data.len());
            println!("14-digit form: {gtin}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let parsed = gs1::parse(data, gs_standin).map_err(|e| eyre!("{shown}: {e}"))?;
    if json {
        let v = serde_json::json!({
            "symbology": parsed.symbology.map(|s| s.label()),
            "elements": parsed.elements,
            "human_readable": gs1::to_human_readable(&parsed),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(s) = parsed.symbology {
        println!("symbology: {} ({})", s.label(), s.identifier());
    }
    for e in &parsed.elements {
        let value = match &e.value {
            gs1::Value::Date(d) => d.to_string(),
            gs1::Value::Decimal { digits, decimals } => {
                let scale = 10u64.pow(u32::from(*decimals));
                format!(
                    "{}.{:0w$}",
                    digits / scale,
                    digits % scale,
                    w = usize::from(*decimals)
                )
            }
            _ => scan::display(&e.raw),
        };
        println!("({}) {}: {value}", e.ai, e.title);
    }
    println!("human-readable: {}", gs1::to_human_readable(&parsed));
    Ok(ExitCode::SUCCESS)
}

fn discrepancies(store: &Store, json: bool) -> Result<ExitCode> {
    let list = store.discrepancies()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<11} {:<8} {:<9} {:<5} {:<10} {:<8} {:>6}  note",
        "kind", "state", "po", "line", "item", "lot", "qty"
    );
    for d in &list {
        println!(
            "{:<11} {:<8} {:<9} {:<5} {:<10} {:<8} {:>6}  {}",
            d.kind,
            d.state,
            d.po.as_deref().unwrap_or(""),
            d.line.map(|l| l.to_string()).unwrap_or_default(),
            d.sku,
            d.lot,
            d.qty,
            d.note
        );
    }
    if list.is_empty() {
        println!("no discrepancies");
    }
    Ok(ExitCode::SUCCESS)
}

fn check(store: &Store, json: bool) -> Result<ExitCode> {
    let report = store.check()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for c in &report.checks {
            println!("{:<28} {}", c.name, if c.ok { "ok" } else { "FAILED" });
            for v in &c.violations {
                println!("    {v}");
            }
        }
        println!(
            "{}",
            if report.ok {
                "all checks hold"
            } else {
                "violations found"
            }
        );
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The PIN given on the command line, or one read from standard input (so it stays out
/// of the process list and the shell history).
fn pin_or_prompt(badge: &str, pin: Option<String>) -> Result<String> {
    if let Some(p) = pin {
        return Ok(p);
    }
    eprint!("PIN for {badge}: ");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_string())
}

fn users(store: &mut Store, command: UsersCommand) -> Result<ExitCode> {
    match command {
        UsersCommand::Add {
            badge,
            name,
            roles,
            pin,
        } => {
            let roles = admin::parse_roles(&roles)?;
            let pin = pin_or_prompt(&badge, pin)?;
            let user = NewUser {
                badge: badge.clone(),
                name,
                roles,
                pin,
            };
            admin::add_user(store, SYSTEM_USER, &user)?;
            println!("user {badge} saved");
        }
        UsersCommand::List { json } => {
            let users = store.users()?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&admin::users_json(&users))?
                );
            } else {
                print!("{}", admin::users_table(&users));
            }
        }
        UsersCommand::Unlock { badge } => {
            store.unlock(&badge, SYSTEM_USER)?;
            println!("badge {badge} unlocked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Logs go to `floorhand.log` in the data directory, never to the screen. A log that
/// cannot be opened leaves the app running without one.
fn init_logging(data_dir: &Path, config: &Config) {
    let _ = std::fs::create_dir_all(data_dir);
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.join("floorhand.log"))
    else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
}

// ---------------------------------------------------------------------------------------
// The server: `serve` and `server ...`. The logic is in `floorhand::server::admin`.

const SERVE_ABOUT: &str = "Run the sync server for terminals: HTTP/JSON under /v1 (enroll, push, \
pull, snapshot, availability, health) and Prometheus metrics at /v1/metrics (also /metrics). Stops on Ctrl-C or \
SIGTERM after the requests in flight.\n\nThe server's store is --store PATH, else \
$FLOORHAND_SERVER_STORE, else server.store in the config, else server.db in the platform data \
directory. The terminal's --db (and $FLOORHAND_DB) is never used for it, and a store with data \
that was not made by the server (a terminal's store) is refused. The listen address is \
--listen, else $FLOORHAND_LISTEN, else server.listen in the config, else 127.0.0.1:8080; listen on 0.0.0.0:PORT to serve terminals on the network. Logs go to \
floorhand.log in the data directory.";

const SERVER_ABOUT: &str = "Administer the server's store: enrolment codes, terminals, users and \
reference data. Works while the server runs.\n\nThe server's store is --store PATH, else \
$FLOORHAND_SERVER_STORE, else server.store in the config, else server.db in the platform data \
directory; the terminal's --db is never used for it. Changes are recorded by the user `server`; terminals receive them on their \
next pull.";

/// Which store the server commands use; see SERVE_ABOUT.
#[derive(Debug, clap::Args)]
struct ServerStore {
    /// The server's store [default: server.store in the config, else server.db in the
    /// platform data directory; the terminal's --db is not used]
    #[arg(
        long = "store",
        global = true,
        env = "FLOORHAND_SERVER_STORE",
        value_name = "PATH"
    )]
    path: Option<PathBuf>,
}

impl ServerStore {
    fn resolve(&self, config: &Config, data_dir: &Path) -> PathBuf {
        self.path
            .clone()
            .or_else(|| config.server.store.clone())
            .unwrap_or_else(|| floorhand::server::admin::default_store_path(data_dir))
    }
}

#[derive(Debug, Subcommand)]
enum ServerCommand {
    /// Create the server's store, or check an existing one
    Init {
        /// Load the demo warehouse (with its customer orders and RMAs) into the new store
        #[arg(long)]
        demo: bool,
    },
    /// Print a one-time code that enrols a terminal for a site (valid 24 hours)
    Enroll {
        /// The terminal's id: letters, digits and - _ .
        terminal: String,
        /// The site the terminal works in; it must have locations on the server
        #[arg(long)]
        site: String,
    },
    /// Manage the users that terminals receive
    Users {
        #[command(subcommand)]
        command: ServerUsersCommand,
    },
    /// Import reference data from a CSV file (all rows or none)
    Import {
        #[arg(value_enum)]
        what: ServerImportKind,
        /// The CSV file; its header row names the columns (see README)
        file: PathBuf,
    },
    /// List terminals: site, last seen, pull cursor, events behind, events pending on the
    /// terminal (the number it gave with its last request), accepted and rejected
    Terminals {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Revoke a terminal's token: its next request is refused
    Revoke { terminal: String },
    /// Exceptions the server raised (a merge left a bin negative, a count was stale),
    /// oldest first; an open one marked recount is a recount task, done by a count of
    /// that balance that saw every movement of it
    Exceptions {
        /// Only this site
        #[arg(long)]
        site: Option<String>,
        /// Resolved ones too
        #[arg(long)]
        all: bool,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Available to promise per site and item: sellable stock minus what open order
    /// lines still need
    Availability {
        /// Only this site
        #[arg(long)]
        site: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ServerUsersCommand {
    /// Add a user or replace one with the same badge (which enables it again)
    Add {
        badge: String,
        /// Full name
        #[arg(long)]
        name: String,
        /// Comma-separated roles: receiver, putaway, picker, packer, returns, counter,
        /// supervisor, trainer, admin
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// The PIN (4 to 8 digits); read from standard input when left out
        #[arg(long)]
        pin: Option<String>,
    },
    /// Disable a user: terminals refuse the badge, the server rejects its events
    Disable { badge: String },
    /// List users and the state of their badges
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ServerImportKind {
    /// sku,description,base_unit,gtins,lot_tracked,expiry_tracked,shelf_life_days,abc,unit_cost_cents,category
    Items,
    /// code,site,zone,kind,role,pick_seq,check_digits,capacity
    Locations,
    /// badge,name,roles,pin
    Users,
    /// po,supplier,site,expected_date,line,sku,qty
    PurchaseOrders,
    /// sku,category,zone,location
    PutawayRules,
    /// order,customer,site,due_date,line,sku,qty
    Orders,
    /// rma,customer,site,order,created_date,line,sku,qty,reason
    Rmas,
}

impl From<ServerImportKind> for floorhand::server::admin::ImportKind {
    fn from(k: ServerImportKind) -> Self {
        match k {
            ServerImportKind::Items => Self::Items,
            ServerImportKind::Locations => Self::Locations,
            ServerImportKind::Users => Self::Users,
            ServerImportKind::PurchaseOrders => Self::PurchaseOrders,
            ServerImportKind::PutawayRules => Self::PutawayRules,
            ServerImportKind::Orders => Self::Orders,
            ServerImportKind::Rmas => Self::Rmas,
        }
    }
}

fn serve(listen: &str, store: &Path, data_dir: &Path) -> Result<ExitCode> {
    eprintln!(
        "Floorhand server: listening on {listen}, store {}; log in {}. Ctrl-C stops it.",
        store.display(),
        data_dir.join("floorhand.log").display()
    );
    floorhand::server::run(listen, store)?;
    Ok(ExitCode::SUCCESS)
}

fn server_admin(path: &Path, command: ServerCommand) -> Result<ExitCode> {
    if let ServerCommand::Init { demo: with_demo } = command {
        let done = admin::init(path, with_demo)?;
        println!(
            "Server store ready at {} (journal head {})",
            done.path.display(),
            done.head
        );
        if done.demo {
            println!("Loaded the demo warehouse, site WH1, with its orders and RMAs.");
            print_logins();
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut store = admin::open_store(path)?;
    match command {
        ServerCommand::Init { .. } => {}
        ServerCommand::Enroll { terminal, site } => {
            let e = admin::enroll(&mut store, &terminal, &site, chrono::Utc::now())?;
            println!(
                "Enrolment code for terminal {} at site {}:",
                e.terminal, e.site
            );
            println!("\n    {}\n", e.code);
            println!(
                "Valid once, until {}. On the terminal: floorhand enroll --server http://SERVER:PORT --code {}",
                admin::format_time(e.expires),
                e.code
            );
            if e.known {
                eprintln!(
                    "note: {} was enrolled before. Enrol the same store again under this id only; \
                     a new or wiped terminal needs a new id",
                    e.terminal
                );
            }
        }
        ServerCommand::Users { command } => match command {
            ServerUsersCommand::Add {
                badge,
                name,
                roles,
                pin,
            } => {
                let roles = admin::parse_roles(&roles)?;
                let pin = pin_or_prompt(&badge, pin)?;
                admin::add_user(
                    &mut store,
                    admin::ADMIN_USER,
                    &NewUser {
                        badge: badge.clone(),
                        name,
                        roles,
                        pin,
                    },
                )?;
                println!("user {badge} saved");
            }
            ServerUsersCommand::Disable { badge } => {
                if admin::disable_user(&mut store, &badge)? {
                    println!("user {badge} disabled");
                } else {
                    println!("user {badge} was disabled already");
                }
            }
            ServerUsersCommand::List { json } => {
                let users = store.users()?;
                if json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&admin::users_json(&users))?
                    );
                } else {
                    print!("{}", admin::users_table(&users));
                }
            }
        },
        ServerCommand::Import { what, file } => {
            let reader = std::fs::File::open(&file)
                .wrap_err_with(|| format!("cannot read {}", file.display()))?;
            let kind = admin::ImportKind::from(what);
            let n = admin::import(
                &mut store,
                admin::ADMIN_USER,
                kind,
                reader,
                &file.display().to_string(),
            )?;
            println!("imported {n} {}", kind.label());
        }
        ServerCommand::Terminals { json } => {
            let list = store.terminals_report()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                print!("{}", admin::terminals_table(&list));
            }
        }
        ServerCommand::Revoke { terminal } => {
            admin::revoke(&mut store, &terminal)?;
            println!("terminal {terminal} revoked: its next request is refused");
        }
        ServerCommand::Exceptions { site, all, json } => {
            store.catch_up()?;
            let rows = store.exceptions(site.as_deref(), !all)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                print!("{}", admin::exceptions_table(&rows));
            }
        }
        ServerCommand::Availability { site, json } => {
            let today = chrono::Local::now().date_naive();
            let rows = store.availability(site.as_deref(), today)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                print!("{}", admin::availability_table(&rows));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
