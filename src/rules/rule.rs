//! The rule trait, rule metadata, the `declare_rule!` macro and the context rules run in.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::config::{Settings, SuppressionReport};
use crate::policy::err::{PolicyDiagnostic, Severity};
use crate::policy::json::{self, pointer_token, Json, JsonKind};
use crate::policy::model::{PolicyId, Statement};
use crate::report::finding::{Finding, Label};
use crate::source::{SourceId, Span};
use crate::world::{Origin, PolicyEntry, PolicySlot, World};

/// What kind of problem a rule reports; a selector can name a category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// The document does not mean what it appears to mean, or AWS rejects it.
    Correctness,
    /// Someone outside the intended set of principals can use the key.
    Exposure,
    /// A principal can widen its own access (grants, policy changes, role chains).
    PrivilegeEscalation,
    /// A risky pattern or a departure from AWS best practice.
    Hygiene,
    /// Key lifecycle, disaster recovery and service integration.
    Resilience,
    /// A user-declared assertion or suppression.
    Assertion,
}

impl Category {
    /// Every category.
    pub const ALL: &'static [Category] = &[
        Category::Correctness,
        Category::Exposure,
        Category::PrivilegeEscalation,
        Category::Hygiene,
        Category::Resilience,
        Category::Assertion,
    ];

    /// The kebab-case name used in selectors and output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Correctness => "correctness",
            Category::Exposure => "exposure",
            Category::PrivilegeEscalation => "privilege-escalation",
            Category::Hygiene => "hygiene",
            Category::Resilience => "resilience",
            Category::Assertion => "assertion",
        }
    }

    /// One-line meaning.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Category::Correctness => "the document does not mean what it appears to mean, or AWS rejects it",
            Category::Exposure => "someone outside the intended set of principals can use the key",
            Category::PrivilegeEscalation => "a principal can widen its own access",
            Category::Hygiene => "a risky pattern or a departure from AWS best practice",
            Category::Resilience => "key lifecycle, disaster recovery and service integration",
            Category::Assertion => "user-declared assertions and suppressions",
        }
    }
}

/// Lifecycle of a rule. Ids are never reused: a removed rule keeps its id and page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleStatus {
    /// Enabled by default.
    Stable {
        /// Version that introduced it.
        since: &'static str,
    },
    /// Runs only when selected by id or name.
    Preview {
        /// Version that introduced it.
        since: &'static str,
    },
    /// Runs only when selected by id or name; will be removed.
    Deprecated {
        /// Version that deprecated it.
        since: &'static str,
    },
    /// Never runs.
    Removed {
        /// Version that removed it.
        since: &'static str,
    },
}

impl RuleStatus {
    /// `stable`, `preview`, `deprecated`, `removed`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Stable { .. } => "stable",
            RuleStatus::Preview { .. } => "preview",
            RuleStatus::Deprecated { .. } => "deprecated",
            RuleStatus::Removed { .. } => "removed",
        }
    }

    /// The version in the status.
    #[must_use]
    pub fn since(self) -> &'static str {
        match self {
            RuleStatus::Stable { since }
            | RuleStatus::Preview { since }
            | RuleStatus::Deprecated { since }
            | RuleStatus::Removed { since } => since,
        }
    }
}

/// Everything about a rule except its check; built by `declare_rule!`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleInfo {
    /// Stable id (`KP160`).
    pub id: &'static str,
    /// Kebab-case name of the bad pattern (`invalid-principal`).
    pub name: &'static str,
    /// Category.
    pub category: Category,
    /// Default severity.
    pub severity: Severity,
    /// Status.
    pub status: RuleStatus,
    /// The doc comment, one line per doc-comment line (each with its leading space).
    pub docs: &'static str,
    /// `file:line` of the declaration.
    pub location: &'static str,
}

impl RuleInfo {
    /// The doc comment as Markdown (the leading space of each line removed).
    #[must_use]
    pub fn docs_markdown(&self) -> String {
        let mut s = String::with_capacity(self.docs.len());
        for line in self.docs.lines() {
            s.push_str(line.strip_prefix(' ').unwrap_or(line));
            s.push('\n');
        }
        s
    }

