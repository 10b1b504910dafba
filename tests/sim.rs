//! The software KMS: every scenario under `fixtures/sim/` passes; AES-256-GCM known answers
//! (NIST / McGrew-Viega GCM test cases 13-16); round-trip and tamper properties of the blob.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test harness")]

use std::collections::BTreeMap;
use std::path::Path;

use keyproof::sim::crypto::{aes256gcm_open, aes256gcm_seal, open, seal, Secret};
use keyproof::sim::scenario;
use proptest::prelude::*;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn scenario_fixtures_pass() {
    let mut paths: Vec<_> = std::fs::read_dir("fixtures/sim")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 3, "too few scenarios");
    let mut failures = Vec::new();
    let mut n_steps = 0;
    for p in &paths {
        let (sc, world) = scenario::load(p).unwrap_or_else(|e| panic!("{e}"));
        assert!(!sc.description.is_empty(), "{}: no description", p.display());
        let t = scenario::run(&sc, world);
        n_steps += t.steps.len();
        for s in t.steps.iter().filter(|s| !s.passed) {
            failures.push(format!("{} step #{} {}: {:?} ({})", p.display(), s.step, s.call, s.failure, s.message));
        }
        // Secrets are never printed.
        let json = serde_json::to_string(&t).unwrap();
        assert!(!json.contains("\"Plaintext\":\"") || json.contains("<redacted"), "{}", p.display());
    }
    println!("sim scenarios: {} files, {n_steps} steps", paths.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn transcript_never_prints_plaintext() {
    let (sc, world) = scenario::load(Path::new("fixtures/sim/seed-lab.json")).unwrap();
    let t = scenario::run(&sc, world);
    for s in &t.steps {
        if let Some(v) = s.output.get("Plaintext") {
            assert!(v.as_str().unwrap().starts_with("<redacted"), "{v}");
        }
    }
    let dbg = format!("{:?}", Secret::new(vec![1, 2, 3]));
    assert_eq!(dbg, "Secret(<redacted 3 bytes>)");
}

/// (key, iv, plaintext, aad, ciphertext, tag) — GCM spec test cases 13-16 (AES-256).
const KAT: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "0000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000",
        "",
        "",
        "",
        "530f8afbc74536b9a963b4f1c4cb738b",
    ),
    (
        "0000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000",
        "00000000000000000000000000000000",
        "",
        "cea7403d4d606b6e074ec5d3baf39d18",
        "d0d1c8a799996bf0265b98b5d48ab919",
    ),
    (
        "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        "cafebabefacedbaddecaf888",
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
        "",
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
        "b094dac5d93471bdec1a502270e3cc6c",
    ),
    (
        "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        "cafebabefacedbaddecaf888",
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
        "76fc6ece0f4e1768cddf8853bb2d551b",
    ),
];

#[test]
fn aes256gcm_known_answers() {
    for (k, iv, p, a, c, t) in KAT {
        let iv: [u8; 12] = unhex(iv).try_into().unwrap();
        let sealed = aes256gcm_seal(&unhex(k), &iv, &unhex(a), &unhex(p)).unwrap();
        let mut want = unhex(c);
        want.extend(unhex(t));
        assert_eq!(sealed, want, "test vector with key {k}");
        let opened = aes256gcm_open(&unhex(k), &iv, &unhex(a), &sealed).unwrap();
        assert_eq!(opened.expose(), unhex(p).as_slice());
        let mut bad = sealed.clone();
        bad[0] ^= 1;
        assert!(aes256gcm_open(&unhex(k), &iv, &unhex(a), &bad).is_none());
    }
}

