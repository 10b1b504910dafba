//! Access paths (petgraph): role assumption chains through trust policies, and escalation
//! through `kms:CreateGrant` and `kms:PutKeyPolicy` (semantics.md §6.4, §5.2).
//!
//! Edges are decided by the evaluator: `X → R` exists when [`authorize_assume_role`] allows
//! `X` to assume `R` under some candidate context. A principal reaches the key when a shortest
//! chain of such edges ends in a role with direct access.
//!
//! Escalation is confirmed in a hypothetical world ([`World::fork`]): a principal that can
//! create a grant for itself (or replace the key policy) reaches the action only if the
//! evaluator allows it once that grant exists (once the policy allows everything): denies in
//! the key policy, identity policies, boundaries, SCPs and RCPs still apply.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use petgraph::graph::{DiGraph, NodeIndex};

use super::candidates::Domain;
use super::reach::Who;
use super::{enumerate, solve_principal, solve_principal_with, Candidate, Entry, Hop, PrincipalKind};
use crate::catalog::catalog;
use crate::eval::authorize::{authorize_assume_role, Decision};
use crate::eval::context::{Context, CtxValue};
use crate::eval::principal::Caller;
use crate::eval::request::reason_ref;
use crate::policy::model::DocKind;
use crate::policy::parse::parse_policy_text;
use crate::world::{Grant, PolicyEntry, PolicySlot, World};

/// Longest role chain followed.
pub const MAX_CHAIN: usize = 6;

/// The accounts a role's trust policy names (as accounts or through their principals); `None`
/// when it names `*`, uses `NotPrincipal`, or is unknown: a cheap pre-filter for [`can_assume`].
pub(crate) fn trusted_accounts(world: &World, role: &crate::world::Role) -> Option<BTreeSet<String>> {
    let trust = role.trust.as_ref().and_then(|s| world.slot(s))?;
    let mut out = BTreeSet::new();
    for st in trust.policy.statements.iter().filter(|s| s.effect == crate::policy::model::Effect::Allow) {
        out.extend(st.principal.as_ref()?.named_accounts()?.into_iter().map(str::to_string));
    }
    Some(out)
}

/// Can `cand` assume `role` under some context? Returns the trust-policy reference.
#[must_use]
pub fn can_assume(world: &World, cand: &Candidate, role: &crate::world::Role) -> Option<String> {
    let trust = role.trust.as_ref().and_then(|s| world.slot(s))?;
    // Necessary condition, conditions aside: some Allow statement of the trust policy names the
    // candidate (directly, through its role, or through its account).
    let q = crate::eval::authorize::StatementQuery {
        implicit_resource: true,
        ..crate::eval::authorize::StatementQuery::new(&cand.caller, "sts:AssumeRole", &role.arn, true)
    };
    let ctx = Context::new();
    let named =
        trust.policy.statements.iter().filter(|st| st.effect == crate::policy::model::Effect::Allow).any(|st| {
            crate::eval::authorize::statement_applies(world, st, &q, &ctx, true, &|_| false)
                != crate::eval::principal::PrincipalMatch::None
        });
    if !named {
        return None;
    }
    let mut dom = Domain::default();
    let implied_none = |_: &str| false;
    for st in &trust.policy.statements {
        for c in &st.conditions {
            dom.add_condition(c, &implied_none);
        }
    }
    for a in enumerate(&dom).into_iter().take(256) {
        let mut ctx = Context::new();
        for (k, v) in a {
            ctx.set(&k, v);
        }
        let resp = if cand.assume_identity_allows {
            authorize_assume_role_assuming_iam(world, &cand.caller, role, ctx)
        } else {
            authorize_assume_role(world, &cand.caller, role, ctx)
        };
        if resp.decision == Decision::Allow {
            let file = world.sources.get(trust.policy.source).map(|s| s.name.clone()).unwrap_or_default();
            let label = resp
                .reasons
                .iter()
                .find(|r| r.source == crate::eval::authorize::ReasonSource::TrustPolicy)
                .map(|r| reason_ref(world, r))
                .unwrap_or_default();
            return Some(format!("{file}#{}", label.split_once('#').map_or("", |(_, l)| l)));
        }
    }
    None
}

