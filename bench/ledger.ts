/**
 * The ledger benchmark, all in one run against one database (DATABASE_URL, or the embedded
 * PostgreSQL under .qianbao/bench):
 *   (a) baseline — the plain way: one transfer per transaction (two row updates and a journal
 *       insert), 64 concurrent clients, random accounts among 100,000;
 *   (b) engine — the batching writer, 64 concurrent submitters, random accounts among 100,000;
 *   (c) hot — the engine with every transfer crediting one hot merchant account.
 * Durability is PostgreSQL's default in every phase (fsync and synchronous_commit on).
 * Phases run in rounds (baseline, engine, hot; repeated), and each phase reports its median round.
 * `--quick` runs two rounds of short phases (the whole run stays under 60 s).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { systemClock } from '../src/kernel/clock.ts';
import { loadConfig } from '../src/kernel/config.ts';
import { connect, migrate, type Sql } from '../src/kernel/db.ts';
import { openBenchDatabase } from './database.ts';
import { createIdGenerator } from '../src/kernel/ids.ts';
import { cryptoRandom } from '../src/kernel/random.ts';
import { Ledger, reconcile, type BatchObserver } from '../src/ledger/index.ts';
import { percentile } from './percentile.ts';

const clients = 64;
const accountCount = 100_000;
const hotShards = 8;
const fundingMinor = 1_000_000_000n;

interface PhaseResult {
  readonly name: string;
  readonly transfers: number;
  readonly failed: number;
  readonly seconds: number;
  readonly tps: number;
  readonly latenciesMs: number[];
}

/** One phase over all rounds: the median round's tps (the mean of two), every latency. */
function mergeRounds(phases: readonly PhaseResult[]): PhaseResult {
  const first = phases[0];
  if (first === undefined) throw new Error('no rounds');
  const tpsSorted = phases.map((phase) => phase.tps).sort((a, b) => a - b);
  const middle = Math.floor(tpsSorted.length / 2);
  const tps = tpsSorted.length % 2 === 1 ? (tpsSorted[middle] ?? 0) : ((tpsSorted[middle - 1] ?? 0) + (tpsSorted[middle] ?? 0)) / 2;
  return {
    name: first.name,
    transfers: phases.reduce((sum, phase) => sum + phase.transfers, 0),
    failed: phases.reduce((sum, phase) => sum + phase.failed, 0),
    seconds: phases.reduce((sum, phase) => sum + phase.seconds, 0),
    tps,
    latenciesMs: phases.flatMap((phase) => phase.latenciesMs),
  };
}


/** Runs `clients` concurrent loops of `operation` for `seconds`, recording each latency. */
async function runClosedLoop(
  name: string,
  seconds: number,
  operation: (client: number, n: number) => Promise<boolean>,
): Promise<PhaseResult> {
  const latenciesMs: number[] = [];
  let failed = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const operationsMax = 10_000_000;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let n = 0; n < operationsMax && performance.now() < deadline; n++) {
        const t0 = performance.now();
        const ok = await operation(client, n);
        latenciesMs.push(performance.now() - t0);
        if (!ok) failed++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { name, transfers: latenciesMs.length, failed, seconds: elapsed, tps: latenciesMs.length / elapsed, latenciesMs };
}

async function setupBaseline(sql: Sql): Promise<void> {
  await sql`CREATE TABLE bench_accounts (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0))`;
  await sql`CREATE TABLE bench_journal (
    seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, debit int NOT NULL, credit int NOT NULL,
    amount bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`;
  await sql`INSERT INTO bench_accounts SELECT g, ${fundingMinor.toString()} FROM generate_series(0, ${accountCount - 1}) g`;
}

async function baselineTransfer(sql: Sql): Promise<boolean> {
  const debit = randomInt(accountCount);
  let credit = randomInt(accountCount - 1);
  if (credit >= debit) credit += 1;
  const amount = randomInt(1, 100);
  const id = randomBytes(12).toString('hex');
  // Rows are updated in id order so that two clients can never deadlock.
  const [first, second] = debit < credit ? [debit, credit] : [credit, debit];
  const delta = (account: number): number => (account === debit ? -amount : amount);
  return sql.begin(async (tx) => {
    const a = await tx`UPDATE bench_accounts SET balance = balance + ${delta(first)} WHERE id = ${first} AND balance + ${delta(first)} >= 0 RETURNING id`;
    const b = await tx`UPDATE bench_accounts SET balance = balance + ${delta(second)} WHERE id = ${second} AND balance + ${delta(second)} >= 0 RETURNING id`;
    if (a.length === 0 || b.length === 0) throw new Error('insufficient funds');
    await tx`INSERT INTO bench_journal (id, debit, credit, amount) VALUES (${id}, ${debit}, ${credit}, ${amount})`;
    return true;
  });
}

