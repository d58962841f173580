// npm run audit:verify [-- --anchor <sequence>:<hash>]
// Seals the audit entries waiting for a seal, then checks the whole audit chain with AUDIT_CHAIN_KEY
// (lib/audit-chain/verify-audit-chain.ts) and records the verification (the Audit log page shows it).
// Exits 0 when the chain is intact, 1 naming the first broken link, 2 on a usage error. --anchor
// also checks a seal kept outside the database (printed by every run), which shows the newest
// seals cut off with their entries. Run with `tsx --conditions=react-server` ("server-only" modules).
import { parseArgs } from "node:util";

import { runAuditVerification } from "../lib/audit-chain/run-audit-verification.ts";
import type { TSealAnchor } from "../lib/audit-chain/verify-audit-chain.ts";
import { createPrismaClient } from "../lib/db.ts";
import { getEnv } from "../lib/env.ts";

const USAGE = "Usage: npm run audit:verify [-- --anchor <seal sequence>:<seal hash>]";

function parseAnchor(value: string | undefined): TSealAnchor | undefined | "invalid" {
  if (value === undefined) return undefined;
  const match = /^(\d{1,9}):([0-9a-fA-F]{64})$/.exec(value.trim());
  return match ? { sequence: Number(match[1]), hash: (match[2] ?? "").toLowerCase() } : "invalid";
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { anchor: { type: "string" } } });
  const anchor = parseAnchor(values.anchor);
  if (anchor === "invalid") {
    console.error(`--anchor must be <seal sequence>:<64 hex characters>, as a verification prints it.\n${USAGE}`);
    return 2;
  }
  const env = getEnv();
  const db = createPrismaClient(env.DATABASE_URL);
  try {
    const run = await runAuditVerification(db, {
      key: env.AUDIT_CHAIN_KEY,
      trigger: "script",
      actorLabel: "Command line",
      ...(anchor ? { anchor } : {}),
    });
    const seal = run.lastSeal;
    const size = `${run.entriesChecked} sealed ${run.entriesChecked === 1 ? "entry" : "entries"} in ${run.sealsChecked} ${
      run.sealsChecked === 1 ? "seal" : "seals"
    }`;
    if (run.ok) {
      console.log(`Audit chain intact: ${size}${run.sealed > 0 ? ` (${run.sealed} sealed by this run)` : ""}.`);
      if (run.unsealedEntries > 0) console.log(`${run.unsealedEntries} entries written during the run wait for the next seal.`);
    } else {
      const first = run.problems[0];
      console.error(`Audit chain BROKEN: ${run.problemCount} ${run.problemCount === 1 ? "problem" : "problems"} in ${size}.`);
      if (first) {
        console.error(`First broken link: ${first.detail}`);
        console.error(
          `  problem=${first.kind} entry=${first.entryId ?? "-"} position=${first.position ?? "-"} seal=${first.sealSequence ?? "-"}`,
        );
      }
      for (const problem of run.problems.slice(1)) console.error(`  then: ${problem.detail}`);
      if (run.problemCount > run.problems.length) console.error(`  … and ${run.problemCount - run.problems.length} more.`);
    }
    if (seal) {
      console.log(`Latest seal: ${seal.sequence}:${seal.hash} (sealed ${seal.sealedAt.toISOString()}).`);
      console.log("Keep it outside the database and pass it as --anchor next time: a log cut after it is then caught.");
    }
    return run.ok ? 0 : 1;
  } finally {
    await db.$disconnect();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
