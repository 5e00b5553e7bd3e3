//! The command line, run as a user would: the real binary on a store in a temp dir.

use floorhand::store::Store;
use std::path::PathBuf;
use std::process::{Command, Output};

type TestResult = Result<(), Box<dyn std::error::Error>>;

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Result<Self, std::io::Error> {
        Ok(Self {
            dir: tempfile::tempdir()?,
        })
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("store.db")
    }

    fn file(&self, name: &str, text: &str) -> Result<PathBuf, std::io::Error> {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text)?;
        Ok(p)
    }

    fn run(&self, args: &[&str]) -> Result<Output, std::io::Error> {
        Command::new(env!("CARGO_BIN_EXE_floorhand"))
            .arg("--db")
            .arg(self.db())
            .args(args)
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("FLOORHAND_CONFIG", self.dir.path().join("none.toml"))
            .env_remove("FLOORHAND_DB")
            .output()
    }

    fn journal_len(&self) -> Result<i64, Box<dyn std::error::Error>> {
        Ok(Store::open(&self.db(), "T01")?.journal_len()?)
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const LOCATIONS: &str = "code,site,zone,kind,role,pick_seq,check_digits,capacity
SUPPLIER,WH1,,virtual,supplier,,,
A-01,WH1,A,physical,storage,10,42,100
";

const ITEMS: &str = "sku,description,base_unit,gtins,lot_tracked,expiry_tracked,shelf_life_days,abc,unit_cost_cents,category
SKU-1,Oat milk 1L,EA,0614141100019;10614141100016*6,true,true,30,A,120,dairy
SKU-2,Tea 50 bags,EA,0614141100026,false,false,,C,250,pantry
";

#[test]
fn init_demo_prints_logins_and_the_store_checks_out() -> TestResult {
    let env = Env::new()?;
    let out = env.run(&["init", "--demo"])?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("1001") && stdout.contains("1111") && stdout.contains("receiver"),
        "{stdout}"
    );
    let out = env.run(&["check"])?;
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("all checks hold"));
    let out = env.run(&["check", "--json"])?;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(report["ok"], true);
    // A second init --demo on the same store is refused.
    let out = env.run(&["init", "--demo"])?;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("already holds data"));
    Ok(())
}

#[test]
fn stock_json_by_item_gtin_and_location() -> TestResult {
    let env = Env::new()?;
    assert!(env.run(&["init", "--demo"])?.status.success());
    let out = env.run(&["stock", "--item", "SKU-10001", "--json"])?;
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)?;
    let total: i64 = rows.iter().filter_map(|r| r["qty"].as_i64()).sum();
    assert_eq!(total, 186);
    // The case GTIN names the same item.
    let out = env.run(&["stock", "--item", "10614141100016", "--json"])?;
    let by_gtin: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)?;
    assert_eq!(by_gtin, rows);
    let out = env.run(&["stock", "--location", "QUAR-01", "--json"])?;
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)?;
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r["available"] == false),
        "quarantine is not available"
    );
    let out = env.run(&["stock", "--item", "NOPE"])?;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("not found: item NOPE"));
    Ok(())
}

#[test]
fn good_imports_land() -> TestResult {
    let env = Env::new()?;
    let locs = env.file("l.csv", LOCATIONS)?;
    let items = env.file("i.csv", ITEMS)?;
    let users = env.file(
        "u.csv",
        "badge,name,roles,pin\n2001,Sam Lee,picker;counter,4321\n",
    )?;
    for (what, file, want) in [
        ("locations", &locs, "imported 2 locations"),
        ("items", &items, "imported 2 items"),
        ("users", &users, "imported 1 users"),
    ] {
        let out = env.run(&["import", what, &file.to_string_lossy()])?;
        assert!(out.status.success(), "{what}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains(want), "{}", text(&out.stdout));
    }
    let store = Store::open(&env.db(), "T01")?;
    assert_eq!(
        store
            .item_by_gtin("0614141100019")?
            .map(|(i, p)| (i.sku, p)),
        Some(("SKU-1".into(), 1))
    );
    assert_eq!(
        store.item_by_gtin("10614141100016")?.map(|(_, p)| p),
        Some(6)
    );
    assert_eq!(
        store.location("A-01")?.and_then(|l| l.check_digits),
        Some("42".into())
    );
    let out = env.run(&["users", "list", "--json"])?;
    let users: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)?;
    assert_eq!(users[0]["roles"], serde_json::json!(["picker", "counter"]));
    Ok(())
}

