//! IAM `*`/`?` glob matching, linear in practice and O(n·m) in the worst case.
//!
//! The matcher is the classic greedy two-pointer algorithm with a single
//! backtrack point: it never recurses, so pathological patterns such as
//! `*?*?*?*` stay polynomial.

/// Returns true when `text` matches `pattern`, where `*` matches any run of
/// characters (including none) and `?` matches exactly one character.
#[must_use]
pub fn glob_match(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    if pattern.is_ascii() && text.is_ascii() {
        if case_insensitive {
            glob_generic_by(pattern.as_bytes(), text.as_bytes(), b'*', b'?', |a, b| a.eq_ignore_ascii_case(&b))
        } else {
            glob_bytes(pattern.as_bytes(), text.as_bytes())
        }
    } else if case_insensitive {
        let p: Vec<char> = pattern.chars().flat_map(char::to_lowercase).collect();
        let t: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
        glob_chars(&p, &t)
    } else {
        let p: Vec<char> = pattern.chars().collect();
        let t: Vec<char> = text.chars().collect();
        glob_chars(&p, &t)
    }
}

/// True when the pattern contains a wildcard character.
#[must_use]
pub fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

fn glob_bytes(p: &[u8], t: &[u8]) -> bool {
    glob_generic_by(p, t, b'*', b'?', |a, b| a == b)
}

fn glob_chars(p: &[char], t: &[char]) -> bool {
    glob_generic_by(p, t, '*', '?', |a, b| a == b)
}

fn glob_generic_by<T: PartialEq + Copy>(p: &[T], t: &[T], star: T, any: T, eq: impl Fn(T, T) -> bool) -> bool {
    glob_core(
        p,
        t,
        |&c| {
            if c == star {
                Token::Star
            } else if c == any {
                Token::Any
            } else {
                Token::Literal
            }
        },
        |&c, &x| eq(c, x),
    )
}

/// What a pattern element is to the matcher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    /// `*`: any run of characters, including none.
    Star,
    /// `?`: exactly one character.
    Any,
    /// Itself (compared with the matcher's equality).
    Literal,
}

/// The matcher behind every glob in keyproof (action and resource patterns, `StringLike`,
/// `ArnLike` components): greedy with one backtrack point, O(n·m) in the worst case, no
/// recursion. `kind` classifies a pattern element; `eq` compares a literal with a text element.
pub fn glob_core<P, T>(p: &[P], t: &[T], kind: impl Fn(&P) -> Token, eq: impl Fn(&P, &T) -> bool) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        let step = p.get(pi).map(|c| (kind(c), c));
        match step {
            Some((Token::Star, _)) => {
                backtrack = Some((pi, ti));
                pi += 1;
            }
            Some((Token::Any, _)) => {
                pi += 1;
                ti += 1;
            }
            Some((Token::Literal, c)) if t.get(ti).is_some_and(|x| eq(c, x)) => {
                pi += 1;
                ti += 1;
            }
            _ => match backtrack {
                Some((bp, bt)) => {
                    pi = bp + 1;
                    ti = bt + 1;
                    backtrack = Some((bp, bt + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..).is_some_and(|rest| rest.iter().all(|c| kind(c) == Token::Star))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_and_question() {
        assert!(glob_match("kms:*", "kms:Decrypt", false));
        assert!(glob_match("kms:Re?ncrypt*", "kms:ReEncryptFrom", false));
        assert!(glob_match("*", "", false));
        assert!(!glob_match("?", "", false));
        assert!(glob_match("a*b*c", "axxbyyc", false));
        assert!(!glob_match("a*b*c", "axxbyy", false));
        assert!(glob_match("KMS:decrypt", "kms:Decrypt", true));
        assert!(!glob_match("KMS:decrypt", "kms:Decrypt", false));
    }

    #[test]
    fn pathological_pattern_is_fast() {
        let pattern = "*?".repeat(200) + "b";
        let text = "a".repeat(20_000);
        assert!(!glob_match(&pattern, &text, false));
    }

    #[test]
    fn unicode() {
        assert!(glob_match("é*", "éa", false));
        assert!(glob_match("?", "é", false));
    }
}
