// Differential-testing oracle: runs @cloud-copilot/iam-simulate (AGPL, used only as an external
// process at test time; nothing of it is copied into this repository) over JSON Lines cases.
//
// Input (stdin), one case per line:
//   { "id", "keyPolicy": {...}, "identityPolicies": [{...}], "permissionBoundaryPolicies"?: [{...}],
//     "scps"?: [[policies of the root], [policies of an OU], ..., [policies of the account]],
//     "request": { "principal": "arn", "action": "kms:Decrypt", "resource": "key arn",
//                  "resourceAccount": "111122223333", "context": { "key": "value" | ["v", ...] } } }
// Output (stdout), one line per case, in input order:
//   { "id", "decision": "Allow" | "ExplicitDeny" | "ImplicitDeny", "error"?: "...",
//     "ignoredContextKeys"?: [...], "ecDecision"?: "..." }
//
// `decision` comes from `runSimulation`, the validated public entry point. That entry point drops
// context keys that the action's Service Authorization Reference entry does not list literally,
// which includes every `kms:EncryptionContext:<k>` key. When it dropped such a key, the case is
// also run through `runUnsafeSimulation` with the full context and the result is reported as
// `ecDecision`, so the test can tell a disagreement caused by the dropped key from a real one.
//
// Run: node tests/oracle/oracle.mjs < cases.jsonl
// Install: npm ci --prefix tests/oracle

import { createInterface } from 'node:readline';
import { createValidatedPolicy, validateResourcePolicy } from '@cloud-copilot/iam-policy';
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate';

const DECISIONS = {
  Allowed: 'Allow',
  ExplicitlyDenied: 'ExplicitDeny',
  ImplicitlyDenied: 'ImplicitDeny'
};

function simulation(c) {
  const r = c.request;
  const sim = {
    request: {
      principal: r.principal,
      action: r.action,
      resource: { resource: r.resource, accountId: r.resourceAccount },
      contextVariables: r.context ?? {}
    },
    identityPolicies: (c.identityPolicies ?? []).map((policy, i) => ({ name: `identity-${i}`, policy })),
    serviceControlPolicies: (c.scps ?? []).map((level, i) => ({
      orgIdentifier: `level-${i}`,
      policies: level.map((policy, j) => ({ name: `scp-${i}-${j}`, policy }))
    })),
    resourceControlPolicies: [],
    resourcePolicy: c.keyPolicy
  };
  if (c.permissionBoundaryPolicies && c.permissionBoundaryPolicies.length > 0) {
    sim.permissionBoundaryPolicies = c.permissionBoundaryPolicies.map((policy, i) => ({
      name: `boundary-${i}`,
      policy
    }));
  }
  return sim;
}

// Time spent inside `runSimulation` only (no process start, no JSON), for docs/performance.md.
let simNanos = 0n;
let simCount = 0;

async function runCase(c) {
  const out = { id: c.id };
  try {
    const sim = simulation(c);
    const t0 = process.hrtime.bigint();
    const res = await runSimulation(sim, {});
    simNanos += process.hrtime.bigint() - t0;
    simCount += 1;
    if (res.resultType === 'error') {
      out.decision = null;
      out.error = JSON.stringify(res.errors);
      return out;
    }
    out.decision = DECISIONS[res.overallResult] ?? null;
    if (out.decision === null) {
      out.error = `unknown result ${res.overallResult}`;
    }
    const ignored = res.resultType === 'single' ? (res.result.ignoredContextKeys ?? []) : [];
    if (ignored.length > 0) {
      out.ignoredContextKeys = ignored;
    }
    if (ignored.some((k) => k.toLowerCase().startsWith('kms:encryptioncontext:'))) {
      // runUnsafeSimulation loads the resource policy without a name and then reads the name;
      // a validated policy carries its own metadata.
      const unsafe = {
        ...sim,
        resourcePolicy: createValidatedPolicy(sim.resourcePolicy, validateResourcePolicy, { name: 'key-policy' })
      };
      out.ecDecision = DECISIONS[runUnsafeSimulation(unsafe, {})] ?? null;
    }
  } catch (e) {
    out.decision = null;
    out.error = String(e && e.stack ? e.stack : e);
  }
  return out;
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
const lines = [];
for await (const line of rl) {
  if (line.trim() === '') continue;
  let c;
  try {
    c = JSON.parse(line);
  } catch (e) {
    lines.push(JSON.stringify({ id: null, decision: null, error: `bad input line: ${e}` }));
    continue;
  }
  lines.push(JSON.stringify(await runCase(c)));
}
process.stdout.write(lines.join('\n') + (lines.length > 0 ? '\n' : ''));
process.stderr.write(`oracle-simulation-time ${simNanos} ns ${simCount} requests\n`);
