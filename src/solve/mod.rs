//! The symbolic question: who can perform an action on a key, under which request context,
//! and by what path (`keyproof who-can`).
//!
//! The solver asks the evaluator; it never decides a statement itself. For each principal of
//! the universe it (1) keeps only principals some statement or grant could let in, using the
//! evaluator's [`statement_applies`] without conditions, (2) collects the context keys the
//! request may choose freely (those the world neither implies nor knows to be absent,
//! [`world_determines`]) and candidate values for them from the policies ([`candidates`]), (3)
//! replays every candidate request through [`authorize`], and (4) describes the allowed
//! requests as a DNF built from the conditions of the statements that allowed them, minus the
//! deny statements that could still fire, within the SCP/RCP levels that govern the request
//! ([`guardrail_levels`]). Every entry carries the concrete request that was allowed: its
//! witness replays by construction.
//!
//! Checked by `tests/who_can.rs` (fixtures) and `tests/who_can_enumeration.rs` (soundness,
//! completeness and DNF exactness over random worlds). Known inexactness of the DNF (the
//! principal sets and witnesses are not affected):
//! * a grant's encryption-context constraint compares keys exactly; its atoms use
//!   `kms:EncryptionContext:<k>` (key case-insensitive) and `kms:EncryptionContextKeys`, which
//!   cannot tell which value belongs to the exact key when the request's EC holds keys that
//!   differ only by case;
//! * when distributing deny and guardrail conditions would exceed [`MAX_TERMS`] terms, the
//!   remaining conditions are left out (the DNF then over-approximates);
//! * keys derived from other keys (`aws:ViaAWSService` from `kms:ViaService`) are taken as
//!   implied by the world;
//! * transitive entries: an escalation entry (`kms:CreateGrant`, `kms:PutKeyPolicy`) describes
//!   the escalation request; a role-chain entry describes the last hop (the trust policies'
//!   conditions are not in its DNF).

pub mod candidates;
pub mod graph;
pub mod reach;

use std::collections::{BTreeMap, BTreeSet};

use candidates::{Domain, OTHER};

use crate::catalog::catalog;
use crate::eval::authorize::{
    authorize, canonical_action, guardrail_levels, identity_slots, implied_context, statement_applies,
    world_determines, Decision, GranteeMatcher, GuardrailLevel, Reason, ReasonSource, Request, StatementQuery,
};
use crate::eval::condition::condition_holds;
use crate::eval::context::{Context, CtxValue, EC_PREFIX};
use crate::eval::principal::{Caller, PrincipalMatch};
use crate::eval::request::reason_ref;
use crate::policy::model::{Condition, DocKind, Effect, PolicyId, Statement};
use crate::world::{PolicySlot, World};

/// Most candidate requests tried per principal.
pub const MAX_CANDIDATES: usize = 1024;

/// Most DNF terms built per set of allowing statements before the distribution of deny and
/// guardrail conditions stops (the DNF is then inexact; see the module documentation).
pub const MAX_TERMS: usize = 256;

/// One condition of a DNF term.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Atom {
    /// Context key as written.
    pub key: String,
    /// Operator as written.
    pub op: String,
    /// Values as written.
    pub values: Vec<String>,
    /// True when the request must NOT satisfy the condition (it comes from a `Deny`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub negated: bool,
}

impl Atom {
    fn from_condition(c: &Condition, negated: bool) -> Atom {
        Atom {
            key: c.key.value.clone(),
            op: c.op_text.value.clone(),
            values: c.values.iter().map(|v| v.value.clone()).collect(),
            negated,
        }
    }

    /// Human form: `kms:EncryptionContext:tenant = "acme"`.
    #[must_use]
    pub fn text(&self) -> String {
        let vals = if self.values.len() == 1 {
            format!("\"{}\"", self.values.first().map_or("", String::as_str))
        } else {
            format!("[{}]", self.values.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(", "))
        };
        let body = match self.op.as_str() {
            "StringEquals" if self.values.len() == 1 => format!("{} = {vals}", self.key),
            "StringEquals" => format!("{} in {vals}", self.key),
            op => format!("{} {op} {vals}", self.key),
        };
        if self.negated {
            format!("not ({body})")
        } else {
            body
        }
    }
}

/// The kind of a who-can entry (`cli.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    /// An IAM role (any of its sessions).
    Role,
    /// An IAM user.
    User,
    /// An account's root user.
    Root,
    /// Principals of an account outside the world that its own IAM could allow.
    Account,
    /// Anyone.
    Public,
    /// An AWS service principal.
    Service,
    /// A federated user or session named in a policy.
    Federated,
}

/// One hop of an access path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Hop {
    /// From (principal).
    pub from: String,
    /// To (principal or key).
    pub to: String,
    /// `sts:AssumeRole`, `key-policy`, `identity-policy`, `grant`, `kms:CreateGrant`, `kms:PutKeyPolicy`.
    pub via: String,
    /// `file#Sid` or the grant id.
    #[serde(rename = "ref")]
    pub reference: String,
}

/// A concrete request.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Witness {
    /// The caller ARN (a session ARN for roles).
    pub principal: String,
    /// The action.
    pub action: String,
    /// Context keys the request sets (encryption-context pairs as `kms:EncryptionContext:<k>`).
    pub context: BTreeMap<String, CtxValue>,
    /// The caller stands for principals whose IAM is outside the world.
    #[serde(skip)]
    pub assume_identity_allows: bool,
}

impl Witness {
    /// Rebuilds the evaluator request.
    #[must_use]
    pub fn request(&self, world: &World, key: usize, caller: &Caller) -> Request {
        let _ = world;
        Request {
            caller: caller.clone(),
            action: self.action.clone(),
            key,
            context: context_of(&self.context),
            via_alias: None,
            grant_tokens: Vec::new(),
            grant_id: None,
            assume_identity_allows: self.assume_identity_allows,
        }
    }
}

