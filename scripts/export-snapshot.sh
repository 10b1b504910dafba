#!/usr/bin/env bash
# Writes the account snapshot layout of spec/inputs.md §2 with the AWS CLI, for the account of the
# current credentials and, when they are allowed to read it, its organization:
#
#   scripts/export-snapshot.sh [--out DIR] [--regions us-east-1,eu-west-1] [--org | --no-org]
#   keyproof check DIR
#
# Only read-only calls are made (get-*, list-*, describe-*). The AWS CLI follows the pagination
# tokens itself (this script never passes --max-items), so every listing file holds all pages.
# Throttled calls are retried with backoff (AWS_RETRY_MODE=adaptive, AWS_MAX_ATTEMPTS=10 unless set).
# A call that is denied or fails leaves its file out — keyproof then says what it could not know,
# e.g. "grants of … not collected" — and the reason goes to stderr and to DIR/_export-log.txt.
# AWS_ENDPOINT_URL (and the per-service AWS_ENDPOINT_URL_<SERVICE>) is honoured by the AWS CLI
# (v2, and v1 from 1.29), which is how the test suite points it at a local emulator.
#
# Exit status: 0 when the export ran (even with skipped calls); 1 when --org was given and the
# organization could not be read completely; 2 when it could not start (no AWS CLI, no
# credentials, no Region, bad arguments).
set -euo pipefail

usage() {
  cat <<'EOF'
usage: export-snapshot.sh [--out DIR] [--regions LIST] [--org | --no-org]

  --out DIR        where to write the snapshot (default: ./snapshot)
  --regions LIST   Regions to export, comma- or space-separated (default: the account's enabled
                   Regions from `aws ec2 describe-regions`, else AWS_REGION / AWS_DEFAULT_REGION)
  --org            export the organization (fail the export if it cannot be read)
  --no-org         do not export the organization (default: export it when the credentials can)
EOF
}

out=snapshot
regions=""
org=auto
while [ $# -gt 0 ]; do
  case "$1" in
    -o | --out)
      [ $# -ge 2 ] || { usage >&2; exit 2; }
      out=$2
      shift 2
      ;;
    --regions)
      [ $# -ge 2 ] || { usage >&2; exit 2; }
      regions=$2
      shift 2
      ;;
    --org) org=yes; shift ;;
    --no-org) org=no; shift ;;
    -h | --help) usage; exit 0 ;;
    *)
      printf 'export-snapshot: unknown argument \140%s\140\n' "$1" >&2
      usage >&2
      exit 2
      ;;
  esac
done

if ! command -v aws >/dev/null 2>&1; then
  echo "export-snapshot: the AWS CLI (\`aws\`) is not installed" >&2
  exit 2
fi

export AWS_RETRY_MODE="${AWS_RETRY_MODE:-adaptive}"
export AWS_MAX_ATTEMPTS="${AWS_MAX_ATTEMPTS:-10}"
export AWS_PAGER=""

mkdir -p "$out"
log_file="$out/_export-log.txt"
: >"$log_file"
written=0
skipped=0

log() {
  printf '%s\n' "$*" | tee -a "$log_file" >&2
}

# The first lines of an error output, on one line.
reason_of() {
  tr '\n' ' ' <"$1" | sed -e 's/  */ /g' -e 's/^ //' -e 's/ $//' | cut -c 1-400
}

# save FILE SERVICE COMMAND [ARGS...]: runs one read-only call and writes its JSON output to
# $out/FILE; a failed or denied call (or an empty answer) leaves FILE out and logs why.
save() {
  local rel=$1
  shift
  local dest="$out/$rel"
  local tmp="$dest.partial" err="$dest.err"
  mkdir -p "$(dirname "$dest")"
  if aws "$@" --output json >"$tmp" 2>"$err" && [ -s "$tmp" ]; then
    if grep -q -e '"NextToken": "' -e '"NextMarker": "' -e '"IsTruncated": true' -e '"Truncated": true' "$tmp"; then
      log "warning: $rel: the answer still holds a pagination token; not every page may have been read"
    fi
    mv "$tmp" "$dest"
    rm -f "$err"
    written=$((written + 1))
    return 0
  fi
  local why
  why=$(reason_of "$err")
  rm -f "$tmp" "$err"
  skipped=$((skipped + 1))
  log "skipped $rel: aws $1 $2: ${why:-empty answer}"
  return 1
}

# ids WHAT SERVICE COMMAND [ARGS...] --query EXPR: the identifiers a listing returns, one per line
# (every page); a failed call is logged and gives none.
ids() {
  local what=$1
  shift
  local err list
  err=$(mktemp)
  if list=$(aws "$@" --output text 2>"$err"); then
    rm -f "$err"
    printf '%s\n' "$list" | tr '\t' '\n' | grep -v -e '^None$' -e '^$' || true
    return 0
  fi
  log "skipped $what: aws $1 $2: $(reason_of "$err")"
  rm -f "$err"
  return 1
}

# --- Who and where ------------------------------------------------------------------------------

err=$(mktemp)
if ! account=$(aws sts get-caller-identity --query Account --output text 2>"$err"); then
  log "export-snapshot: cannot identify the account of the credentials: $(reason_of "$err")"
  rm -f "$err"
  exit 2
