//! Reading reference data from CSV. Every row is checked; the first bad row stops the
//! import with its line number and field, and nothing from the file is used.

use crate::domain::orders::{CustomerOrder, OrderLine, Rma, RmaLine};
use crate::domain::putaway::PutawayRule;
use crate::domain::receiving::{PoLine, PurchaseOrder};
use crate::domain::{
    AbcClass, Item, ItemGtin, Location, LocationKind, LocationRole, Role, item::normalize_gtin,
};
use crate::store::{Move, NewUser};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::io::Read;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    #[error("line {line}, field {field}: {message}")]
    Field {
        line: u64,
        field: String,
        message: String,
    },
    #[error("line {line}: {message}")]
    Row { line: u64, message: String },
    #[error("the file has no column {0}; the header must name it")]
    MissingColumn(String),
    #[error("the file is empty: it needs a header row and at least one data row")]
    Empty,
}

/// One CSV row with its line number, read by column name.
struct Row<'a> {
    line: u64,
    headers: &'a HashMap<String, usize>,
    record: &'a csv::StringRecord,
}

impl Row<'_> {
    fn raw(&self, field: &str) -> &str {
        self.headers
            .get(field)
            .and_then(|i| self.record.get(*i))
            .map(str::trim)
            .unwrap_or("")
    }

    fn err(&self, field: &str, message: impl Into<String>) -> ImportError {
        ImportError::Field {
            line: self.line,
            field: field.into(),
            message: message.into(),
        }
    }

    fn text(&self, field: &str) -> Result<String, ImportError> {
        let v = self.raw(field);
        if v.is_empty() {
            return Err(self.err(field, "must not be empty"));
        }
        if v.chars().any(char::is_control) {
            return Err(self.err(field, "contains control characters"));
        }
        Ok(v.to_string())
    }

    fn opt_text(&self, field: &str) -> Result<Option<String>, ImportError> {
        if self.raw(field).is_empty() {
            Ok(None)
        } else {
            self.text(field).map(Some)
        }
    }

    /// A code scanned from a label: letters, digits and `-_./`, at most 40 characters.
    fn code(&self, field: &str) -> Result<String, ImportError> {
        let v = self.text(field)?;
        if v.len() > 40
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        {
            return Err(self.err(
                field,
                format!("{v:?} is not a valid code: use letters, digits and - _ . / (at most 40)"),
            ));
        }
        Ok(v)
    }

    fn opt_int(&self, field: &str, min: i64, max: i64) -> Result<Option<i64>, ImportError> {
        let v = self.raw(field);
        if v.is_empty() {
            return Ok(None);
        }
        match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(self.err(
                field,
                format!("{v:?} is not a whole number from {min} to {max}"),
            )),
        }
    }

    fn int(&self, field: &str, min: i64, max: i64) -> Result<i64, ImportError> {
        self.opt_int(field, min, max)?
            .ok_or_else(|| self.err(field, "must not be empty"))
    }

    fn bool(&self, field: &str) -> Result<bool, ImportError> {
        match self.raw(field).to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "y" => Ok(true),
            "false" | "no" | "0" | "n" | "" => Ok(false),
            v => Err(self.err(field, format!("{v:?} is not true or false"))),
        }
    }

    fn opt_date(&self, field: &str) -> Result<Option<NaiveDate>, ImportError> {
        let v = self.raw(field);
        if v.is_empty() {
            return Ok(None);
        }
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| self.err(field, format!("{v:?} is not a date as YYYY-MM-DD")))
    }
}

/// Read every row of a CSV file, requiring the given columns.
fn read_rows<T>(
    reader: impl Read,
    required: &[&str],
    mut each: impl FnMut(&Row<'_>) -> Result<T, ImportError>,
) -> Result<Vec<T>, ImportError> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(reader);
    let headers: HashMap<String, usize> = rdr
        .headers()
        .map_err(|e| csv_error(&e, 1))?
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim().to_ascii_lowercase(), i))
        .collect();
    for col in required {
        if !headers.contains_key(*col) {
            return Err(ImportError::MissingColumn((*col).into()));
        }
    }
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = rdr.position().line() + 1;
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, |p| p.line());
                out.push(each(&Row {
                    line,
                    headers: &headers,
                    record: &record,
                })?);
            }
            Err(e) => return Err(csv_error(&e, line)),
        }
    }
    if out.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(out)
}

