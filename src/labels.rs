//! License-plate (LPN) labels: filled in from a ZPL template and sent to a printer.
//!
//! After a receiver receives a case or pallet, the terminal prints an LPN label for it. The label
//! is ZPL II text: [`render`] fills the `{{placeholders}}` of a template (normally
//! [`LPN_TEMPLATE`], `assets/labels/lpn.zpl`) and [`send`] delivers it to where the terminal's
//! config says ([`Printer`]): a directory, a raw TCP printer port (`host:9100`) or a command
//! such as `lp`.
//!
//! # Placeholders
//!
//! | placeholder | value |
//! | --- | --- |
//! | `lpn`, `sku`, `gtin`, `lot`, `unit`, `po`, `receipt`, `site` | as given (`gtin` empty if none) |
//! | `description` | cut to 40 characters |
//! | `expiry` | `YYYY-MM-DD`, or empty |
//! | `qty` | the number |
//! | `printed_at` | `YYYY-MM-DD HH:MM UTC` |
//! | `lpn_barcode` | the LPN as `^BC` mode N field data (see below) |
//! | `gs1` | the GS1-128 data as `^BC` mode N field data (see below) |
//! | `gs1_text` | the GS1 data for people: `(02)09506000134352(17)261231(10)ABC123(37)12` |
//!
//! All values are sanitized so that data cannot inject ZPL: control characters are removed and
//! the command prefixes `^` and `~` become spaces. Substitution is a single pass over the
//! template, so a value that itself contains `{{...}}` is printed as is, never expanded. An
//! unknown placeholder is left in the output untouched (so a typo in a template shows).
//!
//! # Labels without GS1 data
//!
//! When the item has no GTIN, or its data cannot be encoded as valid GS1 (see below), every
//! template line that contains `{{gs1}}` or `{{gs1_text}}` is dropped before the placeholders are
//! filled. The template keeps each of those fields (`^FO ... ^FS`) on a line of its own, so the
//! label stays valid ZPL (`^XA ... ^XZ`) with no empty barcode on it.
//!
//! # Code 128 in ZPL (`^BC` with mode N)
//!
//! Source: Zebra, *ZPL II Programming Guide*, `^BC`, "Code 128 Subsets" and table "Code 128
//! Invocation Characters" (45541L-004 Rev. A p. 49-52; the same table is in the current Zebra
//! Programming Guide). In field data for `^BC` with mode N:
//!
//! * `>;` is Start C, `>:` is Start B (without a start code the printer uses subset B);
//! * `>8` is FNC1 in every subset;
//! * in subset C, `>6` switches to subset B; in subset B, `>5` switches to subset C (in subset B,
//!   `>6` is FNC4, so it is never used there);
//! * subset C takes digit pairs only. The printer does **not** switch subsets by itself in
//!   mode N: a non-digit in subset C is ignored or voids its pair, and "an extra unpaired digit
//!   just before a code shift is also ignored". So an element string cannot just be pasted
//!   after `>;>8`: a lot such as `ABC123` or an odd number of digits would be lost. The renderer
//!   therefore writes the subset switches itself: subset C for runs of at least 4 digits that
//!   end the data or meet an FNC1, or of at least 6 digits elsewhere; subset B otherwise. (Any
//!   valid choice of subsets scans the same; this one keeps the symbol short, as in ISO/IEC
//!   15417 Annex E.);
//! * in subset B, the characters `^`, `>` and `~` must be written `><`, `>0` and `>=`.
//!
//! `{{gs1}}` is FNC1 in first position (which makes the symbol GS1-128), then the element
//! string `(02)GTIN (17)YYMMDD (10)LOT (37)QTY` in that order, each where present, with FNC1
//! (`>8`) after a variable-length value ((10) and (37)) that is not last. It always starts with
//! `>;>8` (Start C, FNC1), since it always starts with `02` and 14 digits. Example: GTIN
//! 09506000134352, expiry 2026-12-31, lot ABC123, qty 12 gives
//! `>;>802095060001343521726123110>6ABC123>8>53712`.
//!
//! Mode D (UCC/EAN mode, which does all this in the printer) needs firmware x.11 or later, so
//! it is not used.
//!
//! The data is checked with [`gs1::parse_at`] (GTIN check digit, lot in GS1 character set 82 and
//! at most 20 characters, a count of at most 8 digits, an expiry that reads back as the same
//! date under GS1's two-digit-year rule as of the print date). If any element fails, the whole
//! GS1 barcode is left off (and a warning is logged) rather than printing a barcode that leaves
//! out part of the data. `(37)` is left out when the quantity is 0 or less.
//!
//! The label is for a logistic unit (a case or pallet), so GS1 asks for `(02)`, the GTIN of
//! the trade items it contains, with `(37)`, their count (`37 ... req=02,8026` in GS1's syntax
//! dictionary; `(01)` may not carry a count). The quantity on the label is in base units, so
//! the GTIN given must be the item's unit GTIN.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::gs1;

