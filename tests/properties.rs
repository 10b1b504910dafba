//! Property tests over the random world generator of tests/common (semantics.md §1.1 rule 5,
//! §1.3, §2.2, §2.4): decisions do not depend on statement order, on how an `Action` list is
//! split into statements, or on Sids; adding an Allow never takes access away and adding a Deny
//! never grants it. Also: the policy readers never panic, whatever the input.
//!
//! Case counts are bounded so that the file runs in a few seconds.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod random_worlds;
use random_worlds as common;

use common::{build_world, decide, gen_request, gen_world, identity_statement, key_statement, ReqSpec, Rng, WorldSpec};
use keyproof::eval::authorize::Decision;
use keyproof::policy::json;
use keyproof::policy::model::DocKind;
use keyproof::policy::parse::{parse_policy_text, validate};
use keyproof::source::SourceId;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{json, Value};

const REQUESTS: usize = 16;

/// `cases` random cases; failing inputs are saved in `tests/properties.proptest-regressions`
/// and replayed first on later runs.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    }
}

/// A world and requests drawn from one seed.
fn scenario(seed: u64) -> (WorldSpec, Vec<ReqSpec>, Rng) {
    let mut rng = Rng::new(seed);
    let spec = gen_world(&mut rng);
    let reqs = (0..REQUESTS).map(|_| gen_request(&mut rng)).collect();
    (spec, reqs, rng)
}

fn decisions(spec: &WorldSpec, reqs: &[ReqSpec]) -> Vec<Decision> {
    let world = build_world(spec);
    reqs.iter().map(|r| decide(&world, r).decision).collect()
}

/// Applies `f` to every policy document of the world.
fn each_policy(spec: &mut WorldSpec, f: &mut dyn FnMut(&mut Value)) {
    f(&mut spec.key_policy);
    for p in spec.identity.iter_mut().flatten() {
        f(p);
    }
    for p in spec.boundary.iter_mut().flatten() {
        f(p);
    }
    if let Some(s) = &mut spec.scp {
        for p in s.root.iter_mut().chain(s.ou.iter_mut()).chain(s.account.values_mut().flatten()) {
            f(p);
        }
    }
}

fn statements(policy: &mut Value) -> &mut Vec<Value> {
    policy["Statement"].as_array_mut().expect("generated policies have a Statement list")
}

fn describe(spec: &WorldSpec, reqs: &[ReqSpec], i: usize) -> String {
    format!("request {:?}\nworld {}", reqs[i], serde_json::to_string_pretty(&spec.key_policy).unwrap())
}

fn assert_same(before: &[Decision], after: &[Decision], spec: &WorldSpec, reqs: &[ReqSpec], what: &str) {
    for i in 0..before.len() {
        assert_eq!(before[i], after[i], "{what} changed the decision of {}", describe(spec, reqs, i));
    }
}

