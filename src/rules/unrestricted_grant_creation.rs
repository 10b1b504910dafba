use std::collections::{BTreeMap, BTreeSet};

use super::public_key_access::{
    assumed_account_note, key_policy, name_list, names_everyone, public_statement, statement_finding, statement_of,
    usage_actions, via, witness_json, Via,
};
use super::rule::{declare_rule, Rule, RuleContext};
use crate::eval::context::CtxValue;
use crate::policy::model::PolicyId;
use crate::report::finding::Finding;
use crate::solve::{self, PrincipalKind, Witness, OUTSIDE_ACCOUNT};

declare_rule! {
    /// ## What it does
    /// Flags a key-policy statement that lets principals other than the key's administrators
    /// call `kms:CreateGrant` for any grantee and operation, without
    /// `kms:GrantIsForAWSResource = true` or an equivalent constraint on `kms:GranteePrincipal`
    /// or `kms:GrantOperations`.
    ///
    /// The rule asks the solver who can call `kms:CreateGrant` on the key directly (not through
    /// the account delegation, which is IAM's concern), leaves out the principals that can call
    /// `kms:PutKeyPolicy` (administrators can change the policy anyway; a principal whose IAM
    /// policies are not in the inputs counts as one only when the key policy names it), and
    /// asks again for a
    /// request a principal would make on its own behalf: `kms:GrantIsForAWSResource` and
    /// `kms:ViaService` absent (a direct call, not one an integrated service makes), a grantee in
    /// an account outside the inputs, and the key's main cryptographic operation (`Decrypt` for
    /// encryption keys). When that request is allowed, the principal can hand
    /// the key to anyone. Access open to everyone is `KP104`.
    ///
    /// ## Why is this bad?
    /// A grant is a second, less visible access path: it does not appear in the key policy,
    /// takes effect at once with a grant token, and is not limited by the grantee's IAM
    /// policies in the key's account. A principal that can create grants freely can give
    /// itself, or an outsider, every operation the grant allows. AWS services that use grants
    /// (EBS, RDS, …) send `kms:GrantIsForAWSResource`, so requiring it keeps them working.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "EnableIAMPolicies",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:root" },
    ///       "Action": "kms:*",
    ///       "Resource": "*"
    ///     },
    ///     {
    ///       "Sid": "AppAttachesVolumes",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/App" },
    ///       "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
    ///       "Resource": "*"
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```json
    /// {
    ///   "Version": "2012-10-17",
    ///   "Statement": [
    ///     {
    ///       "Sid": "EnableIAMPolicies",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:root" },
    ///       "Action": "kms:*",
    ///       "Resource": "*"
    ///     },
    ///     {
    ///       "Sid": "AppAttachesVolumes",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/App" },
    ///       "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
    ///       "Resource": "*",
    ///       "Condition": { "Bool": { "kms:GrantIsForAWSResource": "true" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [Grants in AWS KMS](https://docs.aws.amazon.com/kms/latest/developerguide/grants.html)
    /// - [AWS KMS condition keys: kms:GrantIsForAWSResource](https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-is-for-aws-resource)
    /// - [Default key policy: allows key users to use the KMS key with AWS services](https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-service-integration)
    pub UnrestrictedGrantCreation {
        id: "KP110",
        name: "unrestricted-grant-creation",
        category: PrivilegeEscalation,
        severity: Warning,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for UnrestrictedGrantCreation {
    fn by_key(&self) -> bool {
        true
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (ki, key) in cx.keys() {
            let Some(kp) = key_policy(cx, key) else { continue };
            let creators = cx.who_can(ki, "kms:CreateGrant", true);
            if creators.principals.is_empty() {
                continue;
            }
            // Administrators: principals allowed `kms:PutKeyPolicy`, except through the account
            // delegation when their IAM policies are not in the inputs (only assumed to allow).
            let admins: BTreeSet<String> = cx
                .who_can(ki, "kms:PutKeyPolicy", true)
                .principals
                .iter()
                .filter(|e| {
                    !e.witness.assume_identity_allows
                        || !matches!(via(cx, ki, &e.caller, &e.witness), Some(Via::KeyPolicy { delegation: true, .. }))
                })
                .map(|e| e.principal.clone())
                .collect();
            let operation = usage_actions(key).first().map_or("Decrypt", |a| a.trim_start_matches("kms:"));
            let fixed: BTreeMap<String, CtxValue> = [
                (
                    "kms:GranteePrincipal".to_string(),
                    CtxValue::Single(format!("arn:aws:iam::{OUTSIDE_ACCOUNT}:role/keyproof-other")),
                ),
                ("kms:GrantOperations".to_string(), CtxValue::Multi(vec![operation.to_string()])),
            ]
            .into();
            let public = public_statement(cx, ki, "kms:CreateGrant");
            let mut by_statement: BTreeMap<(PolicyId, usize), (BTreeSet<String>, Witness)> = BTreeMap::new();
            for entry in &creators.principals {
                if entry.transitive || entry.kind == PrincipalKind::Public || admins.contains(&entry.principal) {
                    continue;
                }
                let cand = entry.candidate();
                let Some(e) = solve::solve_principal_with(
                    cx.world,
                    ki,
                    "kms:CreateGrant",
                    &cand,
                    &fixed,
                    &["kms:GrantIsForAWSResource", "kms:ViaService"],
                ) else {
                    continue;
                };
                let Some(Via::KeyPolicy { policy, statement, delegation: false, .. }) =
                    via(cx, ki, &cand.caller, &e.witness)
                else {
                    continue;
                };
                if public == Some((policy, statement.index)) {
                    continue;
                }
                by_statement
                    .entry((policy, statement.index))
                    .or_insert_with(|| (BTreeSet::new(), e.witness.clone()))
                    .0
                    .insert(entry.principal.clone());
            }
            for ((pid, index), (principals, witness)) in by_statement {
                let Some(st) = statement_of(cx, pid, index) else { continue };
                // A statement that names everyone admits more principals than the inputs hold.
                let who = if names_everyone(cx, st) {
                    "any principal its conditions admit".to_string()
                } else {
                    name_list(&principals)
                };
                let message = format!(
                    "statement `{}` lets {who} create grants on `{}` for any grantee without `kms:GrantIsForAWSResource`{}",
                    st.label(),
                    key.arn,
                    assumed_account_note(cx, key, kp)
                );
                out.push(
                    statement_finding(cx, self, pid, st, message)
                        .with_resource(Some(key.arn.clone()))
                        .with_witness(witness_json(&witness))
                        .with_help(
                            "add `\"Bool\": {\"kms:GrantIsForAWSResource\": \"true\"}`, or constrain `kms:GranteePrincipal` and `kms:GrantOperations`",
                        ),
                );
            }
        }
    }
}
