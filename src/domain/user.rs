//! Users, roles and what each role may do. Deny by default: a role may do exactly the
//! tasks listed for it in [`Role::allows`].

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Receiver,
    Putaway,
    Picker,
    Packer,
    Returns,
    Counter,
    Supervisor,
    Trainer,
    Admin,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Self::Receiver,
        Self::Putaway,
        Self::Picker,
        Self::Packer,
        Self::Returns,
        Self::Counter,
        Self::Supervisor,
        Self::Trainer,
        Self::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Receiver => "receiver",
            Self::Putaway => "putaway",
            Self::Picker => "picker",
            Self::Packer => "packer",
            Self::Returns => "returns",
            Self::Counter => "counter",
            Self::Supervisor => "supervisor",
            Self::Trainer => "trainer",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The floor tasks this role may open. Anything not listed is denied.
    pub fn allows(self, task: Task) -> bool {
        use Task::*;
        match self {
            Self::Receiver => matches!(task, StockLookup | Receiving | Putaway),
            Self::Putaway => matches!(task, StockLookup | Putaway),
            Self::Picker => matches!(task, StockLookup | Picking),
            Self::Packer => matches!(task, StockLookup | Packing),
            Self::Returns => matches!(task, StockLookup | Returns),
            Self::Counter => matches!(task, StockLookup | CycleCount),
            Self::Supervisor => matches!(
                task,
                StockLookup | Approvals | CycleCount | UnlockBadge | RejectedSync | Kpis
            ),
            Self::Trainer => matches!(task, StockLookup | Practice),
            Self::Admin => matches!(task, StockLookup | UnlockBadge | RejectedSync),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A task on the home menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Task {
    StockLookup,
    Receiving,
    Putaway,
    Picking,
    Packing,
    Returns,
    CycleCount,
    Approvals,
    Kpis,
    UnlockBadge,
    /// This terminal's events that the server rejected, with its reasons.
    RejectedSync,
    Practice,
}

impl Task {
    /// Menu order.
    pub const ALL: [Task; 12] = [
        Self::StockLookup,
        Self::Receiving,
        Self::Putaway,
        Self::Picking,
        Self::Packing,
        Self::Returns,
        Self::CycleCount,
        Self::Approvals,
        Self::Kpis,
        Self::UnlockBadge,
        Self::RejectedSync,
        Self::Practice,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Self::StockLookup => "Stock lookup",
            Self::Receiving => "Receiving",
            Self::Putaway => "Putaway",
            Self::Picking => "Picking",
            Self::Packing => "Packing",
            Self::Returns => "Returns",
            Self::CycleCount => "Cycle count",
            Self::Approvals => "Approvals",
            Self::Kpis => "KPIs",
            Self::UnlockBadge => "Unlock badge",
            Self::RejectedSync => "Rejected sync",
            Self::Practice => "Practice",
        }
    }

    /// Whether this release has the screen for the task. Tasks that are not built yet are
    /// listed on the menu as such, never hidden and never faked.
    pub fn is_available(self) -> bool {
        matches!(
            self,
            Self::StockLookup
                | Self::UnlockBadge
                | Self::RejectedSync
                | Self::Receiving
                | Self::Putaway
        )
    }
}

/// A user of the floor system. The PIN is only ever held as an argon2id hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub badge: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub pin_hash: String,
    pub disabled: bool,
}

impl User {
    pub fn may(&self, task: Task) -> bool {
        !self.disabled && self.roles.iter().any(|r| r.allows(task))
    }

    /// The tasks on this user's home menu, in menu order.
    pub fn tasks(&self) -> Vec<Task> {
        Task::ALL.into_iter().filter(|t| self.may(*t)).collect()
    }

    pub fn roles_label(&self) -> String {
        self.roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join("+")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(roles: &[Role]) -> User {
        User {
            badge: "1".into(),
            name: "n".into(),
            roles: roles.to_vec(),
            pin_hash: String::new(),
            disabled: false,
        }
    }

    #[test]
    fn deny_by_default() {
        let picker = user(&[Role::Picker]);
        assert!(picker.may(Task::Picking));
        assert!(!picker.may(Task::Receiving));
        assert!(!picker.may(Task::UnlockBadge));
        assert_eq!(picker.tasks(), vec![Task::StockLookup, Task::Picking]);
        let mut sup = user(&[Role::Supervisor, Role::Counter]);
        assert!(sup.may(Task::UnlockBadge));
        sup.disabled = true;
        assert!(sup.tasks().is_empty());
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }
}
