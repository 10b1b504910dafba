//! The AWS action and condition-key catalogue.
//!
//! Data lives in `rules/catalog/*.json` (hand-written from `spec/semantics.md` §4.1–§4.3,
//! each file cites its sources in `_source`) and is embedded with `include_str!`. It is
//! parsed and checked once, on first use of [`catalog`].
//!
//! * `kms.json`: every KMS action of §4.1 with its resource kind, cross-account support,
//!   grant-operation flag, category and operation-specific condition keys.
//! * `condition-keys.json`: every `kms:` key of §4.2 and the global `aws:` keys (§4.3 and
//!   the other common global keys), with type, multi-valuedness and scope.
//! * `iam.json`, `sts.json`: action names only, so that action patterns of those services
//!   can be checked for typos (KP153).
//!
//! Names are matched case-insensitively, as IAM does; action patterns use the IAM `*`/`?`
//! wildcards with a literal service prefix (§1.4).

mod err;

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

pub use err::CatalogError;

use crate::policy::wildcard::glob_match;

const KMS_FILE: &str = "kms.json";
const KEYS_FILE: &str = "condition-keys.json";
const IAM_FILE: &str = "iam.json";
const STS_FILE: &str = "sts.json";

const KMS_JSON: &str = include_str!("../../rules/catalog/kms.json");
const KEYS_JSON: &str = include_str!("../../rules/catalog/condition-keys.json");
const IAM_JSON: &str = include_str!("../../rules/catalog/iam.json");
const STS_JSON: &str = include_str!("../../rules/catalog/sts.json");

const KMS: &str = "kms";
const IAM: &str = "iam";
const STS: &str = "sts";

/// The process-wide catalogue, parsed on first use.
///
/// If the embedded data were broken (a programming error caught by this module's tests)
/// the catalogue is empty rather than a panic.
#[must_use]
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| load().unwrap_or_default())
}

/// What a KMS action is authorised against (§4.1 "SAR resource").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResourceKind {
    /// A KMS key: the key policy applies (or IAM, when the key policy delegates).
    #[serde(rename = "key")]
    Key,
    /// Alias operations: the alias (IAM only) and the key(s).
    #[serde(rename = "alias+key")]
    AliasAndKey,
    /// No key resource: only IAM policies with `Resource: "*"` can allow it.
    /// Also used for every non-KMS action.
    #[serde(rename = "none")]
    None,
}

/// Coarse grouping of KMS actions used by the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionCategory {
    /// Cryptographic operations (and `GenerateRandom`).
    Crypto,
    /// Grant management: CreateGrant, RetireGrant, RevokeGrant, ListGrants, ListRetirableGrants.
    Grant,
    /// Key management, policy, lifecycle, tags, aliases, rotation, import.
    /// Also used for every non-KMS action (see [`ActionInfo::is_kms`]).
    Admin,
    /// Read-only metadata operations.
    Read,
    /// Custom key store operations.
    CustomKeyStore,
}

/// One action of a known service.
///
/// For `iam` and `sts` actions only `service` and `name` carry information: the other
/// fields are the neutral values (`resource: None`, `category: Admin`, every flag false,
/// no condition keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionInfo {
    /// Service prefix in lower case: `"kms"`, `"iam"` or `"sts"`.
    pub service: &'static str,
    /// Canonical name with the service prefix, e.g. `"kms:Decrypt"`.
    pub name: String,
    /// What the action is authorised against.
    pub resource: ResourceKind,
    /// Whether a principal of another account can call it on the key (§4.1 "Cross-account").
    pub cross_account: bool,
    /// Whether the `KeyId` parameter may be an alias name or alias ARN.
    pub alias_key_id: bool,
    /// Whether it is a grant operation (§6.2).
    pub grant_operation: bool,
    /// Coarse grouping.
    pub category: ActionCategory,
    /// Not a callable API (KMS-internal, e.g. `SynchronizeMultiRegionKey`).
    pub internal: bool,
    /// Operation-specific condition keys, canonical catalogue names (prefix keys with
    /// their separator, e.g. `"kms:EncryptionContext:"`, `"aws:RequestTag/"`).
    pub condition_keys: Vec<String>,
}

impl ActionInfo {
    /// The action name without the service prefix, e.g. `"Decrypt"`.
    #[must_use]
    pub fn action_name(&self) -> &str {
        self.name.split_once(':').map_or(self.name.as_str(), |(_, rest)| rest)
    }

    /// True for KMS actions, the only ones whose attributes are meaningful.
    #[must_use]
    pub fn is_kms(&self) -> bool {
        self.service == KMS
    }
}

