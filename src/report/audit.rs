//! The auditor report's content (`keyproof report`), independent of its format: the inputs
//! with their hashes, the findings, and per key its metadata, who-can answers, findings,
//! isolation verdicts (`KP601`), proof transcripts and access graph. Rendered by
//! [`super::html`] and [`super::report_md`]. Everything is sorted: the output is deterministic.

use std::collections::{BTreeMap, BTreeSet};

use super::finding::{Finding, Severity};
use super::Summary;
use crate::config::{Settings, Suppressed};
use crate::sim::prove::{prove, Proof};
use crate::solve::{who_can, Answer, Entry, Query};
use crate::world::{InputFile, World};

/// The actions of the keys × principals matrices and of the per-key answers.
pub const REPORT_ACTIONS: &[&str] = &["kms:Decrypt", "kms:Encrypt", "kms:PutKeyPolicy"];

/// The rule whose findings are `[[assert]]` verdicts.
pub const ASSERT_RULE: &str = "KP601";

/// How exposed a key is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Risk {
    /// No finding.
    None,
    /// Notes only.
    Low,
    /// Warnings.
    Medium,
    /// Errors, or anyone can decrypt.
    High,
}

impl Risk {
    /// `none`, `low`, `medium`, `high`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::None => "none",
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        }
    }
}

/// The verdict on an `[[assert]]`, read from the [`ASSERT_RULE`] findings about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Every principal that can perform the action is in `only` (and carries the required
    /// encryption context): the rule found no counter-example.
    Holds,
    /// The rule found counter-examples (findings with a witness request).
    Violated,
    /// The key or its key policy is not in the inputs.
    Unchecked,
}

impl Verdict {
    /// `holds`, `does not hold`, `cannot be checked`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Violated => "does not hold",
            Verdict::Unchecked => "cannot be checked",
        }
    }

    /// A CSS class suffix: `holds`, `violated`, `unchecked`.
    #[must_use]
    pub fn class(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Violated => "violated",
            Verdict::Unchecked => "unchecked",
        }
    }
}

/// One `[[assert]]` of the configuration with its verdict.
#[derive(Clone, Debug)]
pub struct AssertionAudit<'a> {
    /// Its index in the configuration (the findings' pointer is `/assert/INDEX`).
    pub index: usize,
    /// Its name.
    pub name: String,
    /// The key as written (ARN, id, alias or Terraform address).
    pub key: String,
    /// The key's ARN, when the key is in the inputs.
    pub key_arn: Option<String>,
    /// The action.
    pub action: String,
    /// The principals allowed to perform it.
    pub only: Vec<String>,
    /// The encryption-context pairs every allowed request must carry, as `k=v`.
    pub require_context: Vec<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// Reported [`ASSERT_RULE`] findings about it: counter-examples, or why it cannot be checked.
    pub findings: Vec<&'a Finding>,
    /// Counter-examples suppressed by `[[ignore]]` entries or the baseline.
    pub suppressed: usize,
    /// Who can perform the action on the key (the who-can answer), when the key is in the inputs.
    pub allowed: Vec<String>,
}

/// The size of the analysed world.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorldSize {
    /// Accounts.
    pub accounts: usize,
    /// Users and roles.
    pub principals: usize,
    /// Keys.
    pub keys: usize,
    /// Grants, over the keys whose grants were collected.
    pub grants: usize,
    /// Keys whose grants were not collected.
    pub grants_unknown: usize,
    /// Policy documents (key, identity, trust, boundary, SCP, RCP, …).
    pub policies: usize,
}

/// One key of the report.
#[derive(Clone, Debug)]
pub struct KeyAudit<'a> {
    /// Key ARN.
    pub arn: String,
    /// Terraform address, when the key comes from a plan.
    pub tf_address: Option<String>,
    /// Alias names, sorted.
    pub aliases: Vec<String>,
    /// Key state (`unknown` when not collected).
    pub state: String,
    /// Rotation (`enabled (365 days)`, `disabled`, `unknown`).
    pub rotation: String,
    /// Multi-Region (`no`, `PRIMARY`, `REPLICA`, `yes`, `unknown`).
    pub multi_region: String,
    /// A short label for matrix columns: the first alias when no other key of the report has
    /// it, else `ACCOUNT:key-id`.
    pub label: String,
    /// Risk.
    pub risk: Risk,
    /// One answer per [`REPORT_ACTIONS`] action.
    pub answers: Vec<Answer>,
    /// Findings about the key (excluding [`ASSERT_RULE`]).
    pub findings: Vec<&'a Finding>,
    /// `[[assert]]` verdicts about the key.
    pub asserts: Vec<&'a Finding>,
    /// Proof transcripts of the `kms:Decrypt` answer.
    pub proofs: Vec<Proof>,
}

