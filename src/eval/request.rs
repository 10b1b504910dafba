//! Building requests from user input (CLI flags, JSON Lines, test corpora) and describing reasons.

use std::collections::BTreeMap;

use super::authorize::{Reason, Request};
use super::context::{Context, CtxValue};
use super::principal::Caller;
use crate::catalog::catalog;
use crate::world::World;

/// A request as the user wrote it.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// Principal ARN or service principal name.
    pub principal: String,
    /// Action, e.g. `kms:Decrypt`.
    pub action: String,
    /// Key ARN, key id, alias name, alias ARN, or Terraform address; optional when the world
    /// has exactly one key.
    #[serde(default)]
    pub key: Option<String>,
    /// Encryption context pairs.
    #[serde(default)]
    pub context: BTreeMap<String, String>,
    /// Other context keys; a list for multi-valued keys.
    #[serde(default)]
    pub conditions: BTreeMap<String, serde_json::Value>,
    /// Grant tokens.
    #[serde(default)]
    pub grant_tokens: Vec<String>,
    /// Grant concerned by `RetireGrant`/`RevokeGrant`.
    #[serde(default)]
    pub grant_id: Option<String>,
}

/// Parses a `--condition KEY=VALUE` value into a context value: a comma-separated list for
/// multi-valued keys (per the catalogue), a single string otherwise.
#[must_use]
pub fn condition_value(key: &str, value: &str) -> CtxValue {
    let multi = catalog().condition_key(key).is_some_and(|k| k.multi);
    if multi {
        CtxValue::Multi(value.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
    } else {
        CtxValue::Single(value.to_string())
    }
}

fn json_value(key: &str, v: &serde_json::Value) -> Result<CtxValue, String> {
    match v {
        serde_json::Value::String(s) => Ok(CtxValue::Single(s.clone())),
        serde_json::Value::Bool(b) => Ok(CtxValue::Single(b.to_string())),
        serde_json::Value::Number(n) => Ok(CtxValue::Single(n.to_string())),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|i| match i {
                serde_json::Value::String(s) => Ok(s.clone()),
                other => Ok(other.to_string()),
            })
            .collect::<Result<Vec<_>, String>>()
            .map(CtxValue::Multi),
        _ => Err(format!("condition `{key}` must be a string or a list of strings")),
    }
}

/// Resolves the key reference of a request to a key index and, when named by alias, the alias.
///
/// # Errors
/// A lowercase message when no key or several keys match.
pub fn resolve_key(world: &World, key: Option<&str>) -> Result<(usize, Option<String>), String> {
    match key {
        Some(k) => {
            let idx = world.find_key_index(k).ok_or_else(|| format!("no key `{k}` in the inputs"))?;
            let alias = (k.starts_with("alias/") || k.contains(":alias/")).then(|| k.to_string());
            Ok((idx, alias))
        }
        None if world.keys.len() == 1 => Ok((0, None)),
        None if world.keys.is_empty() => Err("the inputs contain no key".into()),
        None => Err(format!("the inputs contain {} keys: name one with `--key`", world.keys.len())),
    }
}

/// Builds a request.
///
/// # Errors
/// A lowercase message for an unknown key, a malformed principal or condition value.
pub fn build(world: &World, spec: &RequestSpec) -> Result<Request, String> {
    let (key, via_alias) = resolve_key(world, spec.key.as_deref())?;
    let caller = Caller::parse(&spec.principal, world)?;
    let mut context = Context::new();
    if !spec.context.is_empty() {
        context.set_encryption_context(spec.context.clone());
    }
    for (k, v) in &spec.conditions {
        context.set(k, json_value(k, v)?);
    }
    let action = if spec.action.contains(':') { spec.action.clone() } else { format!("kms:{}", spec.action) };
    Ok(Request {
        caller,
        action,
        key,
        context,
        via_alias,
        grant_tokens: spec.grant_tokens.clone(),
        grant_id: spec.grant_id.clone(),
        assume_identity_allows: false,
    })
}

/// A stable reference to a reason: `key-policy#Sid` (or `#index` when the statement has no
/// Sid), `grant#id`.
#[must_use]
pub fn reason_ref(world: &World, r: &Reason) -> String {
    if let Some(g) = &r.grant {
        return format!("grant#{g}");
    }
    let label = r
        .policy
        .and_then(|p| world.policy(p))
        .and_then(|e| r.index.and_then(|i| e.policy.statements.iter().find(|s| s.index == i)))
        .map_or_else(
            || r.index.map_or_else(String::new, |i| i.to_string()),
            |s| match &s.sid {
                Some(sid) if !sid.value.is_empty() => sid.value.clone(),
                _ => s.index.to_string(),
            },
        );
    format!("{}#{label}", r.source.as_str())
}
