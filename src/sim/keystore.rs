//! Keys, key material and key states (semantics.md §7): the simulator's own records. The
//! authorization side of a key (policy, grants, aliases, metadata) is mirrored into the
//! simulator's [`crate::world::World`] by [`super::authz`].

use std::collections::BTreeMap;

use super::crypto::{p256_generate, random_array, rsa_generate, Secret};
use super::KmsError;

/// A key state (§7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum KeyState {
    /// Usable.
    Enabled,
    /// `DisableKey`, or after `CancelKeyDeletion`.
    Disabled,
    /// Scheduled for deletion.
    PendingDeletion,
    /// A multi-Region primary scheduled for deletion while replicas exist.
    PendingReplicaDeletion,
    /// EXTERNAL origin without material.
    PendingImport,
    /// Custom key store disconnected.
    Unavailable,
    /// A replica being created.
    Creating,
    /// During `UpdatePrimaryRegion`.
    Updating,
}

impl KeyState {
    /// The API name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDeletion => "PendingDeletion",
            KeyState::PendingReplicaDeletion => "PendingReplicaDeletion",
            KeyState::PendingImport => "PendingImport",
            KeyState::Unavailable => "Unavailable",
            KeyState::Creating => "Creating",
            KeyState::Updating => "Updating",
        }
    }

    /// Parses an API name (unknown names read as `Enabled`).
    #[must_use]
    pub fn parse(s: &str) -> KeyState {
        match s {
            "Disabled" => KeyState::Disabled,
            "PendingDeletion" => KeyState::PendingDeletion,
            "PendingReplicaDeletion" => KeyState::PendingReplicaDeletion,
            "PendingImport" => KeyState::PendingImport,
            "Unavailable" => KeyState::Unavailable,
            "Creating" => KeyState::Creating,
            "Updating" => KeyState::Updating,
            _ => KeyState::Enabled,
        }
    }

    fn pending_deletion(self) -> bool {
        matches!(self, KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
    }
}

/// How an operation fares in each key state: one column group of the operation × state
/// matrix of §7.3. [`rule_of`] maps an operation to its rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateRule {
    /// Cryptographic operations, `CreateGrant`, `UpdatePrimaryRegion`: `Enabled` and `Updating`.
    Crypto,
    /// `ReplicateKey`: like [`StateRule::Crypto`], but not while `Updating` (footnote 15).
    Replicate,
    /// Works in every state (`DescribeKey`, `GetKeyPolicy`, `PutKeyPolicy`, `ListGrants`, …).
    Any,
    /// `EnableKey` / `DisableKey`.
    EnableDisable,
    /// `CancelKeyDeletion`: only when pending deletion.
    CancelDeletion,
    /// `ScheduleKeyDeletion`.
    ScheduleDeletion,
    /// `CreateAlias`, `UpdateAlias` (new target), `TagResource`, `UntagResource`,
    /// `UpdateKeyDescription`: not when pending deletion.
    NotPendingDeletion,
    /// `EnableKeyRotation` / `DisableKeyRotation`.
    Rotation,
    /// `RotateKeyOnDemand`: like [`StateRule::Rotation`], but not while `Updating`.
    RotateOnDemand,
    /// `GetKeyRotationStatus`: everywhere but `PendingImport` and `Unavailable`.
    RotationStatus,
}

/// The state rule of an operation (a `kms:` prefix is ignored); `ReEncrypt` is both of its
/// halves.
#[must_use]
pub fn rule_of(op: &str) -> StateRule {
    match op.strip_prefix("kms:").unwrap_or(op) {
        "ScheduleKeyDeletion" => StateRule::ScheduleDeletion,
        "EnableKey" | "DisableKey" => StateRule::EnableDisable,
        "CancelKeyDeletion" => StateRule::CancelDeletion,
        "EnableKeyRotation" | "DisableKeyRotation" => StateRule::Rotation,
        "RotateKeyOnDemand" => StateRule::RotateOnDemand,
        "GetKeyRotationStatus" => StateRule::RotationStatus,
        "CreateAlias" | "UpdateAlias" | "TagResource" | "UntagResource" | "UpdateKeyDescription" => {
            StateRule::NotPendingDeletion
        }
        "ReplicateKey" => StateRule::Replicate,
        "Decrypt"
        | "Encrypt"
        | "GenerateDataKey"
        | "GenerateDataKeyWithoutPlaintext"
        | "GenerateDataKeyPair"
        | "GenerateDataKeyPairWithoutPlaintext"
        | "ReEncrypt"
        | "ReEncryptFrom"
        | "ReEncryptTo"
        | "CreateGrant"
        | "Sign"
        | "Verify"
        | "GenerateMac"
        | "VerifyMac"
        | "GetPublicKey"
        | "DeriveSharedSecret"
        | "UpdatePrimaryRegion" => StateRule::Crypto,
        _ => StateRule::Any,
    }
}

