//! Recognising an input by its top-level shape (inputs.md §1), never by its name alone.

use crate::policy::json::{Json, JsonKind};

/// The message for valid JSON of no known shape.
pub const NOT_RECOGNISED: &str = "not a recognised input: no `Statement`, `KeyMetadata`, `Grants`, … at the top level";

/// Organizations commands that may key a bundled hierarchy file.
const ORG_COMMANDS: &[&str] = &[
    "describe-organization",
    "describe-policy",
    "list-accounts",
    "list-accounts-for-parent",
    "list-children",
    "list-organizational-units-for-parent",
    "list-parents",
    "list-policies",
    "list-policies-for-target",
    "list-roots",
    "list-targets-for-policy",
];

/// What a JSON document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A bare policy document (`Statement` at the top); `resource` when a statement has a
    /// `Principal` or `NotPrincipal`.
    Policy {
        /// Some statement names principals.
        resource: bool,
    },
    /// `aws kms get-key-policy`.
    GetKeyPolicy,
    /// `aws kms describe-key`.
    DescribeKey,
    /// `aws kms list-grants`.
    ListGrants,
    /// `aws kms list-aliases`.
    ListAliases,
    /// `aws kms get-key-rotation-status`.
    RotationStatus,
    /// `aws kms list-keys`.
    ListKeys,
    /// `aws kms list-resource-tags`.
    ListResourceTags,
    /// `aws iam get-account-authorization-details`.
    AuthorizationDetails,
    /// `aws organizations describe-policy`.
    OrgDescribePolicy,
    /// `aws organizations list-policies` / `list-policies-for-target`.
    OrgListPolicies,
    /// `aws organizations describe-organization`.
    OrgDescribeOrganization,
    /// `aws organizations list-accounts` / `list-accounts-for-parent`.
    OrgListAccounts,
    /// `aws organizations list-roots`.
    OrgListRoots,
    /// `aws organizations list-organizational-units-for-parent`.
    OrgListOus,
    /// `aws organizations list-targets-for-policy`.
    OrgListTargets,
    /// `aws organizations list-parents`.
    OrgListParents,
    /// `aws organizations list-children`.
    OrgListChildren,
    /// Several Organizations outputs keyed by their command lines.
    OrgHierarchy,
    /// `aws s3api get-bucket-encryption`.
    S3Encryption,
    /// `aws s3api get-bucket-replication`.
    S3Replication,
    /// `aws dynamodb describe-table`.
    DynamoTable,
    /// `aws ec2 describe-snapshots`.
    Ec2Snapshots,
    /// `aws ec2 describe-snapshot-attribute --attribute createVolumePermission`.
    Ec2SnapshotAttribute,
    /// `terraform show -json` of a plan or a state.
    Terraform,
}

impl Shape {
    /// The kind recorded in `world.files`.
    #[must_use]
    pub fn kind(self) -> &'static str {
        match self {
            Shape::Policy { .. } => "policy",
            Shape::GetKeyPolicy => "kms-get-key-policy",
            Shape::DescribeKey => "kms-describe-key",
            Shape::ListGrants => "kms-list-grants",
            Shape::ListAliases => "kms-list-aliases",
            Shape::RotationStatus => "kms-get-key-rotation-status",
            Shape::ListKeys => "kms-list-keys",
            Shape::ListResourceTags => "kms-list-resource-tags",
            Shape::AuthorizationDetails => "iam-get-account-authorization-details",
            Shape::OrgDescribePolicy => "organizations-describe-policy",
            Shape::OrgListPolicies => "organizations-list-policies",
            Shape::OrgDescribeOrganization => "organizations-describe-organization",
            Shape::OrgListAccounts => "organizations-list-accounts",
            Shape::OrgListRoots => "organizations-list-roots",
            Shape::OrgListOus => "organizations-list-organizational-units-for-parent",
            Shape::OrgListTargets => "organizations-list-targets-for-policy",
            Shape::OrgListParents => "organizations-list-parents",
            Shape::OrgListChildren => "organizations-list-children",
            Shape::OrgHierarchy => "organizations-hierarchy",
            Shape::S3Encryption => "s3-get-bucket-encryption",
            Shape::S3Replication => "s3-get-bucket-replication",
            Shape::DynamoTable => "dynamodb-describe-table",
            Shape::Ec2Snapshots => "ec2-describe-snapshots",
            Shape::Ec2SnapshotAttribute => "ec2-describe-snapshot-attribute",
            Shape::Terraform => "terraform",
        }
    }
}

fn statements(tree: &Json) -> Vec<&Json> {
    match tree.get("Statement").map(|s| &s.kind) {
        Some(JsonKind::Array(items)) => items.iter().collect(),
        Some(JsonKind::Object(_)) => tree.get("Statement").into_iter().collect(),
        _ => Vec::new(),
    }
}

/// True when a statement of the document names principals.
#[must_use]
pub fn names_principals(tree: &Json) -> bool {
    statements(tree).iter().any(|s| s.get("Principal").is_some() || s.get("NotPrincipal").is_some())
}

fn has(tree: &Json, key: &str) -> bool {
    tree.get(key).is_some()
}

