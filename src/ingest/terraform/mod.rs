//! Terraform plans and states (`terraform show -json`; inputs.md §3, semantics.md §10).
//!
//! A plan's managed resources are read from `planned_values.root_module` (child modules
//! recursively), a state's from `values.root_module`. What is unknown until apply comes
//! from `resource_changes[].change.after_unknown`; a value that is unknown is resolved, when
//! it names another resource, through the `configuration` section (an expression's
//! `references`, followed through module variables and outputs), and is otherwise an
//! unknown in the world: a policy becomes `PolicySlot::Unknown` with a `KP158` note.
//! Nothing is concluded from a guessed value.
//!
//! Every world object gets an [`Origin`] with the span of its resource object in the plan
//! and its Terraform address, so that `World::find_key("aws_kms_key.x")` finds it; when the
//! Terraform sources are at hand (`--tf-dir`, or `*.tf` beside the plan) the origin is the
//! `resource "TYPE" "NAME"` block instead. Policies are JSON strings in the plan and are read
//! as embedded sources: a finding inside one points at the plan's own line and column.
//!
//! Decisions: keys without a configured `policy` get the programmatic default key policy
//! (semantics.md §5.1) as an in-memory source; ids known only after apply are
//! `<unknown:ADDRESS>` placeholders (`arn:aws:kms:REGION:ACCOUNT:key/<unknown:ADDRESS>`);
//! the grants of a key of the plan are the plan's `aws_kms_grant`s; pre-1.0 plan formats
//! (`0.x`) are read like 1.x, other major versions are input errors.

mod address;
mod iam;
mod kms;
mod services;
mod sources;

use std::collections::{BTreeMap, BTreeSet};

use self::address::{config_path, join, parent, reference, Reference};
use super::part::{child, DocSpec, Part, DEFAULT_ACCOUNT};
use super::snapshot::partition_of;
use crate::policy::arn::{is_account_id, Arn};
use crate::policy::err::{PolicyDiagnostic, Severity};
use crate::policy::json::{Json, JsonKind};
use crate::policy::model::DocKind;
use crate::world::{Origin, PolicySlot, Tags};

/// Nesting limit for modules and for following references through variables and outputs.
const MAX_DEPTH: usize = 32;

/// Records a Terraform plan or state (the file itself is recorded by the caller).
pub(crate) fn load_terraform(p: &mut Part, tree: &Json) {
    if !format_supported(p, tree) {
        return;
    }
    let mut tf = Tf::read(p, tree);
    tf.identities();
    kms::load(p, &tf);
    iam::load(p, &tf);
    services::load(p, &tf);
    point_at_sources(p, &tf);
    let accounts: BTreeSet<String> = tf.res.iter().map(|r| r.account.clone()).collect();
    for a in accounts.iter().filter(|a| is_account_id(a)) {
        p.w.touch_account(a);
    }
    match (tree.get("complete").and_then(Json::as_bool), tree.get("errored").and_then(Json::as_bool)) {
        (_, Some(true)) => p.assume(format!("`{}` is the plan of a failed `terraform plan` (`errored: true`)", p.path)),
        (Some(false), _) => p.assume(format!(
            "`{}` is an incomplete plan (`complete: false`): resources deferred to a later plan are not in it",
            p.path
        )),
        _ => {}
    }
}

