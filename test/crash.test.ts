/**
 * Goal: nothing acknowledged is lost when the process dies. A child process (test/crash-child.ts)
 * runs a concurrent transfer load against a real PostgreSQL and prints each transfer id the ledger
 * acknowledged; the parent kills it with SIGKILL at a random moment, several times in a row, and
 * after every kill checks that the books reconcile, the hash chain verifies, and every
 * acknowledged id is in the journal exactly once. A self-check then runs the child in a mode that
 * acknowledges before the ledger returns, and requires the same check to catch it, so this test
 * can fail.
 * Method: one schema for the file, migrated and funded here; children connect to it. The kill
 * moments come from a seed (CRASH_SEED, random by default, printed); CRASH_KILLS sets the number
 * of kills (default 5). Every wait is bounded.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../src/kernel/clock.ts';
import { createIdGenerator } from '../src/kernel/ids.ts';
import { cryptoRandom, SeededRandom } from '../src/kernel/random.ts';
import { Ledger, reconcile, verifyChain } from '../src/ledger/index.ts';
import { testLedgerConfig, systemInput, walletInput } from '../src/testing/ledger.ts';
import { createTestDb, type TestDb } from '../src/testing/pg.ts';

const seed = Number(process.env['CRASH_SEED'] ?? String(randomInt(1, 2 ** 31)));
const killCount = Number(process.env['CRASH_KILLS'] ?? '5');
const walletCount = 50;
const fundingMinor = 1_000_000_000n;
const ackCountMin = 50;
const killDelayMinMs = 200;
const killDelayMaxMs = 1500;
/** How long a child may take to start and print its first acks (tsx compiles on start). */
const firstAcksTimeoutMs = 30_000;
const exitTimeoutMs = 10_000;
const pollIntervalMs = 10;
/** The self-check's tries: one kill almost always catches a premature ack (32 are in flight). */
const earlyAckAttemptsMax = 3;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const childScript = path.join(repoRoot, 'test', 'crash-child.ts');

let db: TestDb;

before(async () => {
  db = await createTestDb({ poolSize: 4 });
  const ledger = new Ledger({ sql: db.sql, clock: systemClock, ids: createIdGenerator(systemClock, cryptoRandom), config: testLedgerConfig });
  try {
    await ledger.createAccount(systemInput({ id: 'bank' }));
    await ledger.createAccount(walletInput({ id: 'hot', code: 'merchant.hot', shardCount: 3 }));
    const wallets = Array.from({ length: walletCount }, (_, index) => `w${String(index)}`);
    for (const id of wallets) await ledger.createAccount(walletInput({ id }));
    const funded = await Promise.all(
      wallets.map((id) => ledger.transfer({ id: `fund.${id}`, type: 'posted', debitAccountId: 'bank', creditAccountId: id, amountMinor: fundingMinor, currency: 'CNY', kind: 'topup' })),
    );
    assert.ok(funded.every((result) => result.status === 'created'), 'the wallets are funded');
  } finally {
    await ledger.close();
  }
});

after(async () => {
  await db.close();
});

interface KillOutcome {
  readonly acks: string[];
  readonly stderr: string;
  readonly killedAfterMs: number;
}

/** The parent's environment without the test runner's own marker, which the child must not see. */
function childEnvironment(): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _testContext, ...rest } = process.env;
  return rest;
}

/** Starts a child, lets it acknowledge for a while, kills it with SIGKILL, and returns its acks. */
async function runAndKill(run: string, killDelayMs: number, isAckEarly: boolean): Promise<KillOutcome> {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...childEnvironment(),
      DATABASE_URL: db.url,
      CRASH_SCHEMA: db.schema,
      CRASH_RUN: run,
      CRASH_SEED: String(seed),
      CRASH_WALLETS: String(walletCount),
      CRASH_ACK_EARLY: isAckEarly ? '1' : '0',
    },
  });
  const acks: string[] = [];
  let pending = '';
  let stderr = '';
  let firstAckMs: number | undefined;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    // Only complete lines count: a torn last line stays pending (and is dropped if the kill cut it).
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('ack ')) acks.push(line.slice('ack '.length));
    }
    if (firstAckMs === undefined && acks.length > 0) firstAckMs = performance.now();
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-10_000);
  });
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      resolve({ code, signal });
    });
  });
  const hasExited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const startedMs = performance.now();
  let killedAfterMs = 0;
  try {
    const pollsMax = Math.ceil((firstAcksTimeoutMs + killDelayMaxMs) / pollIntervalMs);
    for (let poll = 0; poll < pollsMax; poll++) {
      assert.ok(!hasExited(), `[crash seed ${String(seed)}] run ${run}: the child ended before the kill:\n${stderr}`);
      if (firstAckMs !== undefined && acks.length >= ackCountMin && performance.now() - firstAckMs >= killDelayMs) {
        killedAfterMs = Math.round(performance.now() - firstAckMs);
        break;
      }
      assert.ok(performance.now() - startedMs < firstAcksTimeoutMs + killDelayMaxMs, `[crash seed ${String(seed)}] run ${run}: no ${String(ackCountMin)} acks in time:\n${stderr}`);
      await sleep(pollIntervalMs);
    }
    assert.ok(child.kill('SIGKILL'), `[crash seed ${String(seed)}] run ${run}: the kill was delivered`);
    const exit = await Promise.race([closed, sleep(exitTimeoutMs).then(() => undefined)]);
    assert.ok(exit !== undefined, `[crash seed ${String(seed)}] run ${run}: the child exited after SIGKILL`);
    assert.equal(exit.signal, 'SIGKILL', `[crash seed ${String(seed)}] run ${run}: the child died of the kill, not on its own:\n${stderr}`);
  } finally {
    if (!hasExited()) child.kill('SIGKILL');
  }
  return { acks, stderr, killedAfterMs };
}

