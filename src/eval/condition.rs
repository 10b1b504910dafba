//! Condition evaluation (semantics.md §3), policy variables (§3.6) and resource matching (§1.5).
//!
//! Every decision the spec marks [UNSURE] is taken in exactly one place below and commented with
//! the section or `U` row of semantics.md §12 it implements.
//!
//! Performance: on the common path (no `${` in a value, or variables disabled) no policy value
//! is copied; matching is plain equality, [`glob_match`] or the allocation-free numeric/date/IP
//! parsers. Only values that really contain a policy variable are substituted into [`Segment`]s.

use std::cmp::Ordering;
use std::net::IpAddr;

use super::context::{Context, CtxValue, EC_PREFIX};
use crate::policy::arn::Arn;
use crate::policy::model::{Condition, OpBase, OpFamily, SetQualifier};
use crate::policy::time::days_from_civil;
use crate::policy::wildcard::{glob_core, glob_match, Token};
use crate::source::Spanned;

/// A piece of a value after policy-variable substitution (§3.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Policy text: may contain `*` and `?` wildcards (for operators and elements that have them).
    Pattern(String),
    /// A substituted value, a default value, or `${*}`/`${?}`/`${$}`: matched literally.
    Literal(String),
}

impl Segment {
    fn text(&self) -> &str {
        match self {
            Segment::Pattern(s) | Segment::Literal(s) => s,
        }
    }
}

/// All conditions of a statement hold (§3.1: blocks, keys and operators are AND-ed).
#[must_use]
pub fn all_hold(conds: &[Condition], ctx: &Context, variables: bool) -> bool {
    conds.iter().all(|c| condition_holds(c, ctx, variables))
}

/// True when one condition entry holds for the request context. `variables` is true when the
/// policy has Version 2012-10-17 (policy variables substituted), else `${...}` is literal text.
#[must_use]
pub fn condition_holds(cond: &Condition, ctx: &Context, variables: bool) -> bool {
    // An unknown operator never holds (the statement is also marked broken by the parser).
    let Some(op) = cond.op else {
        return false;
    };
    // §3.3 `Null`: presence test only; under a set qualifier it is treated like plain `Null`.
    if op.base == OpBase::Null {
        return null_holds(cond, ctx);
    }
    let negated = op.base.negated();
    let value = ctx.get(&cond.key_lc);
    // §3.2: an empty multi-value list is treated like an absent key.
    let value = value.filter(|v| !matches!(v.as_ref(), CtxValue::Multi(m) if m.is_empty()));
    let Some(value) = value else {
        // §3.4 / U4: any IfExists (also inside a set operator) makes an absent key true.
        if op.if_exists {
            return true;
        }
        return match op.set {
            // §3.2: absent + positive → false, absent + negated → true.
            None => negated,
            // §3.5: ForAnyValue on an absent/empty key → false, ForAllValues → true.
            Some(SetQualifier::ForAnyValue) => false,
            Some(SetQualifier::ForAllValues) => true,
        };
    };
    let pv = PolicyValues::new(cond, ctx, variables);
    match op.set {
        None => match value.as_ref() {
            CtxValue::Single(s) => pv.holds_for(op.base, s),
            // U6 (§4.4): several EC keys folding to the same name: a positive operator holds if
            // any value satisfies it, a negated operator only if all do.
            CtxValue::Multi(vs) if cond.key_lc.starts_with(EC_PREFIX) => {
                if negated {
                    vs.iter().all(|v| pv.holds_for(op.base, v))
                } else {
                    vs.iter().any(|v| pv.holds_for(op.base, v))
                }
            }
            // §3.5 pitfall 6: a multi-valued key under a plain operator never matches when present.
            CtxValue::Multi(_) => false,
        },
        // §3.5: a single-valued key is a one-element set; Op(v, P) for a negated base operator
        // means "v matches none of P" (that is what `holds_for` computes).
        Some(SetQualifier::ForAnyValue) => value.values().iter().any(|v| pv.holds_for(op.base, v)),
        Some(SetQualifier::ForAllValues) => value.values().iter().all(|v| pv.holds_for(op.base, v)),
    }
}

/// §3.3 `Null`: `"true"` holds when the key is absent, `"false"` when present; several values are
/// OR-ed; values compare case-insensitively; other values never match. U14: an empty string (and
/// an empty list, §3.2) count as absent here.
fn null_holds(cond: &Condition, ctx: &Context) -> bool {
    let absent = match ctx.get(&cond.key_lc).as_deref() {
        None => true,
        Some(CtxValue::Single(s)) => s.is_empty(),
        Some(CtxValue::Multi(v)) => v.is_empty(),
    };
    cond.values.iter().any(|p| {
        if p.value.eq_ignore_ascii_case("true") {
            absent
        } else if p.value.eq_ignore_ascii_case("false") {
            !absent
        } else {
            false
        }
    })
}

/// The policy values of one condition, substituted once per evaluation when they contain
/// variables (§3.6: only String* and Arn* values; only with variables enabled).
enum PolicyValues<'c> {
    /// Values used as written (fast path, no allocation).
    Raw(&'c [Spanned<String>]),
    /// Substituted values; `None` = a variable without value and default ("null").
    Subst(Vec<Option<Vec<Segment>>>),
}

impl<'c> PolicyValues<'c> {
    fn new(cond: &'c Condition, ctx: &Context, variables: bool) -> Self {
        let substitutable = matches!(cond.op.map(|o| o.base.family()), Some(OpFamily::String | OpFamily::Arn));
        if variables && substitutable && cond.values.iter().any(|v| v.value.contains("${")) {
            PolicyValues::Subst(cond.values.iter().map(|v| substitute(&v.value, ctx)).collect())
        } else {
            PolicyValues::Raw(&cond.values)
        }
    }

    /// `Op(v, P)` for one request value: a positive operator holds when `v` matches any policy
    /// value (§3.1 OR); a negated operator when `v` matches none of them (§3.1 NOR).
    fn holds_for(&self, base: OpBase, v: &str) -> bool {
        match base.family() {
            OpFamily::String | OpFamily::Arn => {
                let any = match self {
                    PolicyValues::Raw(ps) => ps.iter().any(|p| string_match_raw(base, &p.value, v)),
                    // §3.6 / U5: an unresolvable variable is "null": it matches no request value,
                    // so positive operators fail on it and negated operators succeed.
                    PolicyValues::Subst(ps) => {
                        ps.iter().any(|p| p.as_deref().is_some_and(|segs| string_match_segs(base, segs, v)))
                    }
                };
                any != base.negated()
            }
            OpFamily::Numeric => {
                let Some(rv) = Dec::parse(v) else {
                    return false;
                };
                typed_holds(base, self.raw(), |p| Dec::parse(p).map(|pv| rv.cmp(&pv)))
            }
            OpFamily::Date => {
                let Some(rv) = parse_date(v) else {
                    return false;
                };
                typed_holds(base, self.raw(), |p| parse_date(p).map(|pv| rv.cmp(&pv)))
            }
            OpFamily::Ip => {
                // Unparsable request address → false for both IpAddress and NotIpAddress (same rule
                // as Numeric, see `typed_holds`); a malformed policy CIDR never matches.
                let Ok(addr) = v.parse::<IpAddr>() else {
                    return false;
                };
                let any = self.raw().iter().any(|p| cidr_contains(&p.value, addr));
                any != base.negated()
            }
            OpFamily::Bool => {
                // §3.3 Bool: `true`/`false` case-insensitive on both sides; others never match.
                let Some(rv) = parse_bool(v) else {
                    return false;
                };
                self.raw().iter().any(|p| parse_bool(&p.value) == Some(rv))
            }
            // §3.3 BinaryEquals: the request value is base64 too; compare the text byte-for-byte.
            OpFamily::Binary => self.raw().iter().any(|p| p.value == v),
            OpFamily::Null => false,
        }
    }

