//! Locating resources in the Terraform sources: the `*.tf` files beside the plan (or in
//! `--tf-dir`), and the local modules they call (`source = "./…"`), found by a line scan for
//! `resource "TYPE" "NAME"` block headers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::address::join;
use crate::ingest::MAX_FILE_BYTES;
use crate::source::Span;

/// The resource blocks found, by configuration address (`module.kms.aws_kms_key.this`).
#[derive(Default)]
pub(super) struct TfSources {
    /// (path, text) of every file that holds a block.
    pub files: Vec<(String, Arc<str>)>,
    /// Configuration address → (index in `files`, span of the block header).
    pub blocks: BTreeMap<String, (usize, Span)>,
}

/// Module nesting limit.
const MAX_DEPTH: usize = 16;

/// Scans a directory (and the local modules it calls).
pub(super) fn scan(dir: &Path) -> TfSources {
    let mut out = TfSources::default();
    let mut visited = BTreeSet::new();
    scan_dir(dir, "", 0, &mut visited, &mut out);
    out
}

fn tf_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tf") && p.is_file())
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> Option<String> {
    if std::fs::metadata(path).ok()?.len() > MAX_FILE_BYTES {
        return None;
    }
    String::from_utf8(std::fs::read(path).ok()?).ok()
}

/// The block type and labels of a block header line (`resource "aws_kms_key" "k" {`).
fn header(line: &str) -> Option<(&str, Vec<&str>)> {
    let (kind, rest) = line.split_once(char::is_whitespace)?;
    let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ident(kind) {
        return None;
    }
    let (labels, _) = rest.split_once('{')?;
    let labels: Vec<&str> = labels.split_whitespace().map(|l| l.trim_matches('"')).collect();
    labels.iter().all(|l| ident(l)).then_some((kind, labels))
}

/// The string of a `source = "…"` line.
fn source_value(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("source")?.trim_start().strip_prefix('=')?.trim();
    rest.strip_prefix('"')?.split('"').next()
}

fn scan_dir(dir: &Path, prefix: &str, depth: usize, visited: &mut BTreeSet<PathBuf>, out: &mut TfSources) {
    if depth > MAX_DEPTH || !visited.insert(std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())) {
        return;
    }
    let mut modules: Vec<(String, PathBuf)> = Vec::new();
    for path in tf_files(dir) {
        let Some(text) = read(&path) else { continue };
        let file = out.files.len();
        let mut used = false;
        let mut module: Option<String> = None;
        let mut offset = 0usize;
        for line in text.split_inclusive('\n') {
            let body = line.trim_end();
            let trimmed = body.trim_start();
            let start = offset + (body.len() - trimmed.len());
            offset += line.len();
            match header(trimmed) {
                Some((kind, labels)) if body.len() == trimmed.len() => {
                    module = None;
                    let key = match (kind, labels.as_slice()) {
                        ("resource", [t, n]) => Some(format!("{t}.{n}")),
                        ("data", [t, n]) => Some(format!("data.{t}.{n}")),
                        ("module", [n]) => {
                            module = Some((*n).to_string());
                            None
                        }
                        _ => None,
                    };
                    if let Some(k) = key {
                        let span = Span::new(start, start + trimmed.len());
                        out.blocks.entry(join(prefix, &k)).or_insert((file, span));
                        used = true;
                    }
                }
                _ => {
                    if let (Some(m), Some(src)) = (&module, source_value(trimmed)) {
                        if src.starts_with("./") || src.starts_with("../") {
                            modules.push((m.clone(), dir.join(src)));
                        }
                        module = None;
                    }
                }
            }
        }
        if used {
            out.files.push((path.display().to_string(), Arc::from(text)));
        }
    }
    for (name, path) in modules {
        scan_dir(&path, &join(prefix, &format!("module.{name}")), depth + 1, visited, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert_eq!(header(r#"resource "aws_kms_key" "k" {"#), Some(("resource", vec!["aws_kms_key", "k"])));
        assert_eq!(header("module kms {"), Some(("module", vec!["kms"])));
        assert_eq!(header("  policy = jsonencode({"), None);
        assert_eq!(source_value(r#"source = "./modules/kms""#), Some("./modules/kms"));
        assert_eq!(source_value(r#"source_x = "a""#), None);
    }
}