/// The request context of a witness's keys: `kms:EncryptionContext:<k>` pairs become the
/// encryption context, the other keys are set as they are.
fn context_of(keys: &BTreeMap<String, CtxValue>) -> Context {
    let mut context = Context::new();
    let mut ec = BTreeMap::new();
    for (k, v) in keys {
        match (k.get(..EC_PREFIX.len()).filter(|p| p.eq_ignore_ascii_case(EC_PREFIX)), v) {
            (Some(_), CtxValue::Single(s)) => {
                ec.insert(k.get(EC_PREFIX.len()..).unwrap_or_default().to_string(), s.clone());
            }
            _ => context.set(k, v.clone()),
        }
    }
    if !ec.is_empty() {
        context.set_encryption_context(ec);
    }
    context
}

/// One principal that can perform the action.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Entry {
    /// ARN, service name, or `*`.
    pub principal: String,
    /// Kind.
    pub kind: PrincipalKind,
    /// Allowed under every request context the policies distinguish.
    pub unconditional: bool,
    /// Disjunctive normal form: outer OR, inner AND.
    pub conditions: Vec<Vec<Atom>>,
    /// The DNF as text.
    pub condition_text: String,
    /// How (a single hop for direct access).
    pub path: Vec<Hop>,
    /// A request the evaluator allows.
    pub witness: Witness,
    /// A request of the same principal the evaluator denies, for conditional entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counter_example: Option<Witness>,
    /// Reached through role assumption or escalation.
    pub transitive: bool,
    /// The caller used for the witness.
    #[serde(skip)]
    pub caller: Caller,
}

impl Entry {
    /// The candidate this entry was solved for.
    #[must_use]
    pub fn candidate(&self) -> Candidate {
        Candidate {
            name: self.principal.clone(),
            kind: self.kind,
            caller: self.caller.clone(),
            assume_identity_allows: self.witness.assume_identity_allows,
        }
    }
}

/// The answer to one who-can question.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Answer {
    /// Key ARN.
    pub key: String,
    /// Action.
    pub action: String,
    /// Entries sorted by principal.
    pub principals: Vec<Entry>,
    /// What was assumed about things outside the world.
    pub assumptions: Vec<String>,
}

/// A principal of the universe.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// Output name.
    pub name: String,
    /// Kind.
    pub kind: PrincipalKind,
    /// The caller the evaluator sees.
    pub caller: Caller,
    /// Stand-in for principals whose IAM is not in the world.
    pub assume_identity_allows: bool,
}

/// An account id no real account has: the home of the abstract "anyone" principal.
pub const OUTSIDE_ACCOUNT: &str = "000000000000";

/// The principal universe for a key (semantics-independent enumeration of who exists).
#[must_use]
pub fn universe(world: &World, key: usize) -> Vec<Candidate> {
    universe_of(world, key, &reach::reach(world).everyone())
}

/// The candidate for a user, role or root user of the world.
#[must_use]
pub fn candidate(world: &World, reach: &reach::Reach, who: reach::Who) -> Candidate {
    let kind = match who {
        reach::Who::User(_) => PrincipalKind::User,
        reach::Who::Role(_) => PrincipalKind::Role,
        reach::Who::Root(_) => PrincipalKind::Root,
    };
    Candidate {
        name: candidate_name(world, reach, who),
        kind,
        caller: reach.caller(world, who),
        assume_identity_allows: false,
    }
}

/// The name of [`candidate`] (its entry's principal) without building the rest.
fn candidate_name(world: &World, reach: &reach::Reach, who: reach::Who) -> String {
    match who {
        reach::Who::User(i) => world.users.get(i).map(|u| u.arn.clone()).unwrap_or_default(),
        reach::Who::Role(i) => world.roles.get(i).map(|r| r.arn.clone()).unwrap_or_default(),
        reach::Who::Root(_) => reach.caller(world, who).arn(),
    }
}