fn csv_error(e: &csv::Error, line: u64) -> ImportError {
    let line = e.position().map_or(line, |p| p.line());
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("has {len} fields, the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8 text".into(),
        _ => e.to_string(),
    };
    ImportError::Row { line, message }
}

fn no_duplicates<'a>(
    keys: impl Iterator<Item = (u64, &'a str)>,
    field: &str,
) -> Result<(), ImportError> {
    let mut seen = HashMap::new();
    for (line, key) in keys {
        if let Some(first) = seen.insert(key, line) {
            return Err(ImportError::Field {
                line,
                field: field.into(),
                message: format!("{key} is already on line {first}"),
            });
        }
    }
    Ok(())
}

/// `sku,description,base_unit,gtins,lot_tracked,expiry_tracked,shelf_life_days,abc,unit_cost_cents,category`
///
/// `gtins` is a `;`-separated list of `GTIN` (unit, pack 1) or `GTIN*QTY` (a case or inner
/// pack of QTY base units); every GTIN's check digit must be right.
pub fn items(reader: impl Read) -> Result<Vec<Item>, ImportError> {
    let rows = read_rows(
        reader,
        &[
            "sku",
            "description",
            "base_unit",
            "gtins",
            "lot_tracked",
            "expiry_tracked",
            "abc",
        ],
        |r| {
            let mut gtins = Vec::new();
            for part in r
                .raw("gtins")
                .split(';')
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                let (code, qty) = match part.split_once('*') {
                    Some((c, q)) => (c.trim(), q.trim()),
                    None => (part, "1"),
                };
                let gtin = normalize_gtin(code).ok_or_else(|| {
                    r.err(
                        "gtins",
                        format!("{code} is not a GTIN-8/12/13/14 with a correct check digit"),
                    )
                })?;
                let pack_qty = match qty.parse::<i64>() {
                    Ok(q) if (1..=100_000).contains(&q) => q,
                    _ => {
                        return Err(r.err(
                            "gtins",
                            format!("pack quantity {qty:?} of {code} is not 1 to 100000"),
                        ));
                    }
                };
                gtins.push(ItemGtin { gtin, pack_qty });
            }
            let lot_tracked = r.bool("lot_tracked")?;
            let expiry_tracked = r.bool("expiry_tracked")?;
            if expiry_tracked && !lot_tracked {
                return Err(r.err(
                    "expiry_tracked",
                    "an expiry-tracked item must be lot-tracked",
                ));
            }
            let abc = AbcClass::parse(r.raw("abc"))
                .ok_or_else(|| r.err("abc", format!("{:?} is not A, B or C", r.raw("abc"))))?;
            Ok((
                r.line,
                Item {
                    sku: r.code("sku")?,
                    description: r.text("description")?,
                    base_unit: r.text("base_unit")?,
                    gtins,
                    lot_tracked,
                    expiry_tracked,
                    shelf_life_days: r.opt_int("shelf_life_days", 1, 36_500)?.map(|d| d as u32),
                    abc,
                    unit_cost_cents: r.opt_int("unit_cost_cents", 0, 1_000_000_000)?.unwrap_or(0),
                    category: r.opt_text("category")?.unwrap_or_default(),
                },
            ))
        },
    )?;
    no_duplicates(rows.iter().map(|(l, i)| (*l, i.sku.as_str())), "sku")?;
    no_duplicates(
        rows.iter()
            .flat_map(|(l, i)| i.gtins.iter().map(move |g| (*l, g.gtin.as_str()))),
        "gtins",
    )?;
    Ok(rows.into_iter().map(|(_, i)| i).collect())
}

/// `code,site,zone,kind,role,pick_seq,check_digits,capacity`
pub fn locations(reader: impl Read) -> Result<Vec<Location>, ImportError> {
    let rows = read_rows(reader, &["code", "site", "kind", "role"], |r| {
        let role = LocationRole::parse(r.raw("role")).ok_or_else(|| {
            r.err(
                "role",
                format!(
                    "{:?} is not one of {}",
                    r.raw("role"),
                    LocationRole::ALL.map(|x| x.as_str()).join(", ")
                ),
            )
        })?;
        let kind = LocationKind::parse(r.raw("kind")).ok_or_else(|| {
            r.err(
                "kind",
                format!("{:?} is not physical or virtual", r.raw("kind")),
            )
        })?;
        if kind != role.kind() {
            return Err(r.err(
                "kind",
                format!("a {} location is {}", role.as_str(), role.kind().as_str()),
            ));
        }
        let check_digits = r.opt_text("check_digits")?;
        if let Some(cd) = &check_digits
            && (!(2..=3).contains(&cd.len()) || !cd.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(r.err("check_digits", format!("{cd:?} is not 2 or 3 digits")));
        }
        Ok((
            r.line,
            Location {
                code: r.code("code")?,
                site: r.code("site")?,
                zone: r.raw("zone").to_string(),
                kind,
                role,
                pick_seq: r.opt_int("pick_seq", 0, i64::from(u32::MAX))?,
                check_digits,
                capacity: r.opt_int("capacity", 0, 1_000_000_000)?,
            },
        ))
    })?;
    no_duplicates(rows.iter().map(|(l, x)| (*l, x.code.as_str())), "code")?;
    Ok(rows.into_iter().map(|(_, x)| x).collect())
}

