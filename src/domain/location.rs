//! Locations: physical places in the building and virtual ones outside its walls.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    Physical,
    Virtual,
}

/// What a location is for. Status is a location: where stock sits says whether it may be
/// sold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationRole {
    Dock,
    Storage,
    PickFace,
    Pack,
    Ship,
    Quarantine,
    Returns,
    Supplier,
    Customer,
    Loss,
    Scrap,
    Transit,
}

impl LocationRole {
    pub const ALL: [LocationRole; 12] = [
        Self::Dock,
        Self::Storage,
        Self::PickFace,
        Self::Pack,
        Self::Ship,
        Self::Quarantine,
        Self::Returns,
        Self::Supplier,
        Self::Customer,
        Self::Loss,
        Self::Scrap,
        Self::Transit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dock => "dock",
            Self::Storage => "storage",
            Self::PickFace => "pick_face",
            Self::Pack => "pack",
            Self::Ship => "ship",
            Self::Quarantine => "quarantine",
            Self::Returns => "returns",
            Self::Supplier => "supplier",
            Self::Customer => "customer",
            Self::Loss => "loss",
            Self::Scrap => "scrap",
            Self::Transit => "transit",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The kind of location this role belongs to.
    pub fn kind(self) -> LocationKind {
        match self {
            Self::Supplier | Self::Customer | Self::Loss | Self::Scrap | Self::Transit => {
                LocationKind::Virtual
            }
            _ => LocationKind::Physical,
        }
    }

    /// Stock here is available to sell. Dock, quarantine, returns, pack and ship hold
    /// stock that is on hand but not available.
    pub fn is_available(self) -> bool {
        matches!(self, Self::Storage | Self::PickFace)
    }
}

impl LocationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Physical => "physical",
            Self::Virtual => "virtual",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "physical" => Some(Self::Physical),
            "virtual" => Some(Self::Virtual),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub code: String,
    pub site: String,
    pub zone: String,
    pub kind: LocationKind,
    pub role: LocationRole,
    /// Walking order for picking; lower comes first.
    pub pick_seq: Option<i64>,
    /// The digits printed on the label; keying them proves the operator is there.
    pub check_digits: Option<String>,
    /// Room in base units; `None` is unlimited.
    pub capacity: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_kinds() {
        for r in LocationRole::ALL {
            assert_eq!(LocationRole::parse(r.as_str()), Some(r));
        }
        assert_eq!(
            LocationRole::parse("Pick-Face"),
            Some(LocationRole::PickFace)
        );
        assert_eq!(LocationRole::Supplier.kind(), LocationKind::Virtual);
        assert_eq!(LocationRole::Dock.kind(), LocationKind::Physical);
        assert!(LocationRole::Storage.is_available());
        assert!(!LocationRole::Quarantine.is_available());
        assert!(!LocationRole::Dock.is_available());
    }
}