/// What goes on an LPN label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LpnLabel {
    /// The license plate number, e.g. `"T01-000042"`: printed large and as a Code 128 barcode.
    pub lpn: String,
    /// The item's SKU.
    pub sku: String,
    /// The item's description (cut to 40 characters on the label).
    pub description: String,
    /// The 14-digit GTIN of the unit or case received, if known (8, 12 and 13 digits are padded).
    pub gtin: Option<String>,
    /// The lot; may be empty.
    pub lot: String,
    /// The lot's expiry date.
    pub expiry: Option<NaiveDate>,
    /// The quantity in base units.
    pub qty: i64,
    /// The base unit, e.g. `"EA"`.
    pub unit: String,
    /// The purchase order.
    pub po: String,
    /// The receipt.
    pub receipt: String,
    /// The site.
    pub site: String,
    /// When the label was printed.
    pub printed_at: DateTime<Utc>,
}

/// Where labels go. Written in the config as `"none"`, `"dir:PATH"`, `"tcp:HOST:PORT"` or
/// `"command:SHELL COMMAND"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum Printer {
    /// No label printer: [`send`] does nothing.
    #[default]
    None,
    /// Write `<dir>/<name>.zpl` (for a spooler, a shared folder, or testing).
    Dir(PathBuf),
    /// A raw TCP port, `host:port` (Zebra printers listen on 9100). IPv6 hosts in brackets.
    Tcp(String),
    /// A command run with `sh -c`, the ZPL on its stdin, e.g. `lp -d zebra -o raw`.
    Command(String),
}

/// The ZPL template of the LPN label, `assets/labels/lpn.zpl`.
pub const LPN_TEMPLATE: &str = include_str!("../assets/labels/lpn.zpl");

/// How long [`send`] waits to connect to a TCP printer, and for each write to it.
pub const TCP_TIMEOUT: Duration = Duration::from_secs(3);

/// How long [`send`] lets a label command run before killing it.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest description printed, in characters.
const DESCRIPTION_MAX: usize = 40;

/// How much of a failed command's stderr goes into the error, in characters.
const STDERR_MAX: usize = 200;

