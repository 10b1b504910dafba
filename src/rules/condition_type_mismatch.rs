use std::net::IpAddr;

use super::rule::{declare_rule, Rule, RuleContext};
use crate::catalog::{catalog, KeyType};
use crate::policy::model::{Condition, OpFamily};
use crate::report::finding::Finding;
use crate::source::Span;

declare_rule! {
    /// ## What it does
    /// Flags a condition whose operator does not fit the type of its context key (`StringEquals`
    /// on the boolean `kms:GrantIsForAWSResource`, `NumericLessThan` on a string key, an `Arn`
    /// operator on a key that holds no ARN), and a value the operator cannot read: a bad CIDR
    /// block for `IpAddress`, a bad date for `Date...`, something other than `true`/`false` for
    /// `Bool` and `Null`, a non-number for `Numeric...`. `Numeric` and `Date` operators are both
    /// accepted on `aws:EpochTime` and `kms:ValidTo`.
    ///
    /// ## Why is this bad?
    /// IAM compares with the operator's type. A value that cannot be read as that type never
    /// matches, so an `Allow` never applies and a negated `Deny` always does. The policy is
    /// accepted without a warning, and the mistake only shows as an unexplained access decision.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "AllowGrantsForAWSServices",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/app" },
    ///       "Action": "kms:CreateGrant",
    ///       "Resource": "*",
    ///       "Condition": { "StringEquals": { "kms:GrantIsForAWSResource": "true" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "AllowGrantsForAWSServices",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/app" },
    ///       "Action": "kms:CreateGrant",
    ///       "Resource": "*",
    ///       "Condition": { "Bool": { "kms:GrantIsForAWSResource": "true" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [IAM JSON policy elements: condition operators](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html)
    /// - [AWS KMS condition keys](https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html)
    /// - [AWS global condition context keys](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)
    pub ConditionTypeMismatch {
        id: "KP155",
        name: "condition-type-mismatch",
        category: Correctness,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for ConditionTypeMismatch {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (pid, entry, st) in cx.statements() {
            for c in &st.conditions {
                for (span, message) in problems(c, entry.policy.variables_enabled()) {
                    let pointer = cx.pointer_at(entry.policy.source, span).unwrap_or_else(|| st.pointer.clone());
                    out.push(cx.finding(self, pid, span, pointer, message));
                }
            }
        }
    }
}

/// The operator/key mismatch, or else every unreadable value.
fn problems(c: &Condition, variables: bool) -> Vec<(Span, String)> {
    let Some(op) = c.op else { return Vec::new() };
    let family = op.base.family();
    let key = c.key.value.as_str();
    let epoch = matches!(c.key_lc.as_str(), "aws:epochtime" | "kms:validto");
    if let Some(info) = catalog().condition_key(key) {
        let fits = match family {
            OpFamily::Null => true,
            OpFamily::String => matches!(info.ty, KeyType::String | KeyType::Arn),
            OpFamily::Arn => info.ty == KeyType::Arn || holds_arns(&c.key_lc),
            OpFamily::Numeric => info.ty == KeyType::Numeric || epoch,
            OpFamily::Date => info.ty == KeyType::Date,
            OpFamily::Bool => info.ty == KeyType::Bool,
            OpFamily::Ip => info.ty == KeyType::IpAddress,
            OpFamily::Binary => info.ty == KeyType::Binary,
        };
        if !fits {
            let message =
                format!("`{}` compares {} but `{key}` is {}", c.op_text.value, family_text(family), type_text(info.ty));
            return vec![(c.op_text.span, message)];
        }
    }
    let mut out = Vec::new();
    for v in &c.values {
        let text = v.value.as_str();
        if variables && text.contains("${") {
            continue;
        }
        let expected = match family {
            OpFamily::Numeric if text.trim().parse::<f64>().is_err() => Some("a number"),
            OpFamily::Date if !is_date(text) => Some("an ISO 8601 date or an epoch time in seconds"),
            OpFamily::Bool | OpFamily::Null
                if !(text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false")) =>
            {
                Some("`true` or `false`")
            }
            OpFamily::Ip if !is_ip_or_cidr(text) => Some("an IP address or CIDR block"),
            _ => None,
        };
        if let Some(expected) = expected {
            out.push((v.span, format!("`{}` value `{text}` is not {expected}", c.op_text.value)));
        }
    }
    out
}

/// String-typed keys whose values are principal ARNs.
fn holds_arns(key_lc: &str) -> bool {
    key_lc.ends_with("arn") || matches!(key_lc, "kms:granteeprincipal" | "kms:retiringprincipal")
}

fn family_text(f: OpFamily) -> &'static str {
    match f {
        OpFamily::String => "strings",
        OpFamily::Numeric => "numbers",
        OpFamily::Date => "dates",
        OpFamily::Bool => "booleans",
        OpFamily::Binary => "binary values",
        OpFamily::Ip => "IP addresses",
        OpFamily::Arn => "ARNs",
        OpFamily::Null => "presence",
    }
}

fn type_text(t: KeyType) -> &'static str {
    match t {
        KeyType::String => "a string key",
        KeyType::Arn => "an ARN key",
        KeyType::Bool => "a boolean key",
        KeyType::Numeric => "a numeric key",
        KeyType::Date => "a date key",
        KeyType::IpAddress => "an IP address key",
        KeyType::Binary => "a binary key",
    }
}

