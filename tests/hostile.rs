//! Hostile inputs (issue #9): each case writes a generated input into a scratch directory
//! (nothing is committed), runs `keyproof check --format json HOSTILE GOOD` and asserts that
//!
//! * the run ends within a time bound and under a memory bound (peak resident set size, read
//!   from `/proc/PID/status` while the child runs), and nothing panics;
//! * the hostile input gets a clear diagnostic naming its file (and line where meaningful);
//! * the good fixture beside it is still analysed: its `KP104` finding is in the report.
//!
//! The binary is `target/release/keyproof` when it is at least as new as the debug binary of
//! this test run (`cargo build --release` first to measure at full size), else the debug
//! binary; `KEYPROOF_HOSTILE_BIN` names another. Sizes that only cost time scale with the
//! binary: a debug binary gets the smaller sizes of `Scale::get(false)` (documented in
//! docs/limits.md with the measured numbers, which each case prints as a `hostile:` line).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test harness")]

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A key policy with a `KP104` finding (`Principal: "*"` without conditions).
const GOOD: &str = "fixtures/rules/KP104/fail/principal-star.json";
const OWNER: &str = "111122223333";

/// The binary under test and whether it is an optimised build.
fn binary() -> (PathBuf, bool) {
    if let Some(p) = std::env::var_os("KEYPROOF_HOSTILE_BIN") {
        let p = PathBuf::from(p);
        let release = p.components().any(|c| c.as_os_str() == "release");
        return (p, release);
    }
    let debug = PathBuf::from(env!("CARGO_BIN_EXE_keyproof"));
    let release = debug.parent().and_then(Path::parent).map(|t| t.join("release").join("keyproof"));
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match release {
        Some(r) if mtime(&r).is_some() && mtime(&r) >= mtime(&debug) => (r, true),
        _ => (debug, false),
    }
}

/// Sizes and bounds of one build.
struct Scale {
    /// Users of the large single-line document (under the size cap).
    line_users: usize,
    /// Statements of the many-statements key policy.
    statements: usize,
    /// Principals of the one-statement key policy.
    principals: usize,
    /// Size in KiB of the one-statement key policy naming as many principals as fit (under
    /// the evaluation limit, so it is evaluated: the solver's worst case measured here).
    evaluated_kib: usize,
    /// Time bound per run.
    time: Duration,
    /// Peak RSS bound per run, in MiB.
    rss_mib: u64,
}

impl Scale {
    fn get(release: bool) -> Scale {
        if release {
            Scale {
                line_users: 100_000,
                statements: 50_000,
                principals: 1_000_000,
                evaluated_kib: 63,
                time: Duration::from_secs(60),
                rss_mib: 2048,
            }
        } else {
            Scale {
                line_users: 2_000,
                statements: 50_000,
                principals: 1_000_000,
                evaluated_kib: 8,
                time: Duration::from_secs(180),
                rss_mib: 2048,
            }
        }
    }
}