/// Why a label could not be printed. The messages are meant for the person at the terminal.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    /// The printer setting is not one of the accepted forms.
    #[error("printer must be none, dir:PATH, tcp:HOST:PORT or command:CMD ({detail})")]
    BadPrinter {
        /// What is wrong with it.
        detail: String,
    },
    /// The label's name cannot be used as a file name.
    #[error("label name {name:?} cannot be used as a file name")]
    BadName {
        /// The name given.
        name: String,
    },
    /// The label directory cannot be created or written.
    #[error("label directory {} cannot be written: {source}", dir.display())]
    DirUnwritable {
        /// The directory.
        dir: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The printer's host name does not resolve.
    #[error("label printer {addr} cannot be found ({source}): check the printer setting")]
    PrinterNotFound {
        /// The `host:port` configured.
        addr: String,
        /// The underlying error.
        source: io::Error,
    },
    /// No address of the printer accepted a connection in time.
    #[error("label printer at {addr} did not answer: check it is on and connected ({source})")]
    PrinterNoAnswer {
        /// The `host:port` configured.
        addr: String,
        /// The error of the last address tried.
        source: io::Error,
    },
    /// The printer accepted the connection but not the label.
    #[error(
        "label printer at {addr} did not take the label: check it is on, not paused and has labels ({source})"
    )]
    PrinterWrite {
        /// The `host:port` configured.
        addr: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The label command could not be started.
    #[error("label command could not be started: {source}")]
    CommandStart {
        /// The underlying error.
        source: io::Error,
    },
    /// The label command could not be given the label or watched.
    #[error("label command could not be given the label: {source}")]
    CommandIo {
        /// The underlying error.
        source: io::Error,
    },
    /// The label command failed.
    #[error("label command failed ({status}){}", with_colon(.stderr))]
    CommandFailed {
        /// `exit N` or `killed by signal N`.
        status: String,
        /// The start of what it wrote to stderr, on one line.
        stderr: String,
    },
    /// The label command ran too long and was stopped.
    #[error("label command did not finish within {} s and was stopped", .limit.as_secs())]
    CommandTimeout {
        /// The time it was given.
        limit: Duration,
    },
}

fn with_colon(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

// ---------------------------------------------------------------------------------------------
// The printer setting.
// ---------------------------------------------------------------------------------------------

impl FromStr for Printer {
    type Err = LabelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |detail: String| LabelError::BadPrinter { detail };
        let text = s.trim();
        if text == "none" {
            return Ok(Printer::None);
        }
        if let Some(path) = text.strip_prefix("dir:") {
            if path.trim().is_empty() {
                return Err(bad("dir: needs a directory path".into()));
            }
            return Ok(Printer::Dir(PathBuf::from(path)));
        }
        if let Some(addr) = text.strip_prefix("tcp:") {
            let Some((host, port)) = addr.rsplit_once(':') else {
                return Err(bad(format!("{text:?} has no port")));
            };
            if host.is_empty() || host == "[]" {
                return Err(bad(format!("{text:?} has no host")));
            }
            if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
                return Err(bad(format!(
                    "{text:?}: write an IPv6 address in brackets, e.g. tcp:[::1]:9100"
                )));
            }
            if !port.parse::<u16>().is_ok_and(|p| p != 0) {
                return Err(bad(format!("{text:?}: the port must be 1 to 65535")));
            }
            return Ok(Printer::Tcp(addr.to_string()));
        }
        if let Some(command) = text.strip_prefix("command:") {
            if command.trim().is_empty() {
                return Err(bad("command: needs a command".into()));
            }
            return Ok(Printer::Command(command.to_string()));
        }
        Err(bad(format!("got {s:?}")))
    }
}

