//! The normalised policy model: every element of the IAM policy grammar (semantics.md §1),
//! list-valued elements as vectors, each element with its span.

use crate::source::{SourceId, Span, Spanned};

/// Index of a policy in the world's policy table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PolicyId(pub u32);

/// `Allow` or `Deny`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Effect {
    /// `"Allow"`
    Allow,
    /// `"Deny"`
    Deny,
}

impl Effect {
    /// `Allow` / `Deny`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// What kind of document a policy is; decides validation and evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocKind {
    /// A KMS key policy.
    KeyPolicy,
    /// An IAM identity policy (inline, managed, or loose).
    Identity,
    /// A permissions boundary (a managed policy used as one).
    Boundary,
    /// A role trust policy.
    Trust,
    /// A service control policy.
    Scp,
    /// A resource control policy.
    Rcp,
}

impl DocKind {
    /// Lowercase name used in messages and JSON.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::KeyPolicy => "key-policy",
            DocKind::Identity => "identity-policy",
            DocKind::Boundary => "permissions-boundary",
            DocKind::Trust => "trust-policy",
            DocKind::Scp => "scp",
            DocKind::Rcp => "rcp",
        }
    }

    /// True for documents whose statements carry a `Principal`.
    #[must_use]
    pub fn is_resource_policy(self) -> bool {
        matches!(self, DocKind::KeyPolicy | DocKind::Trust | DocKind::Rcp)
    }
}

/// A parsed policy document.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The source holding the document text.
    pub source: SourceId,
    /// The document's span in that source.
    pub span: Span,
    /// JSON pointer of the document inside its source ("" when the source is the document).
    pub pointer: String,
    /// `Version`, if written.
    pub version: Option<Spanned<String>>,
    /// `Id`, if written.
    pub id: Option<Spanned<String>>,
    /// The statements, in document order.
    pub statements: Vec<Statement>,
    /// Size of the document text in bytes (KMS counts the submitted document).
    pub size: usize,
}

impl Policy {
    /// True when `${…}` policy variables are substituted (only with `Version: 2012-10-17`).
    #[must_use]
    pub fn variables_enabled(&self) -> bool {
        self.version.as_ref().is_some_and(|v| v.value == "2012-10-17")
    }
}

/// One statement.
#[derive(Clone, Debug)]
pub struct Statement {
    /// Position in the `Statement` list (0-based).
    pub index: usize,
    /// The statement's span.
    pub span: Span,
    /// JSON pointer inside the source.
    pub pointer: String,
    /// `Sid`, if written.
    pub sid: Option<Spanned<String>>,
    /// `Effect`.
    pub effect: Effect,
    /// `Principal` / `NotPrincipal`, if written.
    pub principal: Option<Principals>,
    /// `Action` / `NotAction`.
    pub action: Patterns,
    /// `Resource` / `NotResource`, if written.
    pub resource: Option<Patterns>,
    /// Condition entries (one per operator × key); all must hold.
    pub conditions: Vec<Condition>,
    /// True when the statement is malformed so that AWS would reject the document; a broken
    /// statement never applies and always has a `KP152` finding.
    pub broken: bool,
}

impl Statement {
    /// A label for messages: the Sid, or `#index`.
    #[must_use]
    pub fn label(&self) -> String {
        match &self.sid {
            Some(s) if !s.value.is_empty() => s.value.clone(),
            _ => format!("#{}", self.index),
        }
    }
}

/// `Principal` or `NotPrincipal`.
#[derive(Clone, Debug)]
pub struct Principals {
    /// True for `NotPrincipal`.
    pub negated: bool,
    /// Every principal entry, over all of `AWS`, `Service`, `Federated`, `CanonicalUser`.
    pub entries: Vec<PrincipalEntry>,
    /// The element's span.
    pub span: Span,
    /// Lookup over a long list, built on first use (see [`Principals::candidates`]).
    pub index: std::sync::OnceLock<PrincipalIndex>,
    /// Per entry, [`crate::policy::arn::account_key`] of the account it names (`0`: none),
    /// built on first use: a caller of another account is passed over without reading strings.
    pub account_keys: std::sync::OnceLock<Box<[u64]>>,
}

/// Lists at most this long are scanned; longer ones are looked up through a [`PrincipalIndex`].
const INDEX_FROM: usize = 16;

/// The entries of a long principal list by what they can match: a caller is then compared
/// with a few entries instead of all of them, so a statement naming thousands of principals
/// costs the evaluator (and the solver, which asks once per principal) no more than a short one.
#[derive(Clone, Debug, Default)]
pub struct PrincipalIndex {
    /// Entries that may match any caller (`*`, services, federated, unparsed): always compared.
    general: Vec<usize>,
    /// Account entries by account id.
    accounts: std::collections::HashMap<String, Vec<usize>>,
    /// Users, roles, sessions and federated users by account id and lowercased name.
    named: std::collections::HashMap<(String, String), Vec<usize>>,
}

