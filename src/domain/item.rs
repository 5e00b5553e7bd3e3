//! Items, their barcodes and lots.

use serde::{Deserialize, Serialize};
use std::fmt;

/// ABC classification: A items are counted most often, C least.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AbcClass {
    A,
    B,
    C,
}

impl AbcClass {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "A" => Some(Self::A),
            "B" => Some(Self::B),
            "C" => Some(Self::C),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
            Self::C => "C",
        }
    }
}

impl fmt::Display for AbcClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One barcode of an item: a unit GTIN (pack 1) or a case/inner GTIN with the number of
/// base units it stands for. GTINs are kept in their 14-digit form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemGtin {
    pub gtin: String,
    pub pack_qty: i64,
}

/// An item (article, SKU) as the warehouse knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub sku: String,
    pub description: String,
    pub base_unit: String,
    pub gtins: Vec<ItemGtin>,
    pub lot_tracked: bool,
    pub expiry_tracked: bool,
    pub shelf_life_days: Option<u32>,
    pub abc: AbcClass,
    pub unit_cost_cents: i64,
    pub category: String,
}

/// A lot (batch) of an item. Items that are not lot-tracked use the empty lot code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lot {
    pub sku: String,
    pub code: String,
    pub expiry: Option<chrono::NaiveDate>,
}

pub use super::gs1::{gtin_check_digit, normalize_gtin};
