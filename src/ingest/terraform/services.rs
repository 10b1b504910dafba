//! S3 bucket encryption and replication, DynamoDB tables, EBS snapshots and their sharing.

use super::kms::{key_ref, KeyRef};
use super::{origin, unknown_note, Res, Tf, Val};
use crate::ingest::part::Part;
use crate::world::{Bucket, Snapshot, Table};

pub(super) fn load(p: &mut Part, tf: &Tf<'_>) {
    for r in tf.of(&["aws_s3_bucket"]) {
        legacy_bucket(p, tf, r);
    }
    for r in tf.of(&["aws_s3_bucket_server_side_encryption_configuration"]) {
        if let Some(name) = bucket_name(p, tf, r) {
            sse(p, tf, r, &name, &["rule"]);
        }
    }
    for r in tf.of(&["aws_s3_bucket_replication_configuration"]) {
        if let Some(name) = bucket_name(p, tf, r) {
            replication(p, tf, r, &name, &["rule"], &["encryption_configuration", "0", "replica_kms_key_id"]);
        }
    }
    for r in tf.of(&["aws_dynamodb_table"]) {
        table(p, tf, r);
    }
    for r in tf.of(&["aws_ebs_snapshot", "aws_ebs_snapshot_copy"]) {
        snapshot(p, tf, r);
    }
    for r in tf.of(&["aws_snapshot_create_volume_permission"]) {
        volume_permission(p, tf, r);
    }
}

/// A key attribute: the key, `None` when unset, `None` with a note when unknown.
fn key_or_note(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>, path: &[&str], what: &str) -> Option<String> {
    match key_ref(p, tf, r, path) {
        KeyRef::Arn(a) => Some(a),
        KeyRef::Unset => None,
        KeyRef::Unknown => {
            let msg = format!(
                "the KMS key of {what} is unknown until apply{}: which key protects it cannot be decided",
                r.depends(path)
            );
            unknown_note(p, r, None, msg);
            None
        }
    }
}

fn bucket_name(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>) -> Option<String> {
    match tf.name_val(r, &["bucket"]) {
        Val::Known(n) => Some(n.strip_prefix("arn:aws:s3:::").map_or(n.clone(), str::to_string)),
        _ => {
            let msg = format!(
                "the bucket of `{}` is unknown until apply{}: which bucket it configures cannot be decided",
                r.address,
                r.depends(&["bucket"])
            );
            unknown_note(p, r, None, msg);
            None
        }
    }
}

fn bucket_mut<'p>(p: &'p mut Part, r: &Res<'_>, name: &str) -> &'p mut Bucket {
    let account = r.known(&["expected_bucket_owner"]).unwrap_or_else(|| r.account.clone());
    let i = match p.w.buckets.iter().position(|b| b.name == name && b.account == account) {
        Some(i) => i,
        None => {
            let o = origin(p, r);
            p.w.buckets.push(Bucket { name: name.to_string(), account, origin: o, ..Bucket::default() });
            p.w.buckets.len() - 1
        }
    };
    &mut p.w.buckets[i]
}

/// `rule[0]` of a server-side encryption configuration at `base`.
fn sse(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>, name: &str, base: &[&str]) {
    let rule = [base, &["0"]].concat();
    let default = [rule.as_slice(), &["apply_server_side_encryption_by_default", "0"]].concat();
    let alg = r.known(&[default.as_slice(), &["sse_algorithm"]].concat());
    let what = format!("bucket `{name}`");
    let key = key_or_note(p, tf, r, &[default.as_slice(), &["kms_master_key_id"]].concat(), &what);
    let bucket_key = r.known_bool(&[rule.as_slice(), &["bucket_key_enabled"]].concat());
    let b = bucket_mut(p, r, name);
    b.sse_algorithm = alg;
    b.kms_key = key;
    b.bucket_key_enabled = bucket_key;
}

/// Replication rules at `base`; `key_path` is where the replica key sits in a destination.
fn replication(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>, name: &str, base: &[&str], key_path: &[&str]) {
    let n = r.value(base).and_then(|v| v.as_array()).map_or(0, <[_]>::len);
    let mut dests = Vec::new();
    for i in 0..n {
        let i = i.to_string();
        let rule = [base, &[i.as_str()]].concat();
        if r.known(&[rule.as_slice(), &["status"]].concat()).as_deref() == Some("Disabled") {
            continue;
        }
        let dest = [rule.as_slice(), &["destination", "0"]].concat();
        let bucket = match tf.arn_val(r, &[dest.as_slice(), &["bucket"]].concat()) {
            Val::Known(b) => b,
            _ => {
                let msg = format!(
                    "a replication destination of `{}` is unknown until apply: where objects of `{name}` are replicated cannot be decided",
                    r.address
                );
                unknown_note(p, r, None, msg);
                continue;
            }
        };
        let what = format!("the replicas of `{name}` in `{bucket}`");
        let key = key_or_note(p, tf, r, &[dest.as_slice(), key_path].concat(), &what);
        dests.push((bucket, key));
    }
    let b = bucket_mut(p, r, name);
    for d in dests {
        if !b.replication.contains(&d) {
            b.replication.push(d);
        }
    }
}