/// The universe with the users, roles and root users of the world limited to `whos` (the other
/// principals, few and key-specific, are always in).
#[must_use]
pub fn universe_of(world: &World, key: usize, whos: &[reach::Who]) -> Vec<Candidate> {
    let r = reach::reach(world);
    let mut out: Vec<Candidate> = {
        use rayon::prelude::*;
        whos.par_iter().map(|w| candidate(world, r, *w)).collect()
    };
    // The key's account, when no principal of the world lives there, still has a root user.
    let mut accounts: BTreeSet<String> = BTreeSet::new();
    let mut mentioned: BTreeSet<&str> = BTreeSet::new();
    let mut services: BTreeSet<String> = BTreeSet::new();
    let mut sessions: BTreeSet<(String, String, String)> = BTreeSet::new();
    let mut federated: BTreeSet<(String, String)> = BTreeSet::new();
    // Users and roles named in the key policy or as grantees but absent from the world.
    let mut named: BTreeSet<crate::policy::model::PrincipalRef> = BTreeSet::new();
    if let Some(k) = world.keys.get(key) {
        if r.accounts.binary_search(&k.account).is_err() {
            accounts.insert(k.account.clone());
        }
        if let Some(entry) = k.policy.as_ref().and_then(|s| world.slot(s)) {
            for st in &entry.policy.statements {
                for e in st.principal.iter().flat_map(|p| p.entries.iter()) {
                    use crate::policy::model::PrincipalRef as P;
                    match &e.principal {
                        P::Service(s) => {
                            services.insert(s.clone());
                        }
                        P::AssumedRole { account, role, session } => {
                            sessions.insert((account.clone(), role.clone(), session.clone()));
                        }
                        P::FederatedUser { account, name } => {
                            federated.insert((account.clone(), name.clone()));
                        }
                        other => {
                            if let Some(a) = other.account() {
                                mentioned.insert(a);
                            }
                            if matches!(other, P::Role { .. } | P::User { .. }) {
                                named.insert(other.clone());
                            }
                        }
                    }
                }
            }
        }
        for g in k.grants.iter().flatten() {
            match crate::policy::arn::Arn::parse(&g.grantee) {
                Some(a) => {
                    mentioned.insert(a.account);
                    let p = crate::policy::arn::classify_aws_principal(&g.grantee);
                    if matches!(
                        p,
                        crate::policy::model::PrincipalRef::Role { .. }
                            | crate::policy::model::PrincipalRef::User { .. }
                    ) {
                        named.insert(p);
                    }
                }
                None => {
                    services.insert(g.grantee.clone());
                }
            }
        }
    }
    // The organization's accounts whose IAM is not complete, found once per world.
    mentioned.retain(|a| !world.accounts.get(*a).is_some_and(|x| x.iam_complete));
    mentioned.extend(r.org_accounts_outside_iam().iter().map(String::as_str));
    for p in named {
        use crate::policy::model::PrincipalRef as P;
        let name = p.display();
        let present = match &p {
            P::Role { account, name, .. } => world.role(account, name).is_some(),
            P::User { account, name, .. } => world.user(account, name).is_some(),
            _ => false,
        };
        if present || out.iter().any(|c| c.name == name) {
            continue;
        }
        // Absent from a complete IAM listing: the principal was deleted and matches nobody
        // (semantics.md §2.5.3), so it cannot call.
        if p.account().is_some_and(|a| world.accounts.get(a).is_some_and(|x| x.iam_complete)) {
            continue;
        }
        let (kind, caller) = match p {
            P::Role { account, path, name } => (
                PrincipalKind::Role,
                Caller::AssumedRole {
                    account,
                    path,
                    role: name,
                    session: crate::eval::principal::DEFAULT_SESSION.into(),
                },
            ),
            P::User { account, path, name } => (PrincipalKind::User, Caller::User { account, path, name }),
            _ => continue,
        };
        // Its identity policies are not in the inputs: like an abstract account principal, assume
        // its own IAM allows (only relevant across accounts; same-account access needs no IAM).
        let outside = !world.accounts.get(caller.account().unwrap_or_default()).is_some_and(|a| a.iam_complete);
        out.push(Candidate { name, kind, caller, assume_identity_allows: outside });
    }
    for a in &accounts {
        out.push(Candidate {
            name: format!("arn:aws:iam::{a}:root"),
            kind: PrincipalKind::Root,
            caller: Caller::Root { account: a.clone() },
            assume_identity_allows: false,
        });
    }
    for a in mentioned {
        out.push(Candidate {
            name: format!("arn:aws:iam::{a}:root"),
            kind: PrincipalKind::Account,
            caller: Caller::AssumedRole {
                account: a.to_string(),
                path: "/".into(),
                role: "keyproof-any-principal".into(),
                session: crate::eval::principal::DEFAULT_SESSION.into(),
            },
            assume_identity_allows: true,
        });
    }
    for (account, role, session) in sessions {
        out.push(Candidate {
            name: format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
            kind: PrincipalKind::Role,
            caller: Caller::AssumedRole { path: role_path(world, &account, &role), account, role, session },
            assume_identity_allows: false,
        });
    }
    for (account, name) in federated {
        out.push(Candidate {
            name: format!("arn:aws:sts::{account}:federated-user/{name}"),
            kind: PrincipalKind::Federated,
            caller: Caller::FederatedUser { account, name },
            assume_identity_allows: false,
        });
    }
    for s in services {
        out.push(Candidate {
            name: s.clone(),
            kind: PrincipalKind::Service,
            caller: Caller::Service(s),
            assume_identity_allows: false,
        });
    }
    out.push(Candidate {
        name: "*".into(),
        kind: PrincipalKind::Public,
        caller: Caller::AssumedRole {
            account: OUTSIDE_ACCOUNT.into(),
            path: "/".into(),
            role: "keyproof-anyone".into(),
            session: crate::eval::principal::DEFAULT_SESSION.into(),
        },
        assume_identity_allows: true,
    });
    out
}

fn role_path(world: &World, account: &str, role: &str) -> String {
    world.role(account, role).map_or_else(|| "/".to_string(), |r| r.path.clone())
}

/// Documents whose statements can affect a caller's request on the key.
struct Docs<'w> {
    /// (policy id, statements, variables, resource policy?).
    list: Vec<(PolicyId, &'w [Statement], bool, bool)>,
    /// The SCP and RCP levels that govern the request (their documents are also in `list`).
    levels: Vec<GuardrailLevel<'w>>,
}

fn docs_for<'w>(world: &'w World, key: usize, action: &str, cand: &Candidate) -> Docs<'w> {
    let mut list = Vec::new();
    let mut push = |slot: &PolicySlot, rp: bool| {
        if let (PolicySlot::Known(id), Some(e)) = (slot, world.slot(slot)) {
            list.push((*id, e.policy.statements.as_slice(), e.policy.variables_enabled(), rp));
        }
    };
    if let Some(slot) = world.keys.get(key).and_then(|k| k.policy.as_ref()) {
        push(slot, true);
    }
    if !cand.assume_identity_allows {
        let ids = identity_slots(world, &cand.caller);
        if ids.found {
            for s in &ids.inline {
                push(s, false);
            }
            for m in ids.managed.iter().chain(ids.boundary.iter()) {
                if let Some(mp) = world.managed_policies.get(m) {
                    push(&mp.policy, false);
                }
            }
        } else {
            for id in &world.loose_identity {
                push(&PolicySlot::Known(*id), false);
            }
        }
    }
    // Only the SCPs and RCPs that govern this request, as the evaluator applies them.
    let levels = world.keys.get(key).map(|k| guardrail_levels(world, k, &cand.caller, action)).unwrap_or_default();
    for level in &levels {
        for (statements, vars) in &level.docs {
            list.push((PolicyId(u32::MAX), *statements, *vars, level.kind == DocKind::Rcp));
        }
    }
    Docs { list, levels }
}

