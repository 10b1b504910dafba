//! Measures keyproof on a generated organization (see `gen-org`):
//! parse/load throughput, batch `eval` per request, `who-can` for one key and for all keys.
//!
//! `cargo run --release --example bench -- DIR [--requests N] [--who-can-keys N]`

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use keyproof::eval::authorize::{authorize, Decision, Request};
use keyproof::eval::context::Context;
use keyproof::eval::principal::Caller;
use keyproof::ingest::{load, LoadOptions};
use keyproof::solve::{who_can, Query};

fn dir_size(p: &std::path::Path) -> u64 {
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let path = e.path();
            if path.is_dir() {
                total += dir_size(&path);
            } else if let Ok(m) = e.metadata() {
                total += m.len();
            }
        }
    }
    total
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first().cloned() else {
        eprintln!("usage: bench DIR [--requests N] [--who-can-keys N]");
        std::process::exit(2);
    };
    let flag = |name: &str, default: usize| -> usize {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let n_requests = flag("--requests", 1_000_000);
    let n_keys = flag("--who-can-keys", 20);

    let bytes = dir_size(std::path::Path::new(&dir));
    {
        // Pure JSON parsing throughput (files already in memory), all cores.
        use rayon::prelude::*;
        let mut files = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(&dir)];
        while let Some(p) = stack.pop() {
            if p.is_dir() {
                if let Ok(rd) = std::fs::read_dir(&p) {
                    stack.extend(rd.flatten().map(|e| e.path()));
                }
            } else if let Ok(t) = std::fs::read_to_string(&p) {
                files.push(t);
            }
        }
        let total: usize = files.iter().map(String::len).sum();
        let t = Instant::now();
        let ok = files.par_iter().filter(|t| keyproof::policy::json::parse(t).is_ok()).count();
        let s = t.elapsed().as_secs_f64();
        println!(
            "json parse: {ok} files, {:.1} MB in {s:.3} s = {:.0} MB/s",
            total as f64 / 1e6,
            total as f64 / 1e6 / s
        );
    }
    let t = Instant::now();
    let world = load(std::slice::from_ref(&dir), &LoadOptions::default());
    let load_s = t.elapsed().as_secs_f64();
    println!(
        "load: {} files, {:.1} MB in {:.3} s = {:.0} MB/s; {} accounts, {} roles, {} users, {} keys, {} grants, {} errors",
        world.files.len(),
        bytes as f64 / 1e6,
        load_s,
        bytes as f64 / 1e6 / load_s,
        world.accounts.len(),
        world.roles.len(),
        world.users.len(),
        world.keys.len(),
        world.keys.iter().map(|k| k.grants.as_ref().map_or(0, Vec::len)).sum::<usize>(),
        world.errors.len()
    );

    // Batch eval: random (principal, key, action, context) over the world.
    if !world.roles.is_empty() && !world.keys.is_empty() && n_requests > 0 {
        let actions = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:PutKeyPolicy"];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let requests: Vec<Request> = (0..n_requests.min(200_000))
            .map(|_| {
                let r = &world.roles[(next() % world.roles.len() as u64) as usize];
                let key = (next() % world.keys.len() as u64) as usize;
                let mut context = Context::new();
                if next() % 2 == 0 {
                    context.set_encryption_context([("tenant".to_string(), format!("t{}", next() % 17))].into());
                }
                Request {
                    caller: Caller::AssumedRole {
                        account: r.account.clone(),
                        path: r.path.clone(),
                        role: r.name.clone(),
                        session: "bench".into(),
                    },
                    action: actions[(next() % actions.len() as u64) as usize].to_string(),
                    key,
                    context,
                    via_alias: None,
                    grant_tokens: Vec::new(),
                    grant_id: None,
                    assume_identity_allows: false,
                }
            })
            .collect();
        use rayon::prelude::*;
        // The first pass builds the per-principal and per-key plans; it is reported apart.
        let t = Instant::now();
        let warm = requests.par_iter().filter(|r| authorize(&world, r).decision == Decision::Allow).count();
        println!(
            "eval first pass: {} requests in {:.3} s = {:.3} µs/request (builds the per-principal and per-key caches), {warm} allowed",
            requests.len(),
            t.elapsed().as_secs_f64(),
            t.elapsed().as_secs_f64() * 1e6 / requests.len() as f64
        );
        let rounds = n_requests.div_ceil(requests.len());
        let t = Instant::now();
        let mut allowed = 0usize;
        for _ in 0..rounds {
            allowed += requests.par_iter().filter(|r| authorize(&world, r).decision == Decision::Allow).count();
        }
        let total = rounds * requests.len();
        let s = t.elapsed().as_secs_f64();
        println!(
            "eval: {total} requests in {s:.3} s = {:.3} µs/request ({:.0} requests/s, {} threads), {allowed} allowed",
            s * 1e6 / total as f64,
            total as f64 / s,
            rayon::current_num_threads()
        );
    }

    // who-can
    if !world.keys.is_empty() && n_keys > 0 {
        let t = Instant::now();
        let a = who_can(&world, &Query { key: 0, action: "kms:Decrypt".into(), direct_only: false });
        println!("who-can one key: {:.3} s, {} principals", t.elapsed().as_secs_f64(), a.principals.len());
        let n = n_keys.min(world.keys.len());
        let t = Instant::now();
        // Keys spread over the whole world (the generator writes an account's keys together),
        // solved in parallel (each key's principals too).
        let mut slowest: Vec<(f64, usize, usize)> = {
            use rayon::prelude::*;
            (0..n)
                .into_par_iter()
                .map(|i| i * world.keys.len() / n)
                .map(|key| {
                    let tk = Instant::now();
                    let q = Query { key, action: "kms:Decrypt".into(), direct_only: false };
                    let found = who_can(&world, &q).principals.len();
                    (tk.elapsed().as_secs_f64(), key, found)
                })
                .collect()
        };
        let total: usize = slowest.iter().map(|s| s.2).sum();
        slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (s, key, found) in slowest.iter().take(5) {
            let arn = world.keys.get(*key).map_or("", |k| k.arn.as_str());
            println!("  slow key {key} {arn}: {s:.3} s, {found} entries");
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "who-can {n} keys: {s:.3} s ({:.3} s/key), {total} entries; extrapolated all {} keys: {:.1} s",
            s / n as f64,
            world.keys.len(),
            s / n as f64 * world.keys.len() as f64
        );
    }
}
