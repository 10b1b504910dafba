//! Who is calling, and how a policy's principal entries match the caller (semantics.md §2.5).

use crate::policy::arn::{classify_aws_principal, Arn};
use crate::policy::model::{PrincipalRef, Principals};
use crate::world::World;

/// The principal that makes a request (semantics.md §2.1).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Caller {
    /// The account root user.
    Root {
        /// Account id.
        account: String,
    },
    /// An IAM user.
    User {
        /// Account id.
        account: String,
        /// Path.
        path: String,
        /// Name.
        name: String,
    },
    /// A session of an IAM role.
    AssumedRole {
        /// Account id.
        account: String,
        /// Role path (from the world when known, else `/`).
        path: String,
        /// Role name.
        role: String,
        /// Session name.
        session: String,
    },
    /// A GetFederationToken session.
    FederatedUser {
        /// Account id.
        account: String,
        /// Name.
        name: String,
    },
    /// An AWS service principal acting itself.
    Service(String),
}

/// Session name used when a role ARN is given as the caller.
pub const DEFAULT_SESSION: &str = "keyproof";

impl Caller {
    /// Parses a caller from an IAM/STS ARN or a service principal name. A role ARN stands for a
    /// session of that role named `keyproof`.
    ///
    /// # Errors
    /// A lowercase message when the text names no caller.
    pub fn parse(s: &str, world: &World) -> Result<Caller, String> {
        if !s.starts_with("arn:") {
            if s.contains('.') && !s.contains(['*', ' ', '/']) {
                return Ok(Caller::Service(s.to_string()));
            }
            return Err(format!("`{s}` is neither an IAM or STS ARN nor a service principal"));
        }
        let caller = match classify_aws_principal(s) {
            PrincipalRef::Account(account) => Caller::Root { account },
            PrincipalRef::User { account, path, name } => Caller::User { account, path, name },
            PrincipalRef::Role { account, path, name } => {
                Caller::AssumedRole { account, path, role: name, session: DEFAULT_SESSION.into() }
            }
            PrincipalRef::AssumedRole { account, role, session } => {
                let path = world.role(&account, &role).map_or_else(|| "/".to_string(), |r| r.path.clone());
                Caller::AssumedRole { account, path, role, session }
            }
            PrincipalRef::FederatedUser { account, name } => Caller::FederatedUser { account, name },
            PrincipalRef::Invalid(why) => return Err(why),
            _ => return Err(format!("`{s}` cannot make requests")),
        };
        Ok(caller)
    }

    /// The caller's account; `None` for service principals.
    #[must_use]
    pub fn account(&self) -> Option<&str> {
        match self {
            Caller::Root { account }
            | Caller::User { account, .. }
            | Caller::AssumedRole { account, .. }
            | Caller::FederatedUser { account, .. } => Some(account),
            Caller::Service(_) => None,
        }
    }

    /// The ARN a request is made as (the session ARN for roles).
    #[must_use]
    pub fn arn(&self) -> String {
        match self {
            Caller::Root { account } => format!("arn:aws:iam::{account}:root"),
            Caller::User { account, path, name } => format!("arn:aws:iam::{account}:user{path}{name}"),
            Caller::AssumedRole { account, role, session, .. } => {
                format!("arn:aws:sts::{account}:assumed-role/{role}/{session}")
            }
            Caller::FederatedUser { account, name } => format!("arn:aws:sts::{account}:federated-user/{name}"),
            Caller::Service(s) => s.clone(),
        }
    }

    /// `aws:PrincipalArn`: the role ARN (with path) for sessions.
    #[must_use]
    pub fn principal_arn(&self) -> String {
        match self {
            Caller::AssumedRole { account, path, role, .. } => format!("arn:aws:iam::{account}:role{path}{role}"),
            other => other.arn(),
        }
    }

    /// `aws:PrincipalType`.
    #[must_use]
    pub fn principal_type(&self) -> &'static str {
        match self {
            Caller::Root { .. } => "Account",
            Caller::User { .. } => "User",
            Caller::AssumedRole { .. } => "AssumedRole",
            Caller::FederatedUser { .. } => "FederatedUser",
            Caller::Service(_) => "Service",
        }
    }
}

