//! `keyproof report`: a Markdown snapshot of the multi-account snapshot fixture, and a
//! structural check of the HTML (well-formed, expected sections, no external resources).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "test helpers may panic")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FIXTURE: &str = "fixtures/snapshot";

fn keyproof(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keyproof"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run keyproof")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

fn render(format: &str, name: &str) -> String {
    let out = scratch(name);
    let o = keyproof(&["report", FIXTURE, "--format", format, "--output", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(&out).expect("report written")
}

#[test]
fn markdown_snapshot() {
    let md = render("markdown", "report.md");
    insta::assert_snapshot!("report_markdown", md);
}

#[test]
fn report_is_deterministic() {
    assert_eq!(render("html", "a.html"), render("html", "b.html"));
}

const VOID: &[&str] = &["meta", "br", "hr", "img", "input", "link", "col", "wbr"];

/// Checks that every opened tag is closed in order; returns the tag names seen.
fn well_formed(html: &str) -> Vec<String> {
    let mut stack: Vec<String> = Vec::new();
    let mut seen = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("unterminated tag");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().unwrap_or_else(|| panic!("`</{name}>` closes nothing"));
            assert_eq!(open, name.trim(), "`</{name}>` closes `<{open}>`");
            continue;
        }
        let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        assert!(!name.is_empty(), "bad tag `<{tag}>`");
        assert!(!tag.contains('<'), "`<` inside tag `<{tag}>`");
        seen.push(name.clone());
        if tag.ends_with('/') || VOID.contains(&name.as_str()) {
            continue;
        }
        stack.push(name);
    }
    assert!(stack.is_empty(), "unclosed tags: {stack:?}");
    seen
}

#[test]
fn html_is_well_formed_and_self_contained() {
    let html = render("html", "report.html");
    let tags = well_formed(&html);
    for t in ["html", "head", "style", "body", "table", "svg", "rect", "line"] {
        assert!(tags.iter().any(|x| x == t), "no <{t}>");
    }
    assert!(!tags.iter().any(|t| t == "script" || t == "link" || t == "img" || t == "iframe"), "external-capable tag");
    for id in [
        "id=\"summary\"",
        "id=\"inputs\"",
        "id=\"findings-by-rule\"",
        "id=\"key-risk\"",
        "id=\"matrix\"",
        "id=\"keys\"",
    ] {
        assert!(html.contains(id), "missing section {id}");
    }
    for h in
        ["Access graph", "Who can <code>kms:Decrypt</code>", "Isolation assertions", "Proof transcripts", "Findings"]
    {
        assert!(html.contains(h), "missing heading {h}");
    }
    for attr in ["src=", "href=", "url("] {
        for (i, _) in html.match_indices(attr) {
            let after = html[i + attr.len()..].trim_start_matches(['"', '\'']);
            assert!(after.starts_with('#'), "external reference `{}`", &html[i..(i + 60).min(html.len())]);
        }
    }
    assert!(!html.contains("@import"));
    // Every input file is listed with its SHA-256.
    let md = render("markdown", "sha.md");
    assert_eq!(md.matches("\n| `fixtures/snapshot/").count(), html.matches("<tr><td><code>fixtures/snapshot/").count());
    // Conditional cells carry their condition in a title and in visible text.
    assert!(html.contains("class=\"cond\" title=\"not (aws:MultiFactorAuthPresent"));
    assert!(html.contains("<span class=\"cond-text\">not (aws:MultiFactorAuthPresent"));
}

const CHROMIUM: &str = "/usr/bin/chromium";

/// Renders the report in headless Chromium (Debian package `chromium`, installed by `.ci/run`):
/// the page loads without console errors or network requests, its DOM has the expected
/// sections, and a screenshot is taken. Skipped, with a message, when Chromium is absent.
#[test]
fn html_renders_in_headless_chromium() {
    if !Path::new(CHROMIUM).is_file() {
        eprintln!("skipped: `{CHROMIUM}` is absent (install the Debian package `chromium` to run this test)");
        return;
    }
    let html = scratch("chromium.html");
    let _ = render("html", "chromium.html");
    let url = format!("file://{}", html.display());
    let profile = scratch("chromium-profile");
    let common = [
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--window-size=1280,2000",
    ];
    let user_dir = format!("--user-data-dir={}", profile.display());
    let dom =
        Command::new(CHROMIUM).args(common).arg(&user_dir).arg("--dump-dom").arg(&url).output().expect("run chromium");
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    for id in ["id=\"summary\"", "id=\"matrix\"", "id=\"keys\"", "<svg"] {
        assert!(dom_text.contains(id), "rendered DOM lacks {id}");
    }
    let shot = scratch("report.png");
    let _ = std::fs::remove_file(&shot);
    let o = Command::new(CHROMIUM)
        .args(common)
        .arg(&user_dir)
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .expect("run chromium");
    let log = format!("{}{}", String::from_utf8_lossy(&dom.stderr), String::from_utf8_lossy(&o.stderr));
    for bad in ["Uncaught", "CONSOLE(", "ERR_NAME_NOT_RESOLVED", "net::ERR_"] {
        assert!(!log.contains(bad), "console error or external request (`{bad}`):\n{log}");
    }
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.len() > 10_000 && png.starts_with(b"\x89PNG"), "screenshot is not a PNG of a rendered page");
}
