//! Per-rule fixtures: `fixtures/rules/<ID>/pass/*.json` give no finding of `<ID>`,
//! `fixtures/rules/<ID>/fail/*.json` give at least one, and the concise text and JSON output
//! of each fail file (with only `<ID>` selected) is snapshotted. A fixture may also be a
//! directory of inputs with an optional `keyproof.toml` (see `common::check_fixture`).

mod common;

use common::{check_fixture, fixtures};
use keyproof::report::Format;

#[test]
fn pass_fixtures_have_no_finding_of_their_rule() {
    let pass = fixtures("pass");
    assert!(!pass.is_empty());
    for (id, path) in pass {
        let c = check_fixture(&path, &[]);
        let found = c.of(&id);
        assert!(found.is_empty(), "{path}: expected no {id} finding, got {found:#?}");
    }
}

#[test]
fn fail_fixtures_have_a_finding_of_their_rule() {
    let fail = fixtures("fail");
    assert!(!fail.is_empty());
    for (id, path) in fail {
        let c = check_fixture(&path, &[&id]);
        assert!(!c.of(&id).is_empty(), "{path}: expected at least one {id} finding");
        assert!(c.out.findings.iter().all(|f| f.rule == id), "{path}: only {id} was selected");
        assert!(c.out.internal_errors.is_empty(), "{:?}", c.out.internal_errors);
        let stem = path.rsplit('/').next().unwrap_or(&path).trim_end_matches(".json");
        insta::with_settings!({ input_file => &path, description => format!("{id}: {path}") }, {
            insta::assert_snapshot!(format!("{id}__{stem}__text"), c.render(Format::Text, true));
            insta::assert_snapshot!(format!("{id}__{stem}__json"), c.render(Format::Json, false));
        });
    }
}

/// Rules that look at keys one by one run in small tasks over a few keys each (bounded
/// memory, docs/performance.md): over every fixture, a rule run that way finds exactly what
/// the same rule finds when it looks at all keys at once.
#[test]
fn rules_by_key_find_the_same_in_tasks_as_over_all_keys() {
    use keyproof::config::Settings;
    use keyproof::rules::rule::RuleContext;
    let mut compared = 0;
    let paths: Vec<String> = fixtures("fail")
        .into_iter()
        .chain(fixtures("pass"))
        .map(|(_, p)| p)
        .filter(|p| !std::path::Path::new(p).join(keyproof::config::DEFAULT_CONFIG_FILE).is_file())
        .collect();
    // Each fixture alone, and all of them as one world of many keys (many tasks).
    let worlds = paths.iter().map(|p| vec![p.clone()]).chain(std::iter::once(paths.clone()));
    for inputs in worlds {
        let path = if inputs.len() == 1 { inputs[0].clone() } else { "all fixtures".to_string() };
        let world = keyproof::ingest::load(&inputs, &keyproof::ingest::LoadOptions::default());
        if inputs.len() > 1 {
            assert!(world.keys.len() > 16, "{} keys", world.keys.len());
        }
        let settings = Settings::default();
        for rule in keyproof::rules::all().iter().filter(|r| r.by_key()) {
            let id = rule.info().id;
            let in_tasks = keyproof::rules::run(&world, &settings, &[*rule], &|_| {});
            let cx = RuleContext::new(&world, &settings);
            let mut at_once = Vec::new();
            rule.check(&cx, &mut at_once);
            let text = |f: &keyproof::report::finding::Finding| {
                format!("{} {} {} {} {:?}", f.rule, f.message, f.pointer, f.fingerprint, f.witness)
            };
            let mut a: Vec<String> = in_tasks.findings.iter().filter(|f| f.rule == id).map(text).collect();
            let mut b: Vec<String> = at_once.iter().map(text).collect();
            a.sort();
            b.sort();
            assert_eq!(a, b, "{id} on {path}");
            compared += 1;
        }
    }
    assert!(compared > 50, "only {compared} comparisons");
}