/// How a statement's principal element matches a caller (semantics.md §2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrincipalMatch {
    /// No match.
    None,
    /// Only the caller's account is named: delegation to IAM (for Deny: the whole account).
    Account,
    /// The caller is named through its role ARN: still limited by boundary and session policy.
    DirectLimited,
    /// The caller is named itself (user, session, federated user, service, `*`).
    Direct,
}

/// True when a principal named in a policy no longer exists: its account's IAM listing is
/// complete and it is not in it (semantics.md §2.5.3).
fn deleted(world: &World, account: &str, exists: impl Fn(&World) -> bool) -> bool {
    world.accounts.get(account).is_some_and(|a| a.iam_complete) && !exists(world)
}

/// Matches one principal entry against the caller.
#[must_use]
pub fn match_entry(entry: &PrincipalRef, caller: &Caller, world: &World) -> PrincipalMatch {
    match (entry, caller) {
        (PrincipalRef::Anyone, _) => PrincipalMatch::Direct,
        (PrincipalRef::Account(a), c) if c.account() == Some(a.as_str()) => PrincipalMatch::Account,
        (PrincipalRef::User { account, path, name }, Caller::User { account: ca, path: cp, name: cn })
            if account == ca && name == cn && path == cp =>
        {
            if deleted(world, account, |w| w.user(account, name).is_some()) {
                PrincipalMatch::None
            } else {
                PrincipalMatch::Direct
            }
        }
        (PrincipalRef::Role { account, path, name }, Caller::AssumedRole { account: ca, path: cp, role, .. })
            if account == ca && name.eq_ignore_ascii_case(role) && path == cp =>
        {
            if deleted(world, account, |w| w.role(account, name).is_some()) {
                PrincipalMatch::None
            } else {
                PrincipalMatch::DirectLimited
            }
        }
        (
            PrincipalRef::AssumedRole { account, role, session },
            Caller::AssumedRole { account: ca, role: cr, session: cs, .. },
        ) if account == ca && role.eq_ignore_ascii_case(cr) && session == cs => PrincipalMatch::Direct,
        (PrincipalRef::FederatedUser { account, name }, Caller::FederatedUser { account: ca, name: cn })
            if account == ca && name == cn =>
        {
            PrincipalMatch::Direct
        }
        (PrincipalRef::Service(s), Caller::Service(cs)) if s == cs => PrincipalMatch::Direct,
        _ => PrincipalMatch::None,
    }
}

/// Matches a `Principal`/`NotPrincipal` element: the best grade over all entries. For
/// `NotPrincipal` (semantics.md §2.5.4, U12) the caller is exempt only when its account and
/// its own ARN (or, for a role session, its role ARN) are both listed; a non-exempt caller
/// matches as [`PrincipalMatch::Direct`].
#[must_use]
pub fn match_principals(p: &Principals, caller: &Caller, world: &World) -> PrincipalMatch {
    if p.negated {
        return if not_principal_exempts(p, caller, world) { PrincipalMatch::None } else { PrincipalMatch::Direct };
    }
    candidates(p, caller).map(|e| match_entry(&e.principal, caller, world)).max().unwrap_or(PrincipalMatch::None)
}

/// The entries of `p` that can match the caller (every entry that matches is among them).
fn candidates<'p>(p: &'p Principals, caller: &Caller) -> crate::policy::model::Candidates<'p> {
    let name = match caller {
        Caller::User { name, .. } | Caller::FederatedUser { name, .. } => Some(name.as_str()),
        Caller::AssumedRole { role, .. } => Some(role.as_str()),
        Caller::Root { .. } | Caller::Service(_) => None,
    };
    p.candidates(caller.account(), name)
}

fn not_principal_exempts(p: &Principals, caller: &Caller, world: &World) -> bool {
    let entries: Vec<_> = candidates(p, caller).collect();
    if entries.iter().any(|e| e.principal == PrincipalRef::Anyone) {
        return true;
    }
    let grades: Vec<PrincipalMatch> = entries.iter().map(|e| match_entry(&e.principal, caller, world)).collect();
    let account_listed = grades.contains(&PrincipalMatch::Account);
    let self_listed = grades.iter().any(|g| matches!(g, PrincipalMatch::Direct | PrincipalMatch::DirectLimited));
    match caller {
        Caller::Root { .. } => account_listed,
        Caller::Service(_) => self_listed,
        _ => account_listed && self_listed,
    }
}

