//! The standard operating procedures in `sops/`, built into the binary and shown by the
//! F1 help overlay for the screen in use.

/// The screens that have a procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Login,
    Home,
    StockLookup,
    Receiving,
    Putaway,
    Picking,
    Packing,
    Returns,
    CycleCount,
    Approvals,
    Practice,
}

impl Topic {
    pub fn text(self) -> &'static str {
        match self {
            Self::Login => include_str!("../sops/login.md"),
            Self::Home => include_str!("../sops/home.md"),
            Self::StockLookup => include_str!("../sops/stock-lookup.md"),
            Self::Receiving => include_str!("../sops/receiving.md"),
            Self::Putaway => include_str!("../sops/putaway.md"),
            Self::Picking => include_str!("../sops/picking.md"),
            Self::Packing => include_str!("../sops/packing.md"),
            Self::Returns => include_str!("../sops/returns.md"),
            Self::CycleCount => include_str!("../sops/cycle-count.md"),
            Self::Approvals => include_str!("../sops/approvals.md"),
            Self::Practice => include_str!("../sops/practice.md"),
        }
    }

    /// The procedure's title: its first `# ` heading.
    pub fn title(self) -> &'static str {
        self.text()
            .lines()
            .find_map(|l| l.strip_prefix("# "))
            .unwrap_or("Help")
    }
}