async function createEngineAccounts(sql: Sql, ledger: Ledger): Promise<{ ids: string[]; hot: string }> {
  const source = await ledger.createAccount({ currency: 'CNY', code: 'system.bank', noOverdraft: false });
  const hot = await ledger.createAccount({ currency: 'CNY', code: 'merchant.hot', noOverdraft: true, shardCount: hotShards });
  // Accounts are inserted set-based (this is setup, not what is measured); money only ever
  // arrives through the ledger, so the books stay reconciled.
  await sql`
    INSERT INTO ledger_accounts (id, currency, code, no_overdraft, created_at)
    SELECT 'acct_bench_' || g, 'CNY', 'user.wallet', true, now() FROM generate_series(0, ${accountCount - 1}) g`;
  const ids = Array.from({ length: accountCount }, (_, index) => `acct_bench_${String(index)}`);
  const chunk = 10_000;
  for (let start = 0; start < ids.length; start += chunk) {
    const results = await Promise.all(
      ids.slice(start, start + chunk).map((id) =>
        ledger.transfer({ id: `fund:${id}`, type: 'posted', debitAccountId: source.id, creditAccountId: id, amountMinor: fundingMinor, currency: 'CNY', kind: 'topup' }),
      ),
    );
    const failed = results.find((result) => result.status === 'failed');
    if (failed !== undefined) throw new Error(`funding failed: ${JSON.stringify(failed, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))}`);
  }
  return { ids, hot: hot.id };
}

function engineOperation(ledger: Ledger, ids: readonly string[], hot: string | undefined, phase: string) {
  return async (client: number, n: number): Promise<boolean> => {
    const debit = ids[randomInt(ids.length)] ?? '';
    let credit = hot;
    while (credit === undefined || credit === debit) credit = ids[randomInt(ids.length)];
    const result = await ledger.transfer({
      id: `${phase}:${String(client)}:${String(n)}`,
      type: 'posted',
      debitAccountId: debit,
      creditAccountId: credit,
      amountMinor: BigInt(randomInt(1, 100)),
      currency: 'CNY',
      kind: 'p2p',
    });
    return result.status === 'created';
  };
}

