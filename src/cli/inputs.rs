//! Input arguments shared by every subcommand that reads policies (`check`, and later
//! `eval`, `who-can`, `prove`, `report`, `diff`).

use clap::Args;

use crate::ingest::LoadOptions;
use crate::policy::arn::is_account_id;

/// `PATH...` and the context for loose documents.
#[derive(Clone, Debug, Args)]
pub struct InputArgs {
    /// Files, directories (walked recursively), glob patterns, or `-` for stdin.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<String>,

    /// Account that owns loose key and identity policies (default: inferred from a single
    /// `arn:aws:iam::ID:root` principal, else 111122223333).
    #[arg(long, value_name = "ID", help_heading = "World")]
    pub account: Option<String>,

    /// Region of loose keys.
    #[arg(long, value_name = "NAME", default_value = "us-east-1", help_heading = "World")]
    pub region: String,

    /// The key a single loose key policy belongs to.
    #[arg(long, value_name = "ARN", help_heading = "World")]
    pub key_arn: Option<String>,

    /// The caller's organization id (`o-…`).
    #[arg(long, value_name = "ID", help_heading = "World")]
    pub org_id: Option<String>,

    /// An account of the organization (repeatable, or comma-separated).
    #[arg(long = "org-account", value_name = "ID", value_delimiter = ',', help_heading = "World")]
    pub org_accounts: Vec<String>,

    /// Directory of the Terraform sources (`*.tf`) of the plans: findings about resources
    /// point at their `resource` block (default: the plan's own directory).
    #[arg(long, value_name = "DIR", help_heading = "World")]
    pub tf_dir: Option<String>,
}

impl InputArgs {
    /// The ingest options, after checking the account ids.
    ///
    /// # Errors
    /// A malformed account id, key ARN or organization id (a usage error).
    pub fn load_options(&self) -> Result<LoadOptions, String> {
        for a in self.account.iter().chain(&self.org_accounts) {
            if !is_account_id(a) {
                return Err(format!("`{a}` is not a 12-digit account id"));
            }
        }
        if let Some(k) = &self.key_arn {
            if !crate::policy::arn::is_key_arn(k) {
                return Err(format!("`{k}` is not a KMS key ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`)"));
            }
        }
        if let Some(o) = &self.org_id {
            if !o.starts_with("o-") {
                return Err(format!("`{o}` is not an organization id (`o-…`)"));
            }
        }
        Ok(LoadOptions {
            account: self.account.clone(),
            region: self.region.clone(),
            key_arn: self.key_arn.clone(),
            org_id: self.org_id.clone(),
            org_accounts: self.org_accounts.clone(),
            tf_dir: self.tf_dir.clone(),
            only_key: None,
        })
    }
}

impl InputArgs {
    /// Loads the world for a question-answering subcommand (`eval`, `who-can`, `prove`): a
    /// usage error is printed and becomes exit 2; unreadable inputs are printed as warnings.
    ///
    /// # Errors
    /// [`super::ExitStatus::Error`] on a usage error.
    pub fn load_world(&self) -> Result<crate::world::World, super::ExitStatus> {
        self.load_world_for(None)
    }

    /// [`InputArgs::load_world`] for a question about one key named by `key` (`--key`): when
    /// it is a key ARN or id, the other keys' directories of a snapshot are not read.
    pub fn load_world_for(&self, key: Option<&str>) -> Result<crate::world::World, super::ExitStatus> {
        let mut opts = self.load_options().map_err(|e| {
            super::print_error(&e);
            super::ExitStatus::Error
        })?;
        opts.only_key = key.and_then(key_id).map(str::to_string);
        let world = crate::ingest::load(&self.paths, &opts);
        for e in &world.errors {
            super::print_warning(&format!("{}: {}", e.file, e.message));
        }
        Ok(world)
    }
}

/// The key id a `--key` value names directly: a key ARN's id, or a bare key id (an alias or a
/// Terraform address names none).
fn key_id(key: &str) -> Option<&str> {
    if let Some(arn) = crate::policy::arn::Arn::parse(key) {
        return arn.resource.strip_prefix("key/").filter(|id| !id.is_empty());
    }
    let hex = key.strip_prefix("mrk-").unwrap_or(key);
    (!hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')).then_some(key)
}

/// Resolves `--key` (optional when the world has one key), printing a usage error.
///
/// # Errors
/// [`super::ExitStatus::Error`] when no key or several keys match.
pub fn resolve_key(world: &crate::world::World, key: Option<&str>) -> Result<usize, super::ExitStatus> {
    crate::eval::request::resolve_key(world, key).map(|(k, _)| k).map_err(|e| {
        super::print_error(&e);
        super::ExitStatus::Error
    })
}
