//! IAM roles, users, groups, their inline and managed policies and attachments, group
//! memberships; Organizations SCPs and RCPs and their attachments.

use super::{origin, policy_slot, tags, unknown_note, DocRole, Field, Res, Tf, Val};
use crate::ingest::part::Part;
use crate::policy::arn::is_account_id;
use crate::policy::model::DocKind;
use crate::world::{Group, ManagedPolicy, OrgPolicy, Origin, PolicySlot, Role, User};

pub(super) fn load(p: &mut Part, tf: &Tf<'_>) {
    for r in tf.of(&["aws_iam_role"]) {
        role(p, tf, r);
    }
    for r in tf.of(&["aws_iam_user"]) {
        user(p, tf, r);
    }
    for r in tf.of(&["aws_iam_group"]) {
        group(p, tf, r);
    }
    for r in tf.of(&["aws_iam_policy"]) {
        managed_policy(p, tf, r);
    }
    for r in tf.of(&["aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy"]) {
        inline_policy(p, tf, r);
    }
    for r in tf.of(&[
        "aws_iam_role_policy_attachment",
        "aws_iam_user_policy_attachment",
        "aws_iam_group_policy_attachment",
        "aws_iam_policy_attachment",
    ]) {
        attachment(p, tf, r);
    }
    for r in tf.of(&["aws_iam_group_membership", "aws_iam_user_group_membership"]) {
        membership(p, tf, r);
    }
    for r in tf.of(&["aws_organizations_policy"]) {
        org_policy(p, tf, r);
    }
    for r in tf.of(&["aws_organizations_policy_attachment"]) {
        org_attachment(p, tf, r);
    }
}

/// Who holds identity policies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Holder {
    Role,
    User,
    Group,
}

impl Holder {
    fn as_str(self) -> &'static str {
        match self {
            Holder::Role => "role",
            Holder::User => "user",
            Holder::Group => "group",
        }
    }
}

/// A name given as a name or as an ARN (`arn:aws:iam::A:role/path/Name` → `Name`).
fn iam_name(s: &str) -> String {
    if s.starts_with("arn:") {
        s.rsplit('/').next().unwrap_or(s).to_string()
    } else {
        s.to_string()
    }
}

/// The role, user or group of this name in the resource's account, created (with an ARN
/// synthesized under path `/`) when the plan does not define it. Returns its ARN.
fn holder_arn(p: &mut Part, r: &Res<'_>, kind: Holder, given: &str) -> String {
    let name = iam_name(given);
    let acct = r.account.clone();
    let found = match kind {
        Holder::Role => {
            p.w.roles.iter().find(|x| x.account == acct && x.name.eq_ignore_ascii_case(&name)).map(|x| x.arn.clone())
        }
        Holder::User => p.w.users.iter().find(|x| x.account == acct && x.name == name).map(|x| x.arn.clone()),
        Holder::Group => p.w.groups.iter().find(|x| x.account == acct && x.name == name).map(|x| x.arn.clone()),
    };
    if let Some(a) = found {
        return a;
    }
    let arn = if given.starts_with("arn:") {
        given.to_string()
    } else {
        format!("arn:{}:iam::{acct}:{}/{name}", r.partition(), kind.as_str())
    };
    p.assume(format!(
        "`{}` names {} `{name}`, which the plan does not define: read as `{arn}`",
        r.address,
        kind.as_str()
    ));
    let o = Origin { source: Some(p.src), span: r.obj.span, pointer: r.ptr.clone(), tf_address: None };
    match kind {
        Holder::Role => p.w.roles.push(Role {
            arn: arn.clone(),
            account: acct,
            name,
            path: "/".into(),
            origin: o,
            ..Role::default()
        }),
        Holder::User => p.w.users.push(User {
            arn: arn.clone(),
            account: acct,
            name,
            path: "/".into(),
            origin: o,
            ..User::default()
        }),
        Holder::Group => p.w.groups.push(Group { arn: arn.clone(), account: acct, name, ..Group::default() }),
    }
    arn
}

/// Adds an inline policy to a holder.
fn push_inline(p: &mut Part, kind: Holder, arn: &str, slot: PolicySlot) {
    match kind {
        Holder::Role => p.w.roles.iter_mut().filter(|x| x.arn == arn).take(1).for_each(|x| x.inline.push(slot.clone())),
        Holder::User => p.w.users.iter_mut().filter(|x| x.arn == arn).take(1).for_each(|x| x.inline.push(slot.clone())),
        Holder::Group => {
            p.w.groups.iter_mut().filter(|x| x.arn == arn).take(1).for_each(|x| x.inline.push(slot.clone()));
        }
    }
}