/// The state check of §7.3, one arm per cell of the matrix (footnote numbers in comments).
/// `CreateGrant` in `Unavailable` is allowed per the matrix; other crypto operations fail there.
///
/// # Errors
/// `DisabledException`, `KMSInvalidStateException` or `UnsupportedOperationException` with the
/// matrix's message.
pub fn check_state(rule: StateRule, op: &str, state: KeyState, arn: &str) -> Result<(), KmsError> {
    use KeyState as S;
    let invalid = |what: &str| Err(KmsError::new("KMSInvalidStateException", format!("{arn} is {what}.")));
    let disabled = || Err(KmsError::new("DisabledException", format!("{arn} is disabled.")));
    // Footnote 3 (preferred over 2 for crypto operations, as local-kms does).
    let pending = |s: KeyState| {
        invalid(if s == S::PendingReplicaDeletion { "pending replica deletion" } else { "pending deletion" })
    };
    // Footnote 6.
    let external = || {
        Err(KmsError::new(
            "UnsupportedOperationException",
            format!("{arn} origin is EXTERNAL which is not valid for this operation."),
        ))
    };
    // Footnote 7 (a key in a custom key store).
    let custom_store = || Err(KmsError::new("UnsupportedOperationException", format!("{arn} is unavailable.")));
    let op = op.strip_prefix("kms:").unwrap_or(op);
    match (rule, state) {
        (StateRule::Any, _)
        | (StateRule::Crypto | StateRule::Replicate, S::Enabled)
        | (StateRule::Crypto, S::Updating)
        | (StateRule::EnableDisable, S::Enabled | S::Disabled | S::Unavailable) // footnote 12
        | (StateRule::Rotation | StateRule::RotateOnDemand, S::Enabled)
        | (StateRule::Rotation, S::Updating) => Ok(()),
        (StateRule::Crypto, S::Unavailable) if op == "CreateGrant" => Ok(()),
        (StateRule::CancelDeletion, s) => {
            if s.pending_deletion() {
                Ok(())
            } else {
                invalid("not pending deletion (or pending replica deletion)") // footnote 4
            }
        }
        (StateRule::ScheduleDeletion | StateRule::NotPendingDeletion, s) if s.pending_deletion() => pending(s),
        (StateRule::ScheduleDeletion, S::Updating) => invalid("updating"), // footnote 15
        (StateRule::ScheduleDeletion | StateRule::NotPendingDeletion, _) => Ok(()),
        (StateRule::RotationStatus, S::PendingImport) => external(),
        (StateRule::RotationStatus, S::Unavailable) => custom_store(),
        (StateRule::RotationStatus, _) => Ok(()),
        (_, S::Disabled) => disabled(), // footnote 1
        (_, s) if s.pending_deletion() => pending(s),
        (StateRule::Rotation, S::PendingImport) => external(),
        (_, S::PendingImport) => invalid("pending import"), // footnote 5
        (StateRule::Rotation | StateRule::RotateOnDemand, S::Unavailable) => custom_store(),
        (_, S::Unavailable) => invalid("unavailable"), // footnote 11
        (_, S::Creating) => invalid("creating"),       // footnote 14
        (_, _) => invalid("updating"),                 // footnote 15
    }
}

/// Which kind of key (§8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// `SYMMETRIC_DEFAULT` / `ENCRYPT_DECRYPT` (AES-256-GCM).
    Symmetric,
    /// `HMAC_224/256/384/512` / `GENERATE_VERIFY_MAC`.
    Hmac,
    /// `ECC_NIST_P256` / `SIGN_VERIFY`.
    EccP256,
    /// `RSA_2048` / `SIGN_VERIFY` (RSASSA-PSS and RSASSA-PKCS1-v1_5 with SHA-256/384/512).
    Rsa2048,
}

