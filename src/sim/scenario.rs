//! The scenario runner of `keyproof sim` (format in `docs/sim.md`): a JSON document with
//! defaults (`account`, `region`, `as`), an optional IAM/organization world (`files`,
//! `documents`, read like any keyproof input) and `steps`, each one API call with its acting
//! principal, Region, arguments, optional `save` and `expect`.

use std::collections::BTreeMap;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::api::{Call, Sim};
use crate::eval::request::condition_value;
use crate::ingest::{load_texts, LoadOptions};
use crate::world::World;

/// A scenario file.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// What it shows.
    #[serde(default)]
    pub description: String,
    /// Default account (of loose policies in `documents`).
    #[serde(default)]
    pub account: Option<String>,
    /// Default Region of the steps.
    #[serde(default = "default_region")]
    pub region: String,
    /// Default acting principal of the steps.
    #[serde(rename = "as", default)]
    pub caller: Option<String>,
    /// Input files (IAM, organization, …), relative to the scenario file.
    #[serde(default)]
    pub files: Vec<String>,
    /// Inline input documents by file name.
    #[serde(default)]
    pub documents: BTreeMap<String, Value>,
    /// The steps.
    pub steps: Vec<Step>,
}

fn default_region() -> String {
    "us-east-1".into()
}

/// One step.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// API operation, or `AdvanceTime` (`Days`/`Hours`/`Minutes`/`Seconds`).
    pub call: String,
    /// Acting principal (default: the scenario's).
    #[serde(rename = "as", default)]
    pub caller: Option<String>,
    /// Region (default: the scenario's).
    #[serde(default)]
    pub region: Option<String>,
    /// Parameters. `{"text": "…"}` as a value of `Plaintext`/`Message` stands for its UTF-8 bytes.
    #[serde(default)]
    pub args: Map<String, Value>,
    /// Extra request-context keys (`kms:ViaService`, `aws:SourceVpce`, …).
    #[serde(default)]
    pub conditions: BTreeMap<String, String>,
    /// Variables to set from the output: name → dotted path (`KeyMetadata.KeyId`, `Plaintext`).
    #[serde(default)]
    pub save: BTreeMap<String, String>,
    /// `"ok"`, an exception name, or `{"outcome": …, "output": {path: value}}`.
    #[serde(default)]
    pub expect: Option<Value>,
    /// Free text shown in the transcript.
    #[serde(default)]
    pub note: Option<String>,
}

/// One step of the transcript.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StepResult {
    /// 1-based.
    pub step: usize,
    /// Operation.
    pub call: String,
    /// Acting principal.
    #[serde(rename = "as")]
    pub caller: String,
    /// Region.
    pub region: String,
    /// `ok` or the exception name.
    pub outcome: String,
    /// The exception message.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Response fields; a plaintext shows as `<redacted N bytes>`.
    pub output: Map<String, Value>,
    /// The expectation held (true when there was none).
    pub passed: bool,
    /// Why the expectation failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The step's note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The transcript of a run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Transcript {
    /// Format version.
    pub version: u32,
    /// The scenario's description.
    pub description: String,
    /// Steps.
    pub steps: Vec<StepResult>,
    /// Every expectation held.
    pub passed: bool,
}

/// Reads a scenario file and its world.
///
/// # Errors
/// A lowercase message when the file cannot be read or parsed.
pub fn load(path: &Path) -> Result<(Scenario, World), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let sc: Scenario =
        serde_json::from_str(&text).map_err(|e| format!("`{}` is not a scenario: {e}", path.display()))?;
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let world = world_of(&sc, dir)?;
    Ok((sc, world))
}

/// The world of a scenario's `files` and `documents`.
///
/// # Errors
/// A file cannot be read.
pub fn world_of(sc: &Scenario, dir: &Path) -> Result<World, String> {
    let mut texts = Vec::new();
    for f in &sc.files {
        let p = dir.join(f);
        let t = std::fs::read_to_string(&p).map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
        texts.push((p.display().to_string(), t));
    }
    for (name, doc) in &sc.documents {
        let t = serde_json::to_string_pretty(doc).map_err(|e| e.to_string())?;
        texts.push((dir.join(name).display().to_string(), t));
    }
    if texts.is_empty() {
        return Ok(World::default());
    }
    let opts = LoadOptions { account: sc.account.clone(), region: sc.region.clone(), ..LoadOptions::default() };
    Ok(load_texts(&texts, &opts))
}

