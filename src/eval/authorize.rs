//! The KMS decision procedure (semantics.md §2.4, §2.6–§2.9, §6).
//!
//! One function, [`authorize`], decides a request against the world: explicit denies from
//! every source win; SCPs and RCPs need an allow at every level; then an allow must come from
//! the key policy naming the caller, from account delegation plus the caller's IAM, or from a
//! grant. Cross-account requests always need the caller-side IAM allow.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use super::condition::{condition_holds, resource_matches};
use super::context::{Context, CtxValue, Layer};
use super::plan::{KeyPlan, Levels, PrincipalPlan};
use super::principal::{classify_grantee, match_entry, match_grantee, match_principals, Caller, PrincipalMatch};
use crate::catalog::catalog;
use crate::policy::model::{DocKind, Effect, PolicyId, Statement};
use crate::policy::parse::parse_policy_text;
use crate::policy::wildcard::glob_match;
use crate::source::SourceId;
use crate::world::{Key, PlanSlot, PolicySlot, World};

/// The outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Decision {
    /// Allowed.
    Allow,
    /// Denied by an applicable `Deny` statement.
    ExplicitDeny,
    /// Nothing allowed it (or an SCP/RCP level had no allow).
    ImplicitDeny,
}

impl Decision {
    /// `Allow`, `ExplicitDeny`, `ImplicitDeny`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "Allow",
            Decision::ExplicitDeny => "ExplicitDeny",
            Decision::ImplicitDeny => "ImplicitDeny",
        }
    }
}

/// Which kind of document a reason comes from (`cli.md` `reasons[].source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReasonSource {
    /// The key policy.
    KeyPolicy,
    /// An identity policy of the caller.
    IdentityPolicy,
    /// The caller's permissions boundary.
    PermissionsBoundary,
    /// A session policy.
    SessionPolicy,
    /// A service control policy.
    Scp,
    /// A resource control policy.
    Rcp,
    /// A grant.
    Grant,
    /// A role trust policy (for `sts:AssumeRole`).
    TrustPolicy,
}

impl ReasonSource {
    /// The JSON spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonSource::KeyPolicy => "key-policy",
            ReasonSource::IdentityPolicy => "identity-policy",
            ReasonSource::PermissionsBoundary => "permissions-boundary",
            ReasonSource::SessionPolicy => "session-policy",
            ReasonSource::Scp => "scp",
            ReasonSource::Rcp => "rcp",
            ReasonSource::Grant => "grant",
            ReasonSource::TrustPolicy => "trust-policy",
        }
    }
}

/// A statement or grant that decided the outcome.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reason {
    /// Kind of document.
    pub source: ReasonSource,
    /// The policy, for statements.
    pub policy: Option<PolicyId>,
    /// Statement index, for statements.
    pub index: Option<usize>,
    /// Grant id, for grants.
    pub grant: Option<String>,
    /// Effect.
    pub effect: Effect,
}

/// A request to decide.
#[derive(Clone, Debug)]
pub struct Request {
    /// Who calls.
    pub caller: Caller,
    /// The action, e.g. `kms:Decrypt` (any case; canonicalised from the catalogue).
    pub action: String,
    /// Index of the key in `world.keys`.
    pub key: usize,
    /// Explicit context (encryption context and condition keys); world-implied keys are added.
    pub context: Context,
    /// The alias the key was named by, if any (`kms:RequestAlias`).
    pub via_alias: Option<String>,
    /// Grant tokens sent with the request.
    pub grant_tokens: Vec<String>,
    /// For `RetireGrant`/`RevokeGrant`: the grant concerned.
    pub grant_id: Option<String>,
    /// The caller stands for principals whose identity policies are not in the world (an
    /// abstract principal of `who-can`): assume its own account's IAM allows the action.
    pub assume_identity_allows: bool,
}

/// The answer.
#[derive(Clone, Debug)]
pub struct Response {
    /// The decision.
    pub decision: Decision,
    /// The statements and grants that decided it.
    pub reasons: Vec<Reason>,
    /// Human summary (lowercase one-liners joined by `; `).
    pub explanation: std::borrow::Cow<'static, str>,
    /// Things worth knowing (eventual consistency, unknown policies, assumptions).
    pub notes: Vec<String>,
    /// The full context the decision used (explicit + world-implied).
    pub context: Context,
}

/// Options for the `[UNSURE]` points of semantics.md §12 that are configurable.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// U2: a cross-account grantee also needs an IAM allow in its own account.
    pub cross_account_grant_needs_iam: bool,
}

/// Operations whose request carries an encryption context (grant constraints apply).
const EC_OPERATIONS: &[&str] = &[
    "Encrypt",
    "Decrypt",
    "ReEncryptFrom",
    "ReEncryptTo",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
];

struct Eval<'w> {
    world: &'w World,
    key: &'w Key,
    /// The ARN statements' `Resource` is matched against: the key (or role) ARN, or `*` for
    /// actions that have no resource (semantics.md §1.5).
    resource: &'w str,
    action: &'w str,
    /// The action's position in the catalogue.
    action_id: Option<usize>,
    caller: &'w Caller,
    /// The caller's cached plan, when it is a user or role of the world.
    plan: Option<&'w PrincipalPlan>,
    /// The key's cached plan, when it is a key of the world.
    key_plan: Option<&'w KeyPlan>,
    ctx: Context,
    notes: Vec<String>,
    assume_identity_allows: bool,
    /// The target is a role: its trust policy's statements have no `Resource` (semantics.md §1.2).
    trust: bool,
}

/// A policy the caller or key is subject to, with its role.
struct Doc<'w> {
    id: PolicyId,
    source: ReasonSource,
    statements: &'w [Statement],
    variables: bool,
}

/// A document of the world by id.
fn doc_of(world: &World, id: PolicyId, source: ReasonSource) -> Option<Doc<'_>> {
    world.policy(id).map(|e| Doc {
        id,
        source,
        statements: &e.policy.statements,
        variables: e.policy.variables_enabled(),
    })
}

/// The id of the document in a slot when it is in the world; an unknown one is noted and
/// grants nothing.
fn known_id(
    world: &World,
    notes: &mut Vec<String>,
    slot: &PolicySlot,
    what: impl std::fmt::Display,
) -> Option<PolicyId> {
    match slot {
        PolicySlot::Known(id) => world.policy(*id).map(|_| *id),
        PolicySlot::Unknown(why) => {
            notes.push(format!("{what} is unknown ({why}); treated as granting nothing"));
            None
        }
    }
}

/// The id of a managed policy by ARN when it is in the world; a missing one is noted.
fn managed_id(world: &World, notes: &mut Vec<String>, arn: &str) -> Option<PolicyId> {
    match world.managed_policies.get(arn) {
        Some(m) => known_id(world, notes, &m.policy, format_args!("managed policy `{arn}`")),
        None => {
            notes.push(format!("managed policy `{arn}` is not in the inputs; treated as granting nothing"));
            None
        }
    }
}