    /// The values as written (never substituted for non-string families).
    fn raw(&self) -> &[Spanned<String>] {
        match self {
            PolicyValues::Raw(ps) => ps,
            PolicyValues::Subst(_) => &[],
        }
    }
}

/// Numeric and Date operators (§3.3). Decision ([UNSURE] in §3.3): an unparsable **request**
/// value makes every operator false, negated ones included (`NumericNotEquals` with a request
/// value `"abc"` is false: "treat as no match"); an unparsable **policy** value never matches, so
/// for a negated operator it simply does not veto (NOR over the remaining values). The caller
/// returns false for an unparsable request value and passes `cmp(p)` = request value compared
/// with policy value `p` (`None` when `p` is unparsable).
fn typed_holds(base: OpBase, ps: &[Spanned<String>], cmp: impl Fn(&str) -> Option<Ordering>) -> bool {
    let want = |o: Ordering| match base {
        OpBase::NumericEquals | OpBase::NumericNotEquals | OpBase::DateEquals | OpBase::DateNotEquals => {
            o == Ordering::Equal
        }
        OpBase::NumericLessThan | OpBase::DateLessThan => o == Ordering::Less,
        OpBase::NumericLessThanEquals | OpBase::DateLessThanEquals => o != Ordering::Greater,
        OpBase::NumericGreaterThan | OpBase::DateGreaterThan => o == Ordering::Greater,
        OpBase::NumericGreaterThanEquals | OpBase::DateGreaterThanEquals => o != Ordering::Less,
        _ => false,
    };
    // The comparison reads "request value <op> policy value".
    let any = ps.iter().any(|p| cmp(&p.value).is_some_and(want));
    any != base.negated()
}

/// Positive match of one raw policy value (no substitution) for String*/Arn* operators.
fn string_match_raw(base: OpBase, p: &str, v: &str) -> bool {
    match base {
        // §3.3: exact bytes, `*` is literal.
        OpBase::StringEquals | OpBase::StringNotEquals => p == v,
        // §3.3 / U15: case folding.
        OpBase::StringEqualsIgnoreCase | OpBase::StringNotEqualsIgnoreCase => fold_eq(p, v),
        // §3.3: anchored glob, `*` crosses `/` and `:`.
        OpBase::StringLike | OpBase::StringNotLike => glob_match(p, v, false),
        // §3.3: ArnEquals ≡ ArnLike, ArnNotEquals ≡ ArnNotLike; per component.
        OpBase::ArnEquals | OpBase::ArnLike | OpBase::ArnNotEquals | OpBase::ArnNotLike => arn_like_str(p, v),
        _ => false,
    }
}

/// Positive match of one substituted policy value for String*/Arn* operators.
fn string_match_segs(base: OpBase, segs: &[Segment], v: &str) -> bool {
    match base {
        OpBase::StringEquals | OpBase::StringNotEquals => concat_eq(segs, v),
        OpBase::StringEqualsIgnoreCase | OpBase::StringNotEqualsIgnoreCase => {
            let whole: String = segs.iter().map(Segment::text).collect();
            fold_eq(&whole, v)
        }
        OpBase::StringLike | OpBase::StringNotLike => segments_match(segs, v, false),
        OpBase::ArnEquals | OpBase::ArnLike | OpBase::ArnNotEquals | OpBase::ArnNotLike => arn_like(segs, v),
        _ => false,
    }
}

