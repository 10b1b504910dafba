//! ARN parsing and principal classification (semantics.md §1.3, §1.5).

use super::model::PrincipalRef;

/// The six components of an ARN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, …
    pub partition: &'a str,
    /// `kms`, `iam`, …
    pub service: &'a str,
    /// Region (may be empty).
    pub region: &'a str,
    /// Account (may be empty).
    pub account: &'a str,
    /// Everything after the fifth colon.
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits an ARN; `None` when it does not have the `arn:` prefix and five colons.
    #[must_use]
    pub fn parse(s: &'a str) -> Option<Arn<'a>> {
        let mut it = s.splitn(6, ':');
        if it.next()? != "arn" {
            return None;
        }
        let partition = it.next()?;
        let service = it.next()?;
        let region = it.next()?;
        let account = it.next()?;
        let resource = it.next()?;
        if partition.is_empty() || service.is_empty() {
            return None;
        }
        Some(Arn { partition, service, region, account, resource })
    }

    /// The six components as an array (`arn` first).
    #[must_use]
    pub fn components(&self) -> [&'a str; 6] {
        ["arn", self.partition, self.service, self.region, self.account, self.resource]
    }
}

/// A KMS key ARN (`arn:PARTITION:kms:REGION:ACCOUNT:key/ID`).
#[must_use]
pub fn is_key_arn(s: &str) -> bool {
    Arn::parse(s).is_some_and(|a| a.service == "kms" && a.resource.starts_with("key/"))
}

