//! LPN labels: rendering the ZPL template and sending labels to a directory, a TCP printer
//! and a command.

use chrono::{NaiveDate, TimeZone, Utc};
use floorhand::labels::{LPN_TEMPLATE, LabelError, LpnLabel, Printer, render, send};
use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn label() -> Result<LpnLabel, Box<dyn std::error::Error>> {
    Ok(LpnLabel {
        lpn: "T01-000042".into(),
        sku: "SKU-1001".into(),
        description: "Widget, blue, 12 pack".into(),
        gtin: Some("09506000134352".into()),
        lot: "ABC123".into(),
        expiry: Some(NaiveDate::from_ymd_opt(2026, 12, 31).ok_or("date")?),
        qty: 12,
        unit: "EA".into(),
        po: "PO-7781".into(),
        receipt: "RCV-0009".into(),
        site: "Main DC".into(),
        printed_at: Utc
            .with_ymd_and_hms(2026, 11, 22, 6, 30, 45)
            .single()
            .ok_or("time")?,
    })
}

/// The field data of every `^BC` barcode in a rendered label.
fn barcodes(zpl: &str) -> Vec<&str> {
    zpl.lines()
        .filter(|l| l.contains("^BC"))
        .filter_map(|l| l.split_once("^FD"))
        .filter_map(|(_, rest)| rest.split_once("^FS"))
        .map(|(data, _)| data)
        .collect()
}

fn assert_valid_label(zpl: &str) {
    assert!(zpl.starts_with("^XA"), "{zpl}");
    assert!(zpl.trim_end().ends_with("^XZ"), "{zpl}");
    assert_eq!(zpl.matches("^XA").count(), 1, "{zpl}");
    assert_eq!(zpl.matches("^XZ").count(), 1, "{zpl}");
    assert!(!zpl.contains('~'), "{zpl}");
    assert!(!zpl.contains("{{"), "{zpl}");
    assert!(zpl.contains("^CI28"), "{zpl}");
    for line in zpl.lines().filter(|l| l.contains("^FD")) {
        assert_eq!(
            line.matches("^FD").count(),
            line.matches("^FS").count(),
            "unbalanced field: {line}"
        );
    }
}

// ----- render -----

#[test]
fn render_fills_every_placeholder() -> TestResult {
    let zpl = render(LPN_TEMPLATE, &label()?);
    assert_valid_label(&zpl);
    for expected in [
        "^FDMain DC^FS",
        "^FDT01-000042^FS",
        "^FDSKU-1001^FS",
        "^FDWidget, blue, 12 pack^FS",
        "^FDABC123^FS",
        "^FD2026-12-31^FS",
        "^FD12 EA^FS",
        "^FDPO-7781^FS",
        "^FDRCV-0009^FS",
        "^FDPrinted 2026-11-22 06:30 UTC^FS",
        "^FD(02)09506000134352(17)261231(10)ABC123(37)12^FS",
    ] {
        assert!(zpl.contains(expected), "missing {expected} in\n{zpl}");
    }
    Ok(())
}

#[test]
fn render_gs1_data_for_lot_expiry_and_count() -> TestResult {
    let zpl = render(LPN_TEMPLATE, &label()?);
    // Element string: (02)09506000134352 (17)261231 (10)ABC123 <FNC1> (37)12.
    // In ZPL ^BC mode N: >; Start C, >8 FNC1 (first position: GS1-128); then digit pairs in
    // subset C: 01 09 50 60 00 13 43 52 | 17 26 12 31 | 10; the lot is not digits, so >6
    // switches to subset B for ABC123; >8 is the FNC1 that ends the variable-length lot; 3712 is
    // four digits at the end, so >5 switches back to subset C for 37 12.
    let expected = [
        ">;",
        ">8",
        "0209506000134352",
        "17261231",
        "10",
        ">6",
        "ABC123",
        ">8",
        ">5",
        "3712",
    ]
    .concat();
    assert_eq!(barcodes(&zpl), vec![">:T01->5000042", expected.as_str()]);
    Ok(())
}

