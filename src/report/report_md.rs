//! The auditor report as Markdown (`keyproof report --format markdown`): the content of
//! [`super::html`], with the access graph as a list of edges.

use std::fmt::Write as _;

use super::audit::{kind_text, short_name, witness_text, AssertionAudit, Audit, KeyAudit, Verdict, REPORT_ACTIONS};
use super::finding::Finding;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Renders the report.
#[must_use]
pub fn render(a: &Audit<'_>) -> String {
    let mut o = String::new();
    let s = a.summary;
    let w = a.world;
    let _ = writeln!(o, "# keyproof report\n\n## Summary\n");
    let _ = writeln!(
        o,
        "| files | accounts | principals | keys | grants | policies | errors | warnings | notes | suppressed |"
    );
    let _ = writeln!(o, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let grants = w.grants_text();
    let _ = writeln!(
        o,
        "| {} | {} | {} | {} | {grants} | {} | {} | {} | {} | {} |",
        s.files, w.accounts, w.principals, w.keys, w.policies, s.error, s.warning, s.note, s.suppressed
    );
    let _ = writeln!(
        o,
        "\n### Keys and their risk\n\n| key | aliases | state | risk | findings |\n| --- | --- | --- | --- | ---: |"
    );
    for k in &a.keys {
        let _ = writeln!(
            o,
            "| `{}` | {} | {} | {} | {} |",
            k.arn,
            cell(&k.aliases.join(", ")),
            cell(&k.state),
            k.risk.as_str(),
            k.findings.len() + k.asserts.len()
        );
    }
    let _ = writeln!(o, "\n### Isolation assertions\n");
    if a.assertions.is_empty() {
        let _ = writeln!(o, "No `[[assert]]` in the configuration.");
    } else {
        let _ = writeln!(o, "| assertion | key | action | only | verdict |\n| --- | --- | --- | --- | --- |");
        for x in &a.assertions {
            let _ = writeln!(
                o,
                "| {} | `{}` | `{}` | {} | {} |",
                cell(&x.name),
                cell(&x.key),
                x.action,
                cell(&only_text(x)),
                verdict_text(x)
            );
        }
        // Assertions on keys that are not in the inputs have no key section.
        for x in a.assertions.iter().filter(|x| x.key_arn.is_none()) {
            let mut block = String::new();
            assertion(&mut block, x);
            let _ = writeln!(o, "\n{}", block.trim_end());
        }
    }
    let _ = writeln!(o, "\n### Findings by rule\n");
    let by_rule = a.by_rule();
    if by_rule.is_empty() {
        let _ = writeln!(o, "No findings.");
    } else {
        let _ = writeln!(o, "| rule | name | severity | count |\n| --- | --- | --- | ---: |");
        for (rule, name, sev, n) in by_rule {
            let _ = writeln!(o, "| {rule} | `{name}` | {} | {n} |", sev.as_str());
        }
    }
    let _ = writeln!(o, "\n### Inputs\n\n| file | kind | bytes | SHA-256 |\n| --- | --- | ---: | --- |");
    for f in &a.files {
        let _ = writeln!(o, "| `{}` | {} | {} | `{}` |", cell(&f.path), cell(&f.kind), f.size, f.sha256);
    }

    let _ = writeln!(
        o,
        "\n## Who can use which key\n\n✔ always; ◐ only under the condition shown; ↪ through a role chain or escalation.\n"
    );
    for (ai, action) in REPORT_ACTIONS.iter().enumerate() {
        let _ = writeln!(o, "### `{action}`\n");
        let principals = a.matrix_principals(ai);
        if principals.is_empty() {
            let _ = writeln!(o, "Nobody.\n");
            continue;
        }
        let _ = write!(o, "| principal |");
        for k in &a.keys {
            let _ = write!(o, " `{}` |", k.label);
        }
        let _ = write!(o, "\n| --- |");
        for _ in &a.keys {
            o.push_str(" :-: |");
        }
        o.push('\n');
        for p in principals {
            let _ = write!(o, "| `{}` |", short_name(p));
            for ki in 0..a.keys.len() {
                match a.cell(ki, ai, p) {
                    None => o.push_str("  |"),
                    Some(c) => {
                        let via = if c.entry.transitive { " ↪" } else { "" };
                        if c.entry.unconditional {
                            let _ = write!(o, " ✔{via} |");
                        } else {
                            let _ = write!(o, " ◐{via} {} |", cell(&c.entry.condition_text));
                        }
                    }
                }
            }
            o.push('\n');
        }
        o.push('\n');
    }

    let _ = writeln!(o, "## Keys\n");
    for k in &a.keys {
        key_section(&mut o, a, k);
    }
    if !a.other_findings.is_empty() {
        let _ = writeln!(o, "## Other findings\n");
        findings_table(&mut o, &a.other_findings);
    }
    o
}

fn key_section(o: &mut String, audit: &Audit<'_>, k: &KeyAudit<'_>) {
    let _ = writeln!(o, "### `{}`\n", k.arn);
    if let Some(t) = &k.tf_address {
        let _ = writeln!(o, "- Terraform address: `{t}`");
    }
    let aliases = if k.aliases.is_empty() { "none".to_string() } else { k.aliases.join(", ") };
    let _ = writeln!(o, "- aliases: {aliases}\n- state: {}\n- rotation: {}", k.state, k.rotation);
    let _ = writeln!(o, "- multi-Region: {}\n- risk: {}\n", k.multi_region, k.risk.as_str());

    let _ = writeln!(o, "#### Access graph\n");
    let g = k.graph();
    if g.edges.is_empty() {
        let _ = writeln!(o, "No access paths.\n");
    } else {
        for e in &g.edges {
            let dashed = if e.escalation { " (escalation)" } else { "" };
            let _ = writeln!(o, "- `{}` → `{}` via {}{dashed}", short_name(&e.from), short_name(&e.to), e.via);
        }
        o.push('\n');
    }
    for a in &k.answers {
        let _ = writeln!(o, "#### Who can `{}`\n", a.action);
        if a.principals.is_empty() {
            let _ = writeln!(o, "Nobody.\n");
            continue;
        }
        let _ = writeln!(o, "| principal | kind | when | path | witness |\n| --- | --- | --- | --- | --- |");
        for e in &a.principals {
            let when = if e.unconditional { "always".to_string() } else { e.condition_text.clone() };
            let path: Vec<String> = e
                .path
                .iter()
                .map(|h| format!("`{}` → `{}` via {} ({})", short_name(&h.from), short_name(&h.to), h.via, h.reference))
                .collect();
            let _ = writeln!(
                o,
                "| `{}` | {}{} | {} | {} | `{}` |",
                e.principal,
                kind_text(e),
                if e.transitive { " (transitive)" } else { "" },
                cell(&when),
                cell(&path.join("<br>")),
                cell(&witness_text(e))
            );
        }
        o.push('\n');
    }
    let _ = writeln!(o, "#### Findings\n");
    if k.findings.is_empty() {
        let _ = writeln!(o, "No findings.\n");
    } else {
        findings_table(o, &k.findings);
    }
    let _ = writeln!(o, "#### Isolation assertions\n");
    let mut any = false;
    for x in audit.assertions_of(&k.arn) {
        any = true;
        assertion(o, x);
    }
    if !any {
        let _ = writeln!(o, "No `[[assert]]` about this key.\n");
    }
    let _ = writeln!(o, "#### Proof transcripts (`kms:Decrypt`)\n");
    if k.proofs.is_empty() {
        let _ = writeln!(o, "No claims to prove.\n");
    } else {
        let _ = writeln!(o, "```text\n{}```\n", crate::sim::prove::text(&k.proofs));
    }
}

/// The `only` principals and the required encryption context of an assertion.
fn only_text(x: &AssertionAudit<'_>) -> String {
    let only: Vec<String> = x.only.iter().map(|p| format!("`{p}`")).collect();
    let mut t = if only.is_empty() { "nobody".to_string() } else { only.join(", ") };
    if !x.require_context.is_empty() {
        let _ = write!(t, " with encryption context `{}`", x.require_context.join(", "));
    }
    t
}

/// The verdict, with the number of counter-examples.
fn verdict_text(x: &AssertionAudit<'_>) -> String {
    let mut t = format!("**{}**", x.verdict.as_str());
    let shown = x.findings.iter().filter(|f| f.witness.is_some()).count();
    let n = shown + x.suppressed;
    if x.verdict == Verdict::Violated {
        let _ = write!(t, " ({n} counter-example{}", if n == 1 { "" } else { "s" });
        if x.suppressed > 0 {
            let _ = write!(t, ", {} suppressed", x.suppressed);
        }
        t.push(')');
    }
    t
}

/// One assertion about a key: what it requires, its verdict, and the evidence.
fn assertion(o: &mut String, x: &AssertionAudit<'_>) {
    let _ = writeln!(o, "**{}**: `{}` only by {} — {}\n", x.name, x.action, only_text(x), verdict_text(x));
    match x.verdict {
        Verdict::Holds => {
            let who: Vec<String> = x.allowed.iter().map(|p| format!("`{p}`")).collect();
            let who = if who.is_empty() { "nobody".to_string() } else { who.join(", ") };
            let _ = writeln!(o, "Who can `{}`, by any path: {who}.\n", x.action);
        }
        Verdict::Unchecked => {
            for f in &x.findings {
                let _ = writeln!(o, "{} ({})\n", f.message, f.help.as_deref().unwrap_or_default());
            }
        }
        Verdict::Violated if x.findings.is_empty() => {
            let _ = writeln!(o, "The counter-examples are suppressed by `[[ignore]]` entries or the baseline.\n");
        }
        Verdict::Violated => {
            let _ = writeln!(o, "| counter-example | request | path and fix |\n| --- | --- | --- |");
            for f in &x.findings {
                let request = f.witness.as_ref().map(|w| format!("`{}`", serde_json::to_string(w).unwrap_or_default()));
                let _ = writeln!(
                    o,
                    "| {} | {} | {} |",
                    cell(&f.message),
                    cell(&request.unwrap_or_default()),
                    cell(f.help.as_deref().unwrap_or_default())
                );
            }
            o.push('\n');
        }
    }
}

fn findings_table(o: &mut String, findings: &[&Finding]) {
    let _ = writeln!(o, "| severity | rule | location | message | evidence |\n| --- | --- | --- | --- | --- |");
    for f in findings {
        let place = match &f.location {
            Some(l) => format!("{}:{}:{}", l.file, l.line, l.column),
            None => f.resource.clone().unwrap_or_default(),
        };
        let evidence = f.witness.as_ref().map(|w| format!("`{}`", serde_json::to_string(w).unwrap_or_default()));
        let _ = writeln!(
            o,
            "| {} | {} `{}` | `{}` | {} | {} |",
            f.severity.as_str(),
            f.rule,
            f.name,
            cell(&place),
            cell(&f.message),
            cell(&evidence.unwrap_or_default())
        );
    }
    o.push('\n');
}