impl<'w> Eval<'w> {
    fn doc(&mut self, slot: &PolicySlot, source: ReasonSource, what: impl std::fmt::Display) -> Option<Doc<'w>> {
        known_id(self.world, &mut self.notes, slot, what).and_then(|id| doc_of(self.world, id, source))
    }

    fn managed(&mut self, arn: &str, source: ReasonSource) -> Option<Doc<'w>> {
        managed_id(self.world, &mut self.notes, arn).and_then(|id| doc_of(self.world, id, source))
    }

    /// The SCP or RCP levels that govern the request; their notes go to the response.
    fn levels(&mut self, kind: DocKind) -> Option<LevelsRef<'w>> {
        let cached = match kind {
            DocKind::Scp => self.plan.map(|p| p.scp.as_deref()),
            _ => self.key_plan.map(|p| p.rcp.as_deref()),
        };
        let levels = match cached {
            Some(l) => l.map(LevelsRef::Cached),
            None => {
                let account = match kind {
                    DocKind::Scp => scp_account(self.caller),
                    _ => (!aws_managed(self.key)).then_some(self.key.account.as_str()),
                };
                account.and_then(|a| org_levels(self.world, a, kind)).map(LevelsRef::Owned)
            }
        };
        if let Some(l) = &levels {
            self.notes.extend(l.get().notes.iter().cloned());
        }
        levels
    }

    /// Does the statement apply? Returns the principal grade (`Direct` for principal-less documents).
    fn applies(&self, st: &Statement, variables: bool, resource_policy: bool) -> PrincipalMatch {
        statement_applies(
            self.world,
            st,
            &StatementQuery {
                caller: self.caller,
                action: self.action,
                resource: self.resource,
                resource_policy,
                implicit_resource: self.trust && resource_policy,
                action_id: self.action_id,
            },
            &self.ctx,
            variables,
            &|_| true,
        )
    }

    /// Statements of a document that apply with the given effect, with their grades.
    fn matching<'s>(
        &'s self,
        doc: &Doc<'s>,
        effect: Effect,
        resource_policy: bool,
    ) -> impl Iterator<Item = (usize, PrincipalMatch)> + 's {
        let variables = doc.variables;
        doc.statements
            .iter()
            .filter(move |st| st.effect == effect)
            .map(move |st| (st.index, self.applies(st, variables, resource_policy)))
            .filter(|(_, g)| *g != PrincipalMatch::None)
    }

    /// The Allow statements of identity-side documents (identity policies, a boundary) that
    /// apply, as reasons.
    fn allow_reasons(&self, docs: &[Doc<'_>]) -> Vec<Reason> {
        docs.iter()
            .flat_map(|d| self.matching(d, Effect::Allow, false).map(move |(i, _)| reason(d, i, Effect::Allow)))
            .collect()
    }
}

/// The request parts a statement is matched against.
#[derive(Clone, Copy, Debug)]
pub struct StatementQuery<'a> {
    /// Who calls.
    pub caller: &'a Caller,
    /// The canonical action.
    pub action: &'a str,
    /// The resource ARN (or `*`).
    pub resource: &'a str,
    /// True for resource policies (key, trust, RCP): the `Principal` element is matched.
    pub resource_policy: bool,
    /// True for role trust policies, which have no `Resource` element (semantics.md §1.2: "not
    /// used"): a statement without `Resource` then applies to the role.
    pub implicit_resource: bool,
    /// The action's position in the catalogue (`None`: not in it), looked up once.
    pub action_id: Option<usize>,
}

impl<'a> StatementQuery<'a> {
    /// A query about `action` on `resource` (a resource policy when `resource_policy`).
    #[must_use]
    pub fn new(caller: &'a Caller, action: &'a str, resource: &'a str, resource_policy: bool) -> Self {
        StatementQuery {
            caller,
            action,
            resource,
            resource_policy,
            implicit_resource: false,
            action_id: catalog().action_id(action),
        }
    }
}

/// Statement matching (semantics.md §2.2), the one definition every stage uses: principal,
/// action, resource, and the conditions selected by `check` (all of them in the evaluator; the
/// solver leaves out the conditions on keys it will choose itself). Returns how the principal
/// matched (`Direct` for documents without principals), or `None` when the statement does not
/// apply. A broken statement never applies.
#[must_use]
pub fn statement_applies(
    world: &World,
    st: &Statement,
    q: &StatementQuery<'_>,
    ctx: &Context,
    variables: bool,
    check: &dyn Fn(&crate::policy::model::Condition) -> bool,
) -> PrincipalMatch {
    if st.broken {
        return PrincipalMatch::None;
    }
    let grade = if q.resource_policy {
        match &st.principal {
            Some(p) => match_principals(p, q.caller, world),
            None => PrincipalMatch::None,
        }
    } else {
        PrincipalMatch::Direct
    };
    if grade == PrincipalMatch::None {
        return grade;
    }
    if !action_applies_id(st, q.action, q.action_id) {
        return PrincipalMatch::None;
    }
    match &st.resource {
        Some(res) => {
            let res_hit = res.items.iter().any(|r| resource_matches(&r.value, q.resource, ctx, variables));
            if res_hit == res.negated {
                return PrincipalMatch::None;
            }
        }
        None if q.implicit_resource => {}
        None => return PrincipalMatch::None,
    }
    if !st.conditions.iter().filter(|c| check(c)).all(|c| condition_holds(c, ctx, variables)) {
        return PrincipalMatch::None;
    }
    grade
}

/// Does the statement's `Action` (or `NotAction`) element cover the action?
#[must_use]
pub fn action_applies(st: &Statement, action: &str) -> bool {
    action_applies_id(st, action, catalog().action_id(action))
}

/// [`action_applies`] with the action's catalogue position already looked up.
#[must_use]
pub fn action_applies_id(st: &Statement, action: &str, id: Option<usize>) -> bool {
    let Some(id) = id else {
        return st.action.items.iter().any(|a| action_matches(&a.value, action)) != st.action.negated;
    };
    let set = st.action.action_set.get_or_init(|| action_set(&st.action));
    set.get(id / 64).is_some_and(|w| w & (1 << (id % 64)) != 0)
}

/// The catalogue actions an `Action`/`NotAction` element covers, as a bit set: for each
/// catalogue action, exactly what [`action_matches`] says over the element's patterns (a
/// pattern's service part is compared, not matched, so only that service's actions are tried).
fn action_set(p: &crate::policy::model::Patterns) -> Box<[u64]> {
    let actions = catalog().actions();
    let mut bits = vec![0u64; actions.len().div_ceil(64)];
    let mut set = |i: usize| {
        if let Some(w) = bits.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    };
    for item in &p.items {
        let v = item.value.as_str();
        if v.is_ascii() && !v.contains(['*', '?']) && !v.bytes().any(|b| b.is_ascii_whitespace()) {
            // A literal pattern matches exactly the action of that name, in any case.
            if let Some(i) =
                catalog().action_id(v).filter(|&i| actions.get(i).is_some_and(|a| v.eq_ignore_ascii_case(&a.name)))
            {
                set(i);
            }
            continue;
        }
        let service = v.split_once(':').map(|(s, _)| s);
        for (i, a) in actions.iter().enumerate() {
            let same_service = match (service, a.name.split_once(':')) {
                (Some(ps), Some((s, _))) => ps.eq_ignore_ascii_case(s),
                _ => true,
            };
            if same_service && action_matches(&item.value, &a.name) {
                set(i);
            }
        }
    }
    if p.negated {
        for (i, w) in bits.iter_mut().enumerate() {
            let valid = actions.len().saturating_sub(i * 64).min(64);
            let mask = if valid == 64 { u64::MAX } else { (1u64 << valid) - 1 };
            *w = !*w & mask;
        }
    }
    bits.into_boxed_slice()
}

/// Matches an action pattern (`kms:Re?ncrypt*`) against an action, case-insensitively; a
/// pattern with white space matches nothing (semantics.md §1.4).
#[must_use]
pub fn action_matches(pattern: &str, action: &str) -> bool {
    if pattern.bytes().any(|b| b.is_ascii_whitespace()) {
        return false;
    }
    if pattern == "*" {
        return true;
    }
    match (pattern.split_once(':'), action.split_once(':')) {
        (Some((ps, pa)), Some((s, a))) => ps.eq_ignore_ascii_case(s) && glob_match(pa, a, true),
        _ => false,
    }
}