#[test]
fn render_gs1_with_numeric_lot_and_no_count() -> TestResult {
    let mut l = label()?;
    l.lot = "4711".into();
    l.qty = 0;
    let zpl = render(LPN_TEMPLATE, &l);
    // All digits, an even number: subset C throughout; (10) is last, so no FNC1 after it.
    let expected = ">;>8020950600013435217261231104711";
    assert_eq!(barcodes(&zpl).get(1), Some(&expected));
    assert!(zpl.contains("^FD(02)09506000134352(17)261231(10)4711^FS"));
    Ok(())
}

#[test]
fn render_neutralises_zpl_injection() -> TestResult {
    let mut l = label()?;
    l.description = "Widget^XZ~JR".into();
    l.lot = "L1^XZ~JR\r\n^XA".into();
    l.sku = "{{lpn}}".into();
    let zpl = render(LPN_TEMPLATE, &l);
    assert_valid_label_except_braces(&zpl);
    assert!(zpl.contains("^FDWidget XZ JR^FS"), "{zpl}");
    assert!(zpl.contains("^FDL1 XZ JR XA^FS"), "{zpl}");
    // A value is never expanded as a placeholder.
    assert!(zpl.contains("^FD{{lpn}}^FS"), "{zpl}");
    // That lot is not valid GS1 data: the GS1 barcode is left off rather than printed without it.
    assert_eq!(barcodes(&zpl), vec![">:T01->5000042"]);
    Ok(())
}

fn assert_valid_label_except_braces(zpl: &str) {
    assert_valid_label(&zpl.replace("{{lpn}}", "lpn"));
}

#[test]
fn render_without_gtin_has_no_gs1_barcode() -> TestResult {
    let mut l = label()?;
    l.gtin = None;
    let zpl = render(LPN_TEMPLATE, &l);
    assert_valid_label(&zpl);
    assert_eq!(barcodes(&zpl), vec![">:T01->5000042"]);
    assert!(!zpl.contains(">;>8"));
    assert!(!zpl.contains("(02)"));
    // The rest of the label is still there.
    assert!(zpl.contains("^FDABC123^FS") && zpl.contains("^FD12 EA^FS"));
    Ok(())
}

#[test]
fn render_with_bad_gtin_has_no_gs1_barcode() -> TestResult {
    let mut l = label()?;
    l.gtin = Some("09506000134353".into());
    let zpl = render(LPN_TEMPLATE, &l);
    assert_valid_label(&zpl);
    assert_eq!(barcodes(&zpl).len(), 1);
    Ok(())
}

#[test]
fn render_without_lot_and_expiry() -> TestResult {
    let mut l = label()?;
    l.lot = String::new();
    l.expiry = None;
    let zpl = render(LPN_TEMPLATE, &l);
    assert_valid_label(&zpl);
    // (02) has a predefined length: no FNC1 before (37); 20 digits, all in subset C.
    assert_eq!(barcodes(&zpl).get(1), Some(&">;>802095060001343523712"));
    assert!(zpl.contains("^FD(02)09506000134352(37)12^FS"));
    Ok(())
}

#[test]
fn render_cuts_description_to_40_characters() -> TestResult {
    let mut l = label()?;
    l.description = "Ä".repeat(39) + "BCDEF";
    let zpl = render(LPN_TEMPLATE, &l);
    let expected = format!("^FD{}B^FS", "Ä".repeat(39));
    assert!(zpl.contains(&expected), "{zpl}");
    Ok(())
}

// ----- the printer setting -----