    /// The text of a `## <title>` section, without its heading, trimmed.
    #[must_use]
    pub fn section(&self, title: &str) -> Option<String> {
        let md = self.docs_markdown();
        let heading = format!("## {title}");
        let mut lines = md.lines().skip_while(|l| l.trim_end() != heading);
        lines.next()?;
        let mut in_code = false;
        let body: Vec<&str> = lines
            .take_while(|l| {
                if l.starts_with("```") {
                    in_code = !in_code;
                }
                in_code || !l.starts_with("## ")
            })
            .collect();
        Some(body.join("\n").trim().to_string())
    }

    /// The first sentence of `## What it does`, for one-line listings.
    #[must_use]
    pub fn summary(&self) -> String {
        let what = self.section("What it does").unwrap_or_default();
        let para = what.split("\n\n").next().unwrap_or("").replace('\n', " ");
        match para.find(". ") {
            Some(i) => para.get(..=i).unwrap_or(&para).to_string(),
            None => para,
        }
    }

    /// The declaring file, without the line.
    #[must_use]
    pub fn file(&self) -> &'static str {
        self.location.rsplit_once(':').map_or(self.location, |(f, _)| f)
    }
}

/// Access to a rule's metadata; implemented by `declare_rule!`.
pub trait RuleMeta {
    /// The metadata.
    fn info(&self) -> &'static RuleInfo;
}

/// When a rule runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// With the other rules, on the world.
    Analysis,
    /// After suppressions were applied; [`RuleContext::suppressions`] is then available
    /// (for the unused-suppression rule).
    AfterSuppression,
}

/// A rule: metadata plus a check over the world.
pub trait Rule: RuleMeta + Sync {
    /// When the rule runs.
    fn phase(&self) -> Phase {
        Phase::Analysis
    }

    /// Pushes one finding per problem. Severity overrides, suppression and sorting are
    /// applied afterwards by the runner.
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>);

    /// True when the rule goes through the keys with [`RuleContext::keys`] and what it finds
    /// about a key depends on that key alone: the runner then runs it in small tasks over a
    /// few keys each, whose who-can answers are dropped when the task ends
    /// (docs/performance.md).
    fn by_key(&self) -> bool {
        false
    }
}

/// Declares a rule: a unit struct with its doc comment, `DOCS`, `LOCATION` and metadata.
///
/// ```ignore
/// declare_rule! {
///     /// ## What it does
///     /// ...
///     pub InvalidPrincipal {
///         id: "KP160",
///         name: "invalid-principal",
///         category: Correctness,
///         severity: Error,
///         status: Stable { since: "0.1.0" },
///     }
/// }
/// ```
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis $rule:ident {
            id: $id:literal,
            name: $name:literal,
            category: $category:ident,
            severity: $severity:ident,
            status: $status:ident { since: $since:literal } $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Clone, Copy, Debug, Default)]
        $vis struct $rule;

        impl $rule {
            /// The documentation: the doc comment, one line per doc-comment line.
            pub const DOCS: &'static str = concat!($($doc, "\n",)*);
            /// Where the rule is declared (`file:line`).
            pub const LOCATION: &'static str = concat!(file!(), ":", line!());
            /// The rule's metadata.
            pub const INFO: $crate::rules::rule::RuleInfo = $crate::rules::rule::RuleInfo {
                id: $id,
                name: $name,
                category: $crate::rules::rule::Category::$category,
                severity: $crate::policy::err::Severity::$severity,
                status: $crate::rules::rule::RuleStatus::$status { since: $since },
                docs: Self::DOCS,
                location: Self::LOCATION,
            };
        }

        impl $crate::rules::rule::RuleMeta for $rule {
            fn info(&self) -> &'static $crate::rules::rule::RuleInfo {
                &Self::INFO
            }
        }
    };
}
pub(crate) use declare_rule;

