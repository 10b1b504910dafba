//! Who could reach a key at all: a cheap and sound pre-filter in front of the exact
//! per-principal solve, so that a question about one key costs what the key's policy, grants
//! and the identity policies that speak about KMS make it cost, not the size of the world.
//!
//! Principals are judged from who the key policy names (conditions aside), whom the key's
//! grants name, and whether some identity statement of the principal could allow the action on
//! the key's ARN (conditions aside). Every rule here is a necessary condition of the KMS
//! procedure (semantics.md §2.4): a principal the filter drops is one `authorize` denies under
//! every context. `tests/who_can_enumeration.rs` checks the solver with the filter in place.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use crate::catalog::{catalog, ResourceKind};
use crate::eval::authorize::{action_applies, action_applies_id, identity_slots};
use crate::eval::condition::resource_matches;
use crate::eval::context::Context;
use crate::eval::principal::{match_principals, Caller, PrincipalMatch, DEFAULT_SESSION};
use crate::policy::model::{Effect, PolicyId, PrincipalRef, Principals, Statement};
use crate::world::{Grant, PolicySlot, World};

/// A user, role or account root user of the world.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Who {
    /// `world.users[i]`.
    User(usize),
    /// `world.roles[i]`.
    Role(usize),
    /// The root user of `Reach::accounts[i]`.
    Root(usize),
}

/// Per-world tables of the filter (built once, cached in the world).
#[derive(Default)]
pub struct Reach {
    /// Per role: its identity statements that could allow some KMS action, or `None` when one
    /// of its documents is not in the inputs.
    roles: Vec<Option<Vec<(PolicyId, u32)>>>,
    /// The same per user (groups included).
    users: Vec<Option<Vec<(PolicyId, u32)>>>,
    /// Per role and per user: the identity statements that could allow some STS action
    /// (`sts:AssumeRole` for role chains), `None` as above.
    roles_sts: Vec<Option<Vec<(PolicyId, u32)>>>,
    users_sts: Vec<Option<Vec<(PolicyId, u32)>>>,
    /// Every account of the world (sorted): where the users and roles live, and the accounts
    /// the inputs describe.
    pub accounts: Vec<String>,
    /// Users and roles by account.
    by_account: HashMap<String, Vec<Who>>,
    /// Per role, once asked: who of the world can assume it (see [`Reach::assumers`]).
    assumers: Vec<OnceLock<Vec<(Who, String)>>>,
    /// Users and roles with a KMS statement whose resource names an account literally, by
    /// that account; and those with one that could name any account (or unknown documents).
    by_resource_account: HashMap<String, Vec<Who>>,
    any_resource_account: Vec<Who>,
    /// Per catalogue action (the last slot: any other action), once asked: those of
    /// `any_resource_account` whose statement that could name any account may allow it.
    any_resource_by_action: Vec<OnceLock<ActionTouch>>,
    /// The assumptions every answer about this world states, once asked.
    world_assumptions: OnceLock<super::WorldAssumptions>,
    /// The organization's accounts whose IAM is not complete in the inputs (sorted).
    org_outside_iam: Vec<String>,
}

/// The principals of `Reach.any_resource_account` sorted for one action by the statements that may
/// allow it: one that could name any account (or an unknown document) puts the principal in
/// `wide`, else it is listed under each account its statements name.
#[derive(Debug, Default)]
struct ActionTouch {
    wide: Vec<Who>,
    by_account: HashMap<String, Vec<Who>>,
}

/// The tables of `world`.
pub fn reach(world: &World) -> &Reach {
    let any = world.cache.solver.get_or_init(|| Arc::new(build(world)));
    match any.downcast_ref::<Reach>() {
        Some(r) => r,
        None => {
            // Only `reach` writes the slot, so this is unreachable; answer without a filter.
            static EMPTY: OnceLock<Reach> = OnceLock::new();
            EMPTY.get_or_init(Reach::default)
        }
    }
}

