//! Smoke test over the real-world corpus in `../shared/corpus/` (skipped when absent): `check`
//! never panics, every file is either recognised or listed under `errors` with a reason, and the
//! per-folder counts are printed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test harness")]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

#[test]
fn check_runs_over_the_shared_corpus() {
    let root = Path::new("../shared/corpus");
    if !root.is_dir() {
        println!("skipped: ../shared/corpus is absent");
        return;
    }
    let mut dirs: Vec<_> = std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    let mut total = (0usize, 0usize, 0usize);
    for dir in dirs {
        let files: BTreeSet<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .map(|p| p.display().to_string())
            .collect();
        let out = Command::new(env!("CARGO_BIN_EXE_keyproof"))
            .arg("check")
            .args(files.iter().map(String::as_str))
            .args(["--format", "json", "--fail-on", "never"])
            .arg("--exit-zero")
            .env("NO_COLOR", "1")
            .current_dir(".")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{}: {stderr}", dir.display());
        let code = out.status.code().unwrap_or(-1);
        assert!(code == 0 || code == 2, "{}: exit {code}: {stderr}", dir.display());
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {stderr}", dir.display()));
        let errors: BTreeSet<String> = doc["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["file"].as_str().unwrap_or_default().to_string())
            .collect();
        for e in doc["errors"].as_array().unwrap() {
            assert!(!e["message"].as_str().unwrap_or_default().is_empty(), "an error without a reason: {e}");
            assert_ne!(e["kind"], "internal", "internal error: {e}");
        }
        let recognised = files.iter().filter(|f| !errors.contains(*f)).count();
        let findings = doc["findings"].as_array().unwrap().len();
        println!(
            "{:<28} {:>4} files, {:>4} recognised, {:>4} listed under errors, {:>5} findings",
            dir.file_name().unwrap().to_string_lossy(),
            files.len(),
            recognised,
            errors.len(),
            findings
        );
        total.0 += files.len();
        total.1 += recognised;
        total.2 += findings;
    }
    println!("total: {} files, {} recognised, {} findings", total.0, total.1, total.2);
}
