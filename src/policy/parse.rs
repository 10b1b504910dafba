//! Builds the policy model from the span-preserving JSON tree, collecting every problem as a
//! diagnostic instead of stopping at the first.
//!
//! Decisions (see docs/semantics-decisions.md): a statement that AWS would reject (no
//! `Effect`, no `Action`, a duplicated element, …) is kept and marked `broken`, so it is never
//! silently dropped but also never applies; members whose value is `null` (Terraform
//! `jsonencode` of an unset HCL attribute) are treated as absent; duplicated operators or keys
//! inside `Condition` are all kept and must all hold.

use super::arn::{classify_aws_principal, classify_service_principal};
use super::err::{one_line, PolicyDiagnostic};
use super::json::{self, pointer_token, Json, JsonKind};
use super::model::{
    Condition, DocKind, Effect, Operator, Patterns, Policy, PrincipalEntry, PrincipalRef, Principals, Statement,
};
use crate::source::{SourceId, Span, Spanned};

/// KMS key policy size limit in bytes (semantics.md §1.2).
pub const KEY_POLICY_MAX_BYTES: usize = 32 * 1024;
/// SCP/RCP size limit in characters (semantics.md §2.8).
pub const ORG_POLICY_MAX_CHARS: usize = 5120;
/// Policy documents larger than this (twice the largest policy AWS accepts, a 32 KiB key
/// policy) are read and validated but not evaluated (docs/limits.md).
pub const MAX_EVALUATED_POLICY_BYTES: usize = 64 * 1024;

struct Cx<'d> {
    source: SourceId,
    diags: &'d mut Vec<PolicyDiagnostic>,
}

impl Cx<'_> {
    fn diag(&mut self, code: &'static str, span: Span, pointer: &str, message: String) {
        self.diags.push(PolicyDiagnostic {
            code,
            message: one_line(message),
            source: self.source,
            span,
            pointer: pointer.to_string(),
            severity: None,
            resource: None,
        });
    }
}

/// Parses policy text (a whole source) into a policy. Invalid JSON gives a `KP150` diagnostic
/// and no policy.
pub fn parse_policy_text(source: SourceId, text: &str, diags: &mut Vec<PolicyDiagnostic>) -> Option<Policy> {
    match json::parse(text) {
        Ok(tree) => Some(build_policy(source, &tree, "", text.len(), diags)),
        Err(e) => {
            diags.push(PolicyDiagnostic {
                code: "KP150",
                message: one_line(format!("invalid JSON: {}", e.message)),
                source,
                span: e.span,
                pointer: String::new(),
                severity: None,
                resource: None,
            });
            None
        }
    }
}

/// Reports every repeated key in every object of the tree (`KP151`).
pub fn check_duplicate_keys(source: SourceId, tree: &Json, pointer: &str, diags: &mut Vec<PolicyDiagnostic>) {
    let mut cx = Cx { source, diags };
    let mut path: Vec<String> = Vec::new();
    dup_walk(&mut cx, tree, pointer, &mut path);
}

/// Walks the tree; the JSON pointer of a member is only built when it is reported.
fn dup_walk(cx: &mut Cx<'_>, v: &Json, base: &str, path: &mut Vec<String>) {
    if path.len() > json::MAX_DEPTH {
        return;
    }
    match &v.kind {
        JsonKind::Object(members) => {
            // Large objects use a set, so hostile inputs stay linear.
            let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
            for (i, m) in members.iter().enumerate() {
                let dup = if members.len() <= 16 {
                    members[..i].iter().any(|p| p.key == m.key)
                } else {
                    !seen.insert(&m.key)
                };
                path.push(pointer_token(&m.key));
                if dup {
                    let child = format!("{base}/{}", path.join("/"));
                    cx.diag(
                        "KP151",
                        m.key_span,
                        &child,
                        format!("duplicate key `{}`: AWS rejects the document, and most JSON readers silently keep only the last", m.key),
                    );
                }
                if matches!(m.value.kind, JsonKind::Object(_) | JsonKind::Array(_)) {
                    dup_walk(cx, &m.value, base, path);
                }
                path.pop();
            }
        }
        JsonKind::Array(items) => {
            for (i, it) in items.iter().enumerate() {
                if matches!(it.kind, JsonKind::Object(_) | JsonKind::Array(_)) {
                    path.push(i.to_string());
                    dup_walk(cx, it, base, path);
                    path.pop();
                }
            }
        }
        _ => {}
    }
}