/// Attaches a managed policy to a holder.
fn push_managed(p: &mut Part, kind: Holder, arn: &str, policy: &str) {
    let list = match kind {
        Holder::Role => p.w.roles.iter_mut().find(|x| x.arn == arn).map(|x| &mut x.managed),
        Holder::User => p.w.users.iter_mut().find(|x| x.arn == arn).map(|x| &mut x.managed),
        Holder::Group => p.w.groups.iter_mut().find(|x| x.arn == arn).map(|x| &mut x.managed),
    };
    if let Some(list) = list {
        if !list.iter().any(|x| x == policy) {
            list.push(policy.to_string());
        }
    }
}

/// `permissions_boundary`: the policy ARN, or `None` (with a note when it is unknown).
fn boundary(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>, arn: &str) -> Option<String> {
    match tf.arn_val(r, &["permissions_boundary"]) {
        Val::Known(b) => Some(b),
        Val::Unset => None,
        Val::Ref(..) | Val::Unknown => {
            let msg = format!(
                "the permissions boundary of `{}` is unknown until apply{}: what it leaves `{arn}` cannot be decided",
                r.address,
                r.depends(&["permissions_boundary"])
            );
            unknown_note(p, r, Some(arn), msg);
            None
        }
    }
}

fn unknown_name_note(p: &mut Part, r: &Res<'_>, arn: &str) {
    if r.known(&["name"]).is_none() {
        let msg = format!(
            "the name of `{}` is unknown until apply: policies that name it by ARN cannot be matched to it",
            r.address
        );
        unknown_note(p, r, Some(arn), msg);
    }
}

fn role(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>) {
    let id = tf.ident(&r.address);
    let (Some(arn), Some(name)) = (id.arn, id.name) else { return };
    unknown_name_note(p, r, &arn);
    let trust = policy_slot(
        p,
        tf,
        r,
        &["assume_role_policy"],
        DocRole {
            kind: DocKind::Trust,
            attr: "assume_role_policy",
            name: "trust-policy".into(),
            undecided: format!("who may assume `{name}`"),
            resource: arn.clone(),
            managed_name: None,
            required: true,
        },
    );
    let mut inline = Vec::new();
    let blocks = r.value(&["inline_policy"]).and_then(|v| v.as_array()).unwrap_or(&[]);
    for (i, b) in blocks.iter().enumerate() {
        let pname = b.get("name").and_then(|n| n.as_str()).unwrap_or("").to_string();
        let i = i.to_string();
        let path = ["inline_policy", i.as_str(), "policy"];
        let empty_policy = b.get("policy").and_then(|v| v.as_str()).is_none_or(str::is_empty) && !r.is_unknown(&path);
        if empty_policy {
            // `{name: "", policy: ""}` is how the provider says "no inline policy" (U21).
            continue;
        }
        let role = DocRole {
            kind: DocKind::Identity,
            attr: "policy",
            name: if pname.is_empty() { r.placeholder() } else { pname },
            undecided: format!("what it allows `{name}`"),
            resource: arn.clone(),
            managed_name: None,
            required: true,
        };
        if let Some(slot) = policy_slot(p, tf, r, &path, role) {
            inline.push(slot);
        }
    }
    if blocks.is_empty() && r.is_unknown(&["inline_policy"]) && r.configured(&["inline_policy"]) == Some(true) {
        let msg = format!(
            "the inline policies of `{}` are unknown until apply{}: what they allow `{name}` cannot be decided",
            r.address,
            r.depends(&["inline_policy"])
        );
        unknown_note(p, r, Some(&arn), msg);
        inline.push(PolicySlot::Unknown(format!("inline_policy of `{}` is unknown until apply", r.address)));
    }
    let (mut managed, mut unresolved) = r.known_list(&["managed_policy_arns"]);
    if unresolved && r.configured(&["managed_policy_arns"]) == Some(true) {
        (managed, unresolved) = tf.list_val(r, &["managed_policy_arns"], Field::Arn);
        if unresolved {
            let msg = format!(
                "the managed policies of `{}` are unknown until apply{}: what they allow `{name}` cannot be decided",
                r.address,
                r.depends(&["managed_policy_arns"])
            );
            unknown_note(p, r, Some(&arn), msg);
        }
    }
    let boundary = boundary(p, tf, r, &arn);
    let origin = origin(p, r);
    p.w.roles.push(Role {
        arn,
        account: r.account.clone(),
        name,
        path: r.known(&["path"]).unwrap_or_else(|| "/".into()),
        id: r.known(&["unique_id"]),
        trust,
        inline,
        managed,
        boundary,
        tags: tags(r),
        origin,
    });
}

