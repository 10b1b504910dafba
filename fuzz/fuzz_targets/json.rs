//! The JSON reader: any bytes, never a panic; a parsed tree's spans lie inside the text.
#![no_main]

use keyproof::policy::json::{parse, Json, JsonKind};
use libfuzzer_sys::fuzz_target;

fn check(v: &Json, len: usize) {
    assert!(v.span.start <= v.span.end && (v.span.end as usize) <= len, "span out of the text");
    match &v.kind {
        JsonKind::Array(items) => items.iter().for_each(|i| check(i, len)),
        JsonKind::Object(members) => members.iter().for_each(|m| {
            assert!((m.key_span.end as usize) <= len, "key span out of the text");
            check(&m.value, len);
        }),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse(text) {
        Ok(v) => check(&v, text.len()),
        Err(e) => assert!((e.span.end as usize) <= text.len(), "error span out of the text"),
    }
});
