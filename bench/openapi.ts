/**
 * `npm run bench -- openapi [--quick]`: signed `alipay.trade.query` calls through the real
 * alipay-sdk with 32 concurrent callers (a child process: bench/openapi-load.ts) against the real
 * server here; each call costs two RSA-2048 signatures (the client's request, the platform's
 * response). The same run measures `sign_ops`: RSA-2048 SHA-256 signatures a second on one core
 * in this process, the yardstick: ratio = query_rps / sign_ops.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
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
import { phaseObserver, runLoad } from './http-common.ts';

const connections = 32;

interface QueryLoad {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly codes: Record<string, number>;
  /** The warm-up's codes: not measured, but its errors count. */
  readonly warmCodes: Record<string, number>;
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
  const seconds = quick ? 8 : 20;
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
    process.stderr.write(`bench openapi: ${quick ? 'quick' : 'full'}, ${String(seconds)} s, ${String(connections)} concurrent SDK callers, database ${database.label}\n`);
    const plan = { gateway: `${baseUrl}/gateway.do`, appId: row.app_id, privateKey: keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), alipayPublicKey: platformPublicKey.base64, outTradeNo: 'BENCH_QUERY_1', connections };
    // The calls warm up unmeasured first, in the same load generator process (warmSeconds), so
    // that the phase measures code the JIT has compiled, in the server and in the SDK's process,
    // and statements every pooled connection has prepared.
    const ops = signOps(quick ? 2 : 5);
    // BENCH_CLIENT_PROF=<dir>: the SDK client's CPU profile, written there.
    const clientProfile = process.env['BENCH_CLIENT_PROF'];
    const load = await observer.phase('query', (onWarm) => runLoad<QueryLoad>({ ...plan, seconds, warmSeconds: quick ? 2 : 3 }, 'openapi-load.ts', clientProfile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${clientProfile}`], onWarm));
    const metering = app.openapi.metering.view(row.app_id);
    await app.close();
    const report = await reconcile(sql);
    const errors = [...Object.entries(load.codes), ...Object.entries(load.warmCodes)].filter(([code]) => code !== '10000').reduce((sum, [, n]) => sum + n, 0);
    process.stdout.write(`sign_ops ${ops.toFixed(0)}/s (RSA-2048 SHA-256, one core); queries ${String(load.requests)} at ${load.rps.toFixed(0)}/s, p50 ${load.p50.toFixed(2)} ms, p99 ${load.p99.toFixed(2)} ms; codes ${JSON.stringify(load.codes)}; server-side p99 ${metering.p99Ms.toFixed(2)} ms; reconciled ${String(report.ok)}\n`);
    const summary = { bench: 'openapi', sign_ops: Math.round(ops), query_rps: Math.round(load.rps), ratio: Number((load.rps / ops).toFixed(3)), p99_ms: Number(load.p99.toFixed(2)), errors };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (errors > 0 || !report.ok) process.exitCode = 1;
  } finally {
    await sql.end();
    await database.close(args.includes('--keep'));
    await rm(dataDir, { recursive: true, force: true });
  }
}