/// A fresh scratch directory for one case.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What one run gave.
struct Run {
    code: Option<i32>,
    report: Value,
    stderr: String,
    elapsed: Duration,
    peak_rss_kib: u64,
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `keyproof check --format json` over the paths, watching time and memory.
fn check(case: &str, paths: &[&Path], extra: &[&str]) -> Run {
    let (bin, release) = binary();
    let scale = Scale::get(release);
    let out_file = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile").join(format!("{case}.report.json"));
    let err_file = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile").join(format!("{case}.stderr"));
    let mut cmd = Command::new(&bin);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "--format", "json", "--fail-on", "never", "--output"])
        .arg(&out_file)
        .args(extra)
        .args(paths)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err_file).unwrap());
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let pid = child.id();
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = vm_hwm_kib(pid) {
            peak = peak.max(kib);
        }
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > scale.time {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{case}: still running after {:?} ({})", scale.time, bin.display());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    let stderr = std::fs::read_to_string(&err_file).unwrap_or_default();
    let text = std::fs::read_to_string(&out_file).unwrap_or_default();
    let report =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{case}: no JSON report ({e}); stderr: {stderr}"));
    // Reports of the large cases run to hundreds of MB: keep them only while they are read.
    let _ = std::fs::remove_file(&out_file);
    let run = Run { code: status.code(), report, stderr, elapsed, peak_rss_kib: peak };
    println!(
        "hostile: {case:<28} {:>8.2} s {:>6} MiB peak RSS ({} binary)",
        run.elapsed.as_secs_f64(),
        run.peak_rss_kib / 1024,
        if release { "release" } else { "debug" }
    );
    assert!(!run.stderr.contains("panicked"), "{case}: panic: {}", run.stderr);
    assert!(matches!(run.code, Some(0..=2)), "{case}: exit {:?}: {}", run.code, run.stderr);
    assert!(run.peak_rss_kib / 1024 < scale.rss_mib, "{case}: {} MiB peak RSS", run.peak_rss_kib / 1024);
    let internal: Vec<&Value> =
        run.report["errors"].as_array().unwrap().iter().filter(|e| e["kind"] == "internal").collect();
    assert!(internal.is_empty(), "{case}: internal errors {internal:?}");
    run
}

impl Run {
    fn findings(&self, rule: &str, file: &Path) -> Vec<&Value> {
        let file = file.to_str().unwrap();
        self.report["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == rule && f["file"] == file).collect()
    }

    fn errors(&self, file: &Path) -> Vec<&Value> {
        let file = file.to_str().unwrap();
        self.report["errors"].as_array().unwrap().iter().filter(|e| e["file"] == file).collect()
    }

    /// The good fixture was analysed beside the hostile input.
    fn assert_good_analysed(&self, case: &str) {
        let good = self.findings("KP104", Path::new(GOOD));
        assert!(!good.is_empty(), "{case}: the good fixture's KP104 finding is missing: {:#}", self.report["findings"]);
    }

    /// Exactly one input error for `file`, whose message contains `needle`.
    fn assert_error(&self, case: &str, file: &Path, needle: &str) -> &Value {
        let errs = self.errors(file);
        assert_eq!(errs.len(), 1, "{case}: errors {:#}", self.report["errors"]);
        let msg = errs[0]["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{case}: `{msg}` lacks `{needle}`");
        assert!(msg.starts_with(|c: char| c.is_lowercase()), "{case}: `{msg}` does not start in lowercase");
        errs[0]
    }

    /// At least one finding of `rule` in `file`, with a line; returns the first.
    fn assert_finding(&self, case: &str, rule: &str, file: &Path) -> &Value {
        let fs = self.findings(rule, file);
        assert!(!fs.is_empty(), "{case}: no {rule} in {}: {:#}", file.display(), self.report["findings"]);
        assert!(fs[0]["line"].as_u64().is_some_and(|l| l >= 1), "{case}: {rule} without a line: {:#}", fs[0]);
        fs[0]
    }
}

/// A `KP159` finding saying the document is over the evaluation limit.
fn assert_not_evaluated(run: &Run, case: &str, path: &Path) {
    let fs = run.findings("KP159", path);
    assert!(
        fs.iter().any(|f| f["message"].as_str().unwrap().contains("over the `65536` bytes keyproof evaluates")),
        "{case}: {fs:#?}"
    );
    assert!(fs.iter().all(|f| f["line"] == 1), "{case}: {fs:#?}");
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::File::create(path).unwrap().write_all(bytes).unwrap();
}

fn statement(sid: &str, principal: &str, action: &str) -> String {
    format!(
        r#"{{"Sid":"{sid}","Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"{action}","Resource":"*"}}"#
    )
}

fn root_statement() -> String {
    statement("Root", &format!("arn:aws:iam::{OWNER}:root"), "kms:*")
}

/// A key policy of the given statements, on one line.
fn key_policy(statements: &[String]) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, statements.join(","))
}

