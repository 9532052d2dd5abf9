/**
 * `npm run bench -- http-transfer [--quick]`: authenticated P2P transfers over HTTP with 64
 * keep-alive connections against the real server (auth, Idempotency-Key, PIN, limits, the ledger),
 * and in the same run the rate of `GET /healthz` (one `select 1`) on the same server, as the
 * yardstick. The server runs here; the load comes from a child process (bench/http-load.ts).
 * The two phases alternate in rounds, so that a machine whose speed drifts during the run moves
 * both alike; each rate is the run's total over its measured seconds, p99 over all rounds' transfers.
 * Users are set up in bulk through SQL (setup, not measured) with real argon2 passwords, HMAC PINs
 * and session tokens; their wallets are funded through the ledger.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../src/app.ts';
import { systemClock } from '../src/kernel/clock.ts';
import { loadConfig } from '../src/kernel/config.ts';
import { connect, migrate } from '../src/kernel/db.ts';
import { cryptoRandom } from '../src/kernel/random.ts';
import { resolvePinKey } from '../src/identity/pin-key.ts';
import { reconcile } from '../src/ledger/index.ts';
import { bankAccountId } from '../src/payments/index.ts';
import { openBenchDatabase } from './database.ts';
import { alternateRounds, errorCount, phaseObserver, runLoad, setUpUsers } from './http-common.ts';

const connections = 64;
/** Senders per connection: the server allows a user 30 payments a minute, as a wallet should. */
const sendersPerConnection = 64;
const pin = '802413';
const fundingMinor = 100_000_000n;

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const rounds = quick ? 2 : 4;
  const seconds = quick ? 4 : 5;
  const base = loadConfig();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'qianbao-bench-http-'));
  const config = { ...base, dataDir, seedDemo: false };
  // The embedded PostgreSQL lives under the project's data dir: its own user must reach it, and a
  // private temp dir (0700, this user's) is not reachable when running as root.
  const database = await openBenchDatabase(base, 'bench_http');
  // `--profile` and `--count-sql`: the server's CPU profile and statements over the transfer phase.
  const observer = phaseObserver(args);
  const sql = connect({ url: database.url, schema: database.schema, poolSize: 40, ...observer.debug });
  try {
    await migrate(sql);
    const app = await buildApp({ config, sql, clock: systemClock, random: cryptoRandom });
    const pinKey = await resolvePinKey({ configured: config.pinKey, dataDir, random: cryptoRandom });
    const senderCount = connections * sendersPerConnection;
    const users = await setUpUsers(sql, { count: senderCount + connections, pinKey, pin });
    const funded = await Promise.all(users.slice(0, senderCount).map((user, index) => app.ledger.transfer({ id: `bench-fund-${String(index)}`, type: 'posted', debitAccountId: bankAccountId, creditAccountId: user.wallet, amountMinor: fundingMinor, currency: 'CNY', kind: 'topup' })));
    if (funded.some((result) => result.status === 'failed')) throw new Error('funding failed');
    const baseUrl = await app.http.listen({ host: '127.0.0.1', port: 0 });
    process.stderr.write(`bench http-transfer: ${quick ? 'quick' : 'full'}, ${String(rounds)} rounds of ${String(seconds)} s per phase, ${String(connections)} connections, database ${database.label}\n`);
    const pairs = Array.from({ length: connections }, (_, connection) => ({
      tokens: users.slice(connection * sendersPerConnection, (connection + 1) * sendersPerConnection).map((user) => user.token),
      toUserId: users[senderCount + connection]?.id ?? '',
    }));
    // Each load warms up unmeasured first, in the same load generator process (warmSeconds), so
    // that both phases measure code the JIT has compiled, in the server and the load generator,
    // and statements every pooled connection has prepared. The first round's warm-up is longer:
    // the server's transfer path is still being compiled for seconds (a quick run's first
    // 4-second round after 2 s of warm-up cost 0.58 ms of server CPU a transfer, its second
    // 0.40); later rounds' warm up only their new load generator process.
    const warmFor = (round: number): number => (round === 0 ? (quick ? 4 : 5) : 1);
    const { healthz, payments: transfer } = await alternateRounds(
      rounds,
      (round) => runLoad({ keepLatencies: true, baseUrl, mode: 'healthz', seconds, warmSeconds: warmFor(round), connections, pairs: [], pin, runId: 'h' }),
      (round, onWarm) => runLoad({ keepLatencies: true, baseUrl, mode: 'transfer', seconds, warmSeconds: warmFor(round), connections, pairs, pin, runId: randomBytes(4).toString('hex') }, undefined, [], onWarm),
      (load) => observer.phase('transfer', load),
    );
    await app.close();
    const report = await reconcile(sql);
    const errors = errorCount;
    const row = (cells: string[]): string => cells.map((cell, index) => (index === 0 ? cell.padEnd(10) : cell.padStart(10))).join(' ');
    process.stdout.write(`${row(['phase', 'requests', 'rps', 'p50 ms', 'p99 ms', 'errors'])}\n`);
    for (const [name, result] of [['healthz', healthz], ['transfer', transfer]] as const) {
      process.stdout.write(`${row([name, String(result.requests), result.rps.toFixed(0), result.p50.toFixed(2), result.p99.toFixed(2), String(errors(result))])}\n`);
    }
    process.stdout.write(`statuses: healthz ${JSON.stringify(healthz.statuses)}, transfer ${JSON.stringify(transfer.statuses)}; reconciled: ${String(report.ok)}\n`);
    const summary = {
      bench: 'http-transfer',
      healthz_rps: Math.round(healthz.rps),
      transfer_rps: Math.round(transfer.rps),
      ratio: Number((transfer.rps / healthz.rps).toFixed(3)),
      p99_ms: Number(transfer.p99.toFixed(2)),
      errors: errors(transfer) + errors(healthz),
      reconciled: report.ok,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (!report.ok || summary.errors > 0) process.exitCode = 1;
  } finally {
    await sql.end();
    await database.close(args.includes('--keep'));
    await rm(dataDir, { recursive: true, force: true });
  }
}