/// What a rule sees: the world, the settings, and helpers to build findings.
pub struct RuleContext<'a> {
    /// Everything read.
    pub world: &'a World,
    /// The resolved settings.
    pub settings: &'a Settings,
    /// Ids of the rules that run in this check.
    pub enabled: Vec<&'static str>,
    suppressions: Option<&'a SuppressionReport>,
    by_policy: BTreeMap<PolicyId, String>,
    by_source: BTreeMap<SourceId, String>,
    trees: Mutex<BTreeMap<SourceId, Option<Arc<Json>>>>,
    answers: Mutex<Answers>,
    /// Per-run tables rules share or reuse across their tasks, by type (see [`RuleContext::shared`]).
    shared: Mutex<BTreeMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>>,
}

/// Who-can answers by key, action and `direct`.
type Answers = BTreeMap<(usize, String, bool), Arc<crate::solve::Answer>>;

/// The keys one task of the rules of [`Rule::by_key`] looks at, and the who-can answers asked
/// for them in that task (dropped when it ends).
struct KeyScope {
    /// The [`RuleContext`] the task belongs to (its address).
    owner: usize,
    range: std::ops::Range<usize>,
    answers: Answers,
}

thread_local! {
    /// The key scopes of the tasks running on this thread, innermost last (a task can start
    /// another one while it waits inside a parallel who-can).
    static KEY_SCOPES: std::cell::RefCell<Vec<KeyScope>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Pops the scope a [`RuleContext::with_keys`] pushed, also when the task unwinds.
struct ScopeGuard;

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        KEY_SCOPES.with_borrow_mut(|s| s.pop());
    }
}

impl<'a> RuleContext<'a> {
    /// Who can perform `action` on `world.keys[key]` (memoized: rules share one answer per
    /// key, action and `direct` flag). Rules ask this instead of reading policy text. The
    /// transitive answer extends the direct one, which is asked (and kept) first.
    pub fn who_can(&self, key: usize, action: &str, direct: bool) -> Arc<crate::solve::Answer> {
        let id = (key, action.to_string(), direct);
        if let Some(a) = self.memoized(&id) {
            return a;
        }
        let answer = if direct {
            crate::solve::who_can_among(self.world, key, action, crate::solve::Among::ALL)
        } else {
            crate::solve::with_transitive(self.world, key, (*self.who_can(key, action, true)).clone())
        };
        self.memoize(id, Arc::new(answer))
    }

    /// The transitive entries of [`RuleContext::who_can`]'s answer (not memoized): from the
    /// memoized answer when there is one, else solving only the direct entries they depend on.
    #[must_use]
    pub fn transitive_entries(&self, key: usize, action: &str) -> Vec<crate::solve::Entry> {
        match self.memoized(&(key, action.to_string(), false)) {
            Some(a) => a.principals.iter().filter(|e| e.transitive).cloned().collect(),
            None => crate::solve::transitive_entries(self.world, key, action),
        }
    }

    /// The direct entries of the principals `among` keeps: the memoized direct answer,
    /// filtered, when there is one; else solved for those principals only (and not memoized).
    /// For rules that look at a few principals of keys that many principals can use.
    pub fn who_can_among(&self, key: usize, action: &str, among: crate::solve::Among<'_>) -> crate::solve::Answer {
        match self.memoized(&(key, action.to_string(), true)) {
            Some(a) => crate::solve::Answer {
                key: a.key.clone(),
                action: a.action.clone(),
                principals: a.principals.iter().filter(|e| (among.keep)(&e.candidate())).cloned().collect(),
                assumptions: a.assumptions.clone(),
            },
            None => crate::solve::who_can_among(self.world, key, action, among),
        }
    }

    /// Is `key` one of the current task's keys ([`RuleContext::with_keys`])?
    fn scoped(&self, key: usize) -> bool {
        let me = self.address();
        KEY_SCOPES.with_borrow(|s| s.last().is_some_and(|sc| sc.owner == me && sc.range.contains(&key)))
    }

    fn memoized(&self, id: &(usize, String, bool)) -> Option<Arc<crate::solve::Answer>> {
        if self.scoped(id.0) {
            KEY_SCOPES.with_borrow(|s| s.last().and_then(|sc| sc.answers.get(id).cloned()))
        } else {
            self.answers.lock().unwrap_or_else(PoisonError::into_inner).get(id).cloned()
        }
    }

