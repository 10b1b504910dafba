//! TEMPORARY STUB — replaced by the real implementation from the `cond` branch.
use super::context::Context;
use crate::policy::model::Condition;
pub fn all_hold(_conds: &[Condition], _ctx: &Context, _variables: bool) -> bool {
    true
}
pub fn resource_matches(pattern: &str, resource_arn: &str, _ctx: &Context, _variables: bool) -> bool {
    crate::policy::wildcard::glob_match(pattern, resource_arn, false)
}