/// A node of a key's access graph.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GraphNode {
    /// Layer: 0 for the callers, the key last.
    pub layer: usize,
    /// Identifier (ARN, `grant <id>`).
    pub id: String,
}

/// An edge of a key's access graph.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GraphEdge {
    /// From node id.
    pub from: String,
    /// To node id.
    pub to: String,
    /// `sts:AssumeRole`, `key-policy`, `grant`, `kms:CreateGrant`, …
    pub via: String,
    /// An escalation edge (`kms:CreateGrant`, `kms:PutKeyPolicy`).
    pub escalation: bool,
}

/// A key's access graph, laid out in layers.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    /// Nodes sorted by (layer, id).
    pub nodes: Vec<GraphNode>,
    /// Edges, sorted.
    pub edges: Vec<GraphEdge>,
}

impl WorldSize {
    /// The grant count, with the keys whose grants were not collected.
    #[must_use]
    pub fn grants_text(&self) -> String {
        match self.grants_unknown {
            0 => self.grants.to_string(),
            1 => format!("{} (not collected for 1 key)", self.grants),
            n => format!("{} (not collected for {n} keys)", self.grants),
        }
    }
}

impl KeyAudit<'_> {
    /// The access graph of the key over all its answers: callers → intermediate roles and
    /// grants → key, escalation edges marked.
    #[must_use]
    pub fn graph(&self) -> Graph {
        let mut edges = BTreeSet::new();
        for e in self.answers.iter().flat_map(|a| &a.principals) {
            for hop in &e.path {
                let escalation = hop.via == "kms:CreateGrant" || hop.via == "kms:PutKeyPolicy";
                if hop.via == "grant" {
                    let g = format!("grant {}", hop.reference);
                    edges.insert(GraphEdge { from: hop.from.clone(), to: g.clone(), via: "grant".into(), escalation });
                    edges.insert(GraphEdge { from: g, to: hop.to.clone(), via: "grant".into(), escalation });
                } else {
                    edges.insert(GraphEdge {
                        from: hop.from.clone(),
                        to: hop.to.clone(),
                        via: hop.via.clone(),
                        escalation,
                    });
                }
            }
        }
        // Layer = longest distance... kept simple: shortest distance to the key, reversed.
        let mut dist: BTreeMap<String, usize> = BTreeMap::new();
        dist.insert(self.arn.clone(), 0);
        let mut frontier = vec![self.arn.clone()];
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for n in &frontier {
                let d = dist.get(n).copied().unwrap_or(0);
                for e in edges.iter().filter(|e| &e.to == n) {
                    if !dist.contains_key(&e.from) {
                        dist.insert(e.from.clone(), d + 1);
                        next.push(e.from.clone());
                    }
                }
            }
            next.sort();
            frontier = next;
        }
        for e in &edges {
            for n in [&e.from, &e.to] {
                if !dist.contains_key(n) {
                    dist.insert(n.clone(), 1);
                }
            }
        }
        let max = dist.values().copied().max().unwrap_or(0);
        let mut nodes: Vec<GraphNode> =
            dist.into_iter().map(|(id, d)| GraphNode { layer: max.saturating_sub(d), id }).collect();
        nodes.sort();
        Graph { nodes, edges: edges.into_iter().collect() }
    }
}

/// The whole report.
#[derive(Clone, Debug)]
pub struct Audit<'a> {
    /// Input files and the configuration file (kind `keyproof-config`), sorted by path.
    pub files: Vec<InputFile>,
    /// Counts.
    pub summary: Summary,
    /// The size of the world.
    pub world: WorldSize,
    /// All reported findings, sorted.
    pub findings: &'a [Finding],
    /// Keys, sorted by ARN.
    pub keys: Vec<KeyAudit<'a>>,
    /// The `[[assert]]`s of the configuration with their verdicts, in configuration order.
    pub assertions: Vec<AssertionAudit<'a>>,
    /// Findings neither about a key of the world nor about an `[[assert]]`.
    pub other_findings: Vec<&'a Finding>,
}

/// One cell of a matrix.
#[derive(Clone, Debug)]
pub struct Cell<'a> {
    /// The entry.
    pub entry: &'a Entry,
}