/// A bad row anywhere: an error naming the line and the field, and nothing imported.
#[test]
fn bad_imports_name_line_and_field_and_change_nothing() -> TestResult {
    let env = Env::new()?;
    let locs = env.file("l.csv", LOCATIONS)?;
    assert!(
        env.run(&["import", "locations", &locs.to_string_lossy()])?
            .status
            .success()
    );
    let before = env.journal_len()?;
    let bad_check_digit = ITEMS.replace("0614141100026", "0614141100027");
    let cases: Vec<(&str, String, &str)> = vec![
        ("items", bad_check_digit, "line 3, field gtins"),
        (
            "items",
            ITEMS.replace("C,250", "Q,250"),
            "line 3, field abc",
        ),
        (
            "items",
            ITEMS.replace("true,true,30", "maybe,true,30"),
            "line 2, field lot_tracked",
        ),
        (
            "items",
            ITEMS.replace("Tea 50 bags,EA,", "Tea 50 bags,"),
            "line 3: has 9 fields, the header has 10",
        ),
        (
            "items",
            format!("{ITEMS}SKU-1,Again,EA,,false,false,,A,1,x\n"),
            "line 4, field sku: SKU-1 is already on line 2",
        ),
        ("items", "sku,description\n".into(), "no column base_unit"),
        (
            "locations",
            LOCATIONS.replace("physical,storage", "physical,attic"),
            "line 3, field role",
        ),
        (
            "locations",
            LOCATIONS.replace(",42,", ",4x,"),
            "line 3, field check_digits",
        ),
        (
            "locations",
            LOCATIONS.replace("virtual,supplier", "physical,supplier"),
            "line 2, field kind",
        ),
        (
            "users",
            "badge,name,roles,pin\n2001,Sam,picker,12\n".into(),
            "line 2, field pin",
        ),
        (
            "users",
            "badge,name,roles,pin\n2001,Sam,boss,1234\n".into(),
            "line 2, field roles",
        ),
    ];
    for (what, csv, want) in cases {
        let f = env.file("bad.csv", &csv)?;
        let out = env.run(&["import", what, &f.to_string_lossy()])?;
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{what} {want}: accepted");
        assert!(err.contains(want), "{what}: wanted {want:?} in\n{err}");
        assert!(err.contains("Nothing was imported"), "{err}");
        assert_eq!(env.journal_len()?, before, "{want}: store changed");
    }
    // Not a file at all.
    let out = env.run(&["import", "items", "/nonexistent/items.csv"])?;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("cannot read"));
    Ok(())
}

#[test]
fn users_add_lock_and_unlock() -> TestResult {
    let env = Env::new()?;
    let out = env.run(&[
        "users",
        "add",
        "3001",
        "--name",
        "Jo Park",
        "--roles",
        "picker,packer",
        "--pin",
        "2468",
    ])?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = env.run(&[
        "users", "add", "3002", "--name", "X", "--roles", "chef", "--pin", "2468",
    ])?;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("\"chef\" is not a role"));
    {
        let mut store = Store::open(&env.db(), "T01")?;
        let mut t = chrono::Utc::now();
        for _ in 0..5 {
            store.login("3001", "0000", t)?;
            t += chrono::Duration::minutes(10);
        }
    }
    let out = env.run(&["users", "list"])?;
    assert!(
        text(&out.stdout).contains("LOCKED"),
        "{}",
        text(&out.stdout)
    );
    let out = env.run(&["users", "unlock", "3001"])?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = env.run(&["users", "list"])?;
    assert!(text(&out.stdout).contains("active"));
    let out = env.run(&["users", "unlock", "9999"])?;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("not found: badge 9999"));
    Ok(())
}

#[test]
fn check_fails_on_a_broken_store_and_names_the_violation() -> TestResult {
    let env = Env::new()?;
    assert!(env.run(&["init", "--demo"])?.status.success());
    let c = rusqlite::Connection::open(env.db())?;
    c.execute(
        "UPDATE stock SET qty = qty - 1000
         WHERE location_id = (SELECT id FROM locations WHERE code = 'PF-A-01')",
        [],
    )?;
    drop(c);
    let out = env.run(&["check"])?;
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("conservation") && stdout.contains("FAILED"),
        "{stdout}"
    );
    assert!(
        stdout.contains("PF-A-01 holds -892 of SKU-10001"),
        "{stdout}"
    );
    Ok(())
}

#[test]
fn a_too_new_store_is_refused_with_a_clear_message() -> TestResult {
    let env = Env::new()?;
    assert!(env.run(&["init"])?.status.success());
    let c = rusqlite::Connection::open(env.db())?;
    c.pragma_update(None, "user_version", 999)?;
    drop(c);
    let out = env.run(&["stock"])?;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("written by a newer Floorhand"),
        "{}",
        text(&out.stderr)
    );
    Ok(())
}

#[test]
fn the_tui_refuses_to_start_without_a_terminal() -> TestResult {
    let env = Env::new()?;
    let out = env.run(&[])?;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("need a terminal"));
    Ok(())
}