#[test]
fn printer_setting_forms() -> TestResult {
    assert_eq!("none".parse::<Printer>()?, Printer::None);
    assert_eq!(Printer::default(), Printer::None);
    assert_eq!(
        "dir:/var/spool/labels".parse::<Printer>()?,
        Printer::Dir(PathBuf::from("/var/spool/labels"))
    );
    assert_eq!(
        "tcp:10.0.0.5:9100".parse::<Printer>()?,
        Printer::Tcp("10.0.0.5:9100".into())
    );
    assert_eq!(
        "tcp:zebra-dock1.local:9100".parse::<Printer>()?,
        Printer::Tcp("zebra-dock1.local:9100".into())
    );
    assert_eq!(
        "tcp:[::1]:9100".parse::<Printer>()?,
        Printer::Tcp("[::1]:9100".into())
    );
    assert_eq!(
        "command:lp -d zebra -o raw".parse::<Printer>()?,
        Printer::Command("lp -d zebra -o raw".into())
    );
    for p in [
        Printer::None,
        Printer::Dir("/tmp/x".into()),
        Printer::Tcp("h:1".into()),
        Printer::Command("lp".into()),
    ] {
        assert_eq!(p.to_string().parse::<Printer>()?, p);
    }
    for bad in [
        "",
        "zebra",
        "tcp:10.0.0.5",
        "tcp::9100",
        "tcp:10.0.0.5:port",
        "tcp:10.0.0.5:0",
        "tcp:10.0.0.5:70000",
        "tcp:::1:9100",
        "dir:",
        "command:  ",
        "lp -d zebra",
    ] {
        let err = bad
            .parse::<Printer>()
            .err()
            .ok_or(format!("{bad:?} was accepted"))?;
        assert!(matches!(err, LabelError::BadPrinter { .. }));
        assert!(
            err.to_string()
                .starts_with("printer must be none, dir:PATH, tcp:HOST:PORT or command:CMD"),
            "{err}"
        );
    }
    Ok(())
}

#[test]
fn printer_setting_deserializes_from_its_string_form() -> TestResult {
    #[derive(serde::Deserialize)]
    struct Settings {
        printer: Printer,
    }
    let s: Settings = toml::from_str(r#"printer = "tcp:10.0.0.5:9100""#)?;
    assert_eq!(s.printer, Printer::Tcp("10.0.0.5:9100".into()));
    let bad = toml::from_str::<Settings>(r#"printer = "usb""#)
        .err()
        .ok_or("accepted")?;
    assert!(bad.to_string().contains("printer must be none"), "{bad}");
    Ok(())
}

// ----- sending -----

#[test]
fn send_none_does_nothing() -> TestResult {
    send(&Printer::None, "T01-000042", "^XA^XZ")?;
    Ok(())
}

#[test]
fn send_to_dir_writes_the_file_atomically() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("labels").join("dock1");
    let zpl = render(LPN_TEMPLATE, &label()?);
    send(&Printer::Dir(dir.clone()), "T01-000042", &zpl)?;
    assert_eq!(std::fs::read_to_string(dir.join("T01-000042.zpl"))?, zpl);
    // Reprinting replaces the label.
    send(&Printer::Dir(dir.clone()), "T01-000042", "^XA^XZ")?;
    assert_eq!(
        std::fs::read_to_string(dir.join("T01-000042.zpl"))?,
        "^XA^XZ"
    );
    let names: Vec<_> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()?;
    assert_eq!(names, vec![std::ffi::OsString::from("T01-000042.zpl")]);
    Ok(())
}

#[test]
fn send_to_unwritable_dir_fails() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, "x")?;
    let dir = file.join("labels");
    let err = send(&Printer::Dir(dir.clone()), "T01-000042", "^XA^XZ")
        .err()
        .ok_or("no error")?;
    assert!(matches!(err, LabelError::DirUnwritable { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "label directory {} cannot be written: ",
            dir.display()
        )),
        "{msg}"
    );
    Ok(())
}

