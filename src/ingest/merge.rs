//! Merging the per-file partial worlds, in sorted path order, into one world; then what
//! can only be said about the whole: the ARNs of loose keys, IAM completeness, placement in
//! the organization, and the assumptions about what was not collected.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::part::{split_key_arn, LooseKey, Part};
use super::LoadOptions;
use crate::policy::model::PolicyId;
use crate::source::SourceId;
use crate::world::{InputError, Key, Organization, Origin, PolicySlot, World};

/// Source and policy ids of one part, mapped to the merged world.
struct Remap {
    sources: Vec<SourceId>,
    policies: Vec<PolicyId>,
}

impl Remap {
    fn source(&self, id: SourceId) -> SourceId {
        self.sources.get(id.0 as usize).copied().unwrap_or(id)
    }

    fn slot(&self, slot: &mut PolicySlot) {
        if let PolicySlot::Known(id) = slot {
            *id = self.policies.get(id.0 as usize).copied().unwrap_or(*id);
        }
    }

    fn slots(&self, slots: &mut [PolicySlot]) {
        for s in slots {
            self.slot(s);
        }
    }

    fn origin(&self, o: &mut Origin) {
        if let Some(s) = o.source {
            o.source = Some(self.source(s));
        }
    }
}

/// What the merge collects for the final pass.
#[derive(Default)]
struct Pending {
    /// (account, truncated, path) of each IAM listing page.
    iam_pages: Vec<(String, bool, String)>,
    /// Snapshot ids read from `describe-snapshots`.
    described_snapshots: BTreeSet<String>,
    /// Snapshot ids read from an `ec2 describe-snapshots` output (not Terraform), and those whose
    /// `createVolumePermission` attribute was read: a described snapshot without its attribute
    /// has unknown sharing, not none.
    cli_described_snapshots: BTreeSet<String>,
    attribute_snapshots: BTreeSet<String>,
    /// ARNs already merged, per kind (keeps merging linear in the number of objects).
    seen: std::collections::HashSet<(u8, String)>,
    /// Position of each merged key by ARN.
    key_at: std::collections::HashMap<String, usize>,
}

/// Merges the parts (already in sorted path order) and finishes the world.
pub(crate) fn merge(parts: Vec<Part>, errors: Vec<InputError>, opts: &LoadOptions) -> World {
    let mut w = World { errors, ..World::default() };
    let loose: usize = parts.iter().map(|p| p.loose_keys.len()).sum();
    let key_arn = match &opts.key_arn {
        Some(a) if loose == 1 => Some(a.clone()),
        Some(a) => {
            w.assumptions.push(format!(
                "`--key-arn {a}` ignored: it names the key of exactly one loose key policy, and {loose} were given"
            ));
            None
        }
        None => None,
    };
    let mut pending = Pending::default();
    for part in parts {
        merge_part(&mut w, part, key_arn.as_deref(), &mut pending);
    }
    finish(&mut w, opts, &pending);
    w
}

/// Settles the ARN of each loose key of a part: `--key-arn`, or the provisional ARN made
/// unique against the keys already merged.
fn settle_loose_keys(w: &World, part: &mut Part, key_arn: Option<&str>) {
    let loose: Vec<LooseKey> = std::mem::take(&mut part.loose_keys);
    for lk in loose {
        let target = match key_arn {
            Some(a) => a.to_string(),
            None => {
                if let Some(note) = &lk.account_note {
                    part.w.assumptions.push(note.clone());
                }
                let taken = |arn: &str| {
                    w.keys.iter().any(|k| k.arn == arn && k.policy.is_some())
                        || part.w.keys.iter().any(|k| k.arn == arn && k.arn != lk.arn)
                };
                let mut arn = lk.arn.clone();
                let mut n = 2;
                while taken(&arn) {
                    arn = format!("{}-{n}", lk.arn);
                    n += 1;
                }
                if arn != lk.arn {
                    part.w.assumptions.push(format!(
                        "another key policy was already read as `{}`: the key policy in `{}` is read as `{arn}`",
                        lk.arn, part.path
                    ));
                }
                arn
            }
        };
        if target == lk.arn {
            continue;
        }
        let (account, region, id) = split_key_arn(&target);
        for k in part.w.keys.iter_mut().filter(|k| k.arn == lk.arn) {
            k.arn.clone_from(&target);
            k.account.clone_from(&account);
            k.region.clone_from(&region);
            k.id.clone_from(&id);
            if let Some(PolicySlot::Known(pid)) = &k.policy {
                if let Some(e) = part.w.policies.get_mut(pid.0 as usize) {
                    e.account = Some(account.clone()).filter(|a| !a.is_empty());
                }
            }
        }
        for d in &mut part.w.diagnostics {
            if d.resource.as_deref() == Some(lk.arn.as_str()) {
                d.resource = Some(target.clone());
            }
        }
        if !account.is_empty() {
            part.w.touch_account(&account);
        }
    }
}