    /// Keeps an answer (in the task's memo for its keys, else in the run's), returning the one
    /// kept. The memo is not borrowed while solving: the solver's parallel loop may run another
    /// task on this thread.
    fn memoize(&self, id: (usize, String, bool), answer: Arc<crate::solve::Answer>) -> Arc<crate::solve::Answer> {
        if self.scoped(id.0) {
            let me = self.address();
            KEY_SCOPES.with_borrow_mut(|s| {
                if let Some(sc) = s.last_mut().filter(|sc| sc.owner == me) {
                    sc.answers.insert(id, Arc::clone(&answer));
                }
            });
            return answer;
        }
        Arc::clone(self.answers.lock().unwrap_or_else(PoisonError::into_inner).entry(id).or_insert(answer))
    }

    /// A table built once per run and kept for the rules' tasks (one per type `T`).
    pub fn shared<T: std::any::Any + Send + Sync>(&self, build: impl FnOnce() -> T) -> Arc<T> {
        let id = std::any::TypeId::of::<T>();
        let found = self.shared.lock().unwrap_or_else(PoisonError::into_inner).get(&id).cloned();
        if let Some(t) = found.and_then(|a| a.downcast::<T>().ok()) {
            return t;
        }
        let built = Arc::new(build());
        let any: Arc<dyn std::any::Any + Send + Sync> = built.clone();
        self.shared.lock().unwrap_or_else(PoisonError::into_inner).entry(id).or_insert(any);
        built
    }