#[test]
fn send_to_dir_refuses_names_that_are_not_file_names() -> TestResult {
    let tmp = tempfile::tempdir()?;
    for name in ["", "../x", "a/b", ".hidden", "a\nb"] {
        let err = send(&Printer::Dir(tmp.path().into()), name, "^XA^XZ")
            .err()
            .ok_or(format!("{name:?} accepted"))?;
        assert!(matches!(err, LabelError::BadName { .. }), "{err:?}");
    }
    assert_eq!(std::fs::read_dir(tmp.path())?.count(), 0);
    Ok(())
}

#[test]
fn send_to_tcp_printer_delivers_the_label() -> TestResult {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let printer = std::thread::spawn(move || -> std::io::Result<Vec<u8>> {
        let (mut stream, _) = listener.accept()?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut received = Vec::new();
        stream.read_to_end(&mut received)?;
        Ok(received)
    });
    let zpl = render(LPN_TEMPLATE, &label()?);
    send(&Printer::Tcp(addr.to_string()), "T01-000042", &zpl)?;
    let received = printer.join().map_err(|_| "printer thread failed")??;
    assert_eq!(received, zpl.as_bytes());
    Ok(())
}

#[test]
fn send_to_closed_tcp_port_fails_quickly() -> TestResult {
    // Port 1 (tcpmux): below the range a bind to port 0 hands out, so no test running
    // beside this one can be listening there. (A port freed by dropping a listener could
    // be handed straight to another test's listener.)
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 1));
    let started = Instant::now();
    let err = send(&Printer::Tcp(addr.to_string()), "T01-000042", "^XA^XZ")
        .err()
        .ok_or("no error")?;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(err, LabelError::PrinterNoAnswer { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "label printer at {addr} did not answer: check it is on and connected"
        )),
        "{msg}"
    );
    Ok(())
}

#[test]
fn send_to_unknown_host_fails() -> TestResult {
    let err = send(
        &Printer::Tcp("no-such-printer.invalid:9100".into()),
        "T01-000042",
        "^XA^XZ",
    )
    .err()
    .ok_or("no error")?;
    assert!(
        err.to_string().contains("no-such-printer.invalid:9100"),
        "{err}"
    );
    Ok(())
}

#[test]
fn send_to_command_pipes_the_label() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let out = tmp.path().join("printed label.zpl");
    let zpl = render(LPN_TEMPLATE, &label()?);
    let command = format!("cat > '{}'", out.display());
    send(&Printer::Command(command), "T01-000042", &zpl)?;
    assert_eq!(std::fs::read_to_string(&out)?, zpl);
    // The label's name is in the environment.
    let named = tmp.path().join("name");
    let command = format!(
        "cat > /dev/null; printf %s \"$FLOORHAND_LABEL\" > '{}'",
        named.display()
    );
    send(&Printer::Command(command), "T01-000042", &zpl)?;
    assert_eq!(std::fs::read_to_string(&named)?, "T01-000042");
    Ok(())
}

#[test]
fn send_to_failing_command_reports_exit_status_and_stderr() -> TestResult {
    let err = send(&Printer::Command("exit 3".into()), "T01-000042", "^XA^XZ")
        .err()
        .ok_or("no error")?;
    assert!(matches!(err, LabelError::CommandFailed { .. }), "{err:?}");
    assert_eq!(err.to_string(), "label command failed (exit 3)");

    let command = "cat > /dev/null; echo 'lp: The printer or class does not exist.' >&2; exit 1";
    let err = send(&Printer::Command(command.into()), "T01-000042", "^XA^XZ")
        .err()
        .ok_or("no error")?;
    assert_eq!(
        err.to_string(),
        "label command failed (exit 1): lp: The printer or class does not exist."
    );

    let command = "printf '%0300d' 0 >&2; exit 2";
    let err = send(&Printer::Command(command.into()), "T01-000042", "^XA^XZ")
        .err()
        .ok_or("no error")?;
    assert_eq!(
        err.to_string(),
        format!("label command failed (exit 2): {}", "0".repeat(200))
    );
    Ok(())
}