/// The directory of a plan's Terraform sources: `--tf-dir`, else the plan's own directory.
fn sources_dir(p: &Part) -> Option<std::path::PathBuf> {
    if let Some(d) = &p.tf_dir {
        return Some(d.into());
    }
    let path = std::path::Path::new(&p.path);
    if !path.is_file() {
        return None;
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    Some(dir.to_path_buf())
}

/// With the Terraform sources at hand, points the world objects and the `KP158` notes of
/// each resource at its `resource "TYPE" "NAME"` block instead of the plan's JSON (findings
/// inside a policy keep pointing into the plan, where the policy text is).
fn point_at_sources(p: &mut Part, tf: &Tf<'_>) {
    let Some(dir) = sources_dir(p) else { return };
    let found = sources::scan(&dir);
    if found.blocks.is_empty() {
        return;
    }
    let mut ids = BTreeMap::new();
    let mut moved: BTreeMap<crate::source::Span, (crate::source::SourceId, crate::source::Span)> = BTreeMap::new();
    for r in &tf.res {
        let name = r.obj.get("name").and_then(Json::as_str).unwrap_or_default();
        let key = join(&config_path(&r.module), &format!("{}.{name}", r.rtype));
        let Some(&(file, span)) = found.blocks.get(&key) else { continue };
        let Some((path, text)) = found.files.get(file) else { continue };
        let id = *ids.entry(file).or_insert_with(|| p.w.sources.add_file(path.clone(), std::sync::Arc::clone(text)));
        moved.insert(r.obj.span, (id, span));
    }
    let src = p.src;
    let fix = |o: &mut Origin| {
        if o.source == Some(src) {
            if let Some(&(id, span)) = moved.get(&o.span) {
                o.source = Some(id);
                o.span = span;
                o.pointer.clear();
            }
        }
    };
    let w = &mut p.w;
    for k in &mut w.keys {
        fix(&mut k.origin);
        for g in k.grants.iter_mut().flatten() {
            fix(&mut g.origin);
        }
    }
    w.aliases.iter_mut().for_each(|x| fix(&mut x.origin));
    w.roles.iter_mut().for_each(|x| fix(&mut x.origin));
    w.users.iter_mut().for_each(|x| fix(&mut x.origin));
    w.buckets.iter_mut().for_each(|x| fix(&mut x.origin));
    w.tables.iter_mut().for_each(|x| fix(&mut x.origin));
    w.snapshots.iter_mut().for_each(|x| fix(&mut x.origin));
    w.org_policies.values_mut().for_each(|x| fix(&mut x.origin));
    for d in w.diagnostics.iter_mut().filter(|d| d.code == "KP158" && d.source == src) {
        if let Some(&(id, span)) = moved.get(&d.span) {
            d.source = id;
            d.span = span;
            d.pointer.clear();
        }
    }
}

/// Checks `format_version`: major version 1 is read; the pre-1.0 formats `0.x` (Terraform
/// 0.12–1.0), which 1.0 kept unchanged, are read with an assumption; anything else is an
/// input error.
fn format_supported(p: &mut Part, tree: &Json) -> bool {
    let Some(v) = tree.get("format_version") else { return true };
    let Some(s) = v.as_str() else {
        p.error(format!("terraform `format_version` must be a string, not {}", v.kind_name()), Some(v.span));
        return false;
    };
    match s.split('.').next().and_then(|m| m.parse::<u32>().ok()) {
        Some(1) => true,
        Some(0) => {
            let msg = format!("`{}` uses the pre-1.0 Terraform JSON format `{s}`: read as format 1", p.path);
            p.assume(msg);
            true
        }
        _ => {
            p.error(
                format!("unsupported terraform `format_version` `{s}`: only major version 1 is read"),
                Some(v.span),
            );
            false
        }
    }
}

/// One managed resource instance of the plan or state.
pub(super) struct Res<'t> {
    /// Absolute instance address (`module.kms.aws_kms_key.this[0]`).
    pub address: String,
    /// The module instance it sits in (`""` for the root module).
    pub module: String,
    /// Resource type.
    pub rtype: String,
    /// The resource object.
    pub obj: &'t Json,
    /// JSON pointer of the resource object.
    pub ptr: String,
    /// `values`.
    pub values: Option<&'t Json>,
    /// JSON pointer of `values`.
    pub vptr: String,
    /// `change.after_unknown` (plans only).
    pub unknown: Option<&'t Json>,
    /// The resource block in `configuration` (plans only).
    pub config: Option<&'t Json>,
    /// Region (resource `region`, ARN, provider configuration, or `--region`).
    pub region: String,
    /// Account (resource ARN, the plan's account).
    pub account: String,
}