impl KeyKind {
    /// The kind of a `KeySpec`, if the simulator supports it.
    #[must_use]
    pub fn of_spec(spec: &str) -> Option<KeyKind> {
        match spec {
            "SYMMETRIC_DEFAULT" => Some(KeyKind::Symmetric),
            "HMAC_224" | "HMAC_256" | "HMAC_384" | "HMAC_512" => Some(KeyKind::Hmac),
            "ECC_NIST_P256" => Some(KeyKind::EccP256),
            "RSA_2048" => Some(KeyKind::Rsa2048),
            _ => None,
        }
    }

    /// The only `KeyUsage` the simulator allows for the kind.
    #[must_use]
    pub fn usage(self) -> &'static str {
        match self {
            KeyKind::Symmetric => "ENCRYPT_DECRYPT",
            KeyKind::Hmac => "GENERATE_VERIFY_MAC",
            KeyKind::EccP256 | KeyKind::Rsa2048 => "SIGN_VERIFY",
        }
    }
}

/// The usage check (§7.3 step 5): the operation must suit the key's `KeyUsage` (§8.1).
///
/// # Errors
/// `InvalidKeyUsageException`.
pub fn check_usage(op: &str, kind: KeyKind, arn: &str) -> Result<(), KmsError> {
    let op = op.strip_prefix("kms:").unwrap_or(op);
    let ok = match op {
        "Encrypt"
        | "Decrypt"
        | "ReEncrypt"
        | "ReEncryptFrom"
        | "ReEncryptTo"
        | "GenerateDataKey"
        | "GenerateDataKeyWithoutPlaintext"
        | "GenerateDataKeyPair"
        | "GenerateDataKeyPairWithoutPlaintext" => kind == KeyKind::Symmetric,
        "GenerateMac" | "VerifyMac" => kind == KeyKind::Hmac,
        "Sign" | "Verify" | "GetPublicKey" => matches!(kind, KeyKind::EccP256 | KeyKind::Rsa2048),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(KmsError::new(
            "InvalidKeyUsageException",
            format!("{arn} key usage is {} which is not valid for {op}.", kind.usage()),
        ))
    }
}

/// The checks after the key usage that depend on the key's type or multi-Region role (§7.3
/// footnote 7, §7.6, §7.7): rotation of keys that are not symmetric, or of replicas;
/// `ReplicateKey`/`UpdatePrimaryRegion` on keys that are not multi-Region primaries.
///
/// # Errors
/// `UnsupportedOperationException`.
pub fn check_operation(op: &str, kind: KeyKind, mrk: MrkRole, arn: &str) -> Result<(), KmsError> {
    let unsupported = |why: String| Err(KmsError::new("UnsupportedOperationException", why));
    match op.strip_prefix("kms:").unwrap_or(op) {
        "EnableKeyRotation" | "DisableKeyRotation" | "RotateKeyOnDemand" if kind != KeyKind::Symmetric => {
            unsupported(format!("{arn} is not a symmetric encryption key: rotation is not supported."))
        }
        "EnableKeyRotation" | "DisableKeyRotation" | "RotateKeyOnDemand" if mrk == MrkRole::Replica => {
            unsupported(format!("{arn} is a multi-Region replica: manage rotation on the primary key."))
        }
        "ReplicateKey" | "UpdatePrimaryRegion" if mrk != MrkRole::Primary => {
            unsupported(format!("{arn} is not a multi-Region primary key."))
        }
        _ => Ok(()),
    }
}

/// The algorithm check (§8.1): the encryption, signing or MAC algorithm of a request must be
/// the key's.
///
/// # Errors
/// `InvalidKeyUsageException`.
pub fn check_algorithm(kind: KeyKind, spec: &str, algorithm: &str) -> Result<(), KmsError> {
    if key_algorithms(kind, spec).contains(&algorithm) {
        Ok(())
    } else {
        Err(KmsError::new("InvalidKeyUsageException", format!("`{algorithm}` is not valid for {spec}")))
    }
}

