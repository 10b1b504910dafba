//! The solver: over a small random world, every `who-can` entry's witness replays as Allow
//! through `eval::authorize`, every counter-example does not, and `unconditional` agrees with
//! the DNF (docs/architecture.md: the solver only proposes requests, the evaluator decides).
#![no_main]

use keyproof::eval::authorize::{authorize, Decision};
use keyproof::solve::{who_can, Query};
use keyproof_fuzz::{ReqAct, WorldSpec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: keyproof_fuzz::one_thread(),
    |input: (WorldSpec, ReqAct, bool)| {
        let (spec, action, direct_only) = input;
        let world = spec.world();
        for e in &world.errors {
            assert!(!e.message.starts_with("internal error"), "{}", e.message);
        }
        let Some(key) = world.find_key_index(keyproof_fuzz::KEY) else { return };
        let ans = who_can(&world, &Query { key, action: action.text().into(), direct_only });
        for e in &ans.principals {
            let resp = authorize(&world, &e.witness.request(&world, key, &e.caller));
            assert_eq!(
                resp.decision,
                Decision::Allow,
                "witness of `{}` replays as {:?}: {}\n{spec:#?}",
                e.principal,
                resp.decision,
                resp.explanation
            );
            if let Some(c) = &e.counter_example {
                let resp = authorize(&world, &c.request(&world, key, &e.caller));
                assert_ne!(resp.decision, Decision::Allow, "counter-example of `{}` is allowed", e.principal);
            }
            assert_eq!(e.unconditional, e.conditions == vec![Vec::new()], "`{}`: unconditional vs DNF", e.principal);
        }
    }
);