impl TryFrom<String> for Printer {
    type Error = LabelError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for Printer {
    /// The config form, which [`Printer::from_str`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Printer::None => f.write_str("none"),
            Printer::Dir(dir) => write!(f, "dir:{}", dir.display()),
            Printer::Tcp(addr) => write!(f, "tcp:{addr}"),
            Printer::Command(command) => write!(f, "command:{command}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering.
// ---------------------------------------------------------------------------------------------

/// Fills the template's `{{placeholders}}` with the label's values (see the module notes).
///
/// Lines holding `{{gs1}}` or `{{gs1_text}}` are dropped when the label has no valid GS1 data.
pub fn render(template: &str, label: &LpnLabel) -> String {
    let gs1 = gs1_data(label);
    let values = Values::new(label, gs1.as_ref());
    let mut out = String::with_capacity(template.len() + 256);
    for line in template.split_inclusive('\n') {
        if gs1.is_none() && (line.contains("{{gs1}}") || line.contains("{{gs1_text}}")) {
            continue;
        }
        fill_line(line, &values, &mut out);
    }
    out
}

/// The placeholder values of one label, already sanitized.
struct Values {
    lpn: String,
    lpn_barcode: String,
    sku: String,
    description: String,
    gtin: String,
    lot: String,
    expiry: String,
    qty: String,
    unit: String,
    po: String,
    receipt: String,
    site: String,
    printed_at: String,
    gs1: String,
    gs1_text: String,
}

impl Values {
    fn new(label: &LpnLabel, gs1: Option<&Gs1Data>) -> Self {
        let description: String = sanitize(&label.description)
            .chars()
            .take(DESCRIPTION_MAX)
            .collect();
        let lpn = sanitize(&label.lpn);
        Values {
            lpn_barcode: lpn_barcode(&lpn),
            lpn,
            sku: sanitize(&label.sku),
            description: description.trim_end().to_string(),
            gtin: sanitize(label.gtin.as_deref().unwrap_or_default()),
            lot: sanitize(&label.lot),
            expiry: label
                .expiry
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            qty: label.qty.to_string(),
            unit: sanitize(&label.unit),
            po: sanitize(&label.po),
            receipt: sanitize(&label.receipt),
            site: sanitize(&label.site),
            printed_at: label.printed_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            gs1: gs1.map(|g| g.field_data.clone()).unwrap_or_default(),
            gs1_text: gs1.map(|g| sanitize(&g.text)).unwrap_or_default(),
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        let value = match name {
            "lpn" => &self.lpn,
            "lpn_barcode" => &self.lpn_barcode,
            "sku" => &self.sku,
            "description" => &self.description,
            "gtin" => &self.gtin,
            "lot" => &self.lot,
            "expiry" => &self.expiry,
            "qty" => &self.qty,
            "unit" => &self.unit,
            "po" => &self.po,
            "receipt" => &self.receipt,
            "site" => &self.site,
            "printed_at" => &self.printed_at,
            "gs1" => &self.gs1,
            "gs1_text" => &self.gs1_text,
            _ => return None,
        };
        Some(value)
    }
}

/// Appends `line` to `out` with its known placeholders replaced, in one pass (values are never
/// scanned for placeholders themselves).
fn fill_line(line: &str, values: &Values, out: &mut String) {
    let mut rest = line;
    while let Some(start) = rest.find("{{") {
        let (before, from_open) = rest.split_at(start);
        out.push_str(before);
        let inner = from_open.get(2..).unwrap_or_default();
        match inner.find("}}") {
            Some(end) => {
                let name = inner.get(..end).unwrap_or_default();
                let after = inner.get(end + 2..).unwrap_or_default();
                match values.get(name) {
                    Some(value) => out.push_str(value),
                    None => out.push_str(from_open.get(..end + 4).unwrap_or_default()),
                }
                rest = after;
            }
            None => {
                out.push_str(from_open);
                rest = "";
            }
        }
    }
    out.push_str(rest);
}

/// Makes a value safe for a ZPL `^FD` field: control characters are removed, and the command
/// prefixes `^` and `~` become spaces.
fn sanitize(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| if c == '^' || c == '~' { ' ' } else { c })
        .collect()
}

/// The LPN as `^BC` mode N field data. Characters Code 128 subset B cannot hold (anything but
/// printable ASCII) are left out of the barcode (they still print in the text).
fn lpn_barcode(lpn: &str) -> String {
    let symbols: Vec<Symbol> = lpn
        .chars()
        .filter(|c| (' '..='~').contains(c))
        .map(Symbol::Char)
        .collect();
    if symbols.len() != lpn.chars().count() {
        tracing::warn!(
            lpn,
            "LPN has characters a Code 128 barcode cannot hold; left out"
        );
    }
    code128_field_data(&symbols)
}

/// The GS1 data of a label.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Gs1Data {
    /// `^BC` mode N field data, starting `>;>8`.
    field_data: String,
    /// The human-readable form with bracketed AIs.
    text: String,
}

/// The GS1-128 data for a label, or `None` without a GTIN or when the data is not valid GS1.
fn gs1_data(label: &LpnLabel) -> Option<Gs1Data> {
    let gtin = label
        .gtin
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())?;
    let Some(gtin) = gs1::normalize_gtin(gtin) else {
        tracing::warn!(
            lpn = label.lpn,
            gtin,
            "not a valid GTIN; GS1 barcode left off the label"
        );
        return None;
    };
    let mut elements: Vec<(&str, String)> = vec![("02", gtin)];
    if let Some(expiry) = label.expiry {
        elements.push(("17", expiry.format("%y%m%d").to_string()));
    }
    if !label.lot.trim().is_empty() {
        elements.push(("10", label.lot.clone()));
    }
    if label.qty > 0 {
        elements.push(("37", label.qty.to_string()));
    }
    let escaped: String = elements
        .iter()
        .map(|(ai, value)| format!("({ai}){}", value.replace('(', "\\(")))
        .collect();
    let parsed = match gs1::parse_at(&escaped, None, label.printed_at.date_naive()) {
        Ok(parsed) => parsed,
        Err(error) => {
            tracing::warn!(lpn = label.lpn, %error, "data is not valid GS1; GS1 barcode left off the label");
            return None;
        }
    };
    let same = parsed.elements.len() == elements.len()
        && parsed
            .elements
            .iter()
            .zip(&elements)
            .all(|(e, (ai, value))| e.ai == *ai && e.raw == *value)
        && parsed.expiry() == label.expiry;
    if !same {
        tracing::warn!(
            lpn = label.lpn,
            "GS1 data does not read back as given; GS1 barcode left off the label"
        );
        return None;
    }
    let mut symbols = vec![Symbol::Fnc1];
    symbols.extend(gs1::to_element_string(&parsed).chars().map(|c| {
        if c == gs1::GS {
            Symbol::Fnc1
        } else {
            Symbol::Char(c)
        }
    }));
    Some(Gs1Data {
        field_data: code128_field_data(&symbols),
        text: elements
            .iter()
            .map(|(ai, value)| format!("({ai}){value}"))
            .collect(),
    })
}

/// One thing to encode in Code 128: FNC1 or a character (printable ASCII).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Symbol {
    Fnc1,
    Char(char),
}