/// The algorithms of a key (§8.1): `EncryptionAlgorithms`, `MacAlgorithms` or
/// `SigningAlgorithms` in `DescribeKey`.
#[must_use]
pub fn key_algorithms(kind: KeyKind, spec: &str) -> &'static [&'static str] {
    match kind {
        KeyKind::Symmetric => &["SYMMETRIC_DEFAULT"],
        KeyKind::Hmac => match hmac_params(spec).1 {
            "HMAC_SHA_224" => &["HMAC_SHA_224"],
            "HMAC_SHA_384" => &["HMAC_SHA_384"],
            "HMAC_SHA_512" => &["HMAC_SHA_512"],
            _ => &["HMAC_SHA_256"],
        },
        KeyKind::EccP256 => &["ECDSA_SHA_256"],
        KeyKind::Rsa2048 => &[
            "RSASSA_PSS_SHA_256",
            "RSASSA_PSS_SHA_384",
            "RSASSA_PSS_SHA_512",
            "RSASSA_PKCS1_V1_5_SHA_256",
            "RSASSA_PKCS1_V1_5_SHA_384",
            "RSASSA_PKCS1_V1_5_SHA_512",
        ],
    }
}

/// The first algorithm of a key ([`key_algorithms`]).
#[must_use]
pub fn key_algorithm(kind: KeyKind, spec: &str) -> &'static str {
    key_algorithms(kind, spec).first().copied().unwrap_or("SYMMETRIC_DEFAULT")
}

/// HMAC key length (bytes) and algorithm of a spec.
#[must_use]
pub fn hmac_params(spec: &str) -> (usize, &'static str) {
    match spec {
        "HMAC_224" => (28, "HMAC_SHA_224"),
        "HMAC_384" => (48, "HMAC_SHA_384"),
        "HMAC_512" => (64, "HMAC_SHA_512"),
        _ => (32, "HMAC_SHA_256"),
    }
}

/// One version of key material.
#[derive(Clone, Debug)]
pub struct Material {
    /// `KeyMaterialId` (raw; 64 hex characters when printed).
    pub id: [u8; 32],
    /// The material (zeroized on drop, never printed).
    pub bytes: Secret,
    /// When it became current (simulated seconds).
    pub created: i64,
    /// `AUTOMATIC`, `ON_DEMAND`, or `CREATE` for the first version.
    pub how: &'static str,
}

impl Material {
    /// Fresh material for a key kind and spec.
    ///
    /// # Errors
    /// `KMSInternalException` when the CSPRNG fails.
    pub fn generate(kind: KeyKind, spec: &str, now: i64, how: &'static str) -> Result<Material, KmsError> {
        let bytes = match kind {
            KeyKind::Symmetric => Secret::random(32)?,
            KeyKind::Hmac => Secret::random(hmac_params(spec).0)?,
            KeyKind::EccP256 => p256_generate()?,
            KeyKind::Rsa2048 => rsa_generate(2048)?,
        };
        Ok(Material { id: random_array::<32>()?, bytes, created: now, how })
    }
}

/// The material of a key, shared by every key of a multi-Region set (with the properties the
/// set shares, §7.7).
#[derive(Clone, Debug)]
pub struct MaterialSet {
    /// Kind.
    pub kind: KeyKind,
    /// `KeySpec`.
    pub spec: String,
    /// Every version, oldest first; the last is current. Never shrinks (§7.6).
    pub versions: Vec<Material>,
    /// Automatic rotation on.
    pub rotation_enabled: bool,
    /// `RotationPeriodInDays`.
    pub rotation_period_days: u32,
    /// Next automatic rotation (simulated seconds).
    pub next_rotation: Option<i64>,
    /// On-demand rotations done.
    pub on_demand_rotations: u32,
    /// The world's `KeySpec` when the simulator does not support it and holds symmetric
    /// material in its place (keys adopted by [`super::api::Sim::from_world`]).
    pub stand_in_for: Option<String>,
}

impl MaterialSet {
    /// The current material.
    #[must_use]
    pub fn current(&self) -> Option<&Material> {
        self.versions.last()
    }

    /// The material with an id.
    #[must_use]
    pub fn find(&self, id: &[u8; 32]) -> Option<&Material> {
        self.versions.iter().find(|m| &m.id == id)
    }
}

/// The multi-Region role of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MrkRole {
    /// Single-Region key.
    None,
    /// Primary.
    Primary,
    /// Replica.
    Replica,
}

