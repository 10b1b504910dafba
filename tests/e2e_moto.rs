//! End to end against a local AWS API emulator (moto's server, installed by `.ci/run`): the real
//! AWS CLI creates keys, a grant, an alias, roles and a bucket; `scripts/export-snapshot.sh` writes
//! the snapshot layout; `keyproof check` and `keyproof who-can` read it. Everything talks to
//! 127.0.0.1 only. Skips with a message when `moto_server`, `aws` or `bash` is not installed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test harness")]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// The emulator, killed when the test ends, also on failure.
struct Moto {
    child: Child,
    endpoint: String,
    dir: PathBuf,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    fn start(bin: &Path, dir: &Path) -> Moto {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::fs::File::create(dir.join("moto.log")).unwrap();
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // Without this, moto describes ~1000 snapshots of its default AMIs as the account's own.
            .env("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}"), dir: dir.to_path_buf() };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(60), "moto_server did not listen on port {port}");
            std::thread::sleep(Duration::from_millis(200));
        }
        moto
    }

    /// A command with the emulator's endpoint, dummy credentials, and nothing from the user's
    /// AWS configuration (no profile, no instance metadata, no proxy).
    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        for var in
            ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"]
        {
            c.env_remove(var);
        }
        for var in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"] {
            c.env_remove(var);
        }
        c.env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_REGION", REGION)
            .env("AWS_CONFIG_FILE", self.dir.join("no-aws-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.dir.join("no-aws-credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_PAGER", "")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost");
        c
    }

    fn aws(&self, args: &[&str]) -> String {
        let out = self.command("aws").args(args).output().unwrap();
        assert!(out.status.success(), "aws {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }
}

fn keyproof(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keyproof")).args(args).output().unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    })
}

fn policy(statements: &[Value]) -> String {
    serde_json::json!({ "Version": "2012-10-17", "Statement": statements }).to_string()
}

#[test]
fn export_snapshot_from_moto_and_analyse_it() {
    let Some(moto_bin) = on_path("moto_server") else {
        println!("skipping: `moto_server` is not installed (`pip install 'moto[server]' awscli`, done by .ci/run)");
        return;
    };
    if on_path("aws").is_none() || on_path("bash").is_none() {
        println!("skipping: the AWS CLI (`aws`) or `bash` is not installed");
        return;
    }
    let started = Instant::now();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e_moto");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let moto = Moto::start(&moto_bin, &dir);
    let root = format!("arn:aws:iam::{ACCOUNT}:root");
    let delegation = serde_json::json!({ "Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": { "AWS": root }, "Action": "kms:*", "Resource": "*" });

    // Roles: `reader` with an inline policy, `writer` with a customer managed policy.
    let trust = policy(&[serde_json::json!({ "Effect": "Allow",
        "Principal": { "Service": "ec2.amazonaws.com" }, "Action": "sts:AssumeRole" })]);
    for role in ["reader", "writer"] {
        moto.aws(&["iam", "create-role", "--role-name", role, "--assume-role-policy-document", &trust]);
    }
    let reader = format!("arn:aws:iam::{ACCOUNT}:role/reader");
    let writer = format!("arn:aws:iam::{ACCOUNT}:role/writer");

    // Two keys: one opened to every principal (KP104), one well formed.
    let open =
        moto.aws(&["kms", "create-key", "--description", "open", "--query", "KeyMetadata.KeyId", "--output", "text"]);
    let good =
        moto.aws(&["kms", "create-key", "--description", "orders", "--query", "KeyMetadata.KeyId", "--output", "text"]);
    let good_arn = format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{good}");
    let open_policy = policy(&[
        delegation.clone(),
        serde_json::json!({ "Sid": "AnyoneDecrypts", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*" }),
    ]);
    moto.aws(&["kms", "put-key-policy", "--key-id", &open, "--policy-name", "default", "--policy", &open_policy]);
    let good_policy = policy(&[
        delegation,
        serde_json::json!({ "Sid": "ReaderDecrypts", "Effect": "Allow", "Principal": { "AWS": reader },
            "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*" }),
    ]);
    moto.aws(&["kms", "put-key-policy", "--key-id", &good, "--policy-name", "default", "--policy", &good_policy]);
    let inline = policy(&[serde_json::json!({ "Effect": "Allow", "Action": "kms:Decrypt", "Resource": good_arn })]);
    moto.aws(&[
        "iam",
        "put-role-policy",
        "--role-name",
        "reader",
        "--policy-name",
        "decrypt-orders",
        "--policy-document",
        &inline,
    ]);
    let managed = policy(&[
        serde_json::json!({ "Effect": "Allow", "Action": ["kms:Encrypt", "kms:GenerateDataKey"], "Resource": "*" }),
    ]);
    let managed_arn = moto.aws(&[
        "iam",
        "create-policy",
        "--policy-name",
        "kms-encrypt",
        "--policy-document",
        &managed,
        "--query",
        "Policy.Arn",
        "--output",
        "text",
    ]);
    moto.aws(&["iam", "attach-role-policy", "--role-name", "writer", "--policy-arn", &managed_arn]);
    moto.aws(&[
        "kms",
        "create-grant",
        "--key-id",
        &good,
        "--grantee-principal",
        &writer,
        "--operations",
        "Decrypt",
        "--constraints",
        "EncryptionContextSubset={app=orders}",
        "--name",
        "writer-decrypts",
    ]);
    moto.aws(&["kms", "create-alias", "--alias-name", "alias/orders", "--target-key-id", &good]);
    moto.aws(&["s3api", "create-bucket", "--bucket", "orders-data"]);
    let sse = serde_json::json!({ "Rules": [{ "ApplyServerSideEncryptionByDefault":
        { "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": good_arn }, "BucketKeyEnabled": true }] })
    .to_string();
    moto.aws(&[
        "s3api",
        "put-bucket-encryption",
        "--bucket",
        "orders-data",
        "--server-side-encryption-configuration",
        &sse,
    ]);
    moto.aws(&[
        "dynamodb",
        "create-table",
        "--table-name",
        "orders",
        "--attribute-definitions",
        "AttributeName=id,AttributeType=S",
        "--key-schema",
        "AttributeName=id,KeyType=HASH",
        "--billing-mode",
        "PAY_PER_REQUEST",
        "--sse-specification",
        &format!("Enabled=true,SSEType=KMS,KMSMasterKeyId={good_arn}"),
    ]);
    let volume = moto.aws(&[
        "ec2",
        "create-volume",
        "--availability-zone",
        "us-east-1a",
        "--size",
        "1",
        "--encrypted",
        "--kms-key-id",
        &good_arn,
        "--query",
        "VolumeId",
        "--output",
        "text",
    ]);
    let snapshot =
        moto.aws(&["ec2", "create-snapshot", "--volume-id", &volume, "--query", "SnapshotId", "--output", "text"]);
    moto.aws(&[
        "ec2",
        "modify-snapshot-attribute",
        "--snapshot-id",
        &snapshot,
        "--attribute",
        "createVolumePermission",
        "--operation-type",
        "add",
        "--user-ids",
        "444455556666",
    ]);
    moto.aws(&["organizations", "create-organization", "--feature-set", "ALL"]);
    println!("setup took {:?}", started.elapsed());

    // Export.
    let snap = dir.join("snapshot");
    let export = moto
        .command("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/export-snapshot.sh"))
        .args(["--out", snap.to_str().unwrap(), "--regions", REGION])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&export.stderr);
    assert_eq!(export.status.code(), Some(0), "{stderr}");
    println!("export took {:?} in all:\n{stderr}", started.elapsed());
    let acct = snap.join(ACCOUNT);
    for file in [
        "iam/authorization-details.json".to_string(),
        format!("kms/{REGION}/list-aliases.json"),
        format!("kms/{REGION}/keys/{good}/key-policy.json"),
        format!("kms/{REGION}/keys/{good}/describe-key.json"),
        format!("kms/{REGION}/keys/{good}/list-grants.json"),
        format!("kms/{REGION}/keys/{good}/rotation-status.json"),
        format!("kms/{REGION}/keys/{open}/key-policy.json"),
        "s3/orders-data/get-bucket-encryption.json".to_string(),
        format!("dynamodb/{REGION}/orders/describe-table.json"),
        format!("ec2/{REGION}/snapshots/{snapshot}/describe-snapshots.json"),
        format!("ec2/{REGION}/snapshots/{snapshot}/describe-snapshot-attribute.json"),
    ] {
        assert!(acct.join(&file).is_file(), "{file} was not exported:\n{stderr}");
    }
    assert!(snap.join("organization/describe-organization.json").is_file(), "{stderr}");
    // A failed call (no replication configured) leaves its file out and says why.
    assert!(!acct.join("s3/orders-data/get-bucket-replication.json").exists());
    let log = std::fs::read_to_string(snap.join("_export-log.txt")).unwrap();
    assert!(
        log.contains(
            "skipped 123456789012/s3/orders-data/get-bucket-replication.json: aws s3api get-bucket-replication:"
        ),
        "{log}"
    );
    let mut dirs = vec![snap.clone()];
    while let Some(d) = dirs.pop() {
        for e in d.read_dir().unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            assert!(!name.ends_with(".partial") && !name.ends_with(".err"), "left behind: {}", e.path().display());
            if e.path().is_dir() {
                dirs.push(e.path());
            }
        }
    }

    // check: the open key is reported, nothing failed to load.
    let snap_arg = snap.to_str().unwrap();
    let out = keyproof(&["check", snap_arg, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["errors"].as_array().unwrap().len(), 0, "{v:#}");
    assert_eq!(v["summary"]["keys"], 2, "{v:#}");
    let findings = v["findings"].as_array().unwrap();
    let public =
        findings.iter().find(|f| f["rule"] == "KP104").unwrap_or_else(|| panic!("KP104 on the open key: {v:#}"));
    assert!(public["file"].as_str().unwrap().ends_with(&format!("keys/{open}/key-policy.json")), "{public:#}");
    assert!(public["message"].as_str().unwrap().contains("AnyoneDecrypts"), "{public:#}");
    assert!(
        !findings.iter().any(|f| f["rule"] == "KP104" && f["file"].as_str().unwrap().contains(&good)),
        "the well-formed key is not public: {v:#}"
    );

    // who-can through the alias: the reader (key policy and its inline policy), the writer only
    // through its grant and only with the grant's encryption context, the account root; not `*`.
    let out = keyproof(&["who-can", snap_arg, "--key", "alias/orders", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["key"], good_arn.as_str());
    let entry = |p: &str| v["principals"].as_array().unwrap().iter().find(|e| e["principal"] == p).cloned();
    let r = entry(&reader).unwrap_or_else(|| panic!("reader: {v:#}"));
    assert_eq!(r["unconditional"], true, "{r:#}");
    let w = entry(&writer).unwrap_or_else(|| panic!("writer: {v:#}"));
    assert_eq!(w["unconditional"], false, "{w:#}");
    assert!(w.to_string().contains("orders"), "the grant's constraint: {w:#}");
    assert!(w["path"].to_string().contains("grant"), "{w:#}");
    assert!(entry(&root).is_some(), "{v:#}");
    assert!(entry("*").is_none(), "{v:#}");
    let out = keyproof(&["who-can", snap_arg, "--key", &open, "--format", "json"]);
    let v = json(&out);
    assert!(v["principals"].as_array().unwrap().iter().any(|e| e["principal"] == "*"), "{v:#}");
    println!("done in {:?}", started.elapsed());
}