/// Data type of a condition key (the SAR type, `ArrayOf…` folded into `multi`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyType {
    /// String operators.
    #[serde(rename = "String")]
    String,
    /// ARN operators (string operators also work).
    #[serde(rename = "ARN")]
    Arn,
    /// `Bool`.
    #[serde(rename = "Bool")]
    Bool,
    /// Numeric operators.
    #[serde(rename = "Numeric")]
    Numeric,
    /// Date operators.
    #[serde(rename = "Date")]
    Date,
    /// `IpAddress` / `NotIpAddress`.
    #[serde(rename = "IPAddress")]
    IpAddress,
    /// `BinaryEquals`.
    #[serde(rename = "Binary")]
    Binary,
}

/// In which requests a condition key can be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyScope {
    /// A global `aws:` key.
    #[serde(rename = "global")]
    Global,
    /// A `kms:` key present for every KMS key-resource operation (it describes the key or
    /// the caller), plus the actions that list it explicitly (e.g. `kms:KeySpec` for CreateKey).
    #[serde(rename = "resource")]
    KmsResource,
    /// A `kms:` key present only in the actions that list it in their `condition_keys`.
    #[serde(rename = "actions")]
    Actions,
}

/// One condition key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionKeyInfo {
    /// Canonical name; for prefix keys the prefix including its separator
    /// (`"kms:EncryptionContext:"`, `"aws:PrincipalTag/"`).
    pub name: String,
    /// Whether this entry stands for a family of keys `name<suffix>`.
    pub prefix: bool,
    /// Data type.
    pub ty: KeyType,
    /// Multi-valued (must be used with `ForAnyValue`/`ForAllValues`, §3.5).
    pub multi: bool,
    /// Where the key can be present.
    pub scope: KeyScope,
    /// Only effective in IAM policies (`kms:ResourceAliases`, `aws:ResourceTag/`).
    pub iam_only: bool,
    /// Deprecated name (`kms:CustomerMasterKeySpec`, ...).
    pub deprecated: bool,
    /// Short human note from the data file.
    pub note: String,
}

/// The loaded catalogue. Obtain it with [`catalog`].
#[derive(Debug, Default)]
pub struct Catalog {
    /// KMS actions first (file order), then IAM, then STS.
    actions: Vec<ActionInfo>,
    kms_len: usize,
    /// Lower-case full action name → index into `actions`.
    action_index: crate::world::FastMap<String, usize>,
    /// Canonical full action name → index (lookups in canonical case allocate nothing).
    action_exact: crate::world::FastMap<String, usize>,
    services: Vec<&'static str>,
    keys: Vec<ConditionKeyInfo>,
    /// Lower-case full key name → index into `keys`.
    key_index: crate::world::FastMap<String, usize>,
    /// Indexes of the prefix keys.
    prefix_keys: Vec<usize>,
}

/// How an action pattern relates to the catalogue.
enum PatternTarget<'a> {
    /// `"*"`: every action of every service.
    All,
    /// A pattern of a known service; the whole pattern is matched against full names.
    Service(&'static str, &'a str),
    /// A pattern of a known service that can never match (it contains whitespace).
    KnownNoMatch,
    /// Unknown service, or not of the form `service:action`.
    Unknown,
}

impl Catalog {
    /// Looks an action up by its full name, case-insensitively (`"kms:decrypt"`).
    #[must_use]
    pub fn action(&self, name: &str) -> Option<&ActionInfo> {
        self.action_id(name).and_then(|i| self.actions.get(i))
    }

    /// The position of an action in [`Catalog::actions`], looked up by its full name,
    /// case-insensitively.
    #[must_use]
    pub fn action_id(&self, name: &str) -> Option<usize> {
        if let Some(&i) = self.action_exact.get(name) {
            return Some(i);
        }
        if name.chars().any(char::is_whitespace) {
            return None;
        }
        self.action_index.get(&name.to_lowercase()).copied()
    }

    /// All KMS actions, in the stable order of `rules/catalog/kms.json` (alphabetical).
    #[must_use]
    pub fn kms_actions(&self) -> &[ActionInfo] {
        self.actions.get(..self.kms_len).unwrap_or(&[])
    }

    /// All actions of all known services: KMS, then IAM, then STS.
    #[must_use]
    pub fn actions(&self) -> &[ActionInfo] {
        &self.actions
    }

    /// Actions of the known services matched by an IAM action pattern (`*`, `?`),
    /// case-insensitively, in the order of [`Catalog::actions`]. `"*"` matches every action;
    /// a pattern of an unknown service, or containing whitespace, matches nothing.
    #[must_use]
    pub fn matching_actions(&self, pattern: &str) -> Vec<&ActionInfo> {
        match self.target(pattern) {
            PatternTarget::All => self.actions.iter().collect(),
            PatternTarget::Service(service, pattern) => {
                self.actions.iter().filter(|a| a.service == service && glob_match(pattern, &a.name, true)).collect()
            }
            PatternTarget::KnownNoMatch | PatternTarget::Unknown => Vec::new(),
        }
    }