fn merge_part(w: &mut World, mut part: Part, key_arn: Option<&str>, pending: &mut Pending) {
    settle_loose_keys(w, &mut part, key_arn);
    let pw = part.w;

    // Sources: re-added in order, embedded ones under their remapped parent.
    let mut remap = Remap { sources: Vec::new(), policies: Vec::new() };
    for i in 0..pw.sources.len() {
        let Some(src) = pw.sources.get(SourceId(u32::try_from(i).unwrap_or(u32::MAX))) else { continue };
        let id = match &src.embedding {
            None => w.sources.add_file(src.name.clone(), Arc::clone(&src.text)),
            Some(e) => w.sources.add_embedded(
                remap.source(e.parent),
                src.pointer.clone().unwrap_or_default(),
                src.text.to_string(),
                e.map.clone(),
            ),
        };
        remap.sources.push(id);
    }
    for mut entry in pw.policies {
        entry.policy.source = remap.source(entry.policy.source);
        let id = w.add_policy(entry);
        remap.policies.push(id);
    }
    for mut d in pw.diagnostics {
        d.source = remap.source(d.source);
        w.diagnostics.push(d);
    }
    w.files.extend(pw.files);
    w.errors.extend(pw.errors);
    w.assumptions.extend(pw.assumptions);
    for (id, a) in pw.accounts {
        let e = w.touch_account(&id);
        e.iam_complete |= a.iam_complete;
        e.kms_collected |= a.kms_collected;
    }
    if let Some(org) = pw.org {
        merge_org(w, org);
    }
    for (id, mut op) in pw.org_policies {
        remap.slot(&mut op.policy);
        remap.origin(&mut op.origin);
        match w.org_policies.get_mut(&id) {
            Some(e) if matches!(e.policy, PolicySlot::Unknown(_)) && matches!(op.policy, PolicySlot::Known(_)) => {
                *e = op
            }
            Some(_) => {}
            None => {
                w.org_policies.insert(id, op);
            }
        }
    }
    for mut u in pw.users {
        remap.slots(&mut u.inline);
        remap.origin(&mut u.origin);
        if pending.seen.insert((0, u.arn.clone())) {
            w.users.push(u);
        }
    }
    for mut g in pw.groups {
        remap.slots(&mut g.inline);
        if pending.seen.insert((1, g.arn.clone())) {
            w.groups.push(g);
        }
    }
    for mut r in pw.roles {
        remap.slots(&mut r.inline);
        if let Some(t) = &mut r.trust {
            remap.slot(t);
        }
        remap.origin(&mut r.origin);
        if pending.seen.insert((2, r.arn.clone())) {
            w.roles.push(r);
        }
    }
    for (arn, mut mp) in pw.managed_policies {
        remap.slot(&mut mp.policy);
        match w.managed_policies.get_mut(&arn) {
            Some(e) if matches!(e.policy, PolicySlot::Unknown(_)) && matches!(mp.policy, PolicySlot::Known(_)) => {
                *e = mp
            }
            Some(_) => {}
            None => {
                w.managed_policies.insert(arn, mp);
            }
        }
    }
    for id in pw.loose_identity {
        w.loose_identity.push(remap.policies.get(id.0 as usize).copied().unwrap_or(id));
    }
    for id in pw.loose_trust {
        w.loose_trust.push(remap.policies.get(id.0 as usize).copied().unwrap_or(id));
    }
    for mut k in pw.keys {
        if let Some(s) = &mut k.policy {
            remap.slot(s);
        }
        remap.origin(&mut k.origin);
        for g in k.grants.iter_mut().flatten() {
            remap.origin(&mut g.origin);
        }
        merge_key(w, k, &part.path, &mut pending.key_at);
    }
    for mut a in pw.aliases {
        remap.origin(&mut a.origin);
        if pending.seen.insert((3, a.arn.clone())) {
            w.aliases.push(a);
        }
    }
    for mut b in pw.buckets {
        remap.origin(&mut b.origin);
        match w.buckets.iter_mut().find(|e| e.name == b.name && e.account == b.account) {
            Some(e) => {
                e.kms_key = e.kms_key.take().or(b.kms_key);
                e.sse_algorithm = e.sse_algorithm.take().or(b.sse_algorithm);
                e.bucket_key_enabled = e.bucket_key_enabled.or(b.bucket_key_enabled);
                for r in b.replication {
                    if !e.replication.contains(&r) {
                        e.replication.push(r);
                    }
                }
            }
            None => w.buckets.push(b),
        }
    }
    for mut t in pw.tables {
        remap.origin(&mut t.origin);
        if pending.seen.insert((4, t.arn.clone())) {
            w.tables.push(t);
        }
    }
    let attribute_part = part.kind == "ec2-describe-snapshot-attribute";
    let describe_part = part.kind == "ec2-describe-snapshots";
    for mut s in pw.snapshots {
        remap.origin(&mut s.origin);
        let attribute_only = attribute_part || part.shared_only_snapshots.contains(&s.id);
        if !attribute_only {
            pending.described_snapshots.insert(s.id.clone());
        }
        if describe_part {
            pending.cli_described_snapshots.insert(s.id.clone());
        }
        if attribute_part {
            pending.attribute_snapshots.insert(s.id.clone());
        }
        match w.snapshots.iter_mut().find(|e| e.id == s.id) {
            Some(e) => {
                for x in s.shared_with {
                    if !e.shared_with.contains(&x) {
                        e.shared_with.push(x);
                    }
                }
                if !attribute_only {
                    e.encrypted = s.encrypted;
                    e.kms_key = s.kms_key;
                    e.account = s.account;
                    e.region = s.region;
                    e.origin = s.origin;
                }
            }
            None => w.snapshots.push(s),
        }
    }
    for page in part.iam_pages {
        pending.iam_pages.push((page.account, page.truncated, part.path.clone()));
    }
}