/// Builds a policy from a JSON tree whose root is the document. `pointer` locates the document
/// inside its source; `size` is the document size in bytes.
pub fn build_policy(
    source: SourceId,
    tree: &Json,
    pointer: &str,
    size: usize,
    diags: &mut Vec<PolicyDiagnostic>,
) -> Policy {
    check_duplicate_keys(source, tree, pointer, diags);
    let mut cx = Cx { source, diags };
    let mut policy = Policy {
        source,
        span: tree.span,
        pointer: pointer.to_string(),
        version: None,
        id: None,
        statements: Vec::new(),
        size,
    };
    if !tree.is_object() {
        cx.diag("KP152", tree.span, pointer, format!("a policy must be a JSON object, not {}", tree.kind_name()));
        return policy;
    }
    let mut saw_statement = false;
    for m in tree.members() {
        let child = format!("{pointer}/{}", pointer_token(&m.key));
        if matches!(m.value.kind, JsonKind::Null) {
            continue;
        }
        match &*m.key {
            "Version" => match m.value.as_str() {
                Some(v @ ("2012-10-17" | "2008-10-17")) => {
                    policy.version.get_or_insert(Spanned::new(v.to_string(), m.value.span));
                }
                _ => cx.diag(
                    "KP152",
                    m.value.span,
                    &child,
                    format!(
                        "invalid `Version` {}: use `2012-10-17`",
                        m.value.scalar_text().map_or_else(|| m.value.kind_name().to_string(), |s| format!("`{s}`"))
                    ),
                ),
            },
            "Id" => match m.value.scalar_text() {
                Some(v) => {
                    policy.id.get_or_insert(Spanned::new(v, m.value.span));
                }
                None if unresolved(&mut cx, &m.value, &child, "`Id`") => {}
                None => cx.diag("KP152", m.value.span, &child, "`Id` must be a string".into()),
            },
            "Statement" => {
                if saw_statement {
                    continue;
                }
                saw_statement = true;
                match &m.value.kind {
                    JsonKind::Object(_) => {
                        let st = build_statement(&mut cx, &m.value, 0, &child);
                        policy.statements.push(st);
                    }
                    JsonKind::Array(items) => {
                        if items.is_empty() {
                            cx.diag(
                                "KP152",
                                m.value.span,
                                &child,
                                "`Statement` is empty: a policy needs at least one statement".into(),
                            );
                        }
                        for (i, it) in items.iter().enumerate() {
                            let p = format!("{child}/{i}");
                            if it.is_object() {
                                let st = build_statement(&mut cx, it, i, &p);
                                policy.statements.push(st);
                            } else {
                                cx.diag(
                                    "KP152",
                                    it.span,
                                    &p,
                                    format!("a statement must be an object, not {}", it.kind_name()),
                                );
                            }
                        }
                    }
                    _ => cx.diag(
                        "KP152",
                        m.value.span,
                        &child,
                        format!("`Statement` must be an object or an array of objects, not {}", m.value.kind_name()),
                    ),
                }
            }
            other => {
                let hint = ["Version", "Id", "Statement"].iter().find(|k| k.eq_ignore_ascii_case(other));
                let msg = match hint {
                    Some(k) => format!("unknown element `{other}`: element names are case-sensitive, write `{k}`"),
                    None => format!("unknown element `{other}` at the top of a policy"),
                };
                cx.diag("KP152", m.key_span, &child, msg);
            }
        }
    }
    if !saw_statement {
        cx.diag("KP152", tree.span, pointer, "policy has no `Statement`".into());
    }
    policy
}

/// Builds a one-statement policy from a statement published on its own. It is read as if it stood
/// in a `"Version": "2012-10-17"` policy (policy variables are substituted); the version is not
/// written, so its span is the statement's.
pub fn build_single_statement(source: SourceId, tree: &Json, size: usize, diags: &mut Vec<PolicyDiagnostic>) -> Policy {
    check_duplicate_keys(source, tree, "", diags);
    let mut cx = Cx { source, diags };
    let st = build_statement(&mut cx, tree, 0, "");
    Policy {
        source,
        span: tree.span,
        pointer: String::new(),
        version: Some(Spanned::new("2012-10-17".into(), tree.span)),
        id: None,
        statements: vec![st],
        size,
    }
}

