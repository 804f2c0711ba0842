//! Writing to the audit log from handlers: who (from the session or the attempted
//! login name), when (the clock), from where (the client IP), what, to what, outcome.

use crate::context::RequestContext;
use crate::state::AppState;
use greenbridge_store::{Account, AuditEntry, Outcome};

pub struct Actor<'a> {
    pub account_id: Option<i64>,
    pub login: Option<&'a str>,
    pub role: Option<&'a str>,
}

impl<'a> Actor<'a> {
    pub fn account(account: &'a Account) -> Actor<'a> {
        Actor {
            account_id: Some(account.id),
            login: Some(&account.login),
            role: Some(account.role.as_str()),
        }
    }

    /// Someone not (yet) logged in, known only by the name they typed.
    pub fn attempted(login: &'a str) -> Actor<'a> {
        Actor {
            account_id: None,
            login: Some(login),
            role: None,
        }
    }
}

pub async fn record(
    state: &AppState,
    ctx: &RequestContext,
    actor: Actor<'_>,
    action: &str,
    target: &str,
    outcome: Outcome,
    detail: &str,
) -> Result<(), greenbridge_store::StoreError> {
    state
        .store
        .append_audit(
            &AuditEntry {
                actor_account_id: actor.account_id,
                actor_login: actor.login,
                actor_role: actor.role,
                ip: &ctx.ip,
                action,
                target,
                outcome,
                detail,
            },
            state.clock.unix(),
        )
        .await
}
