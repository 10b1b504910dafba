#!/usr/bin/env python3
"""Side by side on the same inputs, from one run (docs/performance.md).

The key policies of a generated organization (`gen-org`), written out as plain policy
documents and as one Terraform plan of `aws_kms_key` resources, are checked by:

- keyproof `check` and parliament (an IAM policy linter), on the policy documents;
- keyproof `check` and checkov (`--framework terraform_plan`), on the plan.

Prints one markdown table of wall times and ratios. Needs parliament and checkov on PATH (or
in --tools-bin, e.g. a virtualenv's `bin`); install them apart from the AWS CLI, whose
botocore they pin to other versions:

    python3 -m venv /tmp/lintenv && /tmp/lintenv/bin/pip install parliament checkov
    scripts/side-by-side.py /tmp/org200 --keys 1000 --tools-bin /tmp/lintenv/bin
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def key_policies(org, limit):
    out = []
    for path in sorted(glob.glob(os.path.join(org, "*", "kms", "*", "keys", "*", "key-policy.json"))):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        policy = doc.get("Policy")
        if isinstance(policy, str):
            out.append(json.loads(policy))
        if len(out) == limit:
            break
    return out


def plan_of(policies):
    resources, changes = [], []
    for i, p in enumerate(policies):
        values = {
            "policy": json.dumps(p),
            "description": f"key {i}",
            "enable_key_rotation": True,
            "deletion_window_in_days": 30,
            "key_usage": "ENCRYPT_DECRYPT",
            "customer_master_key_spec": "SYMMETRIC_DEFAULT",
            "multi_region": False,
            "is_enabled": True,
            "bypass_policy_lockout_safety_check": False,
            "tags": {},
        }
        address = f"aws_kms_key.k{i}"
        common = {"address": address, "mode": "managed", "type": "aws_kms_key", "name": f"k{i}",
                  "provider_name": "registry.terraform.io/hashicorp/aws"}
        resources.append({**common, "schema_version": 0, "values": values, "sensitive_values": {}})
        changes.append({**common, "change": {"actions": ["create"], "before": None, "after": values,
                                             "after_unknown": {"arn": True, "key_id": True, "id": True}}})
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "planned_values": {"root_module": {"resources": resources}},
        "resource_changes": changes,
        "configuration": {"root_module": {}},
    }


def timed(cmd):
    # Offline, as keyproof: checkov would otherwise try to download its guideline mappings.
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, env=env)
    took = time.perf_counter() - start
    return took, proc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("org")
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--keyproof", default="target/release/keyproof")
    ap.add_argument("--tools-bin", default="")
    args = ap.parse_args()

    def tool(name):
        found = os.path.join(args.tools_bin, name) if args.tools_bin else shutil.which(name)
        if not found or not os.path.exists(found):
            sys.exit(f"{name} not found (pip install it, or give --tools-bin)")
        return found

    parliament, checkov = tool("parliament"), tool("checkov")
    policies = key_policies(args.org, args.keys)
    work = tempfile.mkdtemp(prefix="keyproof-side-by-side-")
    pdir = os.path.join(work, "policies")
    os.makedirs(pdir)
    for i, p in enumerate(policies):
        with open(os.path.join(pdir, f"key-{i:05}.json"), "w", encoding="utf-8") as f:
            json.dump(p, f, indent=2)
    plan = os.path.join(work, "plan.json")
    with open(plan, "w", encoding="utf-8") as f:
        json.dump(plan_of(policies), f)

    rows = []
    kp_dir, kp_dir_out = timed([args.keyproof, "check", "--format", "json", pdir])
    pa, pa_out = timed([parliament, "--directory", pdir, "--json"])
    kp_plan, kp_plan_out = timed([args.keyproof, "check", "--format", "json", plan])
    ck, ck_out = timed([checkov, "-f", plan, "--framework", "terraform_plan", "-o", "json", "--quiet", "--skip-download"])

    def findings_keyproof(proc):
        try:
            return len(json.loads(proc.stdout)["findings"])
        except (ValueError, KeyError):
            return "?"

    def findings_parliament(proc):
        return sum(1 for line in proc.stdout.decode().splitlines() if line.strip())

    def findings_checkov(proc):
        try:
            doc = json.loads(proc.stdout)
            docs = doc if isinstance(doc, list) else [doc]
            return sum(d.get("summary", {}).get("failed", 0) for d in docs)
        except ValueError:
            return "?"

    rows.append((f"{len(policies)} key policies (JSON files)", "keyproof check", kp_dir, findings_keyproof(kp_dir_out), 1.0))
    rows.append(("", "parliament --directory", pa, findings_parliament(pa_out), pa / kp_dir))
    rows.append((f"one Terraform plan of {len(policies)} keys", "keyproof check", kp_plan, findings_keyproof(kp_plan_out), 1.0))
    rows.append(("", "checkov --framework terraform_plan", ck, findings_checkov(ck_out), ck / kp_plan))
    print("| input | tool | wall time | findings | time relative to keyproof |")
    print("| --- | --- | --- | --- | --- |")
    for inp, name, took, found, ratio in rows:
        print(f"| {inp} | {name} | {took:.2f} s | {found} | {ratio:.1f}× |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
