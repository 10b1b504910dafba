use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use super::iam_decrypt_on_all_keys::{
    action_list, describes_key, distinct, identity_applies_in, key_context, probe_caller, probe_key,
};
use super::rule::{declare_rule, Rule, RuleContext, RuleMeta};
use crate::catalog::{catalog, ResourceKind};
use crate::eval::authorize::{authorize, identity_slots, statement_applies, Decision, Request};
use crate::eval::context::Context;
use crate::eval::principal::{Caller, PrincipalMatch};
use crate::policy::model::{Effect, PolicyId};
use crate::report::finding::Finding;
use crate::solve::reach::Who;
use crate::world::{Key, PolicyEntry, PolicySlot, World};

declare_rule! {
    /// ## What it does
    /// Flags an identity policy statement that allows a KMS action on a specific key of its own
    /// account (the statement names the key, or selects it by tag or alias) while the key policy
    /// does not delegate that action to the account: the classic "AccessDenied although IAM
    /// allows it".
    ///
    /// For every principal of the world and every statement of its identity policies, the rule
    /// asks the evaluator which KMS actions the statement allows on each key of the principal's
    /// account (conditions on the caller and the request aside; conditions on the key's tags and
    /// aliases are evaluated). A statement that also covers a fresh key nobody named
    /// (`"Resource": "*"`) is not about this key and is left out. The finding is reported when no
    /// `Allow` statement of the key policy applies to the account (`arn:aws:iam::ACCT:root`) for
    /// the action, conditions aside, and the who-can answer confirms that the principal cannot
    /// perform the action at all (not named directly, no grant). Identity policies read from
    /// loose files count as held by a principal of their account that the key policy does not
    /// name.
    ///
    /// ## Why is this bad?
    /// A key policy is the primary authority over a key: IAM policies of the key's account only
    /// take effect when the key policy allows the account principal. The identity policy looks
    /// like it grants access but does nothing, which usually means a broken deployment (the
    /// application fails with `AccessDeniedException`) or a key policy that was tightened without
    /// cleaning up the IAM side. Either the key policy should delegate, or the dead statement
    /// should go.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "format_version": "1.2",
    ///   "terraform_version": "1.9.5",
    ///   "planned_values": {
    ///     "root_module": {
    ///       "resources": [
    ///         {
    ///           "address": "aws_kms_key.orders",
    ///           "type": "aws_kms_key",
    ///           "name": "orders",
    ///           "values": {
    ///             "arn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///             "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Admins\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:role/KeyAdmin\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}"
    ///           }
    ///         },
    ///         {
    ///           "address": "aws_iam_role.app",
    ///           "type": "aws_iam_role",
    ///           "name": "app",
    ///           "values": {
    ///             "arn": "arn:aws:iam::111122223333:role/OrdersApp",
    ///             "name": "OrdersApp",
    ///             "assume_role_policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}",
    ///             "inline_policy": [
    ///               {
    ///                 "name": "use-orders-key",
    ///                 "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"UseKey\",\"Effect\":\"Allow\",\"Action\":\"kms:Decrypt\",\"Resource\":\"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"}]}"
    ///               }
    ///             ]
    ///           }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```json
    /// {
    ///   "format_version": "1.2",
    ///   "terraform_version": "1.9.5",
    ///   "planned_values": {
    ///     "root_module": {
    ///       "resources": [
    ///         {
    ///           "address": "aws_kms_key.orders",
    ///           "type": "aws_kms_key",
    ///           "name": "orders",
    ///           "values": {
    ///             "arn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ///             "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Admins\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:role/KeyAdmin\"},\"Action\":\"kms:*\",\"Resource\":\"*\"},{\"Sid\":\"EnableIAMPolicies\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":[\"kms:Decrypt\",\"kms:DescribeKey\"],\"Resource\":\"*\"}]}"
    ///           }
    ///         },
    ///         {
    ///           "address": "aws_iam_role.app",
    ///           "type": "aws_iam_role",
    ///           "name": "app",
    ///           "values": {
    ///             "arn": "arn:aws:iam::111122223333:role/OrdersApp",
    ///             "name": "OrdersApp",
    ///             "assume_role_policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}",
    ///             "inline_policy": [
    ///               {
    ///                 "name": "use-orders-key",
    ///                 "policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"UseKey\",\"Effect\":\"Allow\",\"Action\":\"kms:Decrypt\",\"Resource\":\"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"}]}"
    ///               }
    ///             ]
    ///           }
    ///         }
    ///       ]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Known limitations
    /// Statements of identity policies that are unknown (a Terraform value known only after
    /// apply, a managed policy that is not in the inputs) cannot be read and are not reported.
    /// Foreign accounts are the subject of `KP202`.
    ///
    /// ## References
    /// - [Key policies: allowing IAM policies to grant access](https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam)
    /// - [Using IAM policies with AWS KMS](https://docs.aws.amazon.com/kms/latest/developerguide/iam-policies.html)
    /// - [Troubleshooting key access](https://docs.aws.amazon.com/kms/latest/developerguide/policy-evaluation.html)
    pub InertIamGrant {
        id: "KP201",
        name: "inert-iam-grant",
        category: Correctness,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for InertIamGrant {
    fn by_key(&self) -> bool {
        true
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for f in one_sided_allows(cx, Side::SameAccount) {
            let key = f.key;
            let message = format!(
                "{} allows {} on `{}`, but the key policy does not delegate {} to account `{}`: the allow has no effect",
                f.subject(),
                action_list(&f.actions),
                key.arn,
                if f.actions.len() == 1 { "it" } else { "them" },
                key.account,
            );
            out.push(f.into_finding(self, cx, message, "let the key policy allow the account principal (`arn:aws:iam::ACCT:root`) these actions, or remove the statement"));
        }
    }
}

/// Which identity statements [`one_sided_allows`] looks at.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// Principals of the key's account (KP201): the key policy does not delegate to the account.
    SameAccount,
    /// Principals of other accounts (KP202): the key policy does not trust the account at all.
    CrossAccount,
}

/// Someone who holds identity policies: a user or role of the world, or the loose identity
/// policies (held by any caller not in the world).
pub(super) struct Holder {
    /// The user or role (none for loose policies).
    pub who: Option<Who>,
    /// ARN (empty for loose policies).
    pub name: String,
    /// Account (for loose policies: the policy's account, if any).
    pub account: Option<String>,
    /// The caller the evaluator sees.
    pub caller: Option<Caller>,
    /// Known identity documents.
    pub docs: Vec<PolicyId>,
    /// False when some identity document is unknown or not in the inputs.
    pub complete: bool,
    /// The accounts whose keys an `Allow` statement of its documents may single out (`None`:
    /// any account): the statements that allow a key action and are not [`judged_alike`] for
    /// every key, by the account their resources name.
    pub singles_out: Option<BTreeSet<String>>,
}

impl Holder {
    /// Could an `Allow` statement of this holder single out a key of `account`?
    pub fn may_single_out(&self, account: &str) -> bool {
        self.singles_out.as_ref().is_none_or(|set| set.contains(account))
    }
}

/// Statements whose verdict does not depend on the key (no condition about the key, no
/// variables in the resource) and that name every key (`Resource: "*"`): judged alike for a
/// key and for a key nobody named.
fn judged_alike(st: &crate::policy::model::Statement, vars: bool) -> bool {
    let Some(res) = st.resource.as_ref().filter(|r| !r.negated) else { return false };
    let variable_resource = vars && res.items.iter().any(|r| r.value.contains("${"));
    !variable_resource && !st.conditions.iter().any(describes_key) && res.items.iter().any(|r| r.value == "*")
}

fn singles_out(world: &World, docs: &[PolicyId]) -> Option<BTreeSet<String>> {
    let actions = &key_actions(false);
    let statements = docs.iter().filter_map(|pid| world.policy(*pid)).flat_map(|e| {
        let vars = e.policy.variables_enabled();
        e.policy.statements.iter().filter(move |st| {
            st.effect == Effect::Allow
                && !st.broken
                && !judged_alike(st, vars)
                && actions.iter().any(|a| crate::eval::authorize::action_applies(st, a))
        })
    });
    let accounts = crate::solve::reach::statements_resource_accounts(statements.map(Some))?;
    Some(accounts.into_iter().map(str::to_string).collect())
}

/// [`holders`], built once per run ([`RuleContext::shared`]), with lookups by account.
pub(super) struct Holders {
    pub list: Vec<Holder>,
    /// Account → positions of its users and roles in `list`.
    by_account: HashMap<String, Vec<usize>>,
    /// Account → [`Holders::order`], built when first asked.
    orders: Mutex<HashMap<String, Arc<[usize]>>>,
}

impl Holders {
    pub(super) fn new(world: &World) -> Self {
        let list = holders(world);
        let mut by_account: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, h) in list.iter().enumerate().filter(|(_, h)| h.caller.is_some()) {
            if let Some(a) = &h.account {
                by_account.entry(a.clone()).or_default().push(i);
            }
        }
        Holders { list, by_account, orders: Mutex::default() }
    }

    /// The users and roles of an account.
    pub(super) fn of_account(&self, account: &str) -> impl Iterator<Item = &Holder> {
        self.by_account.get(account).into_iter().flatten().filter_map(|i| self.list.get(*i))
    }

    /// The holders (positions in `list`) that may allow something on a key of `account` and
    /// not alike on every key of it, in order: those with an identity statement that could name
    /// a key of the account ([`crate::solve::reach::Reach::touching`]) and the loose documents,
    /// the ones that cannot single out a key of the account left out. Built once per account.
    fn order(&self, world: &World, account: &str) -> Arc<[usize]> {
        let known = self.orders.lock().unwrap_or_else(PoisonError::into_inner).get(account).cloned();
        if let Some(order) = known {
            return order;
        }
        let (nu, nr) = (world.users.len(), world.roles.len());
        let mut order: Vec<usize> = crate::solve::reach::reach(world)
            .touching(account)
            .filter_map(|w| match w {
                Who::User(i) => Some(i),
                Who::Role(i) => Some(nu + i),
                Who::Root(_) => None,
            })
            .collect();
        order.sort_unstable();
        order.dedup();
        order.extend(nu + nr..self.list.len());
        order.retain(|i| self.list.get(*i).is_some_and(|h| h.may_single_out(account)));
        let mut orders = self.orders.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(orders.entry(account.to_string()).or_insert_with(|| order.into()))
    }
}