/// True when the concatenated segment texts equal `v` (no allocation).
fn concat_eq(segs: &[Segment], v: &str) -> bool {
    let mut rest = v;
    for s in segs {
        match rest.strip_prefix(s.text()) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

/// U15: ASCII + Latin-1 simple case folding, done with `char::to_lowercase`.
fn fold_eq(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.chars().flat_map(char::to_lowercase).eq(b.chars().flat_map(char::to_lowercase))
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Policy variables (§3.6)
// ---------------------------------------------------------------------------------------------

/// Substitutes policy variables in a value: `${aws:username}`, `${aws:PrincipalTag/team}`,
/// default values `${key, 'default'}`, and the specials `${*}` `${?}` `${$}` (§3.6).
///
/// Returns `None` when a variable has no value and no default (the value is "null"). Variables
/// must be single-valued keys; a multi-valued key makes the value unresolvable (`None`).
/// Variable names are case-insensitive (the context lookup is). The result keeps policy text
/// (`Pattern`, may hold wildcards) apart from substituted text (`Literal`, §3.6: a `*` coming
/// from the request is not a wildcard). Decisions: a default value is a `Literal` as well; text
/// that is not a well-formed variable (`${` without `}`, a default not in single quotes, an empty
/// name) stays policy text.
#[must_use]
pub fn substitute(template: &str, ctx: &Context) -> Option<Vec<Segment>> {
    let mut out = Vec::new();
    let mut pending = String::new();
    let mut rest = template;
    while let Some((before, after)) = rest.split_once("${") {
        pending.push_str(before);
        match parse_variable(after) {
            Some((var, used)) => {
                let text = match var {
                    Var::Special(c) => c.to_string(),
                    Var::Key { name, default } => match ctx.get(name).as_deref() {
                        Some(CtxValue::Single(s)) => s.clone(),
                        // An empty list is an absent key (§3.2): the default applies.
                        Some(CtxValue::Multi(v)) if v.is_empty() => default?.to_string(),
                        // §3.6: multi-valued keys cannot be variables.
                        Some(CtxValue::Multi(_)) => return None,
                        None => default?.to_string(),
                    },
                };
                if !pending.is_empty() {
                    out.push(Segment::Pattern(std::mem::take(&mut pending)));
                }
                out.push(Segment::Literal(text));
                rest = after.get(used..).unwrap_or_default();
            }
            None => {
                pending.push_str("${");
                rest = after;
            }
        }
    }
    pending.push_str(rest);
    if !pending.is_empty() {
        out.push(Segment::Pattern(pending));
    }
    Some(out)
}

enum Var<'a> {
    Special(char),
    Key { name: &'a str, default: Option<&'a str> },
}

/// Parses the text after `${` up to and including the closing `}`; returns the variable and the
/// number of bytes used.
fn parse_variable(s: &str) -> Option<(Var<'_>, usize)> {
    for c in ['*', '?', '$'] {
        let mut buf = [0u8; 4];
        let special = c.encode_utf8(&mut buf);
        if s.strip_prefix(&*special).is_some_and(|r| r.starts_with('}')) {
            return Some((Var::Special(c), 2));
        }
    }
    let end = s.find(['}', ','])?;
    let name = s.get(..end)?.trim();
    if name.is_empty() || name.contains(['{', '$', '\'']) {
        return None;
    }
    if s.get(end..)?.starts_with('}') {
        return Some((Var::Key { name, default: None }, end + 1));
    }
    // `${key, 'default'}`: comma, optional spaces, a single-quoted literal, optional spaces, `}`.
    let after_comma = s.get(end + 1..)?;
    let quoted = after_comma.trim_start_matches(' ');
    let body = quoted.strip_prefix('\'')?;
    let close = body.find('\'')?;
    let default = body.get(..close)?;
    let tail = body.get(close + 1..)?;
    let tail_trimmed = tail.trim_start_matches(' ');
    if !tail_trimmed.starts_with('}') {
        return None;
    }
    let used = s.len() - tail_trimmed.len() + 1;
    Some((Var::Key { name, default: Some(default) }, used))
}

/// One glob token of a substituted pattern.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tok {
    Star,
    Any,
    Ch(char),
}

fn tokens(segs: &[Segment], ci: bool) -> Vec<Tok> {
    let mut out = Vec::new();
    for s in segs {
        match s {
            Segment::Pattern(p) => {
                for c in p.chars() {
                    match c {
                        '*' => out.push(Tok::Star),
                        '?' => out.push(Tok::Any),
                        c if ci => out.extend(c.to_lowercase().map(Tok::Ch)),
                        c => out.push(Tok::Ch(c)),
                    }
                }
            }
            Segment::Literal(l) if ci => out.extend(l.chars().flat_map(char::to_lowercase).map(Tok::Ch)),
            Segment::Literal(l) => out.extend(l.chars().map(Tok::Ch)),
        }
    }
    out
}

fn text_chars(v: &str, ci: bool) -> Vec<char> {
    if ci {
        v.chars().flat_map(char::to_lowercase).collect()
    } else {
        v.chars().collect()
    }
}

/// Glob over substituted tokens: the matcher of `policy::wildcard`.
fn glob_tokens(p: &[Tok], t: &[char]) -> bool {
    glob_core(
        p,
        t,
        |tok| match tok {
            Tok::Star => Token::Star,
            Tok::Any => Token::Any,
            Tok::Ch(_) => Token::Literal,
        },
        |tok, c| matches!(tok, Tok::Ch(x) if x == c),
    )
}

/// Glob match of a substituted template against a value (Pattern segments use * and ?, Literal
/// segments match exactly). Case-sensitive unless `ci`.
#[must_use]
pub fn segments_match(segs: &[Segment], value: &str, ci: bool) -> bool {
    if let [Segment::Pattern(p)] = segs {
        return glob_match(p, value, ci);
    }
    glob_tokens(&tokens(segs, ci), &text_chars(value, ci))
}

// ---------------------------------------------------------------------------------------------
// ARNs (§3.3 Arn*, §1.5 Resource)
// ---------------------------------------------------------------------------------------------

/// ARN matching per component (ArnLike semantics, §3.3): `*`/`?` within each of the first five
/// colon-delimited components, the 6th (resource) may contain colons; case-sensitive; a value
/// that is not a well-formed ARN → false. Decision: a pattern with fewer than six components
/// (also a bare `*`) matches nothing, as in IAMSIM. Colons from substituted values separate
/// components like written ones (`"${aws:PrincipalArn}"` as a whole value works).
#[must_use]
pub fn arn_like(pattern: &[Segment], value: &str) -> bool {
    if let [Segment::Pattern(p)] = pattern {
        return arn_like_str(p, value);
    }
    let Some(arn) = Arn::parse(value) else {
        return false;
    };
    let toks = tokens(pattern, false);
    let mut comps: [&[Tok]; 6] = [&[]; 6];
    let mut rest: &[Tok] = &toks;
    for slot in comps.iter_mut().take(5) {
        let Some(i) = rest.iter().position(|t| *t == Tok::Ch(':')) else {
            return false;
        };
        *slot = rest.get(..i).unwrap_or_default();
        rest = rest.get(i + 1..).unwrap_or_default();
    }
    comps[5] = rest;
    comps.iter().zip(arn.components()).all(|(p, v)| glob_tokens(p, &text_chars(v, false)))
}

/// [`arn_like`] for a pattern without substituted parts (no allocation).
fn arn_like_str(pattern: &str, value: &str) -> bool {
    let Some(arn) = Arn::parse(value) else {
        return false;
    };
    let mut it = pattern.splitn(6, ':');
    arn.components().iter().all(|v| it.next().is_some_and(|p| glob_match(p, v, false)))
}

/// Resource-element matching for IAM `Resource` entries (§1.5): partition/service/region/account
/// case-insensitive, resource part case-sensitive, `*` alone matches everything; non-ARN patterns
/// other than `*` match nothing, and so does any pattern for a value that is not an ARN.
/// Policy variables (when `variables`) are substituted in the resource part only (§1.5); a
/// variable in the first five components stays literal text. An unresolvable variable makes the
/// entry match nothing (§1.5, §3.6).
#[must_use]
pub fn resource_matches(pattern: &str, resource_arn: &str, ctx: &Context, variables: bool) -> bool {
    if pattern == "*" {
        return true;
    }
    let Some(arn) = Arn::parse(resource_arn) else {
        return false;
    };
    let mut it = pattern.splitn(6, ':');
    let [_, partition, service, region, account, resource] = arn.components();
    for v in ["arn", partition, service, region, account] {
        if !it.next().is_some_and(|p| glob_match(p, v, true)) {
            return false;
        }
    }
    let Some(p) = it.next() else {
        return false;
    };
    if variables && p.contains("${") {
        match substitute(p, ctx) {
            Some(segs) => segments_match(&segs, resource, false),
            None => false,
        }
    } else {
        glob_match(p, resource, false)
    }
}

// ---------------------------------------------------------------------------------------------
// Typed values: IP, numbers, dates (§3.3)
// ---------------------------------------------------------------------------------------------

/// §3.3 IpAddress: CIDR for IPv4 and IPv6; an address without prefix is /32 or /128 (IPv6 /128
/// is the [UNSURE] default of §3.3). A malformed policy value, or a family mismatch, never matches.
fn cidr_contains(cidr: &str, addr: IpAddr) -> bool {
    let (net, prefix) = match cidr.split_once('/') {
        Some((n, p)) => {
            if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            (n, p.parse::<u32>().ok())
        }
        None => (cidr, None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    match (net, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let bits = prefix.unwrap_or(32);
            if bits > 32 {
                return false;
            }
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            (u32::from(n) & mask) == (u32::from(a) & mask)
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let bits = prefix.unwrap_or(128);
            if bits > 128 {
                return false;
            }
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            (u128::from(n) & mask) == (u128::from(a) & mask)
        }
        _ => false,
    }
}

/// An exact decimal number (`-12`, `3.50`, `.5`, `+7`), compared without rounding. Exponents,
/// `inf`/`NaN` and white space are not numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Dec<'a> {
    neg: bool,
    /// Integer digits without leading zeros.
    int: &'a str,
    /// Fraction digits without trailing zeros.
    frac: &'a str,
}

impl<'a> Dec<'a> {
    fn parse(s: &'a str) -> Option<Dec<'a>> {
        let (neg, body) = match s.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        let zero = int.is_empty() && frac.is_empty();
        Some(Dec { neg: neg && !zero, int, frac })
    }

    fn magnitude_cmp(&self, o: &Self) -> Ordering {
        self.int.len().cmp(&o.int.len()).then_with(|| self.int.cmp(o.int)).then_with(|| self.frac.cmp(o.frac))
    }
}

impl Ord for Dec<'_> {
    fn cmp(&self, o: &Self) -> Ordering {
        match (self.neg, o.neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.magnitude_cmp(o),
            (true, true) => o.magnitude_cmp(self),
        }
    }
}

impl PartialOrd for Dec<'_> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Parses a date (ISO-8601/W3C: `2020-01-01`, `2020-01`, `2020-01-01T00:00:01Z`, fractional
/// seconds, `+02:00`/`+0200`/`+02` offsets) or epoch seconds (integer or decimal, optionally
/// negative) into epoch milliseconds (§3.3 Date). Decisions: a bare 4-digit number is epoch
/// seconds; a time without zone is UTC; fractions below a millisecond are truncated.
#[must_use]
pub fn parse_date(s: &str) -> Option<i64> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if !int.is_empty() && digits(int) && digits(frac) && (frac.is_empty() != body.contains('.')) {
        let secs: i64 = int.parse().ok()?;
        let ms = secs.checked_mul(1000)?.checked_add(frac_millis(frac))?;
        return Some(if body.len() == s.len() { ms } else { -ms });
    }
    parse_iso(s)
}