/// The statements of `docs` that apply to the caller for the action, conditions aside (in
/// document order), when some allow path could let the caller in, ignoring conditions (a
/// necessary condition); `None` when none could.
fn applicable<'d>(
    world: &World,
    key: usize,
    action: &str,
    cand: &Candidate,
    docs: &Docs<'d>,
    ctx: &Context,
) -> Option<Vec<&'d Statement>> {
    let k = world.keys.get(key)?;
    let short = action.strip_prefix("kms:").unwrap_or(action);
    let no_conditions = |_: &Condition| false;
    let queries = [
        StatementQuery::new(&cand.caller, action, &k.arn, false),
        StatementQuery::new(&cand.caller, action, &k.arn, true),
    ];
    let mut out = Vec::new();
    let mut kp_grades = Vec::new();
    let mut identity_allows = cand.assume_identity_allows || matches!(cand.caller, Caller::Root { .. });
    for (i, (_, statements, vars, rp)) in docs.list.iter().enumerate() {
        let q = &queries[usize::from(*rp)];
        for st in statements.iter() {
            let g = statement_applies(world, st, q, ctx, *vars, &no_conditions);
            if g == PrincipalMatch::None {
                continue;
            }
            out.push(st);
            if st.effect != Effect::Allow {
                continue;
            }
            if i == 0 && *rp && k.policy.is_some() {
                kp_grades.push(g);
            } else if !*rp {
                identity_allows = true;
            }
        }
    }
    let grantees = GranteeMatcher::new(world, k, &cand.caller);
    let grant = k
        .grants
        .iter()
        .flatten()
        .enumerate()
        .any(|(gi, g)| g.operations.iter().any(|o| o == short) && grantees.grade(gi, g) != PrincipalMatch::None);
    let retire = short == "RetireGrant" && k.grants.as_ref().is_some_and(|g| !g.is_empty());
    let could = grant
        || retire
        || kp_grades.iter().any(|g| matches!(g, PrincipalMatch::Direct | PrincipalMatch::DirectLimited))
        || (!kp_grades.is_empty() && identity_allows);
    could.then_some(out)
}

/// Solves `who-can` directly (no paths) for one principal. Returns the entry when some
/// candidate request is allowed.
#[must_use]
pub fn solve_principal(world: &World, key: usize, action: &str, cand: &Candidate) -> Option<Entry> {
    solve_principal_with(world, key, action, cand, &BTreeMap::new(), &[])
}

/// [`solve_principal`] with some context keys fixed (set in every candidate request) and some
/// kept absent.
#[must_use]
pub fn solve_principal_with(
    world: &World,
    key: usize,
    action: &str,
    cand: &Candidate,
    fixed: &BTreeMap<String, CtxValue>,
    absent: &[&str],
) -> Option<Entry> {
    solve_counted(world, key, action, cand, fixed, absent, &mut false)
}

/// [`solve_principal_with`]; sets `shortened` when the candidate contexts were cut to
/// [`MAX_CANDIDATES`].
fn solve_counted(
    world: &World,
    key: usize,
    action: &str,
    cand: &Candidate,
    fixed: &BTreeMap<String, CtxValue>,
    absent: &[&str],
    shortened: &mut bool,
) -> Option<Entry> {
    let Requests { k, action, implied, docs, assignments, mut req } =
        requests(world, key, action, cand, fixed, absent, shortened)?;
    let mut allowed: Vec<(&BTreeMap<String, CtxValue>, Vec<Reason>)> = Vec::new();
    let mut denied = None;
    for a in &assignments {
        req.context = context_of(a);
        let resp = authorize(world, &req);
        if resp.decision == Decision::Allow {
            allowed.push((a, resp.reasons));
        } else if denied.is_none() {
            denied = Some(a);
        }
    }
    let witness = |a: &BTreeMap<String, CtxValue>| Witness {
        principal: cand.caller.arn(),
        action: action.clone(),
        context: a.clone(),
        assume_identity_allows: cand.assume_identity_allows,
    };
    let (first, reasons) = allowed.first()?;
    let first = witness(first);
    let unconditional = denied.is_none();
    let conditions =
        if unconditional { vec![Vec::new()] } else { dnf(world, k, &action, cand, &docs, &implied, &allowed) };
    let condition_text = dnf_text(&conditions);
    let path = vec![direct_hop(world, &cand.name, &k.arn, reasons)];
    Some(Entry {
        principal: cand.name.clone(),
        kind: cand.kind,
        unconditional,
        conditions,
        condition_text,
        path,
        witness: first,
        counter_example: denied.map(witness),
        transitive: false,
        caller: cand.caller.clone(),
    })
}

/// The candidate requests of a principal.
struct Requests<'w> {
    k: &'w crate::world::Key,
    /// The canonical action.
    action: String,
    /// The context keys the world implies for the caller.
    implied: Context,
    docs: Docs<'w>,
    /// The candidate contexts, in order.
    assignments: Vec<BTreeMap<String, CtxValue>>,
    /// The request, its context to be replaced per candidate.
    req: Request,
}

