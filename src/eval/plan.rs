//! What the evaluator looks up for every request, resolved once per principal, per key and per
//! account, and cached in the world: the context layer, the identity documents and boundary,
//! the SCP and RCP levels, the grantee accounts of the grants. A request then touches no
//! string-keyed table (docs/performance.md).

use std::sync::Arc;

use super::context::Layer;
use crate::policy::model::{PolicyId, PrincipalRef};

/// The organization policies that govern an account, per level of its OU path (root first).
#[derive(Debug, Default)]
pub struct Levels {
    /// Each level: the root, OU or account id, and its documents (`None` stands for the AWS
    /// managed full-access policy).
    pub levels: Vec<(String, Vec<Option<PolicyId>>)>,
    /// Notes for documents that were named but not collected (they grant nothing).
    pub notes: Vec<String>,
}

/// A user or role of the world, resolved.
#[derive(Debug)]
pub struct PrincipalPlan {
    /// The context keys the caller implies.
    pub layer: Arc<Layer>,
    /// Inline and managed identity documents that are in the world, in order.
    pub identity: Vec<PolicyId>,
    /// The permissions boundary, when it is in the world.
    pub boundary: Option<PolicyId>,
    /// Notes for identity documents that were named but not collected.
    pub notes: Vec<String>,
    /// The SCP levels of the caller's account, when they govern it.
    pub scp: Option<Arc<Levels>>,
    /// The role's unique id (`AROA…`), the first part of a session's `aws:userid`.
    pub role_id: Option<String>,
}

/// A key of the world, resolved.
#[derive(Debug)]
pub struct KeyPlan {
    /// The context keys the key implies.
    pub layer: Arc<Layer>,
    /// The RCP levels of the key's account, when they govern it (not for AWS managed keys).
    pub rcp: Option<Arc<Levels>>,
    /// Per grant: its operations as a bit set (see [`crate::world::grant_op_bit`]).
    pub grant_ops: Vec<u32>,
    /// Per grant: its grantee, classified (service principals as [`PrincipalRef::Service`]).
    pub grantees: Vec<PrincipalRef>,
    /// Per grant: [`crate::policy::arn::account_key`] of the grantee's account (`0`: none).
    pub grantee_accounts: Vec<u64>,
}
