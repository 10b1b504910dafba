//! The request context: condition keys and their values (semantics.md §2.1).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

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

/// A shared set of context keys (lowercased name → original spelling and value), such as the
/// keys the world implies for one principal or one key. Layers are built once and shared.
pub type Layer = BTreeMap<String, (String, CtxValue)>;

/// A layer shared by reference count, or one that lives for the whole run.
#[derive(Clone, Debug)]
enum LayerRef {
    Shared(Arc<Layer>),
    Static(&'static Layer),
}

impl LayerRef {
    fn get(&self) -> &Layer {
        match self {
            LayerRef::Shared(l) => l,
            LayerRef::Static(l) => l,
        }
    }
}

impl PartialEq for LayerRef {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for LayerRef {}

/// The layers of a context, the first three inline (a request has a caller, a key and a
/// request-defaults layer): pushing them allocates nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Layers {
    inline: [Option<LayerRef>; 3],
    more: Vec<LayerRef>,
}

impl Layers {
    fn push(&mut self, layer: LayerRef) {
        match self.inline.iter_mut().find(|l| l.is_none()) {
            Some(slot) => *slot = Some(layer),
            None => self.more.push(layer),
        }
    }

    /// The layers in the order they were pushed.
    fn iter(&self) -> impl DoubleEndedIterator<Item = &Layer> {
        self.inline.iter().flatten().chain(&self.more).map(LayerRef::get)
    }
}

/// Request context. Key names are case-insensitive (stored lowercased, original spelling kept
/// for output). The encryption context is kept exactly as given, because its keys are
/// case-sensitive for cryptography and grants but case-insensitive in `kms:EncryptionContext:<k>`.
/// Explicit keys take precedence over the shared layers, which are looked up in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    keys: BTreeMap<String, (String, CtxValue)>,
    layers: Layers,
    /// Shared: copying a request's context copies no encryption-context strings.
    ec: Arc<BTreeMap<String, String>>,
    ec_present: bool,
}

fn lower(key: &str) -> Cow<'_, str> {
    if key.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(key.to_ascii_lowercase())
    } else {
        Cow::Borrowed(key)
    }
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
        if !self.contains(key) {
            self.keys.insert(key.to_ascii_lowercase(), (key.to_string(), value));
        }
    }

    /// Sets a key unless an explicit value exists. Only for keys that no shared layer holds
    /// (request-specific defaults such as `kms:EncryptionAlgorithm`): it skips the layer lookup.
    pub fn set_request_default(&mut self, key: &str, value: CtxValue) {
        let lc = lower(key);
        if !self.keys.contains_key(lc.as_ref()) {
            self.keys.insert(lc.into_owned(), (key.to_string(), value));
        }
    }

    /// Adds a shared layer of defaults, consulted after the explicit keys and earlier layers.
    pub fn push_layer(&mut self, layer: Arc<Layer>) {
        self.layers.push(LayerRef::Shared(layer));
    }

    /// [`Context::push_layer`] for a layer that lives for the whole run (no reference count
    /// shared between threads).
    pub fn push_static_layer(&mut self, layer: &'static Layer) {
        self.layers.push(LayerRef::Static(layer));
    }

    /// True when the key (lowercased) was set explicitly, not by a layer.
    #[must_use]
    pub fn has_explicit(&self, key_lc: &str) -> bool {
        self.keys.contains_key(key_lc)
    }

    /// The explicit keys as a layer (the encryption context is not part of it).
    #[must_use]
    pub fn into_layer(self) -> Layer {
        self.keys
    }

    /// Removes an explicit key.
    pub fn remove(&mut self, key: &str) {
        self.keys.remove(lower(key).as_ref());
    }

    fn lookup(&self, lc: &str) -> Option<&(String, CtxValue)> {
        self.keys.get(lc).or_else(|| self.layers.iter().find_map(|l| l.get(lc)))
    }

    /// True when the key is set.
    #[must_use]
    pub fn contains(&self, key: &str) -> bool {
        self.lookup(lower(key).as_ref()).is_some()
    }

    /// Sets the encryption context (exact keys and values). Also fills
    /// `kms:EncryptionContextKeys` unless it was set explicitly.
    pub fn set_encryption_context(&mut self, ec: BTreeMap<String, String>) {
        self.ec_present = true;
        self.ec = Arc::new(ec);
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
    pub fn get(&self, key: &str) -> Option<Cow<'_, CtxValue>> {
        let lc = lower(key);
        if let Some(k) = lc.strip_prefix(EC_PREFIX) {
            let mut vals = self
                .ec
                .iter()
                .filter(|(ek, _)| ek.eq_ignore_ascii_case(k) || (!ek.is_ascii() && ek.to_lowercase() == k));
            return match (vals.next(), vals.next()) {
                (None, _) => self.lookup(&lc).map(|(_, v)| Cow::Borrowed(v)),
                (Some((_, v)), None) => Some(Cow::Owned(CtxValue::Single(v.clone()))),
                (Some((_, a)), Some((_, b))) => {
                    let mut all = vec![a.clone(), b.clone()];
                    all.extend(vals.map(|(_, v)| v.clone()));
                    Some(Cow::Owned(CtxValue::Multi(all)))
                }
            };
        }
        if let Some((_, v)) = self.lookup(&lc) {
            return Some(Cow::Borrowed(v));
        }
        if lc == "kms:encryptioncontextkeys" && !self.ec.is_empty() {
            return Some(Cow::Owned(CtxValue::Multi(self.ec.keys().cloned().collect())));
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
        let mut seen: BTreeMap<&str, &(String, CtxValue)> = BTreeMap::new();
        for layer in self.layers.iter().rev() {
            seen.extend(layer.iter().map(|(k, v)| (k.as_str(), v)));
        }
        seen.extend(self.keys.iter().map(|(k, v)| (k.as_str(), v)));
        let mut out: Vec<(String, CtxValue)> = seen.into_values().cloned().collect();
        for (k, v) in self.ec.iter() {
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
        assert_eq!(c.get("kms:EncryptionContext:appname").as_deref(), Some(&CtxValue::Single("Orders".into())));
        assert_eq!(c.get("KMS:encryptioncontextkeys").as_deref(), Some(&CtxValue::Multi(vec!["AppName".into()])));
        assert_eq!(c.get("kms:EncryptionContext:other"), None);
    }

    #[test]
    fn explicit_values_win() {
        let mut c = Context::new();
        c.set_single("aws:SourceVpce", "vpce-1");
        c.set_default("aws:sourcevpce", CtxValue::Single("vpce-2".into()));
        assert_eq!(c.get("AWS:SourceVpce").as_deref(), Some(&CtxValue::Single("vpce-1".into())));
    }
}
