//! The evaluator: a small random world (key policy, identity policies, trust policies,
//! grants, an organization) and a request whose action, principal and context come from small
//! domains; `authorize` never panics, is deterministic, and explains every decision.
#![no_main]

use keyproof::eval::authorize::{authorize, authorize_with, Options};
use keyproof_fuzz::{ReqSpec, WorldSpec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: keyproof_fuzz::one_thread(),
    |input: (WorldSpec, ReqSpec, ReqSpec)| {
        let (spec, r1, r2) = input;
        let world = spec.world();
        for e in &world.errors {
            assert!(!e.message.starts_with("internal error"), "{}", e.message);
        }
        let Some(key) = world.find_key_index(keyproof_fuzz::KEY) else { return };
        for r in [&r1, &r2] {
            let req = r.request(key);
            let a = authorize(&world, &req);
            let b = authorize(&world, &req);
            assert_eq!(a.decision, b.decision, "not deterministic");
            assert!(!a.explanation.is_empty(), "no explanation");
            let _ = authorize_with(&world, &req, Options { cross_account_grant_needs_iam: true });
        }
    }
);
