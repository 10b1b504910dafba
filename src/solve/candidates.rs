//! Candidate values for the context keys a request may freely choose (encryption context,
//! `kms:ViaService`, `aws:SourceVpce`, …), derived from the values the policies mention.
//!
//! The solver never decides a condition itself: it proposes candidate requests and replays
//! each through the evaluator. The candidates per key are chosen so that every region of the
//! key's value space the policies distinguish is represented: the key absent, every literal
//! value, every pattern instantiated, a value no policy mentions, neighbours of every number,
//! date and address range.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::eval::condition::parse_date;
use crate::eval::context::EC_PREFIX;
use crate::policy::model::{Condition, OpFamily};

/// A value no policy mentions.
pub const OTHER: &str = "keyproof-other";

/// Candidate values of one free key.
#[derive(Clone, Debug, Default)]
pub struct KeyCandidates {
    /// The key as written in the first condition that uses it.
    pub name: String,
    /// Single values to try (the key absent is always tried too).
    pub values: BTreeSet<String>,
    /// The key is multi-valued: also try sets.
    pub multi: bool,
}

/// What the policies say about the free keys of one query.
#[derive(Clone, Debug, Default)]
pub struct Domain {
    /// Free keys (lowercased name → candidates), encryption-context keys excluded.
    pub keys: BTreeMap<String, KeyCandidates>,
    /// Encryption-context keys (exact spelling) → candidate values.
    pub ec: BTreeMap<String, BTreeSet<String>>,
    /// True when some condition looks at the encryption context.
    pub uses_ec: bool,
    /// Per encryption-context key (lowercased): how many conditions and grant constraints
    /// name it (conditions through `kms:EncryptionContext:<k>`).
    pub ec_mentions: BTreeMap<String, usize>,
    /// The encryption-context keys (lowercased) some condition names.
    pub ec_in_conditions: BTreeSet<String>,
    /// Some condition is on `kms:EncryptionContextKeys`.
    pub ec_keys_condition: bool,
}

impl Domain {
    /// Adds what one condition tells about its key. `implied` says whether a lowercased key is
    /// fixed by the world for this caller.
    pub fn add_condition(&mut self, c: &Condition, implied: &dyn Fn(&str) -> bool) {
        let Some(op) = c.op else { return };
        let family = op.base.family();
        let ignore_case = matches!(
            op.base,
            crate::policy::model::OpBase::StringEqualsIgnoreCase
                | crate::policy::model::OpBase::StringNotEqualsIgnoreCase
        );
        let values: Vec<&str> = c.values.iter().map(|v| v.value.as_str()).collect();
        let expand = |v: &str| -> Vec<String> {
            let mut out = instantiate(v, family);
            if ignore_case {
                out.push(v.to_lowercase());
                out.push(v.to_uppercase());
            }
            out
        };
        if let Some(k) = c.key_lc.strip_prefix(EC_PREFIX) {
            self.uses_ec = true;
            let name = c.key.value.get(EC_PREFIX.len()..).unwrap_or(k).to_string();
            *self.ec_mentions.entry(name.to_lowercase()).or_default() += 1;
            self.ec_in_conditions.insert(name.to_lowercase());
            let entry = self.ec.entry(name).or_default();
            for v in &values {
                entry.extend(expand(v));
            }
            return;
        }
        if c.key_lc == "kms:encryptioncontextkeys" {
            self.uses_ec = true;
            self.ec_keys_condition = true;
            for v in &values {
                for name in expand(v).into_iter().filter(|n| n != OTHER) {
                    self.ec.entry(name).or_default();
                }
            }
            return;
        }
        if implied(&c.key_lc) {
            return;
        }
        let entry = self.keys.entry(c.key_lc.clone()).or_insert_with(|| KeyCandidates {
            name: c.key.value.clone(),
            values: BTreeSet::new(),
            multi: crate::catalog::catalog().condition_key(&c.key.value).is_some_and(|k| k.multi),
        });
        if family == OpFamily::Null {
            entry.values.insert(OTHER.into());
        }
        for v in &values {
            entry.values.extend(expand(v));
        }
    }

