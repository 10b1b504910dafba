//! Terraform plans and states (`terraform show -json`, inputs.md §3). Recognised only for
//! now: the resource mapping is still to be written.

use super::part::Part;
use crate::policy::json::Json;

/// Records a Terraform plan or state (the file itself is recorded by the caller).
pub(crate) fn load_terraform(p: &mut Part, _tree: &Json) {
    let msg = format!("terraform input `{}` recognised; resource mapping not yet implemented", p.path);
    p.assume(msg);
}