/// `badge,name,roles,pin` with roles separated by `;`.
pub fn users(reader: impl Read) -> Result<Vec<NewUser>, ImportError> {
    let rows = read_rows(reader, &["badge", "name", "roles", "pin"], |r| {
        let mut roles = Vec::new();
        for part in r
            .raw("roles")
            .split([';', ','])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let role = Role::parse(part).ok_or_else(|| {
                r.err(
                    "roles",
                    format!(
                        "{part:?} is not one of {}",
                        Role::ALL.map(|x| x.as_str()).join(", ")
                    ),
                )
            })?;
            roles.push(role);
        }
        if roles.is_empty() {
            return Err(r.err("roles", "give at least one role"));
        }
        let pin = r.text("pin")?;
        crate::domain::auth::validate_pin(&pin).map_err(|e| r.err("pin", e.to_string()))?;
        Ok((
            r.line,
            NewUser {
                badge: r.code("badge")?,
                name: r.text("name")?,
                roles,
                pin,
            },
        ))
    })?;
    no_duplicates(rows.iter().map(|(l, u)| (*l, u.badge.as_str())), "badge")?;
    Ok(rows.into_iter().map(|(_, u)| u).collect())
}

/// `po,supplier,site,expected_date,line,sku,qty`, one row per PO line; the rows of a PO
/// must agree on supplier, site and date.
pub fn purchase_orders(reader: impl Read) -> Result<Vec<PurchaseOrder>, ImportError> {
    let rows = read_rows(
        reader,
        &["po", "supplier", "site", "line", "sku", "qty"],
        |r| {
            Ok((
                r.line,
                PurchaseOrder {
                    po: r.code("po")?,
                    supplier: r.text("supplier")?,
                    site: r.code("site")?,
                    expected: r.opt_date("expected_date")?,
                    lines: vec![PoLine {
                        line: r.int("line", 1, 9999)?,
                        sku: r.code("sku")?,
                        qty: r.int("qty", 1, crate::domain::MAX_MOVE_QTY)?,
                    }],
                },
            ))
        },
    )?;
    let mut out: Vec<PurchaseOrder> = Vec::new();
    for (line, row) in rows {
        match out.iter_mut().find(|o| o.po == row.po) {
            Some(o) => {
                if (o.supplier.as_str(), o.site.as_str(), o.expected)
                    != (row.supplier.as_str(), row.site.as_str(), row.expected)
                {
                    return Err(ImportError::Row {
                        line,
                        message: format!(
                            "{} has another supplier, site or date on an earlier row",
                            row.po
                        ),
                    });
                }
                for l in row.lines {
                    if o.lines.iter().any(|x| x.line == l.line) {
                        return Err(ImportError::Field {
                            line,
                            field: "line".into(),
                            message: format!("{} line {} is repeated", row.po, l.line),
                        });
                    }
                    o.lines.push(l);
                }
            }
            None => out.push(row),
        }
    }
    Ok(out)
}

/// `sku,category,zone,location`: each rule names an item or a category, and a zone or a bin.
pub fn putaway_rules(reader: impl Read) -> Result<Vec<PutawayRule>, ImportError> {
    read_rows(reader, &["sku", "category", "zone", "location"], |r| {
        let rule = PutawayRule {
            sku: r.opt_text("sku")?,
            category: r.opt_text("category")?,
            zone: r.opt_text("zone")?,
            location: r.opt_text("location")?,
        };
        if rule.sku.is_some() == rule.category.is_some() {
            return Err(r.err("sku", "give an item (sku) or a category, not both"));
        }
        if rule.zone.is_some() == rule.location.is_some() {
            return Err(r.err("zone", "give a zone or a location, not both"));
        }
        Ok(rule)
    })
}

