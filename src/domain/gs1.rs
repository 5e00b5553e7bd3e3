//! GS1 barcode data parsing for scans made on the warehouse floor.
//!
//! A scan is turned into a list of [`Element`]s, one per GS1 Application Identifier (AI),
//! each with a typed [`Value`] (GTIN, SSCC, date, count, decimal quantity or text).
//!
//! Accepted input forms:
//!
//! * an optional symbology identifier at the very start (`]C1`, `]d2`, `]Q3`, `]e0`, `]E0`,
//!   `]E4`, `]I1`), which is stripped and reported in [`Parsed::symbology`];
//! * the human-readable form with parenthesised AIs, e.g. `(01)09506000134352(17)201231(10)ABC123`
//!   (whitespace between elements is allowed; a literal `(` inside a value is written `\(`);
//! * the raw element string as scanners send it: AIs concatenated, variable-length values ended
//!   by the GS character ([`GS`], ASCII 29), by a configured stand-in character, or by the end of
//!   the data. A leading GS (FNC1 in first position) is ignored;
//! * EAN-13/UPC-A (`]E0`), EAN-8 (`]E4`) and ITF-14 (`]I1`) scans, which carry a bare GTIN with
//!   no AI: they are returned as a single `(01)` element holding the GTIN padded to 14 digits.
//!
//! A bare 8/12/13/14-digit GTIN **without** a symbology identifier is not a GS1 element string:
//! [`parse`] rejects it (usually as an unknown AI), unless the digits happen to read as valid AIs
//! (e.g. `4006381333931` reads as AI `(400)` ORDER NUMBER). Callers that accept plain product
//! codes should try [`valid_gtin`] / [`normalize_gtin`] before calling [`parse`].
//!
//! The AI table is not written by hand: it is parsed on first use from GS1's Barcode Syntax
//! Dictionary (`assets/gs1/gs1-syntax-dictionary.txt`, Apache-2.0, GS1 AISBL), embedded at
//! compile time. Per component it checks the character set (N digits, X = GS1 character set 82,
//! Y = set 39, Z = base64url), lengths, `csum` check digits and the `yymmdd`, `yymmd0` and
//! `yyyymmdd` dates. Other linters of the dictionary (country codes, `csumalpha`, ...) are not
//! applied, nor are the `req=`/`ex=` AI pairing rules, which GS1 says apply to all barcodes on
//! an item together rather than to a single scan.

#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

/// The GS (group separator, ASCII 29) character that ends a variable-length field.
pub const GS: char = '\u{1d}';

/// GS1's Barcode Syntax Dictionary, embedded at compile time.
const DICTIONARY: &str = include_str!("../../assets/gs1/gs1-syntax-dictionary.txt");

/// The AI table, parsed from [`DICTIONARY`] on first use.
static TABLE: LazyLock<Table> = LazyLock::new(|| parse_dictionary(DICTIONARY));

/// AIs whose value is a count of trade items.
const COUNT_AIS: [&str; 2] = ["30", "37"];
/// AIs whose value is a GTIN.
const GTIN_AIS: [&str; 3] = ["01", "02", "03"];
/// The AI of the SSCC.
const SSCC_AI: &str = "00";

/// The result of parsing one scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parsed {
    /// The symbology identifier the scan started with, if any.
    pub symbology: Option<Symbology>,
    /// The elements in the order they were scanned.
    pub elements: Vec<Element>,
}

/// The barcode type announced by a symbology identifier prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Symbology {
    /// GS1-128 (`]C1`).
    Gs1_128,
    /// GS1 DataMatrix (`]d2`).
    DataMatrix,
    /// GS1 QR Code (`]Q3`).
    QrCode,
    /// GS1 DataBar (`]e0`).
    DataBar,
    /// EAN-13, UPC-A or UPC-E (`]E0`): a bare GTIN without AI.
    Ean13,
    /// EAN-8 (`]E4`): a bare GTIN-8 without AI.
    Ean8,
    /// ITF-14 (`]I1`): a bare GTIN-14 without AI.
    Itf14,
}

impl Symbology {
    const ALL: [Symbology; 7] = [
        Symbology::Gs1_128,
        Symbology::DataMatrix,
        Symbology::QrCode,
        Symbology::DataBar,
        Symbology::Ean13,
        Symbology::Ean8,
        Symbology::Itf14,
    ];

    /// A short name to show to a user, e.g. `"GS1-128"`.
    pub fn label(self) -> &'static str {
        match self {
            Symbology::Gs1_128 => "GS1-128",
            Symbology::DataMatrix => "GS1 DataMatrix",
            Symbology::QrCode => "GS1 QR Code",
            Symbology::DataBar => "GS1 DataBar",
            Symbology::Ean13 => "EAN-13/UPC",
            Symbology::Ean8 => "EAN-8",
            Symbology::Itf14 => "ITF-14",
        }
    }

    /// The symbology identifier as sent by the scanner, e.g. `"]C1"`.
    pub fn identifier(self) -> &'static str {
        match self {
            Symbology::Gs1_128 => "]C1",
            Symbology::DataMatrix => "]d2",
            Symbology::QrCode => "]Q3",
            Symbology::DataBar => "]e0",
            Symbology::Ean13 => "]E0",
            Symbology::Ean8 => "]E4",
            Symbology::Itf14 => "]I1",
        }
    }

    /// The number of digits a bare-GTIN symbology may carry (empty for AI-based ones).
    fn bare_gtin_lengths(self) -> &'static [usize] {
        match self {
            Symbology::Ean13 => &[12, 13],
            Symbology::Ean8 => &[8],
            Symbology::Itf14 => &[14],
            _ => &[],
        }
    }
}

/// One AI with its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Element {
    /// The Application Identifier, e.g. `"01"` or `"3103"`.
    pub ai: String,
    /// The AI's short title from the GS1 dictionary, e.g. `"BATCH/LOT"` (empty for the few AIs
    /// the dictionary gives no title).
    pub title: String,
    /// The value exactly as scanned (for bare EAN/UPC/ITF scans: the GTIN padded to 14 digits).
    pub raw: String,
    /// The typed value.
    pub value: Value,
}

/// The typed value of an element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Value {
    /// Any other value, as scanned.
    Text(String),
    /// A GTIN (AIs 01, 02, 03), always 14 digits with a valid check digit.
    Gtin(String),
    /// An SSCC (AI 00), 18 digits with a valid check digit.
    Sscc(String),
    /// A date (`YYMMDD` AIs such as 11, 15, 17); day `00` is resolved to the last day of the month.
    Date(NaiveDate),
    /// A count of items (AIs 30 and 37).
    Count(u64),
    /// A measure or amount whose AI's last digit gives the decimal places:
    /// `(3103)001250` is `digits: 1250, decimals: 3`, i.e. 1.250 kg.
    Decimal {
        /// The number without its decimal point.
        digits: u64,
        /// How many of the digits are after the decimal point.
        decimals: u8,
    },
}