fn user(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>) {
    let id = tf.ident(&r.address);
    let (Some(arn), Some(name)) = (id.arn, id.name) else { return };
    unknown_name_note(p, r, &arn);
    let boundary = boundary(p, tf, r, &arn);
    let origin = origin(p, r);
    p.w.users.push(User {
        arn,
        account: r.account.clone(),
        name,
        path: r.known(&["path"]).unwrap_or_else(|| "/".into()),
        id: r.known(&["unique_id"]),
        boundary,
        tags: tags(r),
        origin,
        ..User::default()
    });
}

fn group(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>) {
    let id = tf.ident(&r.address);
    let (Some(arn), Some(name)) = (id.arn, id.name) else { return };
    unknown_name_note(p, r, &arn);
    p.w.groups.push(Group { arn, account: r.account.clone(), name, ..Group::default() });
}

fn managed_policy(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>) {
    let id = tf.ident(&r.address);
    let (Some(arn), Some(name)) = (id.arn, id.name) else { return };
    unknown_name_note(p, r, &arn);
    let role = DocRole {
        kind: DocKind::Identity,
        attr: "policy",
        name: arn.clone(),
        undecided: "what it allows the principals it is attached to".into(),
        resource: arn.clone(),
        managed_name: Some(name.clone()),
        required: true,
    };
    let Some(slot) = policy_slot(p, tf, r, &["policy"], role) else { return };
    p.w.managed_policies.entry(arn.clone()).or_insert(ManagedPolicy { arn, name, policy: slot });
}

fn holder_of(rtype: &str) -> Option<(Holder, &'static str)> {
    match rtype {
        "aws_iam_role_policy" | "aws_iam_role_policy_attachment" => Some((Holder::Role, "role")),
        "aws_iam_user_policy" | "aws_iam_user_policy_attachment" => Some((Holder::User, "user")),
        "aws_iam_group_policy" | "aws_iam_group_policy_attachment" => Some((Holder::Group, "group")),
        _ => None,
    }
}

/// The holder an attribute names, or `None` with a note when it is unknown.
fn named_holder(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>, kind: Holder, attr: &str) -> Option<String> {
    match tf.name_val(r, &[attr]) {
        Val::Known(n) => Some(holder_arn(p, r, kind, &n)),
        _ => {
            let msg = format!(
                "the {attr} of `{}` is unknown until apply{}: whose permissions it sets cannot be decided",
                r.address,
                r.depends(&[attr])
            );
            unknown_note(p, r, None, msg);
            None
        }
    }
}

fn inline_policy(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>) {
    let Some((kind, attr)) = holder_of(&r.rtype) else { return };
    let Some(holder) = named_holder(p, tf, r, kind, attr) else { return };
    let name = r.known(&["name"]).unwrap_or_else(|| r.placeholder());
    let who = holder.rsplit('/').next().unwrap_or(&holder).to_string();
    let role = DocRole {
        kind: DocKind::Identity,
        attr: "policy",
        name,
        undecided: format!("what it allows `{who}`"),
        resource: holder.clone(),
        managed_name: None,
        required: true,
    };
    if let Some(slot) = policy_slot(p, tf, r, &["policy"], role) {
        push_inline(p, kind, &holder, slot);
    }
}