/// Grant grantee matching (semantics.md §6.3): the grantee string is a principal ARN or a
/// service principal.
#[must_use]
pub fn match_grantee(grantee: &str, caller: &Caller, world: &World) -> PrincipalMatch {
    if is_service_grantee(grantee) {
        return match caller {
            Caller::Service(s) if s == grantee => PrincipalMatch::Direct,
            _ => PrincipalMatch::None,
        };
    }
    match world.grantee_ref(grantee) {
        Some(p) => match_entry(p, caller, world),
        None => match_entry(&classify_aws_principal(grantee), caller, world),
    }
}

/// A grantee that is neither an ARN nor an account id names a service principal.
fn is_service_grantee(grantee: &str) -> bool {
    Arn::parse(grantee).is_none() && !grantee.chars().all(|c| c.is_ascii_digit())
}

/// A grantee string classified once, so that [`match_entry`] gives what [`match_grantee`] gives.
#[must_use]
pub fn classify_grantee(grantee: &str, world: &World) -> PrincipalRef {
    if is_service_grantee(grantee) {
        return PrincipalRef::Service(grantee.to_string());
    }
    world.grantee_ref(grantee).cloned().unwrap_or_else(|| classify_aws_principal(grantee))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::parse::parse_policy_text;
    use crate::source::SourceMap;

    /// A long list is looked up through its index: the grades are those of a full scan.
    #[test]
    fn indexed_lookup_agrees_with_a_full_scan() {
        let mut aws: Vec<String> = (0..20).map(|i| format!("arn:aws:iam::111122223333:role/r{i}")).collect();
        aws.extend([
            "arn:aws:iam::111122223333:user/Alice".into(),
            "arn:aws:iam::444455556666:root".into(),
            "arn:aws:sts::111122223333:assumed-role/Admin/s1".into(),
            "arn:aws:iam::111122223333:role/svc/App".into(),
            "arn:aws:sts::111122223333:federated-user/fed".into(),
        ]);
        let text = serde_json::json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": aws, "Service": "s3.amazonaws.com"},
            "Action": "kms:*", "Resource": "*"}]})
        .to_string();
        let sources = SourceMap::new();
        let id = sources.add_file("p.json", text.clone());
        let policy = parse_policy_text(id, &text, &mut Vec::new()).unwrap();
        let mut p = policy.statements[0].principal.clone().unwrap();
        let world = World::default();
        let session = |account: &str, path: &str, role: &str, session: &str| Caller::AssumedRole {
            account: account.into(),
            path: path.into(),
            role: role.into(),
            session: session.into(),
        };
        let callers = [
            session("111122223333", "/", "r7", "x"),
            session("111122223333", "/", "R7", "x"),
            session("111122223333", "/", "admin", "s1"),
            session("111122223333", "/svc/", "app", "x"),
            session("111122223333", "/", "app", "x"),
            session("444455556666", "/", "r7", "x"),
            Caller::User { account: "111122223333".into(), path: "/".into(), name: "Alice".into() },
            Caller::User { account: "111122223333".into(), path: "/".into(), name: "alice".into() },
            Caller::Root { account: "444455556666".into() },
            Caller::Root { account: "111122223333".into() },
            Caller::FederatedUser { account: "111122223333".into(), name: "fed".into() },
            Caller::Service("s3.amazonaws.com".into()),
            Caller::Service("ec2.amazonaws.com".into()),
        ];
        for negated in [false, true] {
            p.negated = negated;
            for c in &callers {
                let full = if negated {
                    let grades: Vec<PrincipalMatch> =
                        p.entries.iter().map(|e| match_entry(&e.principal, c, &world)).collect();
                    let account = grades.contains(&PrincipalMatch::Account);
                    let own =
                        grades.iter().any(|g| matches!(g, PrincipalMatch::Direct | PrincipalMatch::DirectLimited));
                    let exempt = match c {
                        Caller::Root { .. } => account,
                        Caller::Service(_) => own,
                        _ => account && own,
                    };
                    if exempt {
                        PrincipalMatch::None
                    } else {
                        PrincipalMatch::Direct
                    }
                } else {
                    p.entries.iter().map(|e| match_entry(&e.principal, c, &world)).max().unwrap_or(PrincipalMatch::None)
                };
                assert_eq!(match_principals(&p, c, &world), full, "{c:?} negated={negated}");
            }
        }
        assert!(p.index.get().is_some(), "a list of {} entries is indexed", p.entries.len());
    }
}