type Vars = BTreeMap<String, Zeroizing<String>>;

fn subst(s: &str, vars: &Vars) -> String {
    let mut out = s.to_string();
    for (k, v) in vars {
        let pat = format!("${{{k}}}");
        if out.contains(&pat) {
            out = out.replace(&pat, v);
        }
    }
    out
}

fn subst_value(v: &Value, vars: &Vars) -> Value {
    match v {
        Value::String(s) => Value::String(subst(s, vars)),
        Value::Array(a) => Value::Array(a.iter().map(|x| subst_value(x, vars)).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), subst_value(x, vars))).collect()),
        other => other.clone(),
    }
}

/// `{"text": "…"}` → base64 of the text.
fn text_value(v: &Value) -> Value {
    match v {
        Value::Object(m) if m.len() == 1 => match m.get("text") {
            Some(Value::String(t)) => Value::String(B64.encode(t.as_bytes())),
            _ => v.clone(),
        },
        _ => v.clone(),
    }
}

fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(v, |cur, part| match (cur, part.parse::<usize>()) {
        (Value::Array(a), Ok(i)) => a.get(i),
        (Value::Object(m), _) => m.get(part),
        _ => None,
    })
}

/// Runs a scenario against a fresh simulator on its world.
#[must_use]
pub fn run(sc: &Scenario, world: World) -> Transcript {
    let mut sim = Sim::new(world);
    let default_caller = sc
        .caller
        .clone()
        .unwrap_or_else(|| format!("arn:aws:iam::{}:root", sc.account.as_deref().unwrap_or("111122223333")));
    let mut vars: Vars = BTreeMap::new();
    let mut steps = Vec::new();
    for (n, step) in sc.steps.iter().enumerate() {
        let caller = subst(step.caller.as_deref().unwrap_or(&default_caller), &vars);
        let region = subst(step.region.as_deref().unwrap_or(&sc.region), &vars);
        let mut args: Map<String, Value> = step.args.iter().map(|(k, v)| (k.clone(), subst_value(v, &vars))).collect();
        for k in ["Plaintext", "Message"] {
            if let Some(v) = args.get(k).map(text_value) {
                args.insert(k.to_string(), v);
            }
        }
        let (result, plaintext, pt_name) = if step.call == "AdvanceTime" {
            let num = |k: &str| args.get(k).and_then(Value::as_i64).unwrap_or(0);
            let secs = num("Days") * 86_400 + num("Hours") * 3600 + num("Minutes") * 60 + num("Seconds");
            sim.advance(secs);
            (Ok(serde_json::json!({ "Now": super::api::iso(sim.now) })), None, "Plaintext")
        } else {
            let call = Call {
                op: step.call.clone(),
                caller: caller.clone(),
                region: region.clone(),
                args,
                conditions: step
                    .conditions
                    .iter()
                    .map(|(k, v)| (k.clone(), condition_value(k, &subst(v, &vars))))
                    .collect(),
                assume_identity_allows: false,
            };
            match sim.call(&call) {
                Ok(out) => {
                    let name = out.plaintext_name();
                    (Ok(Value::Object(out.fields)), out.plaintext, name)
                }
                Err(e) => (Err(e), None, "Plaintext"),
            }
        };
        let (outcome, message, fields) = match &result {
            Ok(v) => ("ok".to_string(), String::new(), v.clone()),
            Err(e) => (e.exception.to_string(), e.message.clone(), Value::Object(Map::new())),
        };
        // The full output (with the plaintext) only for `save` and `expect`, never printed.
        let mut full = fields.clone();
        let secret_b64 = plaintext.as_ref().map(|p| Zeroizing::new(B64.encode(p.expose())));
        for (name, path) in &step.save {
            if path == pt_name {
                if let Some(s) = &secret_b64 {
                    vars.insert(name.clone(), s.clone());
                }
            } else if let Some(v) = lookup(&full, path) {
                let s = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                vars.insert(name.clone(), Zeroizing::new(s));
            }
        }
        let failure = step.expect.as_ref().and_then(|e| {
            let secret = secret_b64.as_ref().map(|s| (pt_name, s.as_str()));
            check_expect(&subst_value(e, &vars), &outcome, &full, secret)
        });
        if let (Value::Object(m), Some(p)) = (&mut full, &plaintext) {
            m.insert(pt_name.into(), Value::String(format!("<redacted {} bytes>", p.len())));
        }
        steps.push(StepResult {
            step: n + 1,
            call: step.call.clone(),
            caller,
            region,
            outcome,
            message,
            output: match full {
                Value::Object(m) => m,
                _ => Map::new(),
            },
            passed: failure.is_none(),
            failure,
            note: step.note.clone(),
        });
    }
    let passed = steps.iter().all(|s| s.passed);
    Transcript { version: 1, description: sc.description.clone(), steps, passed }
}