/** The acknowledged ids missing from the journal, and any that appear more than once. */
async function findLost(ids: readonly string[]): Promise<{ missing: string[]; duplicated: string[] }> {
  const rows = await db.sql<{ id: string; n: bigint }[]>`
    SELECT id, count(*)::int8 AS n FROM ledger_transfers WHERE id = ANY(${[...ids]}::text[]) GROUP BY id`;
  const counts = new Map(rows.map((row) => [row.id, row.n]));
  return {
    missing: ids.filter((id) => !counts.has(id)),
    duplicated: rows.filter((row) => row.n !== 1n).map((row) => row.id),
  };
}

async function assertLedgerHealthy(context: string): Promise<void> {
  const report = await reconcile(db.sql);
  assert.ok(report.ok, `${context}: reconcile: ${JSON.stringify(report.problems)}`);
  const chain = await verifyChain(db.sql);
  assert.ok(chain.ok, `${context}: verifyChain: ${JSON.stringify(chain.brokenAt, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))}`);
}

test('every acknowledged transfer survives SIGKILL, again and again', { timeout: 180_000 }, async (t) => {
  t.diagnostic(`crash seed ${String(seed)} (replay the kill moments with CRASH_SEED=${String(seed)})`);
  const random = new SeededRandom(seed);
  const allAcks: string[] = [];
  for (let kill = 0; kill < killCount; kill++) {
    const context = `[crash seed ${String(seed)}] kill ${String(kill)}`;
    const outcome = await runAndKill(`k${String(kill)}`, random.int(killDelayMinMs, killDelayMaxMs + 1), false);
    assert.equal(new Set(outcome.acks).size, outcome.acks.length, `${context}: the child acked each id once`);
    await assertLedgerHealthy(context);
    const lost = await findLost(outcome.acks);
    assert.deepEqual(
      { missing: lost.missing.slice(0, 20), duplicated: lost.duplicated.slice(0, 20) },
      { missing: [], duplicated: [] },
      `${context}: every acknowledged id is in the journal exactly once (${String(lost.missing.length)} of ${String(outcome.acks.length)} missing)`,
    );
    allAcks.push(...outcome.acks);
    t.diagnostic(`${context}: ${String(outcome.acks.length)} acks, killed ${String(outcome.killedAfterMs)} ms after the first`);
  }
  // Later runs must not have disturbed what earlier runs were promised.
  const lost = await findLost(allAcks);
  assert.deepEqual(lost, { missing: [], duplicated: [] }, `[crash seed ${String(seed)}] all acks survive all runs`);
});

test('self-check: acknowledging before the ledger returns is caught', { timeout: 120_000 }, async (t) => {
  const random = new SeededRandom(seed + 1);
  let missingCount = 0;
  for (let attempt = 0; attempt < earlyAckAttemptsMax && missingCount === 0; attempt++) {
    const outcome = await runAndKill(`early${String(attempt)}`, random.int(killDelayMinMs, killDelayMaxMs + 1), true);
    // The ledger itself stays correct; only the child's promise to its caller was false.
    await assertLedgerHealthy(`[crash seed ${String(seed)}] early ack ${String(attempt)}`);
    missingCount = (await findLost(outcome.acks)).missing.length;
    t.diagnostic(`early-ack attempt ${String(attempt)}: ${String(outcome.acks.length)} acks, ${String(missingCount)} not in the journal`);
  }
  assert.ok(missingCount > 0, `[crash seed ${String(seed)}] premature acks were detected as lost`);
});