fn reason(doc: &Doc<'_>, index: usize, effect: Effect) -> Reason {
    Reason { source: doc.source, policy: Some(doc.id), index: Some(index), grant: None, effect }
}

/// Context keys implied by the caller alone (principal ARN, account, type, tags, organization).
pub fn implied_caller_context(world: &World, caller: &Caller, ctx: &mut Context) {
    push_caller_context(world, caller, caller_plan(world, caller), ctx);
}

fn push_caller_context(world: &World, caller: &Caller, plan: Option<&PrincipalPlan>, ctx: &mut Context) {
    let Some(plan) = plan else {
        let id = match caller {
            Caller::AssumedRole { .. } => caller.principal_arn(),
            _ => caller.arn(),
        };
        ctx.push_layer(world.cached_layer(&format!("caller\u{0}{id}"), || caller_layer(world, caller)));
        return;
    };
    ctx.push_layer(Arc::clone(&plan.layer));
    // `aws:userid` of a role session names the session, so it is not part of the shared
    // layer; it is only built when some statement reads it.
    if let (Caller::AssumedRole { session, .. }, Some(id)) = (caller, &plan.role_id) {
        if world.mentions_userid() {
            ctx.set_request_default("aws:userid", CtxValue::Single(format!("{id}:{session}")));
        }
    }
}

/// The cached plan of a caller that is a user or role of the world.
fn caller_plan<'w>(world: &'w World, caller: &Caller) -> Option<&'w PrincipalPlan> {
    let slot = match caller {
        Caller::AssumedRole { account, role, .. } => PlanSlot::Role(world.role_index(account, role)?),
        Caller::User { account, name, .. } => PlanSlot::User(world.user_index(account, name)?),
        _ => return None,
    };
    world.principal_plan(slot, || {
        let slots = identity_slots(world, caller);
        let mut notes = Vec::new();
        let mut identity = Vec::new();
        for s in &slots.inline {
            identity.extend(known_id(world, &mut notes, s, "an inline policy"));
        }
        for m in &slots.managed {
            identity.extend(managed_id(world, &mut notes, m));
        }
        let boundary = slots.boundary.as_deref().and_then(|b| managed_id(world, &mut notes, b));
        let role_id = match caller {
            Caller::AssumedRole { account, role, .. } => world.role(account, role).and_then(|r| r.id.clone()),
            _ => None,
        };
        PrincipalPlan {
            layer: Arc::new(caller_layer(world, caller)),
            identity,
            boundary,
            notes,
            scp: scp_account(caller).and_then(|a| org_levels(world, a, DocKind::Scp)),
            role_id,
        }
    })
}

/// The cached plan of a key of the world (`None` for a synthetic key, such as a role's trust
/// policy seen as a key).
fn key_plan<'w>(world: &'w World, key: &Key) -> Option<&'w KeyPlan> {
    let i = world.key_index_of(key)?;
    world.key_plan(i, || {
        let grantees: Vec<_> = key.grants.iter().flatten().map(|g| classify_grantee(&g.grantee, world)).collect();
        KeyPlan {
            layer: Arc::new(key_layer(world, key)),
            grant_ops: key
                .grants
                .iter()
                .flatten()
                .map(|g| g.operations.iter().filter_map(|o| crate::world::grant_op_bit(o)).fold(0, |m, b| m | b))
                .collect(),
            rcp: if aws_managed(key) { None } else { org_levels(world, &key.account, DocKind::Rcp) },
            grantee_accounts: grantees.iter().map(crate::policy::model::PrincipalRef::account_key).collect(),
            grantees,
        }
    })
}

fn caller_layer(world: &World, caller: &Caller) -> Layer {
    let mut c = Context::new();
    let ctx = &mut c;
    let single = |v: &str| CtxValue::Single(v.to_string());
    match caller {
        Caller::Service(name) => {
            ctx.set_default("aws:PrincipalIsAWSService", single("true"));
            ctx.set_default("aws:PrincipalServiceName", single(name));
        }
        _ => {
            ctx.set_default("aws:PrincipalIsAWSService", single("false"));
            ctx.set_default("aws:PrincipalArn", single(&caller.principal_arn()));
            ctx.set_default("aws:PrincipalType", single(caller.principal_type()));
            if let Some(acct) = caller.account() {
                ctx.set_default("aws:PrincipalAccount", single(acct));
                ctx.set_default("kms:CallerAccount", single(acct));
                if let Some(org) = &world.org {
                    if org.accounts.iter().any(|a| a == acct) || org.management_account.as_deref() == Some(acct) {
                        ctx.set_default("aws:PrincipalOrgID", single(&org.id));
                        ctx.set_default("aws:PrincipalOrgPaths", CtxValue::Multi(vec![org.org_path(acct)]));
                    }
                }
            }
            let tags = match caller {
                Caller::User { account, name, .. } => world.user(account, name).map(|u| {
                    ctx.set_default("aws:username", single(name));
                    if let Some(id) = &u.id {
                        ctx.set_default("aws:userid", single(id));
                    }
                    &u.tags
                }),
                // A session's `aws:userid` is added per request (`push_caller_context`).
                Caller::AssumedRole { account, role, .. } => world.role(account, role).map(|r| &r.tags),
                Caller::Root { account } => {
                    ctx.set_default("aws:userid", single(account));
                    None
                }
                _ => None,
            };
            for (k, v) in tags.into_iter().flatten() {
                ctx.set_default(&format!("aws:PrincipalTag/{k}"), single(v));
            }
        }
    }
    c.into_layer()
}

/// Fills in the context keys the world implies (semantics.md §2.1, §4.2, §4.3). Explicit
/// values are never overwritten.
pub fn implied_context(
    world: &World,
    key: &Key,
    caller: &Caller,
    action: &str,
    via_alias: Option<&str>,
    ctx: &mut Context,
) {
    let plans = (caller_plan(world, caller), key_plan(world, key));
    implied_context_with(world, key, caller, plans, action, via_alias, ctx);
}

/// [`implied_context`] with the plans of the caller and key already looked up.
fn implied_context_with(
    world: &World,
    key: &Key,
    caller: &Caller,
    (plan, kplan): (Option<&PrincipalPlan>, Option<&KeyPlan>),
    action: &str,
    via_alias: Option<&str>,
    ctx: &mut Context,
) {
    push_caller_context(world, caller, plan, ctx);
    match kplan {
        Some(p) => ctx.push_layer(Arc::clone(&p.layer)),
        None => ctx.push_layer(world.cached_layer(&format!("key\u{0}{}", key.arn), || key_layer(world, key))),
    }
    if let Some(a) = via_alias {
        let name = a.rsplit_once(":alias/").map_or(a.to_string(), |(_, n)| format!("alias/{n}"));
        ctx.set_request_default("kms:RequestAlias", CtxValue::Single(name));
    }
    let via_service = if ctx.has_explicit("kms:viaservice") {
        Some(true)
    } else {
        (!matches!(caller, Caller::Service(_))).then_some(false)
    };
    let short = action.strip_prefix("kms:").unwrap_or(action);
    let symmetric = key.metadata.as_ref().is_none_or(|m| m.spec == "SYMMETRIC_DEFAULT");
    let algorithm = EC_OPERATIONS.contains(&short) && symmetric;
    let reencrypt = matches!(short, "ReEncryptFrom" | "ReEncryptTo");
    ctx.push_static_layer(request_defaults(via_service, algorithm, reencrypt));
}