#[test]
fn file_over_the_size_cap() {
    let dir = scratch("over-cap");
    let path = dir.join("huge.json");
    // 100 MiB on one line: a valid key policy padded inside a `Sid`.
    let pad = 100 * 1024 * 1024;
    let mut text = String::with_capacity(pad + 256);
    text.push_str(r#"{"Version":"2012-10-17","Statement":[{"Sid":""#);
    text.extend(std::iter::repeat_n('x', pad));
    text.push_str(r#"","Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}"#);
    write(&path, text.as_bytes());
    drop(text);
    let run = check("over-cap-100mib", &[&path, Path::new(GOOD)], &[]);
    run.assert_error("over-cap", &path, "64 MiB");
    run.assert_good_analysed("over-cap");
    let _ = std::fs::remove_dir_all(&dir);
}

/// An `aws iam get-account-authorization-details` document on one line, tens of MB long,
/// whose users each hold an inline policy naming an action KMS does not have: one `KP153`
/// per user, all on line 1, so every column is counted on the long line.
#[test]
fn large_single_line_document() {
    let (_, release) = binary();
    let n = Scale::get(release).line_users;
    let dir = scratch("single-line");
    let path = dir.join("one-line.json");
    let mut text = String::with_capacity(n * 420 + 128);
    text.push_str(r#"{"UserDetailList":["#);
    for i in 0..n {
        if i > 0 {
            text.push(',');
        }
        // A non-ASCII name: columns count characters, not bytes.
        let _ = write!(
            text,
            r#"{{"Path":"/","UserName":"usér{i}","UserId":"AIDA{i:017}","Arn":"arn:aws:iam::{OWNER}:user/usér{i}","UserPolicyList":[{{"PolicyName":"p","PolicyDocument":{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["kms:Decrypt","kms:Decrpyt"],"Resource":"*"}}]}}}}],"GroupList":[],"AttachedManagedPolicies":[],"Tags":[]}}"#
        );
    }
    text.push_str(r#"],"GroupDetailList":[],"RoleDetailList":[],"Policies":[]}"#);
    write(&path, text.as_bytes());
    let run = check(&format!("single-line-{}kib", text.len() >> 10), &[&path, Path::new(GOOD)], &[]);
    let typos = run.findings("KP153", &path);
    assert_eq!(typos.len(), n, "one KP153 per user");
    let last = typos.iter().map(|f| f["column"].as_u64().unwrap()).max().unwrap();
    let at = text.rfind("\"kms:Decrpyt\"").unwrap();
    let column = text[..at].chars().count() as u64 + 1;
    assert_eq!(last, column, "the last finding's column on the long line");
    assert!(typos.iter().all(|f| f["line"] == 1));
    run.assert_good_analysed("single-line");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn deep_nesting() {
    let dir = scratch("deep-nesting");
    let path = dir.join("deep.json");
    let depth = 10_000;
    let mut text = String::from(r#"{"Version":"2012-10-17","Statement":[{"Sid":"#);
    text.push_str(&"[".repeat(depth));
    text.push_str(&"]".repeat(depth));
    text.push_str(r#","Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}"#);
    write(&path, text.as_bytes());
    let run = check("nesting-10000", &[&path, Path::new(GOOD)], &[]);
    let f = run.assert_finding("deep-nesting", "KP150", &path);
    assert!(f["message"].as_str().unwrap().contains("nesting deeper than `256`"), "{f:#}");
    run.assert_good_analysed("deep-nesting");
}

#[test]
fn many_statements() {
    let (_, release) = binary();
    let n = Scale::get(release).statements;
    let dir = scratch("many-statements");
    let path = dir.join("statements.json");
    let mut sts: Vec<String> = vec![root_statement()];
    sts.extend((0..n).map(|i| statement(&format!("S{i}"), &format!("arn:aws:iam::{OWNER}:role/r{i}"), "kms:Decrypt")));
    // Pretty enough to have lines: one statement per line.
    let text = format!("{{\"Version\":\"2012-10-17\",\"Statement\":[\n{}\n]}}\n", sts.join(",\n"));
    write(&path, text.as_bytes());
    let run = check(&format!("statements-{n}"), &[&path, Path::new(GOOD)], &[]);
    assert_not_evaluated(&run, "many-statements", &path);
    run.assert_good_analysed("many-statements");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn many_principals_in_one_statement() {
    let (_, release) = binary();
    let n = Scale::get(release).principals;
    let dir = scratch("many-principals");
    let path = dir.join("principals.json");
    let mut list = String::with_capacity(n * 44);
    for i in 0..n {
        if i > 0 {
            list.push(',');
        }
        let _ = write!(list, "\"arn:aws:iam::{OWNER}:role/p{i}\"");
    }
    let many = format!(
        r#"{{"Sid":"Many","Effect":"Allow","Principal":{{"AWS":[{list}]}},"Action":"kms:Decrypt","Resource":"*"}}"#
    );
    let text = key_policy(&[root_statement(), many]);
    write(&path, text.as_bytes());
    let run = check(&format!("principals-{n}"), &[&path, Path::new(GOOD)], &[]);
    assert_not_evaluated(&run, "many-principals", &path);
    run.assert_good_analysed("many-principals");
    let _ = std::fs::remove_dir_all(&dir);
}

/// As many principals as fit under the evaluation limit, in one statement with a condition:
/// the policy is evaluated, and who-can solves every named principal.
#[test]
fn principals_under_the_evaluation_limit() {
    let (_, release) = binary();
    let kib = Scale::get(release).evaluated_kib;
    let dir = scratch("evaluated-principals");
    let path = dir.join("principals.json");
    let mut list = String::new();
    let mut n = 0;
    while list.len() + 600 < kib * 1024 {
        if n > 0 {
            list.push(',');
        }
        let _ = write!(list, "\"arn:aws:iam::{OWNER}:role/p{n}\"");
        n += 1;
    }
    let many = format!(
        r#"{{"Sid":"Many","Effect":"Allow","Principal":{{"AWS":[{list}]}},"Action":"kms:Decrypt","Resource":"*",
"Condition":{{"StringEquals":{{"kms:EncryptionContext:app":["a","b","c","d"],"aws:SourceVpce":["v1","v2","v3"]}}}}}}"#
    );
    let text = key_policy(&[root_statement(), many]);
    assert!(text.len() <= 64 * 1024);
    write(&path, text.as_bytes());
    let run = check(&format!("evaluated-{kib}kib-{n}-principals"), &[&path, Path::new(GOOD)], &[]);
    assert!(run
        .findings("KP159", &path)
        .iter()
        .all(|f| !f["message"].as_str().unwrap().contains("keyproof evaluates")));
    run.assert_good_analysed("evaluated-principals");
}

#[test]
fn pathological_wildcards() {
    let dir = scratch("wildcards");
    let path = dir.join("wildcards.json");
    let pat = "*?".repeat(2_000) + "b";
    let long = "?".repeat(3_000) + "*";
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{root},
{{"Sid":"P","Effect":"Allow","Principal":"*","Action":"kms:{pat}","Resource":"arn:aws:kms:*:{OWNER}:key/{pat}",
"Condition":{{"StringLike":{{"kms:EncryptionContext:app":"{pat}","aws:PrincipalArn":["{pat}","{long}"],"kms:ViaService":"{pat}"}},
"ArnLike":{{"aws:SourceArn":"arn:aws:s3:::{pat}"}}}}}}]}}"#,
        root = root_statement()
    );
    write(&path, text.as_bytes());
    let run = check("wildcards-4001", &[&path, Path::new(GOOD)], &[]);
    run.assert_good_analysed("wildcards");
    // The policy itself is read: the key's findings point into it, and nothing timed out.
    let in_file =
        run.report["findings"].as_array().unwrap().iter().filter(|f| f["file"] == path.to_str().unwrap()).count();
    assert!(in_file > 0, "no finding in the wildcard policy: {:#}", run.report["findings"]);
}

#[test]
fn invalid_utf8_and_nul_bytes() {
    let dir = scratch("bytes");
    let utf8 = dir.join("latin1.json");
    write(&utf8, b"{\"Version\":\"2012-10-17\",\n\"Statement\":[{\"Sid\":\"caf\xe9\"}]}");
    let nul_in_string = dir.join("nul-string.json");
    write(&nul_in_string, b"{\"Version\":\"2012-10-17\",\n\"Statement\":[{\"Sid\":\"a\0b\"}]}");
    let nul_outside = dir.join("nul-outside.json");
    write(&nul_outside, b"{\"Version\":\"2012-10-17\",\n\0\"Statement\":[]}");
    let run = check("bytes", &[&utf8, &nul_in_string, &nul_outside, Path::new(GOOD)], &[]);
    let e = run.assert_error("bytes", &utf8, "invalid UTF-8");
    assert_eq!(e["line"], 2, "{e:#}");
    let f = run.assert_finding("bytes", "KP150", &nul_in_string);
    assert_eq!(f["line"], 2);
    assert!(f["message"].as_str().unwrap().contains("control character"), "{f:#}");
    let f = run.assert_finding("bytes", "KP150", &nul_outside);
    assert_eq!(f["line"], 2);
    run.assert_good_analysed("bytes");
}

#[cfg(unix)]
#[test]
fn symlink_loop_in_a_snapshot_directory() {
    let dir = scratch("symlink-loop");
    let snap = dir.join("snapshot");
    let keys = snap.join("111122223333").join("us-east-1").join("kms").join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    // A directory that links back to the snapshot root, and a link to itself.
    std::os::unix::fs::symlink(&snap, keys.join("back")).unwrap();
    std::os::unix::fs::symlink(snap.join("self.json"), snap.join("self.json")).unwrap();
    std::fs::copy(GOOD, snap.join("good.json")).unwrap();
    let run = check("symlink-loop", &[&snap, Path::new(GOOD)], &[]);
    let self_link = snap.join("self.json");
    run.assert_error("symlink-loop", &self_link, "symbolic links");
    run.assert_good_analysed("symlink-loop");
}

#[cfg(unix)]
#[test]
fn unreadable_file() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = scratch("unreadable");
    let path = dir.join("secret.json");
    std::fs::copy(GOOD, &path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&path).is_ok() {
        // Root (CAP_DAC_OVERRIDE) reads anything: the case cannot be produced here.
        println!("hostile: unreadable                   skipped: this user can read a mode-000 file (root)");
        return;
    }
    let run = check("unreadable", &[&path, Path::new(GOOD)], &[]);
    run.assert_error("unreadable", &path, "permission denied");
    run.assert_good_analysed("unreadable");
}

#[test]
fn key_policy_over_32_kib() {
    let dir = scratch("over-32k");
    let path = dir.join("big-key-policy.json");
    let sts: Vec<String> = std::iter::once(root_statement())
        .chain((0..400).map(|i| statement(&format!("S{i}"), &format!("arn:aws:iam::{OWNER}:role/r{i}"), "kms:Decrypt")))
        .collect();
    let text = format!("{{\"Version\":\"2012-10-17\",\"Statement\":[\n{}\n]}}\n", sts.join(",\n"));
    assert!(text.len() > 32 * 1024);
    write(&path, text.as_bytes());
    let run = check("key-policy-over-32kib", &[&path, Path::new(GOOD)], &[]);
    let f = run.assert_finding("over-32k", "KP159", &path);
    assert_eq!(f["line"], 1);
    run.assert_good_analysed("over-32k");
}

#[test]
fn duplicate_keys() {
    let dir = scratch("duplicates");
    let path = dir.join("dup.json");
    let text = "{\"Version\":\"2012-10-17\",\"Statement\":[\n{\"Effect\":\"Deny\",\"Effect\":\"Allow\",\"Principal\":\"*\",\n\"Action\":\"kms:*\",\"Resource\":\"*\"}]}\n";
    write(&path, text.as_bytes());
    let run = check("duplicate-keys", &[&path, Path::new(GOOD)], &[]);
    let f = run.assert_finding("duplicates", "KP151", &path);
    assert_eq!(f["line"], 2);
    run.assert_good_analysed("duplicates");
}

/// Terraform modules nested deeper than the reader follows (32 levels): the plan still loads,
/// the keys of the shallower modules are read, and the cut is an assumption, not silence.
#[test]
fn terraform_modules_nested_too_deep() {
    use keyproof::ingest::{load_texts, LoadOptions};
    let key = |addr: &str| {
        format!(
            r#"{{"address":"{addr}","mode":"managed","type":"aws_kms_key","name":"k","values":{{"description":"k","policy":"{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":{{\"AWS\":\"arn:aws:iam::111122223333:root\"}},\"Action\":\"kms:*\",\"Resource\":\"*\"}}]}}"}}}}"#
        )
    };
    let mut module = String::new();
    for depth in (1..=40).rev() {
        let addr: Vec<String> = (1..=depth).map(|i| format!("module.m{i}")).collect();
        let addr = addr.join(".");
        module = format!(
            r#"{{"address":"{addr}","resources":[{}],"child_modules":[{module}]}}"#,
            key(&format!("{addr}.aws_kms_key.k"))
        );
    }
    let plan = format!(
        r#"{{"format_version":"1.2","terraform_version":"1.9.0","planned_values":{{"root_module":{{"resources":[{}],"child_modules":[{module}]}}}}}}"#,
        key("aws_kms_key.k")
    );
    let world = load_texts(&[("deep-plan.json".into(), plan)], &LoadOptions::default());
    assert!(world.errors.is_empty(), "{:?}", world.errors);
    assert_eq!(world.keys.len(), 33, "the root module's key and those of modules 1–32");
    assert!(
        world.assumptions.iter().any(|a| a.contains("nests modules deeper than `32` levels")),
        "{:?}",
        world.assumptions
    );
}

/// Conditions over more value combinations than the solver tries per principal (1,024): the
/// answer says so in its assumptions instead of silently exploring fewer contexts.
#[test]
fn solver_candidate_cap_is_an_assumption() {
    use keyproof::ingest::{load_texts, LoadOptions};
    use keyproof::solve::{who_can, Query, MAX_CANDIDATES};
    let key = format!("arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab");
    let values: Vec<String> = (0..8).map(|i| format!("v{i}")).collect();
    let condition: serde_json::Map<String, Value> =
        (1..=4).map(|k| (format!("kms:EncryptionContext:k{k}"), Value::from(values.clone()))).collect();
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{OWNER}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{OWNER}:role/app")}, "Action": "kms:Decrypt",
         "Resource": "*", "Condition": {"StringEquals": condition}}]});
    let opts = LoadOptions { key_arn: Some(key.clone()), ..LoadOptions::default() };
    let world = load_texts(&[("key-policy.json".into(), policy.to_string())], &opts);
    let k = world.find_key_index(&key).unwrap();
    let ans = who_can(&world, &Query { key: k, action: "kms:Decrypt".into(), direct_only: true });
    let cap = format!("more than `{MAX_CANDIDATES}` combinations");
    assert!(ans.assumptions.iter().any(|a| a.contains(&cap)), "{:#?}", ans.assumptions);
    assert!(ans.principals.iter().any(|e| e.principal.ends_with(":role/app")), "the role is still found");
}