impl Symbol {
    fn is_digit(self) -> bool {
        matches!(self, Symbol::Char(c) if c.is_ascii_digit())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subset {
    B,
    C,
}

/// `^BC` mode N field data for `symbols`, with the start code and every subset switch written
/// out (see the module notes). Subset C holds digit pairs; everything else goes in subset B.
fn code128_field_data(symbols: &[Symbol]) -> String {
    // The number of digits in a row from `i`, and whether the run ends the data or meets an FNC1.
    let digit_run = |i: usize| {
        let n = symbols
            .get(i..)
            .unwrap_or_default()
            .iter()
            .take_while(|s| s.is_digit())
            .count();
        let closed = matches!(symbols.get(i + n), None | Some(Symbol::Fnc1));
        (n, closed)
    };
    let worth_c = |(n, closed): (usize, bool)| n >= 6 || (n >= 4 && closed);

    let first = symbols
        .iter()
        .position(|s| *s != Symbol::Fnc1)
        .unwrap_or(symbols.len());
    let (lead, lead_closed) = digit_run(first);
    let all_digits = lead_closed && first + lead == symbols.len();
    let mut subset = if worth_c((lead, lead_closed)) || (all_digits && lead == 2) {
        Subset::C
    } else {
        Subset::B
    };
    let mut out = String::from(match subset {
        Subset::B => ">:",
        Subset::C => ">;",
    });

    let mut i = 0;
    while let Some(&symbol) = symbols.get(i) {
        let Symbol::Char(c) = symbol else {
            out.push_str(">8");
            i += 1;
            continue;
        };
        match subset {
            Subset::C => match symbols.get(i + 1) {
                Some(&Symbol::Char(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                    out.push(c);
                    out.push(d);
                    i += 2;
                }
                _ => {
                    out.push_str(">6");
                    subset = Subset::B;
                }
            },
            Subset::B => {
                let run = digit_run(i);
                if worth_c(run) {
                    if run.0 % 2 == 1 {
                        out.push(c);
                        i += 1;
                    }
                    out.push_str(">5");
                    subset = Subset::C;
                } else {
                    match c {
                        '^' => out.push_str("><"),
                        '>' => out.push_str(">0"),
                        '~' => out.push_str(">="),
                        _ => out.push(c),
                    }
                    i += 1;
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Sending.
// ---------------------------------------------------------------------------------------------

/// Sends a rendered label to the printer. `name` names the label (e.g. the LPN): the file name
/// for [`Printer::Dir`], and `FLOORHAND_LABEL` in the environment of a [`Printer::Command`].
///
/// * `None`: nothing happens.
/// * `Dir`: writes `<dir>/<name>.zpl` atomically (a hidden temp file `.<name>.zpl.*.tmp` in the
///   same directory, synced, then renamed over the target), creating the directory if needed.
///   A label with the same name is replaced.
/// * `Tcp`: resolves `host:port`, tries each address with a [`TCP_TIMEOUT`] connect timeout,
///   writes the label (each write with a [`TCP_TIMEOUT`] timeout) and shuts the connection down
///   for writing. (Host name resolution itself has no timeout in std.)
/// * `Command`: runs `sh -c CMD` with the label on stdin, stdout discarded and stderr captured,
///   waits for it (at most [`COMMAND_TIMEOUT`], then kills it), and fails with the exit status
///   and the first 200 characters of stderr if it did not succeed.
///
/// This blocks for up to a few seconds (or [`COMMAND_TIMEOUT`]): call it off the UI thread.
pub fn send(printer: &Printer, name: &str, zpl: &str) -> Result<(), LabelError> {
    match printer {
        Printer::None => Ok(()),
        Printer::Dir(dir) => send_to_dir(dir, name, zpl),
        Printer::Tcp(addr) => send_to_tcp(addr, zpl),
        Printer::Command(command) => send_to_command(command, name, zpl),
    }
}

fn check_name(name: &str) -> Result<(), LabelError> {
    let ok = !name.is_empty()
        && name.chars().count() <= 200
        && !name.starts_with('.')
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(LabelError::BadName { name: name.into() })
    }
}

fn send_to_dir(dir: &Path, name: &str, zpl: &str) -> Result<(), LabelError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    check_name(name)?;
    let unwritable = |source| LabelError::DirUnwritable {
        dir: dir.to_path_buf(),
        source,
    };
    fs::create_dir_all(dir).map_err(unwritable)?;
    let target = dir.join(format!("{name}.zpl"));
    let temp = dir.join(format!(
        ".{name}.zpl.{}-{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(zpl.as_bytes())?;
        file.sync_all()?;
        fs::rename(&temp, &target)
    })();
    if let Err(source) = written {
        // The temp file may not exist (e.g. it could not be created); nothing else to do.
        let _ = fs::remove_file(&temp);
        return Err(unwritable(source));
    }
    // Make the rename itself durable where the platform allows syncing a directory.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn send_to_tcp(addr: &str, zpl: &str) -> Result<(), LabelError> {
    let not_found = |source| LabelError::PrinterNotFound {
        addr: addr.into(),
        source,
    };
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs().map_err(not_found)?.collect();
    let mut last_error = None;
    let mut connected = None;
    for a in &addrs {
        match TcpStream::connect_timeout(a, TCP_TIMEOUT) {
            Ok(stream) => {
                connected = Some(stream);
                break;
            }
            Err(error) => last_error = Some(error),
        }
    }
    let Some(mut stream) = connected else {
        return Err(match last_error {
            Some(source) => LabelError::PrinterNoAnswer {
                addr: addr.into(),
                source,
            },
            None => not_found(io::Error::new(
                io::ErrorKind::NotFound,
                "the name has no address",
            )),
        });
    };
    let write_error = |source| LabelError::PrinterWrite {
        addr: addr.into(),
        source,
    };
    stream
        .set_write_timeout(Some(TCP_TIMEOUT))
        .map_err(write_error)?;
    stream.write_all(zpl.as_bytes()).map_err(write_error)?;
    stream.flush().map_err(write_error)?;
    stream.shutdown(Shutdown::Write).map_err(write_error)?;
    Ok(())
}

fn send_to_command(command: &str, name: &str, zpl: &str) -> Result<(), LabelError> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("FLOORHAND_LABEL", name)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| LabelError::CommandStart { source })?;

    // Feed stdin and read stderr on their own threads, so neither pipe can fill up and stall
    // the command while this thread waits for it.
    let (written_tx, written_rx) = mpsc::channel();
    if let Some(mut stdin) = child.stdin.take() {
        let data = zpl.as_bytes().to_vec();
        thread::spawn(move || {
            let result = match stdin.write_all(&data) {
                // The command did not read all of its input; its exit status says whether
                // that is a failure.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                other => other,
            };
            drop(stdin);
            let _ = written_tx.send(result);
        });
    }
    let (stderr_tx, stderr_rx) = mpsc::channel();
    if let Some(stderr) = child.stderr.take() {
        thread::spawn(move || {
            let mut head = Vec::new();
            let mut stderr = stderr;
            let _ = (&mut stderr).take(4096).read_to_end(&mut head);
            let _ = io::copy(&mut stderr, &mut io::sink());
            let _ = stderr_tx.send(head);
        });
    }

    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(LabelError::CommandTimeout {
                    limit: COMMAND_TIMEOUT,
                });
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(source) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(LabelError::CommandIo { source });
            }
        }
    };

    // A background process of the command may still hold the pipes open: do not wait for
    // long on them.
    let grace = Duration::from_secs(1);
    if !status.success() {
        let stderr = stderr_rx.recv_timeout(grace).unwrap_or_default();
        return Err(LabelError::CommandFailed {
            status: describe_status(status),
            stderr: one_line(&String::from_utf8_lossy(&stderr), STDERR_MAX),
        });
    }
    if let Ok(Err(source)) = written_rx.recv_timeout(grace) {
        return Err(LabelError::CommandIo { source });
    }
    Ok(())
}

fn describe_status(status: std::process::ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    status.to_string()
}

/// `text` on one line, without control characters, at most `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// Reads `^BC` mode N field data back the way the ZPL guide describes it: the start code,
    /// then digit pairs in subset C and characters in subset B, with `>8` as FNC1 (returned as
    /// GS) and `>5`/`>6` as subset switches. Anything the guide says the printer would ignore
    /// is an error here.
    fn decode(data: &str) -> Result<String, String> {
        let chars: Vec<char> = data.chars().collect();
        let mut subset = match chars.get(..2) {
            Some(['>', ';']) => Subset::C,
            Some(['>', ':']) => Subset::B,
            _ => return Err(format!("no start code in {data:?}")),
        };
        let mut out = String::new();
        let mut i = 2;
        while let Some(&c) = chars.get(i) {
            let next = chars.get(i + 1).copied();
            if c == '>' {
                match (subset, next) {
                    (_, Some('8')) => out.push(gs1::GS),
                    (Subset::C, Some('6')) => subset = Subset::B,
                    (Subset::B, Some('5')) => subset = Subset::C,
                    (Subset::B, Some('<')) => out.push('^'),
                    (Subset::B, Some('0')) => out.push('>'),
                    (Subset::B, Some('=')) => out.push('~'),
                    _ => return Err(format!("unexpected >{next:?} at {i} in {data:?}")),
                }
                i += 2;
                continue;
            }
            match subset {
                Subset::C => match next {
                    Some(d) if c.is_ascii_digit() && d.is_ascii_digit() => {
                        out.push(c);
                        out.push(d);
                        i += 2;
                    }
                    _ => return Err(format!("not a digit pair at {i} in {data:?}")),
                },
                Subset::B => {
                    if !(' '..='~').contains(&c) || c == '^' || c == '~' {
                        return Err(format!("{c:?} cannot be written in subset B"));
                    }
                    out.push(c);
                    i += 1;
                }
            }
        }
        Ok(out)
    }