fn attachment(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>) {
    let policy = match tf.arn_val(r, &["policy_arn"]) {
        Val::Known(a) => a,
        _ => {
            let msg = format!(
                "the policy of `{}` is unknown until apply{}: what it grants cannot be decided",
                r.address,
                r.depends(&["policy_arn"])
            );
            unknown_note(p, r, None, msg);
            return;
        }
    };
    if let Some((kind, attr)) = holder_of(&r.rtype) {
        if let Some(holder) = named_holder(p, tf, r, kind, attr) {
            push_managed(p, kind, &holder, &policy);
        }
        return;
    }
    // `aws_iam_policy_attachment`: lists of users, roles and groups (exclusive attachment).
    for (kind, attr) in [(Holder::User, "users"), (Holder::Role, "roles"), (Holder::Group, "groups")] {
        let (names, unresolved) = tf.list_val(r, &[attr], Field::Name);
        if unresolved {
            let msg = format!(
                "the {attr} of `{}` are unknown until apply{}: who holds `{policy}` cannot be decided",
                r.address,
                r.depends(&[attr])
            );
            unknown_note(p, r, Some(&policy), msg);
        }
        for n in names {
            let holder = holder_arn(p, r, kind, &n);
            push_managed(p, kind, &holder, &policy);
        }
    }
}

fn membership(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>) {
    let (groups, users) = if r.rtype == "aws_iam_group_membership" {
        let Some(g) = named_val(p, tf, r, "group") else { return };
        let (users, unresolved) = tf.list_val(r, &["users"], Field::Name);
        if unresolved {
            list_note(p, r, "users");
        }
        (vec![g], users)
    } else {
        let Some(u) = named_val(p, tf, r, "user") else { return };
        let (groups, unresolved) = tf.list_val(r, &["groups"], Field::Name);
        if unresolved {
            list_note(p, r, "groups");
        }
        (groups, vec![u])
    };
    for g in &groups {
        let _ = holder_arn(p, r, Holder::Group, g);
    }
    for u in &users {
        let arn = holder_arn(p, r, Holder::User, u);
        if let Some(user) = p.w.users.iter_mut().find(|x| x.arn == arn) {
            for g in &groups {
                let g = iam_name(g);
                if !user.groups.contains(&g) {
                    user.groups.push(g);
                }
            }
        }
    }
}

fn named_val(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>, attr: &str) -> Option<String> {
    match tf.name_val(r, &[attr]) {
        Val::Known(n) => Some(n),
        _ => {
            list_note(p, r, attr);
            None
        }
    }
}

fn list_note(p: &mut Part, r: &Res<'_>, attr: &str) {
    let msg = format!(
        "the `{attr}` of `{}` is unknown until apply{}: group memberships cannot be decided",
        r.address,
        r.depends(&[attr])
    );
    unknown_note(p, r, None, msg);
}

fn org_policy(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>) {
    let kind = match r.known(&["type"]).as_deref() {
        None if r.is_unknown(&["type"]) => {
            let msg = format!(
                "the type of `{}` is unknown until apply: whether it is an SCP or RCP cannot be decided",
                r.address
            );
            unknown_note(p, r, None, msg);
            return;
        }
        None | Some("SERVICE_CONTROL_POLICY") => DocKind::Scp,
        Some("RESOURCE_CONTROL_POLICY") => DocKind::Rcp,
        Some(other) => {
            p.assume(format!(
                "`{}` is a `{other}`: ignored (only service and resource control policies affect access)",
                r.address
            ));
            return;
        }
    };
    let Some(id) = tf.ident(&r.address).id else { return };
    let name = r.known(&["name"]).unwrap_or_else(|| id.clone());
    let resource = r.known(&["arn"]).unwrap_or_else(|| id.clone());
    let role = DocRole {
        kind,
        attr: "content",
        name: name.clone(),
        undecided: format!("what the {} denies", kind.as_str()),
        resource,
        managed_name: None,
        required: true,
    };
    let Some(policy) = policy_slot(p, tf, r, &["content"], role) else { return };
    let origin = origin(p, r);
    p.w.org_policies.insert(id.clone(), OrgPolicy { id, name, policy, kind, origin });
}

fn org_attachment(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>) {
    let get = |p: &mut Part, attr: &str, what: &str| match tf.id_val(r, &[attr]) {
        Val::Known(v) => Some(v),
        _ => {
            let msg = format!(
                "the {what} of `{}` is unknown until apply{}: where the policy applies cannot be decided",
                r.address,
                r.depends(&[attr])
            );
            unknown_note(p, r, None, msg);
            None
        }
    };
    let (Some(policy), Some(target)) = (get(p, "policy_id", "policy"), get(p, "target_id", "target")) else {
        return;
    };
    let org = p.org();
    let list = org.attachments.entry(target.clone()).or_default();
    if !list.contains(&policy) {
        list.push(policy);
    }
    if is_account_id(&target) && !org.accounts.contains(&target) {
        org.accounts.push(target);
    }
}