/// A key in one Region.
#[derive(Clone, Debug)]
pub struct SimKey {
    /// Key id.
    pub id: String,
    /// Key ARN.
    pub arn: String,
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// State.
    pub state: KeyState,
    /// Description.
    pub description: String,
    /// Multi-Region role.
    pub mrk: MrkRole,
    /// `DeletionDate` (simulated seconds) while `PendingDeletion`.
    pub deletion_date: Option<i64>,
    /// The window asked for by `ScheduleKeyDeletion`.
    pub pending_window_days: Option<u32>,
    /// Creation (simulated seconds).
    pub created: i64,
    /// Index of the mirrored key in the simulator's world.
    pub world_index: usize,
    /// Deleted at the end of its waiting period: gone for every operation.
    pub deleted: bool,
    /// Key manager (`CUSTOMER` / `AWS`).
    pub manager: String,
    /// While `Creating` or `Updating`: when the transient state ends (simulated seconds).
    pub transient_until: Option<i64>,
}

/// A grant as the simulator keeps it: the world grant plus its creation time and tokens
/// (eventual consistency, §6.7).
#[derive(Clone, Debug)]
pub struct SimGrant {
    /// The grant.
    pub grant: crate::world::Grant,
    /// Creation time (simulated seconds); grants read from the world count as long propagated.
    pub created: i64,
    /// Tokens returned by `CreateGrant` for it.
    pub tokens: Vec<String>,
}

/// Seconds until a new grant is visible without its token.
pub const GRANT_PROPAGATION_SECONDS: i64 = 300;

/// Seconds a replica stays `Creating` after `ReplicateKey`, and both keys stay `Updating` after
/// `UpdatePrimaryRegion` ("a few seconds" in the KMS developer guide; the simulated clock only
/// moves with `AdvanceTime`, so the state ends at the first advance that reaches it).
pub const TRANSIENT_STATE_SECONDS: i64 = 60;

/// Every key, material set and alias of the simulator.
#[derive(Debug, Default)]
pub struct KeyStore {
    /// Keys, one per (key id, Region).
    pub keys: Vec<SimKey>,
    /// Material by (account, key id): shared across the Regions of a multi-Region key.
    pub materials: BTreeMap<(String, String), MaterialSet>,
    /// Grants per key (index into `keys`).
    pub grants: BTreeMap<usize, Vec<SimGrant>>,
    /// Aliases: (account, Region, name) → key id.
    pub aliases: BTreeMap<(String, String, String), String>,
}

impl KeyStore {
    /// The live key with an id in an account and Region.
    #[must_use]
    pub fn find(&self, account: &str, region: &str, id: &str) -> Option<usize> {
        self.keys.iter().position(|k| !k.deleted && k.account == account && k.region == region && k.id == id)
    }

    /// Every live key of a multi-Region set (same account and id).
    #[must_use]
    pub fn related(&self, account: &str, id: &str) -> Vec<usize> {
        (0..self.keys.len())
            .filter(|&i| self.keys.get(i).is_some_and(|k| !k.deleted && k.account == account && k.id == id))
            .collect()
    }