/// The request-specific defaults (`aws:ViaAWSService`, `kms:EncryptionAlgorithm`,
/// `kms:ReEncryptOnSameKey`) as one of twelve shared layers. No caller or key layer holds these
/// keys, so the layer order does not matter; explicit values win.
fn request_defaults(via_service: Option<bool>, algorithm: bool, reencrypt: bool) -> &'static Layer {
    static LAYERS: OnceLock<Vec<Layer>> = OnceLock::new();
    static EMPTY: Layer = Layer::new();
    let all = LAYERS.get_or_init(|| {
        let mut out = Vec::new();
        for via in [None, Some(false), Some(true)] {
            for alg in [false, true] {
                for re in [false, true] {
                    let mut c = Context::new();
                    if let Some(v) = via {
                        c.set_single("aws:ViaAWSService", if v { "true" } else { "false" });
                    }
                    if alg {
                        c.set_single("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
                    }
                    if re {
                        c.set_single("kms:ReEncryptOnSameKey", "false");
                    }
                    out.push(c.into_layer());
                }
            }
        }
        out
    });
    let via = match via_service {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    };
    all.get(via * 4 + usize::from(algorithm) * 2 + usize::from(reencrypt)).unwrap_or(&EMPTY)
}

/// True when the world fixes the value of a context key for this caller and key, present or
/// absent, so that no request can choose it (semantics.md §2.1, §4.3): the caller's identity
/// (`aws:PrincipalArn`, `aws:PrincipalAccount`, `kms:CallerAccount`, …), its tags and ids when
/// the caller is in the world, organization membership when the organization is known, the
/// key's account, Region, aliases, and its tags when they were collected. [`implied_context`]
/// sets the present ones; the others are absent for this caller. Keys the world does not know
/// (a principal outside the inputs, no organization data, tags not collected) are not fixed.
#[must_use]
pub fn world_determines(world: &World, key: &Key, caller: &Caller, key_lc: &str) -> bool {
    let known_identity = match caller {
        Caller::Root { .. } | Caller::Service(_) => true,
        Caller::User { account, name, .. } => world.user(account, name).is_some(),
        Caller::AssumedRole { account, role, .. } => world.role(account, role).is_some(),
        Caller::FederatedUser { .. } => false,
    };
    match key_lc {
        "aws:principalarn"
        | "aws:principalaccount"
        | "aws:principaltype"
        | "aws:principalisawsservice"
        | "aws:principalservicename"
        | "kms:calleraccount"
        | "aws:resourceaccount"
        | "aws:requestedregion"
        | "kms:resourcealiases" => true,
        "aws:principalorgid" | "aws:principalorgpaths" => world.org.is_some() || matches!(caller, Caller::Service(_)),
        "aws:resourceorgid" | "aws:resourceorgpaths" => world.org.is_some(),
        "aws:userid" | "aws:username" => known_identity,
        k if k.starts_with("aws:principaltag/") => known_identity,
        k if k.starts_with("aws:resourcetag/") => key.tags.is_some(),
        _ => false,
    }
}

/// Keys implied by the key alone (tags, aliases, spec, account, organization).
fn key_layer(world: &World, key: &Key) -> Layer {
    let mut c = Context::new();
    let ctx = &mut c;
    let single = |v: &str| CtxValue::Single(v.to_string());
    ctx.set_default("aws:SecureTransport", single("true"));
    ctx.set_default("aws:RequestedRegion", single(&key.region));
    ctx.set_default("aws:ResourceAccount", single(&key.account));
    if let Some(org) = &world.org {
        if org.accounts.iter().any(|a| a == &key.account) || org.management_account.as_deref() == Some(&key.account) {
            ctx.set_default("aws:ResourceOrgID", single(&org.id));
        }
    }
    for (k, v) in key.tags.iter().flatten() {
        ctx.set_default(&format!("aws:ResourceTag/{k}"), single(v));
    }
    let md = key.metadata.clone().unwrap_or_default();
    ctx.set_default("kms:KeySpec", single(&md.spec));
    ctx.set_default("kms:CustomerMasterKeySpec", single(&md.spec));
    ctx.set_default("kms:KeyUsage", single(&md.usage));
    ctx.set_default("kms:CustomerMasterKeyUsage", single(&md.usage));
    ctx.set_default("kms:KeyOrigin", single(&md.origin));
    ctx.set_default("kms:MultiRegion", single(if md.multi_region { "true" } else { "false" }));
    if let Some(t) = &md.multi_region_type {
        ctx.set_default("kms:MultiRegionKeyType", single(t));
    }
    let aliases = world.aliases_of(key);
    if !aliases.is_empty() {
        ctx.set_default("kms:ResourceAliases", CtxValue::Multi(aliases));
    }
    c.into_layer()
}

/// Canonical action name from the catalogue (`KMS:decrypt` → `kms:Decrypt`).
#[must_use]
pub fn canonical_action(action: &str) -> String {
    canonical_action_ref(action).into_owned()
}

/// [`canonical_action`] without allocating when the action is in the catalogue.
#[must_use]
pub fn canonical_action_ref(action: &str) -> std::borrow::Cow<'_, str> {
    match catalog().action(action) {
        Some(a) => std::borrow::Cow::Borrowed(a.name.as_str()),
        None => std::borrow::Cow::Borrowed(action),
    }
}

/// Decides a request with default options.
#[must_use]
pub fn authorize(world: &World, req: &Request) -> Response {
    authorize_with(world, req, Options::default())
}

/// Decides a request.
#[must_use]
pub fn authorize_with(world: &World, req: &Request, opts: Options) -> Response {
    let action = canonical_action_ref(&req.action);
    let Some(key) = world.keys.get(req.key) else {
        return Response {
            decision: Decision::ImplicitDeny,
            reasons: Vec::new(),
            explanation: "the key is not in the world".into(),
            notes: Vec::new(),
            context: req.context.clone(),
        };
    };
    let plans = (caller_plan(world, &req.caller), key_plan(world, key));
    let mut ctx = req.context.clone();
    implied_context_with(world, key, &req.caller, plans, &action, req.via_alias.as_deref(), &mut ctx);
    decide_target(world, key, Target::Key(plans.1), &action, req, plans.0, ctx, opts)
}

/// What is being accessed.
#[derive(Clone, Copy, Debug)]
enum Target<'w> {
    /// A KMS key (key policy, grants), with its cached plan when it is a key of the world.
    Key(Option<&'w KeyPlan>),
    /// An IAM role (trust policy) for `sts:AssumeRole`.
    Role,
}

#[allow(clippy::too_many_arguments, reason = "the parts of one request, resolved once by the caller")]
fn decide_target(
    world: &World,
    key: &Key,
    target: Target<'_>,
    action: &str,
    req: &Request,
    plan: Option<&PrincipalPlan>,
    ctx: Context,
    opts: Options,
) -> Response {
    let action_id = catalog().action_id(action);
    let info = action_id.and_then(|i| catalog().actions().get(i));
    let iam_only = matches!(target, Target::Key(_))
        && info.is_some_and(|i| i.is_kms() && i.resource == crate::catalog::ResourceKind::None);
    let resource = if iam_only { "*" } else { key.arn.as_str() };
    let mut ev = Eval {
        world,
        key,
        resource,
        action,
        action_id,
        caller: &req.caller,
        plan,
        key_plan: match target {
            Target::Key(p) => p,
            Target::Role => None,
        },
        ctx,
        notes: Vec::new(),
        assume_identity_allows: req.assume_identity_allows,
        trust: matches!(target, Target::Role),
    };
    let (decision, reasons, explanation) =
        if iam_only { decide_iam_only(&mut ev) } else { decide(&mut ev, req, opts, target, info) };
    let mut notes = ev.notes;
    notes.sort();
    notes.dedup();
    Response { decision, reasons, explanation, notes, context: ev.ctx }
}