/// Every user and role of the world with its identity documents, then one holder per loose
/// identity policy.
pub(super) fn holders(world: &World) -> Vec<Holder> {
    let mut out = Vec::new();
    let reach = crate::solve::reach::reach(world);
    let users = (0..world.users.len()).map(Who::User);
    let roles = (0..world.roles.len()).map(Who::Role);
    for who in users.chain(roles) {
        let caller = reach.caller(world, who);
        let name = match who {
            Who::User(i) => world.users.get(i).map(|u| u.arn.clone()),
            Who::Role(i) => world.roles.get(i).map(|r| r.arn.clone()),
            Who::Root(_) => None,
        }
        .unwrap_or_default();
        let slots = identity_slots(world, &caller);
        let mut docs = Vec::new();
        let mut complete = true;
        let managed = slots.managed.iter().map(|m| world.managed_policies.get(m).map(|mp| &mp.policy));
        for slot in slots.inline.iter().map(Some).chain(managed) {
            match slot {
                Some(PolicySlot::Known(id)) => docs.push(*id),
                Some(PolicySlot::Unknown(_)) | None => complete = false,
            }
        }
        let account = caller.account().map(str::to_string);
        let singles_out = singles_out(world, &docs);
        out.push(Holder { who: Some(who), name, account, caller: Some(caller), docs, complete, singles_out });
    }
    for id in &world.loose_identity {
        let account = world.policy(*id).and_then(|e| e.account.clone());
        let docs = vec![*id];
        let singles_out = singles_out(world, &docs);
        out.push(Holder { who: None, name: String::new(), account, caller: None, docs, complete: true, singles_out });
    }
    out
}