    /// The accounts that hold a key id (for Decrypt, which needs no key id).
    #[must_use]
    pub fn accounts_of(&self, id: &str) -> Vec<String> {
        let mut v: Vec<String> = self.keys.iter().filter(|k| k.id == id).map(|k| k.account.clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// The material set of a key.
    #[must_use]
    pub fn material(&self, k: &SimKey) -> Option<&MaterialSet> {
        self.materials.get(&(k.account.clone(), k.id.clone()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test harness")]
    use super::*;

    const OK: &str = "ok";
    const DIS: &str = "DisabledException";
    const INV: &str = "KMSInvalidStateException";
    const UNS: &str = "UnsupportedOperationException";

    /// The operation × state matrix of semantics.md §7.3 for the operations the simulator
    /// implements; cells marked n/a in the matrix read as `KMSInvalidStateException`.
    #[test]
    fn operation_state_matrix() {
        let states = [
            KeyState::Enabled,
            KeyState::Disabled,
            KeyState::PendingDeletion,
            KeyState::PendingImport,
            KeyState::Unavailable,
            KeyState::Creating,
            KeyState::Updating,
        ];
        #[rustfmt::skip]
        let table: &[(&str, [&str; 7])] = &[
            //                       Enabled Disabled PendingDel PendingImport Unavailable Creating Updating
            ("CancelKeyDeletion",    [INV, INV, OK,  INV, INV, INV, INV]),
            ("CreateAlias",          [OK,  OK,  INV, OK,  OK,  OK,  OK]),
            ("CreateGrant",          [OK,  DIS, INV, INV, OK,  INV, OK]),
            ("Decrypt",              [OK,  DIS, INV, INV, INV, INV, OK]),
            ("Encrypt",              [OK,  DIS, INV, INV, INV, INV, OK]),
            ("GenerateDataKey",      [OK,  DIS, INV, INV, INV, INV, OK]),
            ("GenerateDataKeyPair",  [OK,  DIS, INV, INV, INV, INV, OK]),
            ("ReEncryptFrom",        [OK,  DIS, INV, INV, INV, INV, OK]),
            ("ReEncryptTo",          [OK,  DIS, INV, INV, INV, INV, OK]),
            ("Sign",                 [OK,  DIS, INV, INV, INV, INV, OK]),
            ("VerifyMac",            [OK,  DIS, INV, INV, INV, INV, OK]),
            ("GetPublicKey",         [OK,  DIS, INV, INV, INV, INV, OK]),
            ("DeleteAlias",          [OK,  OK,  OK,  OK,  OK,  OK,  OK]),
            ("DescribeKey",          [OK,  OK,  OK,  OK,  OK,  OK,  OK]),
            ("GetKeyPolicy",         [OK,  OK,  OK,  OK,  OK,  OK,  OK]),
            ("PutKeyPolicy",         [OK,  OK,  OK,  OK,  OK,  OK,  OK]),
            ("ListGrants",           [OK,  OK,  OK,  OK,  OK,  OK,  OK]),
            ("RetireGrant",          [OK,  OK,  OK,  OK,  OK,  OK,  OK]),
            ("RevokeGrant",          [OK,  OK,  OK,  OK,  OK,  OK,  OK]),
            ("DisableKey",           [OK,  OK,  INV, INV, OK,  INV, INV]),
            ("EnableKey",            [OK,  OK,  INV, INV, OK,  INV, INV]),
            ("EnableKeyRotation",    [OK,  DIS, INV, UNS, UNS, INV, OK]),
            ("DisableKeyRotation",   [OK,  DIS, INV, UNS, UNS, INV, OK]),
            ("GetKeyRotationStatus", [OK,  OK,  OK,  UNS, UNS, OK,  OK]),
            ("RotateKeyOnDemand",    [OK,  DIS, INV, INV, UNS, INV, INV]),
            ("ReplicateKey",         [OK,  DIS, INV, INV, INV, INV, INV]),
            ("ScheduleKeyDeletion",  [OK,  OK,  INV, OK,  OK,  OK,  INV]),
            ("UpdateAlias",          [OK,  OK,  INV, OK,  OK,  OK,  OK]),
            ("UpdatePrimaryRegion",  [OK,  DIS, INV, INV, INV, INV, OK]),
        ];
        let arn = "arn:aws:kms:us-east-1:111122223333:key/mrk-1";
        for (op, want) in table {
            for (state, want) in states.iter().zip(want) {
                let got = check_state(rule_of(op), op, *state, arn).err().map_or(OK, |e| e.exception);
                assert_eq!(got, *want, "{op} in {}", state.as_str());
            }
            // PendingReplicaDeletion behaves as PendingDeletion (the same column of §7.3).
            let pd = check_state(rule_of(op), op, KeyState::PendingDeletion, arn).err().map(|e| e.exception);
            let prd = check_state(rule_of(op), op, KeyState::PendingReplicaDeletion, arn).err().map(|e| e.exception);
            assert_eq!(pd, prd, "{op}");
        }
        let msg = |op: &str, s| check_state(rule_of(op), op, s, arn).unwrap_err().message;
        assert_eq!(msg("Decrypt", KeyState::Creating), format!("{arn} is creating.")); // footnote 14
        assert_eq!(msg("DisableKey", KeyState::Updating), format!("{arn} is updating.")); // footnote 15
        assert_eq!(msg("Encrypt", KeyState::Disabled), format!("{arn} is disabled."));
        // footnote 1
    }
}