const STATEMENT_ELEMENTS: &[&str] =
    &["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];

fn build_statement(cx: &mut Cx<'_>, v: &Json, index: usize, pointer: &str) -> Statement {
    let mut st = Statement {
        index,
        span: v.span,
        pointer: pointer.to_string(),
        sid: None,
        effect: Effect::Allow,
        principal: None,
        action: Patterns { negated: false, items: Vec::new(), span: v.span, action_set: std::sync::OnceLock::new() },
        resource: None,
        conditions: Vec::new(),
        broken: false,
    };
    let mut effect = None;
    let mut action_seen = false;
    let members = v.members();
    for (i, m) in members.iter().enumerate() {
        let child = format!("{pointer}/{}", pointer_token(&m.key));
        if matches!(m.value.kind, JsonKind::Null) {
            continue;
        }
        if members[..i].iter().any(|p| p.key == m.key) {
            st.broken = true; // reported as KP151 by the duplicate walk
            continue;
        }
        match &*m.key {
            "Sid" => match m.value.scalar_text() {
                Some(s) => st.sid = Some(Spanned::new(s, m.value.span)),
                None => cx.diag("KP152", m.value.span, &child, "`Sid` must be a string".into()),
            },
            "Effect" => match m.value.as_str() {
                Some("Allow") => effect = Some(Effect::Allow),
                Some("Deny") => effect = Some(Effect::Deny),
                _ => {
                    let shown = m.value.scalar_text().unwrap_or_else(|| m.value.kind_name().to_string());
                    cx.diag(
                        "KP152",
                        m.value.span,
                        &child,
                        format!("invalid `Effect` `{shown}`: only `Allow` and `Deny` (exact case) are valid"),
                    );
                    st.broken = true;
                }
            },
            "Principal" | "NotPrincipal" => {
                if st.principal.is_some() {
                    cx.diag(
                        "KP152",
                        m.key_span,
                        &child,
                        "a statement cannot have both `Principal` and `NotPrincipal`".into(),
                    );
                    st.broken = true;
                    continue;
                }
                st.principal = Some(principals(cx, &m.value, &*m.key == "NotPrincipal", &child));
            }
            "Action" | "NotAction" => {
                if action_seen {
                    cx.diag(
                        "KP152",
                        m.key_span,
                        &child,
                        "a statement cannot have both `Action` and `NotAction`".into(),
                    );
                    st.broken = true;
                    continue;
                }
                action_seen = true;
                st.action = patterns(cx, &m.value, &*m.key == "NotAction", &child, &m.key);
                for item in &st.action.items {
                    if item.value != "*" && !item.value.contains(':') {
                        cx.diag(
                            "KP152",
                            item.span,
                            &child,
                            format!("invalid action `{}`: write `service:ActionName`", item.value),
                        );
                    }
                }
            }
            "Resource" | "NotResource" => {
                if st.resource.is_some() {
                    cx.diag(
                        "KP152",
                        m.key_span,
                        &child,
                        "a statement cannot have both `Resource` and `NotResource`".into(),
                    );
                    st.broken = true;
                    continue;
                }
                st.resource = Some(patterns(cx, &m.value, &*m.key == "NotResource", &child, &m.key));
            }
            "Condition" => conditions(cx, &m.value, &child, &mut st),
            other if other.starts_with("Fn::") => {
                cx.diag(
                    "KP158",
                    m.key_span,
                    &child,
                    format!("statement element is an unresolved CloudFormation intrinsic `{other}`: the statement cannot be decided"),
                );
                st.broken = true;
            }
            other => {
                let msg = match STATEMENT_ELEMENTS.iter().find(|k| k.eq_ignore_ascii_case(other)) {
                    Some(k) => format!("unknown element `{other}`: element names are case-sensitive, write `{k}`"),
                    None => format!("unknown statement element `{other}`"),
                };
                cx.diag("KP152", m.key_span, &child, msg);
                st.broken = true;
            }
        }
    }
    match effect {
        Some(e) => st.effect = e,
        None => {
            if !st.broken {
                cx.diag("KP152", v.span, pointer, "statement has no `Effect`".into());
            }
            st.broken = true;
        }
    }
    if !action_seen {
        cx.diag("KP152", v.span, pointer, "statement has neither `Action` nor `NotAction`".into());
        st.broken = true;
    }
    st
}

/// True for text holding an unrendered template placeholder (`${var}` in a Terraform or
/// CloudFormation template, `{{ var }}` in Jinja/Helm-style templates). In a principal (where
/// policy variables are not allowed) such text is an unknown value, not a principal.
#[must_use]
pub fn is_template_placeholder(s: &str) -> bool {
    (s.contains("${") && s.contains('}')) || (s.contains("{{") && s.contains("}}"))
}

/// The name of a CloudFormation intrinsic (`{"Ref": …}`, `{"Fn::Sub": …}`), if the value is one.
#[must_use]
pub fn intrinsic_name(v: &Json) -> Option<&str> {
    match v.members() {
        [m] if &*m.key == "Ref" || m.key.starts_with("Fn::") || &*m.key == "Condition" => Some(&m.key),
        _ => None,
    }
}

fn unresolved(cx: &mut Cx<'_>, v: &Json, pointer: &str, what: &str) -> bool {
    match intrinsic_name(v) {
        Some(name) => {
            cx.diag(
                "KP158",
                v.span,
                pointer,
                if what == "`Id`" {
                    format!("{what} is an unresolved CloudFormation intrinsic `{name}`: its value is unknown")
                } else {
                    format!("{what} is an unresolved CloudFormation intrinsic `{name}`: its value is unknown, so it matches nothing here")
                },
            );
            true
        }
        None => false,
    }
}

fn string_list(cx: &mut Cx<'_>, v: &Json, pointer: &str, what: &str) -> Vec<Spanned<String>> {
    let mut out = Vec::new();
    let mut one = |cx: &mut Cx<'_>, item: &Json| match item.scalar_text() {
        Some(s) => out.push(Spanned::new(s, item.span)),
        None if unresolved(cx, item, pointer, what) => {}
        None => cx.diag("KP152", item.span, pointer, format!("{what} must be a string, not {}", item.kind_name())),
    };
    match &v.kind {
        JsonKind::Array(items) => {
            if items.is_empty() {
                cx.diag("KP152", v.span, pointer, format!("{what} is an empty list"));
            }
            for it in items {
                one(cx, it);
            }
        }
        _ => one(cx, v),
    }
    out
}

