//! Writes a synthetic AWS organization in the keyproof snapshot layout (inputs.md §2).
//!
//! `cargo run --release --example gen-org -- --accounts 200 --roles 20000 --keys 4000 --grants 80000 --out /tmp/org`
//!
//! The organization is realistic in shape: a management account, OUs, SCPs, per-account IAM
//! (roles with inline and managed policies, users in groups, boundaries), keys with console-style
//! key policies (root delegation, administrators, users limited by encryption context, grants for
//! AWS resources, cross-account sharing inside the org), aliases, rotation status and grants.
//! Everything is derived from a fixed seed, so runs are reproducible.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn hex(&mut self, n: usize) -> String {
        let mut s = String::new();
        while s.len() < n {
            let _ = write!(s, "{:016x}", self.next());
        }
        s.truncate(n);
        s
    }
    fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
    }
}

struct Args {
    accounts: usize,
    roles: usize,
    keys: usize,
    grants: usize,
    out: PathBuf,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args { accounts: 4, roles: 40, keys: 8, grants: 40, out: PathBuf::from("target/gen-org"), seed: 42 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let val = it.next().ok_or_else(|| format!("`{flag}` needs a value"))?;
        let num = || val.parse::<usize>().map_err(|e| format!("`{flag}`: {e}"));
        match flag.as_str() {
            "--accounts" => a.accounts = num()?.max(1),
            "--roles" => a.roles = num()?,
            "--keys" => a.keys = num()?,
            "--grants" => a.grants = num()?,
            "--seed" => a.seed = val.parse().map_err(|e| format!("`--seed`: {e}"))?,
            "--out" => a.out = PathBuf::from(val),
            other => return Err(format!("unknown flag `{other}`")),
        }
    }
    Ok(a)
}

fn write(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(path, text)
}

fn account_id(i: usize) -> String {
    format!("{:012}", 100_000_000_000u64 + i as u64 * 1_111)
}

const REGIONS: &[&str] = &["us-east-1", "eu-west-1", "eu-central-1"];
const ORG: &str = "o-synthetic01";

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gen-org: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = generate(&args) {
        eprintln!("gen-org: {e}");
        std::process::exit(1);
    }
}

