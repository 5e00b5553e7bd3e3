//! Which events a user may cause, checked on the terminal by the menu and checked again by
//! the server for every synced event. Deny by default.

use super::user::{Task, User};
use super::{Event, MoveReason};

/// The terminal id the server writes its own events under.
pub const SERVER_TERMINAL: &str = "server";

/// Why the server refuses an event from a terminal, or `Ok` when the user may record it.
/// `user` is `None` when the badge is not known to the server.
pub fn may_record(user: Option<&User>, badge: &str, event: &Event) -> Result<(), String> {
    use Event::*;
    // Login events are about the badge itself. Only a failure may name a badge the
    // server does not know (or has disabled): nobody else can sign in with it.
    match event {
        LoginFailed { badge: b, .. }
        | LoginSucceeded { badge: b }
        | LoggedOut { badge: b, .. }
        | BadgeLocked { badge: b } => {
            if b != badge {
                return Err(format!("a login event for {b} written as {badge}"));
            }
            let failure = matches!(event, LoginFailed { .. } | BadgeLocked { .. });
            return match user {
                _ if failure => Ok(()),
                Some(u) if !u.disabled => Ok(()),
                Some(_) => Err(format!("user {badge} is disabled")),
                None => Err(format!("user {badge} is not known to the server")),
            };
        }
        _ => {}
    }
    let Some(user) = user else {
        return Err(format!("user {badge} is not known to the server"));
    };
    if user.disabled {
        return Err(format!("user {badge} is disabled"));
    }
    let needs: &[Task] = match event {
        StockMoved { reason, .. } => match reason {
            MoveReason::Receipt => &[Task::Receiving],
            MoveReason::Putaway => &[Task::Putaway],
            MoveReason::Pick => &[Task::Picking],
            MoveReason::Pack | MoveReason::Ship => &[Task::Packing],
            MoveReason::Return => &[Task::Returns],
            MoveReason::Adjustment => &[Task::CycleCount, Task::Approvals],
            MoveReason::Transfer => &[Task::Putaway, Task::Approvals],
            MoveReason::Opening => &[],
        },
        LotDefined { .. } => &[
            Task::Receiving,
            Task::Putaway,
            Task::Returns,
            Task::CycleCount,
        ],
        ReceiptStarted { .. }
        | ReceiptChecked { .. }
        | ReceiptClosed { .. }
        | LabelPrinted { .. } => &[Task::Receiving],
        DiscrepancyRaised { .. } => &[
            Task::Receiving,
            Task::CycleCount,
            Task::Picking,
            Task::Returns,
        ],
        BadgeUnlocked { .. } => &[Task::UnlockBadge],
        BinCounted { .. } => &[Task::CycleCount],
        ItemDefined { .. }
        | LocationDefined { .. }
        | UserDefined { .. }
        | UserDisabled { .. }
        | PurchaseOrderDefined { .. }
        | PutawayRulesDefined { .. }
        | CustomerOrderDefined { .. }
        | RmaDefined { .. }
        | TerminalEnrolled { .. }
        | TerminalRevoked { .. }
        | ExceptionRaised { .. }
        | ExceptionResolved { .. } => {
            return Err(format!(
                "{} is reference data: it changes on the server only",
                event.kind()
            ));
        }
        LoginFailed { .. } | LoginSucceeded { .. } | LoggedOut { .. } | BadgeLocked { .. } => &[],
    };
    if needs.iter().any(|t| user.may(*t)) {
        Ok(())
    } else {
        Err(format!(
            "{badge} ({}) may not record {}",
            user.roles_label(),
            describe(event)
        ))
    }
}

fn describe(event: &Event) -> String {
    match event {
        Event::StockMoved { reason, .. } => format!("a {reason:?} movement").to_lowercase(),
        other => other.kind().replace('_', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn user(roles: &[Role]) -> User {
        User {
            badge: "1".into(),
            name: "n".into(),
            roles: roles.to_vec(),
            pin_hash: String::new(),
            disabled: false,
        }
    }

    fn moved(reason: MoveReason) -> Event {
        Event::StockMoved {
            sku: "S".into(),
            lot: String::new(),
            from: "A".into(),
            to: "B".into(),
            qty: 1,
            reason,
            receipt: None,
            order: None,
        }
    }

    #[test]
    fn roles_decide_and_reference_data_stays_on_the_server() {
        let picker = user(&[Role::Picker]);
        let receiver = user(&[Role::Receiver]);
        assert!(may_record(Some(&receiver), "1", &moved(MoveReason::Receipt)).is_ok());
        let e = may_record(Some(&picker), "1", &moved(MoveReason::Receipt));
        assert!(e.is_err_and(|m| m.contains("may not record a receipt movement")));
        assert!(may_record(Some(&receiver), "1", &moved(MoveReason::Opening)).is_err());
        assert!(may_record(None, "9", &moved(MoveReason::Receipt)).is_err());
        let unknown_login = Event::LoginFailed {
            badge: "9".into(),
            failure: crate::domain::LoginFailure::UnknownBadge,
        };
        assert!(may_record(None, "9", &unknown_login).is_ok());
        assert!(may_record(None, "8", &unknown_login).is_err());
        let admin = user(&[Role::Admin]);
        let rules = Event::PutawayRulesDefined { rules: vec![] };
        assert!(may_record(Some(&admin), "1", &rules).is_err());
    }
}
