//! Tests about the rule pack itself: generated docs are fresh, every rule is documented with
//! the required sections and has fixtures, doc examples do what they claim, messages follow
//! the convention, and rule files and the registry agree.
//!
//! `UPDATE_DOCS=1 cargo test --test meta` rewrites `docs/rules/`.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{check_paths, check_text, fixtures, root};
use keyproof::rules::{self, docs};

const REQUIRED_SECTIONS: &[&str] = &["What it does", "Why is this bad?", "Example", "References"];

/// Files of `src/rules/` that are infrastructure, not rules.
const NOT_RULES: &[&str] = &["mod.rs", "rule.rs", "selector.rs", "docs.rs", "suggest.rs"];

#[test]
fn rule_docs_are_fresh() {
    let dir = root().join("docs/rules");
    let update = std::env::var_os("UPDATE_DOCS").is_some();
    let mut expected = vec![("README.md".to_string(), docs::render_index(rules::all()))];
    for r in rules::all() {
        expected.push((format!("{}.md", r.info().id), docs::render_page(r.info())));
    }
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let mut stale = Vec::new();
    for (name, text) in &expected {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            if update {
                std::fs::write(&path, text).unwrap();
            } else {
                stale.push(name.clone());
            }
        }
    }
    let names: BTreeSet<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !names.contains(name.as_str()) {
            stale.push(format!("{name} (no such rule)"));
        }
    }
    assert!(stale.is_empty(), "stale docs/rules pages, run `UPDATE_DOCS=1 cargo test --test meta`: {stale:?}");
}

#[test]
fn every_rule_has_the_required_doc_sections() {
    for r in rules::all() {
        let info = r.info();
        for s in REQUIRED_SECTIONS {
            let body = info.section(s);
            assert!(body.is_some_and(|b| !b.is_empty()), "{}: missing or empty `## {s}`", info.id);
        }
        let example = info.section("Example").unwrap_or_default();
        assert!(example.contains("Use instead:"), "{}: `## Example` needs a `Use instead:` block", info.id);
        let (bad, good) = docs::examples(info);
        assert!(bad.is_some() && good.is_some(), "{}: `## Example` needs two ```json blocks", info.id);
        let refs = info.section("References").unwrap_or_default();
        assert!(refs.contains("https://"), "{}: `## References` needs links", info.id);
        assert!(!info.summary().is_empty(), "{}: empty summary", info.id);
    }
}

#[test]
fn doc_examples_are_executed() {
    for r in rules::all() {
        let info = r.info();
        let (bad, good) = docs::examples(info);
        let (bad, good) = (bad.expect("example"), good.expect("use instead"));
        if bad.run {
            let c = check_text("example.json", &bad.text, &[info.id]);
            assert_eq!(
                c.of(info.id).len(),
                1,
                "{}: the Example must give exactly one finding, got {:#?}",
                info.id,
                c.of(info.id)
            );
        } else {
            assert!(
                !fixtures("fail").iter().all(|(id, _)| id != info.id),
                "{}: a no-run example needs fail fixtures",
                info.id
            );
        }
        assert!(good.run, "{}: the Use instead block must be executable", info.id);
        let c = check_text("use-instead.json", &good.text, &[info.id]);
        assert!(
            c.of(info.id).is_empty(),
            "{}: the Use instead block must give no finding, got {:#?}",
            info.id,
            c.of(info.id)
        );
        assert!(c.world.errors.is_empty(), "{}: the Use instead block is not a recognised input", info.id);
    }
}

#[test]
fn every_rule_has_pass_and_fail_fixtures_and_no_fixture_is_orphaned() {
    let ids: BTreeSet<&str> = rules::all().iter().map(|r| r.info().id).collect();
    let pass: BTreeSet<String> = fixtures("pass").into_iter().map(|(id, _)| id).collect();
    let fail: BTreeSet<String> = fixtures("fail").into_iter().map(|(id, _)| id).collect();
    for id in &ids {
        assert!(pass.contains(*id), "{id}: no fixtures/rules/{id}/pass/*.json");
        assert!(fail.contains(*id), "{id}: no fixtures/rules/{id}/fail/*.json");
    }
    for entry in std::fs::read_dir(root().join("fixtures/rules")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(ids.contains(name.as_str()), "fixtures/rules/{name} belongs to no registered rule");
        for sub in std::fs::read_dir(entry.path()).unwrap().flatten() {
            let s = sub.file_name().to_string_lossy().into_owned();
            assert!(s == "pass" || s == "fail", "fixtures/rules/{name}/{s}: only pass/ and fail/ are allowed");
        }
    }
}

#[test]
fn no_orphan_snapshots() {
    let fail: BTreeSet<String> = fixtures("fail")
        .into_iter()
        .map(|(id, path)| format!("{id}__{}", Path::new(&path).file_stem().unwrap().to_string_lossy()))
        .collect();
    for entry in std::fs::read_dir(root().join("tests/snapshots")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("rules__") else { continue };
        let stem = rest.trim_end_matches(".snap").trim_end_matches("__text").trim_end_matches("__json");
        assert!(fail.contains(stem), "tests/snapshots/{name} has no fixture");
    }
}

#[test]
fn messages_follow_the_convention() {
    let mut paths: Vec<String> = fixtures("fail").into_iter().chain(fixtures("pass")).map(|(_, p)| p).collect();
    paths.sort();
    let c = check_paths(&paths, &[]);
    assert!(!c.out.findings.is_empty());
    for f in &c.out.findings {
        let m = &f.message;
        let first = m.chars().next().expect("non-empty message");
        assert!(!first.is_uppercase(), "{}: message starts with a capital: {m}", f.rule);
        assert!(!m.ends_with('.') && !m.ends_with('!'), "{}: message ends with punctuation: {m}", f.rule);
        assert!(!m.contains('\n'), "{}: message spans lines: {m}", f.rule);
        assert_eq!(m.matches('`').count() % 2, 0, "{}: unbalanced backticks: {m}", f.rule);
        for word in ["Statement {", "PrincipalRef", "Spanned", "Some(", "None"] {
            assert!(!m.contains(word), "{}: Rust type name in message: {m}", f.rule);
        }
    }
}

#[test]
fn rule_files_and_registry_agree() {
    let mut files = BTreeSet::new();
    for entry in std::fs::read_dir(root().join("src/rules")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".rs") && !NOT_RULES.contains(&name.as_str()) {
            files.insert(format!("src/rules/{name}"));
        }
    }
    let mut registered = BTreeSet::new();
    for r in rules::all() {
        let info = r.info();
        let expected = format!("src/rules/{}.rs", info.name.replace('-', "_"));
        assert_eq!(info.file(), expected, "{}: the rule file is named after the rule", info.id);
        assert!(info.id.len() == 5 && info.id.starts_with("KP"), "{}: ids are KPnnn", info.id);
        registered.insert(expected);
    }
    assert_eq!(files, registered, "every file in src/rules/ is one registered rule (see NOT_RULES)");
}
