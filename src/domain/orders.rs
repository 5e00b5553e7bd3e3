//! Customer orders and return authorisations, as reference data for the flows to come and
//! for availability (open order lines reserve stock).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub line: i64,
    pub sku: String,
    pub qty: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerOrder {
    pub order: String,
    pub customer: String,
    pub site: String,
    pub due: Option<NaiveDate>,
    pub lines: Vec<OrderLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RmaLine {
    pub line: i64,
    pub sku: String,
    pub qty: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rma {
    pub rma: String,
    pub customer: String,
    pub site: String,
    pub order: String,
    pub created: Option<NaiveDate>,
    pub lines: Vec<RmaLine>,
}