/// How each `Allow` statement of the key policy that applies to a caller for an action,
/// conditions aside, matches the caller (`Account` = delegation to the caller's account).
fn key_policy_grades(
    world: &World,
    key: &Key,
    kp: &PolicyEntry,
    caller: &Caller,
    action: &str,
    ctx: &Context,
) -> Vec<PrincipalMatch> {
    let q = crate::eval::authorize::StatementQuery::new(caller, action, &key.arn, true);
    let vars = kp.policy.variables_enabled();
    kp.policy
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
        .map(|s| statement_applies(world, s, &q, ctx, vars, &|_| false))
        .filter(|g| *g != PrincipalMatch::None)
        .collect()
}

/// The KMS actions authorised against a key.
pub(super) fn key_actions(cross_account_only: bool) -> Vec<&'static str> {
    catalog()
        .kms_actions()
        .iter()
        .filter(|a| a.resource != ResourceKind::None && !a.internal && (a.cross_account || !cross_account_only))
        .map(|a| a.name.as_str())
        .collect()
}

/// One identity statement that allows actions on a key that the key policy does not let through.
pub(super) struct OneSided<'w> {
    pub key: &'w Key,
    pub key_index: usize,
    pub policy_id: PolicyId,
    pub statement: usize,
    /// The identity policy's name.
    pub policy: String,
    pub actions: Vec<&'static str>,
    pub holders: Vec<String>,
    pub callers: Vec<Caller>,
    pub kp: PolicyId,
}