/// Could this statement allow some action of `service` (action element only)?
fn speaks(st: &Statement, service: &str) -> bool {
    st.effect == Effect::Allow
        && !st.broken
        && (st.action.negated
            || st.action.items.iter().any(|a| {
                a.value == "*" || a.value.split_once(':').is_some_and(|(s, _)| s.eq_ignore_ascii_case(service))
            }))
}

/// The identity statements of a caller that could allow some action of `service`; `None` when
/// one of its documents is not in the inputs.
fn statements_about(world: &World, caller: &Caller, service: &str) -> Option<Vec<(PolicyId, u32)>> {
    let slots = identity_slots(world, caller);
    if !slots.found {
        return None;
    }
    let managed = slots.managed.iter().map(|m| world.managed_policies.get(m).map(|mp| &mp.policy));
    let mut out = Vec::new();
    for slot in slots.inline.iter().map(Some).chain(managed) {
        let Some(PolicySlot::Known(id)) = slot else { return None };
        let entry = world.policy(*id)?;
        for (i, st) in entry.policy.statements.iter().enumerate() {
            if speaks(st, service) {
                out.push((*id, u32::try_from(i).unwrap_or(u32::MAX)));
            }
        }
    }
    Some(out)
}

fn build(world: &World) -> Reach {
    let users = world.users.iter().map(|u| statements_about(world, &user_caller(u), "kms")).collect();
    let roles = world.roles.iter().map(|r| statements_about(world, &role_caller(r), "kms")).collect();
    let users_sts = world.users.iter().map(|u| statements_about(world, &user_caller(u), "sts")).collect();
    let roles_sts = world.roles.iter().map(|r| statements_about(world, &role_caller(r), "sts")).collect();
    let mut accounts: BTreeSet<String> = world.accounts.keys().cloned().collect();
    accounts.extend(world.users.iter().map(|u| u.account.clone()));
    accounts.extend(world.roles.iter().map(|r| r.account.clone()));
    let mut by_account: HashMap<String, Vec<Who>> = HashMap::new();
    for (i, u) in world.users.iter().enumerate() {
        by_account.entry(u.account.clone()).or_default().push(Who::User(i));
    }
    for (i, r) in world.roles.iter().enumerate() {
        by_account.entry(r.account.clone()).or_default().push(Who::Role(i));
    }
    let assumers = world.roles.iter().map(|_| OnceLock::new()).collect();
    let any_resource_by_action = (0..=crate::catalog::catalog().actions().len()).map(|_| OnceLock::new()).collect();
    let mut reach = Reach {
        roles,
        users,
        roles_sts,
        users_sts,
        accounts: accounts.into_iter().collect(),
        by_account,
        assumers,
        any_resource_by_action,
        org_outside_iam: world
            .org
            .iter()
            .flat_map(|o| o.accounts.iter())
            .filter(|a| !world.accounts.get(*a).is_some_and(|x| x.iam_complete))
            .cloned()
            .collect::<BTreeSet<String>>()
            .into_iter()
            .collect(),
        ..Reach::default()
    };
    let whos: Vec<Who> = (0..world.users.len()).map(Who::User).chain((0..world.roles.len()).map(Who::Role)).collect();
    for who in whos {
        let list = match who {
            Who::User(i) => reach.users.get(i),
            Who::Role(i) => reach.roles.get(i),
            Who::Root(_) => None,
        };
        let Some(list) = list else { continue };
        let Some(list) = list else {
            reach.any_resource_account.push(who);
            continue;
        };
        match resource_accounts(world, list, |_| true) {
            None => reach.any_resource_account.push(who),
            Some(named) => {
                for a in named {
                    reach.by_resource_account.entry(a.to_string()).or_default().push(who);
                }
            }
        }
    }
    reach
}

/// The accounts whose keys the statements of `list` that `counts` keeps could name, or `None`
/// when one of them could name any account (or is not in the inputs).
fn resource_accounts<'w>(
    world: &'w World,
    list: &[(PolicyId, u32)],
    counts: impl Fn(&Statement) -> bool,
) -> Option<BTreeSet<&'w str>> {
    let statements = list.iter().map(|(pid, i)| world.policy(*pid).and_then(|e| e.policy.statements.get(*i as usize)));
    statements_resource_accounts(statements.filter(|st| st.is_none_or(&counts)))
}

