//! Terraform addresses and references: `module.a["x"].aws_kms_key.this[0]`,
//! `aws_kms_key.orders.arn`, `module.kms.key_arn`, `var.key_arn`.

/// Splits an address or a reference into its dot-separated steps, keeping an instance key
/// with the step it indexes (`this[0]`, `a["x.y"]`): dots inside brackets and quoted keys
/// do not split.
pub(super) fn steps(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in s.chars() {
        if quoted {
            cur.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = false;
            }
            continue;
        }
        match c {
            '"' if depth > 0 => {
                quoted = true;
                cur.push(c);
            }
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            '.' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A step without its instance key: `this[0]` → `this`.
pub(super) fn bare(step: &str) -> &str {
    step.split_once('[').map_or(step, |(name, _)| name)
}

/// The configuration path of a module instance: `module.a["x"].module.b[0]` → `module.a.module.b`.
pub(super) fn config_path(module_instance: &str) -> String {
    steps(module_instance).iter().map(|s| bare(s)).collect::<Vec<_>>().join(".")
}

/// Joins a module (instance or configuration) path and a relative address.
pub(super) fn join(module: &str, rest: &str) -> String {
    if module.is_empty() {
        rest.to_string()
    } else {
        format!("{module}.{rest}")
    }
}

/// The parent of a module instance: `module.a[0].module.b` → `module.a[0]`; the root's is `None`.
pub(super) fn parent(module_instance: &str) -> Option<String> {
    let s = steps(module_instance);
    if s.len() < 2 {
        return None;
    }
    Some(s[..s.len() - 2].join("."))
}

/// The module instance of a resource address: everything before the resource's own
/// `[data.]type.name[key]`.
pub(super) fn module_of(address: &str) -> String {
    let s = steps(address);
    let mut i = 0;
    while i + 1 < s.len() && s[i] == "module" {
        i += 2;
    }
    s[..i.min(s.len())].join(".")
}

/// What a reference names, relative to the module it is written in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Reference {
    /// `type.name` or `type.name[key]` (a managed resource), and the attribute path after it
    /// (`arn`, `roots[0].id`, or empty).
    Resource {
        /// `type.name[key]`.
        address: String,
        /// The attribute path.
        attr: String,
    },
    /// `data.type.name[key]`.
    Data(String),
    /// `module.name[key]?.output`.
    ModuleOutput {
        /// The call's name with its instance key, as written (`kms`, `kms[0]`).
        call: String,
        /// The output name.
        output: String,
    },
    /// `var.name`.
    Variable(String),
    /// `local.…`, `each.…`, `count.…`, `path.…`, `terraform.…`, `self.…`: not resolvable from a plan.
    Other,
}

/// Classifies a reference string.
pub(super) fn reference(r: &str) -> Reference {
    let s = steps(r);
    let first = s.first().map_or("", String::as_str);
    match first {
        "module" => match (s.get(1), s.get(2)) {
            (Some(call), Some(output)) => {
                Reference::ModuleOutput { call: call.clone(), output: bare(output).to_string() }
            }
            _ => Reference::Other,
        },
        "var" => s.get(1).map_or(Reference::Other, |v| Reference::Variable(bare(v).to_string())),
        "data" => match (s.get(1), s.get(2)) {
            (Some(t), Some(n)) => Reference::Data(format!("data.{t}.{n}")),
            _ => Reference::Other,
        },
        "local" | "each" | "count" | "path" | "terraform" | "self" | "" => Reference::Other,
        _ => match s.get(1) {
            Some(n) => Reference::Resource { address: format!("{first}.{n}"), attr: s[2..].join(".") },
            None => Reference::Other,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_keep_instance_keys_whole() {
        assert_eq!(
            steps(r#"module.a["x.y"].aws_kms_key.this[0].arn"#),
            ["module", r#"a["x.y"]"#, "aws_kms_key", "this[0]", "arn"]
        );
        assert_eq!(steps(r#"module.a["q\"]."].b"#), ["module", r#"a["q\"]."]"#, "b"]);
        assert_eq!(config_path(r#"module.a["x"].module.b[0]"#), "module.a.module.b");
        assert_eq!(parent("module.a[0].module.b").as_deref(), Some("module.a[0]"));
        assert_eq!(parent("module.a").as_deref(), Some(""));
        assert_eq!(parent(""), None);
        assert_eq!(module_of("module.kms.aws_kms_key.this[0]"), "module.kms");
        assert_eq!(module_of("aws_kms_key.this"), "");
        assert_eq!(module_of(r#"module.a["k"].module.b.data.aws_iam_policy_document.d"#), r#"module.a["k"].module.b"#);
    }

    #[test]
    fn references() {
        let res = |a: &str, attr: &str| Reference::Resource { address: a.into(), attr: attr.into() };
        assert_eq!(reference("aws_kms_key.orders.arn"), res("aws_kms_key.orders", "arn"));
        assert_eq!(reference("aws_kms_key.this[0]"), res("aws_kms_key.this[0]", ""));
        assert_eq!(
            reference("aws_organizations_organization.o.roots[0].id"),
            res("aws_organizations_organization.o", "roots[0].id")
        );
        assert_eq!(
            reference("module.kms[0].key_arn"),
            Reference::ModuleOutput { call: "kms[0]".into(), output: "key_arn".into() }
        );
        assert_eq!(reference("var.key"), Reference::Variable("key".into()));
        assert_eq!(
            reference("data.aws_caller_identity.current.account_id"),
            Reference::Data("data.aws_caller_identity.current".into())
        );
        assert_eq!(reference("local.prefix"), Reference::Other);
        assert_eq!(reference("module.kms"), Reference::Other);
    }
}