fn generate(args: &Args) -> std::io::Result<()> {
    let mut rng = Rng(args.seed | 1);
    let n = args.accounts;
    let accounts: Vec<String> = (0..n).map(account_id).collect();
    let mgmt = accounts[0].clone();
    let org_dir = args.out.join("organization");
    write(
        &org_dir.join("describe-organization.json"),
        &format!(r#"{{"Organization":{{"Id":"{ORG}","FeatureSet":"ALL","MasterAccountId":"{mgmt}"}}}}"#),
    )?;
    write(
        &org_dir.join("list-roots.json"),
        r#"{"Roots":[{"Id":"r-root","Name":"Root","PolicyTypes":[{"Type":"SERVICE_CONTROL_POLICY","Status":"ENABLED"}]}]}"#,
    )?;
    let ous = ["ou-root-prod0001", "ou-root-dev00001"];
    write(
        &org_dir.join("parents/r-root/list-organizational-units-for-parent.json"),
        &format!(
            r#"{{"OrganizationalUnits":[{{"Id":"{}","Name":"prod"}},{{"Id":"{}","Name":"dev"}}]}}"#,
            ous[0], ous[1]
        ),
    )?;
    let list_accounts: Vec<String> =
        accounts.iter().map(|a| format!(r#"{{"Id":"{a}","Name":"acct-{a}","Status":"ACTIVE"}}"#)).collect();
    write(&org_dir.join("list-accounts.json"), &format!(r#"{{"Accounts":[{}]}}"#, list_accounts.join(",")))?;
    for (oi, ou) in ous.iter().enumerate() {
        let members: Vec<String> = accounts
            .iter()
            .enumerate()
            .filter(|(i, _)| *i > 0 && i % 2 == oi)
            .map(|(_, a)| format!(r#"{{"Id":"{a}"}}"#))
            .collect();
        write(
            &org_dir.join(format!("parents/{ou}/list-accounts-for-parent.json")),
            &format!(r#"{{"Accounts":[{}]}}"#, members.join(",")),
        )?;
    }
    let scp = r#"{"Version":"2012-10-17","Statement":[{"Sid":"ProtectKeys","Effect":"Deny","Action":["kms:ScheduleKeyDeletion","kms:PutKeyPolicy"],"Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/KeyAdmin"}}}]}"#;
    write(
        &org_dir.join("policies/p-protectkeys/describe-policy.json"),
        &format!(
            r#"{{"Policy":{{"PolicySummary":{{"Id":"p-protectkeys","Name":"ProtectKeys","Type":"SERVICE_CONTROL_POLICY","AwsManaged":false}},"Content":{}}}}}"#,
            json_string(scp)
        ),
    )?;
    write(
        &org_dir.join("policies/p-protectkeys/list-targets.json"),
        &format!(r#"{{"Targets":[{{"TargetId":"{}","Type":"ORGANIZATIONAL_UNIT"}}]}}"#, ous[0]),
    )?;

    let roles_per = args.roles.div_ceil(n);
    let keys_per = args.keys.div_ceil(n);
    let grants_per_key = if args.keys == 0 { 0 } else { args.grants.div_ceil(args.keys) };
    for (ai, acct) in accounts.iter().enumerate() {
        let dir = args.out.join(acct);
        let partner = &accounts[(ai + 1) % n];
        // IAM
        let mut roles = Vec::new();
        for r in 0..roles_per {
            let name = match r {
                0 => "KeyAdmin".to_string(),
                1 => "OrdersApp".to_string(),
                _ => format!("app-{r:05}"),
            };
            let inline = if r % 3 == 0 {
                format!(
                    r#"[{{"PolicyName":"kms-use","PolicyDocument":{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"arn:aws:kms:*:{acct}:key/*","Condition":{{"StringEquals":{{"kms:EncryptionContext:app":"{name}"}}}}}}]}}}}]"#
                )
            } else {
                "[]".to_string()
            };
            let managed = if r % 5 == 0 {
                format!(r#"[{{"PolicyName":"KmsRead","PolicyArn":"arn:aws:iam::{acct}:policy/KmsRead"}}]"#)
            } else {
                "[]".to_string()
            };
            let boundary = if r % 7 == 3 {
                format!(
                    r#","PermissionsBoundary":{{"PermissionsBoundaryType":"Policy","PermissionsBoundaryArn":"arn:aws:iam::{acct}:policy/Boundary"}}"#
                )
            } else {
                String::new()
            };
            let trusted = if r % 11 == 5 { partner.as_str() } else { acct.as_str() };
            roles.push(format!(
                r#"{{"Path":"/","RoleName":"{name}","RoleId":"AROA{}","Arn":"arn:aws:iam::{acct}:role/{name}","AssumeRolePolicyDocument":{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{trusted}:root"}},"Action":"sts:AssumeRole"}}]}},"RolePolicyList":{inline},"AttachedManagedPolicies":{managed},"Tags":[{{"Key":"team","Value":"t{}"}}]{boundary}}}"#,
                rng.hex(17).to_uppercase(),
                r % 13
            ));
        }
        let policies = format!(
            r#"[{{"PolicyName":"KmsRead","Arn":"arn:aws:iam::{acct}:policy/KmsRead","Path":"/","DefaultVersionId":"v2","PolicyVersionList":[{{"Document":{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["kms:DescribeKey","kms:ListAliases"],"Resource":"*"}}]}},"VersionId":"v2","IsDefaultVersion":true}},{{"Document":{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"kms:*","Resource":"*"}}]}},"VersionId":"v1","IsDefaultVersion":false}}]}},{{"PolicyName":"Boundary","Arn":"arn:aws:iam::{acct}:policy/Boundary","Path":"/","DefaultVersionId":"v1","PolicyVersionList":[{{"Document":{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["kms:Encrypt","kms:Decrypt","kms:DescribeKey","s3:*"],"Resource":"*"}}]}},"VersionId":"v1","IsDefaultVersion":true}}]}}]"#
        );
        let users = format!(
            r#"[{{"Path":"/","UserName":"ops","UserId":"AIDA{}","Arn":"arn:aws:iam::{acct}:user/ops","UserPolicyList":[],"GroupList":["Ops"],"AttachedManagedPolicies":[],"Tags":[]}}]"#,
            rng.hex(17).to_uppercase()
        );
        let groups = format!(
            r#"[{{"Path":"/","GroupName":"Ops","Arn":"arn:aws:iam::{acct}:group/Ops","GroupPolicyList":[{{"PolicyName":"ops","PolicyDocument":{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"kms:*","Resource":"*"}},{{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*","Condition":{{"BoolIfExists":{{"aws:MultiFactorAuthPresent":"false"}}}}}}]}}}}],"AttachedManagedPolicies":[]}}]"#
        );
        write(
            &dir.join("iam/authorization-details.json"),
            &format!(
                r#"{{"UserDetailList":{users},"GroupDetailList":{groups},"RoleDetailList":[{}],"Policies":{policies}}}"#,
                roles.join(",\n")
            ),
        )?;
        // KMS
        let mut aliases: Vec<Vec<String>> = vec![Vec::new(); REGIONS.len()];
        for k in 0..keys_per {
            let ri = k % REGIONS.len();
            let region = REGIONS[ri];
            let id = rng.uuid();
            let arn = format!("arn:aws:kms:{region}:{acct}:key/{id}");
            let kdir = dir.join(format!("kms/{region}/keys/{id}"));
            let state = if k % 97 == 13 { "PendingDeletion" } else { "Enabled" };
            write(
                &kdir.join("describe-key.json"),
                &format!(
                    r#"{{"KeyMetadata":{{"AWSAccountId":"{acct}","KeyId":"{id}","Arn":"{arn}","CreationDate":1700000000.0,"Enabled":{},"KeyUsage":"ENCRYPT_DECRYPT","KeyState":"{state}","Origin":"AWS_KMS","KeyManager":"CUSTOMER","KeySpec":"SYMMETRIC_DEFAULT","EncryptionAlgorithms":["SYMMETRIC_DEFAULT"],"MultiRegion":false}}}}"#,
                    state == "Enabled"
                ),
            )?;
            let app = format!("app-{:05}", 3 * (k % roles_per.max(1)));
            let mut statements = vec![
                format!(
                    r#"{{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{acct}:root"}},"Action":"kms:*","Resource":"*"}}"#
                ),
                format!(
                    r#"{{"Sid":"Allow access for Key Administrators","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{acct}:role/KeyAdmin"}},"Action":["kms:Create*","kms:Describe*","kms:Enable*","kms:List*","kms:Put*","kms:Update*","kms:Revoke*","kms:Disable*","kms:Get*","kms:Delete*","kms:TagResource","kms:UntagResource","kms:ScheduleKeyDeletion","kms:CancelKeyDeletion"],"Resource":"*"}}"#
                ),
                format!(
                    r#"{{"Sid":"Allow use of the key","Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::{acct}:role/OrdersApp","arn:aws:iam::{acct}:role/{app}"]}},"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*","Condition":{{"StringEquals":{{"kms:EncryptionContext:tenant":"t{}"}}}}}}"#,
                    k % 17
                ),
                format!(
                    r#"{{"Sid":"Allow attachment of persistent resources","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{acct}:role/OrdersApp"}},"Action":["kms:CreateGrant","kms:ListGrants","kms:RevokeGrant"],"Resource":"*","Condition":{{"Bool":{{"kms:GrantIsForAWSResource":"true"}}}}}}"#
                ),
            ];
            if k % 4 == 1 {
                statements.push(format!(r#"{{"Sid":"OrgRead","Effect":"Allow","Principal":{{"AWS":"*"}},"Action":["kms:Decrypt","kms:DescribeKey"],"Resource":"*","Condition":{{"StringEquals":{{"aws:PrincipalOrgID":"{ORG}"}}}}}}"#));
            }
            if k % 6 == 2 {
                statements.push(format!(r#"{{"Sid":"Partner","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{partner}:root"}},"Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"*","Condition":{{"StringEquals":{{"kms:ViaService":"s3.{region}.amazonaws.com"}}}}}}"#));
            }
            let policy = format!(
                r#"{{"Version":"2012-10-17","Id":"key-consolepolicy-3","Statement":[{}]}}"#,
                statements.join(",")
            );
            write(
                &kdir.join("key-policy.json"),
                &format!(r#"{{"Policy":{},"PolicyName":"default"}}"#, json_string(&policy)),
            )?;
            let mut grants = Vec::new();
            for g in 0..grants_per_key {
                let grantee = if g % 3 == 0 {
                    format!("arn:aws:iam::{acct}:role/app-{:05}", g % roles_per.max(1))
                } else {
                    format!("dynamodb.{region}.amazonaws.com")
                };
                grants.push(format!(
                    r#"{{"KeyId":"{arn}","GrantId":"{}","Name":"","CreationDate":1700000000.0,"GranteePrincipal":"{grantee}","RetiringPrincipal":"arn:aws:iam::{acct}:role/KeyAdmin","IssuingAccount":"arn:aws:iam::{acct}:root","Operations":["Decrypt","Encrypt","GenerateDataKey","DescribeKey"],"Constraints":{{"EncryptionContextSubset":{{"aws:dynamodb:tableName":"t{g}"}}}}}}"#,
                    rng.hex(64)
                ));
            }
            write(&kdir.join("list-grants.json"), &format!(r#"{{"Grants":[{}]}}"#, grants.join(",\n")))?;
            write(
                &kdir.join("rotation-status.json"),
                &format!(r#"{{"KeyRotationEnabled":{},"KeyId":"{arn}","RotationPeriodInDays":365}}"#, k % 5 != 0),
            )?;
            aliases[ri].push(format!(
                r#"{{"AliasName":"alias/key-{k}","AliasArn":"arn:aws:kms:{region}:{acct}:alias/key-{k}","TargetKeyId":"{id}"}}"#
            ));
        }
        for (ri, region) in REGIONS.iter().enumerate() {
            if !aliases[ri].is_empty() {
                write(
                    &dir.join(format!("kms/{region}/list-aliases.json")),
                    &format!(r#"{{"Aliases":[{}]}}"#, aliases[ri].join(",")),
                )?;
            }
        }
        let _ = rng.below(2);
    }
    Ok(())
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