fn ec_strategy() -> impl Strategy<Value = BTreeMap<String, String>> {
    proptest::collection::btree_map("[a-zA-Z:]{0,6}", "[a-z0-9 ]{0,6}", 0..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn round_trip_and_tamper(m in proptest::collection::vec(any::<u8>(), 1..300), ctx in ec_strategy(),
                             other in ec_strategy(), flip in any::<usize>(), bit in 0u8..8) {
        let material = Secret::random(32).unwrap();
        let id = "mrk-1234abcd12ab34cd56ef1234567890ab";
        let blob = seal(&material, id, [7u8; 32], &ctx, &m).unwrap();
        let back = open(&material, &blob, &ctx).unwrap();
        prop_assert_eq!(back.expose(), m.as_slice());
        if other != ctx {
            prop_assert_eq!(open(&material, &blob, &other).unwrap_err().exception, "InvalidCiphertextException");
        }
        let mut bad = blob.clone();
        let i = flip % bad.len();
        bad[i] ^= 1 << bit;
        prop_assert!(open(&material, &bad, &ctx).is_err());
        let other_material = Secret::random(32).unwrap();
        prop_assert!(open(&other_material, &blob, &ctx).is_err());
    }
}

/// `GetPublicKey` returns a DER SubjectPublicKeyInfo (as KMS does): decoded outside the
/// simulator with the `p256` crate's SPKI reader, it verifies a `Sign` output.
#[test]
fn get_public_key_is_spki_and_verifies_outside() {
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine as _;
    use keyproof::sim::{Call, Sim};
    use p256::ecdsa::signature::Verifier as _;
    use p256::pkcs8::DecodePublicKey as _;

    let mut sim = Sim::new(keyproof::world::World::default());
    let root = "arn:aws:iam::111122223333:root";
    let mut call = |op: &str, args: serde_json::Value| {
        let c = Call {
            op: op.into(),
            caller: root.into(),
            region: "us-east-1".into(),
            args: args.as_object().unwrap().clone(),
            ..Call::default()
        };
        sim.call(&c).unwrap_or_else(|e| panic!("{op}: {e}")).fields
    };
    let key = call("CreateKey", serde_json::json!({ "KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY" }));
    let id = key["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let msg = b"invoice 7";
    let signed = call(
        "Sign",
        serde_json::json!({ "KeyId": id, "Message": B64.encode(msg), "SigningAlgorithm": "ECDSA_SHA_256" }),
    );
    let sig = B64.decode(signed["Signature"].as_str().unwrap()).unwrap();
    let pk = call("GetPublicKey", serde_json::json!({ "KeyId": id }));
    let der = B64.decode(pk["PublicKey"].as_str().unwrap()).unwrap();
    // SEQUENCE (89 bytes) { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (66 bytes) }.
    assert_eq!(der.len(), 91);
    assert_eq!(&der[..2], &[0x30, 0x59]);
    let vk = p256::ecdsa::VerifyingKey::from_public_key_der(&der).unwrap();
    let sig = p256::ecdsa::Signature::from_der(&sig).unwrap();
    vk.verify(msg, &sig).unwrap();
    assert!(vk.verify(b"invoice 8", &sig).is_err());

    // A data key pair: the private key is PKCS#8 and matches the SPKI public key.
    let k = call("CreateKey", serde_json::json!({}));
    let kid = k["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let c = Call {
        op: "GenerateDataKeyPair".into(),
        caller: root.into(),
        region: "us-east-1".into(),
        args: serde_json::json!({ "KeyId": kid, "KeyPairSpec": "ECC_NIST_P256" }).as_object().unwrap().clone(),
        ..Call::default()
    };
    let out = sim.call(&c).unwrap();
    assert_eq!(out.plaintext_name(), "PrivateKeyPlaintext");
    let private = out.plaintext.unwrap();
    let sk = <p256::ecdsa::SigningKey as p256::pkcs8::DecodePrivateKey>::from_pkcs8_der(private.expose()).unwrap();
    let public = B64.decode(out.fields["PublicKey"].as_str().unwrap()).unwrap();
    assert_eq!(p256::ecdsa::VerifyingKey::from_public_key_der(&public).unwrap(), *sk.verifying_key());
}

/// An `RSA_2048` signing key: `GetPublicKey` is an SPKI the `rsa` crate reads, and it verifies
/// the simulator's RSASSA-PSS and RSASSA-PKCS1-v1_5 signatures outside the simulator.
#[test]
fn rsa_signatures_verify_outside() {
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine as _;
    use keyproof::sim::{Call, Sim};
    use rsa::pkcs8::DecodePublicKey as _;
    use sha2::Digest as _;

    let mut sim = Sim::new(keyproof::world::World::default());
    let mut call = |op: &str, args: serde_json::Value| {
        let c = Call {
            op: op.into(),
            caller: "arn:aws:iam::111122223333:root".into(),
            region: "us-east-1".into(),
            args: args.as_object().unwrap().clone(),
            ..Call::default()
        };
        sim.call(&c).unwrap_or_else(|e| panic!("{op}: {e}")).fields
    };
    let key = call("CreateKey", serde_json::json!({ "KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY" }));
    let id = key["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let pk = call("GetPublicKey", serde_json::json!({ "KeyId": id }));
    let public =
        rsa::RsaPublicKey::from_public_key_der(&B64.decode(pk["PublicKey"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(rsa::traits::PublicKeyParts::size(&public), 256);
    let msg = b"invoice 9";
    let hashed = sha2::Sha256::digest(msg);
    let mut sign = |alg: &str| {
        let out = call("Sign", serde_json::json!({ "KeyId": id, "Message": B64.encode(msg), "SigningAlgorithm": alg }));
        B64.decode(out["Signature"].as_str().unwrap()).unwrap()
    };
    let pss = sign("RSASSA_PSS_SHA_256");
    let pkcs1 = sign("RSASSA_PKCS1_V1_5_SHA_256");
    public.verify(rsa::Pss::new::<sha2::Sha256>(), &hashed, &pss).unwrap();
    public.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &hashed, &pkcs1).unwrap();
    assert!(public.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &hashed, &pss).is_err());
    assert!(public.verify(rsa::Pss::new::<sha2::Sha256>(), &sha2::Sha256::digest(b"invoice 8"), &pss).is_err());
}
