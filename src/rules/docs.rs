//! Rule documentation generated from the rule doc comments: `docs/rules/<ID>.md`,
//! `docs/rules/README.md`, and the text of `keyproof rule`.

use std::fmt::Write as _;

use super::rule::{Category, Rule, RuleInfo};

/// A ```` ```json ```` block of a rule's `## Example` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocExample {
    /// The block's text.
    pub text: String,
    /// False for blocks marked ```` ```json no-run ````: shown, but not executed by the
    /// doc-example test (only for inputs that cannot be written inline, such as a 32 KB policy).
    pub run: bool,
}

/// The examples of a rule: the first block under `## Example` (must give exactly one
/// finding of the rule) and the first block after `Use instead:` (must give none).
#[must_use]
pub fn examples(info: &RuleInfo) -> (Option<DocExample>, Option<DocExample>) {
    let Some(section) = info.section("Example") else { return (None, None) };
    let (bad, good) = match section.split_once("Use instead:") {
        Some((b, g)) => (b, Some(g)),
        None => (section.as_str(), None),
    };
    (first_json_block(bad), good.and_then(first_json_block))
}

fn first_json_block(text: &str) -> Option<DocExample> {
    let mut lines = text.lines();
    let opening = lines.find(|l| l.trim_start().starts_with("```json"))?;
    let run = !opening.contains("no-run");
    let body: Vec<&str> = lines.take_while(|l| !l.trim_start().starts_with("```")).collect();
    Some(DocExample { text: body.join("\n") + "\n", run })
}

/// The Markdown page of one rule (`docs/rules/<ID>.md`, `keyproof rule <ID>`).
#[must_use]
pub fn render_page(info: &RuleInfo) -> String {
    let mut s = String::new();
    let _ =
        writeln!(s, "<!-- generated from `{}` by `UPDATE_DOCS=1 cargo test --test meta`; do not edit -->", info.file());
    let _ = writeln!(s, "# {} `{}`\n", info.id, info.name);
    let _ = writeln!(s, "| category | default severity | status | source |");
    let _ = writeln!(s, "| --- | --- | --- | --- |");
    let _ = writeln!(
        s,
        "| {} | {} | {} since {} | [`{}`](../../{}) |\n",
        info.category.as_str(),
        info.severity.as_str(),
        info.status.as_str(),
        info.status.since(),
        info.location,
        info.file()
    );
    for line in info.docs_markdown().lines() {
        let line = if line.trim_start().starts_with("```json") { "```json" } else { line };
        s.push_str(line);
        s.push('\n');
    }
    s
}

/// The index page (`docs/rules/README.md`).
#[must_use]
pub fn render_index(rules: &[&'static dyn Rule]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "<!-- generated from `src/rules/` by `UPDATE_DOCS=1 cargo test --test meta`; do not edit -->");
    let _ = writeln!(s, "# Rules\n");
    let _ =
        writeln!(s, "Select rules with `--select`/`--ignore` by id (`KP160`), id prefix (`KP15`), name or category.\n");
    let _ = writeln!(s, "| id | name | category | severity | status | what it does |");
    let _ = writeln!(s, "| --- | --- | --- | --- | --- | --- |");
    for r in rules {
        let i = r.info();
        let _ = writeln!(
            s,
            "| [{id}]({id}.md) | `{}` | {} | {} | {} | {} |",
            i.name,
            i.category.as_str(),
            i.severity.as_str(),
            i.status.as_str(),
            i.summary().replace('|', "\\|"),
            id = i.id
        );
    }
    let _ = writeln!(s, "\n## Categories\n");
    for c in Category::ALL {
        let _ = writeln!(s, "- `{}`: {}", c.as_str(), c.description());
    }
    let _ = writeln!(s);
    s.push_str(include_str!("../../rules/seed-mapping.md"));
    s
}