impl Principals {
    /// The accounts the element names, as accounts or through their principals; `None` when it
    /// names `*` or is a `NotPrincipal` (any account).
    #[must_use]
    pub fn named_accounts(&self) -> Option<std::collections::BTreeSet<&str>> {
        if self.negated || self.entries.iter().any(|e| e.principal == PrincipalRef::Anyone) {
            return None;
        }
        Some(self.entries.iter().filter_map(|e| e.principal.account()).collect())
    }

    /// The entries that can match a caller of `account` (none for a service) whose user, role
    /// or federated-user name is `name`: every entry of a short list, else a superset of the
    /// matching entries of a long one, in list order. The caller still has to be matched.
    #[must_use]
    pub fn candidates(&self, account: Option<&str>, name: Option<&str>) -> Candidates<'_> {
        if self.entries.len() <= INDEX_FROM {
            let keys =
                self.account_keys.get_or_init(|| self.entries.iter().map(|e| e.principal.account_key()).collect());
            let caller = account.map_or(0, crate::policy::arn::account_key);
            return Candidates::All(self.entries.iter().zip(keys.iter()), caller);
        }
        let index = self.index.get_or_init(|| PrincipalIndex::new(&self.entries));
        let mut ids: Vec<usize> = index.general.clone();
        if let Some(a) = account {
            ids.extend(index.accounts.get(a).into_iter().flatten());
            if let Some(n) = name {
                ids.extend(index.named.get(&(a.to_string(), n.to_ascii_lowercase())).into_iter().flatten());
            }
        }
        ids.sort_unstable();
        Candidates::Some(ids.into_iter().filter_map(|i| self.entries.get(i)).collect::<Vec<_>>().into_iter())
    }
}

/// The entries of [`Principals::candidates`]: all of a short list (no allocation), or those
/// the index selected.
#[derive(Debug)]
pub enum Candidates<'p> {
    /// Every entry, with its account key, except those naming an account other than the
    /// caller's (key given last; `0` when the caller's account is not numeric).
    All(std::iter::Zip<std::slice::Iter<'p, PrincipalEntry>, std::slice::Iter<'p, u64>>, u64),
    /// The selected entries.
    Some(std::vec::IntoIter<&'p PrincipalEntry>),
}

impl<'p> Iterator for Candidates<'p> {
    type Item = &'p PrincipalEntry;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Candidates::All(it, caller) => it.find(|(_, &k)| k == 0 || *caller == 0 || k == *caller).map(|(e, _)| e),
            Candidates::Some(it) => it.next(),
        }
    }
}

impl PrincipalIndex {
    fn new(entries: &[PrincipalEntry]) -> Self {
        let mut index = PrincipalIndex::default();
        for (i, e) in entries.iter().enumerate() {
            match &e.principal {
                PrincipalRef::Account(a) => index.accounts.entry(a.clone()).or_default().push(i),
                PrincipalRef::User { account, name, .. }
                | PrincipalRef::Role { account, name, .. }
                | PrincipalRef::AssumedRole { account, role: name, .. }
                | PrincipalRef::FederatedUser { account, name } => {
                    index.named.entry((account.clone(), name.to_ascii_lowercase())).or_default().push(i);
                }
                _ => index.general.push(i),
            }
        }
        index
    }
}

/// One principal value.
#[derive(Clone, Debug)]
pub struct PrincipalEntry {
    /// What it names.
    pub principal: PrincipalRef,
    /// The text as written.
    pub raw: String,
    /// Its span.
    pub span: Span,
}

/// What a principal entry names (semantics.md §1.3).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalRef {
    /// `"*"` or `{"AWS": "*"}`.
    Anyone,
    /// `"ACCT"` or `arn:aws:iam::ACCT:root`: the account principal.
    Account(String),
    /// An IAM user.
    User {
        /// Account id.
        account: String,
        /// Path with leading and trailing `/`.
        path: String,
        /// User name.
        name: String,
    },
    /// An IAM role (and all its sessions).
    Role {
        /// Account id.
        account: String,
        /// Path with leading and trailing `/`.
        path: String,
        /// Role name.
        name: String,
    },
    /// One assumed-role session.
    AssumedRole {
        /// Account id.
        account: String,
        /// Role name (no path).
        role: String,
        /// Session name.
        session: String,
    },
    /// A GetFederationToken session.
    FederatedUser {
        /// Account id.
        account: String,
        /// Federated user name.
        name: String,
    },
    /// A service principal such as `logs.amazonaws.com`.
    Service(String),
    /// A web-identity or SAML provider.
    Federated(String),
    /// An S3 canonical user id (never matches in KMS).
    CanonicalUser(String),
    /// A bare unique id (`AROA…`, `AIDA…`): a deleted principal; matches nobody.
    UniqueId(String),
    /// Not a valid principal; the reason in lowercase.
    Invalid(String),
}

/// An `Action`/`NotAction` or `Resource`/`NotResource` element.
#[derive(Clone, Debug)]
pub struct Patterns {
    /// True for `NotAction` / `NotResource`.
    pub negated: bool,
    /// The patterns as written.
    pub items: Vec<Spanned<String>>,
    /// The element's span.
    pub span: Span,
    /// For an `Action`/`NotAction` element: which actions of the catalogue it covers, as a
    /// bit set over [`crate::catalog::Catalog::actions`] (built on first use by the evaluator).
    pub action_set: std::sync::OnceLock<Box<[u64]>>,
}