/// The accounts whose keys these statements could name (by their resources), or `None` when
/// one of them could name any account (or is missing: `None` in the list).
pub(crate) fn statements_resource_accounts<'w>(
    statements: impl IntoIterator<Item = Option<&'w Statement>>,
) -> Option<BTreeSet<&'w str>> {
    let mut accounts = BTreeSet::new();
    for st in statements {
        let res = st?.resource.as_ref().filter(|r| !r.negated)?;
        for r in &res.items {
            accounts.insert(resource_account(&r.value)?);
        }
    }
    Some(accounts)
}

/// The account a resource pattern names literally (`arn:aws:kms:*:111122223333:key/*`), or
/// `None` when it could name any account.
fn resource_account(pattern: &str) -> Option<&str> {
    if pattern.contains("${") {
        return None;
    }
    let account = pattern.split(':').nth(4)?;
    (!account.is_empty() && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

fn user_caller(u: &crate::world::User) -> Caller {
    Caller::User { account: u.account.clone(), path: u.path.clone(), name: u.name.clone() }
}

/// The caller the solver uses for a role: a session with the default name.
pub fn role_caller(r: &crate::world::Role) -> Caller {
    Caller::AssumedRole {
        account: r.account.clone(),
        path: r.path.clone(),
        role: r.name.clone(),
        session: DEFAULT_SESSION.into(),
    }
}

impl Reach {
    /// The account of a principal.
    #[must_use]
    pub fn account<'w>(&'w self, world: &'w World, who: Who) -> &'w str {
        match who {
            Who::User(i) => world.users.get(i).map_or("", |u| u.account.as_str()),
            Who::Role(i) => world.roles.get(i).map_or("", |r| r.account.as_str()),
            Who::Root(i) => self.accounts.get(i).map_or("", String::as_str),
        }
    }

    /// The caller the evaluator sees for a principal.
    #[must_use]
    pub fn caller(&self, world: &World, who: Who) -> Caller {
        match who {
            Who::User(i) => world.users.get(i).map_or(Caller::Root { account: String::new() }, user_caller),
            Who::Role(i) => world.roles.get(i).map_or(Caller::Root { account: String::new() }, role_caller),
            Who::Root(i) => Caller::Root { account: self.accounts.get(i).cloned().unwrap_or_default() },
        }
    }

    /// Could an identity statement of `who` allow `action` (a `kms:` or `sts:` action) on `arn`
    /// (conditions aside)? The root user needs no identity policy; unknown documents could
    /// allow anything.
    #[must_use]
    pub fn identity_may_allow(&self, world: &World, who: Who, action: &str, arn: &str) -> bool {
        let sts = action.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("sts:"));
        let list = match who {
            Who::Root(_) => return true,
            Who::User(i) if sts => self.users_sts.get(i),
            Who::Role(i) if sts => self.roles_sts.get(i),
            Who::User(i) => self.users.get(i),
            Who::Role(i) => self.roles.get(i),
        };
        let Some(Some(list)) = list else { return true };
        let empty = Context::new();
        let id = crate::catalog::catalog().action_id(action);
        list.iter().any(|(pid, i)| {
            let Some(entry) = world.policy(*pid) else { return true };
            let Some(st) = entry.policy.statements.get(*i as usize) else { return true };
            if !action_applies_id(st, action, id) {
                return false;
            }
            match &st.resource {
                Some(res) if !res.negated => res.items.iter().any(|r| {
                    r.value.contains("${") || resource_matches(&r.value, arn, &empty, entry.policy.variables_enabled())
                }),
                _ => true,
            }
        })
    }

    /// Users and roles with an identity statement that could speak about a key of `account`
    /// (each once, in no particular order): the only ones whose identity policies can allow
    /// anything on such a key.
    pub fn touching<'a>(&'a self, account: &str) -> impl Iterator<Item = Who> + 'a {
        let named = self.by_resource_account.get(account).map_or(&[][..], Vec::as_slice);
        named.iter().chain(self.any_resource_account.iter()).copied()
    }

    /// [`Reach::touching`] for one action (`kms:` or `sts:`): only those with a statement that
    /// may allow the action and could name a key of `account` (a superset of those for which
    /// [`Reach::identity_may_allow`] can hold on such a key).
    pub fn touching_for<'a>(&'a self, world: &World, account: &str, action: &str) -> impl Iterator<Item = Who> + 'a {
        let named = self.by_resource_account.get(account).map_or(&[][..], Vec::as_slice);
        let id = crate::catalog::catalog().action_id(action);
        let slot = id.unwrap_or(self.any_resource_by_action.len().saturating_sub(1));
        let (wide, by_account): (&[Who], &[Who]) = match self.any_resource_by_action.get(slot) {
            Some(cell) => {
                let t = cell.get_or_init(|| self.action_touch(world, action, id));
                (&t.wide, t.by_account.get(account).map_or(&[][..], Vec::as_slice))
            }
            None => (&self.any_resource_account, &[]),
        };
        named.iter().chain(wide).chain(by_account).copied()
    }

    /// Sorts `any_resource_account` for one action (see [`ActionTouch`]).
    fn action_touch(&self, world: &World, action: &str, id: Option<usize>) -> ActionTouch {
        let mut t = ActionTouch::default();
        for &who in &self.any_resource_account {
            let list = match who {
                Who::User(i) => self.users.get(i),
                Who::Role(i) => self.roles.get(i),
                Who::Root(_) => None,
            };
            let Some(Some(list)) = list else {
                t.wide.push(who);
                continue;
            };
            match resource_accounts(world, list, |st| id.is_none() || action_applies_id(st, action, id)) {
                None => t.wide.push(who),
                Some(accounts) => {
                    for a in accounts {
                        t.by_account.entry(a.to_string()).or_default().push(who);
                    }
                }
            }
        }
        t
    }

    /// Every user, role and root user of the world, in order.
    #[must_use]
    pub fn everyone(&self) -> Vec<Who> {
        let users = (0..self.users.len()).map(Who::User);
        users.chain((0..self.roles.len()).map(Who::Role)).chain((0..self.accounts.len()).map(Who::Root)).collect()
    }

    /// The organization's accounts whose IAM is not complete in the inputs (sorted): each has
    /// an abstract principal in every answer's universe.
    #[must_use]
    pub fn org_accounts_outside_iam(&self) -> &[String] {
        &self.org_outside_iam
    }

    /// The assumptions of the who-can answers about this world, built once.
    pub(crate) fn world_assumptions(&self, world: &World) -> &super::WorldAssumptions {
        self.world_assumptions.get_or_init(|| super::world_assumptions(world))
    }

    /// Users and roles of an account.
    #[must_use]
    pub fn of_account(&self, account: &str) -> &[Who] {
        self.by_account.get(account).map_or(&[], Vec::as_slice)
    }

    /// Who of the world (users, roles, root users) can assume role `role` under some context,
    /// with the trust-policy reference; computed once per role.
    pub fn assumers(&self, world: &World, role: usize) -> &[(Who, String)] {
        let Some(cell) = self.assumers.get(role) else { return &[] };
        cell.get_or_init(|| {
            let Some(r) = world.roles.get(role) else { return Vec::new() };
            let trusted = super::graph::trusted_accounts(world, r);
            let mut whos: Vec<Who> = Vec::new();
            for (ai, a) in self.accounts.iter().enumerate() {
                if trusted.as_ref().is_some_and(|t| !t.contains(a)) {
                    continue;
                }
                whos.extend(self.of_account(a).iter().copied().filter(|w| *w != Who::Role(role)));
                whos.push(Who::Root(ai));
            }
            // Necessary (semantics.md §2.4 applied to trust policies): an identity statement that
            // could allow `sts:AssumeRole` on the role, or a trust statement naming the principal
            // itself (enough within the role's account).
            let trust = r.trust.as_ref().and_then(|s| world.slot(s));
            let named_directly = |w: Who| {
                let caller = self.caller(world, w);
                trust.is_none_or(|t| {
                    t.policy.statements.iter().filter(|st| st.effect == Effect::Allow).any(|st| {
                        st.principal.as_ref().is_some_and(|p| {
                            matches!(
                                match_principals(p, &caller, world),
                                PrincipalMatch::Direct | PrincipalMatch::DirectLimited
                            )
                        })
                    })
                })
            };
            whos.retain(|w| self.identity_may_allow(world, *w, "sts:AssumeRole", &r.arn) || named_directly(*w));
            let found: Vec<Option<(Who, String)>> = {
                use rayon::prelude::*;
                whos.par_iter()
                    .map(|w| {
                        let cand = super::candidate(world, self, *w);
                        super::graph::can_assume(world, &cand, r).map(|reference| (*w, reference))
                    })
                    .collect()
            };
            found.into_iter().flatten().collect()
        })
    }
}

