//! `--format text`: one miette report per finding, pointing at the element in the outer
//! file (for an embedded policy, at the characters inside the JSON string), or one line per
//! finding with `--concise`. Colours only when asked for (the CLI asks when stdout is a
//! terminal).

use std::fmt::{self, Write as _};

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode, SourceSpan};

use super::finding::{Finding, Severity};
use super::{Report, ReportError, TextOptions};

/// Renders the report as text.
#[must_use]
pub fn render(report: &Report<'_>, opts: TextOptions) -> String {
    let mut out = String::new();
    if opts.concise {
        for f in report.findings {
            let _ = writeln!(out, "{}", concise_line(f));
        }
    } else {
        let theme = if opts.color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
        let handler =
            GraphicalReportHandler::new_themed(theme).with_width(120).with_links(false).with_wrap_lines(false);
        for f in report.findings {
            let diag = FindingDiagnostic::new(f, report);
            if handler.render_report(&mut out, &diag).is_err() {
                let _ = writeln!(out, "{}", concise_line(f));
            }
            out.push('\n');
        }
    }
    for e in report.errors {
        let _ = writeln!(out, "{}", error_line(e));
    }
    let _ = writeln!(out, "{}", summary_line(report));
    out
}

/// `file:line:column: severity[RULE] message`.
#[must_use]
pub fn concise_line(f: &Finding) -> String {
    let place = match &f.location {
        Some(l) => format!("{}:{}:{}", l.file, l.line, l.column),
        None => f.resource.clone().unwrap_or_else(|| "-".into()),
    };
    format!("{place}: {}[{}] {}", f.severity.as_str(), f.rule, f.message)
}

fn error_line(e: &ReportError) -> String {
    let kind = match e.kind {
        super::ErrorKind::Input => "error",
        super::ErrorKind::Internal => "internal error",
    };
    match (&e.file, e.line, e.column) {
        (Some(file), Some(l), Some(c)) => format!("{kind}: {file}:{l}:{c}: {}", e.message),
        (Some(file), _, _) => format!("{kind}: {file}: {}", e.message),
        (None, _, _) => format!("{kind}: {}", e.message),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn summary_line(report: &Report<'_>) -> String {
    let s = report.summary;
    let files = plural(s.files, "file", "files");
    let mut line = if s.total() == 0 {
        format!("no findings in {files}")
    } else {
        format!(
            "found {} in {files}: {}, {}, {}",
            plural(s.total(), "finding", "findings"),
            plural(s.error, "error", "errors"),
            plural(s.warning, "warning", "warnings"),
            plural(s.note, "note", "notes"),
        )
    };
    if s.suppressed > 0 {
        let _ = write!(line, " ({} suppressed)", s.suppressed);
    }
    if !report.errors.is_empty() {
        let _ = write!(line, "; {}", plural(report.errors.len(), "input error", "input errors"));
    }
    line
}

/// A finding as a miette diagnostic over its outer file.
struct FindingDiagnostic<'a> {
    finding: &'a Finding,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
}

impl<'a> FindingDiagnostic<'a> {
    fn new(f: &'a Finding, report: &Report<'_>) -> Self {
        let src = f.location.as_ref().and_then(|l| report.sources.get(l.source).map(|s| (l, s)));
        let mut labels = Vec::new();
        let mut elsewhere = Vec::new();
        if let Some((loc, _)) = &src {
            labels.push(LabeledSpan::new_primary_with_span(Some(f.name.to_string()), to_span(loc.span)));
        }
        for label in &f.labels {
            match (&label.location, &f.location) {
                (Some(l), Some(primary)) if l.source == primary.source => {
                    labels.push(LabeledSpan::new_with_span(Some(label.message.clone()), to_span(l.span)));
                }
                (Some(l), _) => elsewhere.push(format!("{} at {}:{}:{}", label.message, l.file, l.line, l.column)),
                (None, _) => elsewhere.push(label.message.clone()),
            }
        }
        let mut help: Vec<String> = f.help.iter().cloned().collect();
        help.extend(elsewhere);
        if f.location.is_none() {
            if let Some(r) = &f.resource {
                help.push(format!("resource: {r}"));
            }
        }
        Self {
            finding: f,
            source: src.map(|(l, s)| NamedSource::new(l.file.clone(), s.text.to_string())),
            labels,
            help: if help.is_empty() { None } else { Some(help.join("\n")) },
        }
    }
}

fn to_span(span: crate::source::Span) -> SourceSpan {
    SourceSpan::from(span.range())
}

impl fmt::Debug for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FindingDiagnostic").field("rule", &self.finding.rule).finish()
    }
}

impl fmt::Display for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl std::error::Error for FindingDiagnostic<'_> {}

impl Diagnostic for FindingDiagnostic<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(format!("{}({})", self.finding.rule, self.finding.name)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display + 'b>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
}
