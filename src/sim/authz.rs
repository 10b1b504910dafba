//! The bridge between the simulator and the evaluator. The simulator keeps a [`World`] whose
//! keys mirror its own (policy, grants, aliases, metadata); every call becomes an evaluator
//! [`Request`] decided by [`authorize`] — policy matching is never re-implemented here.

use std::collections::BTreeMap;

use super::keystore::{KeyStore, SimGrant, SimKey, GRANT_PROPAGATION_SECONDS};
use super::KmsError;
use crate::eval::authorize::{authorize, Decision, ReasonSource, Request, Response};
use crate::eval::context::{Context, CtxValue};
use crate::eval::principal::Caller;
use crate::policy::model::DocKind;
use crate::policy::parse::parse_policy_text;
use crate::world::{Alias, Grant, Key, KeyMetadata, PolicyEntry, PolicySlot, World};

/// Maximum key policy size in bytes (§5.3).
pub const MAX_POLICY_BYTES: usize = 32_768;

/// The simulator's authorization world.
#[derive(Debug, Default)]
pub struct Authz {
    /// The world the evaluator sees.
    pub world: World,
    dirty: bool,
    /// The grants each world key currently shows (to avoid needless cache resets).
    shown: BTreeMap<usize, Vec<String>>,
}

/// One authorization question.
#[derive(Clone, Debug)]
pub struct Ask<'a> {
    /// The caller.
    pub caller: &'a Caller,
    /// `kms:Decrypt`, …
    pub action: &'a str,
    /// World key index.
    pub key: usize,
    /// Encryption context of the request, if it carries one.
    pub ec: Option<&'a BTreeMap<String, String>>,
    /// Other condition keys the operation sets (or the caller supplies).
    pub conditions: &'a BTreeMap<String, CtxValue>,
    /// The alias the key was named by.
    pub via_alias: Option<&'a str>,
    /// Grant tokens.
    pub grant_tokens: &'a [String],
    /// Grant concerned (`RetireGrant`, `RevokeGrant`).
    pub grant_id: Option<&'a str>,
    /// The caller stands for principals whose IAM is outside the world.
    pub assume_identity_allows: bool,
    /// Region of the call.
    pub region: &'a str,
}

impl Authz {
    /// Wraps a world.
    #[must_use]
    pub fn new(world: World) -> Self {
        Self { world, dirty: true, shown: BTreeMap::new() }
    }

    /// Marks the world as edited (caches are dropped before the next question).
    pub fn touch(&mut self) {
        self.dirty = true;
    }