/// The first three fraction digits as milliseconds (`"5"` → 500).
fn frac_millis(frac: &str) -> i64 {
    let mut ms = 0i64;
    let mut bytes = frac.bytes();
    for _ in 0..3 {
        ms = ms * 10 + bytes.next().map_or(0, |b| i64::from(b.saturating_sub(b'0')));
    }
    ms
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn digits(&mut self, n: usize) -> Option<i64> {
        let mut v = 0i64;
        for _ in 0..n {
            let d = self.peek().filter(u8::is_ascii_digit)?;
            v = v * 10 + i64::from(d.saturating_sub(b'0'));
            self.i += 1;
        }
        Some(v)
    }
}

fn parse_iso(s: &str) -> Option<i64> {
    let mut c = Cursor { b: s.as_bytes(), i: 0 };
    let year = c.digits(4)?;
    if !c.eat(b'-') {
        return None;
    }
    let month = c.digits(2)?;
    let (day, has_day) = if c.eat(b'-') { (c.digits(2)?, true) } else { (1, false) };
    let (mut ms_of_day, mut offset_min) = (0i64, 0i64);
    if c.eat(b'T') || c.eat(b't') {
        if !has_day {
            return None; // a time needs a full date `YYYY-MM-DD`
        }
        let h = c.digits(2)?;
        if !c.eat(b':') {
            return None;
        }
        let m = c.digits(2)?;
        let sec = if c.eat(b':') { c.digits(2)? } else { 0 };
        let mut ms = 0;
        if c.eat(b'.') {
            let start = c.i;
            while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                c.i += 1;
            }
            let frac = s.get(start..c.i)?;
            if frac.is_empty() {
                return None;
            }
            ms = frac_millis(frac);
        }
        if h > 23 || m > 59 || sec > 60 {
            return None;
        }
        ms_of_day = ((h * 60 + m) * 60 + sec) * 1000 + ms;
        match c.peek() {
            Some(b'Z' | b'z') => c.i += 1,
            Some(sign @ (b'+' | b'-')) => {
                c.i += 1;
                let oh = c.digits(2)?;
                // `+hh:mm`, `+hhmm` or `+hh`.
                let om = if c.peek().is_some() {
                    c.eat(b':');
                    c.digits(2)?
                } else {
                    0
                };
                if oh > 23 || om > 59 {
                    return None;
                }
                offset_min = (oh * 60 + om) * if sign == b'-' { -1 } else { 1 };
            }
            _ => {}
        }
    }
    if c.i != s.len() || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400_000 + ms_of_day - offset_min * 60_000)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::parse::parse_policy_text;
    use crate::source::SourceMap;

    /// Parses `{"Condition": <cond>}` inside a one-statement policy; `versioned` adds
    /// `"Version": "2012-10-17"`. Returns the conditions and whether variables are enabled.
    fn conds(cond: &str, versioned: bool) -> (Vec<Condition>, bool) {
        let version = if versioned { r#""Version":"2012-10-17","# } else { "" };
        let text = format!(
            r#"{{{version}"Statement":[{{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{cond}}}]}}"#
        );
        let map = SourceMap::new();
        let id = map.add_file("t.json", text.as_str());
        let mut d = Vec::new();
        let p = parse_policy_text(id, &text, &mut d).unwrap();
        let vars = p.variables_enabled();
        (p.statements.into_iter().next().unwrap().conditions, vars)
    }

    /// Evaluates a condition block (versioned policy) against a context.
    fn holds(cond: &str, ctx: &Context) -> bool {
        let (c, vars) = conds(cond, true);
        assert!(!c.is_empty(), "no condition parsed from {cond}");
        all_hold(&c, ctx, vars)
    }

    fn ctx(pairs: &[(&str, &str)]) -> Context {
        let mut c = Context::new();
        for (k, v) in pairs {
            c.set_single(k, *v);
        }
        c
    }

    fn multi(key: &str, vals: &[&str]) -> Context {
        let mut c = Context::new();
        c.set(key, CtxValue::Multi(vals.iter().map(|s| s.to_string()).collect()));
        c
    }

    fn ec(pairs: &[(&str, &str)]) -> Context {
        let mut c = Context::new();
        c.set_encryption_context(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        c
    }

    // §3.3 String family.
    #[test]
    fn string_family_s3_3() {
        let c = ctx(&[("kms:ViaService", "s3.us-east-1.amazonaws.com")]);
        assert!(holds(r#"{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}"#, &c));
        assert!(!holds(r#"{"StringEquals":{"kms:ViaService":"S3.us-east-1.amazonaws.com"}}"#, &c));
        // `*` is literal for StringEquals.
        assert!(!holds(r#"{"StringEquals":{"kms:ViaService":"s3.*"}}"#, &c));
        assert!(holds(r#"{"StringEqualsIgnoreCase":{"kms:ViaService":"S3.US-EAST-1.amazonaws.com"}}"#, &c));
        assert!(!holds(r#"{"StringNotEqualsIgnoreCase":{"kms:ViaService":"S3.US-EAST-1.amazonaws.com"}}"#, &c));
        assert!(holds(r#"{"StringLike":{"kms:ViaService":"s3.*.amazonaws.com"}}"#, &c));
        assert!(holds(r#"{"StringLike":{"kms:ViaService":"s?.us-east-1.amazonaws.com"}}"#, &c));
        assert!(!holds(r#"{"StringLike":{"kms:ViaService":"s3.*.amazonaws"}}"#, &c));
        assert!(holds(r#"{"StringNotLike":{"kms:ViaService":"ec2.*"}}"#, &c));
        assert!(!holds(r#"{"StringNotLike":{"kms:ViaService":["ec2.*","s3.*"]}}"#, &c));
        // U15: Latin-1 folding.
        let c = ctx(&[("aws:PrincipalTag/name", "JOSÉ")]);
        assert!(holds(r#"{"StringEqualsIgnoreCase":{"aws:PrincipalTag/name":"josé"}}"#, &c));
        // Key names are case-insensitive (§1.6).
        assert!(holds(r#"{"StringEquals":{"AWS:principaltag/NAME":"JOSÉ"}}"#, &c));
    }

    // §3.2 missing keys, including negated IfExists; §11 item 27.
    #[test]
    fn missing_key_rules_s3_2() {
        let empty = Context::new();
        assert!(!holds(r#"{"StringEquals":{"kms:CallerAccount":"111122223333"}}"#, &empty));
        assert!(holds(r#"{"StringNotEquals":{"kms:CallerAccount":"111122223333"}}"#, &empty));
        assert!(holds(r#"{"StringEqualsIfExists":{"kms:CallerAccount":"111122223333"}}"#, &empty));
        assert!(holds(r#"{"StringNotEqualsIfExists":{"kms:CallerAccount":"111122223333"}}"#, &empty));
        assert!(!holds(r#"{"NumericLessThan":{"kms:X":"5"}}"#, &empty));
        assert!(holds(r#"{"NumericNotEquals":{"kms:X":"5"}}"#, &empty));
        assert!(holds(r#"{"DateLessThanIfExists":{"aws:CurrentTime":"2020-01-01"}}"#, &empty));
        assert!(!holds(r#"{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::*"}}"#, &empty));
        assert!(holds(r#"{"ArnNotLike":{"aws:SourceArn":"arn:aws:s3:::*"}}"#, &empty));
        // IfExists with the key present evaluates normally.
        let c = ctx(&[("kms:CallerAccount", "444455556666")]);
        assert!(!holds(r#"{"StringEqualsIfExists":{"kms:CallerAccount":"111122223333"}}"#, &c));
    }

    // §3.1 NOR of negated operators; §11 item 28.
    #[test]
    fn negated_ops_are_nor_s3_1() {
        let cond = r#"{"StringNotEquals":{"kms:CallerAccount":["111111111111","222222222222"]}}"#;
        assert!(!holds(cond, &ctx(&[("kms:CallerAccount", "111111111111")])));
        assert!(!holds(cond, &ctx(&[("kms:CallerAccount", "222222222222")])));
        assert!(holds(cond, &ctx(&[("kms:CallerAccount", "333333333333")])));
        // Positive operators OR the values.
        let cond = r#"{"StringEquals":{"kms:CallerAccount":["111111111111","222222222222"]}}"#;
        assert!(holds(cond, &ctx(&[("kms:CallerAccount", "222222222222")])));
        // Several keys / operators are AND-ed.
        let c = ctx(&[("kms:CallerAccount", "111111111111"), ("kms:ViaService", "s3.amazonaws.com")]);
        assert!(holds(
            r#"{"StringEquals":{"kms:CallerAccount":"111111111111","kms:ViaService":"s3.amazonaws.com"}}"#,
            &c
        ));
        assert!(!holds(
            r#"{"StringEquals":{"kms:CallerAccount":"111111111111"},"StringLike":{"kms:ViaService":"ec2.*"}}"#,
            &c
        ));
    }

    // §3.3 Null, U14.
    #[test]
    fn null_operator_s3_3_u14() {
        let empty = Context::new();
        assert!(holds(r#"{"Null":{"kms:BypassPolicyLockoutSafetyCheck":"true"}}"#, &empty));
        assert!(holds(r#"{"Null":{"kms:BypassPolicyLockoutSafetyCheck":"True"}}"#, &empty));
        assert!(!holds(r#"{"Null":{"kms:BypassPolicyLockoutSafetyCheck":"false"}}"#, &empty));
        let c = ctx(&[("kms:BypassPolicyLockoutSafetyCheck", "false")]);
        assert!(holds(r#"{"Null":{"kms:BypassPolicyLockoutSafetyCheck":false}}"#, &c));
        assert!(!holds(r#"{"Null":{"kms:BypassPolicyLockoutSafetyCheck":true}}"#, &c));
        // Several values OR-ed.
        assert!(holds(r#"{"Null":{"kms:BypassPolicyLockoutSafetyCheck":["true","false"]}}"#, &c));
        // U14: "" counts as absent for Null.
        let c = ctx(&[("aws:username", "")]);
        assert!(holds(r#"{"Null":{"aws:username":"true"}}"#, &c));
        // ... but is a present value for other operators.
        assert!(holds(r#"{"StringEquals":{"aws:username":""}}"#, &c));
        // Requiring some EC (§4.4).
        assert!(holds(r#"{"Null":{"kms:EncryptionContextKeys":"false"}}"#, &ec(&[("a", "b")])));
        assert!(!holds(r#"{"Null":{"kms:EncryptionContextKeys":"false"}}"#, &empty));
        assert!(holds(r#"{"Null":{"kms:EncryptionContextKeys":"true"}}"#, &multi("kms:EncryptionContextKeys", &[])));
        // Null under a set qualifier behaves like plain Null.
        assert!(holds(r#"{"ForAnyValue:Null":{"kms:EncryptionContextKeys":"true"}}"#, &empty));
    }

    // §3.5 set operators: absent, empty and populated keys; §11 items 23, 24.
    #[test]
    fn set_operators_s3_5() {
        let any = r#"{"ForAnyValue:StringEquals":{"kms:GrantOperations":["Decrypt","Encrypt"]}}"#;
        let all = r#"{"ForAllValues:StringEquals":{"kms:GrantOperations":["Decrypt","Encrypt"]}}"#;
        let absent = Context::new();
        let empty = multi("kms:GrantOperations", &[]);
        let subset = multi("kms:GrantOperations", &["Decrypt"]);
        let mixed = multi("kms:GrantOperations", &["Decrypt", "RetireGrant"]);
        let none = multi("kms:GrantOperations", &["RetireGrant"]);
        assert!(!holds(any, &absent));
        assert!(!holds(any, &empty));
        assert!(holds(any, &subset));
        assert!(holds(any, &mixed));
        assert!(!holds(any, &none));
        assert!(holds(all, &absent));
        assert!(holds(all, &empty));
        assert!(holds(all, &subset));
        assert!(!holds(all, &mixed));
        // A single-valued key is a one-element set.
        assert!(holds(r#"{"ForAnyValue:StringLike":{"kms:ViaService":"s3.*"}}"#, &ctx(&[("kms:ViaService", "s3.x")])));
        // Pitfall 3: negated base operators inside set operators.
        let all_not = r#"{"ForAllValues:StringNotEquals":{"kms:GrantOperations":["Decrypt","Encrypt"]}}"#;
        let any_not = r#"{"ForAnyValue:StringNotEquals":{"kms:GrantOperations":["Decrypt","Encrypt"]}}"#;
        assert!(holds(all_not, &none));
        assert!(!holds(all_not, &mixed));
        assert!(holds(all_not, &absent));
        assert!(holds(any_not, &mixed));
        assert!(!holds(any_not, &subset));
        // Item 23: ForAllValues on EC keys passes with no EC at all.
        let item23 = r#"{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["AppName"]}}"#;
        assert!(holds(item23, &Context::new()));
        assert!(holds(item23, &ec(&[("AppName", "x")])));
        assert!(!holds(item23, &ec(&[("AppName", "x"), ("Other", "y")])));
    }

    // U4: IfExists inside a set operator makes an absent key true.
    #[test]
    fn set_operator_with_if_exists_u4() {
        let c = Context::new();
        assert!(holds(r#"{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":"team"}}"#, &c));
        assert!(holds(r#"{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":"team"}}"#, &multi("aws:TagKeys", &[])));
        assert!(!holds(
            r#"{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":"team"}}"#,
            &multi("aws:TagKeys", &["x"])
        ));
    }

    // §3.5 pitfall 6, §11 item 26: multi-valued key under a plain operator.
    #[test]
    fn multi_valued_key_under_plain_operator_s3_5_pitfall6() {
        let c = multi("kms:GrantOperations", &["Decrypt"]);
        assert!(!holds(r#"{"StringEquals":{"kms:GrantOperations":"Decrypt"}}"#, &c));
        assert!(!holds(r#"{"StringNotEquals":{"kms:GrantOperations":"Encrypt"}}"#, &c));
        // Absent → usual §3.2 rules.
        assert!(holds(r#"{"StringNotEquals":{"kms:GrantOperations":"Encrypt"}}"#, &Context::new()));
    }

    // §4.4, §11 item 34 and U6: EC key lookup case-insensitive, value compare exact.
    #[test]
    fn encryption_context_case_rules_s4_4_u6() {
        let c = ec(&[("AppName", "Orders")]);
        assert!(holds(r#"{"StringEquals":{"kms:EncryptionContext:appname":"Orders"}}"#, &c));
        assert!(!holds(r#"{"StringEquals":{"kms:EncryptionContext:appname":"orders"}}"#, &c));
        // U6: `Stage` and `stage` both present.
        let c = ec(&[("Stage", "prod"), ("stage", "dev")]);
        assert!(holds(r#"{"StringEquals":{"kms:EncryptionContext:stage":"prod"}}"#, &c));
        assert!(holds(r#"{"StringEquals":{"kms:EncryptionContext:stage":"dev"}}"#, &c));
        assert!(!holds(r#"{"StringNotEquals":{"kms:EncryptionContext:stage":"prod"}}"#, &c));
        assert!(holds(r#"{"StringNotEquals":{"kms:EncryptionContext:stage":"test"}}"#, &c));
    }

    // §3.3 Bool, §11 item 29.
    #[test]
    fn bool_operator_s3_3_item29() {
        let absent = Context::new();
        assert!(holds(r#"{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}"#, &absent));
        assert!(!holds(r#"{"Bool":{"aws:MultiFactorAuthPresent":"false"}}"#, &absent));
        let c = ctx(&[("aws:MultiFactorAuthPresent", "true")]);
        assert!(holds(r#"{"Bool":{"aws:MultiFactorAuthPresent":true}}"#, &c));
        assert!(holds(r#"{"Bool":{"aws:MultiFactorAuthPresent":"TRUE"}}"#, &c));
        assert!(!holds(r#"{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}"#, &c));
        assert!(!holds(r#"{"Bool":{"aws:MultiFactorAuthPresent":"yes"}}"#, &c));
        assert!(!holds(
            r#"{"Bool":{"aws:MultiFactorAuthPresent":"true"}}"#,
            &ctx(&[("aws:MultiFactorAuthPresent", "1")])
        ));
    }

    // §3.3 Numeric.
    #[test]
    fn numeric_operators_s3_3() {
        let c = ctx(&[("kms:X", "10")]);
        assert!(holds(r#"{"NumericEquals":{"kms:X":10}}"#, &c));
        assert!(holds(r#"{"NumericEquals":{"kms:X":"10.000"}}"#, &c));
        assert!(holds(r#"{"NumericEquals":{"kms:X":"010"}}"#, &c));
        assert!(holds(r#"{"NumericLessThan":{"kms:X":"10.5"}}"#, &c));
        assert!(!holds(r#"{"NumericLessThan":{"kms:X":"10"}}"#, &c));
        assert!(holds(r#"{"NumericLessThanEquals":{"kms:X":"10"}}"#, &c));
        assert!(holds(r#"{"NumericGreaterThan":{"kms:X":"-3"}}"#, &c));
        assert!(holds(r#"{"NumericGreaterThanEquals":{"kms:X":"9.99"}}"#, &c));
        assert!(holds(r#"{"NumericNotEquals":{"kms:X":["1","2"]}}"#, &c));
        assert!(!holds(r#"{"NumericNotEquals":{"kms:X":["1","10"]}}"#, &c));
        // Exact comparison beyond f64 precision.
        let big = ctx(&[("kms:X", "9007199254740993")]);
        assert!(!holds(r#"{"NumericEquals":{"kms:X":"9007199254740992"}}"#, &big));
        assert!(holds(r#"{"NumericGreaterThan":{"kms:X":"9007199254740992"}}"#, &big));
        // Decimals and negatives.
        let d = ctx(&[("kms:X", "-0.25")]);
        assert!(holds(r#"{"NumericLessThan":{"kms:X":"-0.2"}}"#, &d));
        assert!(holds(r#"{"NumericGreaterThan":{"kms:X":"-1"}}"#, &d));
        assert!(holds(r#"{"NumericEquals":{"kms:X":"-.250"}}"#, &d));
        // Unparsable values: no match; NumericNotEquals with an unparsable request value is false.
        let bad = ctx(&[("kms:X", "ten")]);
        assert!(!holds(r#"{"NumericEquals":{"kms:X":"10"}}"#, &bad));
        assert!(!holds(r#"{"NumericNotEquals":{"kms:X":"10"}}"#, &bad));
        assert!(!holds(r#"{"NumericEquals":{"kms:X":"1e1"}}"#, &c));
        // An unparsable policy value does not veto a negated operator.
        assert!(holds(r#"{"NumericNotEquals":{"kms:X":["x","11"]}}"#, &c));
        assert_eq!(Dec::parse("-0"), Dec::parse("0.0"));
    }

    // §3.3 Date: both formats on both sides, offsets, fractions.
    #[test]
    fn date_operators_s3_3() {
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date("2020-01-01"), Some(1_577_836_800_000));
        assert_eq!(parse_date("2020-01-01T00:00:01Z"), Some(1_577_836_801_000));
        assert_eq!(parse_date("2020-01-01T02:00:01+02:00"), Some(1_577_836_801_000));
        assert_eq!(parse_date("2019-12-31T19:00:01-0500"), Some(1_577_836_801_000));
        assert_eq!(parse_date("2020-01-01T00:00:01.250Z"), Some(1_577_836_801_250));
        assert_eq!(parse_date("1577836801"), Some(1_577_836_801_000));
        assert_eq!(parse_date("1577836801.5"), Some(1_577_836_801_500));
        assert_eq!(parse_date("-1.5"), Some(-1500));
        assert_eq!(parse_date("2020-02-30"), None);
        assert_eq!(parse_date("2020-01-01T25:00:00Z"), None);
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date(""), None);
        assert_eq!(parse_date("2024-02-29T23:59:59Z"), Some(1_709_251_199_000));
        let c = ctx(&[("aws:CurrentTime", "2020-06-01T12:00:00Z")]);
        assert!(holds(r#"{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#, &c));
        assert!(holds(r#"{"DateLessThan":{"aws:CurrentTime":"1609459200"}}"#, &c));
        assert!(holds(r#"{"DateEquals":{"aws:CurrentTime":"2020-06-01T14:00:00+02:00"}}"#, &c));
        assert!(holds(r#"{"DateEquals":{"aws:CurrentTime":1591012800}}"#, &c));
        assert!(!holds(r#"{"DateNotEquals":{"aws:CurrentTime":"1591012800"}}"#, &c));
        assert!(holds(r#"{"DateLessThanEquals":{"aws:CurrentTime":"2020-06-01T12:00:00Z"}}"#, &c));
        assert!(holds(r#"{"DateGreaterThanEquals":{"aws:CurrentTime":"2020-06-01"}}"#, &c));
        let epoch = ctx(&[("aws:EpochTime", "1591012800")]);
        assert!(holds(r#"{"DateEquals":{"aws:EpochTime":"2020-06-01T12:00:00Z"}}"#, &epoch));
    }

    // §3.3 IpAddress / NotIpAddress, §11 item 33.
    #[test]
    fn ip_operators_s3_3_item33() {
        let absent = Context::new();
        assert!(!holds(r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#, &absent));
        assert!(holds(r#"{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#, &absent));
        let v4 = ctx(&[("aws:SourceIp", "203.0.113.7")]);
        assert!(holds(r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#, &v4));
        assert!(holds(r#"{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}"#, &v4));
        assert!(!holds(r#"{"IpAddress":{"aws:SourceIp":"203.0.113.8"}}"#, &v4));
        assert!(holds(r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#, &v4));
        assert!(!holds(r#"{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","203.0.113.0/24"]}}"#, &v4));
        assert!(holds(r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#, &v4));
        // Malformed CIDRs never match.
        assert!(!holds(r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/33"}}"#, &v4));
        assert!(!holds(r#"{"IpAddress":{"aws:SourceIp":"203.0.113.x/24"}}"#, &v4));
        // IPv6.
        let v6 = ctx(&[("aws:SourceIp", "2001:db8:85a3::8a2e:370:7334")]);
        assert!(holds(r#"{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}"#, &v6));
        assert!(!holds(r#"{"IpAddress":{"aws:SourceIp":"2001:db9::/32"}}"#, &v6));
        assert!(holds(r#"{"IpAddress":{"aws:SourceIp":"2001:DB8:85A3::8A2E:370:7334"}}"#, &v6));
        assert!(!holds(r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#, &v6));
        assert!(holds(r#"{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#, &v6));
    }

    // §3.3 BinaryEquals.
    #[test]
    fn binary_equals_s3_3() {
        let c = ctx(&[("kms:X", "QmluYXJ5VmFsdWU=")]);
        assert!(holds(r#"{"BinaryEquals":{"kms:X":"QmluYXJ5VmFsdWU="}}"#, &c));
        assert!(!holds(r#"{"BinaryEquals":{"kms:X":"qmluYXJ5VmFsdWU="}}"#, &c));
    }

    // §3.3 Arn*, §11 item 32 with the exact example of §3.3.
    #[test]
    fn arn_vs_string_like_s3_3_item32() {
        let pat = "arn:aws:someservice:*:111122223333:finance/*";
        let c = ctx(&[(
            "aws:SourceArn",
            "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt",
        )]);
        assert!(holds(&format!(r#"{{"StringLike":{{"aws:SourceArn":"{pat}"}}}}"#), &c));
        assert!(!holds(&format!(r#"{{"ArnLike":{{"aws:SourceArn":"{pat}"}}}}"#), &c));
        assert!(holds(&format!(r#"{{"ArnNotLike":{{"aws:SourceArn":"{pat}"}}}}"#), &c));
        let ok = ctx(&[("aws:SourceArn", "arn:aws:someservice:us-east-2:111122223333:finance/a:b")]);
        assert!(holds(&format!(r#"{{"ArnLike":{{"aws:SourceArn":"{pat}"}}}}"#), &ok));
        // ArnEquals ≡ ArnLike (wildcards allowed); ArnNotEquals ≡ ArnNotLike.
        assert!(holds(&format!(r#"{{"ArnEquals":{{"aws:SourceArn":"{pat}"}}}}"#), &ok));
        assert!(!holds(&format!(r#"{{"ArnNotEquals":{{"aws:SourceArn":"{pat}"}}}}"#), &ok));
        // Case-sensitive; non-ARN request value → positive false.
        assert!(!holds(r#"{"ArnLike":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:FINANCE/*"}}"#, &ok));
        assert!(!holds(r#"{"ArnLike":{"aws:SourceArn":"*"}}"#, &ctx(&[("aws:SourceArn", "not-an-arn")])));
        assert!(arn_like(&[Segment::Pattern("arn:aws:s3:::b/*".into())], "arn:aws:s3:::b/k:x"));
        assert!(!arn_like(&[Segment::Pattern("arn:aws:s3:::b/*".into())], "arn:aws:s3"));
    }

    // §3.6 policy variables, §11 item 30, U5.
    #[test]
    fn policy_variables_s3_6_item30_u5() {
        let c = ctx(&[("aws:username", "alice"), ("kms:EncryptionContext:user", "alice")]);
        assert!(holds(r#"{"StringEquals":{"kms:EncryptionContext:user":"${aws:username}"}}"#, &c));
        assert!(holds(r#"{"StringEquals":{"kms:EncryptionContext:user":"${AWS:UserName}"}}"#, &c));
        // Missing tag: positive false, negated true (U5).
        let team = ctx(&[("kms:EncryptionContext:team", "none")]);
        assert!(!holds(r#"{"StringEquals":{"kms:EncryptionContext:team":"${aws:PrincipalTag/team}"}}"#, &team));
        assert!(holds(r#"{"StringNotEquals":{"kms:EncryptionContext:team":"${aws:PrincipalTag/team}"}}"#, &team));
        assert!(holds(r#"{"StringEquals":{"kms:EncryptionContext:team":"${aws:PrincipalTag/team, 'none'}"}}"#, &team));
        // Substituted text is literal: a `*` from the request is not a wildcard.
        let star = ctx(&[("aws:username", "*"), ("kms:EncryptionContext:user", "bob")]);
        assert!(!holds(r#"{"StringLike":{"kms:EncryptionContext:user":"${aws:username}"}}"#, &star));
        // Multi-valued keys cannot be variables.
        let mut m = multi("aws:TagKeys", &["a"]);
        m.set_single("kms:EncryptionContext:user", "a");
        assert!(!holds(r#"{"StringEquals":{"kms:EncryptionContext:user":"${aws:TagKeys}"}}"#, &m));
        // Numeric values are never substituted.
        let n = ctx(&[("kms:X", "5"), ("kms:Y", "5")]);
        assert!(!holds(r#"{"NumericEquals":{"kms:X":"${kms:Y}"}}"#, &n));
    }

    // §3.6 specials, §11 item 31.
    #[test]
    fn special_variables_are_literal_s3_6_item31() {
        let c = ctx(&[("kms:EncryptionContext:k", "a*b")]);
        assert!(holds(r#"{"StringLike":{"kms:EncryptionContext:k":"a${*}b"}}"#, &c));
        assert!(!holds(
            r#"{"StringLike":{"kms:EncryptionContext:k":"a${*}b"}}"#,
            &ctx(&[("kms:EncryptionContext:k", "axb")])
        ));
        assert!(holds(
            r#"{"StringLike":{"kms:EncryptionContext:k":"a*"}}"#,
            &ctx(&[("kms:EncryptionContext:k", "axb")])
        ));
        let c = ctx(&[("kms:EncryptionContext:k", "$?x")]);
        assert!(holds(r#"{"StringEquals":{"kms:EncryptionContext:k":"${$}${?}x"}}"#, &c));
        assert_eq!(
            substitute("a${*}b*${x, 'd*'}", &Context::new()),
            Some(vec![
                Segment::Pattern("a".into()),
                Segment::Literal("*".into()),
                Segment::Pattern("b*".into()),
                Segment::Literal("d*".into()),
            ])
        );
        assert_eq!(substitute("${x}", &Context::new()), None);
        // Malformed variables stay policy text.
        assert_eq!(substitute("a${b", &Context::new()), Some(vec![Segment::Pattern("a${b".into())]));
        assert!(segments_match(&[Segment::Pattern("A*".into()), Segment::Literal("?".into())], "abc?", true));
        assert!(!segments_match(&[Segment::Pattern("A*".into()), Segment::Literal("?".into())], "abc?", false));
    }

    // §1.1, §3.6: without Version 2012-10-17, `${aws:username}` is literal text.
    #[test]
    fn variables_disabled_without_version_s3_6() {
        let (c, vars) = conds(r#"{"StringEquals":{"kms:EncryptionContext:user":"${aws:username}"}}"#, false);
        assert!(!vars);
        let alice = ctx(&[("aws:username", "alice"), ("kms:EncryptionContext:user", "alice")]);
        assert!(!all_hold(&c, &alice, vars));
        let literal = ctx(&[("aws:username", "alice"), ("kms:EncryptionContext:user", "${aws:username}")]);
        assert!(all_hold(&c, &literal, vars));
        assert!(all_hold(&c, &alice, true));
    }

    // §1.5 resource matching with variables.
    #[test]
    fn resource_matching_s1_5() {
        let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab";
        let c = Context::new();
        assert!(resource_matches("*", key, &c, true));
        assert!(resource_matches("*", "anything", &c, true));
        assert!(resource_matches(key, key, &c, true));
        assert!(resource_matches("ARN:AWS:KMS:US-EAST-1:111122223333:key/1234abcd-12ab", key, &c, true));
        assert!(!resource_matches("arn:aws:kms:us-east-1:111122223333:KEY/1234abcd-12ab", key, &c, true));
        assert!(resource_matches("arn:aws:kms:*:111122223333:key/*", key, &c, true));
        assert!(!resource_matches("arn:aws:kms:*:111122223333:alias/*", key, &c, true));
        assert!(!resource_matches("arn:aws:kms:*", key, &c, true));
        assert!(!resource_matches("1234abcd-12ab", key, &c, true));
        assert!(!resource_matches("arn:aws:kms:*:*:key/*", "1234abcd-12ab", &c, true));
        let team = ctx(&[("aws:PrincipalTag/team", "blue")]);
        let blue = "arn:aws:kms:us-east-1:111122223333:key/blue";
        assert!(resource_matches("arn:aws:kms:us-east-1:111122223333:key/${aws:PrincipalTag/team}", blue, &team, true));
        assert!(!resource_matches(
            "arn:aws:kms:us-east-1:111122223333:key/${aws:PrincipalTag/team}",
            blue,
            &team,
            false
        ));
        // Unresolvable variable → the entry matches nothing (§1.5, item 30).
        assert!(!resource_matches("arn:aws:kms:us-east-1:111122223333:key/${aws:PrincipalTag/team}", blue, &c, true));
        assert!(!resource_matches("arn:aws:kms:*:*:${aws:PrincipalTag/team}*", blue, &c, true));
    }

    // Unknown operators never hold; AND over an empty list is true.
    #[test]
    fn unknown_operator_and_empty_list() {
        let (c, vars) = conds(r#"{"StringEqualz":{"kms:X":"a"}}"#, true);
        assert!(!all_hold(&c, &ctx(&[("kms:X", "a")]), vars));
        assert!(all_hold(&[], &Context::new(), true));
    }
}