/// `plaintext`: the name of the response field that holds the plaintext, and its base64.
fn check_expect(expect: &Value, outcome: &str, out: &Value, plaintext: Option<(&str, &str)>) -> Option<String> {
    let (want, fields) = match expect {
        Value::String(s) => (s.clone(), None),
        Value::Object(m) => (
            m.get("outcome").and_then(Value::as_str).unwrap_or("ok").to_string(),
            m.get("output").and_then(Value::as_object),
        ),
        _ => return Some("`expect` must be a string or an object".into()),
    };
    if want != outcome {
        return Some(format!("expected {want}, got {outcome}"));
    }
    for (path, v) in fields.into_iter().flatten() {
        let v = text_value(v);
        let secret_field = plaintext.is_some_and(|(name, _)| name == path) || path == "Plaintext";
        let got = if secret_field {
            plaintext.filter(|(name, _)| name == path).map(|(_, p)| Value::String(p.to_string()))
        } else {
            lookup(out, path).cloned()
        };
        let same = match (&got, &v) {
            (Some(g), Value::String(s)) => g.as_str().map_or_else(|| &g.to_string() == s, |gs| gs == s),
            (Some(g), w) => g == w,
            (None, Value::Null) => true,
            (None, _) => false,
        };
        if !same {
            let shown = if secret_field { "<redacted>".to_string() } else { format!("{got:?}") };
            return Some(format!("`{path}`: expected {v}, got {shown}"));
        }
    }
    None
}

/// The human form of a transcript.
#[must_use]
pub fn text(t: &Transcript) -> String {
    let mut s = String::new();
    if !t.description.is_empty() {
        s.push_str(&format!("scenario: {}\n", t.description));
    }
    for st in &t.steps {
        let mark = if st.passed { "ok " } else { "FAIL" };
        s.push_str(&format!("[{mark}] #{} {} {} as {}: {}\n", st.step, st.region, st.call, st.caller, st.outcome));
        if let Some(n) = &st.note {
            s.push_str(&format!("       note: {n}\n"));
        }
        if !st.message.is_empty() {
            s.push_str(&format!("       message: {}\n", st.message));
        }
        for (k, v) in &st.output {
            if matches!(k.as_str(), "KeyMetadata" | "ReplicaKeyMetadata" | "Policy" | "ReplicaPolicy") {
                continue;
            }
            let shown = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            let shown = if shown.len() > 96 { format!("{}…", shown.get(..96).unwrap_or("")) } else { shown };
            s.push_str(&format!("       {k}: {shown}\n"));
        }
        if let Some(f) = &st.failure {
            s.push_str(&format!("       expectation failed: {f}\n"));
        }
    }
    let failed = t.steps.iter().filter(|x| !x.passed).count();
    s.push_str(&format!("{} steps, {} failed\n", t.steps.len(), failed));
    s
}