/// What a key's policy and grants say about who could be let in for one action.
pub struct KeyScope<'w> {
    /// `false`: no filtering (unknown policy, an action that is not about keys, retiring).
    prune: bool,
    key_account: &'w str,
    key_arn: &'w str,
    action: &'w str,
    /// An Allow names `*` or uses `NotPrincipal`.
    everyone: bool,
    /// Accounts named as a whole (delegation to their IAM).
    accounts: BTreeSet<&'w str>,
    /// Accounts with principals named one by one, and the principal elements to match.
    named: BTreeSet<&'w str>,
    principals: Vec<&'w Principals>,
    /// The key, its grants for the action (with their positions among its grants), and the
    /// accounts of their grantees.
    key: Option<&'w crate::world::Key>,
    grants: Vec<(usize, &'w Grant)>,
    grant_accounts: BTreeSet<&'w str>,
}

impl<'w> KeyScope<'w> {
    /// The scope of `world.keys[key]` for `action` (canonical, `kms:` prefixed).
    #[must_use]
    pub fn new(world: &'w World, key: usize, action: &'w str) -> Self {
        let mut s = KeyScope {
            prune: false,
            key_account: "",
            key_arn: "",
            action,
            everyone: false,
            accounts: BTreeSet::new(),
            named: BTreeSet::new(),
            principals: Vec::new(),
            key: None,
            grants: Vec::new(),
            grant_accounts: BTreeSet::new(),
        };
        let Some(k) = world.keys.get(key) else { return s };
        s.key_account = &k.account;
        s.key_arn = &k.arn;
        let Some(entry) = k.policy.as_ref().and_then(|p| world.slot(p)) else { return s };
        let Some(info) = catalog().action(action) else { return s };
        let short = action.strip_prefix("kms:").unwrap_or(action);
        if info.resource == ResourceKind::None || short == "RetireGrant" {
            return s;
        }
        s.prune = true;
        for st in entry.policy.statements.iter().filter(|st| st.effect == Effect::Allow && !st.broken) {
            if !action_applies(st, action) {
                continue;
            }
            let Some(p) = &st.principal else { continue };
            if p.negated {
                s.everyone = true;
                continue;
            }
            let mut specific = false;
            for e in &p.entries {
                match &e.principal {
                    PrincipalRef::Anyone => s.everyone = true,
                    PrincipalRef::Account(a) => {
                        s.accounts.insert(a);
                    }
                    // Services and anything without an account match no user, role or root.
                    other => {
                        if let Some(a) = other.account() {
                            s.named.insert(a);
                            specific = true;
                        }
                    }
                }
            }
            if specific {
                s.principals.push(p);
            }
        }
        s.key = Some(k);
        for (gi, g) in k.grants.iter().flatten().enumerate().filter(|(_, g)| g.operations.iter().any(|o| o == short)) {
            if let Some(a) = crate::policy::arn::Arn::parse(&g.grantee) {
                s.grant_accounts.insert(a.account);
                s.grants.push((gi, g));
            } else if g.grantee.chars().all(|c| c.is_ascii_digit()) {
                s.grant_accounts.insert(&g.grantee);
                s.grants.push((gi, g));
            }
        }
        s
    }