/// Why a scan could not be read. The messages are meant to be shown to the person scanning.
///
/// In every variant `ai` is the Application Identifier concerned, values are as scanned, and
/// positions are 1-based character positions in the scanned text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Gs1Error {
    /// Nothing (or only separators/whitespace) was scanned.
    #[error("empty scan")]
    Empty,
    /// The scan starts with a symbology identifier (e.g. `]C0`) for non-GS1 data.
    #[error("unsupported barcode type {id}: not GS1 data")]
    UnsupportedSymbology { id: String },
    /// An EAN/UPC/ITF-14 scan (`symbology` is its label) does not hold a GTIN of the right length.
    #[error("{symbology} scan is not a valid product code: {value}")]
    BadBareGtin {
        symbology: &'static str,
        value: String,
    },
    /// No known AI starts at this position; `found` is what is there.
    #[error("unknown application identifier at position {position}: {found}")]
    UnknownAi { position: usize, found: String },
    /// A `(` in the human-readable form is not followed by digits and `)`.
    #[error("broken (AI) bracket at position {position}")]
    BadParenthesis { position: usize },
    /// An AI is followed by no data.
    #[error("no data for ({ai})")]
    MissingValue { ai: String },
    /// The value is shorter than the `expected` minimum number of characters.
    #[error("value too short for ({ai}): needs {expected} characters")]
    TooShort { ai: String, expected: usize },
    /// The value is longer than the `max` number of characters.
    #[error("value too long for ({ai}): max {max}")]
    TooLong { ai: String, max: usize },
    /// A variable-length value runs into what reads as further elements: the GS separator
    /// (FNC1) is missing, often a scanner configuration problem.
    #[error("missing separator after ({ai}) {title}")]
    MissingSeparator { ai: String, title: String },
    /// A numeric field holds something other than digits.
    #[error("not numeric in ({ai})")]
    NotNumeric { ai: String },
    /// A character `ch` outside the AI's character set.
    #[error("invalid character {ch:?} in ({ai})")]
    InvalidCharacter { ai: String, ch: char },
    /// A GTIN, SSCC, GLN, ... whose check digit should have been `expected`.
    #[error("bad check digit in ({ai}) {value}: expected {expected}")]
    BadCheckDigit {
        ai: String,
        value: String,
        expected: u8,
    },
    /// A date field that is not a real date.
    #[error("invalid date in ({ai}): {value}")]
    InvalidDate { ai: String, value: String },
    /// A count or amount too large to be handled.
    #[error("number too large in ({ai})")]
    NumberTooLarge { ai: String },
    /// The same AI appears twice with different values.
    #[error("conflicting values for ({ai}): {first} and {second}")]
    ConflictingValues {
        ai: String,
        first: String,
        second: String,
    },
}

impl Parsed {
    /// The first element with this AI.
    pub fn get(&self, ai: &str) -> Option<&Element> {
        self.elements.iter().find(|e| e.ai == ai)
    }

    /// The GTIN (AI 01), 14 digits.
    pub fn gtin(&self) -> Option<&str> {
        match &self.get("01")?.value {
            Value::Gtin(g) => Some(g),
            _ => None,
        }
    }

    /// The batch/lot number (AI 10).
    pub fn lot(&self) -> Option<&str> {
        self.get("10").map(|e| e.raw.as_str())
    }

    /// The expiry ("use by") date (AI 17).
    pub fn expiry(&self) -> Option<NaiveDate> {
        self.date("17")
    }

    /// The best-before date (AI 15).
    pub fn best_before(&self) -> Option<NaiveDate> {
        self.date("15")
    }

    /// The count of items (AI 30 or 37, whichever comes first).
    pub fn count(&self) -> Option<u64> {
        self.elements.iter().find_map(|e| match e.value {
            Value::Count(n) if COUNT_AIS.contains(&e.ai.as_str()) => Some(n),
            _ => None,
        })
    }

    /// The SSCC (AI 00), 18 digits.
    pub fn sscc(&self) -> Option<&str> {
        match &self.get(SSCC_AI)?.value {
            Value::Sscc(s) => Some(s),
            _ => None,
        }
    }

    /// The serial number (AI 21).
    pub fn serial(&self) -> Option<&str> {
        self.get("21").map(|e| e.raw.as_str())
    }

    fn date(&self, ai: &str) -> Option<NaiveDate> {
        match self.get(ai)?.value {
            Value::Date(d) => Some(d),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The AI table, parsed from the GS1 Barcode Syntax Dictionary.
// ---------------------------------------------------------------------------------------------

/// Character set of a component: N digits, X GS1 set 82, Y GS1 set 39, Z base64url.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cset {
    N,
    X,
    Y,
    Z,
}

/// The dictionary linters this module applies: a mod-10 check digit in the last position, and
/// dates (`yymmd0` allows day 00, meaning the last day of the month).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Linter {
    Csum,
    Yymmdd,
    Yymmd0,
    Yyyymmdd,
}

/// One component of an AI's data field.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Component {
    cset: Cset,
    /// Exact length, or maximum length when `variable`.
    len: usize,
    variable: bool,
    optional: bool,
    linters: Vec<Linter>,
}

/// One AI of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AiDef {
    ai: String,
    title: &'static str,
    /// Flag `*`: predefined length, never followed by a separator.
    predefined: bool,
    components: Vec<Component>,
    /// The last digit of the AI gives the number of decimal places (ranges like `3100-3105`).
    decimal: bool,
}

impl AiDef {
    fn max_len(&self) -> usize {
        self.components.iter().map(|c| c.len).sum()
    }

    fn min_len(&self) -> usize {
        self.components
            .iter()
            .filter(|c| !c.optional)
            .map(|c| if c.variable { 1 } else { c.len })
            .sum()
    }
}

#[derive(Debug)]
struct Table {
    defs: HashMap<String, AiDef>,
    /// Entry lines that could not be understood (expected: none).
    skipped: Vec<&'static str>,
}

fn lookup(ai: &str) -> Option<&'static AiDef> {
    TABLE.defs.get(ai)
}

/// Parses the dictionary text. Lines that cannot be understood are recorded in `skipped`.
fn parse_dictionary(text: &'static str) -> Table {
    let mut table = Table {
        defs: HashMap::new(),
        skipped: Vec::new(),
    };
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match parse_entry(trimmed) {
            Some(defs) => {
                for def in defs {
                    table.defs.insert(def.ai.clone(), def);
                }
            }
            None => table.skipped.push(line),
        }
    }
    table
}

/// Parses one entry line: `AIs [Flags] Components... [Attributes...] [# Title]`.
fn parse_entry(line: &'static str) -> Option<Vec<AiDef>> {
    let (spec, title) = match line.split_once('#') {
        Some((spec, title)) => (spec, title.trim()),
        None => (line, ""),
    };
    let mut tokens = spec.split_whitespace().peekable();
    let ais = tokens.next()?;
    let flags = match tokens.peek() {
        Some(t) if t.chars().all(|c| !c.is_ascii_alphanumeric()) => tokens.next().unwrap_or(""),
        _ => "",
    };
    let mut components = Vec::new();
    while let Some(token) = tokens.peek() {
        if !token
            .trim_start_matches('[')
            .starts_with(['N', 'X', 'Y', 'Z'])
        {
            break; // attributes follow
        }
        components.push(parse_component(token)?);
        tokens.next();
    }
    if components.is_empty() {
        return None;
    }
    let (first, last) = match ais.split_once('-') {
        Some((a, b)) => (a, b),
        None => (ais, ais),
    };
    let width = first.len();
    if !(2..=4).contains(&width) || last.len() != width || !all_digits(first) || !all_digits(last) {
        return None;
    }
    let lo: u32 = first.parse().ok()?;
    let hi: u32 = last.parse().ok()?;
    if lo > hi {
        return None;
    }
    // A range over the last digit of a 4-digit AI (`3100-3105`, `3900-3909`) is GS1's
    // "n = decimal point position" notation.
    let decimal = width == 4 && lo != hi && lo / 10 == hi / 10 && lo % 10 == 0;
    let single_n = components.len() == 1 && components.iter().all(|c| c.cset == Cset::N);
    Some(
        (lo..=hi)
            .map(|n| AiDef {
                ai: format!("{n:0width$}"),
                title,
                predefined: flags.contains('*'),
                components: components.clone(),
                decimal: decimal && single_n,
            })
            .collect(),
    )
}