    /// Must requests also try an encryption context holding the key twice, spelled in two
    /// cases (semantics.md §4.4, U6: `kms:EncryptionContext:<k>` then finds both values)?
    /// Only when two conditions or grant constraints could look at that key, one of them a
    /// condition (or a condition looks at `kms:EncryptionContextKeys`): a lone condition sees
    /// the key's values only through its own outcome, which single values already give both
    /// ways, and grant constraints compare keys exactly (§6.4), so to them the second spelling
    /// is one more pair, which the extra pair (`keyproof-extra`) already tries.
    #[must_use]
    pub fn needs_case_variants(&self, lowercase_name: &str) -> bool {
        self.ec_keys_condition
            || (self.ec_in_conditions.contains(lowercase_name)
                && self.ec_mentions.get(lowercase_name).is_some_and(|n| *n > 1))
    }

    /// Adds the encryption-context pairs of a grant constraint.
    pub fn add_ec_pairs(&mut self, pairs: &BTreeMap<String, String>) {
        self.uses_ec = true;
        for (k, v) in pairs {
            *self.ec_mentions.entry(k.to_lowercase()).or_default() += 1;
            self.ec.entry(k.clone()).or_default().insert(v.clone());
        }
    }
}

/// Concrete values that exercise a policy value under an operator family.
#[must_use]
pub fn instantiate(v: &str, family: OpFamily) -> Vec<String> {
    let mut out = Vec::new();
    match family {
        OpFamily::String | OpFamily::Arn => {
            if v.contains("${") {
                // A value with a policy variable: the literal text and a fresh value.
                out.push(OTHER.to_string());
            } else if v.contains(['*', '?']) {
                out.push(v.replace('*', "").replace('?', "x"));
                out.push(v.replace(['*', '?'], "x"));
                if family == OpFamily::Arn {
                    out.push(v.replace('*', "x0").replace('?', "x"));
                }
            } else {
                out.push(v.to_string());
            }
            out.push(OTHER.to_string());
        }
        OpFamily::Numeric => {
            if let Ok(n) = v.trim().parse::<f64>() {
                for d in [-1.0, 0.0, 1.0] {
                    let x = n + d;
                    out.push(if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { format!("{x}") });
                }
            }
        }
        OpFamily::Date => {
            if let Some(ms) = parse_date(v) {
                for d in [-1000i64, 0, 1000] {
                    out.push(format!("{}", (ms + d).div_euclid(1000)));
                }
            }
        }
        OpFamily::Bool => {
            out.push("true".into());
            out.push("false".into());
        }
        OpFamily::Ip => {
            if let Some((lo, hi, v6)) = cidr_range(v) {
                for x in [lo.checked_sub(1), Some(lo), Some(hi), hi.checked_add(1)].into_iter().flatten() {
                    if let Some(s) = format_ip(x, v6) {
                        out.push(s);
                    }
                }
            }
        }
        OpFamily::Binary => out.push(v.to_string()),
        OpFamily::Null => {}
    }
    out
}

fn cidr_range(v: &str) -> Option<(u128, u128, bool)> {
    let (addr, prefix) = match v.split_once('/') {
        Some((a, p)) => (a, Some(p.parse::<u32>().ok()?)),
        None => (v, None),
    };
    let ip: IpAddr = addr.trim().parse().ok()?;
    let (bits, n) = match ip {
        IpAddr::V4(a) => (32u32, u128::from(u32::from(a))),
        IpAddr::V6(a) => (128u32, u128::from(a)),
    };
    let p = prefix.unwrap_or(bits).min(bits);
    let host = bits - p;
    let mask: u128 = if host >= 128 { u128::MAX } else { (1u128 << host) - 1 };
    Some((n & !mask, n | mask, bits == 128))
}

fn format_ip(x: u128, v6: bool) -> Option<String> {
    if v6 {
        Some(std::net::Ipv6Addr::from(x).to_string())
    } else {
        u32::try_from(x).ok().map(|a| std::net::Ipv4Addr::from(a).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instantiations() {
        assert!(instantiate("reports/*/20??", OpFamily::String).contains(&"reports/x/20xx".to_string()));
        assert_eq!(instantiate("10", OpFamily::Numeric), vec!["9", "10", "11"]);
        let ip = instantiate("203.0.113.0/24", OpFamily::Ip);
        assert!(ip.contains(&"203.0.112.255".to_string()) && ip.contains(&"203.0.114.0".to_string()));
    }
}