/// The `GranteePrincipal` a candidate names to grant itself: its own ARN, the role ARN for a
/// role session (the grant then covers every session, semantics.md §6.3).
fn grantee_of(cand: &Candidate) -> String {
    match &cand.caller {
        Caller::AssumedRole { .. } => cand.caller.principal_arn(),
        other => other.arn(),
    }
}

/// The world with, for each candidate, a grant of `operation` to itself without constraints.
/// Grants name one principal each, so they do not let any other candidate in.
fn with_self_grants<'c>(
    world: &World,
    key: usize,
    operation: &str,
    cands: impl Iterator<Item = &'c Candidate>,
) -> World {
    let mut w = world.fork();
    if let Some(k) = w.keys.get_mut(key) {
        let key_arn = k.arn.clone();
        let grants = k.grants.get_or_insert_with(Vec::new);
        for (n, c) in cands.enumerate() {
            grants.push(Grant {
                id: format!("keyproof-escalation-{n}"),
                key_arn: key_arn.clone(),
                grantee: grantee_of(c),
                operations: vec![operation.to_string()],
                ..Grant::default()
            });
        }
    }
    w
}

/// The world with the key policy replaced by one that allows every action to everyone: what a
/// principal allowed `kms:PutKeyPolicy` can write (it passes the lockout check, §5.2).
fn with_rewritten_policy(world: &World, key: usize) -> World {
    const ANY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"RewrittenByEscalation","Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}"#;
    let mut w = world.fork();
    let source = w.sources.add_file("keyproof:rewritten-key-policy", ANY);
    let mut diags = Vec::new();
    let account = w.keys.get(key).map(|k| k.account.clone());
    if let Some(policy) = parse_policy_text(source, ANY, &mut diags) {
        let id = w.add_policy(PolicyEntry { policy, kind: DocKind::KeyPolicy, name: "key-policy".into(), account });
        if let Some(k) = w.keys.get_mut(key) {
            k.policy = Some(PolicySlot::Known(id));
        }
    }
    w
}

fn authorize_assume_role_assuming_iam(
    world: &World,
    caller: &Caller,
    role: &crate::world::Role,
    ctx: Context,
) -> crate::eval::authorize::Response {
    crate::eval::authorize::authorize_assume_role_with(world, caller, role, ctx, true)
}

/// The direct access of a key's principals for one action, by principal name: either all of
/// it, from a direct answer, or each principal solved when [`transitive_with`] first asks
/// about it, so that only the principals transitive access depends on are solved (the roles
/// with access, the would-be escalators, the assumers of those roles), and their entries built
/// only where a transitive entry copies them.
pub(crate) struct Direct<'w> {
    /// Entries built so far (all of them when `lazy` is `None`); `None`: no direct access.
    entries: HashMap<String, Option<Entry>>,
    /// Whether a principal has direct access, where its entry was not built.
    allowed: HashMap<String, bool>,
    lazy: Option<Lazy<'w>>,
}

/// What a lazy [`Direct`] solves from: the candidates `who_can_among` would solve.
struct Lazy<'w> {
    world: &'w World,
    key: usize,
    action: String,
    /// The users, roles and root users of the world the key's scope admits, by name.
    whos: HashMap<String, Who>,
    /// The other principals of the universe.
    others: Vec<Candidate>,
    scope: super::DirectScope,
}

impl<'w> Lazy<'w> {
    /// The candidates of the universe named `name` that may reach the key, the world's first
    /// (the order of `who_can_among`).
    fn candidates(&self, name: &str) -> Vec<Candidate> {
        let r = super::reach::reach(self.world);
        let who = self.whos.get(name).map(|w| super::candidate(self.world, r, *w));
        who.into_iter()
            .chain(self.others.iter().filter(|c| c.name == name).cloned())
            .filter(|c| self.scope.may_reach(c))
            .collect()
    }

