//! The Terraform reader: `terraform show -json` bytes (a plan or a state) through the ingest
//! layer; never a panic (a panic inside one file's reader would otherwise only become an
//! `internal error` entry, so that entry fails the target too), every diagnostic locates.
#![no_main]

use keyproof::eval::authorize::authorize;
use keyproof::eval::context::Context;
use keyproof::eval::principal::Caller;
use keyproof::ingest::{load_texts, LoadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let world = load_texts(&[("plan.json".to_string(), text.to_string())], &LoadOptions::default());
    for e in &world.errors {
        assert!(!e.message.starts_with("internal error"), "{}", e.message);
    }
    for d in &world.diagnostics {
        let at = world.sources.locate(d.source, d.span);
        assert!(at.file == "plan.json" || at.file.is_empty(), "{}: located in `{}`", d.code, at.file);
        assert!(!d.message.contains('\n'), "{}: not a one-line message", d.code);
    }
    // The world a plan gives must be usable: one request per key, from the key's own account.
    for (key, k) in world.keys.iter().enumerate().take(4) {
        let caller = Caller::Root { account: k.account.clone() };
        let _ = authorize(&world, &keyproof_fuzz::request(caller, "kms:Decrypt", key, Context::new()));
    }
});