impl OneSided<'_> {
    /// ``identity policy `name` of `arn…` ``, with the number of other holders, for messages.
    pub fn subject(&self) -> String {
        match self.holders.as_slice() {
            [] => format!("identity policy `{}`", self.policy),
            [one] => format!("identity policy `{}` of `{one}`", self.policy),
            [one, rest @ ..] => format!(
                "identity policy `{}` of `{one}` (and {} other principal{})",
                self.policy,
                rest.len(),
                if rest.len() == 1 { "" } else { "s" }
            ),
        }
    }

    /// The finding on the statement, with the key policy as a label and a denied request as witness.
    pub fn into_finding(self, rule: &dyn RuleMeta, cx: &RuleContext<'_>, message: String, help: &str) -> Finding {
        let world = cx.world;
        let entry = world.policy(self.policy_id);
        let st = entry.and_then(|e| e.policy.statements.iter().find(|s| s.index == self.statement));
        let (span, pointer) = st.map_or_else(Default::default, |s| (s.span, s.pointer.clone()));
        let mut f = cx.finding(rule, self.policy_id, span, pointer, message).with_resource(Some(self.key.arn.clone()));
        if let Some(kp) = world.policy(self.kp) {
            f = f.with_label(cx.label(kp.policy.source, kp.policy.span, format!("key policy of `{}`", self.key.arn)));
        }
        let mut help = help.to_string();
        if let (Some(caller), Some(action)) = (self.callers.first(), self.actions.first()) {
            let req = Request {
                caller: caller.clone(),
                action: (*action).to_string(),
                key: self.key_index,
                context: Context::new(),
                via_alias: None,
                grant_tokens: Vec::new(),
                grant_id: None,
                assume_identity_allows: false,
            };
            let resp = authorize(world, &req);
            if resp.decision != Decision::Allow {
                let w = crate::solve::Witness {
                    principal: caller.arn(),
                    action: (*action).to_string(),
                    context: BTreeMap::new(),
                    assume_identity_allows: false,
                };
                f = f.with_witness(serde_json::to_value(&w).unwrap_or_default());
                help = format!("{help} (the evaluator denies the request: {})", resp.explanation);
            }
        }
        let what = format!("{}\u{0}{}", self.key.arn, self.holders.join(","));
        distinct(f, &what).with_help(help)
    }
}

