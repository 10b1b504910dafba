//! `keyproof report`: a Markdown snapshot of the multi-account snapshot fixture, a
//! structural check of the HTML (well-formed, expected sections, no external resources), and
//! a headless Chromium render with a screenshot.
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
    render_of(&[FIXTURE], format, name)
}

/// Runs `keyproof report ARGS --format FORMAT --output <scratch>/NAME` and returns the file.
fn render_of(args: &[&str], format: &str, name: &str) -> String {
    let out = scratch(name);
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", format, "--output", out.to_str().unwrap()]);
    let o = keyproof(&all);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(&out).expect("report written")
}

#[test]
fn markdown_snapshot() {
    let md = render("markdown", "report.md");
    insta::assert_snapshot!("report_markdown", md);
}

/// Two accounts: `alice` in 200000000001 assumes `Reader` in 200000000002, which may decrypt
/// the payments key; `KeyAdmin` can rewrite its key policy. Two `[[assert]]`s: the ledger one
/// holds, the payments one fails with `Reader` and (through the chain) `alice`.
const CHAIN: &[&str] = &["fixtures/report/chain", "--config", "fixtures/report/chain.keyproof.toml"];

#[test]
fn chain_markdown_snapshot() {
    let md = render_of(CHAIN, "markdown", "chain.md");
    insta::assert_snapshot!("report_chain_markdown", md);
}

#[test]
fn chain_html_shows_paths_and_verdicts() {
    let html = render_of(CHAIN, "html", "chain.html");
    let tags = well_formed(&html);
    assert!(tags.iter().any(|t| t == "svg"));
    for id in
        ["id=\"summary\"", "id=\"key-risk\"", "id=\"assertions\"", "id=\"inputs\"", "id=\"matrix\"", "id=\"keys\""]
    {
        assert!(html.contains(id), "missing section {id}");
    }
    // The configuration is listed with the inputs, with its SHA-256.
    let toml =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/report/chain.keyproof.toml")).unwrap();
    assert!(html.contains(&format!(
        "<tr><td><code>fixtures/report/chain.keyproof.toml</code></td><td>keyproof-config</td><td>{}</td>",
        toml.len()
    )));
    // The world's size.
    assert!(html.contains("<th>accounts</th><th>principals</th><th>keys</th><th>grants</th><th>policies</th>"));
    // The matrix: alice reaches the payments key through a role chain (columns are aliases).
    assert!(html.contains(">alias/payments</a></th>") && html.contains(">alias/ledger</a></th>"));
    let alice_row =
        html.lines().find(|l| l.contains("<code>200000000001:user/alice</code></th>")).expect("alice's row");
    assert!(alice_row.contains("<td class=\"yes\">✔ ↪</td>"), "{alice_row}");
    // The who-can table gives every hop of the transitive entry.
    let alice = html
        .lines()
        .find(|l| l.starts_with("<tr><td><code>arn:aws:iam::200000000001:user/alice</code></td><td>user (transitive)"))
        .expect("alice's who-can entry");
    assert!(alice
        .contains("<code>200000000001:user/alice</code> → <code>200000000002:role/Reader</code> via sts:AssumeRole"));
    assert!(
        alice.contains(
            "<br><code>200000000002:role/Reader</code> → <code>200000000002:3f6a0c1e-5b2d-4c8e-9a71-2d4e6f8a0b13</code> via identity-policy"
        ),
        "{alice}"
    );
    // The access graph has the assume-role edge and the dashed escalation edge.
    assert!(html.contains("<title>sts:AssumeRole</title>"));
    assert!(html.contains("stroke-dasharray=\"6,4\" marker-end=\"url(#arrow-0)\"><title>kms:PutKeyPolicy</title>"));
    // Verdicts: in the summary and in each key's section.
    assert_eq!(html.matches("<span class=\"verdict-holds\">holds</span>").count(), 2);
    assert_eq!(html.matches("<span class=\"verdict-violated\">does not hold</span> (2 counter-examples)").count(), 2);
    // The failing assertion's counter-examples: the request that breaks it and the path.
    let counter = html
        .lines()
        .find(|l| l.contains("does not hold: `arn:aws:iam::200000000001:user/alice` can `kms:Decrypt`"))
        .expect("alice's counter-example");
    assert!(
        counter.contains("&quot;principal&quot;:&quot;arn:aws:sts::200000000002:assumed-role/Reader/keyproof&quot;")
    );
    assert!(counter.contains(
        "arn:aws:iam::200000000001:user/alice -&gt; arn:aws:iam::200000000002:role/Reader via sts:AssumeRole"
    ));
    assert!(html.contains("does not hold: `arn:aws:iam::200000000002:role/Reader` can `kms:Decrypt`"));
    // The holding assertion says who can, by any path.
    assert!(html.contains("<p>Who can <code>kms:Decrypt</code>, by any path: <code>arn:aws:iam::200000000002:role/LedgerApp</code>, <code>arn:aws:iam::200000000002:root</code>.</p>"));
    // Every claim of the proof transcripts was replayed in the software KMS.
    assert!(html.contains("5 of 5 claims proved") && html.contains("2 of 2 claims proved"));
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

/// Debian's `chromium`, found on `PATH` (`.ci/run` installs the package).
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("chromium")).find(|p| p.is_file())
}