#[test]
fn help_version_completions_and_bad_config() -> TestResult {
    let env = Env::new()?;
    for args in [
        vec!["--help"],
        vec!["stock", "--help"],
        vec!["users", "add", "--help"],
        vec!["import", "--help"],
    ] {
        let out = env.run(&args)?;
        assert!(out.status.success(), "{args:?}");
        assert!(text(&out.stdout).contains("Usage"), "{args:?}");
    }
    let out = env.run(&["--version"])?;
    assert!(text(&out.stdout).starts_with("floorhand "));
    let out = env.run(&["completions", "bash"])?;
    assert!(text(&out.stdout).contains("_floorhand"));
    let cfg = env.file("bad.toml", "idle_logout_secs = \"soon\"\n")?;
    let out = Command::new(env!("CARGO_BIN_EXE_floorhand"))
        .args([
            "--config",
            &cfg.to_string_lossy(),
            "--db",
            &env.db().to_string_lossy(),
            "check",
        ])
        .env("XDG_DATA_HOME", env.dir.path().join("data"))
        .output()?;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("is not valid"),
        "{}",
        text(&out.stderr)
    );
    Ok(())
}

#[test]
fn barcode_explains_gs1_and_gtins() -> TestResult {
    let env = Env::new()?;
    let out = env.run(&["barcode", "]C10110614141100290172712311012AB\u{1d}372"])?;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for want in [
        "GS1-128",
        "(01) GTIN: 10614141100290",
        "2027-12-31",
        "(10) BATCH/LOT: 12AB",
        "(37) COUNT: 2",
    ] {
        assert!(stdout.contains(want), "{want} in\n{stdout}");
    }
    let out = env.run(&["barcode", "(01)09506000134352(3103)001250", "--json"])?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(v["elements"][1]["value"]["Decimal"]["digits"], 1250);
    let out = env.run(&["barcode", "0614141100019"])?;
    assert!(text(&out.stdout).contains("check digit ok"));
    for (bad, want) in [
        ("0614141100018", "check digit should be 9"),
        ("(01)09506000134353", "bad check digit"),
        ("(17)261340", "invalid date"),
    ] {
        let out = env.run(&["barcode", bad])?;
        assert!(!out.status.success(), "{bad} accepted");
        assert!(
            text(&out.stderr).contains(want),
            "{bad}: {}",
            text(&out.stderr)
        );
    }
    Ok(())
}

#[test]
fn purchase_orders_and_putaway_rules_import_all_or_nothing() -> TestResult {
    let env = Env::new()?;
    let locs = env.file("l.csv", LOCATIONS)?;
    let items = env.file("i.csv", ITEMS)?;
    for (what, f) in [("locations", &locs), ("items", &items)] {
        assert!(
            env.run(&["import", what, &f.to_string_lossy()])?
                .status
                .success()
        );
    }
    let pos = env.file(
        "po.csv",
        "po,supplier,site,expected_date,line,sku,qty\nPO-1,Acme,WH1,2026-12-01,1,SKU-1,10\nPO-1,Acme,WH1,2026-12-01,2,SKU-2,5\n",
    )?;
    let out = env.run(&["import", "purchase-orders", &pos.to_string_lossy()])?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("imported 1 purchase orders"));
    let store = Store::open(&env.db(), "T01")?;
    assert_eq!(
        store.purchase_order("PO-1")?.map(|p| p.lines.len()),
        Some(2)
    );
    drop(store);
    let before = env.journal_len()?;
    for (csv, want) in [
        (
            "po,supplier,site,expected_date,line,sku,qty\nPO-2,Acme,WH1,,1,SKU-1,1\nPO-2,Other,WH1,,2,SKU-2,1\n",
            "line 3",
        ),
        (
            "po,supplier,site,expected_date,line,sku,qty\nPO-2,Acme,WH1,,1,SKU-1,1\nPO-2,Acme,WH1,,1,SKU-2,1\n",
            "line 3, field line",
        ),
        (
            "po,supplier,site,expected_date,line,sku,qty\nPO-2,Acme,WH1,,1,NOPE,1\n",
            "not found: NOPE",
        ),
    ] {
        let f = env.file("bad.csv", csv)?;
        let out = env.run(&["import", "purchase-orders", &f.to_string_lossy()])?;
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains(want),
            "{want}: {}",
            text(&out.stderr)
        );
        assert_eq!(env.journal_len()?, before);
    }
    let rules = env.file(
        "r.csv",
        "sku,category,zone,location\n,dairy,A,\nSKU-2,,,A-01\n",
    )?;
    assert!(
        env.run(&["import", "putaway-rules", &rules.to_string_lossy()])?
            .status
            .success()
    );
    let bad = env.file("r2.csv", "sku,category,zone,location\nSKU-2,dairy,A,\n")?;
    let out = env.run(&["import", "putaway-rules", &bad.to_string_lossy()])?;
    assert!(
        text(&out.stderr).contains("line 2, field sku"),
        "{}",
        text(&out.stderr)
    );
    let out = env.run(&["discrepancies", "--json"])?;
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)?;
    assert!(list.is_empty());
    Ok(())
}
