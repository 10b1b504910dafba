//! Context from the account snapshot layout (inputs.md §2).
//!
//! AWS CLI outputs such as `list-grants` or `get-key-policy` do not say which account, Region
//! or key they belong to; the directory they sit in does:
//! `<acct>/kms/<region>/keys/<key-id>/list-grants.json`. The same context type also carries
//! the arguments of an Organizations command (`--parent-id`, `--policy-id`, …), whether they
//! come from `organization/parents/<id>/…` or from a command line in a bundled hierarchy file.

use std::path::{Component, Path};

use crate::policy::arn::is_account_id;

/// What the path of a file (or a bundled command line) says about its content.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathContext {
    /// The nearest ancestor directory named by a 12-digit account id.
    pub account: Option<String>,
    /// The service directory below the account (`kms`, `iam`, `s3`, `dynamodb`, `ec2`).
    pub service: Option<String>,
    /// Region (`kms/<region>/…`, `dynamodb/<region>/…`, `ec2/<region>/…`).
    pub region: Option<String>,
    /// Key id (`kms/<region>/keys/<key-id>/…`).
    pub key_id: Option<String>,
    /// Bucket name (`s3/<bucket>/…`).
    pub bucket: Option<String>,
    /// Table name (`dynamodb/<region>/<table>/…`).
    pub table: Option<String>,
    /// Snapshot id (`ec2/<region>/snapshots/<snapshot-id>/…`).
    pub snapshot_id: Option<String>,
    /// True inside an `organization/` directory.
    pub in_org: bool,
    /// Root or OU id (`organization/parents/<id>/…`, `--parent-id`).
    pub org_parent: Option<String>,
    /// Organizations policy id (`organization/policies/<id>/…`, `--policy-id`).
    pub org_policy: Option<String>,
    /// `--child-id` of `list-parents`.
    pub child_id: Option<String>,
    /// `--target-id` of `list-policies-for-target`.
    pub target_id: Option<String>,
}

impl PathContext {
    /// Reads the context from a path as given on the command line.
    #[must_use]
    pub fn from_path(path: &str) -> PathContext {
        let parts: Vec<String> = Path::new(path)
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        // Directories only: the last component is the file name.
        let dirs = parts.get(..parts.len().saturating_sub(1)).unwrap_or(&[]);
        let mut cx = PathContext::default();
        let acct_at = dirs.iter().rposition(|d| is_account_id(d));
        let org_at = dirs.iter().rposition(|d| d == "organization");
        if let Some(i) = acct_at {
            cx.account = dirs.get(i).cloned();
        }
        match (acct_at, org_at) {
            (Some(a), Some(o)) if o > a => cx.read_org(dirs.get(o + 1..).unwrap_or(&[])),
            (None, Some(o)) => cx.read_org(dirs.get(o + 1..).unwrap_or(&[])),
            (Some(a), _) => cx.read_account(dirs.get(a + 1..).unwrap_or(&[])),
            _ => {}
        }
        cx
    }

    fn read_account(&mut self, rest: &[String]) {
        let at = |i: usize| rest.get(i).cloned();
        let Some(service) = at(0) else { return };
        match service.as_str() {
            "kms" => {
                self.region = at(1);
                if rest.get(2).map(String::as_str) == Some("keys") {
                    self.key_id = at(3);
                }
            }
            "s3" => self.bucket = at(1),
            "dynamodb" => {
                self.region = at(1);
                self.table = at(2);
            }
            "ec2" => {
                self.region = at(1);
                if rest.get(2).map(String::as_str) == Some("snapshots") {
                    self.snapshot_id = at(3);
                }
            }
            _ => {}
        }
        self.service = Some(service);
    }

    fn read_org(&mut self, rest: &[String]) {
        self.in_org = true;
        match rest.first().map(String::as_str) {
            Some("parents") => self.org_parent = rest.get(1).cloned(),
            Some("policies") => self.org_policy = rest.get(1).cloned(),
            _ => {}
        }
    }

    /// The ARN of the key this path belongs to, when the path names account, Region and key.
    #[must_use]
    pub fn key_arn(&self) -> Option<String> {
        match (&self.account, &self.region, &self.key_id) {
            (Some(a), Some(r), Some(k)) => Some(key_arn(r, a, k)),
            _ => None,
        }
    }

    /// A copy with the arguments of a bundled Organizations command line applied
    /// (`list-parents --child-id 111122223333`).
    #[must_use]
    pub fn with_command_args(&self, command_line: &str) -> PathContext {
        let mut cx = self.clone();
        cx.in_org = true;
        let words: Vec<&str> = command_line.split_whitespace().collect();
        for pair in words.windows(2) {
            if let [flag, value] = pair {
                let v = Some((*value).to_string());
                match *flag {
                    "--parent-id" => cx.org_parent = v,
                    "--policy-id" => cx.org_policy = v,
                    "--child-id" => cx.child_id = v,
                    "--target-id" => cx.target_id = v,
                    _ => {}
                }
            }
        }
        cx
    }
}

/// The partition of a Region (`aws`, `aws-cn`, `aws-us-gov`, …).
#[must_use]
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else {
        "aws"
    }
}

/// `arn:<partition>:kms:<region>:<account>:key/<id>`.
#[must_use]
pub fn key_arn(region: &str, account: &str, id: &str) -> String {
    format!("arn:{}:kms:{region}:{account}:key/{id}", partition_of(region))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_directory() {
        let cx = PathContext::from_path(
            "snap/111122223333/kms/eu-west-1/keys/1234abcd-12ab-34cd-56ef-1234567890ab/list-grants.json",
        );
        assert_eq!(cx.account.as_deref(), Some("111122223333"));
        assert_eq!(cx.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            cx.key_arn().as_deref(),
            Some("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
        );
    }

    #[test]
    fn nearest_account_wins_and_file_name_is_not_a_directory() {
        let cx = PathContext::from_path("/x/999988887777/nested/111122223333/iam/authorization-details.json");
        assert_eq!(cx.account.as_deref(), Some("111122223333"));
        assert_eq!(cx.service.as_deref(), Some("iam"));
        let cx = PathContext::from_path("/x/111122223333.json");
        assert_eq!(cx, PathContext::default());
    }

    #[test]
    fn organization_paths_and_command_lines() {
        let cx = PathContext::from_path("snap/organization/parents/ou-ab12-11111111/list-accounts-for-parent.json");
        assert!(cx.in_org);
        assert_eq!(cx.org_parent.as_deref(), Some("ou-ab12-11111111"));
        let cx = PathContext::from_path("snap/organization/policies/p-1/list-targets.json");
        assert_eq!(cx.org_policy.as_deref(), Some("p-1"));
        let cx = PathContext::default().with_command_args("list-policies-for-target --target-id r-ab12 --filter X");
        assert_eq!(cx.target_id.as_deref(), Some("r-ab12"));
    }

    #[test]
    fn service_directories() {
        let cx = PathContext::from_path("111122223333/ec2/us-east-1/snapshots/snap-1/describe-snapshots.json");
        assert_eq!(cx.snapshot_id.as_deref(), Some("snap-1"));
        let cx = PathContext::from_path("111122223333/dynamodb/us-east-1/Orders/describe-table.json");
        assert_eq!(cx.table.as_deref(), Some("Orders"));
        let cx = PathContext::from_path("111122223333/s3/my-bucket/get-bucket-encryption.json");
        assert_eq!(cx.bucket.as_deref(), Some("my-bucket"));
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
    }
}