fn patterns(cx: &mut Cx<'_>, v: &Json, negated: bool, pointer: &str, element: &str) -> Patterns {
    let items = string_list(cx, v, pointer, &format!("`{element}`"));
    Patterns { negated, items, span: v.span, action_set: std::sync::OnceLock::new() }
}

fn principals(cx: &mut Cx<'_>, v: &Json, negated: bool, pointer: &str) -> Principals {
    let mut entries = Vec::new();
    match &v.kind {
        JsonKind::String(s) if &**s == "*" => {
            entries.push(PrincipalEntry { principal: PrincipalRef::Anyone, raw: "*".into(), span: v.span });
        }
        JsonKind::Object(members) => {
            if members.is_empty() {
                cx.diag("KP152", v.span, pointer, "principal element is an empty object".into());
            }
            for m in members {
                let child = format!("{pointer}/{}", pointer_token(&m.key));
                for item in string_list(cx, &m.value, &child, &format!("`{}` principal", m.key)) {
                    if &*m.key == "AWS" && is_template_placeholder(&item.value) {
                        cx.diag(
                            "KP158",
                            item.span,
                            &child,
                            format!(
                                "principal `{}` holds an unrendered template placeholder: its value is unknown, so it matches nothing here",
                                item.value
                            ),
                        );
                    }
                    let principal = match &*m.key {
                        "AWS" => classify_aws_principal(&item.value),
                        "Service" => classify_service_principal(&item.value),
                        "Federated" => PrincipalRef::Federated(item.value.clone()),
                        "CanonicalUser" => PrincipalRef::CanonicalUser(item.value.clone()),
                        other => {
                            cx.diag(
                                "KP152",
                                m.key_span,
                                &child,
                                format!("unknown principal type `{other}`: use `AWS`, `Service`, `Federated` or `CanonicalUser`"),
                            );
                            PrincipalRef::Invalid(format!("unknown principal type `{other}`"))
                        }
                    };
                    entries.push(PrincipalEntry { principal, raw: item.value, span: item.span });
                }
            }
        }
        _ => cx.diag(
            "KP152",
            v.span,
            pointer,
            format!("principal must be `\"*\"` or an object such as `{{\"AWS\": …}}`, not {}", v.kind_name()),
        ),
    }
    Principals {
        negated,
        entries,
        span: v.span,
        index: std::sync::OnceLock::new(),
        account_keys: std::sync::OnceLock::new(),
    }
}

