/**
 * `npm run bench -- openapi [--quick]`: signed `alipay.trade.query` calls through the real
 * alipay-sdk with 32 concurrent callers (a child process: bench/openapi-load.ts) against the real
 * server here; each call costs two RSA-2048 signatures (the client's request, the platform's
 * response). The same run measures `sign_ops`: RSA-2048 SHA-256 signatures a second on one core
 * in this process, the yardstick: ratio = query_rps / sign_ops. The two alternate: the calls run
 * in rounds, `sign_ops` is measured before each round and after the last (while no call is
 * made), and each figure is its mean over the run — so that a machine whose speed drifts during
 * the run moves both alike (this VM's RSA rate has changed by a sixth within one run).
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../src/app.ts';
import { systemClock } from '../src/kernel/clock.ts';
import { loadConfig } from '../src/kernel/config.ts';
import { connect, migrate } from '../src/kernel/db.ts';
import { cryptoRandom } from '../src/kernel/random.ts';
import { reconcile } from '../src/ledger/index.ts';
import { openBenchDatabase } from './database.ts';
import { databaseCpuMs, phaseObserver, printCosts } from './http-common.ts';

const connections = 32;

/** One round's line from bench/openapi-load.ts; the last round's carries the run's latencies. */
interface Round {
  readonly requests: number;
  readonly cpuMs: number;
  readonly seconds: number;
  readonly codes: Record<string, number>;
  readonly p50?: number;
  readonly p99?: number;
  /** The warm-up's codes: not measured, but its errors count. */
  readonly warmCodes?: Record<string, number>;
}

interface QueryLoad {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly codes: Record<string, number>;
  readonly warmCodes: Record<string, number>;
  /** `sign_ops` measured before each round and after the last. */
  readonly signOps: readonly number[];
}

/**
 * Runs the load generator: it warms up (then `onWarm`), and for each round this process measures
 * `sign_ops` for `signSeconds`, then lets it call for `plan.seconds`; once more after the last.
 * Prints what a call cost the server, PostgreSQL and the client over the rounds.
 */
async function runRounds(plan: { readonly rounds: number; readonly seconds: number; readonly warmSeconds: number } & Record<string, unknown>, signSeconds: number, nodeFlags: readonly string[], onWarm: () => void): Promise<QueryLoad> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'openapi-load.ts');
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  child.stdin.write(`${JSON.stringify(plan)}\n`);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const line = await lines.next();
    if (line.done === true) throw new Error(`load generator exited ${String(await exited)}`);
    return line.value;
  };
  if ((await next()) !== 'warm') throw new Error('load generator did not warm up');
  onWarm();
  const signOpsList: number[] = [];
  const rounds: Round[] = [];
  const server = { user: 0, system: 0 };
  let databaseMs = 0;
  for (let round = 0; round < plan.rounds; round += 1) {
    signOpsList.push(signOps(signSeconds));
    const cpuBefore = process.cpuUsage();
    const databaseBefore = databaseCpuMs();
    child.stdin.write('go\n');
    rounds.push(JSON.parse(await next()) as Round);
    const cpu = process.cpuUsage(cpuBefore);
    server.user += cpu.user;
    server.system += cpu.system;
    databaseMs += databaseCpuMs() - databaseBefore;
  }
  signOpsList.push(signOps(signSeconds));
  child.stdin.end();
  const code = await exited;
  if (code !== 0) throw new Error(`load generator exited ${String(code)}`);
  const requests = rounds.reduce((sum, r) => sum + r.requests, 0);
  const seconds = rounds.reduce((sum, r) => sum + r.seconds, 0);
  const clientMs = rounds.reduce((sum, r) => sum + r.cpuMs, 0);
  const codes: Record<string, number> = {};
  for (const r of rounds) for (const [code, n] of Object.entries(r.codes)) codes[code] = (codes[code] ?? 0) + n;
  const last = rounds.at(-1);
  process.stderr.write(`  rounds: ${rounds.map((r, i) => `${(r.requests / r.seconds).toFixed(0)} calls/s between sign_ops ${(signOpsList[i] ?? 0).toFixed(0)} and ${(signOpsList[i + 1] ?? 0).toFixed(0)}`).join('; ')}\n`);
  printCosts({ requests, server, databaseMs, loadMs: clientMs });
  return { requests, rps: requests / seconds, p50: last?.p50 ?? 0, p99: last?.p99 ?? 0, codes, warmCodes: last?.warmCodes ?? {}, signOps: signOpsList };
}