function row(cells: readonly string[]): string {
  return cells.map((cell, index) => (index === 0 ? cell.padEnd(12) : cell.padStart(12))).join(' ');
}

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const phaseSeconds = quick ? 4 : 15;
  const roundCount = quick ? 2 : 3;
  const config = loadConfig();
  const database = await openBenchDatabase(config, 'bench_ledger');
  const { url, schema } = database;
  const baselineSql = connect({ url, schema, poolSize: clients });
  const engineSql = connect({ url, schema, poolSize: 4 });
  let rssMaxBytes = 0;
  const sampler = setInterval(() => {
    rssMaxBytes = Math.max(rssMaxBytes, process.memoryUsage().rss);
  }, 100);
  try {
    await migrate(engineSql);
    process.stderr.write(`bench ledger: ${quick ? 'quick' : 'full'}, ${String(roundCount)} rounds of ${String(phaseSeconds)} s per phase, ${String(clients)} clients, ${String(accountCount)} accounts, database ${database.label}\n`);
    await setupBaseline(baselineSql);
    const batches = { count: 0, transfers: 0, readMs: 0, applyMs: 0, writeMs: 0 };
    const observer: BatchObserver = {
      batchApplied: (stats) => {
        batches.count += 1;
        batches.transfers += stats.transfers;
        batches.readMs += stats.readMs;
        batches.applyMs += stats.applyMs;
        batches.writeMs += stats.writeMs;
      },
    };
    const resetBatches = (): void => {
      Object.assign(batches, { count: 0, transfers: 0, readMs: 0, applyMs: 0, writeMs: 0 });
    };
    const describeBatches = (): string =>
      `${String(batches.count)} batches of ${(batches.transfers / Math.max(1, batches.count)).toFixed(1)} transfers; per batch: read ${(batches.readMs / Math.max(1, batches.count)).toFixed(2)} ms, apply ${(batches.applyMs / Math.max(1, batches.count)).toFixed(2)} ms, write+commit ${(batches.writeMs / Math.max(1, batches.count)).toFixed(2)} ms`;
    const ledger = new Ledger({ sql: engineSql, clock: systemClock, ids: createIdGenerator(systemClock, cryptoRandom), config: config.ledger, observer });
    const setupStarted = performance.now();
    const { ids, hot } = await createEngineAccounts(engineSql, ledger);
    process.stderr.write(`setup: ${String(accountCount)} accounts funded through the engine in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s\n`);
    // Each phase starts from a checkpoint, so none inherits another's dirty pages or pays for
    // another's full-page writes (best effort: CHECKPOINT needs a privileged role).
    const checkpoint = (): Promise<unknown> => engineSql`CHECKPOINT`.catch(() => undefined);
    // Vacuum and analyze the freshly loaded tables now, so autovacuum does not wake up in the
    // middle of a measured phase and the planner sees their real sizes.
    await engineSql`VACUUM (ANALYZE) bench_accounts, bench_journal, ledger_accounts, ledger_transfers, ledger_entries`;
    await checkpoint();
    // Rounds of (baseline, engine, hot) back to back: a slow minute of a shared machine then
    // falls on every phase alike instead of on whichever phase happened to run in it.
    const baselineErrors = new Map<string, number>();
    const rounds: { baseline: PhaseResult; engine: PhaseResult; hot: PhaseResult }[] = [];
    for (let round = 0; round < roundCount; round++) {
      const baselineRound = await runClosedLoop('baseline', phaseSeconds, () =>
        baselineTransfer(baselineSql).catch((error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          baselineErrors.set(message, (baselineErrors.get(message) ?? 0) + 1);
          return false;
        }),
      );
      await checkpoint();
      resetBatches();
      const engineRound = await runClosedLoop('engine', phaseSeconds, engineOperation(ledger, ids, undefined, `b${String(round)}`));
      process.stderr.write(`round ${String(round + 1)} engine: ${describeBatches()}\n`);
      await checkpoint();
      resetBatches();
      const hotRound = await runClosedLoop('hot', phaseSeconds, engineOperation(ledger, ids, hot, `c${String(round)}`));
      process.stderr.write(`round ${String(round + 1)} hot: ${describeBatches()}\n`);
      process.stderr.write(`round ${String(round + 1)}: baseline ${baselineRound.tps.toFixed(0)} tps, engine ${engineRound.tps.toFixed(0)} tps, hot ${hotRound.tps.toFixed(0)} tps\n`);
      rounds.push({ baseline: baselineRound, engine: engineRound, hot: hotRound });
      await checkpoint();
    }
    for (const [message, count] of baselineErrors) process.stderr.write(`baseline error x${String(count)}: ${message}\n`);
    const baseline = mergeRounds(rounds.map((r) => r.baseline));
    const engine = mergeRounds(rounds.map((r) => r.engine));
    const hotPhase = mergeRounds(rounds.map((r) => r.hot));
    await ledger.close();
    const report = await reconcile(engineSql);
    const latencies = [...engine.latenciesMs, ...hotPhase.latenciesMs].sort((a, b) => a - b);
    process.stdout.write(`${row(['phase', 'transfers', 'failed', 'tps', 'p50 ms', 'p99 ms'])}\n`);
    for (const phase of [baseline, engine, hotPhase]) {
      const sorted = [...phase.latenciesMs].sort((a, b) => a - b);
      process.stdout.write(`${row([phase.name, String(phase.transfers), String(phase.failed), phase.tps.toFixed(0), percentile(sorted, 50).toFixed(2), percentile(sorted, 99).toFixed(2)])}\n`);
    }
    process.stdout.write(`reconciled: ${String(report.ok)} (${String(report.transfers)} transfers, ${String(report.accounts)} accounts); rss max ${(rssMaxBytes / 2 ** 20).toFixed(0)} MB\n`);
    const summary = {
      bench: 'ledger',
      baseline_tps: Math.round(baseline.tps),
      engine_tps: Math.round(engine.tps),
      ratio: Number((engine.tps / baseline.tps).toFixed(2)),
      hot_tps: Math.round(hotPhase.tps),
      hot_ratio: Number((hotPhase.tps / engine.tps).toFixed(2)),
      p50_ms: Number(percentile(latencies, 50).toFixed(2)),
      p99_ms: Number(percentile(latencies, 99).toFixed(2)),
      rss_mb: Math.round(rssMaxBytes / 2 ** 20),
      reconciled: report.ok,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (!report.ok) process.exitCode = 1;
  } finally {
    clearInterval(sampler);
    await baselineSql.end();
    await engineSql.end();
    await database.close(args.includes('--keep'));
  }
}