proptest! {
    #![proptest_config(config(250))]

    /// (a) Statement order does not matter (§1.1 rule 5, §2.2).
    #[test]
    fn statement_order_is_irrelevant(seed in any::<u64>()) {
        let (spec, reqs, mut rng) = scenario(seed);
        let before = decisions(&spec, &reqs);
        let mut shuffled = spec.clone();
        each_policy(&mut shuffled, &mut |p| rng.shuffle(statements(p)));
        assert_same(&before, &decisions(&shuffled, &reqs), &shuffled, &reqs, "shuffling statements");
    }

    /// (b) `"Action": [a, b]` is the same as one statement per action (§1.4, §2.2).
    #[test]
    fn splitting_action_lists_is_irrelevant(seed in any::<u64>()) {
        let (spec, reqs, _) = scenario(seed);
        let before = decisions(&spec, &reqs);
        let mut split = spec.clone();
        each_policy(&mut split, &mut |p| {
            let mut out = Vec::new();
            for st in statements(p).drain(..) {
                match st.get("Action").and_then(Value::as_array) {
                    Some(actions) if actions.len() > 1 => {
                        for (k, a) in actions.iter().enumerate() {
                            let mut one = st.clone();
                            one["Action"] = a.clone();
                            if let Some(sid) = st.get("Sid").and_then(Value::as_str) {
                                one["Sid"] = json!(format!("{sid}x{k}"));
                            }
                            out.push(one);
                        }
                    }
                    _ => out.push(st),
                }
            }
            *statements(p) = out;
        });
        assert_same(&before, &decisions(&split, &reqs), &split, &reqs, "splitting Action lists");
    }

    /// (c) Sids are labels only (§1.1 rule 7).
    #[test]
    fn sids_are_irrelevant(seed in any::<u64>()) {
        let (spec, reqs, mut rng) = scenario(seed);
        let before = decisions(&spec, &reqs);
        let mut renamed = spec.clone();
        let mut n = 0;
        each_policy(&mut renamed, &mut |p| {
            for st in statements(p).iter_mut() {
                let obj = st.as_object_mut().unwrap();
                match rng.below(3) {
                    0 => {
                        obj.remove("Sid");
                    }
                    1 => {
                        n += 1;
                        obj.insert("Sid".into(), json!(format!("Renamed{n}")));
                    }
                    _ => {}
                }
            }
        });
        assert_same(&before, &decisions(&renamed, &reqs), &renamed, &reqs, "renaming or removing Sids");
    }

    /// (d) Adding an Allow statement never turns an Allow into a deny (§2.4: allows only widen).
    #[test]
    fn adding_an_allow_keeps_allows(seed in any::<u64>()) {
        let (spec, reqs, mut rng) = scenario(seed);
        let before = decisions(&spec, &reqs);
        let mut more = spec.clone();
        let st = loop {
            let st = if rng.chance(50) { key_statement(&mut rng) } else { identity_statement(&mut rng) };
            if st["Effect"] == "Allow" {
                break st;
            }
        };
        if st.get("Principal").is_some() {
            statements(&mut more.key_policy).push(st);
        } else {
            let who = rng.below(common::IAM_PRINCIPALS);
            match more.identity[who].first_mut() {
                Some(p) => statements(p).push(st),
                None => more.identity[who].push(json!({"Version": "2012-10-17", "Statement": [st]})),
            }
        }
        let after = decisions(&more, &reqs);
        for i in 0..reqs.len() {
            if before[i] == Decision::Allow {
                assert_eq!(after[i], Decision::Allow, "adding an Allow denied {}", describe(&more, &reqs, i));
            }
        }
    }

    /// (e) Adding a Deny statement never turns a deny into an Allow (§2.3 step 2, §2.9).
    #[test]
    fn adding_a_deny_keeps_denies(seed in any::<u64>()) {
        let (spec, reqs, mut rng) = scenario(seed);
        let before = decisions(&spec, &reqs);
        let mut more = spec.clone();
        let mut st = if rng.chance(50) { key_statement(&mut rng) } else { identity_statement(&mut rng) };
        st["Effect"] = json!("Deny");
        if st.get("Principal").is_some() {
            statements(&mut more.key_policy).push(st);
        } else {
            let who = rng.below(common::IAM_PRINCIPALS);
            let target = if rng.chance(20) { more.boundary[who].as_mut() } else { None };
            match target {
                Some(b) => statements(b).push(st),
                None => match more.identity[who].first_mut() {
                    Some(p) => statements(p).push(st),
                    None => more.identity[who].push(json!({"Version": "2012-10-17", "Statement": [st]})),
                },
            }
        }
        let after = decisions(&more, &reqs);
        for i in 0..reqs.len() {
            if before[i] != Decision::Allow {
                assert_ne!(after[i], Decision::Allow, "adding a Deny allowed {}", describe(&more, &reqs, i));
            }
        }
    }
}

const KINDS: &[DocKind] =
    &[DocKind::KeyPolicy, DocKind::Identity, DocKind::Boundary, DocKind::Trust, DocKind::Scp, DocKind::Rcp];

/// Runs every reader over a text; they must not panic.
fn read_everything(text: &str) {
    let _ = json::parse(text);
    let mut diags = Vec::new();
    if let Some(p) = parse_policy_text(SourceId(0), text, &mut diags) {
        for kind in KINDS {
            let mut p = p.clone();
            validate(&mut p, *kind, Some("name"), &mut diags);
        }
    }
}

/// A generated policy as text, compact or pretty.
fn policy_text(seed: u64) -> String {
    let (spec, _, mut rng) = scenario(seed);
    let mut docs = vec![spec.key_policy.clone()];
    docs.extend(spec.identity.iter().flatten().cloned());
    let doc = &docs[rng.below(docs.len())];
    if rng.chance(50) {
        serde_json::to_string_pretty(doc).unwrap()
    } else {
        doc.to_string()
    }
}

