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