    /// The users, roles and root users [`KeyScope::admits`], in order. Only those that can pass
    /// are looked at: the key's account, the accounts named one by one, as a whole or as
    /// grantees, the root users, and, when a statement names everyone, those whose KMS
    /// statements can name a key of the key's account for the action ([`Reach::touching_for`]).
    #[must_use]
    pub fn admitted(&self, world: &World, reach: &Reach) -> Vec<Who> {
        let mut pool = self.pool(world, reach, None);
        pool.retain(|w| self.admits(world, reach, *w));
        pool
    }

    /// The users, roles and root users of the accounts `accounts` admits (all when `None`)
    /// that [`KeyScope::admits`] needs to look at (in order): every one it admits is among them.
    #[must_use]
    pub fn pool(&self, world: &World, reach: &Reach, accounts: Option<&(dyn Fn(&str) -> bool + Sync)>) -> Vec<Who> {
        let in_accounts = |w: &Who| accounts.is_none_or(|f| f(reach.account(world, *w)));
        if !self.prune {
            let mut all = reach.everyone();
            all.retain(in_accounts);
            return all;
        }
        let mut pool: Vec<Who> = reach.of_account(self.key_account).to_vec();
        for a in self.named.iter().chain(&self.grant_accounts) {
            pool.extend_from_slice(reach.of_account(a));
        }
        if self.everyone {
            pool.extend(reach.touching_for(world, self.key_account, self.action));
            pool.extend((0..reach.accounts.len()).map(Who::Root));
        } else {
            // Without `*`, only principals of these accounts can be admitted (`admits`); a root
            // user is named only as its account (`Account`) or as a grantee.
            for a in &self.accounts {
                pool.extend_from_slice(reach.of_account(a));
            }
            let named = self.accounts.iter().chain(&self.named).chain(&self.grant_accounts);
            pool.extend(
                named.filter_map(|a| reach.accounts.binary_search_by(|x| x.as_str().cmp(a)).ok()).map(Who::Root),
            );
        }
        pool.retain(in_accounts);
        pool.sort_unstable();
        pool.dedup();
        pool
    }

