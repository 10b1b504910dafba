//! Shared test helpers: load inputs, run selected rules, render.
#![allow(dead_code, reason = "each test crate uses a different subset")]
#![allow(clippy::expect_used, clippy::unwrap_used, reason = "test helpers may panic")]

use std::path::{Path, PathBuf};

use keyproof::cli::check::rule_descriptors;
use keyproof::config::Settings;
use keyproof::ingest::{self, LoadOptions};
use keyproof::report::finding::Finding;
use keyproof::report::{self, Format, Report, ReportError, Summary, TextOptions};
use keyproof::rules::{self, selector, CheckOutput};
use keyproof::world::World;

/// A world and the outcome of running rules over it.
pub struct Checked {
    pub world: World,
    pub out: CheckOutput,
}

impl Checked {
    /// Findings of one rule.
    pub fn of(&self, rule: &str) -> Vec<&Finding> {
        self.out.findings.iter().filter(|f| f.rule == rule).collect()
    }

    /// The report in a format (text without colours).
    pub fn render(&self, format: Format, concise: bool) -> String {
        let mut errors = ReportError::from_world(&self.world);
        errors.extend(self.out.internal_errors.iter().map(ReportError::internal));
        let descriptors = rule_descriptors();
        let r = Report {
            findings: &self.out.findings,
            errors: &errors,
            summary: Summary::new(&self.world, &self.out.findings, self.out.suppression.suppressed.len()),
            sources: &self.world.sources,
            rules: &descriptors,
        };
        report::render(format, &r, TextOptions { concise, color: false })
    }
}

fn enabled(select: &[&str]) -> Vec<&'static dyn rules::Rule> {
    let select: Vec<String> = select.iter().map(|s| (*s).to_string()).collect();
    let select = selector::parse_list(&select, rules::all()).expect("valid selectors");
    selector::resolve(rules::all(), &select, &[])
}

/// Loads files and runs the selected rules (all stable rules when `select` is empty).
pub fn check_paths(paths: &[String], select: &[&str]) -> Checked {
    let world = ingest::load(paths, &LoadOptions::default());
    let out = rules::run(&world, &Settings::default(), &enabled(select), &|_| {});
    Checked { world, out }
}

/// Loads one text as a loose file and runs the selected rules.
pub fn check_text(name: &str, text: &str, select: &[&str]) -> Checked {
    let world = ingest::load_texts(&[(name.to_string(), text.to_string())], &LoadOptions::default());
    let out = rules::run(&world, &Settings::default(), &enabled(select), &|_| {});
    Checked { world, out }
}

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path relative to the crate root, with `/` separators (stable in snapshots).
pub fn relative(path: &Path) -> String {
    let rel = path.strip_prefix(root()).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/")
}

/// `fixtures/rules/<ID>/<kind>/*.json`, sorted, relative to the crate root. A scenario that needs
/// several inputs (an IAM listing and a key snapshot) is a directory, loaded as a whole.
pub fn fixtures(kind: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let base = root().join("fixtures/rules");
    let Ok(rd) = std::fs::read_dir(&base) else { return out };
    for dir in rd.flatten() {
        let id = dir.file_name().to_string_lossy().into_owned();
        let Ok(files) = std::fs::read_dir(dir.path().join(kind)) else { continue };
        for f in files.flatten() {
            if f.path().is_dir() || f.path().extension().is_some_and(|e| e == "json") {
                out.push((id.clone(), relative(&f.path())));
            }
        }
    }
    out.sort();
    out
}