type Outcome = (Decision, Vec<Reason>, std::borrow::Cow<'static, str>);

fn deny(reasons: Vec<Reason>, why: impl Into<std::borrow::Cow<'static, str>>) -> Outcome {
    (Decision::ExplicitDeny, reasons, why.into())
}

fn implicit(why: impl Into<std::borrow::Cow<'static, str>>) -> Outcome {
    (Decision::ImplicitDeny, Vec::new(), why.into())
}

fn decide(
    ev: &mut Eval<'_>,
    req: &Request,
    opts: Options,
    target: Target<'_>,
    info: Option<&'static crate::catalog::ActionInfo>,
) -> Outcome {
    let key = ev.key;
    let action = ev.action;
    let short = action.strip_prefix("kms:").unwrap_or(action);
    let caller_acct = req.caller.account();
    let is_service = matches!(req.caller, Caller::Service(_));
    let same = caller_acct == Some(key.account.as_str());

    // 0. operations that are not cross-account (semantics.md §4.1, §2.6 row 13)
    if !same && !is_service && info.is_some_and(|i| i.is_kms() && !i.cross_account) {
        return implicit(format!(
            "`{action}` is not a cross-account operation: callers outside `{}` are always denied",
            key.account
        ));
    }
    if info.is_none() || !action.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("kms:")) {
        ev.notes.push(format!("`{action}` is not a known KMS action"));
    }
    // Collect the documents.
    let (policy_source, policy_name) = match target {
        Target::Key(_) => (ReasonSource::KeyPolicy, "key policy"),
        Target::Role => (ReasonSource::TrustPolicy, "trust policy"),
    };
    let key_policy = match &key.policy {
        Some(slot) => ev.doc(slot, policy_source, format_args!("the {policy_name}")),
        None => {
            ev.notes.push(format!("the {policy_name} of `{}` was not collected", key.arn));
            None
        }
    };
    let (identity, boundary, identity_known) = identity_docs(ev);
    let scp_levels = ev.levels(DocKind::Scp);
    let rcp_levels = if short == "RetireGrant" { None } else { ev.levels(DocKind::Rcp) };
    let world = ev.world;

    // 1. explicit denies, from every source
    let mut denies = Vec::new();
    let kp_in_play = short != "RetireGrant";
    if let (Some(kp), true) = (&key_policy, kp_in_play) {
        for (i, _) in ev.matching(kp, Effect::Deny, true) {
            denies.push(reason(kp, i, Effect::Deny));
        }
    }
    for d in identity.iter().chain(boundary.iter()) {
        for (i, _) in ev.matching(d, Effect::Deny, false) {
            denies.push(reason(d, i, Effect::Deny));
        }
    }
    for (levels, kind) in [(&scp_levels, DocKind::Scp), (&rcp_levels, DocKind::Rcp)] {
        for (_, docs) in levels.iter().flat_map(|l| &l.get().levels) {
            for d in level_docs(world, kind, docs) {
                for (i, _) in ev.matching(&d, Effect::Deny, kind == DocKind::Rcp) {
                    denies.push(reason(&d, i, Effect::Deny));
                }
            }
        }
    }
    if !denies.is_empty() {
        denies.sort();
        denies.dedup();
        let srcs: Vec<&str> = denies.iter().map(|r| r.source.as_str()).collect();
        return deny(denies.clone(), format!("explicitly denied by a `Deny` statement in the {}", dedup_join(&srcs)));
    }

    // 2. organization guardrails: every level needs an allow
    for (levels, kind, what) in
        [(&scp_levels, DocKind::Scp, "service control policy"), (&rcp_levels, DocKind::Rcp, "resource control policy")]
    {
        for (target, docs) in levels.iter().flat_map(|l| &l.get().levels) {
            if !level_docs(world, kind, docs)
                .any(|d| ev.matching(&d, Effect::Allow, kind == DocKind::Rcp).next().is_some())
            {
                return implicit(format!("no {what} attached to `{target}` allows `{action}`"));
            }
        }
    }

    // 3. allow paths
    if short == "RetireGrant" {
        return retire_grant(ev, req, &identity, same);
    }
    let mut kp_direct: Vec<(usize, PrincipalMatch)> = Vec::new();
    let mut kp_account: Vec<usize> = Vec::new();
    if let Some(kp) = &key_policy {
        for (i, g) in ev.matching(kp, Effect::Allow, true) {
            if g == PrincipalMatch::Account {
                kp_account.push(i);
            } else {
                kp_direct.push((i, g));
            }
        }
    }
    let id_allows: Vec<Reason> = ev.allow_reasons(&identity);
    let boundary_allows: Option<Vec<Reason>> = boundary.as_ref().map(|b| ev.allow_reasons(std::slice::from_ref(b)));
    let boundary_ok = boundary_allows.as_ref().is_none_or(|v| !v.is_empty());
    let is_root = matches!(req.caller, Caller::Root { .. });
    // The root user has every IAM permission of its own account implicitly.
    let id_ok = is_root || (!id_allows.is_empty() && boundary_ok);
    let mut id_reasons = id_allows.clone();
    if let Some(b) = &boundary_allows {
        id_reasons.extend(b.iter().cloned());
    }
    let kp_reason = |i: usize| key_policy.as_ref().map(|kp| reason(kp, i, Effect::Allow));

    let unlimited: Vec<usize> =
        kp_direct.iter().filter(|(_, g)| *g == PrincipalMatch::Direct).map(|(i, _)| *i).collect();
    let limited: Vec<usize> =
        kp_direct.iter().filter(|(_, g)| *g == PrincipalMatch::DirectLimited).map(|(i, _)| *i).collect();

    if same || is_service {
        if let Some(&i) = unlimited.first() {
            return (
                Decision::Allow,
                kp_reason(i).into_iter().collect(),
                "the key policy allows the caller directly".into(),
            );
        }
        if let Some(&i) = limited.first() {
            if boundary_ok {
                let mut r: Vec<Reason> = kp_reason(i).into_iter().collect();
                r.extend(boundary_allows.clone().unwrap_or_default());
                return (Decision::Allow, r, "the key policy allows the caller's role".into());
            }
        }
        if let Some(&i) = kp_account.first() {
            if id_ok {
                let mut r: Vec<Reason> = kp_reason(i).into_iter().collect();
                r.extend(id_reasons.clone());
                let why = if is_root {
                    "the key policy allows the account, which covers its root user"
                } else {
                    "the key policy delegates to the account and an identity policy allows the action"
                };
                return (Decision::Allow, r, why.into());
            }
        }
    } else {
        let kp_any = unlimited.first().or(limited.first()).or(kp_account.first()).copied();
        if let Some(i) = kp_any {
            if id_ok {
                let mut r: Vec<Reason> = kp_reason(i).into_iter().collect();
                r.extend(id_reasons.clone());
                return (
                    Decision::Allow,
                    r,
                    "the key policy trusts the caller's account and the caller's identity policy allows the action"
                        .into(),
                );
            }
        }
    }
    if let Some((g, via_account)) = matches!(target, Target::Key(_)).then(|| grant_allows(ev, req, id_ok)).flatten() {
        let needs_iam = via_account || (!same && !is_service && opts.cross_account_grant_needs_iam);
        if !needs_iam || id_ok {
            let mut r = vec![g];
            if needs_iam && !is_root {
                r.extend(id_reasons.clone());
            }
            return (Decision::Allow, r, "a grant allows the operation".into());
        }
    }

    // Explain the implicit deny.
    let why = if !same && !is_service && (!kp_direct.is_empty() || !kp_account.is_empty()) {
        if identity_known {
            "the key policy trusts the caller, but no identity policy in the caller's account allows the action (cross-account access needs both)".to_string()
        } else {
            "the key policy trusts the caller, but the caller's identity policies are not in the inputs (cross-account access needs both)".to_string()
        }
    } else if !limited.is_empty() && !boundary_ok {
        "the key policy names the caller's role, but the permissions boundary does not allow the action".to_string()
    } else if !kp_account.is_empty() {
        if id_allows.is_empty() {
            "the key policy delegates to the account, but no identity policy allows the action".to_string()
        } else {
            "an identity policy allows the action, but the permissions boundary does not".to_string()
        }
    } else if !id_allows.is_empty() {
        "an identity policy allows the action, but the key policy neither names the caller nor delegates to its account"
            .to_string()
    } else {
        "no statement of the key policy or identity policies allows the action, and no grant does".to_string()
    };
    implicit(why)
}

