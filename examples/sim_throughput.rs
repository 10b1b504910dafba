//! Throughput of the software KMS: envelope encryption (GenerateDataKey + local AES-256-GCM over
//! 1 MiB payloads, GB/s) and Decrypt calls per second (each authorized through the evaluator).
//!
//! `cargo run --release --example sim_throughput`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "benchmark harness")]

use std::time::Instant;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use keyproof::sim::crypto::{aes256gcm_seal, random_array};
use keyproof::sim::{Call, Sim};
use keyproof::world::World;
use serde_json::{json, Map, Value};

fn call(sim: &mut Sim, op: &str, args: Value) -> keyproof::sim::Output {
    let args: Map<String, Value> = args.as_object().cloned().unwrap();
    sim.call(&Call {
        op: op.into(),
        caller: "arn:aws:iam::111122223333:root".into(),
        region: "us-east-1".into(),
        args,
        ..Call::default()
    })
    .unwrap()
}

fn main() {
    let mut sim = Sim::new(World::default());
    let key = call(&mut sim, "CreateKey", json!({}));
    let key_id = key.fields["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let payload = vec![0x5au8; 1 << 20];
    let n = 256;
    let t = Instant::now();
    for _ in 0..n {
        let dk = call(
            &mut sim,
            "GenerateDataKey",
            json!({ "KeyId": key_id, "KeySpec": "AES_256", "EncryptionContext": { "tenant": "acme" } }),
        );
        let nonce = random_array::<12>().unwrap();
        let ct = aes256gcm_seal(dk.plaintext.as_ref().unwrap().expose(), &nonce, b"", &payload).unwrap();
        std::hint::black_box(ct);
    }
    let secs = t.elapsed().as_secs_f64();
    let gbps = (n as f64 * payload.len() as f64) / secs / 1e9;
    println!("envelope: {n} x 1 MiB (GenerateDataKey + AES-256-GCM) in {secs:.3} s = {gbps:.3} GB/s");

    let blob = call(
        &mut sim,
        "Encrypt",
        json!({ "KeyId": key_id, "Plaintext": B64.encode(b"hello"), "EncryptionContext": { "tenant": "acme" } }),
    );
    let blob = blob.fields["CiphertextBlob"].clone();
    let m = 20_000;
    let t = Instant::now();
    for _ in 0..m {
        let out =
            call(&mut sim, "Decrypt", json!({ "CiphertextBlob": blob, "EncryptionContext": { "tenant": "acme" } }));
        std::hint::black_box(out);
    }
    let secs = t.elapsed().as_secs_f64();
    println!("decrypt: {m} calls in {secs:.3} s = {:.0} calls/s", f64::from(m) / secs);
}