/** RSA-2048 SHA-256 signatures a second, one core (this process's main thread). */
function signOps(seconds: number): number {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const data = Buffer.from('app_id=2021000000000001&biz_content={"out_trade_no":"bench"}&charset=utf-8&method=alipay.trade.query&sign_type=RSA2&timestamp=2026-01-01 00:00:00&version=1.0');
  const started = performance.now();
  let n = 0;
  while (performance.now() - started < seconds * 1000) {
    sign('sha256', data, privateKey);
    n += 1;
  }
  return n / ((performance.now() - started) / 1000);
}

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const rounds = quick ? 2 : 4;
  const roundSeconds = quick ? 4 : 5;
  const signSeconds = quick ? 1 : 1.25;
  const base = loadConfig();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'qianbao-bench-openapi-'));
  const config = { ...base, dataDir, seedDemo: false };
  const database = await openBenchDatabase(base, 'bench_openapi');
  // `--profile` and `--count-sql`: the server's CPU profile and statements over the query phase.
  const observer = phaseObserver(args);
  const sql = connect({ url: database.url, schema: database.schema, poolSize: 20, ...observer.debug });
  try {
    await migrate(sql);
    const app = await buildApp({ config, sql, clock: systemClock, random: cryptoRandom });
    const merchant = await app.identity.signUp({ mobile: '13700000001', password: 'bench-pass-1', displayName: 'bench merchant' });
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const { app: row, platformPublicKey } = await app.openapi.apps.create('bench', { name: 'bench app', ownerUserId: merchant.user.id, appPublicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(), notifyUrls: [], ratePerSecond: 100_000 });
    const baseUrl = await app.http.listen({ host: '127.0.0.1', port: 0 });
    const live = await app.openapi.apps.require(row.app_id);
    await app.openapi.trades.open({ app: live, method: 'alipay.trade.precreate', biz: { out_trade_no: 'BENCH_QUERY_1', total_amount: '12.34', subject: 'bench' }, notifyUrl: undefined, returnUrl: undefined, baseUrl });
    process.stderr.write(`bench openapi: ${quick ? 'quick' : 'full'}, ${String(rounds)} rounds of ${String(roundSeconds)} s, ${String(connections)} concurrent SDK callers, database ${database.label}\n`);
    const plan = { gateway: `${baseUrl}/gateway.do`, appId: row.app_id, privateKey: keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), alipayPublicKey: platformPublicKey.base64, outTradeNo: 'BENCH_QUERY_1', connections };
    // The calls warm up unmeasured first, in the same load generator process (warmSeconds), so
    // that the rounds measure code the JIT has compiled, in the server and in the SDK's process,
    // and statements every pooled connection has prepared.
    // BENCH_CLIENT_PROF=<dir>: the SDK client's CPU profile, written there. `--profile` covers
    // the whole phase, the sign_ops measurements as `signOps` among it.
    const clientProfile = process.env['BENCH_CLIENT_PROF'];
    const load = await observer.phase('query', (onWarm) => runRounds({ ...plan, seconds: roundSeconds, rounds, warmSeconds: quick ? 3 : 5 }, signSeconds, clientProfile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${clientProfile}`], onWarm));
    const ops = load.signOps.reduce((sum, n) => sum + n, 0) / load.signOps.length;
    const metering = app.openapi.metering.view(row.app_id);
    await app.close();
    const report = await reconcile(sql);
    const errors = [...Object.entries(load.codes), ...Object.entries(load.warmCodes)].filter(([code]) => code !== '10000').reduce((sum, [, n]) => sum + n, 0);
    process.stdout.write(`sign_ops ${ops.toFixed(0)}/s (RSA-2048 SHA-256, one core; the mean of ${String(load.signOps.length)} measurements between rounds); queries ${String(load.requests)} at ${load.rps.toFixed(0)}/s, p50 ${load.p50.toFixed(2)} ms, p99 ${load.p99.toFixed(2)} ms; codes ${JSON.stringify(load.codes)}; server-side p99 ${metering.p99Ms.toFixed(2)} ms; reconciled ${String(report.ok)}\n`);
    const summary = { bench: 'openapi', sign_ops: Math.round(ops), query_rps: Math.round(load.rps), ratio: Number((load.rps / ops).toFixed(3)), p99_ms: Number(load.p99.toFixed(2)), errors };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (errors > 0 || !report.ok) process.exitCode = 1;
  } finally {
    await sql.end();
    await database.close(args.includes('--keep'));
    await rm(dataDir, { recursive: true, force: true });
  }
}