impl Res<'_> {
    /// The partition of the resource's Region.
    pub fn partition(&self) -> &'static str {
        partition_of(&self.region)
    }

    /// A placeholder for an identifier unknown until apply: `<unknown:ADDRESS>`.
    pub fn placeholder(&self) -> String {
        format!("<unknown:{}>", self.address)
    }

    /// The value at a path of `values` (array elements by index).
    pub fn value(&self, path: &[&str]) -> Option<&Json> {
        at(self.values?, path)
    }

    /// JSON pointer of a path of `values`.
    pub fn pointer(&self, path: &[&str]) -> String {
        path.iter().fold(self.vptr.clone(), |acc, s| child(&acc, s))
    }

    /// True when `after_unknown` marks the path (or one of its parents) unknown.
    pub fn is_unknown(&self, path: &[&str]) -> bool {
        let Some(mut cur) = self.unknown else { return false };
        for seg in path {
            if cur.as_bool() == Some(true) {
                return true;
            }
            match step(cur, seg) {
                Some(next) => cur = next,
                None => return false,
            }
        }
        cur.as_bool() == Some(true)
    }

    /// The configuration expression at a path (`expressions.<attr>`, blocks by index).
    pub fn expr(&self, path: &[&str]) -> Option<&Json> {
        let e = at(self.config?.get("expressions")?, path)?;
        e.is_object().then_some(e)
    }

    /// Whether the configuration sets the attribute; `None` when the plan has no
    /// configuration for the resource. An explicit `null` counts as not set.
    pub fn configured(&self, path: &[&str]) -> Option<bool> {
        self.config?;
        Some(self.expr(path).is_some_and(|e| {
            let null_constant = e.get("constant_value").is_some_and(|c| matches!(c.kind, JsonKind::Null))
                && e.get("references").is_none();
            !null_constant
        }))
    }

    /// A known scalar value (string, number or boolean) as text; empty strings count as unset.
    pub fn known(&self, path: &[&str]) -> Option<String> {
        self.value(path).and_then(Json::scalar_text).filter(|s| !s.is_empty())
    }

    /// A known boolean.
    pub fn known_bool(&self, path: &[&str]) -> Option<bool> {
        self.value(path).and_then(Json::as_bool)
    }

    /// A known non-negative integer.
    pub fn known_u32(&self, path: &[&str]) -> Option<u32> {
        match &self.value(path)?.kind {
            JsonKind::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    /// Known strings of a list; `true` when some of it is unknown.
    pub fn known_list(&self, path: &[&str]) -> (Vec<String>, bool) {
        let mut unknown = self.is_unknown(path);
        let mut out = Vec::new();
        if let Some(items) = self.value(path).and_then(Json::as_array) {
            for (i, it) in items.iter().enumerate() {
                match it.scalar_text() {
                    Some(s) => out.push(s),
                    None => unknown |= self.is_unknown(&[path, &[i.to_string().as_str()]].concat()),
                }
            }
        }
        (out, unknown)
    }

    /// The `references` of the expression at a path, with the bare forms that only repeat
    /// a longer one left out (`aws_kms_key.orders` after `aws_kms_key.orders.arn`).
    pub fn references(&self, path: &[&str]) -> Vec<String> {
        let all: Vec<&str> = self
            .expr(path)
            .and_then(|e| e.get("references"))
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        let mut out: Vec<String> = Vec::new();
        for r in all {
            let repeats = out.iter().any(|o| o.starts_with(r) && o[r.len()..].starts_with(['.', '[']));
            if !repeats {
                out.push(r.to_string());
            }
        }
        out
    }

    /// ` (it depends on `a`, `b`)` for messages, or nothing.
    pub fn depends(&self, path: &[&str]) -> String {
        let refs = self.references(path);
        if refs.is_empty() {
            return String::new();
        }
        let list: Vec<String> = refs.iter().map(|r| format!("`{r}`")).collect();
        format!(" (it depends on {})", list.join(", "))
    }
}

/// One step into an object (by key) or an array (by index).
fn step<'a>(v: &'a Json, seg: &str) -> Option<&'a Json> {
    match &v.kind {
        JsonKind::Object(_) => v.get(seg),
        JsonKind::Array(a) => a.get(seg.parse::<usize>().ok()?),
        _ => None,
    }
}

/// The value at a path; `null` reads as absent.
pub(super) fn at<'a>(v: &'a Json, path: &[&str]) -> Option<&'a Json> {
    let mut cur = v;
    for seg in path {
        cur = step(cur, seg)?;
    }
    (!matches!(cur.kind, JsonKind::Null)).then_some(cur)
}

/// What a resource is known as, for references to it.
#[derive(Clone, Debug, Default)]
pub(super) struct Ident {
    /// ARN (known, synthesized, or a placeholder).
    pub arn: Option<String>,
    /// Name (IAM name, bucket name, alias name, table name).
    pub name: Option<String>,
    /// Id (key id, policy id, snapshot id…).
    pub id: Option<String>,
}

/// An attribute's value, resolved where it names another resource of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Val {
    /// The value is in the plan.
    Known(String),
    /// The value is unknown until apply but is this attribute (second) of this resource
    /// (first) of the plan.
    Ref(String, String),
    /// Unknown until apply, and not resolvable.
    Unknown,
    /// Not set.
    Unset,
}

/// Which identifier a reference to a whole resource stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Field {
    /// The ARN.
    Arn,
    /// The name.
    Name,
    /// The id.
    Id,
}

/// A policy attribute.
pub(super) enum Doc<'t> {
    /// The document (a JSON string) and its pointer.
    Value(&'t Json, String),
    /// Set, but unknown until apply.
    Unknown,
    /// Not set.
    Unset,
    /// Unknown until apply, and the plan has no configuration to tell whether it was set.
    Undecided,
}

/// The plan or state, indexed.
pub(super) struct Tf<'t> {
    /// Managed resource instances, in document order.
    pub res: Vec<Res<'t>>,
    index: BTreeMap<String, usize>,
    /// Module calls by the configuration path of the module they create.
    calls: BTreeMap<String, &'t Json>,
    /// What each resource is known as.
    pub ident: BTreeMap<String, Ident>,
}

struct Raw<'t> {
    obj: &'t Json,
    ptr: String,
    module: String,
}