impl<'a> Audit<'a> {
    /// Builds the report: runs who-can for every key and [`REPORT_ACTIONS`] action, replays
    /// the `kms:Decrypt` answers in the software KMS, and reads the verdict on every
    /// `[[assert]]` of the settings from the [`ASSERT_RULE`] findings (reported or
    /// `suppressed`). The configuration file, when one was read, is listed with the inputs.
    #[must_use]
    pub fn build(
        world: &'a World,
        findings: &'a [Finding],
        suppressed: &[Suppressed],
        settings: &Settings,
    ) -> Audit<'a> {
        let mut files: Vec<InputFile> = world.files.clone();
        let config = settings.config_source.and_then(|id| world.sources.get(id));
        if let (Some(path), Some(source)) = (&settings.config_path, config) {
            files.push(InputFile {
                path: path.clone(),
                kind: "keyproof-config".to_string(),
                sha256: crate::ingest::sha256_hex(source.text.as_bytes()),
                size: u64::try_from(source.text.len()).unwrap_or(u64::MAX),
            });
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let mut keys = Vec::new();
        let mut claimed = BTreeSet::new();
        for (i, k) in world.keys.iter().enumerate() {
            let answers: Vec<Answer> = REPORT_ACTIONS
                .iter()
                .map(|a| who_can(world, &Query { key: i, action: (*a).to_string(), direct_only: false }))
                .collect();
            let proofs = answers.first().map(|a| prove(world, i, a)).unwrap_or_default();
            let about = |f: &Finding| {
                f.resource.as_deref().is_some_and(|r| r == k.arn || Some(r) == k.origin.tf_address.as_deref())
            };
            let mine: Vec<(usize, &Finding)> = findings.iter().enumerate().filter(|(_, f)| about(f)).collect();
            claimed.extend(mine.iter().map(|(j, _)| *j));
            let (asserts, rest): (Vec<&Finding>, Vec<&Finding>) =
                mine.into_iter().map(|(_, f)| f).partition(|f| f.rule == ASSERT_RULE);
            let mut risk = match rest.iter().chain(&asserts).map(|f| f.severity).max() {
                Some(Severity::Error) => Risk::High,
                Some(Severity::Warning) => Risk::Medium,
                Some(_) => Risk::Low,
                None => Risk::None,
            };
            if answers.first().is_some_and(|a| a.principals.iter().any(|e| e.principal == "*")) {
                risk = Risk::High;
            }
            let meta = k.metadata.as_ref();
            let mut aliases = world.aliases_of(k);
            aliases.sort();
            keys.push(KeyAudit {
                arn: k.arn.clone(),
                tf_address: k.origin.tf_address.clone(),
                aliases,
                state: meta.map_or_else(|| "unknown".to_string(), |m| m.state.clone()),
                rotation: match &k.rotation {
                    Some(r) if r.enabled => match r.period_days {
                        Some(d) => format!("enabled ({d} days)"),
                        None => "enabled".to_string(),
                    },
                    Some(_) => "disabled".to_string(),
                    None => "unknown".to_string(),
                },
                multi_region: match meta {
                    Some(m) if m.multi_region => m.multi_region_type.clone().unwrap_or_else(|| "yes".to_string()),
                    Some(_) => "no".to_string(),
                    None => "unknown".to_string(),
                },
                label: String::new(),
                risk,
                answers,
                findings: rest,
                asserts,
                proofs,
            });
        }
        keys.sort_by(|a, b| a.arn.cmp(&b.arn));
        let mut alias_uses: BTreeMap<String, usize> = BTreeMap::new();
        for k in &keys {
            if let Some(a) = k.aliases.first() {
                *alias_uses.entry(a.clone()).or_default() += 1;
            }
        }
        for k in &mut keys {
            k.label = match k.aliases.first() {
                Some(a) if alias_uses.get(a) == Some(&1) => a.clone(),
                _ => short_name(&k.arn),
            };
        }
        let assertions: Vec<AssertionAudit<'a>> = settings
            .assertions
            .iter()
            .enumerate()
            .map(|(index, a)| {
                let pointer = format!("/assert/{index}");
                let about = |f: &Finding| f.rule == ASSERT_RULE && f.pointer == pointer;
                let mine: Vec<(usize, &Finding)> = findings.iter().enumerate().filter(|(_, f)| about(f)).collect();
                claimed.extend(mine.iter().map(|(j, _)| *j));
                let hidden: Vec<&Finding> = suppressed.iter().map(|s| &s.finding).filter(|f| about(f)).collect();
                let all = || mine.iter().map(|(_, f)| *f).chain(hidden.iter().copied());
                let verdict = if all().any(|f| f.witness.is_some()) {
                    Verdict::Violated
                } else if all().next().is_some() {
                    Verdict::Unchecked
                } else {
                    Verdict::Holds
                };
                let key = world.find_key_index(&a.key);
                let key_arn = key.and_then(|i| world.keys.get(i)).map(|k| k.arn.clone());
                let allowed = match key {
                    Some(i) => {
                        let cached = keys
                            .iter()
                            .filter(|k| Some(&k.arn) == key_arn.as_ref())
                            .flat_map(|k| &k.answers)
                            .find(|ans| ans.action.eq_ignore_ascii_case(&a.action));
                        let fresh;
                        let answer = match cached {
                            Some(ans) => ans,
                            None => {
                                fresh = who_can(world, &Query { key: i, action: a.action.clone(), direct_only: false });
                                &fresh
                            }
                        };
                        answer.principals.iter().map(|e| e.principal.clone()).collect()
                    }
                    None => Vec::new(),
                };
                AssertionAudit {
                    index,
                    name: a.name.clone(),
                    key: a.key.clone(),
                    key_arn,
                    action: a.action.clone(),
                    only: a.only.clone(),
                    require_context: a.require_context.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect(),
                    verdict,
                    findings: mine.into_iter().map(|(_, f)| f).collect(),
                    suppressed: hidden.len(),
                    allowed,
                }
            })
            .collect();
        let other_findings =
            findings.iter().enumerate().filter(|(j, _)| !claimed.contains(j)).map(|(_, f)| f).collect();
        let size = WorldSize {
            accounts: world.accounts.len(),
            principals: world.principal_count(),
            keys: world.keys.len(),
            grants: world.keys.iter().filter_map(|k| k.grants.as_ref()).map(Vec::len).sum(),
            grants_unknown: world.keys.iter().filter(|k| k.grants.is_none()).count(),
            policies: world.policies.len(),
        };
        Audit {
            files,
            summary: Summary::new(world, findings, suppressed.len()),
            world: size,
            findings,
            keys,
            assertions,
            other_findings,
        }
    }

