//! The request context: condition keys and their values (semantics.md §2.1).

use std::collections::BTreeMap;

/// A context value: single-valued keys hold one string, multi-valued keys a list.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(untagged)]
pub enum CtxValue {
    /// A single-valued key.
    Single(String),
    /// A multi-valued key (`kms:EncryptionContextKeys`, `aws:PrincipalOrgPaths`, …).
    Multi(Vec<String>),
}

impl CtxValue {
    /// The values as a slice of one or more strings.
    #[must_use]
    pub fn values(&self) -> &[String] {
        match self {
            CtxValue::Single(s) => std::slice::from_ref(s),
            CtxValue::Multi(v) => v,
        }
    }

    /// True for a multi-valued key.
    #[must_use]
    pub fn is_multi(&self) -> bool {
        matches!(self, CtxValue::Multi(_))
    }
}

/// The prefix of encryption-context condition keys, lowercased.
pub const EC_PREFIX: &str = "kms:encryptioncontext:";

/// Request context. Key names are case-insensitive (stored lowercased, original spelling kept
/// for output). The encryption context is kept exactly as given, because its keys are
/// case-sensitive for cryptography and grants but case-insensitive in `kms:EncryptionContext:<k>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    keys: BTreeMap<String, (String, CtxValue)>,
    ec: BTreeMap<String, String>,
    ec_present: bool,
}

impl Context {
    /// An empty context.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a key (replacing any previous value).
    pub fn set(&mut self, key: &str, value: CtxValue) {
        self.keys.insert(key.to_ascii_lowercase(), (key.to_string(), value));
    }

    /// Sets a single-valued key.
    pub fn set_single(&mut self, key: &str, value: impl Into<String>) {
        self.set(key, CtxValue::Single(value.into()));
    }

    /// Sets a key only if it is not already set (world-implied values never override
    /// explicit ones).
    pub fn set_default(&mut self, key: &str, value: CtxValue) {
        self.keys.entry(key.to_ascii_lowercase()).or_insert_with(|| (key.to_string(), value));
    }

    /// Removes a key.
    pub fn remove(&mut self, key: &str) {
        self.keys.remove(&key.to_ascii_lowercase());
    }

    /// True when the key is set.
    #[must_use]
    pub fn contains(&self, key: &str) -> bool {
        self.keys.contains_key(&key.to_ascii_lowercase())
    }

    /// Sets the encryption context (exact keys and values). Also fills
    /// `kms:EncryptionContextKeys` unless it was set explicitly.
    pub fn set_encryption_context(&mut self, ec: BTreeMap<String, String>) {
        self.ec_present = true;
        self.ec = ec;
    }

    /// The encryption context.
    #[must_use]
    pub fn encryption_context(&self) -> &BTreeMap<String, String> {
        &self.ec
    }

    /// True when the request carries an encryption context (possibly empty).
    #[must_use]
    pub fn has_encryption_context(&self) -> bool {
        self.ec_present && !self.ec.is_empty()
    }

    /// Looks up a key (any case). `kms:EncryptionContext:<k>` finds every EC pair whose key
    /// folds to `<k>` (semantics.md §4.4, U6): one value normally, several when the EC holds
    /// keys differing only by case. `kms:EncryptionContextKeys` is derived from the EC unless set.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<CtxValue> {
        let lc = key.to_ascii_lowercase();
        if let Some(k) = lc.strip_prefix(EC_PREFIX) {
            let vals: Vec<String> =
                self.ec.iter().filter(|(ek, _)| ek.to_lowercase() == k).map(|(_, v)| v.clone()).collect();
            return match vals.len() {
                0 => self.keys.get(&lc).map(|(_, v)| v.clone()),
                1 => vals.into_iter().next().map(CtxValue::Single),
                _ => Some(CtxValue::Multi(vals)),
            };
        }
        if let Some((_, v)) = self.keys.get(&lc) {
            return Some(v.clone());
        }
        if lc == "kms:encryptioncontextkeys" && !self.ec.is_empty() {
            return Some(CtxValue::Multi(self.ec.keys().cloned().collect()));
        }
        None
    }

    /// True when a `kms:EncryptionContext:<k>` lookup hits several EC keys that differ only by case.
    #[must_use]
    pub fn ec_key_is_ambiguous(&self, k: &str) -> bool {
        let k = k.to_lowercase();
        self.ec.keys().filter(|ek| ek.to_lowercase() == k).count() > 1
    }

    /// Every key with its value, in sorted order (original spelling), EC pairs included as
    /// `kms:EncryptionContext:<k>`.
    #[must_use]
    pub fn entries(&self) -> Vec<(String, CtxValue)> {
        let mut out: Vec<(String, CtxValue)> = self.keys.values().cloned().collect();
        for (k, v) in &self.ec {
            out.push((format!("kms:EncryptionContext:{k}"), CtxValue::Single(v.clone())));
        }
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_lookup_is_case_insensitive_on_the_key_part() {
        let mut c = Context::new();
        c.set_encryption_context([("AppName".to_string(), "Orders".to_string())].into());
        assert_eq!(c.get("kms:EncryptionContext:appname"), Some(CtxValue::Single("Orders".into())));
        assert_eq!(c.get("KMS:encryptioncontextkeys"), Some(CtxValue::Multi(vec!["AppName".into()])));
        assert_eq!(c.get("kms:EncryptionContext:other"), None);
    }

    #[test]
    fn explicit_values_win() {
        let mut c = Context::new();
        c.set_single("aws:SourceVpce", "vpce-1");
        c.set_default("aws:sourcevpce", CtxValue::Single("vpce-2".into()));
        assert_eq!(c.get("AWS:SourceVpce"), Some(CtxValue::Single("vpce-1".into())));
    }
}