fn dedup_join(v: &[&str]) -> String {
    let mut v: Vec<&str> = v.to_vec();
    v.sort_unstable();
    v.dedup();
    v.join(", ")
}

/// Actions without a resource (`kms:ListAliases`, `kms:CreateKey`, …) are decided by the caller's
/// identity policies alone, against `Resource: "*"` (semantics.md §1.5, §4.1 "IAM only").
fn decide_iam_only(ev: &mut Eval<'_>) -> Outcome {
    let (identity, boundary, _) = identity_docs(ev);
    let scp_levels = ev.levels(DocKind::Scp);
    let scp = scp_levels.iter().flat_map(|l| &l.get().levels);
    let mut denies = Vec::new();
    for d in identity.iter().chain(boundary.iter()) {
        denies.extend(ev.matching(d, Effect::Deny, false).map(|(i, _)| reason(d, i, Effect::Deny)));
    }
    for (_, docs) in scp.clone() {
        for d in level_docs(ev.world, DocKind::Scp, docs) {
            denies.extend(ev.matching(&d, Effect::Deny, false).map(|(i, _)| reason(&d, i, Effect::Deny)));
        }
    }
    if !denies.is_empty() {
        return deny(denies, "explicitly denied by a `Deny` statement");
    }
    for (target, docs) in scp {
        if !level_docs(ev.world, DocKind::Scp, docs).any(|d| ev.matching(&d, Effect::Allow, false).next().is_some()) {
            return implicit(format!("no service control policy attached to `{target}` allows `{}`", ev.action));
        }
    }
    if matches!(ev.caller, Caller::Root { .. }) {
        return (Decision::Allow, Vec::new(), "the root user has every permission of its own account".into());
    }
    let allows: Vec<Reason> = ev.allow_reasons(&identity);
    let boundary_allows: Option<Vec<Reason>> = boundary.as_ref().map(|b| ev.allow_reasons(std::slice::from_ref(b)));
    match (allows.is_empty(), &boundary_allows) {
        (true, _) => implicit(format!("no identity policy allows `{}` (an action without a key resource)", ev.action)),
        (false, Some(b)) if b.is_empty() => {
            implicit("an identity policy allows the action, but the permissions boundary does not")
        }
        (false, b) => {
            let mut r = allows;
            r.extend(b.clone().unwrap_or_default());
            (Decision::Allow, r, "an identity policy allows the action".into())
        }
    }
}

/// Decides `sts:AssumeRole` of a role by a caller: the role's trust policy is the resource policy
/// and the same rules as for keys apply (a trust policy naming the account delegates to IAM; a
/// directly named principal needs no identity allow in the same account; cross-account needs
/// both sides).
#[must_use]
pub fn authorize_assume_role(world: &World, caller: &Caller, role: &crate::world::Role, context: Context) -> Response {
    authorize_assume_role_with(world, caller, role, context, false)
}

/// [`authorize_assume_role`] for a caller that stands for principals whose IAM is outside the
/// world when `assume_identity_allows` is set.
#[must_use]
pub fn authorize_assume_role_with(
    world: &World,
    caller: &Caller,
    role: &crate::world::Role,
    context: Context,
    assume_identity_allows: bool,
) -> Response {
    let target = Key {
        arn: role.arn.clone(),
        id: role.name.clone(),
        account: role.account.clone(),
        region: String::new(),
        policy: role.trust.clone(),
        grants: Some(Vec::new()),
        ..Key::default()
    };
    let req = Request {
        caller: caller.clone(),
        action: "sts:AssumeRole".into(),
        key: usize::MAX,
        context,
        via_alias: None,
        grant_tokens: Vec::new(),
        grant_id: None,
        assume_identity_allows,
    };
    let plan = caller_plan(world, caller);
    let mut ctx = req.context.clone();
    push_caller_context(world, caller, plan, &mut ctx);
    ctx.set_default("aws:ResourceAccount", CtxValue::Single(role.account.clone()));
    decide_target(world, &target, Target::Role, "sts:AssumeRole", &req, plan, ctx, Options::default())
}

/// Where a caller's identity policies are: inline documents, managed policy ARNs (user, its
/// groups, or role), the boundary ARN. `found` is false when the caller is not in the world.
#[derive(Clone, Debug, Default)]
pub struct IdentitySlots {
    /// Inline documents (user, its groups, or role).
    pub inline: Vec<PolicySlot>,
    /// Attached managed policy ARNs.
    pub managed: Vec<String>,
    /// Permissions boundary ARN.
    pub boundary: Option<String>,
    /// The caller is in the world.
    pub found: bool,
}

/// Looks up the identity policies of a caller (semantics.md §9.8: a user's own plus its
/// groups'; a role's; the root user and service principals have none).
#[must_use]
pub fn identity_slots(world: &World, caller: &Caller) -> IdentitySlots {
    let mut out = IdentitySlots::default();
    match caller {
        Caller::User { account, name, .. } | Caller::FederatedUser { account, name } => {
            if let Some(u) = world.user(account, name) {
                out.found = true;
                out.inline.extend(u.inline.iter().cloned());
                out.managed.extend(u.managed.iter().cloned());
                for gname in &u.groups {
                    if let Some(g) = world.group(account, gname) {
                        out.inline.extend(g.inline.iter().cloned());
                        out.managed.extend(g.managed.iter().cloned());
                    }
                }
                out.boundary.clone_from(&u.boundary);
            }
        }
        Caller::AssumedRole { account, role, .. } => {
            if let Some(r) = world.role(account, role) {
                out.found = true;
                out.inline.extend(r.inline.iter().cloned());
                out.managed.extend(r.managed.iter().cloned());
                out.boundary.clone_from(&r.boundary);
            }
        }
        Caller::Root { .. } | Caller::Service(_) => out.found = true,
    }
    out
}

/// The caller's identity policies and boundary. Returns (identity docs, boundary doc, known).
fn identity_docs<'w>(ev: &mut Eval<'w>) -> (Vec<Doc<'w>>, Option<Doc<'w>>, bool) {
    let world: &'w World = ev.world;
    let mut docs = Vec::new();
    if ev.assume_identity_allows {
        let mut d = full_access(DocKind::Scp);
        d.source = ReasonSource::IdentityPolicy;
        return (vec![d], None, true);
    }
    if let Some(plan) = ev.plan {
        ev.notes.extend(plan.notes.iter().cloned());
        let docs = plan.identity.iter().filter_map(|id| doc_of(world, *id, ReasonSource::IdentityPolicy)).collect();
        let boundary = plan.boundary.and_then(|id| doc_of(world, id, ReasonSource::PermissionsBoundary));
        return (docs, boundary, true);
    }
    let slots = identity_slots(world, ev.caller);
    if !slots.found {
        let known = loose_identity(ev, &mut docs);
        return (docs, None, known);
    }
    for s in &slots.inline {
        docs.extend(ev.doc(s, ReasonSource::IdentityPolicy, "an inline policy"));
    }
    for m in &slots.managed {
        docs.extend(ev.managed(m, ReasonSource::IdentityPolicy));
    }
    let boundary = slots.boundary.as_ref().and_then(|b| ev.managed(b, ReasonSource::PermissionsBoundary));
    (docs, boundary, true)
}