/// `order,customer,site,due_date,line,sku,qty`, one row per order line; the rows of an
/// order must agree on customer, site and due date. Every column must be in the header
/// (a due date may be empty), so an RMA file is not taken for orders.
pub fn orders(reader: impl Read) -> Result<Vec<CustomerOrder>, ImportError> {
    let rows = read_rows(
        reader,
        &[
            "order", "customer", "site", "due_date", "line", "sku", "qty",
        ],
        |r| {
            Ok((
                r.line,
                CustomerOrder {
                    order: r.code("order")?,
                    customer: r.text("customer")?,
                    site: r.code("site")?,
                    due: r.opt_date("due_date")?,
                    lines: vec![OrderLine {
                        line: r.int("line", 1, 9999)?,
                        sku: r.code("sku")?,
                        qty: r.int("qty", 1, crate::domain::MAX_MOVE_QTY)?,
                    }],
                },
            ))
        },
    )?;
    let mut out: Vec<CustomerOrder> = Vec::new();
    for (line, row) in rows {
        match out.iter_mut().find(|o| o.order == row.order) {
            Some(o) => {
                if (o.customer.as_str(), o.site.as_str(), o.due)
                    != (row.customer.as_str(), row.site.as_str(), row.due)
                {
                    return Err(ImportError::Row {
                        line,
                        message: format!(
                            "{} has another customer, site or due date on an earlier row",
                            row.order
                        ),
                    });
                }
                for l in row.lines {
                    if o.lines.iter().any(|x| x.line == l.line) {
                        return Err(ImportError::Field {
                            line,
                            field: "line".into(),
                            message: format!("{} line {} is repeated", row.order, l.line),
                        });
                    }
                    o.lines.push(l);
                }
            }
            None => out.push(row),
        }
    }
    Ok(out)
}

/// `rma,customer,site,order,created_date,line,sku,qty,reason`, one row per RMA line; the
/// rows of an RMA must agree on customer, site, order and date. Every column must be in
/// the header (a date may be empty).
pub fn rmas(reader: impl Read) -> Result<Vec<Rma>, ImportError> {
    let rows = read_rows(
        reader,
        &[
            "rma",
            "customer",
            "site",
            "order",
            "created_date",
            "line",
            "sku",
            "qty",
            "reason",
        ],
        |r| {
            Ok((
                r.line,
                Rma {
                    rma: r.code("rma")?,
                    customer: r.text("customer")?,
                    site: r.code("site")?,
                    order: r.code("order")?,
                    created: r.opt_date("created_date")?,
                    lines: vec![RmaLine {
                        line: r.int("line", 1, 9999)?,
                        sku: r.code("sku")?,
                        qty: r.int("qty", 1, crate::domain::MAX_MOVE_QTY)?,
                        reason: r.text("reason")?,
                    }],
                },
            ))
        },
    )?;
    let mut out: Vec<Rma> = Vec::new();
    for (line, row) in rows {
        match out.iter_mut().find(|o| o.rma == row.rma) {
            Some(o) => {
                if (
                    o.customer.as_str(),
                    o.site.as_str(),
                    o.order.as_str(),
                    o.created,
                ) != (
                    row.customer.as_str(),
                    row.site.as_str(),
                    row.order.as_str(),
                    row.created,
                ) {
                    return Err(ImportError::Row {
                        line,
                        message: format!(
                            "{} has another customer, site, order or date on an earlier row",
                            row.rma
                        ),
                    });
                }
                for l in row.lines {
                    if o.lines.iter().any(|x| x.line == l.line) {
                        return Err(ImportError::Field {
                            line,
                            field: "line".into(),
                            message: format!("{} line {} is repeated", row.rma, l.line),
                        });
                    }
                    o.lines.push(l);
                }
            }
            None => out.push(row),
        }
    }
    Ok(out)
}