/// Collects the resources of a module and its children; true when modules nested deeper
/// than [`MAX_DEPTH`] were left out.
fn walk_module<'t>(m: &'t Json, ptr: &str, module: &str, depth: usize, out: &mut Vec<Raw<'t>>) -> bool {
    if depth > MAX_DEPTH {
        return true;
    }
    let mut cut = false;
    if let Some(rs) = m.get("resources").and_then(Json::as_array) {
        for (i, r) in rs.iter().enumerate() {
            if r.is_object() {
                out.push(Raw { obj: r, ptr: format!("{ptr}/resources/{i}"), module: module.to_string() });
            }
        }
    }
    if let Some(cs) = m.get("child_modules").and_then(Json::as_array) {
        for (i, c) in cs.iter().enumerate() {
            let addr = c.get("address").and_then(Json::as_str).unwrap_or(module);
            cut |= walk_module(c, &format!("{ptr}/child_modules/{i}"), addr, depth + 1, out);
        }
    }
    cut
}

fn walk_config<'t>(
    m: &'t Json,
    prefix: &str,
    depth: usize,
    configs: &mut BTreeMap<String, &'t Json>,
    calls: &mut BTreeMap<String, &'t Json>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    for r in m.get("resources").and_then(Json::as_array).unwrap_or(&[]) {
        if let Some(a) = r.get("address").and_then(Json::as_str) {
            configs.insert(join(prefix, a), r);
        }
    }
    if let Some(mc) = m.get("module_calls") {
        for call in mc.members() {
            let path = join(prefix, &format!("module.{}", call.key));
            calls.insert(path.clone(), &call.value);
            if let Some(sub) = call.value.get("module") {
                walk_config(sub, &path, depth + 1, configs, calls);
            }
        }
    }
}

/// All resource objects of a values representation (`planned_values`, `values`,
/// `prior_state.values`).
fn resources_of(values: Option<&Json>) -> Vec<&Json> {
    let mut raw = Vec::new();
    if let Some(root) = values.and_then(|v| v.get("root_module")) {
        let _ = walk_module(root, "", "", 0, &mut raw);
    }
    raw.into_iter().map(|r| r.obj).collect()
}

impl<'t> Tf<'t> {
    /// Indexes the document and settles the account and Region of every resource.
    fn read(p: &mut Part, tree: &'t Json) -> Tf<'t> {
        let (root, root_ptr) = match tree.get("planned_values") {
            Some(pv) => (pv.get("root_module"), "/planned_values/root_module"),
            None => (tree.get("values").and_then(|v| v.get("root_module")), "/values/root_module"),
        };
        let mut raw = Vec::new();
        if root.is_some_and(|root| walk_module(root, root_ptr, "", 0, &mut raw)) {
            p.assume(format!(
                "`{}` nests modules deeper than `{MAX_DEPTH}` levels: the resources of the deeper modules were not read",
                p.path
            ));
        }

        let mut unknowns: BTreeMap<&str, &Json> = BTreeMap::new();
        for rc in tree.get("resource_changes").and_then(Json::as_array).unwrap_or(&[]) {
            if rc.get("deposed").is_some() {
                continue;
            }
            let (Some(a), Some(u)) =
                (rc.get("address").and_then(Json::as_str), rc.get("change").and_then(|c| c.get("after_unknown")))
            else {
                continue;
            };
            unknowns.insert(a, u);
        }

        let configuration = tree.get("configuration");
        let (mut configs, mut calls) = (BTreeMap::new(), BTreeMap::new());
        if let Some(root) = configuration.and_then(|c| c.get("root_module")) {
            walk_config(root, "", 0, &mut configs, &mut calls);
        }
        let providers = configuration.and_then(|c| c.get("provider_config"));
        let variables = tree.get("variables");

        let account = plan_account(p, tree, &raw);
        let mut region_notes: BTreeSet<String> = BTreeSet::new();
        let mut res = Vec::new();
        for r in raw {
            let managed = r.obj.get("mode").and_then(Json::as_str).is_none_or(|m| m == "managed");
            let (Some(rtype), Some(name)) =
                (r.obj.get("type").and_then(Json::as_str), r.obj.get("name").and_then(Json::as_str))
            else {
                continue;
            };
            if !managed {
                continue;
            }
            let address = match r.obj.get("address").and_then(Json::as_str) {
                Some(a) => a.to_string(),
                None => join(&r.module, &format!("{rtype}.{name}")),
            };
            let module = if r.module.is_empty() { address::module_of(&address) } else { r.module.clone() };
            let config = configs.get(&join(&config_path(&module), &format!("{rtype}.{name}"))).copied();
            let values = r.obj.get("values").filter(|v| v.is_object());
            let own_arn = values.and_then(|v| v.get("arn")).and_then(Json::as_str).and_then(Arn::parse);
            let region = values
                .and_then(|v| v.get("region"))
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .or_else(|| own_arn.as_ref().map(|a| a.region.to_string()).filter(|s| !s.is_empty()))
                .or_else(|| {
                    let key = config?.get("provider_config_key")?.as_str()?;
                    provider_region(providers?, variables, key)
                })
                .unwrap_or_else(|| {
                    let key = config
                        .and_then(|c| c.get("provider_config_key"))
                        .and_then(Json::as_str)
                        .unwrap_or("aws")
                        .to_string();
                    if rtype.starts_with("aws_") && region_notes.insert(key.clone()) {
                        p.assume(format!(
                            "the Region of provider `{key}` is not in `{}`: assumed `{}` (give it with `--region`)",
                            p.path, p.region
                        ));
                    }
                    p.region.clone()
                });
            let account = own_arn
                .as_ref()
                .map(|a| a.account.to_string())
                .filter(|a| is_account_id(a))
                .unwrap_or_else(|| account.clone());
            let vptr = format!("{}/values", r.ptr);
            res.push(Res {
                unknown: unknowns.get(address.as_str()).copied(),
                address,
                module,
                rtype: rtype.to_string(),
                obj: r.obj,
                ptr: r.ptr,
                values,
                vptr,
                config,
                region,
                account,
            });
        }
        let index = res.iter().enumerate().map(|(i, r)| (r.address.clone(), i)).collect();
        Tf { res, index, calls, ident: BTreeMap::new() }
    }

    /// Resources of these types.
    pub fn of<'s>(&'s self, types: &'s [&str]) -> impl Iterator<Item = &'s Res<'t>> + 's {
        self.res.iter().filter(move |r| types.contains(&r.rtype.as_str()))
    }

    /// The resource at an address.
    pub fn get(&self, address: &str) -> Option<&Res<'t>> {
        self.index.get(address).and_then(|i| self.res.get(*i))
    }