/// A caller that is not in the world is subject to the loose identity policies given on the
/// command line (documented in docs/cli.md). Returns whether any were given.
fn loose_identity<'w>(ev: &mut Eval<'w>, docs: &mut Vec<Doc<'w>>) -> bool {
    let world = ev.world;
    for id in &world.loose_identity {
        docs.extend(ev.doc(&PolicySlot::Known(*id), ReasonSource::IdentityPolicy, "a loose identity policy"));
    }
    if world.loose_identity.is_empty() {
        ev.notes.push(format!("no identity policies of `{}` are in the inputs", ev.caller.arn()));
        false
    } else {
        true
    }
}

/// The account whose SCPs govern a caller's key requests: its own; none for service
/// principals (semantics.md §2.8).
fn scp_account(caller: &Caller) -> Option<&str> {
    match caller {
        Caller::Service(_) => None,
        other => other.account(),
    }
}

/// RCPs of the key's account govern the request, unless the key is AWS managed or the action is
/// `kms:RetireGrant` (semantics.md §2.8).
fn rcp_governs(key: &Key, short_action: &str) -> bool {
    !aws_managed(key) && short_action != "RetireGrant"
}

fn aws_managed(key: &Key) -> bool {
    key.metadata.as_ref().is_some_and(|m| m.manager == "AWS")
}

/// One level of the organization guardrails that govern a request: at least one of its
/// documents must have an applicable `Allow`, and any applicable `Deny` denies.
#[derive(Clone, Debug)]
pub struct GuardrailLevel<'w> {
    /// `DocKind::Scp` or `DocKind::Rcp`.
    pub kind: DocKind,
    /// The root, OU or account the documents are attached to.
    pub target: String,
    /// The documents: statements and whether policy variables are enabled.
    pub docs: Vec<(&'w [Statement], bool)>,
}

/// The SCP and RCP levels that govern a key request of `caller` for `action`, exactly as
/// [`authorize`] applies them (semantics.md §2.3 steps 3–4, §2.8): the SCPs of the caller's
/// member account (not for service principals, not for the management account or accounts
/// outside the organization) and the RCPs of the key's member account (not for AWS managed
/// keys, not for `kms:RetireGrant`). RCP statements are resource-policy statements.
#[must_use]
pub fn guardrail_levels<'w>(world: &'w World, key: &Key, caller: &Caller, action: &str) -> Vec<GuardrailLevel<'w>> {
    let action = canonical_action(action);
    let short = action.strip_prefix("kms:").unwrap_or(&action);
    let scp = scp_account(caller).and_then(|a| org_levels(world, a, DocKind::Scp));
    let rcp = if rcp_governs(key, short) { org_levels(world, &key.account, DocKind::Rcp) } else { None };
    let mut out = Vec::new();
    for (kind, levels) in [(DocKind::Scp, scp), (DocKind::Rcp, rcp)] {
        for (target, docs) in levels.iter().flat_map(|l| &l.levels) {
            out.push(GuardrailLevel {
                kind,
                target: target.clone(),
                docs: level_docs(world, kind, docs).map(|d| (d.statements, d.variables)).collect(),
            });
        }
    }
    out
}

/// Organization levels, borrowed from a cached plan or looked up for this request.
enum LevelsRef<'w> {
    Cached(&'w Levels),
    Owned(Arc<Levels>),
}

impl LevelsRef<'_> {
    fn get(&self) -> &Levels {
        match self {
            LevelsRef::Cached(l) => l,
            LevelsRef::Owned(l) => l,
        }
    }
}

/// The documents of one level (the AWS managed full-access policy for `None`).
fn level_docs<'a, 'w: 'a>(
    world: &'w World,
    kind: DocKind,
    docs: &'a [Option<PolicyId>],
) -> impl Iterator<Item = Doc<'w>> + 'a {
    let source = if kind == DocKind::Scp { ReasonSource::Scp } else { ReasonSource::Rcp };
    docs.iter().filter_map(move |d| match d {
        Some(id) => doc_of(world, *id, source),
        None => Some(full_access(kind)),
    })
}

/// The SCP or RCP levels that govern an account, per level of its OU path; `None` when the
/// account is not governed (not in a known organization, the management account, or no such
/// policies were collected). Cached per account.
fn org_levels(world: &World, account: &str, kind: DocKind) -> Option<Arc<Levels>> {
    use std::sync::PoisonError;
    let slot = usize::from(kind != DocKind::Scp);
    let cached = |m: &[Option<Arc<Levels>>; 2]| m.get(slot).cloned().flatten();
    if let Some(v) = world.cache.org_levels.lock().unwrap_or_else(PoisonError::into_inner).get(account) {
        return cached(v);
    }
    let resolve = |kind: DocKind| {
        let plan = build_org_plan(world, account, kind)?;
        let mut notes = Vec::new();
        let levels = plan
            .into_iter()
            .map(|(target, docs)| {
                let docs = docs
                    .into_iter()
                    .filter_map(|d| match d {
                        Some((pid, slot)) => {
                            known_id(world, &mut notes, &slot, format_args!("policy `{pid}`")).map(Some)
                        }
                        None => Some(None),
                    })
                    .collect();
                (target, docs)
            })
            .collect();
        Some(Arc::new(Levels { levels, notes }))
    };
    let both = [resolve(DocKind::Scp), resolve(DocKind::Rcp)];
    let out = cached(&both);
    world.cache.org_levels.lock().unwrap_or_else(PoisonError::into_inner).insert(account.to_string(), both);
    out
}

/// Per level of an account's OU path (root first), the SCPs or RCPs that apply: a policy
/// (`Some((id, slot))`) or the AWS managed full-access policy (`None`). `None` overall when
/// the account is not governed (no organization, the management account, not a member, or
/// policies of that kind disabled or never collected). Cached per account and kind.
type OrgPlan = Vec<(String, Vec<Option<(String, PolicySlot)>>)>;

fn build_org_plan(world: &World, account: &str, kind: DocKind) -> Option<OrgPlan> {
    let org = world.org.as_ref()?;
    if org.management_account.as_deref() == Some(account) || !org.accounts.iter().any(|a| a == account) {
        return None;
    }
    let enabled = match kind {
        DocKind::Scp => org.scp_enabled,
        _ => org.rcp_enabled,
    };
    let any_of_kind = world.org_policies.values().any(|p| p.kind == kind);
    if enabled == Some(false) || (!any_of_kind && enabled.is_none()) {
        return None;
    }
    // Where the AWS managed full-access policy sits: known when the attachments were listed per
    // target, or when it was collected or appears in an attachment listing; otherwise it is
    // assumed at every level, where AWS attaches it by default. `RCPFullAWSAccess` cannot be
    // detached at all (semantics.md §2.8).
    let full_id = if kind == DocKind::Scp { "p-FullAWSAccess" } else { "p-RCPFullAWSAccess" };
    let full_everywhere = kind == DocKind::Rcp
        || !(org.attachments_complete
            || world.org_policies.contains_key(full_id)
            || org.attachments.values().any(|v| v.iter().any(|p| p == full_id)));
    let mut levels = Vec::new();
    for target in org.path_to(account) {
        let mut docs = Vec::new();
        if full_everywhere {
            docs.push(None);
        }
        for pid in org.attachments.get(&target).into_iter().flatten() {
            if let Some(p) = world.org_policies.get(pid).filter(|p| p.kind == kind) {
                docs.push(Some((pid.clone(), p.policy.clone())));
            } else if pid == full_id && !full_everywhere {
                docs.push(None);
            }
        }
        if docs.is_empty() {
            // Attachments of this level were not collected: assume the AWS managed full-access
            // policy, which is attached everywhere by default (semantics.md §2.8).
            docs.push(None);
        }
        levels.push((target, docs));
    }
    Some(levels)
}

