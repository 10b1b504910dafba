//! `who-can` fixtures: `fixtures/who-can/<scenario>/case.json` (and `regressions/<case>/`).
//!
//! For every query of every scenario: the set of principals is exactly the expected one (and
//! so are the unconditional and transitive subsets when given), every witness replays as
//! Allow through the evaluator, every counter-example replays as a deny, every conditional
//! entry has a counter-example, the DNF of every direct entry agrees with the evaluator under
//! the query's `dnf_contexts`, and the text and JSON answers match the insta snapshots in
//! `tests/snapshots/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test harness")]

use std::collections::BTreeSet;

use keyproof::eval::authorize::{authorize, implied_context, Decision};
use keyproof::eval::condition::condition_holds;
use keyproof::eval::context::{Context, CtxValue};
use keyproof::eval::request::resolve_key;
use keyproof::solve::{atom_condition, who_can, Answer, Query};
use keyproof::world::World;

mod who_can_cases;
use who_can_cases::{load_case, scenarios, Case, DnfContext};
fn set(v: &[String]) -> BTreeSet<String> {
    v.iter().cloned().collect()
}

/// The DNF of every direct entry against the evaluator under the listed contexts.
fn check_dnf(world: &World, key: usize, ans: &Answer, contexts: &[DnfContext]) -> Vec<String> {
    let mut out = Vec::new();
    for e in ans.principals.iter().filter(|e| !e.transitive) {
        for dc in contexts {
            let mut ctx = Context::new();
            if !dc.context.is_empty() {
                ctx.set_encryption_context(dc.context.clone());
            }
            for (k, v) in &dc.conditions {
                ctx.set(k, CtxValue::Single(v.clone()));
            }
            let mut req = e.witness.request(world, key, &e.caller);
            req.context = ctx.clone();
            let allowed = authorize(world, &req).decision == Decision::Allow;
            let mut full = ctx;
            implied_context(world, &world.keys[key], &e.caller, &ans.action, None, &mut full);
            let dnf = e.conditions.iter().any(|t| {
                t.iter().all(|a| atom_condition(a).is_some_and(|c| condition_holds(&c, &full, true) != a.negated))
            });
            if dnf != allowed {
                out.push(format!(
                    "{}: DNF `{}` is {dnf} under {:?} {:?}, the evaluator says {}",
                    e.principal,
                    e.condition_text,
                    dc.context,
                    dc.conditions,
                    if allowed { "Allow" } else { "deny" }
                ));
            }
        }
    }
    out
}

/// Replays every witness (Allow) and counter-example (not Allow); returns the problems.
fn check_replays(world: &World, key: usize, ans: &Answer) -> Vec<String> {
    let mut out = Vec::new();
    for e in &ans.principals {
        let resp = authorize(world, &e.witness.request(world, key, &e.caller));
        if resp.decision != Decision::Allow {
            out.push(format!("witness of {} does not replay: {}", e.principal, resp.explanation));
        }
        match &e.counter_example {
            Some(c) => {
                let resp = authorize(world, &c.request(world, key, &e.caller));
                if resp.decision == Decision::Allow {
                    out.push(format!("counter-example of {} is allowed", e.principal));
                }
            }
            None if !e.unconditional => out.push(format!("conditional entry {} has no counter-example", e.principal)),
            None => {}
        }
        if e.unconditional != (e.conditions == vec![Vec::new()]) {
            out.push(format!("{}: `unconditional` disagrees with the DNF {:?}", e.principal, e.conditions));
        }
    }
    out
}