/// Applies byte-level edits (insert, delete, replace, duplicate a run, cut) and decodes the
/// result lossily.
fn mutate(text: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut b = text.as_bytes().to_vec();
    const JSONISH: &[u8] = b"{}[]:,\"\\ 0-.eE*?$ntfu\n\xc3\xa9";
    for &(pos, op, byte) in edits {
        let at = if b.is_empty() { 0 } else { pos % (b.len() + 1) };
        let c = if byte % 2 == 0 { JSONISH[byte as usize % JSONISH.len()] } else { byte };
        match op % 5 {
            0 => b.insert(at, c),
            1 => {
                if at < b.len() {
                    b.remove(at);
                }
            }
            2 => {
                if at < b.len() {
                    b[at] = c;
                }
            }
            3 => {
                let end = (at + 1 + byte as usize % 16).min(b.len());
                let run: Vec<u8> = b[at.min(end)..end].to_vec();
                b.splice(at..at, run);
            }
            _ => b.truncate(at),
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

proptest! {
    #![proptest_config(config(1500))]

    /// The JSON reader and the policy reader never panic on arbitrary bytes.
    #[test]
    fn readers_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        read_everything(&String::from_utf8_lossy(&bytes));
    }

    /// Nor on JSON-like text.
    #[test]
    fn readers_never_panic_on_jsonish_text(text in "[\\[\\]{}:,\" \\\\a-zA-Z0-9*?$./\\-]{0,300}") {
        read_everything(&text);
    }

    /// Nor on mutated valid policies (which exercise the deeper paths of the policy reader).
    #[test]
    fn readers_never_panic_on_mutated_policies(
        seed in any::<u64>(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8),
    ) {
        read_everything(&mutate(&policy_text(seed), &edits));
    }
}

/// Deep nesting everywhere a policy element may hold a value: within the limit the readers
/// recurse without overflowing the stack, beyond it they report an error.
#[test]
fn readers_survive_deep_nesting() {
    for depth in [json::MAX_DEPTH - 8, json::MAX_DEPTH + 1, 5000] {
        let nest = |inner: &str| "[".repeat(depth) + inner + &"]".repeat(depth);
        let objs = "{\"a\":".repeat(depth) + "1" + &"}".repeat(depth);
        for elem in [
            format!(r#"{{"Statement":[{{"Effect":"Allow","Action":{},"Resource":"*"}}]}}"#, nest("\"kms:Decrypt\"")),
            format!(r#"{{"Statement":[{{"Effect":"Allow","Principal":{},"Action":"kms:*","Resource":"*"}}]}}"#, objs),
            format!(
                r#"{{"Statement":[{{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{{"StringEquals":{{"k":{}}}}}}}]}}"#,
                nest("\"v\"")
            ),
            nest("{}"),
        ] {
            read_everything(&elem);
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// The evaluator's per-statement bit set over the catalogue's actions says exactly what the
    /// pattern matcher says for every catalogue action, in any case, for `Action` and
    /// `NotAction` (docs/performance.md: the bit set is a cache, not a second definition).
    #[test]
    fn action_bit_sets_agree_with_pattern_matching(
        patterns in prop::collection::vec("(\\*|(kms|KMS|iam|sts|s3|km\\*|\\*):[A-Za-z*?]{0,12}|[a-z*? ]{0,6})", 1..4),
        negated in any::<bool>(),
    ) {
        use keyproof::eval::authorize::{action_applies, action_matches};
        let key = if negated { "NotAction" } else { "Action" };
        let text = json!({"Statement": [{"Effect": "Allow", key: patterns, "Resource": "*"}]}).to_string();
        let Some(policy) = parse_policy_text(SourceId(0), &text, &mut Vec::new()) else { return Ok(()) };
        let Some(st) = policy.statements.first() else { return Ok(()) };
        for a in keyproof::catalog::catalog().actions() {
            for name in [a.name.clone(), a.name.to_ascii_uppercase()] {
                let by_patterns = st.action.items.iter().any(|p| action_matches(&p.value, &name)) != st.action.negated;
                prop_assert_eq!(action_applies(st, &name), by_patterns, "{} against {:?}", name, patterns);
            }
        }
    }
}

/// Account keys are equal exactly when the account ids are (leading zeros count), and `0`
/// stands for ids that are compared as strings.
#[test]
fn account_keys_tell_accounts_apart() {
    use keyproof::policy::arn::account_key;
    let ids = ["111122223333", "011122223333", "11122223333", "0", "00", "9999999999999999", "1"];
    for a in ids {
        for b in ids {
            assert_eq!(account_key(a) == account_key(b), a == b, "{a} vs {b}");
        }
        assert_ne!(account_key(a), 0);
    }
    for odd in ["", "12345678901234567", "1111-2222-3333", "acct", "１２３"] {
        assert_eq!(account_key(odd), 0, "{odd}");
    }
}

/// The same for literal patterns (looked up by name rather than matched): every catalogue
/// action in three spellings, with and without `NotAction`, and literals that name nothing.
#[test]
fn action_bit_sets_agree_for_literal_patterns() {
    use keyproof::eval::authorize::{action_applies, action_matches};
    let cat = keyproof::catalog::catalog();
    let mut literals: Vec<String> = Vec::new();
    for a in cat.actions() {
        literals.extend([a.name.clone(), a.name.to_ascii_uppercase(), a.name.to_ascii_lowercase()]);
    }
    literals.extend(
        ["kms:Nothing", "kms", "kms:Decrypt:x", "s3:GetObject", "kms: Decrypt", "sts:assumerole"].map(String::from),
    );
    for chunk in literals.chunks(7) {
        for negated in [false, true] {
            let key = if negated { "NotAction" } else { "Action" };
            let text = json!({"Statement": [{"Effect": "Allow", key: chunk, "Resource": "*"}]}).to_string();
            let policy = parse_policy_text(SourceId(0), &text, &mut Vec::new()).unwrap();
            let st = &policy.statements[0];
            for a in cat.actions() {
                let by_patterns =
                    st.action.items.iter().any(|p| action_matches(&p.value, &a.name)) != st.action.negated;
                assert_eq!(action_applies(st, &a.name), by_patterns, "{} against {chunk:?}", a.name);
            }
        }
    }
}