    fn symbols(text: &str) -> Vec<Symbol> {
        text.chars()
            .map(|c| {
                if c == gs1::GS {
                    Symbol::Fnc1
                } else {
                    Symbol::Char(c)
                }
            })
            .collect()
    }

    #[test]
    fn code128_round_trips_through_the_zpl_rules() -> TestResult {
        let gs = gs1::GS;
        let lots = [
            "", "A", "1", "12", "123", "1234", "12345", "123456", "1234567", "A1234", "1234A",
            "12A34", "AB>C", "x^y~z", "0", "ABC123",
        ];
        let counts = ["", "1", "12", "123", "1234", "99999999"];
        for lot in lots {
            for count in counts {
                let mut data = format!("{gs}020950600013435217261231");
                if !lot.is_empty() {
                    data.push_str("10");
                    data.push_str(lot);
                    if !count.is_empty() {
                        data.push(gs);
                    }
                }
                if !count.is_empty() {
                    data.push_str("37");
                    data.push_str(count);
                }
                let encoded = code128_field_data(&symbols(&data));
                assert!(encoded.starts_with(">;>8"), "{encoded}");
                assert_eq!(decode(&encoded)?, data, "encoded as {encoded}");
            }
        }
        for text in [
            "T01-000042",
            "",
            "7",
            "42",
            "123",
            "12345",
            "A>B",
            "LPN 000001",
            "^~>",
        ] {
            let encoded = code128_field_data(&symbols(text));
            assert_eq!(decode(&encoded)?, text, "encoded as {encoded}");
        }
        Ok(())
    }

