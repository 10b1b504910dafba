//! `--format github`: GitHub Actions workflow commands, one annotation per finding
//! (`::error file=…,line=…,col=…,title=KP160::message`).

use std::fmt::Write as _;

use super::finding::Severity;
use super::Report;

/// Renders the annotations.
#[must_use]
pub fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    for f in report.findings {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut props = Vec::new();
        if let Some(l) = &f.location {
            props.push(format!("file={}", property(&l.file)));
            props.push(format!("line={}", l.line));
            props.push(format!("col={}", l.column));
            props.push(format!("endLine={}", l.end_line));
            props.push(format!("endColumn={}", l.end_column));
        }
        props.push(format!("title={}", property(&format!("{} {}", f.rule, f.name))));
        let _ = writeln!(out, "::{command} {}::{}", props.join(","), data(&f.message));
    }
    for e in report.errors {
        let file = e.file.as_ref().map(|f| format!("file={},", property(f))).unwrap_or_default();
        let _ = writeln!(out, "::error {file}title=keyproof::{}", data(&e.message));
    }
    out
}

fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(data("50%\nnext"), "50%25%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