fn merge_key(w: &mut World, k: Key, path: &str, key_at: &mut std::collections::HashMap<String, usize>) {
    let Some(e) = key_at.get(&k.arn).and_then(|i| w.keys.get_mut(*i)) else {
        key_at.insert(k.arn.clone(), w.keys.len());
        w.keys.push(k);
        return;
    };
    let known = |s: &Option<PolicySlot>| matches!(s, Some(PolicySlot::Known(_)));
    match (&e.policy, &k.policy) {
        (_, None) => {}
        (None, Some(_)) => {
            e.policy = k.policy;
            e.origin = k.origin.clone();
        }
        (Some(_), Some(_)) if !known(&e.policy) && known(&k.policy) => {
            e.policy = k.policy;
            e.origin = k.origin.clone();
        }
        (Some(_), Some(_)) => {
            let msg = format!("`{}` has two key policies: the one in `{path}` was ignored", e.arn);
            w.assumptions.push(msg);
        }
    }
    if e.metadata.is_none() {
        e.metadata = k.metadata;
    }
    if e.rotation.is_none() {
        e.rotation = k.rotation;
    }
    if e.tags.is_none() {
        e.tags = k.tags;
    }
    match (&mut e.grants, k.grants) {
        (Some(have), Some(more)) => {
            let mut ids: std::collections::HashSet<String> = have.iter().map(|h| h.id.clone()).collect();
            for g in more {
                if g.id.is_empty() || ids.insert(g.id.clone()) {
                    have.push(g);
                }
            }
        }
        (None, Some(more)) => e.grants = Some(more),
        (_, None) => {}
    }
    e.bypass_lockout_check |= k.bypass_lockout_check;
    e.deletion_window_days = e.deletion_window_days.or(k.deletion_window_days);
    if e.origin.source.is_none() {
        e.origin = k.origin;
    }
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

fn merge_org(w: &mut World, src: Organization) {
    let mut note = None;
    let org = w.org.get_or_insert_with(Organization::default);
    if org.id.is_empty() {
        org.id = src.id;
    } else if !src.id.is_empty() && src.id != org.id {
        note =
            Some(format!("the inputs describe two organizations, `{}` and `{}`: read as `{}`", org.id, src.id, org.id));
    }
    if org.management_account.is_none() {
        org.management_account = src.management_account;
    }
    for r in &src.roots {
        push_unique(&mut org.roots, r);
    }
    for (c, p) in src.parents {
        org.parents.entry(c).or_insert(p);
    }
    for a in &src.accounts {
        push_unique(&mut org.accounts, a);
    }
    for (t, ps) in src.attachments {
        let list = org.attachments.entry(t).or_default();
        for p in &ps {
            push_unique(list, p);
        }
    }
    org.attachments_complete |= src.attachments_complete;
    org.scp_enabled = org.scp_enabled.or(src.scp_enabled);
    org.rcp_enabled = org.rcp_enabled.or(src.rcp_enabled);
    if let Some(n) = note {
        w.assumptions.push(n);
    }
}

/// Options that describe the organization, completeness, placement, and the assumptions
/// about what was not collected; then the final sort.
fn finish(w: &mut World, opts: &LoadOptions, pending: &Pending) {
    if opts.org_id.is_some() || !opts.org_accounts.is_empty() {
        let src = Organization {
            id: opts.org_id.clone().unwrap_or_default(),
            accounts: opts.org_accounts.clone(),
            ..Organization::default()
        };
        merge_org(w, src);
        for a in &opts.org_accounts {
            w.touch_account(a);
        }
    }
    let mut notes = Vec::new();
    if let Some(org) = &w.org {
        if org.id.is_empty() {
            notes.push(
                "the id of the organization is not in the inputs (`describe-organization`): give it with `--org-id`"
                    .to_string(),
            );
        }
        let root = match org.roots.as_slice() {
            [r] => format!(" `{r}`"),
            _ => String::new(),
        };
        for a in &org.accounts {
            if !org.parents.contains_key(a) {
                notes.push(format!(
                    "account `{a}` is not placed by any `list-accounts-for-parent.json`: assumed to sit directly under the root{root}"
                ));
            }
        }
    }

    // IAM completeness: a listing is complete when one of its pages is the last one.
    let mut complete: BTreeMap<&str, bool> = BTreeMap::new();
    for (acct, truncated, path) in &pending.iam_pages {
        let c = complete.entry(acct.as_str()).or_insert(false);
        *c |= !truncated;
        if *truncated {
            notes.push(format!(
                "`{path}` is a truncated page of the IAM listing of `{acct}` (`IsTruncated: true`): the listing is complete only if every page was given"
            ));
        }
    }
    for (acct, c) in &complete {
        if *c {
            w.touch_account(acct).iam_complete = true;
        } else {
            notes.push(format!("the IAM listing of `{acct}` is incomplete: principals not listed may exist"));
        }
    }

    // Keys: what was not collected.
    let mut key_accounts = BTreeSet::new();
    for k in &w.keys {
        if k.policy.is_none() {
            notes.push(format!("key policy of `{}` not collected", k.arn));
        }
        if k.metadata.is_none() {
            notes.push(format!(
                "metadata of `{}` not collected: assumed an enabled symmetric customer managed key",
                k.arn
            ));
        }
        if k.grants.is_none() {
            notes.push(format!("grants of `{}` not collected", k.arn));
        }
        if !k.account.is_empty() {
            key_accounts.insert(k.account.clone());
        }
    }
    for a in &key_accounts {
        if !complete.contains_key(a.as_str()) {
            notes.push(format!(
                "principals and identity policies of `{a}` not collected (no IAM authorization details)"
            ));
        }
        w.touch_account(a);
    }
    for s in &w.snapshots {
        if !pending.described_snapshots.contains(&s.id) {
            notes.push(format!("encryption of snapshot `{}` not collected (no `describe-snapshots.json`)", s.id));
        }
        if pending.cli_described_snapshots.contains(&s.id) && !pending.attribute_snapshots.contains(&s.id) {
            notes.push(format!("sharing of snapshot `{}` not collected (no `describe-snapshot-attribute.json`)", s.id));
        }
    }
    w.assumptions.extend(notes);
    w.assumptions.sort();
    w.assumptions.dedup();
    w.errors.sort();
    w.files.sort();
}