/// Opening stock: `location,sku,lot,expiry,qty`, each row a movement from `from`.
pub fn opening_stock(reader: impl Read, from: &str) -> Result<Vec<Move>, ImportError> {
    read_rows(reader, &["location", "sku", "qty"], |r| {
        Ok(Move {
            sku: r.code("sku")?,
            lot: r.opt_text("lot")?.unwrap_or_default(),
            expiry: r.opt_date("expiry")?,
            from: from.to_string(),
            to: r.code("location")?,
            qty: r.int("qty", 1, crate::domain::MAX_MOVE_QTY)?,
            reason: crate::domain::MoveReason::Opening,
            order: None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "sku,description,base_unit,gtins,lot_tracked,expiry_tracked,shelf_life_days,abc,unit_cost_cents,category\n";

    #[test]
    fn items_good_and_bad() {
        let ok =
            format!("{HEAD}S1,Milk,EA,0614141100019;10614141100016*6,true,true,10,A,99,dairy\n");
        let items = items(ok.as_bytes()).unwrap_or_default();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].gtins[1].pack_qty, 6);
        assert_eq!(items[0].gtins[0].gtin, "00614141100019");

        let bad = format!(
            "{HEAD}S1,Milk,EA,0614141100019,false,false,,A,1,x\nS2,Tea,EA,0614141100018,false,false,,A,1,x\n"
        );
        assert_eq!(
            super::items(bad.as_bytes()).err().map(|e| e.to_string()),
            Some("line 3, field gtins: 0614141100018 is not a GTIN-8/12/13/14 with a correct check digit".into())
        );
        let dup = format!("{HEAD}S1,Milk,EA,,false,false,,A,1,x\nS1,Tea,EA,,false,false,,Z,1,x\n");
        assert!(matches!(
            super::items(dup.as_bytes()),
            Err(ImportError::Field { line: 3, .. })
        ));
        assert_eq!(super::items(HEAD.as_bytes()), Err(ImportError::Empty));
        assert_eq!(
            super::items("sku,description\nS1,x\n".as_bytes()),
            Err(ImportError::MissingColumn("base_unit".into()))
        );
        let short = format!("{HEAD}S1,Milk\n");
        assert!(matches!(
            super::items(short.as_bytes()),
            Err(ImportError::Row { line: 2, .. })
        ));
    }

    #[test]
    fn demo_orders_and_rmas_group_their_lines() -> Result<(), ImportError> {
        let orders = orders(crate::demo::ORDERS_CSV.as_bytes())?;
        let first = orders.first().ok_or(ImportError::Empty)?;
        assert_eq!(first.order, "SO-7001");
        assert_eq!(first.lines.len(), 5);
        assert_eq!(first.due, NaiveDate::from_ymd_opt(2026, 11, 23));
        let rmas = rmas(crate::demo::RMAS_CSV.as_bytes())?;
        assert_eq!(rmas.len(), 5);
        assert_eq!(rmas[2].lines.len(), 3);
        assert_eq!(rmas[2].lines[1].reason, "damaged in transit");
        Ok(())
    }

    #[test]
    fn bad_orders_and_rmas_name_line_and_field() {
        const OH: &str = "order,customer,site,due_date,line,sku,qty\n";
        let qty = format!("{OH}SO-1,Shop,WH1,2026-01-02,1,S1,5\nSO-1,Shop,WH1,2026-01-02,2,S2,0\n");
        assert_eq!(
            orders(qty.as_bytes()).err().map(|e| e.to_string()),
            Some("line 3, field qty: \"0\" is not a whole number from 1 to 1000000".into())
        );
        let date = format!("{OH}SO-1,Shop,WH1,02.01.2026,1,S1,5\n");
        assert!(matches!(
            orders(date.as_bytes()),
            Err(ImportError::Field { line: 2, ref field, .. }) if field == "due_date"
        ));
        let repeated = format!("{OH}SO-1,Shop,WH1,,1,S1,5\nSO-1,Shop,WH1,,1,S2,1\n");
        assert!(matches!(
            orders(repeated.as_bytes()),
            Err(ImportError::Field { line: 3, ref field, .. }) if field == "line"
        ));
        let other_site = format!("{OH}SO-1,Shop,WH1,,1,S1,5\nSO-1,Shop,WH2,,2,S2,1\n");
        assert!(matches!(
            orders(other_site.as_bytes()),
            Err(ImportError::Row { line: 3, .. })
        ));
        const RH: &str = "rma,customer,site,order,created_date,line,sku,qty,reason\n";
        let no_reason = format!("{RH}R-1,Shop,WH1,SO-1,,1,S1,1,\n");
        assert_eq!(
            rmas(no_reason.as_bytes()).err().map(|e| e.to_string()),
            Some("line 2, field reason: must not be empty".into())
        );
        assert_eq!(
            rmas("rma,customer\nR-1,Shop\n".as_bytes()),
            Err(ImportError::MissingColumn("site".into()))
        );
        // An RMA file is not read as orders.
        assert_eq!(
            orders(crate::demo::RMAS_CSV.as_bytes()),
            Err(ImportError::MissingColumn("due_date".into()))
        );
    }
}