fn is_hierarchy(tree: &Json) -> bool {
    let members = tree.members();
    let command = |k: &str| k.split_whitespace().next().is_some_and(|c| ORG_COMMANDS.contains(&c));
    members.iter().any(|m| command(&m.key)) && members.iter().all(|m| m.key.starts_with('_') || command(&m.key))
}

/// The shape of a document, or `None` when it is not a recognised input.
#[must_use]
pub fn recognize(tree: &Json) -> Option<Shape> {
    if !tree.is_object() {
        return None;
    }
    if has(tree, "format_version")
        && has(tree, "terraform_version")
        && (has(tree, "planned_values") || has(tree, "values"))
    {
        return Some(Shape::Terraform);
    }
    if has(tree, "Statement") {
        return Some(Shape::Policy { resource: names_principals(tree) });
    }
    // A single statement published on its own (documentation snippets): read as a one-statement
    // policy (see `policy::parse::build_single_statement`).
    if has(tree, "Effect") && (has(tree, "Action") || has(tree, "NotAction")) {
        return Some(Shape::Policy { resource: has(tree, "Principal") || has(tree, "NotPrincipal") });
    }
    let simple: &[(&str, Shape)] = &[
        ("KeyMetadata", Shape::DescribeKey),
        ("Grants", Shape::ListGrants),
        ("Aliases", Shape::ListAliases),
        ("KeyRotationEnabled", Shape::RotationStatus),
        ("Keys", Shape::ListKeys),
        ("UserDetailList", Shape::AuthorizationDetails),
        ("GroupDetailList", Shape::AuthorizationDetails),
        ("RoleDetailList", Shape::AuthorizationDetails),
    ];
    if let Some((_, shape)) = simple.iter().find(|(k, _)| has(tree, k)) {
        return Some(*shape);
    }
    if let Some(p) = tree.get("Policy") {
        let org = p.get("PolicySummary").is_some() || p.get("Content").is_some();
        return Some(if org { Shape::OrgDescribePolicy } else { Shape::GetKeyPolicy });
    }
    if let Some(p) = tree.get("Policies") {
        let items = p.as_array().unwrap_or(&[]);
        if items.iter().any(|i| i.get("PolicyVersionList").is_some()) {
            return Some(Shape::AuthorizationDetails);
        }
        if items.is_empty() || items.iter().any(|i| i.get("Type").is_some() || i.get("AwsManaged").is_some()) {
            return Some(Shape::OrgListPolicies);
        }
        return None;
    }
    let rest: &[(&str, Shape)] = &[
        ("Organization", Shape::OrgDescribeOrganization),
        ("Accounts", Shape::OrgListAccounts),
        ("Roots", Shape::OrgListRoots),
        ("OrganizationalUnits", Shape::OrgListOus),
        ("Targets", Shape::OrgListTargets),
        ("Parents", Shape::OrgListParents),
        ("Children", Shape::OrgListChildren),
        ("ServerSideEncryptionConfiguration", Shape::S3Encryption),
        ("ReplicationConfiguration", Shape::S3Replication),
        ("Table", Shape::DynamoTable),
        ("Snapshots", Shape::Ec2Snapshots),
        ("CreateVolumePermissions", Shape::Ec2SnapshotAttribute),
    ];
    if let Some((_, shape)) = rest.iter().find(|(k, _)| has(tree, k)) {
        return Some(*shape);
    }
    if let Some(tags) = tree.get("Tags").and_then(Json::as_array) {
        if tags.iter().all(|t| t.get("TagKey").is_some()) {
            return Some(Shape::ListResourceTags);
        }
    }
    if is_hierarchy(tree) {
        return Some(Shape::OrgHierarchy);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::json::parse;

    fn shape(text: &str) -> Option<Shape> {
        recognize(&parse(text).unwrap())
    }

    #[test]
    fn shapes() {
        assert_eq!(shape(r#"{"Statement":[{"Principal":"*"}]}"#), Some(Shape::Policy { resource: true }));
        assert_eq!(shape(r#"{"Statement":{"Effect":"Allow"}}"#), Some(Shape::Policy { resource: false }));
        assert_eq!(shape(r#"{"Policy":"{}","PolicyName":"default"}"#), Some(Shape::GetKeyPolicy));
        assert_eq!(shape(r#"{"Policy":{"PolicySummary":{},"Content":"{}"}}"#), Some(Shape::OrgDescribePolicy));
        assert_eq!(shape(r#"{"Policies":[{"PolicyVersionList":[]}]}"#), Some(Shape::AuthorizationDetails));
        assert_eq!(
            shape(r#"{"Policies":[{"Id":"p-1","Type":"SERVICE_CONTROL_POLICY"}]}"#),
            Some(Shape::OrgListPolicies)
        );
        assert_eq!(shape(r#"{"Tags":[{"TagKey":"a","TagValue":"b"}]}"#), Some(Shape::ListResourceTags));
        assert_eq!(shape(r#"{"_c":"x","list-roots":{"Roots":[]}}"#), Some(Shape::OrgHierarchy));
        assert_eq!(
            shape(r#"{"format_version":"1.2","terraform_version":"1.9.5","values":{}}"#),
            Some(Shape::Terraform)
        );
        assert_eq!(shape(r#"{"notes":"x"}"#), None);
        assert_eq!(shape(r#"[1]"#), None);
        assert_eq!(shape(r#"{"_c":"x"}"#), None);
    }
}
