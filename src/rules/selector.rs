//! Rule selectors for `--select`, `--ignore` and `[[ignore]] rule`: an id (`KP160`), an id
//! prefix (`KP1`, `KP15`, `KP`), a kebab-case name (`invalid-principal`), a category
//! (`correctness`) or `ALL`.
//!
//! Ids and prefixes are accepted in the whole `KPnnn` id space even when no registered rule
//! carries them yet (a config written for a newer keyproof stays valid); names and
//! categories must exist.

use super::rule::{Category, Rule, RuleInfo, RuleStatus};

/// A parsed selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// Every rule.
    All,
    /// An exact rule id.
    Id(String),
    /// Every id starting with this prefix.
    Prefix(String),
    /// A rule name.
    Name(&'static str),
    /// A category.
    Category(Category),
}

/// A selector that is neither an id, a prefix, a known name nor a category.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule selector `{0}`: use an id (`KP160`), a prefix (`KP1`), a rule name or a category")]
pub struct SelectorError(pub String);

impl Selector {
    /// Parses one selector against a rule list (for names).
    ///
    /// # Errors
    /// The text is not a selector.
    pub fn parse(text: &str, rules: &[&'static dyn Rule]) -> Result<Selector, SelectorError> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("all") {
            return Ok(Selector::All);
        }
        let upper = t.to_ascii_uppercase();
        if let Some(digits) = upper.strip_prefix("KP") {
            if digits.len() <= 3 && digits.bytes().all(|b| b.is_ascii_digit()) {
                return Ok(if digits.len() == 3 { Selector::Id(upper) } else { Selector::Prefix(upper) });
            }
        }
        if let Some(r) = rules.iter().find(|r| r.info().name == t) {
            return Ok(Selector::Name(r.info().name));
        }
        if let Some(c) = Category::ALL.iter().find(|c| c.as_str() == t) {
            return Ok(Selector::Category(*c));
        }
        Err(SelectorError(t.to_string()))
    }

    /// True when the selector covers the rule.
    #[must_use]
    pub fn matches(&self, info: &RuleInfo) -> bool {
        match self {
            Selector::All => true,
            Selector::Id(id) => info.id == id,
            Selector::Prefix(p) => info.id.starts_with(p.as_str()),
            Selector::Name(n) => info.name == *n,
            Selector::Category(c) => info.category == *c,
        }
    }

    /// True for selectors that name one rule (these also enable preview and deprecated rules).
    #[must_use]
    pub fn is_exact(&self) -> bool {
        matches!(self, Selector::Id(_) | Selector::Name(_))
    }
}

/// Splits comma-separated selector lists (`--select KP1,KP2 --select hygiene`).
///
/// # Errors
/// The first invalid selector.
pub fn parse_list(items: &[String], rules: &[&'static dyn Rule]) -> Result<Vec<Selector>, SelectorError> {
    items
        .iter()
        .flat_map(|s| s.split(','))
        .filter(|s| !s.trim().is_empty())
        .map(|s| Selector::parse(s, rules))
        .collect()
}

/// The rules a check runs, in registry order: those selected (every stable rule when
/// `select` is empty; preview and deprecated rules only when selected by id or name), minus
/// those ignored. Removed rules never run.
#[must_use]
pub fn resolve(rules: &[&'static dyn Rule], select: &[Selector], ignore: &[Selector]) -> Vec<&'static dyn Rule> {
    rules
        .iter()
        .copied()
        .filter(|r| {
            let info = r.info();
            let stable = matches!(info.status, RuleStatus::Stable { .. });
            let selected = if select.is_empty() {
                stable
            } else {
                select.iter().any(|s| s.matches(info) && (stable || s.is_exact()))
            };
            let removed = matches!(info.status, RuleStatus::Removed { .. });
            selected && !removed && !ignore.iter().any(|s| s.matches(info))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::all;

    fn ids(select: &[&str], ignore: &[&str]) -> Vec<&'static str> {
        let s: Vec<String> = select.iter().map(|s| (*s).to_string()).collect();
        let i: Vec<String> = ignore.iter().map(|s| (*s).to_string()).collect();
        let s = parse_list(&s, all()).unwrap();
        let i = parse_list(&i, all()).unwrap();
        resolve(all(), &s, &i).iter().map(|r| r.info().id).collect()
    }

    #[test]
    fn forms() {
        assert_eq!(ids(&["KP160"], &[]), ["KP160"]);
        assert_eq!(ids(&["kp160"], &[]), ["KP160"]);
        assert_eq!(ids(&["invalid-principal,KP103"], &[]), ["KP103", "KP160"]);
        assert!(ids(&["KP15"], &[]).iter().all(|id| id.starts_with("KP15")));
        assert!(ids(&["KP1"], &["KP15", "KP16"]).iter().all(|id| id.starts_with("KP10") || id.starts_with("KP11")));
        assert!(ids(&["correctness"], &[]).contains(&"KP150"));
        assert_eq!(ids(&[], &["ALL"]), Vec::<&str>::new());
        assert_eq!(ids(&["KP999"], &[]), Vec::<&str>::new());
        assert!(parse_list(&["nope".into()], all()).is_err());
        assert!(parse_list(&["KP1234".into()], all()).is_err());
    }
}