fi
rm -f "$err"
case "$account" in
  [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;;
  *)
    log "export-snapshot: \`aws sts get-caller-identity\` answered \`$account\`, not a 12-digit account id"
    exit 2
    ;;
esac

if [ -n "$regions" ]; then
  region_list=$(printf '%s\n' "$regions" | tr ', ' '[\n*]' | grep -v '^$' | sort -u)
else
  region_list=$(ids "the list of Regions" ec2 describe-regions --query 'Regions[].RegionName' | sort -u) || region_list=""
  if [ -z "$region_list" ]; then
    region_list="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
  fi
fi
if [ -z "$region_list" ]; then
  log "export-snapshot: no Region: give --regions or set AWS_REGION"
  exit 2
fi
log "exporting account $account, Regions: $(printf '%s' "$region_list" | tr '\n' ' ')"

# --- IAM ----------------------------------------------------------------------------------------

save "$account/iam/authorization-details.json" iam get-account-authorization-details || true

# --- S3 (buckets are listed once, from any Region) ---------------------------------------------

buckets=$(ids "the list of buckets" s3api list-buckets --query 'Buckets[].Name') || buckets=""
for bucket in $buckets; do
  save "$account/s3/$bucket/get-bucket-encryption.json" s3api get-bucket-encryption --bucket "$bucket" || true
  save "$account/s3/$bucket/get-bucket-replication.json" s3api get-bucket-replication --bucket "$bucket" || true
done

# --- Per Region: KMS, DynamoDB, EBS snapshots ---------------------------------------------------

for region in $region_list; do
  kms="$account/kms/$region"
  save "$kms/list-aliases.json" kms list-aliases --region "$region" || true
  keys=$(ids "the keys of $region" kms list-keys --region "$region" --query 'Keys[].KeyId') || keys=""
  for key in $keys; do
    dir="$kms/keys/$key"
    save "$dir/describe-key.json" kms describe-key --region "$region" --key-id "$key" || true
    save "$dir/key-policy.json" kms get-key-policy --region "$region" --key-id "$key" --policy-name default || true
    save "$dir/list-grants.json" kms list-grants --region "$region" --key-id "$key" || true
    save "$dir/rotation-status.json" kms get-key-rotation-status --region "$region" --key-id "$key" || true
  done

  tables=$(ids "the tables of $region" dynamodb list-tables --region "$region" --query 'TableNames[]') || tables=""
  for table in $tables; do
    save "$account/dynamodb/$region/$table/describe-table.json" dynamodb describe-table --region "$region" \
      --table-name "$table" || true
  done

  snapshots=$(ids "the EBS snapshots of $region" ec2 describe-snapshots --region "$region" --owner-ids self \
    --query 'Snapshots[].SnapshotId') || snapshots=""
  for snapshot in $snapshots; do
    dir="$account/ec2/$region/snapshots/$snapshot"
    save "$dir/describe-snapshots.json" ec2 describe-snapshots --region "$region" --snapshot-ids "$snapshot" || true
    save "$dir/describe-snapshot-attribute.json" ec2 describe-snapshot-attribute --region "$region" \
      --snapshot-id "$snapshot" --attribute createVolumePermission || true
  done
done

# --- Organizations ------------------------------------------------------------------------------

org_failed=0
if [ "$org" != no ]; then
  if save organization/describe-organization.json organizations describe-organization; then
    save organization/list-accounts.json organizations list-accounts || org_failed=1
    save organization/list-roots.json organizations list-roots || org_failed=1
    # The OU tree, breadth first from the roots: which OUs and accounts sit under each parent.
    queue=$(ids "the roots of the organization" organizations list-roots --query 'Roots[].Id') || queue=""
    while [ -n "$queue" ]; do
      parent=$(printf '%s\n' "$queue" | head -n 1)
      queue=$(printf '%s\n' "$queue" | tail -n +2)
      dir="organization/parents/$parent"
      save "$dir/list-organizational-units-for-parent.json" organizations list-organizational-units-for-parent \
        --parent-id "$parent" || org_failed=1
      save "$dir/list-accounts-for-parent.json" organizations list-accounts-for-parent --parent-id "$parent" ||
        org_failed=1
      children=$(ids "the OUs under $parent" organizations list-organizational-units-for-parent \
        --parent-id "$parent" --query 'OrganizationalUnits[].Id') || children=""
      if [ -n "$children" ]; then
        queue=$(printf '%s\n%s\n' "$queue" "$children" | grep -v '^$' || true)
      fi
    done
    for type in SERVICE_CONTROL_POLICY RESOURCE_CONTROL_POLICY; do
      policies=$(ids "the policies of type $type" organizations list-policies --filter "$type" \
        --query 'Policies[].Id') || policies=""
      for policy in $policies; do
        dir="organization/policies/$policy"
        save "$dir/describe-policy.json" organizations describe-policy --policy-id "$policy" || org_failed=1
        save "$dir/list-targets.json" organizations list-targets-for-policy --policy-id "$policy" || org_failed=1
      done
    done
  else
    org_failed=1
  fi
fi

log "wrote $written files to $out, skipped $skipped calls (reasons above and in $log_file)"
if [ "$org" = yes ] && [ "$org_failed" -ne 0 ]; then
  log "export-snapshot: --org was given and the organization could not be read completely"
  exit 1
fi
exit 0