/// The AWS managed `FullAWSAccess` / `RCPFullAWSAccess` policy (semantics.md §9.9), used for
/// levels whose attachments were not collected.
fn full_access(kind: DocKind) -> Doc<'static> {
    static SCP: OnceLock<Vec<Statement>> = OnceLock::new();
    static RCP: OnceLock<Vec<Statement>> = OnceLock::new();
    let (cell, text, source) = if kind == DocKind::Scp {
        (
            &SCP,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            ReasonSource::Scp,
        )
    } else {
        (
            &RCP,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
            ReasonSource::Rcp,
        )
    };
    let statements = cell.get_or_init(|| {
        let mut diags = Vec::new();
        parse_policy_text(SourceId(u32::MAX), text, &mut diags).map(|p| p.statements).unwrap_or_default()
    });
    Doc { id: PolicyId(u32::MAX), source, statements, variables: true }
}

/// The grant that allows the request, if any (semantics.md §6.3–§6.4).
/// Returns the grant and whether it matched only through an account-root grantee (so the
/// caller's identity policies are part of the allow, U3).
fn grant_allows(ev: &mut Eval<'_>, req: &Request, identity_allows: bool) -> Option<(Reason, bool)> {
    let short = ev.action.strip_prefix("kms:").unwrap_or(ev.action);
    let grants = ev.key.grants.as_ref()?;
    let mut fallback: Option<(Reason, bool)> = None;
    let masks = ev.key_plan.map(|p| p.grant_ops.as_slice());
    let grantees = GranteeMatcher::with_plan(ev.world, ev.key_plan, ev.caller);
    let bit = crate::world::grant_op_bit(short);
    for (gi, g) in grants.iter().enumerate() {
        let has_op = match (masks.and_then(|m| m.get(gi)), bit) {
            (Some(mask), Some(b)) => mask & b != 0,
            _ => g.operations.iter().any(|o| o == short),
        };
        if !has_op {
            continue;
        }
        let m = grantees.grade(gi, g);
        let ok = match m {
            PrincipalMatch::Direct | PrincipalMatch::DirectLimited => true,
            // U3: an account-root grantee lets the account's principals use the grant only
            // with an IAM allow, like account delegation; the root user itself needs none.
            PrincipalMatch::Account => matches!(req.caller, Caller::Root { .. }) || identity_allows,
            PrincipalMatch::None => false,
        };
        if !ok || !grant_constraints_hold(g, short, ev.ctx.encryption_context()) {
            continue;
        }
        ev.notes.push(format!(
            "grant `{}` takes effect up to about 5 minutes after it is created unless the request carries its grant token",
            g.id
        ));
        let reason = Reason {
            source: ReasonSource::Grant,
            policy: None,
            index: None,
            grant: Some(g.id.clone()),
            effect: Effect::Allow,
        };
        let via_account = m == PrincipalMatch::Account && !matches!(req.caller, Caller::Root { .. });
        if !via_account {
            return Some((reason, false));
        }
        fallback.get_or_insert((reason, true));
    }
    fallback
}

/// Grantee matching for the grants of one key (semantics.md §6.3), through the key's cached
/// plan when it is a key of the world: grantees classified once, and a grantee that names
/// another account passed over by comparing account numbers.
pub struct GranteeMatcher<'w> {
    world: &'w World,
    plan: Option<&'w KeyPlan>,
    caller: &'w Caller,
    /// The caller's account as a number (`0`: none).
    caller_key: u64,
}

impl<'w> GranteeMatcher<'w> {
    /// The matcher for `key`'s grants and `caller`.
    #[must_use]
    pub fn new(world: &'w World, key: &Key, caller: &'w Caller) -> Self {
        Self::with_plan(world, key_plan(world, key), caller)
    }

    /// The matcher for the grants of the key of `plan` (when the key has one) and `caller`.
    fn with_plan(world: &'w World, plan: Option<&'w KeyPlan>, caller: &'w Caller) -> Self {
        let caller_key = caller.account().map_or(0, crate::policy::arn::account_key);
        GranteeMatcher { world, plan, caller, caller_key }
    }

    /// How the grantee of grant `gi` (`g`, of the key's grants) matches the caller.
    #[must_use]
    pub fn grade(&self, gi: usize, g: &crate::world::Grant) -> PrincipalMatch {
        match self.plan.and_then(|p| p.grantees.get(gi).zip(p.grantee_accounts.get(gi))) {
            // A grantee that names another account cannot match.
            Some((_, &k)) if k != 0 && self.caller_key != 0 && k != self.caller_key => PrincipalMatch::None,
            Some((p, _)) => match_entry(p, self.caller, self.world),
            None => match_grantee(&g.grantee, self.caller, self.world),
        }
    }
}

/// Grant constraints (semantics.md §6.4): exact, case-sensitive; ignored for operations that
/// carry no encryption context.
#[must_use]
pub fn grant_constraints_hold(g: &crate::world::Grant, op: &str, ec: &BTreeMap<String, String>) -> bool {
    if !EC_OPERATIONS.contains(&op) {
        return true;
    }
    if let Some(eq) = &g.ec_equals {
        if eq != ec {
            return false;
        }
    }
    if let Some(sub) = &g.ec_subset {
        if !sub.iter().all(|(k, v)| ec.get(k) == Some(v)) {
            return false;
        }
    }
    true
}

/// `RetireGrant` (semantics.md §6.5): the retiring principal, the grantee when the grant
/// includes `RetireGrant`, or a principal of the issuing account whose IAM allows it.
fn retire_grant(ev: &mut Eval<'_>, req: &Request, identity: &[Doc<'_>], same: bool) -> Outcome {
    let Some(grants) = ev.key.grants.clone() else {
        return implicit(format!("the grants of `{}` were not collected", ev.key.arn));
    };
    for g in grants.iter().filter(|g| req.grant_id.as_deref().is_none_or(|id| id == g.id)) {
        let r = Reason {
            source: ReasonSource::Grant,
            policy: None,
            index: None,
            grant: Some(g.id.clone()),
            effect: Effect::Allow,
        };
        let retiring = g.retiring.as_deref().map(|rp| match_grantee(rp, ev.caller, ev.world));
        if matches!(retiring, Some(PrincipalMatch::Direct | PrincipalMatch::DirectLimited)) {
            return (
                Decision::Allow,
                vec![r],
                format!("the caller is the retiring principal of grant `{}`", g.id).into(),
            );
        }
        let grantee = match_grantee(&g.grantee, ev.caller, ev.world);
        if matches!(grantee, PrincipalMatch::Direct | PrincipalMatch::DirectLimited)
            && g.operations.iter().any(|o| o == "RetireGrant")
        {
            return (
                Decision::Allow,
                vec![r],
                format!("grant `{}` includes `RetireGrant` for its grantee", g.id).into(),
            );
        }
        let iam: Vec<Reason> = ev.allow_reasons(identity);
        if same && (!iam.is_empty() || matches!(req.caller, Caller::Root { .. })) {
            let mut rs = vec![r];
            rs.extend(iam);
            return (Decision::Allow, rs, "an identity policy of the key's account allows `kms:RetireGrant`".into());
        }
    }
    implicit("the caller is neither the retiring principal nor a grantee allowed to retire the grant")
}