    /// Whether `prefix` is a service the catalogue lists actions for (case-insensitive).
    #[must_use]
    pub fn knows_service(&self, prefix: &str) -> bool {
        self.services.iter().any(|s| s.eq_ignore_ascii_case(prefix))
    }

    /// `None` when the pattern's service is not known (not `kms`, `iam` or `sts`), else
    /// whether the pattern matches at least one action. `"*"` counts as known.
    #[must_use]
    pub fn pattern_matches_known_action(&self, pattern: &str) -> Option<bool> {
        match self.target(pattern) {
            PatternTarget::All => Some(!self.actions.is_empty()),
            PatternTarget::Service(service, pattern) => {
                Some(self.actions.iter().any(|a| a.service == service && glob_match(pattern, &a.name, true)))
            }
            PatternTarget::KnownNoMatch => Some(false),
            PatternTarget::Unknown => None,
        }
    }

    /// Looks a condition key up, case-insensitively. A name below a prefix key resolves to
    /// the prefix entry: `"kms:EncryptionContext:AppName"` → `kms:EncryptionContext:`,
    /// `"aws:PrincipalTag/team"` → `aws:PrincipalTag/`.
    #[must_use]
    pub fn condition_key(&self, name: &str) -> Option<&ConditionKeyInfo> {
        if let Some(info) = self.key_index.get(&name.to_lowercase()).and_then(|&i| self.keys.get(i)) {
            return Some(info);
        }
        self.prefix_keys
            .iter()
            .filter_map(|&i| self.keys.get(i))
            .filter(|k| name.get(..k.name.len()).is_some_and(|head| head.eq_ignore_ascii_case(&k.name)))
            .max_by_key(|k| k.name.len())
    }

    /// All condition keys, `kms:` keys first, in file order.
    #[must_use]
    pub fn condition_keys(&self) -> &[ConditionKeyInfo] {
        &self.keys
    }

    /// Whether the condition key can be present in the request context of the action.
    ///
    /// Global keys: always true. [`KeyScope::KmsResource`] keys: any KMS action on a key
    /// (resource [`ResourceKind::Key`] or [`ResourceKind::AliasAndKey`]) and the actions
    /// that list the key (e.g. `kms:KeySpec` for `kms:CreateKey`). [`KeyScope::Actions`]
    /// keys: only the actions that list them. Unknown keys or actions: false.
    #[must_use]
    pub fn key_applies_to_action(&self, key: &str, action: &str) -> bool {
        let Some(key) = self.condition_key(key) else {
            return false;
        };
        if key.scope == KeyScope::Global {
            return true;
        }
        let Some(action) = self.action(action) else {
            return false;
        };
        if !action.is_kms() {
            return false;
        }
        let listed = action.condition_keys.contains(&key.name);
        match key.scope {
            KeyScope::Global => true,
            KeyScope::KmsResource => listed || action.resource != ResourceKind::None,
            KeyScope::Actions => listed,
        }
    }

    /// The KMS actions that can be granted (§6.2), in [`Catalog::kms_actions`] order.
    pub fn grant_operations(&self) -> impl Iterator<Item = &ActionInfo> + '_ {
        self.kms_actions().iter().filter(|a| a.grant_operation)
    }

    fn target<'a>(&self, pattern: &'a str) -> PatternTarget<'a> {
        if pattern == "*" {
            return PatternTarget::All;
        }
        let Some((service, _)) = pattern.split_once(':') else {
            return PatternTarget::Unknown;
        };
        let Some(&known) = self.services.iter().find(|s| s.eq_ignore_ascii_case(service.trim())) else {
            return PatternTarget::Unknown;
        };
        if pattern.chars().any(char::is_whitespace) {
            return PatternTarget::KnownNoMatch;
        }
        PatternTarget::Service(known, pattern)
    }
}