/// A condition operator name split into its parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Operator {
    /// The base operator.
    pub base: OpBase,
    /// `ForAnyValue:` / `ForAllValues:`.
    pub set: Option<SetQualifier>,
    /// `…IfExists`.
    pub if_exists: bool,
}

/// `ForAnyValue` / `ForAllValues`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    /// `ForAnyValue:`
    ForAnyValue,
    /// `ForAllValues:`
    ForAllValues,
}

/// Value type family of an operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpFamily {
    /// String operators.
    String,
    /// Numeric operators.
    Numeric,
    /// Date operators.
    Date,
    /// `Bool`.
    Bool,
    /// `BinaryEquals`.
    Binary,
    /// `IpAddress` / `NotIpAddress`.
    Ip,
    /// ARN operators.
    Arn,
    /// `Null`.
    Null,
}

macro_rules! operators {
    ($($name:ident => $family:ident, $negated:expr;)*) => {
        /// The base condition operators (semantics.md §3.3).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum OpBase { $(#[doc = stringify!($name)] $name,)* }

        impl OpBase {
            /// Every operator.
            pub const ALL: &'static [OpBase] = &[$(OpBase::$name,)*];

            /// The canonical name.
            #[must_use]
            pub fn name(self) -> &'static str {
                match self { $(OpBase::$name => stringify!($name),)* }
            }

            /// The value family.
            #[must_use]
            pub fn family(self) -> OpFamily {
                match self { $(OpBase::$name => OpFamily::$family,)* }
            }

            /// True for negated operators (`…Not…`, `NotIpAddress`): several values are NOR-ed
            /// and a missing key makes them true.
            #[must_use]
            pub fn negated(self) -> bool {
                match self { $(OpBase::$name => $negated,)* }
            }
        }
    };
}

operators! {
    StringEquals => String, false;
    StringNotEquals => String, true;
    StringEqualsIgnoreCase => String, false;
    StringNotEqualsIgnoreCase => String, true;
    StringLike => String, false;
    StringNotLike => String, true;
    NumericEquals => Numeric, false;
    NumericNotEquals => Numeric, true;
    NumericLessThan => Numeric, false;
    NumericLessThanEquals => Numeric, false;
    NumericGreaterThan => Numeric, false;
    NumericGreaterThanEquals => Numeric, false;
    DateEquals => Date, false;
    DateNotEquals => Date, true;
    DateLessThan => Date, false;
    DateLessThanEquals => Date, false;
    DateGreaterThan => Date, false;
    DateGreaterThanEquals => Date, false;
    Bool => Bool, false;
    BinaryEquals => Binary, false;
    IpAddress => Ip, false;
    NotIpAddress => Ip, true;
    ArnEquals => Arn, false;
    ArnLike => Arn, false;
    ArnNotEquals => Arn, true;
    ArnNotLike => Arn, true;
    Null => Null, false;
}

impl Operator {
    /// Parses `ForAnyValue:StringEqualsIfExists` and the like; `None` for unknown operators.
    #[must_use]
    pub fn parse(text: &str) -> Option<Operator> {
        let (set, rest) = if let Some(r) = text.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else if let Some(r) = text.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else {
            (None, text)
        };
        let (if_exists, base) = match rest.strip_suffix("IfExists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let base = OpBase::ALL.iter().copied().find(|o| o.name() == base)?;
        if if_exists && base == OpBase::Null {
            return None;
        }
        Some(Operator { base, set, if_exists })
    }

    /// The operator as written canonically.
    #[must_use]
    pub fn text(&self) -> String {
        let set = match self.set {
            Some(SetQualifier::ForAnyValue) => "ForAnyValue:",
            Some(SetQualifier::ForAllValues) => "ForAllValues:",
            None => "",
        };
        format!("{set}{}{}", self.base.name(), if self.if_exists { "IfExists" } else { "" })
    }
}

/// One condition: an operator applied to one context key with one or more values.
#[derive(Clone, Debug)]
pub struct Condition {
    /// The operator, or `None` when it is not a known operator (the condition never holds).
    pub op: Option<Operator>,
    /// The operator as written.
    pub op_text: Spanned<String>,
    /// The context key as written.
    pub key: Spanned<String>,
    /// The key, lowercased for lookup.
    pub key_lc: String,
    /// The values as text (numbers and booleans in their JSON spelling).
    pub values: Vec<Spanned<String>>,
    /// Span of the value element (string or array).
    pub values_span: Span,
}

impl Condition {
    /// `kms:EncryptionContext:AppName` → `Some("AppName")` (original case).
    #[must_use]
    pub fn encryption_context_key(&self) -> Option<&str> {
        strip_prefix_ci(&self.key.value, "kms:EncryptionContext:")
    }
}

/// Strips a prefix compared ASCII-case-insensitively.
#[must_use]
pub fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}