    #[test]
    fn code128_picks_subsets_sensibly() {
        assert_eq!(code128_field_data(&symbols("T01-000042")), ">:T01->5000042");
        assert_eq!(code128_field_data(&symbols("123456")), ">;123456");
        assert_eq!(code128_field_data(&symbols("12345")), ">;1234>65");
        assert_eq!(code128_field_data(&symbols("42")), ">;42");
        assert_eq!(code128_field_data(&symbols("A>B")), ">:A>0B");
    }

    #[test]
    fn template_uses_only_known_placeholders() -> TestResult {
        let label = LpnLabel {
            lpn: String::new(),
            sku: String::new(),
            description: String::new(),
            gtin: None,
            lot: String::new(),
            expiry: None,
            qty: 0,
            unit: String::new(),
            po: String::new(),
            receipt: String::new(),
            site: String::new(),
            printed_at: DateTime::<Utc>::default(),
        };
        let values = Values::new(&label, None);
        let mut rest = LPN_TEMPLATE;
        while let Some(start) = rest.find("{{") {
            let after = rest.get(start + 2..).unwrap_or_default();
            let end = after.find("}}").ok_or("unclosed placeholder")?;
            let name = after.get(..end).unwrap_or_default();
            assert!(values.get(name).is_some(), "unknown placeholder {name}");
            rest = after.get(end + 2..).unwrap_or_default();
        }
        Ok(())
    }

    #[test]
    fn sanitize_removes_commands_and_controls() {
        assert_eq!(sanitize("a^XZ~JR\r\n\u{1d}b\u{7f}"), "a XZ JRb");
    }

    #[test]
    fn one_line_joins_and_cuts() {
        assert_eq!(
            one_line("  lp: error\n\tno such\x07 printer \n", 200),
            "lp: error no such printer"
        );
        assert_eq!(one_line("abcdef", 3), "abc");
    }
}
