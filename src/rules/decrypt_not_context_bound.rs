use std::collections::{BTreeMap, BTreeSet};

use super::public_key_access::{
    allow_elements, among_named, key_policy, name_list, names_everyone, statement_finding, statement_of, usage_actions,
    via, witness_json, Via,
};
use super::rule::{declare_rule, Rule, RuleContext};
use crate::eval::principal::PrincipalMatch;
use crate::policy::model::PolicyId;
use crate::report::finding::Finding;
use crate::solve::{Candidate, PrincipalKind, Witness};

declare_rule! {
    /// ## What it does
    /// Flags a key-policy statement that names specific principals (roles, users, sessions;
    /// not the account-delegation statement and not `"*"`) and lets them call `kms:Decrypt`
    /// with no encryption-context condition and no `kms:ViaService` condition.
    ///
    /// The rule asks the solver who can call `kms:Decrypt` on the key directly, takes each
    /// principal's allowed request, removes its encryption context and `kms:ViaService`, and
    /// replays it through the evaluator: when it is still allowed through a statement that
    /// names the principal, the statement does not bind decryption to a purpose.
    ///
    /// ## Why is this bad?
    /// Such a principal can decrypt any ciphertext produced under the key, by any application,
    /// and CloudTrail cannot tie its use of the key to a purpose. Requiring an encryption
    /// context (`kms:EncryptionContext:<k>`) or a calling service (`kms:ViaService`) limits
    /// each principal to the data it is meant to read.
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
    ///       "Sid": "ReportsReader",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/Reports" },
    ///       "Action": "kms:Decrypt",
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
    ///       "Sid": "ReportsReader",
    ///       "Effect": "Allow",
    ///       "Principal": { "AWS": "arn:aws:iam::111122223333:role/Reports" },
    ///       "Action": "kms:Decrypt",
    ///       "Resource": "*",
    ///       "Condition": { "StringEquals": { "kms:EncryptionContext:app": "reports" } }
    ///     }
    ///   ]
    /// }
    /// ```
    ///
    /// ## References
    /// - [Encryption context](https://docs.aws.amazon.com/kms/latest/developerguide/encrypt_context.html)
    /// - [AWS KMS condition keys: kms:EncryptionContext and kms:ViaService](https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html)
    /// - [Security best practices for AWS KMS: least privilege](https://docs.aws.amazon.com/kms/latest/developerguide/least-privilege.html)
    pub DecryptNotContextBound {
        id: "KP106",
        name: "decrypt-not-context-bound",
        category: Hygiene,
        severity: Note,
        status: Stable { since: "0.1.0" },
    }
}

impl Rule for DecryptNotContextBound {
    fn by_key(&self) -> bool {
        true
    }

    fn check(&self, cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (ki, key) in cx.keys() {
            if key_policy(cx, key).is_none() || !usage_actions(key).contains(&"kms:Decrypt") {
                continue;
            }
            // The principal elements of the statements that can name a principal itself for
            // `kms:Decrypt` (not everyone): only the principals they name are solved.
            let elements = allow_elements(cx, key, &["kms:Decrypt"], |st| !names_everyone(cx, st));
            let kinds =
                |c: &Candidate| matches!(c.kind, PrincipalKind::Role | PrincipalKind::User | PrincipalKind::Federated);
            let answer = among_named(cx, &elements, kinds, |among| cx.who_can_among(ki, "kms:Decrypt", among));
            let mut by_statement: BTreeMap<(PolicyId, usize), (BTreeSet<String>, Witness)> = BTreeMap::new();
            for entry in &answer.principals {
                let mut bare = entry.witness.clone();
                bare.context.retain(|k, _| {
                    let k = k.to_ascii_lowercase();
                    !k.starts_with("kms:encryptioncontext") && k != "kms:viaservice"
                });
                let Some(Via::KeyPolicy { policy, statement, grade, .. }) = via(cx, ki, &entry.caller, &bare) else {
                    continue;
                };
                // Only statements that name the principal itself: not the account (delegation or
                // cross-account trust), not everyone.
                if !matches!(grade, PrincipalMatch::Direct | PrincipalMatch::DirectLimited)
                    || names_everyone(cx, statement)
                {
                    continue;
                }
                by_statement
                    .entry((policy, statement.index))
                    .or_insert_with(|| (BTreeSet::new(), bare.clone()))
                    .0
                    .insert(entry.principal.clone());
            }
            for ((pid, index), (principals, witness)) in by_statement {
                let Some(st) = statement_of(cx, pid, index) else { continue };
                let message = format!(
                    "statement `{}` lets {} call `kms:Decrypt` on `{}` with no encryption-context or `kms:ViaService` condition",
                    st.label(),
                    name_list(&principals),
                    key.arn
                );
                out.push(
                    statement_finding(cx, self, pid, st, message)
                        .with_resource(Some(key.arn.clone()))
                        .with_witness(witness_json(&witness))
                        .with_help(
                            "require the encryption context the principal's data is encrypted with (`kms:EncryptionContext:<key>`) or the service it decrypts through (`kms:ViaService`)",
                        ),
                );
            }
        }
    }
}