/// Parses a component such as `N14,csum`, `X..20`, `[N..12]` or `[N3],iso3166`.
fn parse_component(token: &str) -> Option<Component> {
    let mut parts = token.split(',');
    let ty = parts.next()?;
    let optional = ty.starts_with('[');
    let ty: String = ty.chars().filter(|&c| c != '[' && c != ']').collect();
    let mut chars = ty.chars();
    let cset = match chars.next()? {
        'N' => Cset::N,
        'X' => Cset::X,
        'Y' => Cset::Y,
        'Z' => Cset::Z,
        _ => return None,
    };
    let rest = chars.as_str();
    let (variable, len) = match rest.strip_prefix("..") {
        Some(max) => (true, max),
        None => (false, rest),
    };
    let len: usize = len.parse().ok().filter(|&n| n > 0)?;
    let linters = parts
        .filter_map(|l| match l.trim_end_matches(']') {
            "csum" => Some(Linter::Csum),
            "yymmdd" => Some(Linter::Yymmdd),
            "yymmd0" => Some(Linter::Yymmd0),
            "yyyymmdd" => Some(Linter::Yyyymmdd),
            _ => None, // csumalpha, country codes, ...: not checked here
        })
        .collect();
    Some(Component {
        cset,
        len,
        variable,
        optional,
        linters,
    })
}

// ---------------------------------------------------------------------------------------------
// Check digits.
// ---------------------------------------------------------------------------------------------

/// The GS1 mod-10 check digit for a string of digits (the number without its check digit),
/// e.g. `"0950600013435"` -> `Some(2)`. `None` when the input is empty or not all digits.
pub fn gtin_check_digit(digits_without_check: &str) -> Option<u8> {
    let digits: Vec<char> = digits_without_check.chars().collect();
    check_digit_of(&digits)
}

fn check_digit_of(digits: &[char]) -> Option<u8> {
    if digits.is_empty() {
        return None;
    }
    let mut sum: u32 = 0;
    for (i, c) in digits.iter().rev().enumerate() {
        let d = c.to_digit(10)?;
        sum += if i % 2 == 0 { d * 3 } else { d };
    }
    u8::try_from((10 - sum % 10) % 10).ok()
}

/// `true` for a GTIN-8, -12, -13 or -14: all digits with a correct mod-10 check digit.
pub fn valid_gtin(code: &str) -> bool {
    let chars: Vec<char> = code.chars().collect();
    matches!(chars.len(), 8 | 12 | 13 | 14) && check_digit_ok(&chars)
}

/// Any valid GTIN-8/12/13/14 as 14 digits with leading zeros, e.g. `"96385074"` ->
/// `"00000096385074"`. `None` if the code is not a valid GTIN.
pub fn normalize_gtin(code: &str) -> Option<String> {
    valid_gtin(code).then(|| format!("{code:0>14}"))
}