// ---------------------------------------------------------------------------------------
// Loading

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKmsFile {
    #[serde(rename = "_source")]
    source: String,
    actions: Vec<RawKmsAction>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKmsAction {
    name: String,
    resource: ResourceKind,
    cross_account: bool,
    alias_key_id: bool,
    grant_operation: bool,
    category: ActionCategory,
    #[serde(default)]
    internal: bool,
    condition_keys: Vec<String>,
    /// Human note, data only.
    #[serde(default, rename = "note")]
    _note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeysFile {
    #[serde(rename = "_source")]
    source: String,
    keys: Vec<RawKey>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    name: String,
    prefix: bool,
    #[serde(rename = "type")]
    ty: KeyType,
    multi: bool,
    scope: KeyScope,
    iam_only: bool,
    deprecated: bool,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServiceFile {
    #[serde(rename = "_source")]
    source: String,
    service: String,
    actions: Vec<String>,
}

fn parse<T: serde::de::DeserializeOwned>(file: &'static str, text: &str) -> Result<T, CatalogError> {
    serde_json::from_str(text).map_err(|source| CatalogError::Parse { file, source })
}

fn invalid(file: &'static str, message: String) -> CatalogError {
    CatalogError::Invalid { file, message }
}

fn check_source(file: &'static str, source: &str) -> Result<(), CatalogError> {
    if source.trim().is_empty() {
        return Err(invalid(file, "`_source` is empty".to_owned()));
    }
    Ok(())
}

fn check_action_name(file: &'static str, name: &str) -> Result<(), CatalogError> {
    let ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(invalid(file, format!("bad action name `{name}`")))
    }
}

/// Parses and cross-checks the embedded data.
fn load() -> Result<Catalog, CatalogError> {
    let kms: RawKmsFile = parse(KMS_FILE, KMS_JSON)?;
    let keys: RawKeysFile = parse(KEYS_FILE, KEYS_JSON)?;
    let iam: RawServiceFile = parse(IAM_FILE, IAM_JSON)?;
    let sts: RawServiceFile = parse(STS_FILE, STS_JSON)?;

    let mut cat = Catalog::default();
    load_keys(&mut cat, keys)?;
    load_kms(&mut cat, kms)?;
    load_service(&mut cat, IAM_FILE, IAM, iam)?;
    load_service(&mut cat, STS_FILE, STS, sts)?;
    check_key_usage(&cat)?;
    Ok(cat)
}

fn load_keys(cat: &mut Catalog, file: RawKeysFile) -> Result<(), CatalogError> {
    check_source(KEYS_FILE, &file.source)?;
    for raw in file.keys {
        let name = raw.name;
        let is_aws = name.starts_with("aws:");
        if !is_aws && !name.starts_with("kms:") {
            return Err(invalid(KEYS_FILE, format!("`{name}` is neither kms: nor aws:")));
        }
        if is_aws != (raw.scope == KeyScope::Global) {
            return Err(invalid(KEYS_FILE, format!("`{name}`: scope global is for aws: keys only")));
        }
        if raw.prefix != (name.ends_with(':') || name.ends_with('/')) {
            return Err(invalid(KEYS_FILE, format!("`{name}`: prefix keys, and only they, end with `:` or `/`")));
        }
        let lower = name.to_lowercase();
        if cat.key_index.contains_key(&lower) {
            return Err(invalid(KEYS_FILE, format!("duplicate key `{name}`")));
        }
        let index = cat.keys.len();
        cat.key_index.insert(lower, index);
        if raw.prefix {
            cat.prefix_keys.push(index);
        }
        cat.keys.push(ConditionKeyInfo {
            name,
            prefix: raw.prefix,
            ty: raw.ty,
            multi: raw.multi,
            scope: raw.scope,
            iam_only: raw.iam_only,
            deprecated: raw.deprecated,
            note: raw.note,
        });
    }
    Ok(())
}

fn push_action(cat: &mut Catalog, file: &'static str, info: ActionInfo) -> Result<(), CatalogError> {
    let lower = info.name.to_lowercase();
    if cat.action_index.contains_key(&lower) {
        return Err(invalid(file, format!("duplicate action `{}`", info.name)));
    }
    cat.action_index.insert(lower, cat.actions.len());
    cat.action_exact.insert(info.name.clone(), cat.actions.len());
    cat.actions.push(info);
    Ok(())
}

fn load_kms(cat: &mut Catalog, file: RawKmsFile) -> Result<(), CatalogError> {
    check_source(KMS_FILE, &file.source)?;
    cat.services.push(KMS);
    for raw in file.actions {
        check_action_name(KMS_FILE, &raw.name)?;
        for key in &raw.condition_keys {
            // Exact canonical names: the data must spell keys the way condition-keys.json does.
            let known =
                cat.key_index.get(&key.to_lowercase()).and_then(|&i| cat.keys.get(i)).is_some_and(|k| k.name == *key);
            if !known {
                return Err(invalid(KMS_FILE, format!("{}: unknown or mis-spelled condition key `{key}`", raw.name)));
            }
        }
        push_action(
            cat,
            KMS_FILE,
            ActionInfo {
                service: KMS,
                name: format!("{KMS}:{}", raw.name),
                resource: raw.resource,
                cross_account: raw.cross_account,
                alias_key_id: raw.alias_key_id,
                grant_operation: raw.grant_operation,
                category: raw.category,
                internal: raw.internal,
                condition_keys: raw.condition_keys,
            },
        )?;
    }
    cat.kms_len = cat.actions.len();
    Ok(())
}

fn load_service(
    cat: &mut Catalog,
    file_name: &'static str,
    service: &'static str,
    file: RawServiceFile,
) -> Result<(), CatalogError> {
    check_source(file_name, &file.source)?;
    if file.service != service {
        return Err(invalid(file_name, format!("`service` is `{}`, expected `{service}`", file.service)));
    }
    cat.services.push(service);
    for name in file.actions {
        check_action_name(file_name, &name)?;
        push_action(
            cat,
            file_name,
            ActionInfo {
                service,
                name: format!("{service}:{name}"),
                resource: ResourceKind::None,
                cross_account: false,
                alias_key_id: false,
                grant_operation: false,
                category: ActionCategory::Admin,
                internal: false,
                condition_keys: Vec::new(),
            },
        )?;
    }
    Ok(())
}

/// Every action-scoped `kms:` key must be listed by at least one action.
fn check_key_usage(cat: &Catalog) -> Result<(), CatalogError> {
    for key in cat.keys.iter().filter(|k| k.scope == KeyScope::Actions) {
        let used = cat.kms_actions().iter().any(|a| a.condition_keys.contains(&key.name));
        if !used {
            return Err(invalid(KEYS_FILE, format!("`{}` has scope actions but no action lists it", key.name)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row of the §4.1 table.
    const SPEC_ACTIONS: [&str; 56] = [
        "CancelKeyDeletion",
        "ConnectCustomKeyStore",
        "CreateAlias",
        "CreateCustomKeyStore",
        "CreateGrant",
        "CreateKey",
        "Decrypt",
        "DeleteAlias",
        "DeleteCustomKeyStore",
        "DeleteImportedKeyMaterial",
        "DeriveSharedSecret",
        "DescribeCustomKeyStores",
        "DescribeKey",
        "DisableKey",
        "DisableKeyRotation",
        "DisconnectCustomKeyStore",
        "EnableKey",
        "EnableKeyRotation",
        "Encrypt",
        "GenerateDataKey",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateMac",
        "GenerateRandom",
        "GetKeyLastUsage",
        "GetKeyPolicy",
        "GetKeyRotationStatus",
        "GetParametersForImport",
        "GetPublicKey",
        "ImportKeyMaterial",
        "ListAliases",
        "ListGrants",
        "ListKeyPolicies",
        "ListKeyRotations",
        "ListKeys",
        "ListResourceTags",
        "ListRetirableGrants",
        "PutKeyPolicy",
        "ReEncryptFrom",
        "ReEncryptTo",
        "ReplicateKey",
        "RetireGrant",
        "RevokeGrant",
        "RotateKeyOnDemand",
        "ScheduleKeyDeletion",
        "Sign",
        "SynchronizeMultiRegionKey",
        "TagResource",
        "UntagResource",
        "UpdateAlias",
        "UpdateCustomKeyStore",
        "UpdateKeyDescription",
        "UpdatePrimaryRegion",
        "Verify",
        "VerifyMac",
    ];

    fn cat() -> &'static Catalog {
        catalog()
    }

    fn kms(name: &str) -> &'static ActionInfo {
        cat().action(&format!("kms:{name}")).unwrap_or_else(|| panic!("kms:{name} missing"))
    }

    /// Short names of the key-resource actions a pattern matches, sorted.
    fn key_ops(pattern: &str) -> Vec<&'static str> {
        let mut names: Vec<&str> = cat()
            .matching_actions(pattern)
            .into_iter()
            .filter(|a| a.resource != ResourceKind::None)
            .map(ActionInfo::action_name)
            .collect();
        names.sort_unstable();
        names
    }

    fn sorted(mut v: Vec<&str>) -> Vec<&str> {
        v.sort_unstable();
        v
    }

    #[test]
    fn embedded_data_parses_and_is_consistent() {
        let loaded = load().expect("embedded catalogue must load");
        assert_eq!(loaded.kms_actions().len(), SPEC_ACTIONS.len());
        assert!(!catalog().actions().is_empty());
    }

    #[test]
    fn every_spec_row_is_present_in_order() {
        let got: Vec<&str> = cat().kms_actions().iter().map(ActionInfo::action_name).collect();
        assert_eq!(got, SPEC_ACTIONS);
        for name in SPEC_ACTIONS {
            let a = kms(name);
            assert_eq!(a.service, "kms");
            assert_eq!(a.name, format!("kms:{name}"));
        }
    }

    #[test]
    fn action_lookup_is_case_insensitive() {
        let a = cat().action("KMS:decrypt").expect("found");
        assert_eq!(a.name, "kms:Decrypt");
        assert!(cat().action("kms:Decrypt ").is_none());
        assert!(cat().action("kms:Decrypt*").is_none());
    }

    #[test]
    fn table_attributes() {
        let decrypt = kms("Decrypt");
        assert_eq!(decrypt.resource, ResourceKind::Key);
        assert!(decrypt.cross_account && decrypt.alias_key_id && decrypt.grant_operation);
        assert_eq!(decrypt.category, ActionCategory::Crypto);

        let random = kms("GenerateRandom");
        assert_eq!(random.resource, ResourceKind::None);
        assert!(!random.cross_account);
        assert_eq!(random.category, ActionCategory::Crypto);

        assert_eq!(kms("CreateAlias").resource, ResourceKind::AliasAndKey);
        assert_eq!(kms("UpdateAlias").resource, ResourceKind::AliasAndKey);
        assert_eq!(kms("CreateKey").resource, ResourceKind::None);
        assert!(kms("SynchronizeMultiRegionKey").internal);
        assert_eq!(cat().kms_actions().iter().filter(|a| a.internal).count(), 1);
        assert_eq!(kms("ListRetirableGrants").category, ActionCategory::Grant);
        assert_eq!(kms("DescribeCustomKeyStores").category, ActionCategory::CustomKeyStore);
        assert_eq!(kms("GetKeyLastUsage").category, ActionCategory::Read);
        assert!(kms("GetKeyLastUsage").alias_key_id);
        assert!(!kms("GetKeyRotationStatus").alias_key_id);
        assert!(kms("GetKeyRotationStatus").cross_account);
        assert_eq!(kms("PutKeyPolicy").category, ActionCategory::Admin);
    }

    #[test]
    fn grant_operations_are_those_of_6_2() {
        let got = sorted(cat().grant_operations().map(ActionInfo::action_name).collect());
        // The list of semantics.md §6.2, kept once in `world::GRANT_OPERATIONS`.
        let want = sorted(crate::world::GRANT_OPERATIONS.to_vec());
        assert_eq!(got, want);
    }

    #[test]
    fn delete_star_does_not_include_schedule_key_deletion() {
        let all = cat().matching_actions("kms:Delete*");
        assert!(all.iter().all(|a| a.name != "kms:ScheduleKeyDeletion"));
        assert_eq!(key_ops("kms:Delete*"), ["DeleteAlias", "DeleteImportedKeyMaterial"]);
    }

    #[test]
    fn question_mark_matches_both_reencrypt_actions() {
        let got: Vec<&str> =
            cat().matching_actions("kms:Re?ncrypt*").into_iter().map(ActionInfo::action_name).collect();
        assert_eq!(got, ["ReEncryptFrom", "ReEncryptTo"]);
        assert_eq!(key_ops("kms:ReEncrypt*"), ["ReEncryptFrom", "ReEncryptTo"]);
    }

    #[test]
    fn console_wildcard_expansions() {
        assert_eq!(key_ops("kms:Describe*"), ["DescribeKey"]);
        assert_eq!(
            sorted(cat().matching_actions("kms:Describe*").into_iter().map(ActionInfo::action_name).collect()),
            ["DescribeCustomKeyStores", "DescribeKey"]
        );
        assert_eq!(
            key_ops("kms:List*"),
            sorted(vec!["ListGrants", "ListKeyPolicies", "ListResourceTags", "ListKeyRotations"])
        );
        assert_eq!(
            key_ops("kms:Get*"),
            sorted(vec![
                "GetKeyPolicy",
                "GetKeyRotationStatus",
                "GetParametersForImport",
                "GetPublicKey",
                "GetKeyLastUsage"
            ])
        );
        assert_eq!(
            sorted(cat().matching_actions("kms:GenerateDataKey*").into_iter().map(ActionInfo::action_name).collect()),
            sorted(vec![
                "GenerateDataKey",
                "GenerateDataKeyWithoutPlaintext",
                "GenerateDataKeyPair",
                "GenerateDataKeyPairWithoutPlaintext"
            ])
        );
        assert_eq!(key_ops("kms:Create*"), ["CreateAlias", "CreateGrant"]);
        assert_eq!(key_ops("kms:Enable*"), ["EnableKey", "EnableKeyRotation"]);
        assert_eq!(key_ops("kms:Disable*"), ["DisableKey", "DisableKeyRotation"]);
        assert_eq!(key_ops("kms:Put*"), ["PutKeyPolicy"]);
        assert_eq!(key_ops("kms:Update*"), ["UpdateAlias", "UpdateKeyDescription", "UpdatePrimaryRegion"]);
        assert_eq!(key_ops("kms:Revoke*"), ["RevokeGrant"]);
        assert_eq!(key_ops("KMS:revoke*"), ["RevokeGrant"]);
    }

    #[test]
    fn star_and_service_star() {
        let c = cat();
        assert_eq!(c.matching_actions("*").len(), c.actions().len());
        assert_eq!(c.matching_actions("kms:*").len(), SPEC_ACTIONS.len());
        assert!(c.matching_actions("iam:*").iter().all(|a| a.service == "iam"));
        assert!(c.matching_actions("kms:Encrypt ").is_empty());
        assert!(c.matching_actions("km*:Decrypt").is_empty());
        assert_eq!(c.pattern_matches_known_action("*"), Some(true));
    }

    #[test]
    fn known_services() {
        let c = cat();
        assert!(c.knows_service("kms"));
        assert!(c.knows_service("IAM"));
        assert!(c.knows_service("sts"));
        assert!(!c.knows_service("s3"));
        assert!(!c.knows_service("km*"));
    }

    #[test]
    fn iam_and_sts_actions_are_known() {
        let c = cat();
        let pass_role = c.action("iam:PassRole").expect("iam:PassRole");
        assert_eq!(pass_role.service, "iam");
        assert!(!pass_role.is_kms());
        assert!(c.action("sts:AssumeRole").is_some());
        assert!(c.action("sts:assumerolewithwebidentity").is_some());
        assert!(c.action("sts:AssumeRoot").is_some());
        assert_eq!(c.pattern_matches_known_action("iam:Pass*"), Some(true));
        assert_eq!(c.pattern_matches_known_action("sts:AssumeRole*"), Some(true));
        assert_eq!(c.pattern_matches_known_action("iam:PassRoles"), Some(false));
    }

    #[test]
    fn pattern_against_known_and_unknown_services() {
        let c = cat();
        assert_eq!(c.pattern_matches_known_action("s3:GetObject"), None);
        assert_eq!(c.pattern_matches_known_action("km*:Decrypt"), None);
        assert_eq!(c.pattern_matches_known_action("Decrypt"), None);
        assert_eq!(c.pattern_matches_known_action("kms:Decryptt"), Some(false));
        assert_eq!(c.pattern_matches_known_action("kms:Decrypt"), Some(true));
        assert_eq!(c.pattern_matches_known_action("KMS:DECRYPT"), Some(true));
        assert_eq!(c.pattern_matches_known_action("kms:Encrypt "), Some(false));
        assert_eq!(c.pattern_matches_known_action("kms:*"), Some(true));
        assert_eq!(c.pattern_matches_known_action("kms:"), Some(false));
    }

    #[test]
    fn prefix_keys_resolve_case_insensitively() {
        let c = cat();
        let ec = c.condition_key("kms:EncryptionContext:Foo").expect("ec");
        assert_eq!(ec.name, "kms:EncryptionContext:");
        assert!(ec.prefix && !ec.multi);
        assert_eq!(
            c.condition_key("KMS:encryptioncontext:foo").map(|k| k.name.as_str()),
            Some("kms:EncryptionContext:")
        );
        assert_eq!(
            c.condition_key("kms:encryptioncontextkeys").map(|k| k.name.as_str()),
            Some("kms:EncryptionContextKeys")
        );
        assert_eq!(c.condition_key("aws:PrincipalTag/team").map(|k| k.name.as_str()), Some("aws:PrincipalTag/"));
        assert_eq!(c.condition_key("aws:requesttag/Env").map(|k| k.name.as_str()), Some("aws:RequestTag/"));
        assert_eq!(
            c.condition_key("kms:RecipientAttestation:PCR0").map(|k| k.name.as_str()),
            Some("kms:RecipientAttestation:")
        );
        assert!(c.condition_key("kms:EncryptionContextFoo").is_none());
        assert!(c.condition_key("aws:PrincipalTag").is_none());
        assert!(c.condition_key("aws:IsMFAPresent").is_none());
        assert!(c.condition_key("kms:CallerAccount ").is_none());
    }

    #[test]
    fn multi_valued_keys() {
        let c = cat();
        for name in [
            "kms:GrantOperations",
            "kms:EncryptionContextKeys",
            "kms:ResourceAliases",
            "aws:PrincipalOrgPaths",
            "aws:TagKeys",
            "aws:CalledVia",
            "aws:PrincipalServiceNamesList",
            "aws:ResourceOrgPaths",
        ] {
            assert!(c.condition_key(name).is_some_and(|k| k.multi), "{name}");
        }
        for name in [
            "kms:EncryptionContext:AppName",
            "aws:RequestTag/Env",
            "kms:PrimaryRegion",
            "kms:ReplicaRegion",
            "aws:CalledViaFirst",
            "kms:CallerAccount",
        ] {
            assert!(c.condition_key(name).is_some_and(|k| !k.multi), "{name}");
        }
    }

    #[test]
    fn key_attributes() {
        let c = cat();
        let get = |n: &str| c.condition_key(n).unwrap_or_else(|| panic!("{n}"));
        assert!(get("kms:ResourceAliases").iam_only);
        assert!(get("aws:ResourceTag/Owner").iam_only);
        assert!(!get("aws:RequestTag/Owner").iam_only);
        assert!(get("kms:CustomerMasterKeySpec").deprecated);
        assert_eq!(get("kms:GrantIsForAWSResource").ty, KeyType::Bool);
        assert_eq!(get("kms:ValidTo").ty, KeyType::Date);
        assert_eq!(get("aws:SourceIp").ty, KeyType::IpAddress);
        assert_eq!(get("aws:PrincipalArn").ty, KeyType::Arn);
        assert_eq!(get("kms:RotationPeriodInDays").ty, KeyType::Numeric);
        assert_eq!(get("kms:ViaService").scope, KeyScope::KmsResource);
        assert_eq!(get("kms:RequestAlias").scope, KeyScope::Actions);
        assert_eq!(get("aws:SecureTransport").scope, KeyScope::Global);
        for k in c.condition_keys() {
            assert_eq!(k.scope == KeyScope::Global, k.name.starts_with("aws:"));
        }
    }

    #[test]
    fn encryption_context_applies_to_decrypt_not_put_key_policy() {
        let c = cat();
        assert!(c.key_applies_to_action("kms:EncryptionContext:AppName", "kms:Decrypt"));
        assert!(c.key_applies_to_action("kms:encryptioncontext:appname", "KMS:decrypt"));
        assert!(c.key_applies_to_action("kms:EncryptionContextKeys", "kms:CreateGrant"));
        assert!(c.key_applies_to_action("kms:EncryptionContext:k", "kms:RetireGrant"));
        assert!(!c.key_applies_to_action("kms:EncryptionContext:AppName", "kms:PutKeyPolicy"));
        assert!(!c.key_applies_to_action("kms:EncryptionContext:AppName", "kms:Sign"));
        assert!(!c.key_applies_to_action("kms:GrantOperations", "kms:Decrypt"));
        assert!(c.key_applies_to_action("kms:GrantOperations", "kms:CreateGrant"));
    }

    #[test]
    fn caller_account_applies_to_every_key_resource_op() {
        let c = cat();
        for a in c.kms_actions() {
            if a.resource != ResourceKind::None {
                assert!(c.key_applies_to_action("kms:CallerAccount", &a.name), "{}", a.name);
                assert!(c.key_applies_to_action("kms:ViaService", &a.name), "{}", a.name);
                assert!(c.key_applies_to_action("kms:KeySpec", &a.name), "{}", a.name);
            }
        }
        assert!(c.key_applies_to_action("kms:CallerAccount", "kms:CreateCustomKeyStore"));
        assert!(!c.key_applies_to_action("kms:CallerAccount", "kms:ListKeys"));
        assert!(!c.key_applies_to_action("kms:ViaService", "kms:GenerateRandom"));
    }

    #[test]
    fn resource_keys_apply_to_create_key() {
        let c = cat();
        for key in ["kms:KeySpec", "kms:KeyUsage", "kms:KeyOrigin", "kms:MultiRegion", "kms:MultiRegionKeyType"] {
            assert!(c.key_applies_to_action(key, "kms:CreateKey"), "{key}");
            assert!(!c.key_applies_to_action(key, "kms:ListAliases"), "{key}");
        }
        assert!(!c.key_applies_to_action("kms:ResourceAliases", "kms:CreateKey"));
        assert!(c.key_applies_to_action("kms:ResourceAliases", "kms:Decrypt"));
    }

    #[test]
    fn global_and_unknown_keys() {
        let c = cat();
        assert!(c.key_applies_to_action("aws:PrincipalOrgID", "kms:Decrypt"));
        assert!(c.key_applies_to_action("aws:SourceIp", "kms:ListKeys"));
        assert!(c.key_applies_to_action("aws:PrincipalTag/team", "kms:Encrypt"));
        assert!(!c.key_applies_to_action("kms:NoSuchKey", "kms:Decrypt"));
        assert!(!c.key_applies_to_action("kms:CallerAccount", "kms:NoSuchAction"));
        assert!(!c.key_applies_to_action("kms:CallerAccount", "iam:PassRole"));
    }

    #[test]
    fn action_condition_keys_resolve_to_catalogue_keys() {
        let c = cat();
        for a in c.kms_actions() {
            for k in &a.condition_keys {
                let info = c.condition_key(k).expect("known key");
                assert_eq!(&info.name, k);
                assert!(c.key_applies_to_action(k, &a.name), "{k} on {}", a.name);
            }
        }
    }
}