    /// Could `authorize` allow the action to this principal under some context? A grant naming
    /// it, or a key-policy statement naming it (directly: enough in the key's account; through
    /// its account: IAM must allow too) with an identity statement that could allow the action.
    #[must_use]
    pub fn admits(&self, world: &World, reach: &Reach, who: Who) -> bool {
        if !self.prune {
            return true;
        }
        let account = reach.account(world, who);
        let named = self.named.contains(account);
        let granted = self.grant_accounts.contains(account);
        let caller = (named || granted).then(|| reach.caller(world, who));
        if let Some(c) = caller.as_ref().filter(|_| granted) {
            let grantees = self.key.map(|k| crate::eval::authorize::GranteeMatcher::new(world, k, c));
            if grantees.is_some_and(|m| self.grants.iter().any(|(gi, g)| m.grade(*gi, g) != PrincipalMatch::None)) {
                return true;
            }
        }
        let mut grade = PrincipalMatch::None;
        if self.everyone {
            grade = PrincipalMatch::Direct;
        } else if self.accounts.contains(account) {
            grade = PrincipalMatch::Account;
        }
        if let Some(c) = caller.as_ref().filter(|_| named && grade != PrincipalMatch::Direct) {
            grade = self.principals.iter().map(|p| match_principals(p, c, world)).fold(grade, std::cmp::max);
        }
        let identity = || reach.identity_may_allow(world, who, self.action, self.key_arn);
        match grade {
            PrincipalMatch::None => false,
            PrincipalMatch::Direct | PrincipalMatch::DirectLimited => account == self.key_account || identity(),
            PrincipalMatch::Account => identity(),
        }
    }
}