/// The candidate requests of a principal, `None` when no statement or grant could let it in.
fn requests<'w>(
    world: &'w World,
    key: usize,
    action: &str,
    cand: &Candidate,
    fixed: &BTreeMap<String, CtxValue>,
    absent: &[&str],
    shortened: &mut bool,
) -> Option<Requests<'w>> {
    let k = world.keys.get(key)?;
    let action = canonical_action(action);
    let mut implied = Context::new();
    implied_context(world, k, &cand.caller, &action, None, &mut implied);
    let docs = docs_for(world, key, &action, cand);
    let statements = applicable(world, key, &action, cand, &docs, &implied)?;
    let is_implied = |kl: &str| fixed_key(world, k, &cand.caller, &implied, kl);
    // Only statements that can apply to this caller and action (conditions aside) and grants
    // for this caller contribute candidate values.
    let mut dom = Domain::default();
    for c in statements.iter().flat_map(|st| st.conditions.iter()) {
        dom.add_condition(c, &is_implied);
    }
    let short = action.strip_prefix("kms:").unwrap_or(&action);
    let grantees = GranteeMatcher::new(world, k, &cand.caller);
    for (gi, g) in k.grants.iter().flatten().enumerate() {
        if !g.operations.iter().any(|o| o == short) || grantees.grade(gi, g) == PrincipalMatch::None {
            continue;
        }
        for pairs in g.ec_equals.iter().chain(g.ec_subset.iter()) {
            dom.add_ec_pairs(pairs);
        }
    }
    if let Some(ra) = dom.keys.get_mut("kms:requestalias") {
        ra.values = world.aliases_of(k).into_iter().collect();
    }
    for f in fixed.keys() {
        dom.keys.remove(&f.to_ascii_lowercase());
    }
    for a in absent {
        dom.keys.remove(&a.to_ascii_lowercase());
    }
    let (mut assignments, cut) = enumerate_counted(&dom);
    *shortened |= cut;
    for a in &mut assignments {
        a.extend(fixed.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    // One request, its context replaced per candidate; witnesses are built for the answer only.
    let req = Request {
        caller: cand.caller.clone(),
        action: action.clone(),
        key,
        context: Context::new(),
        via_alias: None,
        grant_tokens: Vec::new(),
        grant_id: None,
        assume_identity_allows: cand.assume_identity_allows,
    };
    Some(Requests { k, action, implied, docs, assignments, req })
}

/// Is some request of the principal allowed? Whether [`solve_principal`] gives an entry,
/// without building it: stops at the first allowed request.
#[must_use]
pub fn allows(world: &World, key: usize, action: &str, cand: &Candidate) -> bool {
    let Some(Requests { assignments, mut req, .. }) =
        requests(world, key, action, cand, &BTreeMap::new(), &[], &mut false)
    else {
        return false;
    };
    assignments.iter().any(|a| {
        req.context = context_of(a);
        authorize(world, &req).decision == Decision::Allow
    })
}

fn direct_hop(world: &World, from: &str, key_arn: &str, reasons: &[Reason]) -> Hop {
    let via = if reasons.iter().any(|r| r.source == ReasonSource::Grant) {
        "grant"
    } else if reasons.iter().any(|r| r.source == ReasonSource::IdentityPolicy) {
        "identity-policy"
    } else {
        "key-policy"
    };
    let reference = reasons
        .iter()
        .map(|r| {
            let file = r
                .policy
                .and_then(|p| world.policy(p))
                .and_then(|e| world.sources.get(e.policy.source))
                .map(|s| s.name.clone())
                .unwrap_or_default();
            let rr = reason_ref(world, r);
            let label = rr.split_once('#').map_or(rr.as_str(), |(_, l)| l).to_string();
            if r.grant.is_some() {
                label
            } else if r.policy.is_some_and(|p| world.policy(p).is_none()) {
                // The stand-in for identity policies outside the inputs (an abstract principal).
                "assumed identity-policy allow".to_string()
            } else {
                format!("{file}#{label}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    Hop { from: from.to_string(), to: key_arn.to_string(), via: via.into(), reference }
}

/// All candidate contexts (explicit keys only). When the full product exceeds
/// [`MAX_CANDIDATES`], the longest axes are shortened first (the key absent and the first
/// values are kept), so every key still varies.
fn enumerate(dom: &Domain) -> Vec<BTreeMap<String, CtxValue>> {
    enumerate_counted(dom).0
}

/// [`enumerate`], and whether the product was cut to [`MAX_CANDIDATES`].
fn enumerate_counted(dom: &Domain) -> (Vec<BTreeMap<String, CtxValue>>, bool) {
    type Opt = Vec<(String, CtxValue)>;
    let mut axes: Vec<Vec<Opt>> = Vec::new();
    for kc in dom.keys.values() {
        let mut opts: Vec<Opt> = vec![Vec::new()];
        let mut vals: Vec<String> = kc.values.iter().filter(|v| *v != OTHER).cloned().collect();
        vals.push(OTHER.into());
        if kc.multi {
            opts.push(vec![(kc.name.clone(), CtxValue::Multi(Vec::new()))]);
            for v in &vals {
                opts.push(vec![(kc.name.clone(), CtxValue::Multi(vec![v.clone()]))]);
            }
            opts.push(vec![(kc.name.clone(), CtxValue::Multi(vals.clone()))]);
        } else {
            for v in &vals {
                opts.push(vec![(kc.name.clone(), CtxValue::Single(v.clone()))]);
            }
        }
        axes.push(opts);
    }
    if dom.uses_ec {
        // Keys that differ only by case from a mentioned key: `kms:EncryptionContext:<k>` finds
        // all of them (semantics.md §4.4, U6), so a request may satisfy conditions no single
        // value can (e.g. a value equal to "a" and one not equal to "b"). These axes come first,
        // so that witnesses leave them out when they can.
        for (name, values) in
            case_variants(&dom.ec).into_iter().filter(|(n, _)| dom.needs_case_variants(&n.to_lowercase()))
        {
            let mut opts: Vec<Opt> = vec![Vec::new()];
            for v in values.into_iter().filter(|v| v != OTHER).chain([OTHER.to_string()]) {
                opts.push(vec![(format!("kms:EncryptionContext:{name}"), CtxValue::Single(v))]);
            }
            axes.push(opts);
        }
        for (name, values) in &dom.ec {
            let mut opts: Vec<Opt> = vec![Vec::new()];
            let mut vals: Vec<String> = values.iter().filter(|v| *v != OTHER).cloned().collect();
            vals.push(OTHER.into());
            for v in vals {
                opts.push(vec![(format!("kms:EncryptionContext:{name}"), CtxValue::Single(v))]);
            }
            axes.push(opts);
        }
        axes.push(vec![
            Vec::new(),
            vec![("kms:EncryptionContext:keyproof-extra".to_string(), CtxValue::Single(OTHER.into()))],
        ]);
    }
    let product = |axes: &[Vec<Opt>]| axes.iter().fold(1usize, |p, a| p.saturating_mul(a.len().max(1)));
    let shortened = product(&axes) > MAX_CANDIDATES;
    while product(&axes) > MAX_CANDIDATES {
        let Some(longest) = axes.iter_mut().max_by_key(|a| a.len()) else { break };
        if longest.len() <= 2 {
            break;
        }
        // Drop the second-to-last option: keeps "absent", the first values and the unmentioned value.
        let idx = longest.len() - 2;
        longest.remove(idx);
    }
    let mut out: Vec<BTreeMap<String, CtxValue>> = vec![BTreeMap::new()];
    for axis in axes {
        let mut next = Vec::with_capacity(out.len() * axis.len());
        for base in &out {
            for opt in &axis {
                let mut m = base.clone();
                m.extend(opt.iter().cloned());
                next.push(m);
            }
        }
        next.truncate(MAX_CANDIDATES);
        out = next;
    }
    (out, shortened)
}

/// True when the request cannot choose the key: the world implies its value for this caller
/// (in `implied`) or knows it to be absent ([`world_determines`]). `kms:RequestAlias` is
/// chosen by naming the key through one of its aliases.
fn fixed_key(world: &World, k: &crate::world::Key, caller: &Caller, implied: &Context, kl: &str) -> bool {
    kl != "kms:requestalias" && (implied.contains(kl) || world_determines(world, k, caller, kl))
}

/// For each group of encryption-context keys that are equal ignoring case, one more spelling no
/// policy or grant uses, with the values of the group.
fn case_variants(ec: &BTreeMap<String, BTreeSet<String>>) -> Vec<(String, BTreeSet<String>)> {
    let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, values) in ec {
        groups.entry(name.to_lowercase()).or_default().extend(values.iter().cloned());
    }
    let mut out = Vec::new();
    for (lower, values) in groups {
        let upper = lower.to_uppercase();
        let mut first_up = lower.clone();
        if let Some(c) = first_up.chars().next() {
            first_up.replace_range(..c.len_utf8(), &c.to_uppercase().to_string());
        }
        let spelling =
            [upper, first_up, lower.clone()].into_iter().find(|n| !ec.contains_key(n) && n.to_lowercase() == lower);
        if let Some(n) = spelling {
            out.push((n, values));
        }
    }
    out
}

/// Builds the DNF: per distinct set of allowing statements, the conditions on free keys of
/// those statements, and, for every deny statement that could fire for this caller, one of its
/// free conditions negated. Terms with no allowed witness are dropped.
fn dnf(
    world: &World,
    k: &crate::world::Key,
    action: &str,
    cand: &Candidate,
    docs: &Docs<'_>,
    implied: &Context,
    allowed: &[(&BTreeMap<String, CtxValue>, Vec<Reason>)],
) -> Vec<Vec<Atom>> {
    let free =
        |c: &Condition| c.key_lc.starts_with(EC_PREFIX) || !fixed_key(world, k, &cand.caller, implied, &c.key_lc);
    let statement = |r: &Reason| -> Option<(&Statement, bool)> {
        let e = world.policy(r.policy?)?;
        let st = e.policy.statements.iter().find(|s| Some(s.index) == r.index)?;
        Some((st, e.policy.variables_enabled()))
    };
    // Deny statements that apply to this caller apart from free conditions.
    let mut deny_groups: Vec<Vec<Atom>> = Vec::new();
    for (_, statements, vars, rp) in &docs.list {
        let q = StatementQuery::new(&cand.caller, action, &k.arn, *rp);
        for st in statements.iter().filter(|s| s.effect == Effect::Deny) {
            let not_free = |c: &Condition| !free(c);
            if statement_applies(world, st, &q, implied, *vars, &not_free) == PrincipalMatch::None {
                continue;
            }
            let atoms: Vec<Atom> =
                st.conditions.iter().filter(|c| free(c)).map(|c| Atom::from_condition(c, true)).collect();
            if !atoms.is_empty() {
                deny_groups.push(atoms);
            }
        }
    }
    // Guardrail levels (SCP/RCP, semantics.md §2.3 steps 3-4): one of the level's applicable
    // `Allow` statements must hold. A level with an applicable statement without free
    // conditions always passes; otherwise it is a choice among the statements' conditions.
    let mut level_groups: Vec<Vec<Vec<Atom>>> = Vec::new();
    for level in &docs.levels {
        let q = StatementQuery::new(&cand.caller, action, &k.arn, level.kind == DocKind::Rcp);
        let not_free = |c: &Condition| !free(c);
        let mut alternatives: Vec<Vec<Atom>> = Vec::new();
        for (statements, vars) in &level.docs {
            for st in statements.iter().filter(|s| s.effect == Effect::Allow) {
                if statement_applies(world, st, &q, implied, *vars, &not_free) != PrincipalMatch::None {
                    alternatives.push(
                        st.conditions.iter().filter(|c| free(c)).map(|c| Atom::from_condition(c, false)).collect(),
                    );
                }
            }
        }
        if !alternatives.is_empty() && !alternatives.iter().any(Vec::is_empty) {
            level_groups.push(alternatives);
        }
    }
    let mut terms: BTreeSet<Vec<Atom>> = BTreeSet::new();
    let mut seen_reason_sets: BTreeSet<Vec<Reason>> = BTreeSet::new();
    for (_, reasons) in allowed {
        let mut rs = reasons.clone();
        rs.sort();
        if !seen_reason_sets.insert(rs) {
            continue;
        }
        let mut base: Vec<Atom> = Vec::new();
        for r in reasons.iter().filter(|r| r.effect == Effect::Allow) {
            if let Some((st, _)) = statement(r) {
                base.extend(st.conditions.iter().filter(|c| free(c)).map(|c| Atom::from_condition(c, false)));
            }
            if let Some(g) = r.grant.as_ref().and_then(|id| k.grants.iter().flatten().find(|g| &g.id == id)) {
                base.extend(grant_atoms(g));
            }
        }
        // Every deny must fail (one of its free conditions false) and every guardrail level
        // must allow (all conditions of one of its statements true): distribute into terms.
        let choices = deny_groups
            .iter()
            .map(|g| g.iter().map(|a| vec![a.clone()]).collect::<Vec<_>>())
            .chain(level_groups.iter().cloned());
        let mut expanded: Vec<Vec<Atom>> = vec![base];
        for group in choices {
            let mut next = Vec::new();
            for t in &expanded {
                for alt in &group {
                    let mut t2 = t.clone();
                    t2.extend(alt.iter().cloned());
                    next.push(t2);
                }
            }
            expanded = next;
            if expanded.len() > MAX_TERMS {
                break;
            }
        }
        for mut t in expanded {
            t.sort();
            t.dedup();
            terms.insert(t);
        }
    }
    // Keep only terms some allowed witness satisfies.
    let contexts: Vec<Context> = allowed
        .iter()
        .map(|(a, _)| {
            let mut ctx = context_of(a);
            implied_context(world, k, &cand.caller, action, None, &mut ctx);
            ctx
        })
        .collect();
    terms
        .into_iter()
        .filter(|t| {
            let conds: Vec<(Option<Condition>, bool)> = t.iter().map(|a| (atom_condition(a), a.negated)).collect();
            contexts.iter().any(|ctx| {
                conds.iter().all(|(c, negated)| c.as_ref().is_some_and(|c| condition_holds(c, ctx, true) != *negated))
            })
        })
        .collect()
}

/// A grant's encryption-context constraint as condition atoms (semantics.md §6.4; the
/// constraint compares keys and values exactly).
fn grant_atoms(g: &crate::world::Grant) -> Vec<Atom> {
    let mut out = Vec::new();
    // `kms:EncryptionContext:<k>` finds the key case-insensitively (§4.4); the constraint wants
    // the exact key, which `kms:EncryptionContextKeys` compares exactly (for `Equals`, the
    // `ForAllValues` atom below already does).
    let pair_atoms = |pairs: &BTreeMap<String, String>, exact_keys: bool, out: &mut Vec<Atom>| {
        for (k, v) in pairs {
            out.push(Atom {
                key: format!("kms:EncryptionContext:{k}"),
                op: "StringEquals".into(),
                values: vec![v.clone()],
                negated: false,
            });
            if exact_keys {
                out.push(Atom {
                    key: "kms:EncryptionContextKeys".into(),
                    op: "ForAnyValue:StringEquals".into(),
                    values: vec![k.clone()],
                    negated: false,
                });
            }
        }
    };
    if let Some(eq) = &g.ec_equals {
        pair_atoms(eq, false, &mut out);
        out.push(Atom {
            key: "kms:EncryptionContextKeys".into(),
            op: "ForAllValues:StringEquals".into(),
            values: eq.keys().cloned().collect(),
            negated: false,
        });
    }
    if let Some(sub) = &g.ec_subset {
        pair_atoms(sub, true, &mut out);
    }
    out
}

/// The condition an atom stands for (`negated` is not part of it: the atom holds when the
/// condition's outcome differs from `negated`). Evaluate it with
/// [`crate::eval::condition::condition_holds`] on the full request context, world-implied keys
/// included.
#[must_use]
pub fn atom_condition(a: &Atom) -> Option<Condition> {
    use crate::source::{Span, Spanned};
    Some(Condition {
        op: crate::policy::model::Operator::parse(&a.op),
        op_text: Spanned::new(a.op.clone(), Span::default()),
        key: Spanned::new(a.key.clone(), Span::default()),
        key_lc: a.key.to_ascii_lowercase(),
        values: a.values.iter().map(|v| Spanned::new(v.clone(), Span::default())).collect(),
        values_span: Span::default(),
    })
}

/// The DNF as one line of text.
#[must_use]
pub fn dnf_text(terms: &[Vec<Atom>]) -> String {
    if terms.iter().any(Vec::is_empty) {
        return "always".into();
    }
    let parts: Vec<String> = terms
        .iter()
        .map(|t| {
            let s = t.iter().map(Atom::text).collect::<Vec<_>>().join(" and ");
            if terms.len() > 1 && t.len() > 1 {
                format!("({s})")
            } else {
                s
            }
        })
        .collect();
    parts.join(" or ")
}

/// Options of a who-can query.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// Index of the key.
    pub key: usize,
    /// Action (default `kms:Decrypt`).
    pub action: String,
    /// Leave out transitive entries.
    pub direct_only: bool,
}

/// Which principals of the universe a question is about.
#[derive(Clone, Copy)]
pub struct Among<'a> {
    /// The principals kept.
    pub keep: &'a (dyn Fn(&Candidate) -> bool + Sync),
    /// A hint: the accounts whose users, roles and root users of the world are looked at at all
    /// (before anything about them is built); it must admit the account of every such principal
    /// that `keep` keeps. `None`: every account.
    pub accounts: Option<&'a (dyn Fn(&str) -> bool + Sync)>,
}

fn everyone(_: &Candidate) -> bool {
    true
}

impl Among<'_> {
    /// Every principal.
    pub const ALL: Among<'static> = Among { keep: &everyone, accounts: None };
}

/// Answers who can perform the action on the key.
#[must_use]
pub fn who_can(world: &World, q: &Query) -> Answer {
    let direct = who_can_among(world, q.key, &q.action, Among::ALL);
    if q.direct_only {
        direct
    } else {
        with_transitive(world, q.key, direct)
    }
}

/// The direct entries (no role chains, no escalation) of the principals of the universe that
/// `among` keeps: each principal is solved on its own, so these are exactly the entries of
/// [`who_can`] with `direct_only` for those principals.
#[must_use]
pub fn who_can_among(world: &World, key: usize, action: &str, among: Among<'_>) -> Answer {
    use rayon::prelude::*;
    let action = canonical_action(if action.is_empty() { "kms:Decrypt" } else { action });
    let Some(k) = world.keys.get(key) else {
        return Answer { key: String::new(), action, principals: Vec::new(), assumptions: Vec::new() };
    };
    let r = reach::reach(world);
    let scope = reach::KeyScope::new(world, key, &action);
    let direct = direct_scope(world, key);
    let kept = |c: &Candidate| direct.may_reach(c) && (among.keep)(c);
    let solve = |c: &Candidate| {
        let mut shortened = false;
        let entry = solve_counted(world, key, &action, c, &BTreeMap::new(), &[], &mut shortened);
        (entry, shortened)
    };
    // The universe (`universe_of` the principals the scope admits), kept principals only: the
    // world's users, roles and root users are kept before the scope is asked about them.
    let others = universe_of(world, key, &[]);
    let solved: Vec<(Option<Entry>, bool)> = scope
        .pool(world, r, among.accounts)
        .par_iter()
        .filter_map(|w| {
            let c = candidate(world, r, *w);
            (kept(&c) && scope.admits(world, r, *w)).then(|| solve(&c))
        })
        .chain(others.par_iter().filter(|c| kept(c)).map(solve))
        .collect();
    let shortened = solved.iter().any(|(_, s)| *s);
    let mut entries: Vec<Entry> = solved.into_iter().filter_map(|(e, _)| e).collect();
    sort_entries(&mut entries);
    let mut assumptions = assumptions(world, key);
    if catalog().action(&action).is_none() {
        assumptions.push(format!("`{action}` is not a known KMS action"));
    }
    if shortened {
        assumptions.push(format!(
            "some principals' request contexts have more than `{MAX_CANDIDATES}` combinations of the values the policies mention: only `{MAX_CANDIDATES}` were tried, so a principal allowed only under the others may be missing"
        ));
    }
    Answer { key: k.arn.clone(), action, principals: entries, assumptions }
}

/// A direct answer ([`who_can_among`] of every principal) with the transitive entries added:
/// role chains and escalation (the answer of [`who_can`] without `direct_only`).
#[must_use]
pub fn with_transitive(world: &World, key: usize, mut answer: Answer) -> Answer {
    let extra = graph::transitive(world, key, &answer.action, &answer.principals);
    answer.principals.extend(extra);
    sort_entries(&mut answer.principals);
    answer
}

/// The transitive entries of [`who_can`]'s answer, in its order, solving only the direct
/// entries they depend on (the roles with access, the would-be escalators and the assumers of
/// those roles) instead of every principal's.
#[must_use]
pub fn transitive_entries(world: &World, key: usize, action: &str) -> Vec<Entry> {
    let action = canonical_action(if action.is_empty() { "kms:Decrypt" } else { action });
    let mut entries = graph::transitive_with(world, key, &action, &mut graph::Direct::lazy(world, key, &action));
    sort_entries(&mut entries);
    entries
}

/// One entry per name, sorted: direct before transitive; for `arn:aws:iam::ACCT:root` of an
/// account whose IAM is not in the inputs, the abstract `account` entry (any principal of the
/// account, the root user included) before the root user's own.
fn sort_entries(entries: &mut Vec<Entry>) {
    let rank = |e: &Entry| (e.transitive, e.kind != PrincipalKind::Account);
    entries.sort_by(|a, b| (a.principal.as_str(), rank(a)).cmp(&(b.principal.as_str(), rank(b))));
    entries.dedup_by(|a, b| a.principal == b.principal);
}

/// Which principals of the universe can have direct access at all, judged from who the key
/// policy and the grants name (conditions, actions and identity policies aside): with no `*`
/// and no `NotPrincipal` in an Allow statement, only principals named directly, principals of
/// an account named as a whole, and grantees. A cheap pre-filter before the exact
/// per-principal solve; it never removes a principal that `solve_principal` could admit.
pub(crate) struct DirectScope {
    /// `None`: everyone (an Allow names `*` or uses `NotPrincipal`, or the key policy is unknown).
    accounts: Option<BTreeSet<String>>,
}

pub(crate) fn direct_scope(world: &World, key: usize) -> DirectScope {
    let everyone = DirectScope { accounts: None };
    let Some(k) = world.keys.get(key) else { return everyone };
    let Some(entry) = k.policy.as_ref().and_then(|s| world.slot(s)) else { return everyone };
    let mut accounts = BTreeSet::new();
    for st in entry.policy.statements.iter().filter(|s| s.effect == Effect::Allow) {
        let Some(p) = &st.principal else { continue };
        let Some(named) = p.named_accounts() else { return everyone };
        accounts.extend(named.into_iter().map(str::to_string));
    }
    for g in k.grants.iter().flatten() {
        match crate::policy::arn::Arn::parse(&g.grantee) {
            Some(a) => {
                accounts.insert(a.account.to_string());
            }
            None => return everyone,
        }
    }
    DirectScope { accounts: Some(accounts) }
}

impl DirectScope {
    pub(crate) fn may_reach(&self, c: &Candidate) -> bool {
        match (&self.accounts, c.caller.account()) {
            (Some(set), Some(acct)) => set.contains(acct),
            _ => true,
        }
    }
}

fn assumptions(world: &World, key: usize) -> Vec<String> {
    let mut out = Vec::new();
    // The assumptions about the world are the same for every key: built once, sorted. Those
    // about other keys only (their grants, their policies) say nothing about this one.
    let common = reach::reach(world).world_assumptions(world);
    if let Some(k) = world.keys.get(key) {
        if k.grants.is_none() && !common.grants_said.contains(&k.arn) {
            out.push(format!("grants of `{}` were not collected: access through grants is unknown", k.arn));
        }
        if k.policy.is_none() {
            out.push(format!("the key policy of `{}` was not collected", k.arn));
        }
    }
    let arn = world.keys.get(key).map_or("", |k| k.arn.as_str());
    let about_this_key = |keys: &[String]| keys.is_empty() || keys.iter().any(|k| k == arn);
    out.extend(common.list.iter().filter(|(_, keys)| about_this_key(keys)).map(|(a, _)| a.clone()));
    out.sort();
    out.dedup();
    out
}

/// The assumptions of the who-can answers about a world ([`reach::Reach::world_assumptions`]).
pub(crate) struct WorldAssumptions {
    /// Those of every answer, sorted, each with the key ARNs it names in backticks: one naming
    /// only other keys is left out of a key's answer.
    list: Vec<(String, Vec<String>)>,
    /// The keys whose grants the inputs already say were not collected.
    grants_said: BTreeSet<String>,
}

/// Builds [`WorldAssumptions`].
pub(crate) fn world_assumptions(world: &World) -> WorldAssumptions {
    let list = assumption_list(world)
        .into_iter()
        .map(|a| {
            let named = a.split('`').skip(1).step_by(2).filter(|s| crate::policy::arn::is_key_arn(s));
            let keys = named.map(str::to_string).collect();
            (a, keys)
        })
        .collect();
    let grants_said = world
        .assumptions
        .iter()
        .filter_map(|a| a.strip_prefix("grants of `")?.split_once('`').map(|(arn, _)| arn.to_string()))
        .collect();
    WorldAssumptions { list, grants_said }
}

/// The assumptions of every answer about this world, sorted.
fn assumption_list(world: &World) -> Vec<String> {
    let mut out = vec![
        "`*` stands for any principal of an account outside the inputs whose own IAM policies allow the request".to_string(),
        "`arn:aws:iam::ACCT:root` entries of kind `account` stand for principals of an account whose IAM is not in the inputs, assuming its IAM allows the request".to_string(),
        "request contexts were explored over the values the policies mention, the key absent, and one unmentioned value per key".to_string(),
    ];
    for a in world.accounts.values().filter(|a| !a.iam_complete) {
        out.push(format!("IAM of account `{}` is not complete in the inputs", a.id));
    }
    if world.org.is_none() {
        out.push("no organization data: SCPs and RCPs were not evaluated".into());
    }
    out.extend(world.assumptions.iter().cloned());
    out.sort();
    out.dedup();
    out
}