    /// What the resource at an address is known as.
    pub fn ident(&self, address: &str) -> Ident {
        self.ident.get(address).cloned().unwrap_or_default()
    }

    /// The resource instance a reference written in `module` names, if it is in the plan,
    /// with the attribute path the reference reads (empty for the whole resource).
    fn ref_target(&self, module: &str, r: &str, depth: usize) -> Option<(String, String)> {
        if depth > MAX_DEPTH {
            return None;
        }
        match reference(r) {
            Reference::Resource { address: rel, attr } => {
                let base = join(module, &rel);
                if self.index.contains_key(&base) {
                    return Some((base, attr));
                }
                if rel.ends_with(']') {
                    return None;
                }
                let prefix = format!("{base}[");
                let mut it = self.index.keys().filter(|a| a.starts_with(&prefix));
                match (it.next(), it.next()) {
                    (Some(one), None) => Some((one.clone(), attr)),
                    _ => None,
                }
            }
            Reference::Variable(name) => {
                let up = parent(module)?;
                let call = self.calls.get(&config_path(module))?;
                let e = call.get("expressions")?.get(&name)?;
                self.first_target(&up, e, depth + 1)
            }
            Reference::ModuleOutput { call, output } => {
                let child_path = join(&config_path(module), &format!("module.{}", address::bare(&call)));
                let c = self.calls.get(&child_path)?;
                let e = c.get("module")?.get("outputs")?.get(&output)?.get("expression")?;
                let instance = if call.ends_with(']') {
                    join(module, &format!("module.{call}"))
                } else {
                    self.only_instance(&join(module, &format!("module.{call}")))?
                };
                self.first_target(&instance, e, depth + 1)
            }
            Reference::Data(_) | Reference::Other => None,
        }
    }

    /// The one instance of a module call (`module.kms` or `module.kms[0]`), if there is one.
    fn only_instance(&self, base: &str) -> Option<String> {
        let mut found: BTreeSet<String> = BTreeSet::new();
        for r in &self.res {
            let m = &r.module;
            if m == base || m.starts_with(&format!("{base}.")) {
                found.insert(base.to_string());
            } else if let Some(rest) = m.strip_prefix(&format!("{base}[")) {
                let key = rest.split_once(']').map_or(rest, |(k, _)| k);
                found.insert(format!("{base}[{key}]"));
            }
        }
        let mut it = found.into_iter();
        match (it.next(), it.next()) {
            (Some(one), None) => Some(one),
            (None, _) => Some(base.to_string()),
            _ => None,
        }
    }

    fn first_target(&self, module: &str, expr: &Json, depth: usize) -> Option<(String, String)> {
        expr.get("references")?
            .as_array()?
            .iter()
            .filter_map(Json::as_str)
            .find_map(|r| self.ref_target(module, r, depth))
    }