/// True for a 12-digit account id.
#[must_use]
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// True for an IAM unique id of a user or role (`AIDA…`, `AROA…`) as it appears in a policy
/// after the principal was deleted.
#[must_use]
pub fn is_unique_id(s: &str) -> bool {
    (s.starts_with("AIDA") || s.starts_with("AROA"))
        && s.len() >= 16
        && s.len() <= 128
        && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Splits `path/more/Name` into (`/path/more/`, `Name`).
fn path_and_name(rest: &str) -> (String, String) {
    match rest.rfind('/') {
        Some(i) => (format!("/{}/", &rest[..i]), rest[i + 1..].to_string()),
        None => ("/".to_string(), rest.to_string()),
    }
}

/// Classifies an `AWS` principal value.
#[must_use]
pub fn classify_aws_principal(s: &str) -> PrincipalRef {
    if s == "*" {
        return PrincipalRef::Anyone;
    }
    if is_account_id(s) {
        return PrincipalRef::Account(s.to_string());
    }
    if is_unique_id(s) {
        return PrincipalRef::UniqueId(s.to_string());
    }
    if s.trim() != s || s.is_empty() {
        return PrincipalRef::Invalid(format!("`{s}` has leading or trailing white space"));
    }
    let Some(arn) = Arn::parse(s) else {
        return PrincipalRef::Invalid(format!("`{s}` is neither `*`, an account id, nor an IAM or STS ARN"));
    };
    if s.contains(['*', '?']) {
        return PrincipalRef::Invalid(format!("`{s}` uses a wildcard: principals allow `*` only as the whole value"));
    }
    if !is_account_id(arn.account) {
        return PrincipalRef::Invalid(format!("`{s}` does not name a 12-digit account"));
    }
    let account = arn.account.to_string();
    match (arn.service, arn.resource) {
        ("iam", "root") => PrincipalRef::Account(account),
        ("iam", r) if r.starts_with("user/") => {
            let (path, name) = path_and_name(&r[5..]);
            if name.is_empty() {
                return PrincipalRef::Invalid(format!("`{s}` has no user name"));
            }
            PrincipalRef::User { account, path, name }
        }
        ("iam", r) if r.starts_with("role/") => {
            let (path, name) = path_and_name(&r[5..]);
            if name.is_empty() {
                return PrincipalRef::Invalid(format!("`{s}` has no role name"));
            }
            PrincipalRef::Role { account, path, name }
        }
        ("iam", r) if r.starts_with("group/") => {
            PrincipalRef::Invalid(format!("`{s}` is a group: IAM groups cannot be principals"))
        }
        ("sts", r) if r.starts_with("assumed-role/") => {
            let mut parts = r[13..].splitn(2, '/');
            match (parts.next(), parts.next()) {
                (Some(role), Some(session)) if !role.is_empty() && !session.is_empty() => {
                    PrincipalRef::AssumedRole { account, role: role.to_string(), session: session.to_string() }
                }
                _ => PrincipalRef::Invalid(format!("`{s}` must name a role and a session")),
            }
        }
        ("sts", r) if r.starts_with("federated-user/") => {
            PrincipalRef::FederatedUser { account, name: r[15..].to_string() }
        }
        _ => PrincipalRef::Invalid(format!("`{s}` is not a user, role, session or account principal")),
    }
}

/// Classifies a `Service` principal value.
#[must_use]
pub fn classify_service_principal(s: &str) -> PrincipalRef {
    if s == "*" || s.contains(['*', '?', ' ']) || s.is_empty() {
        PrincipalRef::Invalid(format!("`{s}` is not a service principal name"))
    } else {
        PrincipalRef::Service(s.to_string())
    }
}

/// An account id as a number, for comparisons that touch no string: equal keys mean equal
/// ids. `0` when the id is not a string of 1 to 16 ASCII digits (such ids are compared as
/// strings).
#[must_use]
pub fn account_key(account: &str) -> u64 {
    if account.is_empty() || account.len() > 16 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    let value = account.bytes().fold(0u64, |v, b| v * 10 + u64::from(b - b'0'));
    // The length tells `0123` from `123`.
    value * 32 + account.len() as u64
}

impl PrincipalRef {
    /// [`account_key`] of the principal's account; `0` when it has none.
    #[must_use]
    pub fn account_key(&self) -> u64 {
        self.account().map_or(0, account_key)
    }

    /// The account the principal belongs to, if any.
    #[must_use]
    pub fn account(&self) -> Option<&str> {
        match self {
            PrincipalRef::Account(a)
            | PrincipalRef::User { account: a, .. }
            | PrincipalRef::Role { account: a, .. }
            | PrincipalRef::AssumedRole { account: a, .. }
            | PrincipalRef::FederatedUser { account: a, .. } => Some(a),
            _ => None,
        }
    }

    /// A canonical ARN (or name) for output.
    #[must_use]
    pub fn display(&self) -> String {
        match self {
            PrincipalRef::Anyone => "*".into(),
            PrincipalRef::Account(a) => format!("arn:aws:iam::{a}:root"),
            PrincipalRef::User { account, path, name } => format!("arn:aws:iam::{account}:user{path}{name}"),
            PrincipalRef::Role { account, path, name } => format!("arn:aws:iam::{account}:role{path}{name}"),
            PrincipalRef::AssumedRole { account, role, session } => {
                format!("arn:aws:sts::{account}:assumed-role/{role}/{session}")
            }
            PrincipalRef::FederatedUser { account, name } => format!("arn:aws:sts::{account}:federated-user/{name}"),
            PrincipalRef::Service(s) | PrincipalRef::Federated(s) | PrincipalRef::CanonicalUser(s) => s.clone(),
            PrincipalRef::UniqueId(s) | PrincipalRef::Invalid(s) => s.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_forms() {
        assert_eq!(classify_aws_principal("111122223333"), PrincipalRef::Account("111122223333".into()));
        assert_eq!(
            classify_aws_principal("arn:aws:iam::111122223333:root"),
            PrincipalRef::Account("111122223333".into())
        );
        assert_eq!(
            classify_aws_principal("arn:aws:iam::111122223333:role/team/App"),
            PrincipalRef::Role { account: "111122223333".into(), path: "/team/".into(), name: "App".into() }
        );
        assert_eq!(
            classify_aws_principal("arn:aws:sts::111122223333:assumed-role/App/s1"),
            PrincipalRef::AssumedRole { account: "111122223333".into(), role: "App".into(), session: "s1".into() }
        );
        assert!(matches!(classify_aws_principal("arn:aws:iam::111122223333:role/*"), PrincipalRef::Invalid(_)));
        assert!(matches!(classify_aws_principal("arn:aws:iam::111122223333:group/G"), PrincipalRef::Invalid(_)));
        assert!(matches!(classify_aws_principal("AROAEXAMPLEID1234567"), PrincipalRef::UniqueId(_)));
        assert!(matches!(classify_aws_principal("bob"), PrincipalRef::Invalid(_)));
    }

    #[test]
    fn arn_split() {
        let a = Arn::parse("arn:aws:kms:us-east-1:111122223333:key/abc").unwrap();
        assert_eq!(a.resource, "key/abc");
        assert_eq!(Arn::parse("arn:aws:s3:::b/k:x").unwrap().resource, "b/k:x");
        assert!(Arn::parse("nope").is_none());
    }
}