    /// The `[[assert]]`s about a key (by ARN).
    pub fn assertions_of<'s>(&'s self, key_arn: &'s str) -> impl Iterator<Item = &'s AssertionAudit<'a>> + 's {
        self.assertions.iter().filter(move |a| a.key_arn.as_deref() == Some(key_arn))
    }

    /// Findings counted by rule: `(rule, name, severity, count)`, sorted by rule.
    #[must_use]
    pub fn by_rule(&self) -> Vec<(&'static str, &'static str, Severity, usize)> {
        let mut m: BTreeMap<&'static str, (&'static str, Severity, usize)> = BTreeMap::new();
        for f in self.findings {
            let e = m.entry(f.rule).or_insert((f.name, f.severity, 0));
            e.1 = e.1.max(f.severity);
            e.2 += 1;
        }
        m.into_iter().map(|(r, (n, s, c))| (r, n, s, c)).collect()
    }

    /// The principals of the matrix of an action (index into [`REPORT_ACTIONS`]), sorted.
    #[must_use]
    pub fn matrix_principals(&self, action: usize) -> Vec<&str> {
        let set: BTreeSet<&str> = self
            .keys
            .iter()
            .filter_map(|k| k.answers.get(action))
            .flat_map(|a| a.principals.iter().map(|e| e.principal.as_str()))
            .collect();
        set.into_iter().collect()
    }

    /// The entry of a principal on a key for an action, if it has access.
    #[must_use]
    pub fn cell(&self, key: usize, action: usize, principal: &str) -> Option<Cell<'_>> {
        let a = self.keys.get(key)?.answers.get(action)?;
        a.principals.iter().find(|e| e.principal == principal).map(|entry| Cell { entry })
    }
}

/// A short label for an ARN: `ACCOUNT:resource` (`100000001111:role/KeyAdmin`).
#[must_use]
pub fn short_name(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "kms", _, acct, res] => format!("{acct}:{}", res.strip_prefix("key/").map_or(*res, |r| r)),
        ["arn", _, _, _, acct, res] if !acct.is_empty() => format!("{acct}:{res}"),
        _ => arn.to_string(),
    }
}

/// The kind of an entry as text.
#[must_use]
pub fn kind_text(e: &Entry) -> String {
    serde_json::to_value(e.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// The witness context as `k=v` pairs.
#[must_use]
pub fn witness_text(e: &Entry) -> String {
    let ctx: Vec<String> = e
        .witness
        .context
        .iter()
        .map(|(k, v)| format!("{k}={}", serde_json::to_string(v).unwrap_or_default()))
        .collect();
    if ctx.is_empty() {
        format!("{} as {}", e.witness.action, e.witness.principal)
    } else {
        format!("{} as {} with {}", e.witness.action, e.witness.principal, ctx.join(", "))
    }
}