    /// The entry `who_can_among` keeps for a name: the first by [`super::sort_entries`]'s rank.
    fn entry(&self, name: &str) -> Option<Entry> {
        let mut found: Vec<Entry> = self
            .candidates(name)
            .iter()
            .filter_map(|c| {
                super::solve_counted(self.world, self.key, &self.action, c, &BTreeMap::new(), &[], &mut false)
            })
            .collect();
        super::sort_entries(&mut found);
        found.into_iter().next()
    }

    /// Whether [`Lazy::entry`] would give an entry.
    fn allows(&self, name: &str) -> bool {
        self.candidates(name).iter().any(|c| super::allows(self.world, self.key, &self.action, c))
    }
}

impl<'w> Direct<'w> {
    /// The entries of a direct answer (one per principal).
    pub(crate) fn known(direct: &[Entry]) -> Self {
        let entries = direct.iter().map(|e| (e.principal.clone(), Some(e.clone()))).collect();
        Direct { entries, allowed: HashMap::new(), lazy: None }
    }

    /// Nothing solved yet: principals are solved when asked about.
    pub(crate) fn lazy(world: &'w World, key: usize, action: &str) -> Self {
        let r = super::reach::reach(world);
        let whos = super::reach::KeyScope::new(world, key, action)
            .admitted(world, r)
            .into_iter()
            .map(|w| (super::candidate_name(world, r, w), w))
            .collect();
        let lazy = Lazy {
            world,
            key,
            action: action.to_string(),
            whos,
            others: super::universe_of(world, key, &[]),
            scope: super::direct_scope(world, key),
        };
        Direct { entries: HashMap::new(), allowed: HashMap::new(), lazy: Some(lazy) }
    }

    /// Decides, in parallel, whether the principals not decided yet have direct access.
    fn prefetch<'n>(&mut self, names: impl Iterator<Item = &'n str>) {
        use rayon::prelude::*;
        let Some(lazy) = &self.lazy else { return };
        let mut missing: Vec<&str> =
            names.filter(|n| !self.entries.contains_key(*n) && !self.allowed.contains_key(*n)).collect();
        missing.sort_unstable();
        missing.dedup();
        let decided: Vec<(String, bool)> = missing.par_iter().map(|n| ((*n).to_string(), lazy.allows(n))).collect();
        self.allowed.extend(decided);
    }

    /// Has the principal direct access?
    fn has(&mut self, name: &str) -> bool {
        self.prefetch(std::iter::once(name));
        match self.entries.get(name) {
            Some(e) => e.is_some(),
            None => self.allowed.get(name).copied().unwrap_or(false),
        }
    }

    /// The direct entry of a principal.
    fn get(&mut self, name: &str) -> Option<&Entry> {
        if !self.entries.contains_key(name) {
            let entry = match &self.lazy {
                Some(lazy) if self.allowed.get(name) != Some(&false) => lazy.entry(name),
                _ => None,
            };
            self.entries.insert(name.to_string(), entry);
        }
        self.entries.get(name).and_then(Option::as_ref)
    }

    /// The roles with direct access.
    fn roles(&mut self) -> Vec<String> {
        let Some(lazy) = &self.lazy else {
            return self
                .entries
                .values()
                .flatten()
                .filter(|e| e.kind == PrincipalKind::Role)
                .map(|e| e.principal.clone())
                .collect();
        };
        let names: Vec<String> = lazy
            .whos
            .iter()
            .filter(|(_, w)| matches!(w, Who::Role(_)))
            .map(|(n, _)| n.clone())
            .chain(lazy.others.iter().filter(|c| c.kind == PrincipalKind::Role).map(|c| c.name.clone()))
            .collect();
        self.prefetch(names.iter().map(String::as_str));
        names.into_iter().filter(|n| self.has(n)).collect()
    }
}

/// Transitive entries: principals without direct access that reach it through role chains or
/// escalation. `direct` are the direct entries.
#[must_use]
pub fn transitive(world: &World, key: usize, action: &str, direct: &[Entry]) -> Vec<Entry> {
    transitive_with(world, key, action, &mut Direct::known(direct))
}

