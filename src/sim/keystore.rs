//! Keys, key material and key states (semantics.md §7): the simulator's own records. The
//! authorization side of a key (policy, grants, aliases, metadata) is mirrored into the
//! simulator's [`crate::world::World`] by [`super::authz`].

use std::collections::BTreeMap;

use super::crypto::{p256_generate, random_array, Secret};
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

/// How an operation fares in each key state: the operation × state matrix of §7.3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateRule {
    /// Cryptographic operations and `CreateGrant`, `ReplicateKey`, `UpdatePrimaryRegion`.
    Crypto,
    /// Works in every state (`DescribeKey`, `GetKeyPolicy`, `PutKeyPolicy`, `ListGrants`, …).
    Any,
    /// `EnableKey` / `DisableKey`.
    EnableDisable,
    /// `CancelKeyDeletion`: only when pending deletion.
    CancelDeletion,
    /// `ScheduleKeyDeletion`.
    ScheduleDeletion,
    /// `CreateAlias`, `TagResource`, `UpdateKeyDescription`: not when pending deletion.
    NotPendingDeletion,
    /// `EnableKeyRotation` / `DisableKeyRotation` / `RotateKeyOnDemand`.
    Rotation,
}

/// The state check of §7.3 (footnote numbers in comments). `CreateGrant` in `Unavailable` is
/// allowed per the matrix; other crypto operations fail there.
///
/// # Errors
/// `DisabledException` or `KMSInvalidStateException` with the matrix's message.
pub fn check_state(rule: StateRule, op: &str, state: KeyState, arn: &str) -> Result<(), KmsError> {
    let invalid = |what: &str| Err(KmsError::new("KMSInvalidStateException", format!("{arn} is {what}.")));
    let pd = |s: KeyState| {
        if s == KeyState::PendingReplicaDeletion {
            "pending replica deletion"
        } else {
            "pending deletion"
        }
    };
    match rule {
        StateRule::Any => Ok(()),
        StateRule::Crypto => match state {
            KeyState::Enabled | KeyState::Updating => Ok(()),
            KeyState::Unavailable if op == "CreateGrant" => Ok(()),
            KeyState::Disabled => Err(KmsError::new("DisabledException", format!("{arn} is disabled."))),
            s if s.pending_deletion() => invalid(pd(s)), // footnote 3 (preferred over 2)
            KeyState::PendingImport => invalid("pending import"),
            KeyState::Unavailable => invalid("unavailable"),
            _ => invalid("creating"),
        },
        StateRule::EnableDisable => match state {
            KeyState::Enabled | KeyState::Disabled | KeyState::Unavailable => Ok(()),
            s if s.pending_deletion() => invalid(pd(s)),
            KeyState::PendingImport => invalid("pending import"),
            KeyState::Creating => invalid("creating"),
            _ => invalid("updating"),
        },
        StateRule::CancelDeletion => {
            if state.pending_deletion() {
                Ok(())
            } else {
                invalid("not pending deletion (or pending replica deletion)")
            }
        }
        StateRule::ScheduleDeletion => match state {
            s if s.pending_deletion() => invalid(pd(s)),
            KeyState::Updating => invalid("updating"),
            _ => Ok(()),
        },
        StateRule::NotPendingDeletion => match state {
            s if s.pending_deletion() => invalid(pd(s)),
            _ => Ok(()),
        },
        StateRule::Rotation => match state {
            KeyState::Enabled | KeyState::Updating => Ok(()),
            KeyState::Disabled => Err(KmsError::new("DisabledException", format!("{arn} is disabled."))),
            s if s.pending_deletion() => invalid(pd(s)),
            KeyState::PendingImport => invalid("pending import"),
            KeyState::Creating => invalid("creating"),
            KeyState::Unavailable => {
                Err(KmsError::new("UnsupportedOperationException", format!("{arn} is unavailable.")))
            }
            _ => invalid("updating"),
        },
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
}

impl KeyKind {
    /// The kind of a `KeySpec`, if the simulator supports it.
    #[must_use]
    pub fn of_spec(spec: &str) -> Option<KeyKind> {
        match spec {
            "SYMMETRIC_DEFAULT" => Some(KeyKind::Symmetric),
            "HMAC_224" | "HMAC_256" | "HMAC_384" | "HMAC_512" => Some(KeyKind::Hmac),
            "ECC_NIST_P256" => Some(KeyKind::EccP256),
            _ => None,
        }
    }

    /// The only `KeyUsage` the simulator allows for the kind.
    #[must_use]
    pub fn usage(self) -> &'static str {
        match self {
            KeyKind::Symmetric => "ENCRYPT_DECRYPT",
            KeyKind::Hmac => "GENERATE_VERIFY_MAC",
            KeyKind::EccP256 => "SIGN_VERIFY",
        }
    }
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