/// What one headless Chromium run saw of a page.
struct Rendered {
    /// The DOM after load (`--dump-dom`).
    dom: String,
    /// Chromium's log (`--enable-logging=stderr`): console messages are `CONSOLE` lines.
    log: String,
    /// URLs the page itself asked the network for (from the net log: requests whose network
    /// isolation key is the `file://` page; the browser's own background requests have
    /// another key).
    page_requests: Vec<String>,
    /// The screenshot (`--screenshot`).
    png: Vec<u8>,
}

/// Loads `page` once in headless Chromium with a fresh profile, nothing resolvable
/// (`--host-resolver-rules`), the net log on, and a 1280×2000 window; dumps the DOM and takes
/// a screenshot. Fails after three minutes.
fn headless(chromium: &Path, page: &Path, name: &str) -> Rendered {
    let dir = scratch(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let (net, shot, out, err) = (dir.join("net.json"), dir.join("shot.png"), dir.join("dom.html"), dir.join("log.txt"));
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--window-size=1280,2000",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--log-net-log={}", net.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out).expect("dom file"))
        .stderr(std::fs::File::create(&err).expect("log file"))
        .spawn()
        .expect("run chromium");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for chromium") {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish `{}` within three minutes", page.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let log = std::fs::read_to_string(&err).unwrap_or_default();
    assert!(status.success(), "chromium failed on `{}` ({status}):\n{log}", page.display());
    let net_text = std::fs::read_to_string(&net).expect("net log written");
    // Chromium may leave the net log's closing brackets out when it exits quickly.
    let net_log: serde_json::Value = serde_json::from_str(&net_text)
        .or_else(|_| serde_json::from_str(&format!("{}]}}", net_text.trim_end().trim_end_matches(','))))
        .expect("net log is JSON");
    let mut page_requests: Vec<String> = net_log["events"]
        .as_array()
        .expect("net log events")
        .iter()
        .filter(|e| e["params"]["network_isolation_key"].as_str().is_some_and(|k| k.contains("file://")))
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_string))
        .collect();
    page_requests.sort();
    page_requests.dedup();
    Rendered {
        dom: std::fs::read_to_string(&out).expect("dom written"),
        log,
        page_requests,
        png: std::fs::read(&shot).expect("screenshot written"),
    }
}

/// The console messages in a Chromium log (`…:INFO:CONSOLE:1] "…", source: …`, or
/// `CONSOLE(1)` in older versions).
fn console_lines(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.contains(":CONSOLE") || l.contains("CONSOLE(")).collect()
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if !png.starts_with(b"\x89PNG\r\n\x1a\n") || png.get(12..16) != Some(b"IHDR") {
        return None;
    }
    let be = |r: std::ops::Range<usize>| png.get(r).and_then(|b| b.try_into().ok()).map(u32::from_be_bytes);
    Some((be(16..20)?, be(20..24)?))
}