/// [`transitive`], asking `direct` for the direct entries it needs.
pub(crate) fn transitive_with(world: &World, key: usize, action: &str, direct: &mut Direct<'_>) -> Vec<Entry> {
    // The transitive entries found so far, by principal.
    let mut have: BTreeMap<String, Entry> = BTreeMap::new();
    let mut out = Vec::new();
    let key_arn = world.keys.get(key).map(|k| k.arn.clone()).unwrap_or_default();
    let reach = super::reach::reach(world);

    // Escalation (semantics.md §6.4, §5.2): a principal that can create a grant for itself, or
    // replace the key policy, first; then whether that would let it perform the action, asked of
    // the evaluator in a hypothetical world (denies in the key policy, IAM, boundaries, SCPs and
    // RCPs still apply after the escalation).
    let short = action.strip_prefix("kms:").unwrap_or(action).to_string();
    // Only an operation a grant on this key can carry (§6.2: CreateGrant rejects the others).
    let fits = world
        .keys
        .get(key)
        .and_then(|k| k.metadata.as_ref())
        .is_none_or(|m| crate::world::grant_operation_fits(&short, &m.spec, &m.usage));
    let grantable = fits && catalog().action(action).is_some_and(|a| a.grant_operation);
    let scope = super::direct_scope(world, key);
    let mut whos = Vec::new();
    if grantable {
        whos.extend(super::reach::KeyScope::new(world, key, "kms:CreateGrant").admitted(world, reach));
    }
    if action != "kms:PutKeyPolicy" {
        whos.extend(super::reach::KeyScope::new(world, key, "kms:PutKeyPolicy").admitted(world, reach));
    }
    whos.sort_unstable();
    whos.dedup();
    let universe = super::universe_of(world, key, &whos);
    // Principals with direct access do not need to escalate.
    direct.prefetch(universe.iter().filter(|c| scope.may_reach(c)).map(|c| c.name.as_str()));
    let mut escalators: Vec<(usize, &Candidate)> = Vec::new();
    for (i, cand) in universe.iter().enumerate() {
        if scope.may_reach(cand) && !direct.has(&cand.name) {
            escalators.push((i, cand));
        }
    }
    let steps: Vec<(usize, Option<Entry>, Option<Entry>)> = {
        use rayon::prelude::*;
        escalators
            .par_iter()
            .map(|&(i, cand)| {
                let grant = grantable
                    .then(|| {
                        let fixed: BTreeMap<String, CtxValue> = [
                            ("kms:GranteePrincipal".to_string(), CtxValue::Single(grantee_of(cand))),
                            ("kms:GrantOperations".to_string(), CtxValue::Multi(vec![short.clone()])),
                        ]
                        .into();
                        solve_principal_with(
                            world,
                            key,
                            "kms:CreateGrant",
                            cand,
                            &fixed,
                            &["kms:GrantIsForAWSResource"],
                        )
                    })
                    .flatten();
                let policy = (action != "kms:PutKeyPolicy")
                    .then(|| solve_principal_with(world, key, "kms:PutKeyPolicy", cand, &BTreeMap::new(), &[]))
                    .flatten();
                (i, grant, policy)
            })
            .filter(|(_, g, p)| g.is_some() || p.is_some())
            .collect()
    };
    let mut grant_steps: Vec<(usize, Entry)> = Vec::new();
    let mut policy_steps: Vec<(usize, Entry)> = Vec::new();
    for (i, g, p) in steps {
        grant_steps.extend(g.map(|e| (i, e)));
        policy_steps.extend(p.map(|e| (i, e)));
    }
    let mut escalated: BTreeMap<usize, (Entry, &str)> = BTreeMap::new();
    if !grant_steps.is_empty() {
        let w = with_self_grants(world, key, &short, grant_steps.iter().map(|(i, _)| &universe[*i]));
        for (i, e) in grant_steps {
            if universe.get(i).is_some_and(|c| solve_principal(&w, key, action, c).is_some()) {
                escalated.insert(i, (e, "kms:CreateGrant"));
            }
        }
    }
    policy_steps.retain(|(i, _)| !escalated.contains_key(i));
    if !policy_steps.is_empty() {
        let w = with_rewritten_policy(world, key);
        for (i, e) in policy_steps {
            if universe.get(i).is_some_and(|c| solve_principal(&w, key, action, c).is_some()) {
                escalated.insert(i, (e, "kms:PutKeyPolicy"));
            }
        }
    }
    for (i, (mut e, via)) in escalated {
        let Some(cand) = universe.get(i) else { continue };
        let reference = e.path.first().map(|h| h.reference.clone()).unwrap_or_default();
        e.path = vec![Hop { from: cand.name.clone(), to: key_arn.clone(), via: via.into(), reference }];
        e.transitive = true;
        have.insert(cand.name.clone(), e.clone());
        out.push(e);
    }

    // Role chains: breadth-first from roles that have access, backwards along AssumeRole edges.
    let mut graph: DiGraph<String, String> = DiGraph::new();
    let mut nodes: BTreeMap<String, NodeIndex> = BTreeMap::new();
    let mut node = |g: &mut DiGraph<String, String>, name: &str| -> NodeIndex {
        *nodes.entry(name.to_string()).or_insert_with(|| g.add_node(name.to_string()))
    };
    let mut roles = direct.roles();
    roles.extend(have.values().filter(|e| e.kind == PrincipalKind::Role).map(|e| e.principal.clone()));
    roles.sort_unstable();
    let mut queue: VecDeque<(String, usize)> = roles.into_iter().map(|r| (r, 0)).collect();
    let mut visited: BTreeSet<String> = queue.iter().map(|(n, _)| n.clone()).collect();
    // Principals outside the world's users, roles and root users (abstract accounts, sessions,
    // services, `*`): few, asked directly; the others come from the per-role cache.
    let others = super::universe_of(world, key, &[]);
    while let Some((target, depth)) = queue.pop_front() {
        if depth >= MAX_CHAIN {
            continue;
        }
        let Some(ri) = world.role_index_by_arn(&target) else { continue };
        let Some(role) = world.roles.get(ri) else { continue };
        let trusted = trusted_accounts(world, role);
        let mut assumers: Vec<(Candidate, String)> = reach
            .assumers(world, ri)
            .iter()
            .map(|(w, reference)| (super::candidate(world, reach, *w), reference.clone()))
            .filter(|(c, _)| c.name != target && !have.contains_key(&c.name))
            .collect();
        assumers.extend(
            others
                .iter()
                .filter(|c| c.name != target && !have.contains_key(&c.name))
                .filter(|c| match (&trusted, c.caller.account()) {
                    (Some(set), Some(acct)) => set.contains(acct),
                    _ => true,
                })
                .filter_map(|c| can_assume(world, c, role).map(|r| (c.clone(), r))),
        );
        // Only principals without access of their own reach the key through the role.
        direct.prefetch(assumers.iter().map(|(c, _)| c.name.as_str()));
        assumers.retain(|(c, _)| !direct.has(&c.name));
        if assumers.is_empty() {
            continue;
        }
        let Some(target_entry) = have.get(&target).or_else(|| direct.get(&target)).cloned() else { continue };
        for (cand, reference) in &assumers {
            let reference = reference.clone();
            if have.contains_key(&cand.name) {
                continue;
            }
            {
                let a = node(&mut graph, &cand.name);
                let b = node(&mut graph, &target);
                graph.add_edge(a, b, reference.clone());
                let mut path =
                    vec![Hop { from: cand.name.clone(), to: target.clone(), via: "sts:AssumeRole".into(), reference }];
                path.extend(target_entry.path.iter().cloned());
                let e = Entry {
                    principal: cand.name.clone(),
                    kind: cand.kind,
                    path,
                    transitive: true,
                    caller: target_entry.caller.clone(),
                    ..target_entry.clone()
                };
                have.insert(cand.name.clone(), e.clone());
                out.push(e);
                if cand.kind == PrincipalKind::Role && visited.insert(cand.name.clone()) {
                    queue.push_back((cand.name.clone(), depth + 1));
                }
            }
        }
    }
    out
}
