//! The policy model: parse and validate a policy document from bytes, for every role a
//! document can play; never a panic, every diagnostic is a one-line message whose span lies
//! inside the text.
#![no_main]

use keyproof::policy::err::PolicyDiagnostic;
use keyproof::policy::json;
use keyproof::policy::model::DocKind;
use keyproof::policy::parse::{build_single_statement, check_duplicate_keys, parse_policy_text, validate};
use keyproof::source::SourceMap;
use libfuzzer_sys::fuzz_target;

const KINDS: [DocKind; 6] =
    [DocKind::KeyPolicy, DocKind::Identity, DocKind::Boundary, DocKind::Trust, DocKind::Scp, DocKind::Rcp];

fn check(diags: &[PolicyDiagnostic], len: usize) {
    for d in diags {
        assert!(d.span.start <= d.span.end && (d.span.end as usize) <= len, "{}: span out of the text", d.code);
        assert!(!d.message.is_empty() && !d.message.contains('\n'), "{}: not a one-line message", d.code);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let sources = SourceMap::default();
    let source = sources.add_file("fuzz.json", text.to_string());
    let mut diags = Vec::new();
    let Some(policy) = parse_policy_text(source, text, &mut diags) else {
        check(&diags, text.len());
        return;
    };
    if let Ok(tree) = json::parse(text) {
        check_duplicate_keys(source, &tree, "", &mut diags);
        let _ = build_single_statement(source, &tree, text.len(), &mut diags);
    }
    for kind in KINDS {
        let mut p = policy.clone();
        validate(&mut p, kind, Some("fuzz"), &mut diags);
    }
    check(&diags, text.len());
});