/// Encryption and replication written inside `aws_s3_bucket` (AWS provider v3 and older).
fn legacy_bucket(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>) {
    let Some(name) = tf.ident(&r.address).name else { return };
    let sse_base = ["server_side_encryption_configuration", "0", "rule"];
    if r.value(&sse_base).is_some() {
        sse(p, tf, r, &name, &sse_base);
    }
    let rep_base = ["replication_configuration", "0", "rules"];
    if r.value(&rep_base).is_some() {
        replication(p, tf, r, &name, &rep_base, &["replica_kms_key_id"]);
    }
}

/// The key of a DynamoDB encryption block: `kms_key_arn`, or the AWS managed key
/// `alias/aws/dynamodb` when encryption is on without one.
fn table_key(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>, path: &[&str], what: &str) -> Option<String> {
    if r.known(path).is_none() && r.configured(path) == Some(false) {
        return Some("alias/aws/dynamodb".into());
    }
    key_or_note(p, tf, r, path, what)
}

fn table(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>) {
    let id = tf.ident(&r.address);
    let (Some(arn), Some(name)) = (id.arn, id.name) else { return };
    let what = format!("table `{name}`");
    let kms_key = match r.known_bool(&["server_side_encryption", "0", "enabled"]) {
        Some(true) => table_key(p, tf, r, &["server_side_encryption", "0", "kms_key_arn"], &what),
        _ => None,
    };
    let n = r.value(&["replica"]).and_then(|v| v.as_array()).map_or(0, <[_]>::len);
    let mut replicas = Vec::new();
    for i in 0..n {
        let i = i.to_string();
        let Some(region) = r.known(&["replica", &i, "region_name"]) else { continue };
        let what = format!("the replica of `{name}` in `{region}`");
        let key = if kms_key.is_some() {
            table_key(p, tf, r, &["replica", &i, "kms_key_arn"], &what)
        } else {
            key_or_note(p, tf, r, &["replica", &i, "kms_key_arn"], &what)
        };
        replicas.push((region, key));
    }
    let origin = origin(p, r);
    p.w.tables.push(Table { arn, account: r.account.clone(), region: r.region.clone(), kms_key, replicas, origin });
}

fn snapshot(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>) {
    let Some(id) = tf.ident(&r.address).id else { return };
    let what = format!("snapshot `{}`", r.address);
    let mut encrypted = r.known_bool(&["encrypted"]);
    let mut kms_key = if r.known(&["kms_key_id"]).is_some() || r.configured(&["kms_key_id"]) == Some(true) {
        key_or_note(p, tf, r, &["kms_key_id"], &what)
    } else {
        None
    };
    // A snapshot of a volume of the plan is encrypted like the volume.
    if r.rtype == "aws_ebs_snapshot" && (encrypted.is_none() || kms_key.is_none()) {
        if let Val::Ref(v, _) = tf.val(r, &["volume_id"]) {
            if let Some(vol) = tf.get(&v).filter(|x| x.rtype == "aws_ebs_volume") {
                encrypted = encrypted.or_else(|| vol.known_bool(&["encrypted"]));
                if kms_key.is_none() && vol.configured(&["kms_key_id"]) != Some(false) {
                    kms_key = match key_ref(p, tf, vol, &["kms_key_id"]) {
                        KeyRef::Arn(a) => Some(a),
                        KeyRef::Unknown | KeyRef::Unset => None,
                    };
                }
            }
        }
    }
    let known = encrypted.is_some() || kms_key.is_some();
    if !known {
        let msg = format!(
            "the encryption of `{}` is unknown until apply: which key protects it cannot be decided",
            r.address
        );
        unknown_note(p, r, None, msg);
        p.shared_only_snapshots.push(id.clone());
    }
    let origin = origin(p, r);
    p.w.snapshots.push(Snapshot {
        id,
        account: r.account.clone(),
        region: r.region.clone(),
        encrypted: encrypted.unwrap_or(false) || kms_key.is_some(),
        kms_key,
        shared_with: Vec::new(),
        origin,
    });
}

fn volume_permission(p: &mut Part, tf: &Tf<'_>, r: &Res<'_>) {
    let (id, account) = match (tf.id_val(r, &["snapshot_id"]), tf.val(r, &["account_id"])) {
        (Val::Known(s), Val::Known(a)) => (s, a),
        _ => {
            let msg = format!(
                "the snapshot or account of `{}` is unknown until apply: with whom a snapshot is shared cannot be decided",
                r.address
            );
            unknown_note(p, r, None, msg);
            return;
        }
    };
    if let Some(s) = p.w.snapshots.iter_mut().find(|s| s.id == id) {
        if !s.shared_with.contains(&account) {
            s.shared_with.push(account);
        }
        return;
    }
    // A snapshot the plan does not create: only its sharing is known.
    p.shared_only_snapshots.push(id.clone());
    let origin = origin(p, r);
    p.w.snapshots.push(Snapshot {
        id,
        account: r.account.clone(),
        region: r.region.clone(),
        encrypted: false,
        kms_key: None,
        shared_with: vec![account],
        origin,
    });
}
