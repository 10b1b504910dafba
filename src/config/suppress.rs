//! Applying `[[ignore]]` entries and the baseline to findings, with the bookkeeping that
//! tells which suppressions matched nothing (for the unused-suppression rule, KP602).

use std::collections::BTreeMap;

use super::Settings;
use crate::report::finding::Finding;

/// What suppressed a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuppressedBy {
    /// The `[[ignore]]` entry with this index in [`Settings::ignores`].
    Ignore(usize),
    /// The baseline.
    Baseline,
}

/// A finding that was not reported.
#[derive(Clone, Debug)]
pub struct Suppressed {
    /// The finding.
    pub finding: Finding,
    /// Why.
    pub by: SuppressedBy,
}

/// Which suppressions matched.
#[derive(Clone, Debug, Default)]
pub struct SuppressionReport {
    /// For each entry of [`Settings::ignores`], how many findings it matched.
    pub ignore_matches: Vec<usize>,
    /// For each baseline fingerprint, how many findings it matched.
    pub baseline_matches: BTreeMap<String, usize>,
    /// The findings that were suppressed, in input order.
    pub suppressed: Vec<Suppressed>,
}

impl SuppressionReport {
    /// Indexes of `[[ignore]]` entries that matched no finding.
    pub fn unused_ignores(&self) -> impl Iterator<Item = usize> + '_ {
        self.ignore_matches.iter().enumerate().filter(|(_, &n)| n == 0).map(|(i, _)| i)
    }

    /// Baseline fingerprints that matched no finding.
    pub fn unused_baseline(&self) -> impl Iterator<Item = &str> + '_ {
        self.baseline_matches.iter().filter(|(_, &n)| n == 0).map(|(f, _)| f.as_str())
    }
}

/// Splits findings into reported and suppressed. `rule_matches(selector, finding)` tells
/// whether an ignore's `rule` selector covers the finding's rule. A finding that several
/// ignores match counts for each of them; ignores are applied before the baseline.
pub fn apply(
    settings: &Settings,
    findings: Vec<Finding>,
    rule_matches: &dyn Fn(&str, &Finding) -> bool,
) -> (Vec<Finding>, SuppressionReport) {
    let mut report = SuppressionReport {
        ignore_matches: vec![0; settings.ignores.len()],
        baseline_matches: settings
            .baseline
            .iter()
            .flat_map(|b| b.fingerprints.iter().map(|f| (f.clone(), 0)))
            .collect(),
        suppressed: Vec::new(),
    };
    let mut kept = Vec::with_capacity(findings.len());
    for f in findings {
        let mut by = None;
        for (i, ig) in settings.ignores.iter().enumerate() {
            let file = f.location.as_ref().map_or("", |l| l.file.trim_start_matches("./"));
            let path_ok = ig.path.as_ref().is_none_or(|p| p.matches(file));
            let resource_ok = ig.resource.as_ref().is_none_or(|r| f.resource.as_deref() == Some(r.as_str()));
            if path_ok && resource_ok && rule_matches(&ig.rule, &f) {
                if let Some(n) = report.ignore_matches.get_mut(i) {
                    *n += 1;
                }
                by.get_or_insert(SuppressedBy::Ignore(i));
            }
        }
        if by.is_none() {
            if let Some(n) = report.baseline_matches.get_mut(&f.fingerprint) {
                *n += 1;
                by = Some(SuppressedBy::Baseline);
            }
        }
        match by {
            Some(by) => report.suppressed.push(Suppressed { finding: f, by }),
            None => kept.push(f),
        }
    }
    (kept, report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Baseline, Ignore};
    use crate::report::finding::Severity;
    use crate::source::{SourceMap, Span};

    #[test]
    fn ignores_then_baseline_with_usage() {
        let map = SourceMap::new();
        let a = map.add_file("legacy/a.json", "\"x\"");
        let b = map.add_file("new/b.json", "\"y\"");
        let f1 = Finding::new("KP106", "n", Severity::Note, "m").at(&map, a, Span::new(0, 3), "");
        let f2 = Finding::new("KP106", "n", Severity::Note, "m").at(&map, b, Span::new(0, 3), "");
        let f3 = Finding::new("KP160", "n", Severity::Error, "m").at(&map, b, Span::new(0, 3), "");
        let ignore = |rule: &str, path: Option<&str>| Ignore {
            rule: rule.into(),
            reason: "r".into(),
            path: path.map(|p| glob::Pattern::new(p).unwrap()),
            resource: None,
            span: Span::default(),
        };
        let settings = Settings {
            ignores: vec![ignore("KP106", Some("legacy/**")), ignore("KP999", None)],
            baseline: Some(Baseline { path: "b".into(), fingerprints: vec![f3.fingerprint.clone(), "zz".into()] }),
            ..Settings::default()
        };
        let (kept, rep) = apply(&settings, vec![f1, f2.clone(), f3], &|sel, f| sel == f.rule);
        assert_eq!(kept, vec![f2]);
        assert_eq!(rep.unused_ignores().collect::<Vec<_>>(), vec![1]);
        assert_eq!(rep.unused_baseline().collect::<Vec<_>>(), vec!["zz"]);
        assert_eq!(rep.suppressed.len(), 2);
    }
}