fn is_ip_or_cidr(v: &str) -> bool {
    let (addr, len) = match v.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (v, None),
    };
    match addr.parse::<IpAddr>() {
        Ok(ip) => {
            let max = if ip.is_ipv4() { 32 } else { 128 };
            len.is_none_or(|l| l.parse::<u8>().is_ok_and(|n| n <= max))
        }
        Err(_) => false,
    }
}

/// ISO 8601 (`2024-01-31`, `2024-01-31T12:00Z`, `2024-01-31T12:00:00.5+01:00`) or epoch seconds.
fn is_date(v: &str) -> bool {
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let num = |s: &str, lo: u32, hi: u32| {
        s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<u32>().is_ok_and(|n| (lo..=hi).contains(&n))
    };
    let (date, time) = match v.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (v, None),
    };
    let mut d = date.split('-');
    let ok_date = matches!(
        (d.next(), d.next(), d.next(), d.next()),
        (Some(y), Some(m), Some(day), None)
            if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()) && num(m, 1, 12) && num(day, 1, 31)
    );
    if !ok_date {
        return false;
    }
    let Some(time) = time else { return true };
    let (clock, zone) = match time.find(['Z', '+', '-']) {
        Some(i) => time.split_at(i),
        None => (time, ""),
    };
    let zone_ok = match zone {
        "" | "Z" => true,
        z => z.get(1..).is_some_and(|hm| {
            let mut p = hm.split(':');
            matches!((p.next(), p.next(), p.next()), (Some(h), Some(m), None) if num(h, 0, 23) && num(m, 0, 59))
        }),
    };
    let mut parts = clock.split(':');
    let clock_ok = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(m), None, None) => num(h, 0, 23) && num(m, 0, 59),
        (Some(h), Some(m), Some(s), None) => {
            let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
            num(h, 0, 23)
                && num(m, 0, 59)
                && num(whole, 0, 60)
                && !frac.is_empty()
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        _ => false,
    };
    zone_ok && clock_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        for ok in
            ["2024-01-31", "2024-01-31T12:00Z", "2024-01-31T12:00:00Z", "2024-01-31T12:00:00.123+01:00", "1700000000"]
        {
            assert!(is_date(ok), "{ok}");
        }
        for bad in ["2024-13-01", "31/01/2024", "2024-01-31T25:00Z", "yesterday", "", "2024-01-31T12:00:00.+01:00"] {
            assert!(!is_date(bad), "{bad}");
        }
    }

    #[test]
    fn cidrs() {
        for ok in ["10.0.0.0/8", "192.0.2.1", "2001:db8::/32"] {
            assert!(is_ip_or_cidr(ok), "{ok}");
        }
        for bad in ["10.0.0.0/33", "10.0.0/8", "example.com", "2001:db8::/129"] {
            assert!(!is_ip_or_cidr(bad), "{bad}");
        }
    }
}