fn conditions(cx: &mut Cx<'_>, v: &Json, pointer: &str, st: &mut Statement) {
    if !v.is_object() {
        cx.diag("KP152", v.span, pointer, format!("`Condition` must be an object, not {}", v.kind_name()));
        st.broken = true;
        return;
    }
    for m in v.members() {
        let op_ptr = format!("{pointer}/{}", pointer_token(&m.key));
        let op = Operator::parse(&m.key);
        if op.is_none() {
            cx.diag("KP152", m.key_span, &op_ptr, format!("unknown condition operator `{}`", m.key));
            st.broken = true;
        }
        if !m.value.is_object() {
            cx.diag(
                "KP152",
                m.value.span,
                &op_ptr,
                format!("condition operator `{}` must map to an object of context keys", m.key),
            );
            st.broken = true;
            continue;
        }
        for k in m.value.members() {
            let key_ptr = format!("{op_ptr}/{}", pointer_token(&k.key));
            if matches!(k.value.kind, JsonKind::Null) {
                cx.diag("KP152", k.value.span, &key_ptr, format!("condition key `{}` has a `null` value", k.key));
                st.broken = true;
                continue;
            }
            let values = string_list(cx, &k.value, &key_ptr, &format!("value of `{}`", k.key));
            st.conditions.push(Condition {
                op,
                op_text: Spanned::new(m.key.to_string(), m.key_span),
                key: Spanned::new(k.key.to_string(), k.key_span),
                key_lc: k.key.to_ascii_lowercase(),
                values,
                values_span: k.value.span,
            });
        }
    }
}