#[test]
fn who_can_fixtures() {
    let mut failures = Vec::new();
    let (mut n_cases, mut n_queries, mut n_entries) = (0, 0, 0);
    let mut names = BTreeSet::new();
    let mut snapshots = Vec::new();
    for dir in scenarios() {
        let rel = dir.strip_prefix("fixtures/who-can").unwrap().display().to_string().replace('/', "__");
        let text = std::fs::read_to_string(dir.join("case.json")).unwrap();
        let case: Case = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        assert!(!case.description.is_empty(), "{}: no description", dir.display());
        let world = load_case(&dir, &case);
        assert!(world.errors.is_empty(), "{}: {:?}", dir.display(), world.errors);
        let key = case
            .key
            .as_deref()
            .or(case.options.key_arn.as_deref())
            .map_or_else(|| resolve_key(&world, None), |k| resolve_key(&world, Some(k)))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .0;
        n_cases += 1;
        for (i, q) in case.queries.iter().enumerate() {
            n_queries += 1;
            let ans = who_can(&world, &Query { key, action: q.action.clone(), direct_only: q.direct });
            n_entries += ans.principals.len();
            let what = format!("{} query #{i} ({}{})", dir.display(), q.action, if q.direct { ", direct" } else { "" });
            let got: Vec<String> = ans.principals.iter().map(|e| e.principal.clone()).collect();
            if set(&got) != set(&q.expect.principals) || got.len() != set(&got).len() {
                failures.push(format!("{what}: principals {got:?}, expected {:?}", q.expect.principals));
            }
            let subset = |f: &dyn Fn(&keyproof::solve::Entry) -> bool| -> BTreeSet<String> {
                ans.principals.iter().filter(|e| f(e)).map(|e| e.principal.clone()).collect()
            };
            if let Some(u) = &q.expect.unconditional {
                let got = subset(&|e| e.unconditional);
                if got != set(u) {
                    failures.push(format!("{what}: unconditional {got:?}, expected {u:?}"));
                }
            }
            if let Some(t) = &q.expect.transitive {
                let got = subset(&|e| e.transitive);
                if got != set(t) {
                    failures.push(format!("{what}: transitive {got:?}, expected {t:?}"));
                }
            }
            // The transitive entries alone (solving only the direct entries they depend on)
            // are the answer's.
            if !q.direct {
                let whole: Vec<&keyproof::solve::Entry> = ans.principals.iter().filter(|e| e.transitive).collect();
                let alone = keyproof::solve::transitive_entries(&world, key, &q.action);
                if serde_json::to_value(&whole).ok() != serde_json::to_value(&alone).ok() {
                    failures.push(format!("{what}: transitive_entries differs from the answer's transitive entries"));
                }
            }
            if q.direct && ans.principals.iter().any(|e| e.transitive) {
                failures.push(format!("{what}: a transitive entry in a direct-only answer"));
            }
            failures.extend(check_replays(&world, key, &ans).into_iter().map(|p| format!("{what}: {p}")));
            failures.extend(check_dnf(&world, key, &ans, &q.dnf_contexts).into_iter().map(|p| format!("{what}: {p}")));

            let short = q.action.trim_start_matches("kms:");
            let mut name = format!("{rel}__{short}{}", if q.direct { "_direct" } else { "" });
            if !names.insert(name.clone()) {
                name = format!("{name}_{i}");
                names.insert(name.clone());
            }
            if std::env::var_os("WHO_CAN_DEBUG").is_some() {
                println!("== {what}\n{}\n", keyproof::cli::who_can::text(&ans));
            }
            let description = format!("{}: {}{}", case.description, q.action, if q.direct { " (direct)" } else { "" });
            snapshots.push((
                name,
                description,
                keyproof::cli::who_can::text(&ans),
                serde_json::to_string_pretty(&ans).unwrap(),
            ));
        }
    }
    println!("who-can fixtures: {n_cases} scenarios, {n_queries} queries, {n_entries} entries");
    assert!(n_cases >= 14, "too few scenarios: {n_cases}");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    // Snapshots last, so that a semantic failure is reported before any snapshot difference.
    for (name, description, text, json) in snapshots {
        insta::with_settings!({ description => description, omit_expression => true }, {
            insta::assert_snapshot!(format!("{name}__text"), text);
            insta::assert_snapshot!(format!("{name}__json"), json);
        });
    }
}
