//! `--format markdown`: a summary table and the list of findings (for pull-request comments
//! and job summaries).

use std::fmt::Write as _;

use super::Report;

/// Renders the Markdown report.
#[must_use]
pub fn render(report: &Report<'_>) -> String {
    let s = report.summary;
    let mut out = String::new();
    let _ = writeln!(out, "# keyproof\n");
    let _ = writeln!(out, "| files | keys | principals | errors | warnings | notes | suppressed |");
    let _ = writeln!(out, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} |\n",
        s.files, s.keys, s.principals, s.error, s.warning, s.note, s.suppressed
    );
    if report.findings.is_empty() {
        let _ = writeln!(out, "No findings.");
    } else {
        let _ = writeln!(out, "## Findings\n");
        let _ = writeln!(out, "| severity | rule | location | message |");
        let _ = writeln!(out, "| --- | --- | --- | --- |");
        for f in report.findings {
            let place = match &f.location {
                Some(l) => format!("`{}:{}:{}`", l.file, l.line, l.column),
                None => f.resource.as_ref().map(|r| format!("`{r}`")).unwrap_or_default(),
            };
            let _ = writeln!(
                out,
                "| {} | {} `{}` | {} | {} |",
                f.severity.as_str(),
                f.rule,
                f.name,
                cell(&place),
                cell(&f.message)
            );
        }
    }
    if !report.errors.is_empty() {
        let _ = writeln!(out, "\n## Errors\n");
        for e in report.errors {
            let file = e.file.as_ref().map(|f| format!("`{f}`: ")).unwrap_or_default();
            let _ = writeln!(out, "- {file}{}", e.message);
        }
    }
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
