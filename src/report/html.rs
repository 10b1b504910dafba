//! The auditor report as one self-contained HTML page: inline CSS, inline SVG, no scripts,
//! no external resources. Content from [`super::audit`].

use std::fmt::Write as _;

use super::audit::{
    kind_text, short_name, witness_text, AssertionAudit, Audit, Graph, KeyAudit, Verdict, REPORT_ACTIONS,
};
use super::finding::Finding;

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1400px}\
table{border-collapse:collapse;margin:.5em 0 1.5em}\
th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top;font-size:.9em}\
th{background:#eee}code{font-family:ui-monospace,monospace;font-size:.9em;word-break:break-all}\
.risk-high,.sev-error{color:#b00020;font-weight:bold}.risk-medium,.sev-warning{color:#b36b00;font-weight:bold}\
.risk-low,.sev-note{color:#555}.yes{background:#fdd}.cond{background:#ffe9b3}\
.cond-text{display:block;font-size:.75em;color:#444}.key{border-top:2px solid #444;margin-top:2em}\
.proved{color:#065f06}.unproved{color:#b00020;font-weight:bold}\
.verdict-holds{color:#065f06;font-weight:bold}.verdict-violated{color:#b00020;font-weight:bold}\
.verdict-unchecked{color:#555;font-weight:bold}\
svg{border:1px solid #ccc;background:#fafafa}pre{white-space:pre-wrap}.who td:first-child{min-width:22em}\
@media print{.key{page-break-before:always}}";

/// Escapes text for HTML element content and attribute values.
#[must_use]
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders the report.
#[must_use]
pub fn render(audit: &Audit<'_>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">");
    let _ = writeln!(o, "<title>keyproof report</title>\n<style>{CSS}</style>\n</head>\n<body>");
    let _ = writeln!(o, "<h1>keyproof report</h1>");
    summary(&mut o, audit);
    matrices(&mut o, audit);
    let _ = writeln!(o, "<section id=\"keys\">\n<h2>Keys</h2>");
    for (i, k) in audit.keys.iter().enumerate() {
        key_section(&mut o, audit, i, k);
    }
    let _ = writeln!(o, "</section>");
    if !audit.other_findings.is_empty() {
        let _ = writeln!(o, "<section id=\"other-findings\">\n<h2>Other findings</h2>");
        findings_table(&mut o, &audit.other_findings);
        let _ = writeln!(o, "</section>");
    }
    let _ = writeln!(o, "</body>\n</html>");
    o
}

fn summary(o: &mut String, a: &Audit<'_>) {
    let s = a.summary;
    let w = a.world;
    let _ = writeln!(o, "<section id=\"summary\">\n<h2>Summary</h2>");
    let _ = writeln!(
        o,
        "<table><tr><th>files</th><th>accounts</th><th>principals</th><th>keys</th><th>grants</th><th>policies</th><th>errors</th><th>warnings</th><th>notes</th><th>suppressed</th></tr>"
    );
    let grants = w.grants_text();
    let _ = writeln!(
        o,
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table>",
        s.files, w.accounts, w.principals, w.keys, esc(&grants), w.policies, s.error, s.warning, s.note, s.suppressed
    );
    let _ = writeln!(o, "<h3 id=\"key-risk\">Keys and their risk</h3>");
    let _ = writeln!(o, "<table><tr><th>key</th><th>aliases</th><th>state</th><th>risk</th><th>findings</th></tr>");
    for (i, k) in a.keys.iter().enumerate() {
        let _ = writeln!(
            o,
            "<tr><td><a href=\"#key-{i}\"><code>{}</code></a></td><td>{}</td><td>{}</td><td class=\"risk-{risk}\">{risk}</td><td>{}</td></tr>",
            esc(&k.arn),
            esc(&k.aliases.join(", ")),
            esc(&k.state),
            k.findings.len() + k.asserts.len(),
            risk = k.risk.as_str()
        );
    }
    let _ = writeln!(o, "</table>");
    let _ = writeln!(o, "<h3 id=\"assertions\">Isolation assertions</h3>");
    if a.assertions.is_empty() {
        let _ = writeln!(o, "<p>No <code>[[assert]]</code> in the configuration.</p>");
    } else {
        let _ =
            writeln!(o, "<table><tr><th>assertion</th><th>key</th><th>action</th><th>only</th><th>verdict</th></tr>");
        for x in &a.assertions {
            let key = match a.keys.iter().position(|k| Some(&k.arn) == x.key_arn.as_ref()) {
                Some(i) => format!("<a href=\"#key-{i}\"><code>{}</code></a>", esc(&x.key)),
                None => format!("<code>{}</code>", esc(&x.key)),
            };
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{key}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(&x.name),
                esc(&x.action),
                only_text(x),
                verdict_text(x)
            );
        }
        let _ = writeln!(o, "</table>");
        // Assertions on keys that are not in the inputs have no key section.
        for x in a.assertions.iter().filter(|x| x.key_arn.is_none()) {
            assertion(o, x);
        }
    }
    let _ = writeln!(o, "<h3 id=\"findings-by-rule\">Findings by rule</h3>");
    let by_rule = a.by_rule();
    if by_rule.is_empty() {
        let _ = writeln!(o, "<p>No findings.</p>");
    } else {
        let _ = writeln!(o, "<table><tr><th>rule</th><th>name</th><th>severity</th><th>count</th></tr>");
        for (rule, name, sev, n) in by_rule {
            let _ = writeln!(
                o,
                "<tr><td>{rule}</td><td>{}</td><td class=\"sev-{sev}\">{sev}</td><td>{n}</td></tr>",
                esc(name),
                sev = sev.as_str()
            );
        }
        let _ = writeln!(o, "</table>");
    }
    let _ = writeln!(
        o,
        "<h3 id=\"inputs\">Inputs</h3>\n<table><tr><th>file</th><th>kind</th><th>bytes</th><th>SHA-256</th></tr>"
    );
    for f in &a.files {
        let _ = writeln!(
            o,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            esc(&f.path),
            esc(&f.kind),
            f.size,
            esc(&f.sha256)
        );
    }
    let _ = writeln!(o, "</table>\n</section>");
}

/// The `only` principals and the required encryption context of an assertion.
fn only_text(x: &AssertionAudit<'_>) -> String {
    let only: Vec<String> = x.only.iter().map(|p| format!("<code>{}</code>", esc(p))).collect();
    let mut t = if only.is_empty() { "nobody".to_string() } else { only.join("<br>") };
    if !x.require_context.is_empty() {
        let _ = write!(t, "<br>with encryption context <code>{}</code>", esc(&x.require_context.join(", ")));
    }
    t
}

/// The verdict, with the number of counter-examples.
fn verdict_text(x: &AssertionAudit<'_>) -> String {
    let mut t = format!("<span class=\"verdict-{}\">{}</span>", x.verdict.class(), x.verdict.as_str());
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

fn matrices(o: &mut String, a: &Audit<'_>) {
    let _ = writeln!(o, "<section id=\"matrix\">\n<h2>Who can use which key</h2>");
    let _ = writeln!(
        o,
        "<p>✔ always; ◐ only under the condition shown (also on hover); ↪ through a role chain or escalation.</p>"
    );
    for (ai, action) in REPORT_ACTIONS.iter().enumerate() {
        let _ = writeln!(o, "<h3><code>{}</code></h3>", esc(action));
        let principals = a.matrix_principals(ai);
        if principals.is_empty() {
            let _ = writeln!(o, "<p>Nobody.</p>");
            continue;
        }
        let _ = write!(o, "<table><tr><th>principal</th>");
        for (ki, k) in a.keys.iter().enumerate() {
            let _ = write!(o, "<th title=\"{}\"><a href=\"#key-{ki}\">{}</a></th>", esc(&k.arn), esc(&k.label));
        }
        let _ = writeln!(o, "</tr>");
        for p in principals {
            let _ = write!(o, "<tr><th title=\"{}\"><code>{}</code></th>", esc(p), esc(&short_name(p)));
            for ki in 0..a.keys.len() {
                match a.cell(ki, ai, p) {
                    None => o.push_str("<td></td>"),
                    Some(c) => {
                        let via = if c.entry.transitive { " ↪" } else { "" };
                        if c.entry.unconditional {
                            let _ = write!(o, "<td class=\"yes\">✔{via}</td>");
                        } else {
                            let t = esc(&c.entry.condition_text);
                            let _ = write!(
                                o,
                                "<td class=\"cond\" title=\"{t}\">◐{via}<span class=\"cond-text\">{t}</span></td>"
                            );
                        }
                    }
                }
            }
            let _ = writeln!(o, "</tr>");
        }
        let _ = writeln!(o, "</table>");
    }
    let _ = writeln!(o, "</section>");
}

fn key_section(o: &mut String, audit: &Audit<'_>, i: usize, k: &KeyAudit<'_>) {
    let _ = writeln!(o, "<section class=\"key\" id=\"key-{i}\">\n<h3><code>{}</code></h3>", esc(&k.arn));
    let _ = writeln!(o, "<table>");
    if let Some(t) = &k.tf_address {
        let _ = writeln!(o, "<tr><th>Terraform address</th><td><code>{}</code></td></tr>", esc(t));
    }
    let aliases = if k.aliases.is_empty() { "none".to_string() } else { k.aliases.join(", ") };
    let _ = writeln!(o, "<tr><th>aliases</th><td>{}</td></tr>", esc(&aliases));
    let _ = writeln!(o, "<tr><th>state</th><td>{}</td></tr>", esc(&k.state));
    let _ = writeln!(o, "<tr><th>rotation</th><td>{}</td></tr>", esc(&k.rotation));
    let _ = writeln!(o, "<tr><th>multi-Region</th><td>{}</td></tr>", esc(&k.multi_region));
    let _ = writeln!(o, "<tr><th>risk</th><td class=\"risk-{0}\">{0}</td></tr>\n</table>", k.risk.as_str());

    let _ = writeln!(o, "<h4>Access graph</h4>");
    o.push_str(&svg(i, &k.graph()));

    for a in &k.answers {
        let _ = writeln!(o, "<h4>Who can <code>{}</code></h4>", esc(&a.action));
        if a.principals.is_empty() {
            let _ = writeln!(o, "<p>Nobody.</p>");
            continue;
        }
        let _ = writeln!(
            o,
            "<table class=\"who\"><tr><th>principal</th><th>kind</th><th>when</th><th>path</th><th>witness</th></tr>"
        );
        for e in &a.principals {
            let when = if e.unconditional { "always".to_string() } else { e.condition_text.clone() };
            let path: Vec<String> = e
                .path
                .iter()
                .map(|h| {
                    format!(
                        "<code>{}</code> → <code>{}</code> via {} ({})",
                        esc(&short_name(&h.from)),
                        esc(&short_name(&h.to)),
                        esc(&h.via),
                        esc(&h.reference)
                    )
                })
                .collect();
            let _ = writeln!(
                o,
                "<tr><td><code>{}</code></td><td>{}{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                esc(&e.principal),
                esc(&kind_text(e)),
                if e.transitive { " (transitive)" } else { "" },
                esc(&when),
                path.join("<br>"),
                esc(&witness_text(e))
            );
        }
        let _ = writeln!(o, "</table>");
    }

    let _ = writeln!(o, "<h4>Findings</h4>");
    if k.findings.is_empty() {
        let _ = writeln!(o, "<p>No findings.</p>");
    } else {
        findings_table(o, &k.findings);
    }
    let _ = writeln!(o, "<h4>Isolation assertions</h4>");
    let mut any = false;
    for x in audit.assertions_of(&k.arn) {
        any = true;
        assertion(o, x);
    }
    if !any {
        let _ = writeln!(o, "<p>No <code>[[assert]]</code> about this key.</p>");
    }
    let _ = writeln!(o, "<h4>Proof transcripts (<code>kms:Decrypt</code>)</h4>");
    if k.proofs.is_empty() {
        let _ = writeln!(o, "<p>No claims to prove.</p>");
    } else {
        let _ = writeln!(o, "<pre>{}</pre>", esc(&crate::sim::prove::text(&k.proofs)));
    }
    let _ = writeln!(o, "</section>");
}

/// One assertion about a key: what it requires, its verdict, and the evidence (who can, or
/// the counter-examples with the request that breaks the assertion and the path).
fn assertion(o: &mut String, x: &AssertionAudit<'_>) {
    let _ = writeln!(
        o,
        "<p><strong>{}</strong>: <code>{}</code> only by {} — {}</p>",
        esc(&x.name),
        esc(&x.action),
        only_text(x),
        verdict_text(x)
    );
    match x.verdict {
        Verdict::Holds => {
            let who: Vec<String> = x.allowed.iter().map(|p| format!("<code>{}</code>", esc(p))).collect();
            let _ = writeln!(
                o,
                "<p>Who can <code>{}</code>, by any path: {}.</p>",
                esc(&x.action),
                if who.is_empty() { "nobody".to_string() } else { who.join(", ") }
            );
        }
        Verdict::Unchecked => {
            for f in &x.findings {
                let _ = writeln!(o, "<p>{} ({})</p>", esc(&f.message), esc(f.help.as_deref().unwrap_or_default()));
            }
        }
        Verdict::Violated if x.findings.is_empty() => {
            let _ = writeln!(
                o,
                "<p>The counter-examples are suppressed by <code>[[ignore]]</code> entries or the baseline.</p>"
            );
        }
        Verdict::Violated => {
            let _ = writeln!(o, "<table><tr><th>counter-example</th><th>request</th><th>path and fix</th></tr>");
            for f in &x.findings {
                let request = f.witness.as_ref().map(|w| serde_json::to_string(w).unwrap_or_default());
                let _ = writeln!(
                    o,
                    "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                    esc(&f.message),
                    esc(&request.unwrap_or_default()),
                    esc(f.help.as_deref().unwrap_or_default())
                );
            }
            let _ = writeln!(o, "</table>");
        }
    }
}

fn findings_table(o: &mut String, findings: &[&Finding]) {
    let _ =
        writeln!(o, "<table><tr><th>severity</th><th>rule</th><th>location</th><th>message</th><th>evidence</th></tr>");
    for f in findings {
        let place = match &f.location {
            Some(l) => format!("{}:{}:{}", l.file, l.line, l.column),
            None => f.resource.clone().unwrap_or_default(),
        };
        let evidence = f.witness.as_ref().map(|w| serde_json::to_string(w).unwrap_or_default()).unwrap_or_default();
        let _ = writeln!(
            o,
            "<tr><td class=\"sev-{0}\">{0}</td><td>{1} {2}</td><td><code>{3}</code></td><td>{4}</td><td><code>{5}</code></td></tr>",
            f.severity.as_str(),
            f.rule,
            esc(f.name),
            esc(&place),
            esc(&f.message),
            esc(&evidence)
        );
    }
    let _ = writeln!(o, "</table>");
}

const COL_W: usize = 330;
const BOX_W: usize = 290;
const BOX_H: usize = 26;
const ROW_H: usize = 40;
const PAD: usize = 10;

/// The access graph as inline SVG: one column per layer, boxes sorted by name, escalation
/// edges dashed. Marker ids carry the key's index so several graphs can share a page.
#[must_use]
pub fn svg(key: usize, g: &Graph) -> String {
    let layers = g.nodes.iter().map(|n| n.layer + 1).max().unwrap_or(1);
    let mut pos = std::collections::BTreeMap::new();
    let mut rows = vec![0usize; layers];
    for n in &g.nodes {
        let row = rows.get(n.layer).copied().unwrap_or(0);
        if let Some(r) = rows.get_mut(n.layer) {
            *r += 1;
        }
        pos.insert(n.id.as_str(), (PAD + n.layer * COL_W, PAD + row * ROW_H));
    }
    let height = PAD * 2 + rows.iter().copied().max().unwrap_or(1).max(1) * ROW_H;
    let width = PAD * 2 + layers * COL_W;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"access graph\">"
    );
    let _ = writeln!(
        o,
        "<defs><marker id=\"arrow-{key}\" markerWidth=\"8\" markerHeight=\"8\" refX=\"8\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#555\"/></marker></defs>"
    );
    for e in &g.edges {
        let (Some(&(fx, fy)), Some(&(tx, ty))) = (pos.get(e.from.as_str()), pos.get(e.to.as_str())) else { continue };
        let dash = if e.escalation { " stroke-dasharray=\"6,4\"" } else { "" };
        let _ = writeln!(
            o,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{tx}\" y2=\"{}\" stroke=\"#555\"{dash} marker-end=\"url(#arrow-{key})\"><title>{}</title></line>",
            fx + BOX_W,
            fy + BOX_H / 2,
            ty + BOX_H / 2,
            esc(&e.via)
        );
    }
    for n in &g.nodes {
        let Some(&(x, y)) = pos.get(n.id.as_str()) else { continue };
        let fill = if n.layer + 1 == layers {
            "#dde8ff"
        } else if n.id.starts_with("grant ") {
            "#e6f4e6"
        } else {
            "#ffffff"
        };
        let mut label = short_name(&n.id);
        if label.chars().count() > 44 {
            label = format!("{}…", label.chars().take(43).collect::<String>());
        }
        let _ = writeln!(
            o,
            "<g><title>{}</title><rect x=\"{x}\" y=\"{y}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"4\" fill=\"{fill}\" stroke=\"#333\"/><text x=\"{}\" y=\"{}\" font-size=\"11\" font-family=\"monospace\">{}</text></g>",
            esc(&n.id),
            x + 6,
            y + 17,
            esc(&label)
        );
    }
    let _ = writeln!(o, "</svg>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::audit::{GraphEdge, GraphNode};

    #[test]
    fn svg_layers_dashes_escalation_and_escapes() {
        let n = |layer: usize, id: &str| GraphNode { layer, id: id.to_string() };
        let e = |from: &str, to: &str, via: &str, escalation: bool| GraphEdge {
            from: from.into(),
            to: to.into(),
            via: via.into(),
            escalation,
        };
        let g = Graph {
            nodes: vec![
                n(0, "arn:aws:iam::111122223333:user/a<b>"),
                n(1, "arn:aws:iam::111122223333:role/Mid"),
                n(2, "arn:aws:kms:us-east-1:111122223333:key/k"),
            ],
            edges: vec![
                e("arn:aws:iam::111122223333:user/a<b>", "arn:aws:iam::111122223333:role/Mid", "sts:AssumeRole", false),
                e(
                    "arn:aws:iam::111122223333:role/Mid",
                    "arn:aws:kms:us-east-1:111122223333:key/k",
                    "kms:PutKeyPolicy",
                    true,
                ),
            ],
        };
        let s = svg(3, &g);
        assert!(s.contains("width=\"1010\""), "three columns");
        assert_eq!(s.matches("stroke-dasharray").count(), 1);
        assert!(s.contains("user/a&lt;b&gt;") && !s.contains("a<b>"));
        assert!(s.contains("id=\"arrow-3\"") && s.contains("url(#arrow-3)"));
        assert_eq!(esc("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
    }
}