/// Identity statements that allow KMS actions on a specific key (not on every key) which the key
/// policy does not let the holder use: for [`Side::SameAccount`], no key-policy statement
/// delegates the action to the account; for [`Side::CrossAccount`], none applies to the holder's
/// account at all. In both cases the who-can answer must confirm the holder lacks the access.
pub(super) fn one_sided_allows<'w>(cx: &RuleContext<'w>, side: Side) -> Vec<OneSided<'w>> {
    let world: &'w World = cx.world;
    let shared = cx.shared(|| Holders::new(world));
    let holders = &shared.list;
    let actions = key_actions(side == Side::CrossAccount);
    let mut found: BTreeMap<(usize, PolicyId, usize), OneSided<'w>> = BTreeMap::new();
    for (ki, key) in cx.keys() {
        let Some(PolicySlot::Known(kp_id)) = &key.policy else { continue };
        let Some(kp) = world.policy(*kp_id) else { continue };
        let probe = probe_key(world, &key.account, &key.region);
        // Only holders with an identity statement that could name a key of this account (the
        // others allow nothing on it), and the loose documents; a holder whose statements are
        // judged alike for every key of this account allows nothing on this key that it does
        // not allow on any key: no one-sided allow on it.
        let order = shared.order(world, &key.account);
        // Statements whose verdict does not depend on the caller (no key conditions, no
        // variables in the resource) are judged once per key; documents made only of such
        // statements that do not single out this key are skipped for every later holder.
        let mut generic: BTreeSet<(PolicyId, usize)> = BTreeSet::new();
        let mut generic_docs: BTreeSet<PolicyId> = BTreeSet::new();
        for h in order.iter().filter_map(|i| holders.get(*i)) {
            let account = h.account.as_deref().unwrap_or(&key.account);
            let same = account == key.account;
            if same != (side == Side::SameAccount) {
                continue;
            }
            let caller = h.caller.clone().unwrap_or_else(|| probe_caller(account));
            let mut contexts: Option<(Context, Context)> = None;
            for &pid in &h.docs {
                if generic_docs.contains(&pid) {
                    continue;
                }
                let Some(entry) = world.policy(pid) else { continue };
                let vars = entry.policy.variables_enabled();
                let mut all_generic = true;
                for st in entry.policy.statements.iter().filter(|s| s.effect == Effect::Allow && !s.broken) {
                    let variable_resource =
                        vars && st.resource.iter().flat_map(|r| r.items.iter()).any(|r| r.value.contains("${"));
                    let independent = !variable_resource && !st.conditions.iter().any(describes_key);
                    if independent && generic.contains(&(pid, st.index)) {
                        continue;
                    }
                    let (key_ctx, probe_ctx) = contexts
                        .get_or_insert_with(|| (key_context(world, key, &caller), key_context(world, &probe, &caller)));
                    let allowed: Vec<&'static str> = actions
                        .iter()
                        .copied()
                        .filter(|a| identity_applies_in(world, st, vars, &caller, a, &key.arn, key_ctx, &describes_key))
                        .collect();
                    // A statement that also covers a key nobody named is not about this key.
                    let not_about_key = allowed.first().is_none_or(|first| {
                        identity_applies_in(world, st, vars, &caller, first, &probe.arn, probe_ctx, &describes_key)
                    });
                    if not_about_key {
                        if independent {
                            generic.insert((pid, st.index));
                        } else {
                            all_generic = false;
                        }
                        continue;
                    }
                    all_generic = false;
                    let key_ctx = &*key_ctx;
                    let blocked: Vec<&'static str> = allowed
                        .into_iter()
                        .filter(|a| {
                            let grades = key_policy_grades(world, key, kp, &caller, a, key_ctx);
                            let lets_through = match side {
                                Side::SameAccount => grades.contains(&PrincipalMatch::Account),
                                Side::CrossAccount => !grades.is_empty(),
                            };
                            if lets_through {
                                return false;
                            }
                            if h.caller.is_none() {
                                // A loose policy's holder is named by no statement and holds no grant.
                                return grades.is_empty();
                            }
                            !cx.who_can(ki, a, true).principals.iter().any(|e| e.principal == h.name)
                        })
                        .collect();
                    if blocked.is_empty() {
                        continue;
                    }
                    let e = found.entry((ki, pid, st.index)).or_insert_with(|| OneSided {
                        key,
                        key_index: ki,
                        policy_id: pid,
                        statement: st.index,
                        policy: entry.name.clone(),
                        actions: Vec::new(),
                        holders: Vec::new(),
                        callers: Vec::new(),
                        kp: *kp_id,
                    });
                    let mut acts: BTreeSet<&'static str> = e.actions.iter().copied().collect();
                    acts.extend(blocked);
                    e.actions = actions.iter().copied().filter(|a| acts.contains(a)).collect();
                    if !h.name.is_empty() {
                        e.holders.push(h.name.clone());
                    }
                    e.callers.push(caller.clone());
                }
                if all_generic {
                    generic_docs.insert(pid);
                }
            }
        }
    }
    found.into_values().collect()
}