    /// The resource of the plan an attribute's expression names, and the attribute it reads.
    pub fn target(&self, r: &Res<'_>, path: &[&str]) -> Option<(String, String)> {
        self.first_target(&r.module, r.expr(path)?, 0)
    }

    /// Every resource of the plan an attribute's expression names (for lists).
    pub fn targets(&self, r: &Res<'_>, path: &[&str]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for reference in r.references(path) {
            if let Some(t) = self.ref_target(&r.module, &reference, 0) {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
        out
    }

    /// An attribute's value: known, a reference to a resource of the plan, unknown, or unset.
    pub fn val(&self, r: &Res<'_>, path: &[&str]) -> Val {
        if let Some(s) = r.known(path) {
            return Val::Known(s);
        }
        let unknown = r.is_unknown(path);
        if unknown || r.configured(path) == Some(true) {
            if let Some((t, attr)) = self.target(r, path) {
                return Val::Ref(t, attr);
            }
            let constant = r.expr(path).and_then(|e| e.get("constant_value")).and_then(Json::scalar_text);
            if let Some(c) = constant.filter(|c| !c.is_empty()) {
                return Val::Known(c);
            }
            return Val::Unknown;
        }
        Val::Unset
    }

    /// What a reference to `attr` of the resource at `address` reads, from its identity;
    /// `default` answers for a reference to the whole resource.
    pub fn field(&self, address: &str, attr: &str, default: Field) -> Option<String> {
        let id = self.ident(address);
        let f = match attr {
            "" => default,
            "arn" => Field::Arn,
            "name" | "bucket" => Field::Name,
            "id" => Field::Id,
            _ => return None,
        };
        match f {
            Field::Arn => id.arn,
            Field::Name => id.name,
            Field::Id => id.id,
        }
    }

    fn resolved(&self, v: Val, default: Field) -> Val {
        match v {
            Val::Ref(t, attr) => self.field(&t, &attr, default).map_or(Val::Unknown, Val::Known),
            v => v,
        }
    }

    /// An attribute that names an IAM principal, role, policy or other resource by ARN.
    pub fn arn_val(&self, r: &Res<'_>, path: &[&str]) -> Val {
        self.resolved(self.val(r, path), Field::Arn)
    }

    /// An attribute that names a resource by name (`role`, `user`, `group`, `bucket`).
    pub fn name_val(&self, r: &Res<'_>, path: &[&str]) -> Val {
        self.resolved(self.val(r, path), Field::Name)
    }

    /// An attribute that names a resource by id (`policy_id`, `snapshot_id`, `target_id`).
    pub fn id_val(&self, r: &Res<'_>, path: &[&str]) -> Val {
        self.resolved(self.val(r, path), Field::Id)
    }

    /// A list attribute of names, ARNs or ids: the known elements, and those of the resources
    /// its expression names when some are unknown. `true` when some stay unknown.
    pub fn list_val(&self, r: &Res<'_>, path: &[&str], default: Field) -> (Vec<String>, bool) {
        let (mut out, unknown) = r.known_list(path);
        if !unknown {
            return (out, false);
        }
        let mut resolved_any = false;
        for (t, attr) in self.targets(r, path) {
            if let Some(v) = self.field(&t, &attr, default) {
                resolved_any = true;
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        (out, !resolved_any)
    }

    /// A policy attribute (semantics.md §10.2: unknown vs unset).
    pub fn doc(&self, r: &Res<'t>, path: &[&str]) -> Doc<'t> {
        if let Some(v) = r.values.and_then(|vs| at(vs, path)) {
            return Doc::Value(v, r.pointer(path));
        }
        match (r.is_unknown(path), r.configured(path)) {
            (_, Some(true)) => Doc::Unknown,
            (true, None) => Doc::Undecided,
            _ => Doc::Unset,
        }
    }

    /// Works out what every resource is known as (ARNs, names, ids), synthesizing ARNs from
    /// the account, path and name, and using `<unknown:ADDRESS>` placeholders for ids that
    /// only exist after apply.
    fn identities(&mut self) {
        // Replica keys take the id of their primary: primaries first.
        let replica = |t: &str| t.starts_with("aws_kms_replica");
        let order: Vec<usize> = (0..self.res.len())
            .filter(|i| !replica(&self.res[*i].rtype))
            .chain((0..self.res.len()).filter(|i| replica(&self.res[*i].rtype)))
            .collect();
        for i in order {
            let Some(r) = self.res.get(i) else { continue };
            let id = self.identity(r);
            let addr = r.address.clone();
            self.ident.insert(addr, id);
        }
    }

    fn identity(&self, r: &Res<'_>) -> Ident {
        let arn = r.known(&["arn"]);
        let part = r.partition();
        let (acct, region) = (&r.account, &r.region);
        let iam = |kind: &str, name_key: &str| {
            let name = r.known(&[name_key]).unwrap_or_else(|| r.placeholder());
            let path = r.known(&["path"]).unwrap_or_else(|| "/".into());
            let arn = arn.clone().unwrap_or_else(|| format!("arn:{part}:iam::{acct}:{kind}{path}{name}"));
            Ident { arn: Some(arn), id: Some(name.clone()), name: Some(name) }
        };
        match r.rtype.as_str() {
            "aws_kms_key" | "aws_kms_external_key" => {
                let id = r.known(&["key_id"]).unwrap_or_else(|| r.placeholder());
                let arn = arn.unwrap_or_else(|| super::snapshot::key_arn(region, acct, &id));
                let id = super::part::split_key_arn(&arn).2;
                Ident { arn: Some(arn), name: None, id: Some(id) }
            }
            "aws_kms_replica_key" | "aws_kms_replica_external_key" => {
                let primary = match self.val(r, &["primary_key_arn"]) {
                    Val::Known(a) => Some(super::part::split_key_arn(&a).2),
                    Val::Ref(t, _) => self.ident(&t).id,
                    Val::Unknown | Val::Unset => None,
                };
                let id = r.known(&["key_id"]).or(primary).unwrap_or_else(|| r.placeholder());
                let arn = arn.unwrap_or_else(|| super::snapshot::key_arn(region, acct, &id));
                let id = super::part::split_key_arn(&arn).2;
                Ident { arn: Some(arn), name: None, id: Some(id) }
            }
            "aws_kms_alias" => {
                let name = r.known(&["name"]).unwrap_or_else(|| format!("alias/{}", r.placeholder()));
                let arn = arn.unwrap_or_else(|| format!("arn:{part}:kms:{region}:{acct}:{name}"));
                Ident { arn: Some(arn), id: Some(name.clone()), name: Some(name) }
            }
            "aws_iam_role" => iam("role", "name"),
            "aws_iam_user" => iam("user", "name"),
            "aws_iam_group" => iam("group", "name"),
            "aws_iam_policy" => {
                let mut id = iam("policy", "name");
                id.id.clone_from(&id.arn);
                id
            }
            "aws_s3_bucket" => {
                let name = r.known(&["bucket"]).unwrap_or_else(|| r.placeholder());
                let arn = arn.unwrap_or_else(|| format!("arn:{part}:s3:::{name}"));
                Ident { arn: Some(arn), id: Some(name.clone()), name: Some(name) }
            }
            "aws_dynamodb_table" => {
                let name = r.known(&["name"]).unwrap_or_else(|| r.placeholder());
                let arn = arn.unwrap_or_else(|| format!("arn:{part}:dynamodb:{region}:{acct}:table/{name}"));
                Ident { arn: Some(arn), id: Some(name.clone()), name: Some(name) }
            }
            "aws_organizations_policy" | "aws_ebs_snapshot" | "aws_ebs_snapshot_copy" | "aws_ebs_volume" => {
                let id = r.known(&["id"]).unwrap_or_else(|| r.placeholder());
                Ident { arn, name: r.known(&["name"]), id: Some(id) }
            }
            _ => Ident { arn, name: r.known(&["name"]), id: r.known(&["id"]) },
        }
    }
}

/// The Region of a provider configuration: its `region` constant, or a root-module variable
/// it names; a module's provider key that is not configured falls back to the parent's.
fn provider_region(providers: &Json, variables: Option<&Json>, key: &str) -> Option<String> {
    let mut key = key.to_string();
    for _ in 0..MAX_DEPTH {
        if let Some(pc) = providers.get(&key) {
            let region = pc.get("expressions").and_then(|e| e.get("region"));
            if let Some(c) = region.and_then(|r| r.get("constant_value")).and_then(Json::as_str) {
                return Some(c.to_string());
            }
            let in_root = pc.get("module_address").and_then(Json::as_str).is_none_or(str::is_empty);
            let var = region
                .and_then(|r| r.get("references"))
                .and_then(Json::as_array)
                .and_then(|a| a.iter().filter_map(Json::as_str).find_map(|s| s.strip_prefix("var.")));
            if let (true, Some(v)) = (in_root, var) {
                let name = address::bare(v.split('.').next().unwrap_or(v));
                if let Some(val) = variables.and_then(|vs| vs.get(name)).and_then(|x| x.get("value")) {
                    return val.as_str().map(str::to_string);
                }
            }
            if region.is_some() {
                return None;
            }
        }
        let (module, name) = key.split_once(':')?;
        let up = parent(module)?;
        key = if up.is_empty() { name.to_string() } else { format!("{up}:{name}") };
    }
    None
}

/// The account of the plan: `data.aws_caller_identity` (prior state or values), else the
/// account of a resource ARN, else `--account`, else the default with an assumption.
fn plan_account(p: &mut Part, tree: &Json, raw: &[Raw<'_>]) -> String {
    let mut data: Vec<&Json> = resources_of(tree.get("prior_state").and_then(|s| s.get("values")));
    data.extend(resources_of(tree.get("values")));
    data.extend(resources_of(tree.get("planned_values")));
    let caller = data
        .iter()
        .filter(|r| r.get("type").and_then(Json::as_str) == Some("aws_caller_identity"))
        .filter_map(|r| r.get("values")?.get("account_id")?.as_str())
        .find(|a| is_account_id(a));
    if let Some(a) = caller {
        return a.to_string();
    }
    let from_arn = raw
        .iter()
        .filter_map(|r| r.obj.get("values")?.get("arn")?.as_str())
        .filter_map(Arn::parse)
        .map(|a| a.account)
        .find(|a| is_account_id(a));
    if let Some(a) = from_arn {
        return a.to_string();
    }
    if let Some(a) = &p.account_opt {
        return a.clone();
    }
    let msg = format!(
        "the account of `{}` is not known (no `data.aws_caller_identity` nor resource ARN): assumed `{DEFAULT_ACCOUNT}` (give it with `--account`)",
        p.path
    );
    p.assume(msg);
    DEFAULT_ACCOUNT.to_string()
}

/// Where a resource was read from.
pub(super) fn origin(p: &Part, r: &Res<'_>) -> Origin {
    Origin { source: Some(p.src), span: r.obj.span, pointer: r.ptr.clone(), tf_address: Some(r.address.clone()) }
}

/// A `KP158` note on a resource: something the analysis depends on is unknown until apply.
pub(super) fn unknown_note(p: &mut Part, r: &Res<'_>, resource: Option<&str>, message: String) {
    p.w.diagnostics.push(PolicyDiagnostic {
        code: "KP158",
        message: crate::policy::err::one_line(message),
        source: p.src,
        span: r.obj.span,
        pointer: r.ptr.clone(),
        severity: Some(Severity::Note),
        resource: resource.map(str::to_string),
    });
}

/// What a policy attribute is for, in messages.
pub(super) struct DocRole<'a> {
    /// Validation kind.
    pub kind: DocKind,
    /// Attribute name (`policy`, `assume_role_policy`, `content`).
    pub attr: &'a str,
    /// Name of the document in the policy table.
    pub name: String,
    /// What cannot be decided when it is unknown (`who may use the key`).
    pub undecided: String,
    /// The resource the diagnostics are about.
    pub resource: String,
    /// Managed policy name, for validation.
    pub managed_name: Option<String>,
    /// The attribute is required: not finding it in the plan makes it unknown, not unset.
    pub required: bool,
}

/// Reads a policy attribute into a slot: a known document is parsed as an embedded source;
/// an unknown one is `PolicySlot::Unknown` with a `KP158` note. `None` when it is not set.
pub(super) fn policy_slot(
    p: &mut Part,
    tf: &Tf<'_>,
    r: &Res<'_>,
    path: &[&str],
    role: DocRole<'_>,
) -> Option<PolicySlot> {
    let unknown = |p: &mut Part, why: &str| {
        let what = format!("{} of `{}`", role.attr, r.address);
        let msg = format!("the {what} is unknown until apply{why}: {} cannot be decided", role.undecided);
        unknown_note(p, r, Some(&role.resource), msg);
        PolicySlot::Unknown(format!("{what} is unknown until apply"))
    };
    match tf.doc(r, path) {
        Doc::Value(v, ptr) => {
            let spec = DocSpec {
                kind: role.kind,
                name: role.name,
                account: Some(r.account.clone()).filter(|a| !a.is_empty()),
                managed_name: role.managed_name,
                resource: Some(role.resource),
            };
            Some(p.policy_slot(v, &ptr, role.attr, spec))
        }
        Doc::Unknown => Some(unknown(p, &r.depends(path))),
        Doc::Undecided => Some(unknown(p, " (the plan has no `configuration` to tell what it will be)")),
        Doc::Unset if role.required => Some(unknown(p, " (it is not in the plan)")),
        Doc::Unset => None,
    }
}

/// Tags: `tags_all` when known (it includes the provider's default tags), else `tags`.
pub(super) fn tags(r: &Res<'_>) -> Tags {
    let read = |v: &Json| -> Tags {
        v.members().iter().filter_map(|m| m.value.scalar_text().map(|s| (m.key.to_string(), s))).collect()
    };
    r.value(&["tags_all"])
        .filter(|v| v.is_object())
        .or_else(|| r.value(&["tags"]).filter(|v| v.is_object()))
        .map(read)
        .unwrap_or_default()
}