    /// Parses a key policy into the world.
    ///
    /// # Errors
    /// `LimitExceededException` above 32 KB, `MalformedPolicyDocumentException` when the text is
    /// not a policy.
    pub fn add_key_policy(&mut self, name: &str, text: &str, account: &str) -> Result<PolicySlot, KmsError> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(KmsError::new("LimitExceededException", "the key policy is larger than 32768 bytes"));
        }
        let malformed = |why: &str| KmsError::new("MalformedPolicyDocumentException", why.to_string());
        let source = self.world.sources.add_file(name, text);
        let mut diags = Vec::new();
        let policy =
            parse_policy_text(source, text, &mut diags).ok_or_else(|| malformed("the policy is not valid JSON"))?;
        if policy.statements.is_empty() {
            return Err(malformed("the policy has no statement"));
        }
        let id = self.world.add_policy(PolicyEntry {
            policy,
            kind: DocKind::KeyPolicy,
            name: "key-policy".into(),
            account: Some(account.to_string()),
        });
        self.touch();
        Ok(PolicySlot::Known(id))
    }

    /// The text of a key's policy.
    #[must_use]
    pub fn policy_text(&self, key: usize) -> Option<String> {
        let slot = self.world.keys.get(key)?.policy.as_ref()?;
        let entry = self.world.slot(slot)?;
        let src = self.world.sources.get(entry.policy.source)?;
        src.text.get(entry.policy.span.range()).map(str::to_string)
    }

    /// Adds a key to the world; returns its index.
    pub fn add_key(&mut self, key: Key) -> usize {
        self.world.touch_account(&key.account);
        self.world.keys.push(key);
        self.touch();
        self.world.keys.len() - 1
    }

    /// Mirrors a simulator key's metadata into its world key.
    pub fn sync_metadata(&mut self, k: &SimKey, spec: &str, usage: &str, related: &[(String, String, bool)]) {
        let Some(w) = self.world.keys.get_mut(k.world_index) else { return };
        let primary = related.iter().find(|r| r.2).map(|r| r.0.clone());
        let md = KeyMetadata {
            state: k.state.as_str().into(),
            spec: spec.into(),
            usage: usage.into(),
            manager: k.manager.clone(),
            multi_region: k.mrk != super::keystore::MrkRole::None,
            multi_region_type: match k.mrk {
                super::keystore::MrkRole::Primary => Some("PRIMARY".into()),
                super::keystore::MrkRole::Replica => Some("REPLICA".into()),
                super::keystore::MrkRole::None => None,
            },
            primary_arn: primary,
            replica_arns: related.iter().filter(|r| !r.2).map(|r| r.0.clone()).collect(),
            deletion_date: k.deletion_date.map(super::api::iso),
            description: Some(k.description.clone()),
            ..KeyMetadata::default()
        };
        if w.metadata.as_ref() != Some(&md) {
            w.metadata = Some(md);
            self.dirty = true;
        }
    }

    /// Mirrors the aliases of the store into the world.
    pub fn sync_aliases(&mut self, store: &KeyStore) {
        self.world.aliases = store
            .aliases
            .iter()
            .map(|((account, region, name), id)| Alias {
                name: name.clone(),
                arn: format!("arn:aws:kms:{region}:{account}:{name}"),
                account: account.clone(),
                region: region.clone(),
                target_key_id: Some(id.clone()),
                ..Alias::default()
            })
            .collect();
        self.touch();
    }

    /// Shows a world key the grants a request can see: propagated ones, and new ones whose
    /// token the request carries (§6.7).
    fn sync_grants(&mut self, key: usize, grants: &[SimGrant], now: i64, tokens: &[String]) {
        let visible: Vec<Grant> = grants
            .iter()
            .filter(|g| now >= g.created + GRANT_PROPAGATION_SECONDS || g.tokens.iter().any(|t| tokens.contains(t)))
            .map(|g| g.grant.clone())
            .collect();
        let ids: Vec<String> = visible.iter().map(|g| g.id.clone()).collect();
        if self.shown.get(&key) != Some(&ids) {
            if let Some(w) = self.world.keys.get_mut(key) {
                w.grants = Some(visible);
            }
            self.shown.insert(key, ids);
            self.dirty = true;
        }
    }

    /// Decides one question through the evaluator.
    pub fn decide(&mut self, ask: &Ask<'_>, grants: &[SimGrant], now: i64) -> Response {
        self.sync_grants(ask.key, grants, now, ask.grant_tokens);
        if self.dirty {
            self.world.reset_cache();
            self.dirty = false;
        }
        let mut context = Context::new();
        if let Some(ec) = ask.ec {
            context.set_encryption_context(ec.clone());
        }
        context.set_single("aws:RequestedRegion", ask.region);
        for (k, v) in ask.conditions {
            context.set(k, v.clone());
        }
        let req = Request {
            caller: ask.caller.clone(),
            action: ask.action.to_string(),
            key: ask.key,
            context,
            via_alias: ask.via_alias.map(str::to_string),
            grant_tokens: ask.grant_tokens.to_vec(),
            grant_id: ask.grant_id.map(str::to_string),
            assume_identity_allows: ask.assume_identity_allows,
        };
        authorize(&self.world, &req)
    }

    /// Decides one question; a deny becomes `AccessDeniedException` with the message shape of
    /// §7.4.
    ///
    /// # Errors
    /// `AccessDeniedException`.
    pub fn require(&mut self, ask: &Ask<'_>, grants: &[SimGrant], now: i64) -> Result<Response, KmsError> {
        let resp = self.decide(ask, grants, now);
        if resp.decision == Decision::Allow {
            return Ok(resp);
        }
        let resource = self.world.keys.get(ask.key).map(|k| k.arn.clone()).unwrap_or_default();
        let why = match resp.decision {
            Decision::ExplicitDeny => {
                let src = resp.reasons.first().map(|r| r.source);
                match src {
                    Some(ReasonSource::KeyPolicy) => "with an explicit deny in a resource-based policy".to_string(),
                    Some(ReasonSource::Scp) => "with an explicit deny in a service control policy".to_string(),
                    Some(ReasonSource::Rcp) => "with an explicit deny in a resource control policy".to_string(),
                    _ => "with an explicit deny in an identity-based policy".to_string(),
                }
            }
            _ => format!("because no resource-based policy allows the {} action", ask.action),
        };
        Err(KmsError::new(
            "AccessDeniedException",
            format!(
                "User: {} is not authorized to perform: {} on resource: {resource} {why} ({})",
                ask.caller.arn(),
                ask.action,
                resp.explanation
            ),
        ))
    }
}

/// The programmatic default key policy (§5.1).
#[must_use]
pub fn default_policy(account: &str) -> String {
    format!(
        "{{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {{\n    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {{\n      \"AWS\" : \"arn:aws:iam::{account}:root\"\n    }},\n    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  }} ]\n}}"
    )
}