    fn address(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// The keys a rule of [`Rule::by_key`] looks at, with their indexes in `world.keys`: every
    /// key, or the few keys of the task the runner gave it (see [`RuleContext::with_keys`]).
    pub fn keys(&self) -> impl Iterator<Item = (usize, &'a crate::world::Key)> + 'a {
        let me = self.address();
        let range = KEY_SCOPES
            .with_borrow(|s| s.last().filter(|sc| sc.owner == me).map(|sc| sc.range.clone()))
            .unwrap_or(0..self.world.keys.len());
        let keys: &'a [crate::world::Key] = &self.world.keys;
        keys.iter().enumerate().skip(range.start).take(range.len())
    }

    /// Runs `f` with [`RuleContext::keys`] restricted to `range` on this thread, and a who-can
    /// memo of its own for those keys that is dropped at the end: tasks over different keys
    /// never solve the same question twice, and memory does not grow with the organization.
    pub(crate) fn with_keys<R>(&self, range: std::ops::Range<usize>, f: impl FnOnce() -> R) -> R {
        KEY_SCOPES.with_borrow_mut(|s| s.push(KeyScope { owner: self.address(), range, answers: Answers::new() }));
        let _guard = ScopeGuard;
        f()
    }

    /// A context over a world; computes which resource each policy belongs to.
    #[must_use]
    pub fn new(world: &'a World, settings: &'a Settings) -> Self {
        let mut by_policy = BTreeMap::new();
        let mut put = |slot: &PolicySlot, owner: &str| {
            if let PolicySlot::Known(id) = slot {
                by_policy.entry(*id).or_insert_with(|| owner.to_string());
            }
        };
        for k in &world.keys {
            if let Some(slot) = &k.policy {
                put(slot, &k.arn);
            }
        }
        for r in &world.roles {
            for slot in r.trust.iter().chain(&r.inline) {
                put(slot, &r.arn);
            }
        }
        for u in &world.users {
            for slot in &u.inline {
                put(slot, &u.arn);
            }
        }
        for g in &world.groups {
            for slot in &g.inline {
                put(slot, &g.arn);
            }
        }
        for m in world.managed_policies.values() {
            put(&m.policy, &m.arn);
        }
        for p in world.org_policies.values() {
            put(&p.policy, &p.id);
        }
        let mut by_source = BTreeMap::new();
        for (i, e) in world.policies.iter().enumerate() {
            let id = PolicyId(u32::try_from(i).unwrap_or(u32::MAX));
            if let Some(owner) = by_policy.get(&id) {
                by_source.entry(e.policy.source).or_insert_with(|| owner.clone());
            }
        }
        Self {
            world,
            settings,
            enabled: Vec::new(),
            suppressions: None,
            by_policy,
            by_source,
            trees: Mutex::new(BTreeMap::new()),
            answers: Mutex::new(BTreeMap::new()),
            shared: Mutex::new(BTreeMap::new()),
        }
    }

    /// Sets the suppression outcome, for rules of [`Phase::AfterSuppression`].
    #[must_use]
    pub fn with_suppressions(mut self, report: &'a SuppressionReport) -> Self {
        self.suppressions = Some(report);
        self
    }

    /// Which suppressions matched; `None` during [`Phase::Analysis`].
    #[must_use]
    pub fn suppressions(&self) -> Option<&'a SuppressionReport> {
        self.suppressions
    }

    /// Every policy of the world with its id.
    pub fn policies(&self) -> impl Iterator<Item = (PolicyId, &'a PolicyEntry)> + 'a {
        self.world.policies.iter().enumerate().map(|(i, e)| (PolicyId(u32::try_from(i).unwrap_or(u32::MAX)), e))
    }

    /// Every statement of every policy, with its policy.
    pub fn statements(&self) -> impl Iterator<Item = (PolicyId, &'a PolicyEntry, &'a Statement)> + 'a {
        self.policies().flat_map(|(id, e)| e.policy.statements.iter().map(move |st| (id, e, st)))
    }

    /// The ARN (or id) of what a policy belongs to: the key, role, user, managed policy…
    #[must_use]
    pub fn resource_of(&self, policy: PolicyId) -> Option<String> {
        self.by_policy.get(&policy).cloned()
    }

    /// A finding of `rule` at its default severity on an element of a policy.
    #[must_use]
    pub fn finding(
        &self,
        rule: &dyn RuleMeta,
        policy: PolicyId,
        span: Span,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        let source = self.world.policy(policy).map_or(SourceId(u32::MAX), |e| e.policy.source);
        self.finding_in(rule, source, span, pointer, message).with_resource(self.resource_of(policy))
    }

    /// A finding of `rule` at its default severity on a span of any source.
    #[must_use]
    pub fn finding_in(
        &self,
        rule: &dyn RuleMeta,
        source: SourceId,
        span: Span,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        let info = rule.info();
        Finding::new(info.id, info.name, info.severity, message)
            .at(&self.world.sources, source, span, pointer)
            .with_resource(self.by_source.get(&source).cloned())
    }

    /// A finding placed on where a world object was read from.
    #[must_use]
    pub fn finding_at_origin(&self, rule: &dyn RuleMeta, origin: &Origin, message: impl Into<String>) -> Finding {
        match origin.source {
            Some(source) => {
                let pointer = if origin.pointer.is_empty() {
                    self.pointer_at(source, origin.span).unwrap_or_default()
                } else {
                    origin.pointer.clone()
                };
                self.finding_in(rule, source, origin.span, pointer, message)
            }
            None => {
                let info = rule.info();
                let mut f = Finding::new(info.id, info.name, info.severity, message);
                f.pointer.clone_from(&origin.pointer);
                f
            }
        }
    }

    /// A secondary label on a span.
    #[must_use]
    pub fn label(&self, source: SourceId, span: Span, message: impl Into<String>) -> Label {
        Label {
            message: message.into(),
            location: crate::report::finding::Location::resolve(&self.world.sources, source, span),
        }
    }

    /// Turns the reader's diagnostics with the rule's id into findings: the diagnostic is the finding.
    pub fn diagnostics_of(&self, rule: &dyn RuleMeta, out: &mut Vec<Finding>) {
        let id = rule.info().id;
        for d in self.world.diagnostics.iter().filter(|d| d.code == id) {
            out.push(self.diagnostic_finding(rule, d));
        }
    }

    fn diagnostic_finding(&self, rule: &dyn RuleMeta, d: &PolicyDiagnostic) -> Finding {
        let mut f = self.finding_in(rule, d.source, d.span, d.pointer.clone(), d.message.clone());
        if let Some(sev) = d.severity {
            f.severity = sev;
        }
        if d.resource.is_some() {
            f.resource.clone_from(&d.resource);
        }
        f
    }

    fn tree(&self, source: SourceId) -> Option<Arc<Json>> {
        let mut trees = self.trees.lock().unwrap_or_else(PoisonError::into_inner);
        trees
            .entry(source)
            .or_insert_with(|| self.world.sources.get(source).and_then(|s| json::parse(&s.text).ok()).map(Arc::new))
            .clone()
    }

    /// The JSON pointer of the value or member key written at `span` in a source (by
    /// re-reading the source), or `None` if no element starts and ends there.
    #[must_use]
    pub fn pointer_at(&self, source: SourceId, span: Span) -> Option<String> {
        find_pointer(&*self.tree(source)?, span, String::new(), 0)
    }

    /// The value of the first member named `key` inside the element written at `within`
    /// (searched depth-first), with its pointer: a more specific place for a finding whose
    /// world object only records the enclosing element.
    #[must_use]
    pub fn member_in(&self, source: SourceId, within: Span, key: &str) -> Option<(Span, String)> {
        let tree = self.tree(source)?;
        let span = find_member(find_node(&tree, within, 0)?, key, 0)?;
        Some((span, find_pointer(&tree, span, String::new(), 0)?))
    }
}

fn find_node(v: &Json, span: Span, depth: usize) -> Option<&Json> {
    if v.span == span {
        return Some(v);
    }
    if depth > json::MAX_DEPTH || span.start < v.span.start || span.end > v.span.end {
        return None;
    }
    match &v.kind {
        JsonKind::Object(members) => members
            .get(first_holding(members, |m| m.value.span, span)..)?
            .iter()
            .take_while(|m| m.key_span.start <= span.start)
            .find_map(|m| find_node(&m.value, span, depth + 1)),
        JsonKind::Array(items) => items
            .get(first_holding(items, |it| it.span, span)..)?
            .iter()
            .take_while(|it| it.span.start <= span.start)
            .find_map(|it| find_node(it, span, depth + 1)),
        _ => None,
    }
}

/// The first child that can hold `span`: children are in document order with disjoint spans,
/// so the ones before it end before `span` does. A binary search, so that locating each of many
/// findings in an array of a hundred thousand elements stays logarithmic, not linear.
fn first_holding<T>(children: &[T], span_of: impl Fn(&T) -> Span, span: Span) -> usize {
    children.partition_point(|c| span_of(c).end < span.end)
}

fn find_member(v: &Json, key: &str, depth: usize) -> Option<Span> {
    if depth > json::MAX_DEPTH {
        return None;
    }
    match &v.kind {
        JsonKind::Object(members) => members
            .iter()
            .find(|m| &*m.key == key)
            .map(|m| m.value.span)
            .or_else(|| members.iter().find_map(|m| find_member(&m.value, key, depth + 1))),
        JsonKind::Array(items) => items.iter().find_map(|it| find_member(it, key, depth + 1)),
        _ => None,
    }
}

fn find_pointer(v: &Json, span: Span, here: String, depth: usize) -> Option<String> {
    if v.span == span {
        return Some(here);
    }
    if depth > json::MAX_DEPTH || span.start < v.span.start || span.end > v.span.end {
        return None;
    }
    match &v.kind {
        JsonKind::Object(members) => {
            let first = first_holding(members, |m| m.value.span, span);
            members.get(first..)?.iter().take_while(|m| m.key_span.start <= span.start).find_map(|m| {
                let p = format!("{here}/{}", pointer_token(&m.key));
                if m.key_span == span {
                    Some(p)
                } else {
                    find_pointer(&m.value, span, p, depth + 1)
                }
            })
        }
        JsonKind::Array(items) => {
            let first = first_holding(items, |it| it.span, span);
            items
                .get(first..)?
                .iter()
                .enumerate()
                .take_while(|(_, it)| it.span.start <= span.start)
                .find_map(|(i, it)| find_pointer(it, span, format!("{here}/{}", first + i), depth + 1))
        }
        _ => None,
    }
}