/// Renders the report in headless Chromium (Debian package `chromium`, installed by `.ci/run`):
/// the page loads without console messages and without asking the network for anything, its
/// DOM has the expected sections and no external references, and the screenshot is a PNG of
/// the window's size. A control page with a console error and an external image checks first
/// that this Chromium's log and net log show both. Skipped, with a message, when Chromium is
/// absent.
#[test]
fn html_renders_in_headless_chromium() {
    let Some(chromium) = chromium() else {
        eprintln!("skipped: `chromium` is not on PATH (install the Debian package `chromium` to run this test)");
        return;
    };
    let control = scratch("chromium-control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><html><head><title>control</title></head><body><p>control</p>\
         <img src=\"http://keyproof.invalid/control.png\" alt=\"\">\
         <script>console.error(\"keyproof-control\")</script></body></html>",
    )
    .expect("control page");
    let c = headless(&chromium, &control, "chromium-control");
    assert!(
        console_lines(&c.log).iter().any(|l| l.contains("keyproof-control")),
        "this chromium does not log console messages as expected:\n{}",
        c.log
    );
    assert_eq!(c.page_requests, ["http://keyproof.invalid/control.png"], "net log does not show the page's request");

    let _ = render("html", "chromium.html");
    let r = headless(&chromium, &scratch("chromium.html"), "chromium-report");
    assert!(console_lines(&r.log).is_empty(), "console messages: {:?}", console_lines(&r.log));
    assert!(r.page_requests.is_empty(), "the report asked the network for {:?}", r.page_requests);
    for id in [
        "id=\"summary\"",
        "id=\"inputs\"",
        "id=\"findings-by-rule\"",
        "id=\"key-risk\"",
        "id=\"matrix\"",
        "id=\"keys\"",
    ] {
        assert!(r.dom.contains(id), "rendered DOM lacks {id}");
    }
    assert!(r.dom.contains("<svg") && r.dom.contains("Access graph") && r.dom.contains("Proof transcripts"));
    for attr in [" src=", " href="] {
        for (i, _) in r.dom.match_indices(attr) {
            let value = r.dom[i + attr.len()..].trim_start_matches(['"', '\'']);
            assert!(value.starts_with('#'), "external reference in the DOM `{}`", &r.dom[i..(i + 60).min(r.dom.len())]);
        }
    }
    assert_eq!(png_size(&r.png), Some((1280, 2000)), "screenshot is not a 1280×2000 PNG");
    assert!(r.png.len() > 10_000, "screenshot of an empty page ({} bytes)", r.png.len());
}

#[test]
fn assertion_verdicts_unchecked_and_suppressed() {
    let config = scratch("verdicts.toml");
    std::fs::write(
        &config,
        r#"[[assert]]
name = "ghost"
key = "alias/absent"
only = []

[[assert]]
name = "ledger readers carry the tenant"
key = "alias/ledger"
only = ["arn:aws:iam::200000000002:root", "arn:aws:iam::200000000002:role/LedgerApp"]
require_context = { tenant = "acme" }

[[ignore]]
rule = "KP601"
reason = "accepted: the account root decrypts without context"
resource = "arn:aws:kms:us-east-1:200000000002:key/7c1d2e3f-8a9b-4c0d-b1e2-f3a4b5c6d7e8"
"#,
    )
    .expect("config");
    let md = render_of(&["fixtures/report/chain", "--config", config.to_str().unwrap()], "markdown", "verdicts.md");
    assert!(md.contains("| ghost | `alias/absent` | `kms:Decrypt` | nobody | **cannot be checked** |"), "{md}");
    assert!(md.contains("assertion `ghost` cannot be checked: key `alias/absent` is not in the inputs"), "{md}");
    assert!(
        md.contains("with encryption context `tenant=acme` | **does not hold** (1 counter-example, 1 suppressed) |"),
        "{md}"
    );
    assert!(md.contains("The counter-examples are suppressed by `[[ignore]]` entries or the baseline."), "{md}");
}
