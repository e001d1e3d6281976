/**
 * Benchmark, not a test: times the real Pulumi CLI against the Admin API double for rosters of
 * 10, 100 and 500 users (first up, no-change up, adding one user, destroy) and counts the Admin
 * API calls of each step. Run with `npm run bench`; pass sizes as arguments to pick others.
 */
import { createGatewayHarness, GatewayHarness } from "../e2e/gateway-harness";

interface Row {
  users: number;
  step: string;
  seconds: number;
  calls: number;
  writes: number;
}

function roster(users: number) {
  const groups: Record<string, { users: string[] }> = {};
  for (let i = 0; i < users; i++) {
    const group = `team${String(Math.floor(i / 5)).padStart(3, "0")}`;
    (groups[group] ??= { users: [] }).users.push(`user${String(i).padStart(4, "0")}`);
  }
  return { groups };
}

async function timed(
  harness: GatewayHarness,
  users: number,
  step: string,
  run: () => Promise<unknown>,
) {
  harness.double.resetCalls();
  const started = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const calls = harness.double.calls.length;
  const writes = harness.double.calls.filter((call) => call.method !== "GET").length;
  return { users, step, seconds, calls, writes };
}

async function measure(users: number): Promise<Row[]> {
  const harness = await createGatewayHarness(`bench${users}`);
  const rows: Row[] = [];
  try {
    const base = roster(users);
    harness.writeGroups(base);
    rows.push(await timed(harness, users, "first up", () => harness.up()));
    rows.push(await timed(harness, users, "no-change up", () => harness.up()));
    const grown = structuredClone(base);
    grown.groups.newcomers = { users: ["late-arrival"] };
    harness.writeGroups(grown);
    rows.push(await timed(harness, users, "add one user", () => harness.up()));
    rows.push(
      await timed(harness, users, "destroy", () =>
        harness.stack.pulumiOk(["destroy", "--yes", "--skip-preview"]),
      ),
    );
  } finally {
    await harness.dispose();
  }
  return rows;
}

async function main() {
  const sizes = process.argv.slice(2).map(Number);
  const rows: Row[] = [];
  for (const users of sizes.length > 0 ? sizes : [10, 100, 500]) {
    rows.push(...(await measure(users)));
  }
  console.log("| users | step | seconds | Admin API calls | of which writes |");
  console.log("| ---: | --- | ---: | ---: | ---: |");
  for (const row of rows) {
    console.log(
      `| ${row.users} | ${row.step} | ${row.seconds.toFixed(1)} | ${row.calls} | ${row.writes} |`,
    );
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