/// Validates a policy for the role it plays; may mark statements broken. Emits `KP152`,
/// `KP159` and `KP161` diagnostics. `managed_name` is the managed policy's name, if any.
pub fn validate(policy: &mut Policy, kind: DocKind, managed_name: Option<&str>, diags: &mut Vec<PolicyDiagnostic>) {
    let mut cx = Cx { source: policy.source, diags };
    let ptr = policy.pointer.clone();
    match kind {
        DocKind::KeyPolicy if policy.size > KEY_POLICY_MAX_BYTES => cx.diag(
            "KP159",
            policy.span,
            &ptr,
            format!("key policy is {} bytes: KMS rejects policies over {KEY_POLICY_MAX_BYTES} bytes", policy.size),
        ),
        DocKind::Scp | DocKind::Rcp if policy.size > ORG_POLICY_MAX_CHARS => cx.diag(
            "KP159",
            policy.span,
            &ptr,
            format!(
                "{} is {} characters: Organizations rejects policies over {ORG_POLICY_MAX_CHARS}",
                kind.as_str(),
                policy.size
            ),
        ),
        _ => {}
    }
    for st in &mut policy.statements {
        let p = st.pointer.clone();
        match kind {
            DocKind::KeyPolicy => {
                if st.principal.is_none() {
                    cx.diag("KP152", st.span, &p, "key-policy statement has no `Principal`: KMS rejects it".into());
                    st.broken = true;
                }
                if st.resource.is_none() && !st.broken {
                    cx.diag(
                        "KP161",
                        st.span,
                        &p,
                        format!("statement `{}` has no `Resource`: KMS accepts it but it never applies", st.label()),
                    );
                }
            }
            DocKind::Identity | DocKind::Boundary | DocKind::Scp => {
                if let Some(pr) = &st.principal {
                    cx.diag(
                        "KP152",
                        pr.span,
                        &p,
                        format!("{} statements must not have `Principal` or `NotPrincipal`", kind.as_str()),
                    );
                    st.broken = true;
                }
                if st.resource.is_none() && kind != DocKind::Scp {
                    cx.diag("KP152", st.span, &p, "statement has no `Resource`: IAM rejects it".into());
                    st.broken = true;
                }
            }
            DocKind::Trust => match &st.principal {
                None => {
                    cx.diag("KP152", st.span, &p, "trust-policy statement has no `Principal`".into());
                    st.broken = true;
                }
                Some(pr) if pr.negated => {
                    cx.diag("KP152", pr.span, &p, "trust policies cannot use `NotPrincipal`".into());
                    st.broken = true;
                }
                Some(_) => {}
            },
            DocKind::Rcp => {
                let anyone = st
                    .principal
                    .as_ref()
                    .is_some_and(|pr| !pr.negated && pr.entries.iter().all(|e| e.principal == PrincipalRef::Anyone));
                if !anyone {
                    cx.diag(
                        "KP152",
                        st.span,
                        &p,
                        "resource control policy statements need `\"Principal\": \"*\"`".into(),
                    );
                    st.broken = true;
                }
                if st.action.negated {
                    cx.diag("KP152", st.action.span, &p, "resource control policies cannot use `NotAction`".into());
                    st.broken = true;
                }
                if st.effect == Effect::Allow && managed_name != Some("RCPFullAWSAccess") {
                    cx.diag("KP152", st.span, &p, "customer resource control policies may only `Deny`".into());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;

    fn parse(text: &str) -> (Policy, Vec<PolicyDiagnostic>, SourceMap) {
        let map = SourceMap::new();
        let id = map.add_file("p.json", text);
        let mut d = Vec::new();
        let p = parse_policy_text(id, text, &mut d).unwrap();
        (p, d, map)
    }

    #[test]
    fn single_statement_object_and_scalars() {
        let (p, d, _) = parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{"Bool":{"kms:GrantIsForAWSResource":true},"NumericLessThan":{"kms:X":10}}}}"#,
        );
        assert!(d.is_empty(), "{d:?}");
        let st = &p.statements[0];
        assert_eq!(st.conditions[0].values[0].value, "true");
        assert_eq!(st.conditions[1].values[0].value, "10");
        assert!(p.variables_enabled());
    }

    #[test]
    fn duplicate_effect_is_flagged_and_statement_kept() {
        let (p, d, map) =
            parse(r#"{"Statement":[{"Effect":"Deny","Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#);
        assert_eq!(p.statements.len(), 1);
        assert!(p.statements[0].broken);
        let dup = d.iter().find(|x| x.code == "KP151").unwrap();
        assert_eq!(map.outer_text(dup.source, dup.span).as_deref(), Some("\"Effect\""));
        assert_eq!(dup.pointer, "/Statement/0/Effect");
    }

    #[test]
    fn bad_elements() {
        let (_, d, _) = parse(r#"{"Statement":[{"effect":"Allow","Action":"kms:*","Resource":"*"}]}"#);
        assert!(d.iter().any(|x| x.message.contains("case-sensitive")));
        let (_, d, _) = parse(r#"{"Statement":[]}"#);
        assert!(d.iter().any(|x| x.message.contains("`Statement` is empty")));
        let (_, d, _) = parse(r#"{"Statement":[{"Effect":"Allow","Action":["kms:*", 5, {}],"Resource":"*"}]}"#);
        assert!(d.iter().any(|x| x.message.contains("must be a string, not an object")));
        let (_, d, _) = parse(r#"{"Version":"2013-01-01","Statement":[{"Effect":"allow","Action":"kms:*"}]}"#);
        assert!(d.iter().any(|x| x.message.contains("invalid `Version`")));
        assert!(d.iter().any(|x| x.message.contains("invalid `Effect`")));
        let (_, d, _) =
            parse(r#"{"Statement":[{"Effect":"Allow","Action":"kms:*","Condition":{"StringEqualz":{"a":"b"}}}]}"#);
        assert!(d.iter().any(|x| x.message.contains("unknown condition operator `StringEqualz`")));
    }

    #[test]
    fn key_policy_validation() {
        let (mut p, mut d, _) = parse(r#"{"Statement":[{"Effect":"Allow","Action":"kms:*"}]}"#);
        validate(&mut p, DocKind::KeyPolicy, None, &mut d);
        assert!(d.iter().any(|x| x.code == "KP152" && x.message.contains("no `Principal`")));
        let (mut p, mut d, _) = parse(r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*"}]}"#);
        validate(&mut p, DocKind::KeyPolicy, None, &mut d);
        assert!(d.iter().any(|x| x.code == "KP161"));
    }

    #[test]
    fn operators_parse() {
        let op = Operator::parse("ForAnyValue:StringNotEqualsIgnoreCaseIfExists").unwrap();
        assert!(op.if_exists && op.base.negated());
        assert!(Operator::parse("NullIfExists").is_none());
        assert_eq!(op.text(), "ForAnyValue:StringNotEqualsIgnoreCaseIfExists");
    }
}