/// `true` when the last digit is the check digit of the others.
fn check_digit_ok(digits: &[char]) -> bool {
    match digits.split_last() {
        Some((last, body)) => {
            check_digit_of(body).is_some_and(|cd| last.to_digit(10) == Some(u32::from(cd)))
        }
        None => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing.
// ---------------------------------------------------------------------------------------------

/// Parses a scan, taking today's local date for the century of two-digit years.
///
/// `gs_standin` is a character the scanner is configured to send instead of GS (e.g. `'~'` or
/// `'|'`); GS itself is always accepted too. Pick a stand-in outside GS1 character set 82.
/// See the module documentation for the accepted forms. Bare GTINs without a symbology
/// identifier are rejected: check them with [`valid_gtin`] first.
pub fn parse(input: &str, gs_standin: Option<char>) -> Result<Parsed, Gs1Error> {
    parse_at(input, gs_standin, chrono::Local::now().date_naive())
}

/// Like [`parse`], with an explicit "today" for the GS1 century rule of two-digit years
/// (General Specifications §7.12: a year 51 or more ahead of today's is in the previous
/// century, one 50 or more behind is in the next century).
pub fn parse_at(
    input: &str,
    gs_standin: Option<char>,
    today: NaiveDate,
) -> Result<Parsed, Gs1Error> {
    let chars: Vec<char> = input.chars().collect();
    let ctx = Ctx {
        chars: &chars,
        standin: gs_standin,
        today,
    };
    let trimmable = |c: &char| c.is_whitespace() && !ctx.is_sep(*c);
    let mut lo = 0;
    let mut hi = chars.len();
    while lo < hi && chars.get(lo).is_some_and(trimmable) {
        lo += 1;
    }
    while hi > lo && chars.get(hi - 1).is_some_and(trimmable) {
        hi -= 1;
    }

    let mut symbology = None;
    if chars.get(lo) == Some(&']') {
        let id = ctx.text(lo, (lo + 3).min(hi));
        let sym = Symbology::ALL
            .into_iter()
            .find(|s| s.identifier() == id)
            .ok_or(Gs1Error::UnsupportedSymbology { id })?;
        symbology = Some(sym);
        lo += 3;
    }

    let body_start = (lo..hi)
        .find(|&i| {
            chars
                .get(i)
                .is_some_and(|&c| !ctx.is_sep(c) && !c.is_whitespace())
        })
        .ok_or(Gs1Error::Empty)?;

    let elements = match symbology {
        Some(sym) if !sym.bare_gtin_lengths().is_empty() => {
            vec![bare_gtin(sym, &ctx.text(body_start, hi))?]
        }
        _ if chars.get(body_start) == Some(&'(') => ctx.parse_hri(body_start, hi)?,
        _ => ctx.parse_raw(body_start, hi, true)?,
    };

    for (i, e) in elements.iter().enumerate() {
        let earlier = elements.iter().take(i);
        if let Some(first) = earlier.filter(|f| f.ai == e.ai).find(|f| f.raw != e.raw) {
            return Err(Gs1Error::ConflictingValues {
                ai: e.ai.clone(),
                first: first.raw.clone(),
                second: e.raw.clone(),
            });
        }
    }
    Ok(Parsed {
        symbology,
        elements,
    })
}

/// Reads the bare GTIN of an EAN/UPC/ITF-14 scan as a `(01)` element.
fn bare_gtin(sym: Symbology, data: &str) -> Result<Element, Gs1Error> {
    let digits: Vec<char> = data.chars().collect();
    if !sym.bare_gtin_lengths().contains(&digits.len()) || !all_digits(data) {
        return Err(Gs1Error::BadBareGtin {
            symbology: sym.label(),
            value: data.to_string(),
        });
    }
    if !check_digit_ok(&digits) {
        let body = digits.split_last().map_or(&[][..], |(_, body)| body);
        return Err(Gs1Error::BadCheckDigit {
            ai: "01".to_string(),
            value: data.to_string(),
            expected: check_digit_of(body).unwrap_or(0),
        });
    }
    let gtin = format!("{data:0>14}");
    Ok(Element {
        ai: "01".to_string(),
        title: lookup("01").map_or("GTIN", |d| d.title).to_string(),
        raw: gtin.clone(),
        value: Value::Gtin(gtin),
    })
}

/// Parsing state shared by the readers.
struct Ctx<'a> {
    chars: &'a [char],
    standin: Option<char>,
    today: NaiveDate,
}

impl Ctx<'_> {
    fn is_sep(&self, c: char) -> bool {
        c == GS || Some(c) == self.standin
    }

    fn slice(&self, from: usize, to: usize) -> &[char] {
        self.chars.get(from..to).unwrap_or(&[])
    }

    fn text(&self, from: usize, to: usize) -> String {
        self.slice(from, to).iter().collect()
    }

    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    /// The longest known AI starting at `pos`.
    fn match_ai(&self, pos: usize, hi: usize) -> Option<&'static AiDef> {
        (2..=4usize).rev().find_map(|len| {
            let end = pos + len;
            if end > hi {
                return None;
            }
            let code = self.slice(pos, end);
            if !code.iter().all(char::is_ascii_digit) {
                return None;
            }
            lookup(&code.iter().collect::<String>())
        })
    }

    /// Reads a raw element string between `lo` and `hi`. With `probe`, a value that is too long
    /// is checked for a missing separator (by trying to read the rest as further elements).
    fn parse_raw(&self, lo: usize, hi: usize, probe: bool) -> Result<Vec<Element>, Gs1Error> {
        let mut out = Vec::new();
        let mut pos = lo;
        loop {
            while pos < hi && self.at(pos).is_some_and(|c| self.is_sep(c)) {
                pos += 1;
            }
            if pos >= hi {
                return Ok(out);
            }
            let def = self.match_ai(pos, hi).ok_or_else(|| Gs1Error::UnknownAi {
                position: pos + 1,
                found: self.text(pos, (pos + 4).min(hi)),
            })?;
            let start = pos + def.ai.len();
            let limit = if def.predefined {
                (start + def.max_len()).min(hi)
            } else {
                hi
            };
            let mut end = start;
            while end < limit && self.at(end).is_some_and(|c| !self.is_sep(c)) {
                end += 1;
            }
            match read_element(def, self.slice(start, end), self.today) {
                Ok(e) => out.push(e),
                Err(Gs1Error::TooLong { .. })
                    if probe && !def.predefined && self.separator_missing(def, start, end, hi) =>
                {
                    return Err(Gs1Error::MissingSeparator {
                        ai: def.ai.clone(),
                        title: def.title.to_string(),
                    });
                }
                Err(e) => return Err(e),
            }
            pos = end;
        }
    }

    /// Whether a too-long value of `def` at `start..end` ends, at some allowed length, where a
    /// valid element string begins.
    fn separator_missing(&self, def: &AiDef, start: usize, end: usize, hi: usize) -> bool {
        (def.min_len()..=def.max_len()).any(|len| {
            let cut = start + len;
            cut < end && self.parse_raw(cut, hi, false).is_ok()
        })
    }

    /// Reads the human-readable form `(AI)value(AI)value...` between `lo` and `hi`.
    fn parse_hri(&self, lo: usize, hi: usize) -> Result<Vec<Element>, Gs1Error> {
        let mut out = Vec::new();
        let mut pos = lo;
        loop {
            while pos < hi
                && self
                    .at(pos)
                    .is_some_and(|c| c.is_whitespace() || self.is_sep(c))
            {
                pos += 1;
            }
            if pos >= hi {
                return Ok(out);
            }
            if self.at(pos) != Some('(') {
                return Err(Gs1Error::BadParenthesis { position: pos + 1 });
            }
            let close = (pos + 1..(pos + 7).min(hi))
                .find(|&i| self.at(i) == Some(')'))
                .ok_or(Gs1Error::BadParenthesis { position: pos + 1 })?;
            let code = self.text(pos + 1, close);
            let def = (code.len() >= 2 && all_digits(&code))
                .then(|| lookup(&code))
                .flatten()
                .ok_or_else(|| Gs1Error::UnknownAi {
                    position: pos + 2,
                    found: code.clone(),
                })?;
            let mut value = Vec::new();
            let mut i = close + 1;
            while let Some(c) = self.at(i).filter(|_| i < hi) {
                match c {
                    '\\' if self.at(i + 1) == Some('(') && i + 1 < hi => {
                        value.push('(');
                        i += 2;
                    }
                    '(' => break,
                    _ => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
            let field = trim_chars(&value, |c| c.is_whitespace() || self.is_sep(c));
            out.push(read_element(def, field, self.today)?);
            pos = i;
        }
    }
}

fn trim_chars(chars: &[char], drop: impl Fn(char) -> bool) -> &[char] {
    let start = chars.iter().position(|&c| !drop(c)).unwrap_or(chars.len());
    let end = chars
        .iter()
        .rposition(|&c| !drop(c))
        .map_or(start, |i| i + 1);
    chars.get(start..end).unwrap_or(&[])
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

/// Splits a field into its components, checks each and builds the element.
fn read_element(def: &AiDef, field: &[char], today: NaiveDate) -> Result<Element, Gs1Error> {
    let ai = || def.ai.clone();
    if field.is_empty() {
        return Err(Gs1Error::MissingValue { ai: ai() });
    }
    let mut parts = Vec::with_capacity(def.components.len());
    let mut rest = field;
    for comp in &def.components {
        if rest.is_empty() {
            if comp.optional {
                break;
            }
            return Err(Gs1Error::TooShort {
                ai: ai(),
                expected: def.min_len(),
            });
        }
        let take = if comp.variable {
            rest.len().min(comp.len)
        } else if rest.len() < comp.len {
            return Err(Gs1Error::TooShort {
                ai: ai(),
                expected: def.min_len(),
            });
        } else {
            comp.len
        };
        let (part, tail) = rest.split_at_checked(take).unwrap_or((rest, &[]));
        parts.push((comp, part));
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(Gs1Error::TooLong {
            ai: ai(),
            max: def.max_len(),
        });
    }
    for &(comp, part) in &parts {
        check_component(def, comp, part, today)?;
    }
    let raw: String = field.iter().collect();
    let value = match parts.as_slice() {
        [(comp, part)] if def.components.len() == 1 => typed_value(def, comp, part, &raw, today)?,
        _ => Value::Text(raw.clone()),
    };
    Ok(Element {
        ai: def.ai.clone(),
        title: def.title.to_string(),
        raw,
        value,
    })
}

/// Checks the character set and linters of one (already length-checked) component.
fn check_component(
    def: &AiDef,
    comp: &Component,
    part: &[char],
    today: NaiveDate,
) -> Result<(), Gs1Error> {
    let ai = || def.ai.clone();
    let text = || part.iter().collect::<String>();
    let allowed: fn(char) -> bool = match comp.cset {
        Cset::N => |c| c.is_ascii_digit(),
        Cset::X => in_cset82,
        Cset::Y => |c| c.is_ascii_digit() || c.is_ascii_uppercase() || "#-/".contains(c),
        Cset::Z => |c| c.is_ascii_alphanumeric() || "-_=".contains(c),
    };
    if let Some(&ch) = part.iter().find(|&&c| !allowed(c)) {
        return Err(if comp.cset == Cset::N {
            Gs1Error::NotNumeric { ai: ai() }
        } else {
            Gs1Error::InvalidCharacter { ai: ai(), ch }
        });
    }
    for &linter in &comp.linters {
        match linter {
            Linter::Csum if !check_digit_ok(part) => {
                let body = part.split_last().map_or(&[][..], |(_, body)| body);
                return Err(Gs1Error::BadCheckDigit {
                    ai: ai(),
                    value: text(),
                    expected: check_digit_of(body).unwrap_or(0),
                });
            }
            Linter::Csum => {}
            _ => {
                if date_of(linter, part, today).is_none() {
                    return Err(Gs1Error::InvalidDate {
                        ai: ai(),
                        value: text(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// GS1 AI encodable character set 82.
fn in_cset82(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!\"%&'()*+,-./:;<=>?_".contains(c)
}

/// The typed value of a single-component AI.
fn typed_value(
    def: &AiDef,
    comp: &Component,
    part: &[char],
    raw: &str,
    today: NaiveDate,
) -> Result<Value, Gs1Error> {
    let ai = def.ai.as_str();
    if let Some(&linter) = comp.linters.iter().find(|l| **l != Linter::Csum) {
        return date_of(linter, part, today)
            .map(Value::Date)
            .ok_or_else(|| Gs1Error::InvalidDate {
                ai: ai.to_string(),
                value: raw.to_string(),
            });
    }
    if comp.cset != Cset::N {
        return Ok(Value::Text(raw.to_string()));
    }
    if ai == SSCC_AI {
        Ok(Value::Sscc(raw.to_string()))
    } else if GTIN_AIS.contains(&ai) {
        Ok(Value::Gtin(raw.to_string()))
    } else if COUNT_AIS.contains(&ai) {
        Ok(Value::Count(to_number(ai, raw)?))
    } else if def.decimal {
        let decimals = ai
            .chars()
            .last()
            .and_then(|c| c.to_digit(10))
            .and_then(|d| u8::try_from(d).ok())
            .unwrap_or(0);
        Ok(Value::Decimal {
            digits: to_number(ai, raw)?,
            decimals,
        })
    } else {
        Ok(Value::Text(raw.to_string()))
    }
}

fn to_number(ai: &str, digits: &str) -> Result<u64, Gs1Error> {
    if !all_digits(digits) {
        return Err(Gs1Error::NotNumeric { ai: ai.to_string() });
    }
    digits
        .parse()
        .map_err(|_| Gs1Error::NumberTooLarge { ai: ai.to_string() })
}

/// Two or four digits as a number.
fn number(digits: &[char]) -> Option<i32> {
    digits.iter().try_fold(0i32, |acc, c| {
        let d = i32::try_from(c.to_digit(10)?).ok()?;
        acc.checked_mul(10)?.checked_add(d)
    })
}

/// The date of a date component, `None` when it is not a real date.
fn date_of(linter: Linter, part: &[char], today: NaiveDate) -> Option<NaiveDate> {
    let (year, rest) = match linter {
        Linter::Yyyymmdd if part.len() == 8 => {
            let (y, rest) = part.split_at_checked(4)?;
            (number(y)?, rest)
        }
        Linter::Yymmdd | Linter::Yymmd0 if part.len() == 6 => {
            let (yy, rest) = part.split_at_checked(2)?;
            (full_year(number(yy)?, today), rest)
        }
        _ => return None,
    };
    let (mm, dd) = rest.split_at_checked(2)?;
    let month = u32::try_from(number(mm)?).ok()?;
    let day = u32::try_from(number(dd)?).ok()?;
    if day == 0 && linter == Linter::Yymmd0 {
        // Day 00: the last day of the month.
        return (28..=31)
            .rev()
            .find_map(|d| NaiveDate::from_ymd_opt(year, month, d));
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The GS1 century rule (General Specifications §7.12) for a two-digit year.
fn full_year(yy: i32, today: NaiveDate) -> i32 {
    let current = today.year();
    let current_yy = current.rem_euclid(100);
    let century = current - current_yy;
    match yy - current_yy {
        d if d >= 51 => century - 100 + yy,
        d if d <= -50 => century + 100 + yy,
        _ => century + yy,
    }
}

// ---------------------------------------------------------------------------------------------
// Output.
// ---------------------------------------------------------------------------------------------

/// The human-readable form, e.g. `(01)09506000134352(17)201231(10)ABC123`. A `(` inside a value
/// is written `\(` so that [`parse`] reads it back unchanged.
pub fn to_human_readable(p: &Parsed) -> String {
    p.elements
        .iter()
        .map(|e| format!("({}){}", e.ai, e.raw.replace('(', "\\(")))
        .collect()
}

/// The raw element string as a barcode would carry it (no symbology identifier): elements
/// concatenated, with [`GS`] after each value that is not of predefined length, except the last.
pub fn to_element_string(p: &Parsed) -> String {
    let mut out = String::new();
    let count = p.elements.len();
    for (i, e) in p.elements.iter().enumerate() {
        out.push_str(&e.ai);
        out.push_str(&e.raw);
        let predefined = lookup(&e.ai).is_some_and(|d| d.predefined);
        if !predefined && i + 1 < count {
            out.push(GS);
        }
    }
    out
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 15).unwrap()
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn ok(input: &str) -> Parsed {
        parse_at(input, None, today()).unwrap()
    }

    fn err(input: &str) -> Gs1Error {
        parse_at(input, None, today()).unwrap_err()
    }

    fn def(ai: &str) -> &'static AiDef {
        lookup(ai).unwrap_or_else(|| panic!("AI {ai} missing from table"))
    }

    fn single(def: &AiDef) -> &Component {
        assert_eq!(def.components.len(), 1, "AI {}", def.ai);
        &def.components[0]
    }

    // ----- dictionary -----

    #[test]
    fn dictionary_has_no_unparsed_entries() {
        assert!(TABLE.skipped.is_empty(), "skipped: {:?}", TABLE.skipped);
        assert!(TABLE.defs.len() > 500, "only {} AIs", TABLE.defs.len());
    }

    #[test]
    fn every_ai_in_the_file_is_in_the_table() {
        let mut expanded = 0;
        for line in DICTIONARY.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let ais = line.split_whitespace().next().unwrap();
            let (a, b) = ais.split_once('-').unwrap_or((ais, ais));
            assert!(lookup(a).is_some() && lookup(b).is_some(), "{ais}");
            expanded += b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1;
        }
        assert_eq!(TABLE.defs.len(), expanded);
    }

    #[test]
    fn table_is_prefix_free() {
        for a in TABLE.defs.keys() {
            for b in TABLE.defs.keys() {
                assert!(
                    a == b || !b.starts_with(a.as_str()),
                    "{a} is a prefix of {b}"
                );
            }
        }
    }

    #[test]
    fn dictionary_entries_match_the_file() {
        let fixed = |ai: &str, cset: Cset, len: usize, linters: &[Linter], title: &str| {
            let d = def(ai);
            let c = single(d);
            assert!(d.predefined, "{ai} should be predefined length");
            assert_eq!((c.cset, c.len, c.variable), (cset, len, false), "{ai}");
            assert_eq!(c.linters, linters, "{ai}");
            assert_eq!(d.title, title, "{ai}");
        };
        fixed("00", Cset::N, 18, &[Linter::Csum], "SSCC");
        fixed("01", Cset::N, 14, &[Linter::Csum], "GTIN");
        fixed("02", Cset::N, 14, &[Linter::Csum], "CONTENT");
        fixed("17", Cset::N, 6, &[Linter::Yymmd0], "USE BY or EXPIRY");
        fixed(
            "15",
            Cset::N,
            6,
            &[Linter::Yymmd0],
            "BEST BEFORE or BEST BY",
        );
        fixed("3103", Cset::N, 6, &[], "NET WEIGHT (kg)");
        fixed("410", Cset::N, 13, &[Linter::Csum], "SHIP TO LOC");

        let variable = |ai: &str, cset: Cset, max: usize, title: &str| {
            let d = def(ai);
            let c = single(d);
            assert!(!d.predefined, "{ai} needs a separator");
            assert_eq!((c.cset, c.len, c.variable), (cset, max, true), "{ai}");
            assert_eq!(d.title, title, "{ai}");
        };
        variable("10", Cset::X, 20, "BATCH/LOT");
        variable("21", Cset::X, 20, "SERIAL");
        variable("30", Cset::N, 8, "VAR. COUNT");
        variable("37", Cset::N, 8, "COUNT");
        variable("400", Cset::X, 30, "ORDER NUMBER");
        variable("8010", Cset::Y, 30, "CPID");
        variable("8030", Cset::Z, 90, "DIGSIG");

        // Decimal AIs come from the `nnn0-nnn5` style ranges.
        assert!(def("3103").decimal && def("3100").decimal && def("3695").decimal);
        assert!(def("3909").decimal && def("3943").decimal && def("3955").decimal);
        assert!(lookup("3106").is_none() && lookup("3944").is_none());
        assert!(!def("3913").decimal, "currency + amount stays text");
        assert!(!def("91").decimal && !def("7004").decimal);
        // Expanded 2-digit range and multi-component entries.
        assert_eq!(def("95").title, "INTERNAL");
        assert_eq!(def("99").components[0].len, 90);
        let gdti = &def("253").components;
        assert_eq!(gdti.len(), 2);
        assert!(!gdti[0].optional && gdti[1].optional && gdti[1].variable);
        assert!(def("4326").components[0].linters == [Linter::Yymmdd]);
        assert!(def("7250").components[0].linters == [Linter::Yyyymmdd]);
        assert_eq!(def("8110").title, "", "8110 has no title in the dictionary");
        // Fixed length but not predefined: still needs a separator.
        assert!(!def("422").predefined && def("422").max_len() == 3);
    }

    // ----- check digits -----

    #[test]
    fn check_digits() {
        assert_eq!(gtin_check_digit("0950600013435"), Some(2));
        assert_eq!(gtin_check_digit("0061414112345"), Some(2));
        assert_eq!(gtin_check_digit("10614141123456789"), Some(7));
        assert_eq!(gtin_check_digit(""), None);
        assert_eq!(gtin_check_digit("12a4"), None);
        for good in [
            "09506000134352",
            "00614141123452",
            "4006381333931",
            "96385074",
            "036000291452",
        ] {
            assert!(valid_gtin(good), "{good}");
        }
        for bad in [
            "09506000134353",
            "0950600013435",
            "abcdefgh",
            "",
            "9638507٤",
        ] {
            assert!(!valid_gtin(bad), "{bad}");
        }
        assert_eq!(
            normalize_gtin("96385074").as_deref(),
            Some("00000096385074")
        );
        assert_eq!(
            normalize_gtin("036000291452").as_deref(),
            Some("00036000291452")
        );
        assert_eq!(normalize_gtin("4006381333932"), None);
    }

    // ----- parsing -----

    #[test]
    fn general_specifications_example_hri() {
        let p = ok("(01)09506000134352(17)201231(10)ABC123");
        assert_eq!(p.symbology, None);
        assert_eq!(p.gtin(), Some("09506000134352"));
        assert_eq!(p.expiry(), Some(ymd(2020, 12, 31)));
        assert_eq!(p.lot(), Some("ABC123"));
        assert_eq!(p.elements[0].title, "GTIN");
        assert_eq!(p.elements[1].raw, "201231");
        assert_eq!(p.elements[2].value, Value::Text("ABC123".into()));
        assert_eq!(
            to_human_readable(&p),
            "(01)09506000134352(17)201231(10)ABC123"
        );
        assert_eq!(to_element_string(&p), "01095060001343521720123110ABC123");
    }

    #[test]
    fn sscc_and_count() {
        let p = ok("(00)106141411234567897(02)00614141123452(37)24");
        assert_eq!(p.sscc(), Some("106141411234567897"));
        assert_eq!(p.elements[1].value, Value::Gtin("00614141123452".into()));
        assert_eq!(p.count(), Some(24));
        assert_eq!(p.gtin(), None, "(02) is not the item's own GTIN");
        let s = to_element_string(&p);
        assert_eq!(s, "0010614141123456789702006141411234523724");
        assert_eq!(ok(&s), p);
        assert_eq!(ok("(30)00000150").count(), Some(150));
    }

    #[test]
    fn element_string_with_separators() {
        let hri = ok("(01)09506000134352(10)ABC123(17)201231(21)S1");
        let raw = format!("010950600013435210ABC123{GS}1720123121S1");
        assert_eq!(ok(&raw), hri);
        assert_eq!(to_element_string(&hri), raw);
        assert_eq!(ok(&format!("{GS}{raw}")), hri, "leading FNC1");
        assert_eq!(
            ok(&format!("{raw}{GS}\r\n")),
            hri,
            "trailing GS and newline"
        );
        // Tolerated: a separator after a predefined-length AI.
        assert_eq!(
            ok(&format!("0109506000134352{GS}10ABC123{GS}17201231{GS}21S1")),
            hri
        );
        assert_eq!(hri.serial(), Some("S1"));
    }

    #[test]
    fn stand_in_separator() {
        let expected = ok("(10)ABC(21)XYZ");
        let p = parse_at("10ABC~21XYZ", Some('~'), today()).unwrap();
        assert_eq!(p, expected);
        let p = parse_at("]C1~10ABC|21XYZ", Some('|'), today());
        assert!(p.is_err(), "only the configured stand-in counts: {p:?}");
        let p = parse_at("]C110ABC|21XYZ", Some('|'), today()).unwrap();
        assert_eq!(p.elements, expected.elements);
        // GS still works when a stand-in is configured.
        let p = parse_at(&format!("10ABC{GS}21XYZ"), Some('~'), today()).unwrap();
        assert_eq!(p, expected);
    }

    #[test]
    fn symbology_identifiers() {
        let data = format!("010950600013435210LOT7{GS}3103001250");
        for (id, sym) in [
            ("]C1", Symbology::Gs1_128),
            ("]d2", Symbology::DataMatrix),
            ("]Q3", Symbology::QrCode),
            ("]e0", Symbology::DataBar),
        ] {
            let p = ok(&format!("{id}{data}"));
            assert_eq!(p.symbology, Some(sym), "{id}");
            assert_eq!(sym.identifier(), id);
            assert_eq!(p.gtin(), Some("09506000134352"));
            assert_eq!(p.lot(), Some("LOT7"));
            assert_eq!(p.elements.len(), 3);
        }
        let ean13 = ok("]E04006381333931");
        assert_eq!(ean13.symbology, Some(Symbology::Ean13));
        assert_eq!(ean13.gtin(), Some("04006381333931"));
        assert_eq!(ean13.elements[0].raw, "04006381333931");
        assert_eq!(to_human_readable(&ean13), "(01)04006381333931");
        assert_eq!(
            ok("]E0036000291452").gtin(),
            Some("00036000291452"),
            "UPC-A"
        );
        let ean8 = ok("]E496385074");
        assert_eq!(ean8.symbology, Some(Symbology::Ean8));
        assert_eq!(ean8.gtin(), Some("00000096385074"));
        let itf = ok("]I109506000134352");
        assert_eq!(itf.symbology, Some(Symbology::Itf14));
        assert_eq!(itf.gtin(), Some("09506000134352"));
        assert_eq!(Symbology::Ean8.label(), "EAN-8");
        assert_eq!(Symbology::Gs1_128.label(), "GS1-128");
        assert_eq!(
            ok("]d2(01)09506000134352").symbology,
            Some(Symbology::DataMatrix)
        );
    }

    #[test]
    fn bare_gtin_without_symbology_is_not_an_element_string() {
        assert!(matches!(
            err("09506000134352"),
            Gs1Error::UnknownAi { position: 1, .. }
        ));
        assert!(matches!(err("00000096385074"), Gs1Error::TooShort { .. }));
        // ... unless the digits happen to read as AIs: (400) ORDER NUMBER.
        let p = ok("4006381333931");
        assert_eq!(p.elements[0].ai, "400");
        assert_eq!(p.elements[0].raw, "6381333931");
        // The EAN-8 96385074 reads as (96) INTERNAL "385074".
        assert_eq!(ok("96385074").elements[0].ai, "96");
    }

    #[test]
    fn human_readable_whitespace_and_escapes() {
        let p = ok("  (01) 09506000134352  (10) ABC\n");
        assert_eq!(p.lot(), Some("ABC"));
        // An unescaped "(" starts a new AI: "(C" is a broken bracket.
        assert!(matches!(
            err("(10)AB(C"),
            Gs1Error::BadParenthesis { position: 7 }
        ));
        let p = ok("(01) 09506000134352  (10) AB\\(C)");
        assert_eq!(p.lot(), Some("AB(C)"));
        assert_eq!(to_human_readable(&p), "(01)09506000134352(10)AB\\(C)");
        assert_eq!(ok(&to_human_readable(&p)), p);
        assert_eq!(ok(&to_element_string(&p)), p);
    }

    #[test]
    fn day_zero_is_last_day_of_month() {
        assert_eq!(ok("(17)240200").expiry(), Some(ymd(2024, 2, 29)));
        assert_eq!(ok("(17)250200").expiry(), Some(ymd(2025, 2, 28)));
        assert_eq!(ok("(15)241200").best_before(), Some(ymd(2024, 12, 31)));
        assert_eq!(
            ok("(11)260400").elements[0].value,
            Value::Date(ymd(2026, 4, 30))
        );
        assert_eq!(ok("(17)240200").elements[0].raw, "240200");
        // yymmdd AIs (e.g. 4326 REL DATE) do not allow day 00.
        assert!(matches!(err("(4326)240200"), Gs1Error::InvalidDate { .. }));
        assert_eq!(
            ok("(4326)240229").elements[0].value,
            Value::Date(ymd(2024, 2, 29))
        );
        assert_eq!(
            ok("(7250)19991231").elements[0].value,
            Value::Date(ymd(1999, 12, 31))
        );
    }

    #[test]
    fn century_rule() {
        let year = |input: &str, today: NaiveDate| {
            parse_at(input, None, today)
                .unwrap()
                .expiry()
                .unwrap()
                .year()
        };
        let t2026 = ymd(2026, 6, 1);
        assert_eq!(year("(17)260101", t2026), 2026);
        assert_eq!(year("(17)000101", t2026), 2000);
        assert_eq!(year("(17)760101", t2026), 2076, "50 ahead: current century");
        assert_eq!(
            year("(17)770101", t2026),
            1977,
            "51 ahead: previous century"
        );
        let t2099 = ymd(2099, 6, 1);
        assert_eq!(year("(17)490101", t2099), 2149, "50 behind: next century");
        assert_eq!(
            year("(17)500101", t2099),
            2050,
            "49 behind: current century"
        );
        let t2001 = ymd(2001, 1, 1);
        assert_eq!(year("(17)510101", t2001), 2051);
        assert_eq!(year("(17)520101", t2001), 1952);
    }

    #[test]
    fn decimals() {
        let p = ok("(01)09506000134352(3103)001250");
        let e = &p.elements[1];
        assert_eq!(e.title, "NET WEIGHT (kg)");
        assert_eq!(
            e.value,
            Value::Decimal {
                digits: 1250,
                decimals: 3
            }
        );
        assert_eq!(
            ok("(3922)12345").elements[0].value,
            Value::Decimal {
                digits: 12345,
                decimals: 2
            }
        );
        assert_eq!(
            ok("(3300)000042").elements[0].value,
            Value::Decimal {
                digits: 42,
                decimals: 0
            }
        );
        // 3932 = currency + price: kept as text but checked.
        assert_eq!(
            ok("(3932)978995").elements[0].value,
            Value::Text("978995".into())
        );
        assert!(matches!(err("(3103)00125A"), Gs1Error::NotNumeric { .. }));
    }

    #[test]
    fn multi_component_and_optional() {
        assert_eq!(
            ok("(253)9506000134352").elements[0].value,
            Value::Text("9506000134352".into())
        );
        assert_eq!(
            ok("(253)9506000134352ABC").elements[0].raw,
            "9506000134352ABC"
        );
        assert!(matches!(
            err("(253)9506000134353"),
            Gs1Error::BadCheckDigit { .. }
        ));
        assert!(matches!(
            err("(8003)1950600013435"),
            Gs1Error::TooShort { .. }
        ));
        assert_eq!(
            ok("(4324)2401001260").elements[0].value,
            Value::Text("2401001260".into())
        );
        assert!(matches!(
            err("(4324)2413011260"),
            Gs1Error::InvalidDate { .. }
        ));
    }

    // ----- errors -----

    #[test]
    fn error_messages() {
        let msg = |input: &str| err(input).to_string();
        assert_eq!(msg(""), "empty scan");
        assert_eq!(msg(" \r\n"), "empty scan");
        assert_eq!(msg(&format!("]C1{GS}")), "empty scan");
        assert_eq!(msg("]C0ABC"), "unsupported barcode type ]C0: not GS1 data");
        assert_eq!(
            msg("]E0123"),
            "EAN-13/UPC scan is not a valid product code: 123"
        );
        assert_eq!(
            msg("]E04006381333932"),
            "bad check digit in (01) 4006381333932: expected 1"
        );
        assert_eq!(
            msg("01095060001343522x"),
            "unknown application identifier at position 17: 2x"
        );
        assert_eq!(
            msg("(01)09506000134352(2x)1"),
            "unknown application identifier at position 20: 2x"
        );
        assert_eq!(
            msg("(01)09506000134352(17"),
            "broken (AI) bracket at position 19"
        );
        assert_eq!(msg("(10)"), "no data for (10)");
        assert_eq!(msg("01"), "no data for (01)");
        assert_eq!(
            msg("(01)0950600013435"),
            "value too short for (01): needs 14 characters"
        );
        assert_eq!(
            msg(&format!("010950600013435{GS}10A")),
            "value too short for (01): needs 14 characters"
        );
        assert_eq!(
            msg("(10)ABCDEFGHIJKLMNOPQRSTU"),
            "value too long for (10): max 20"
        );
        assert_eq!(
            msg("10ABCDEFGHIJKLMNOPQRSTU"),
            "value too long for (10): max 20"
        );
        assert_eq!(
            msg("10ABC12317201231211234567890123"),
            "missing separator after (10) BATCH/LOT"
        );
        assert_eq!(msg("(01)0950600013435A"), "not numeric in (01)");
        assert_eq!(msg("(37)1x"), "not numeric in (37)");
        assert_eq!(msg("(10)AB CD"), "invalid character ' ' in (10)");
        assert_eq!(msg("(10)ABé"), "invalid character 'é' in (10)");
        assert_eq!(msg("(8010)abc"), "invalid character 'a' in (8010)");
        assert_eq!(
            msg("(01)09506000134353"),
            "bad check digit in (01) 09506000134353: expected 2"
        );
        assert_eq!(
            msg("(00)106141411234567890"),
            "bad check digit in (00) 106141411234567890: expected 7"
        );
        assert_eq!(msg("(17)261340"), "invalid date in (17): 261340");
        assert_eq!(msg("(17)260230"), "invalid date in (17): 260230");
        assert_eq!(msg("(15)260001"), "invalid date in (15): 260001");
        assert_eq!(
            to_number("30", "99999999999999999999")
                .unwrap_err()
                .to_string(),
            "number too large in (30)"
        );
        assert_eq!(msg("(10)A(10)B"), "conflicting values for (10): A and B");
        assert_eq!(
            ok("(10)A(10)A").elements.len(),
            2,
            "identical repeat is fine"
        );
    }

    #[test]
    fn parsed_is_serializable() {
        fn assert_serialize<T: Serialize>() {}
        assert_serialize::<Parsed>();
        assert_serialize::<Element>();
    }

    // ----- properties -----

    const ROUND_TRIP_AIS: [&str; 11] = [
        "00", "01", "10", "11", "15", "17", "21", "30", "37", "3103", "400",
    ];
    const CSET82: &str =
        "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

    fn digits(len: impl Into<proptest::collection::SizeRange>) -> impl Strategy<Value = String> {
        proptest::collection::vec(0u8..10, len)
            .prop_map(|v| v.into_iter().map(|d| char::from(b'0' + d)).collect())
    }

    fn with_check_digit(len: usize) -> impl Strategy<Value = String> {
        digits(len - 1).prop_map(|s| {
            let cd = gtin_check_digit(&s).unwrap();
            format!("{s}{cd}")
        })
    }

    fn cset82_text(max: usize) -> impl Strategy<Value = String> {
        let chars: Vec<char> = CSET82.chars().collect();
        proptest::collection::vec(proptest::sample::select(chars), 1..=max)
            .prop_map(|v| v.into_iter().collect())
    }

    /// A YYMMDD date with day 00 allowed, valid for `today()` (2026: 77..99 -> 19xx).
    fn date_value() -> impl Strategy<Value = (String, Value)> {
        (0i32..100, 1u32..=12, 0u32..=31).prop_filter_map("real date", |(yy, mm, dd)| {
            let year = if yy >= 77 { 1900 + yy } else { 2000 + yy };
            let date = if dd == 0 {
                let (ny, nm) = if mm == 12 {
                    (year + 1, 1)
                } else {
                    (year, mm + 1)
                };
                NaiveDate::from_ymd_opt(ny, nm, 1)?.pred_opt()?
            } else {
                NaiveDate::from_ymd_opt(year, mm, dd)?
            };
            Some((format!("{yy:02}{mm:02}{dd:02}"), Value::Date(date)))
        })
    }

    fn value_for(ai: &str) -> BoxedStrategy<(String, Value)> {
        match ai {
            "00" => with_check_digit(18)
                .prop_map(|s| (s.clone(), Value::Sscc(s)))
                .boxed(),
            "01" => with_check_digit(14)
                .prop_map(|s| (s.clone(), Value::Gtin(s)))
                .boxed(),
            "10" | "21" => cset82_text(20)
                .prop_map(|s| (s.clone(), Value::Text(s)))
                .boxed(),
            "400" => cset82_text(30)
                .prop_map(|s| (s.clone(), Value::Text(s)))
                .boxed(),
            "11" | "15" | "17" => date_value().boxed(),
            "30" | "37" => digits(1..=8)
                .prop_map(|s| {
                    let n = s.parse().unwrap();
                    (s, Value::Count(n))
                })
                .boxed(),
            "3103" => digits(6)
                .prop_map(|s| {
                    let digits = s.parse().unwrap();
                    (
                        s,
                        Value::Decimal {
                            digits,
                            decimals: 3,
                        },
                    )
                })
                .boxed(),
            other => panic!("no generator for {other}"),
        }
    }

    fn parsed_strategy() -> impl Strategy<Value = Parsed> {
        proptest::sample::subsequence(ROUND_TRIP_AIS.to_vec(), 1..=ROUND_TRIP_AIS.len())
            .prop_shuffle()
            .prop_flat_map(|ais| {
                ais.into_iter()
                    .map(|ai| {
                        value_for(ai).prop_map(move |(raw, value)| Element {
                            ai: ai.to_string(),
                            title: def(ai).title.to_string(),
                            raw,
                            value,
                        })
                    })
                    .collect::<Vec<_>>()
            })
            .prop_map(|elements| Parsed {
                symbology: None,
                elements,
            })
    }

    fn noisy_input() -> impl Strategy<Value = String> {
        let pieces = prop_oneof![
            Just("]C1".to_string()),
            Just("]E0".to_string()),
            Just("]I1".to_string()),
            Just("]".to_string()),
            Just("(".to_string()),
            Just(")".to_string()),
            Just("\\(".to_string()),
            Just(GS.to_string()),
            Just("~".to_string()),
            Just("01".to_string()),
            Just("10".to_string()),
            Just("17".to_string()),
            Just("3103".to_string()),
            Just("é🙂\u{0}\u{7f}\u{2028}".to_string()),
            digits(1..20),
            cset82_text(25),
            any::<char>().prop_map(String::from),
        ];
        proptest::collection::vec(pieces, 0..16).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn never_panics_on_arbitrary_strings(s in any::<String>(), standin in any::<Option<char>>()) {
            let _ = parse_at(&s, standin, today());
            let _ = parse(&s, None);
        }

        #[test]
        fn never_panics_on_gs1_like_noise(s in noisy_input(), standin in prop::option::of(prop_oneof![Just('~'), Just('|'), Just('0'), Just(' ')])) {
            if let Ok(p) = parse_at(&s, standin, today()) {
                // Whatever parses must render without trouble too.
                let _ = to_human_readable(&p);
                let _ = to_element_string(&p);
            }
        }

        #[test]
        fn round_trips(p in parsed_strategy()) {
            let hri = to_human_readable(&p);
            prop_assert_eq!(parse_at(&hri, None, today()), Ok(p.clone()), "HRI {:?}", hri);
            let raw = to_element_string(&p);
            prop_assert_eq!(parse_at(&raw, None, today()), Ok(p.clone()), "raw {:?}", raw);
            let tilde = raw.replace(GS, "~");
            prop_assert_eq!(parse_at(&tilde, Some('~'), today()), Ok(p.clone()), "tilde {:?}", tilde);
            let with_id = parse_at(&format!("]d2{GS}{raw}"), None, today());
            prop_assert_eq!(with_id, Ok(Parsed { symbology: Some(Symbology::DataMatrix), ..p }));
        }
    }
}
