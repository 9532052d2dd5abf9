/**
 * The load generator of `npm run bench -- openapi`, in its own process: `connections` concurrent
 * callers making signed `alipay.trade.query` calls through the real alipay-sdk (response
 * signatures checked). Its plan is the first line on stdin. It warms up for `warmSeconds` and
 * prints `warm`; then, `rounds` times, it waits for a `go` line on stdin, calls for `seconds`, and
 * prints one JSON line of that round (the last with the latencies of all rounds), so that the
 * parent can measure its yardstick between rounds while this process is idle.
 */
import { createInterface } from 'node:readline';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { AlipaySdk } from 'alipay-sdk';
import { percentile } from './percentile.ts';

interface Plan {
  readonly gateway: string;
  readonly appId: string;
  readonly privateKey: string;
  readonly alipayPublicKey: string;
  readonly outTradeNo: string;
  readonly seconds: number;
  readonly rounds: number;
  readonly connections: number;
  /** Run the same calls this long first, unmeasured (the JIT warms up), then print `warm`. */
  readonly warmSeconds: number;
}

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const next = async (): Promise<string> => {
  const line = await lines.next();
  if (line.done === true) throw new Error('stdin closed before the next line');
  return line.value;
};
const plan = JSON.parse(await next()) as Plan;
const sdk = new AlipaySdk({ appId: plan.appId, privateKey: plan.privateKey, alipayPublicKey: plan.alipayPublicKey, gateway: plan.gateway, signType: 'RSA2' });
// The SDK formats its keys as PEM strings and hands them to node:crypto on every call, which parses
// them each time (about 1 ms a signature here). node:crypto takes a parsed KeyObject as well, so the
// client keeps its keys parsed, as a server calling the SDK would: the SDK itself is unchanged.
// BENCH_SDK_PEM=1 leaves the SDK's PEM strings in place, to measure what they cost.
if (process.env['BENCH_SDK_PEM'] !== '1') {
  const formatted = { privateKey: sdk.config.privateKey, alipayPublicKey: sdk.config.alipayPublicKey };
  const parsed = sdk.config as unknown as { privateKey: KeyObject; alipayPublicKey: KeyObject };
  parsed.privateKey = createPrivateKey(formatted.privateKey);
  parsed.alipayPublicKey = createPublicKey(formatted.alipayPublicKey);
}
const latencies: number[] = [];
/** Codes of the warm-up: not measured, but an error there is still an error. */
const warmCodes = new Map<string, number>();

async function runUntil(deadline: number, codes: Map<string, number>, measured: boolean): Promise<number> {
  let requests = 0;
  await Promise.all(
    Array.from({ length: plan.connections }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        let code: string;
        try {
          const result = await sdk.exec('alipay.trade.query', { bizContent: { outTradeNo: plan.outTradeNo } }, { validateSign: true });
          code = result.code;
        } catch (error) {
          code = `throw:${error instanceof Error ? error.name : 'error'}`;
        }
        if (measured) {
          latencies.push(performance.now() - t0);
          requests += 1;
        }
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }),
  );
  return requests;
}

if (plan.warmSeconds > 0) await runUntil(performance.now() + plan.warmSeconds * 1000, warmCodes, false);
process.stdout.write('warm\n');
for (let round = 1; round <= plan.rounds; round += 1) {
  if ((await next()).trim() !== 'go') throw new Error('expected go');
  // The CPU this process spends in the round: the measured load, not loading, warming or waiting.
  const cpuAtStart = process.cpuUsage();
  const started = performance.now();
  const codes = new Map<string, number>();
  const requests = await runUntil(started + plan.seconds * 1000, codes, true);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  const sorted = round === plan.rounds ? [...latencies].sort((a, b) => a - b) : [];
  process.stdout.write(`${JSON.stringify({ requests, cpuMs: (cpu.user + cpu.system) / 1000, seconds, codes: Object.fromEntries(codes), ...(round === plan.rounds ? { p50: percentile(sorted, 50), p99: percentile(sorted, 99), warmCodes: Object.fromEntries(warmCodes) } : {}) })}\n`);
}
// Written (pipes are synchronous on Linux, but say so), then done: the SDK's keep-alive sockets stay open.
await new Promise<void>((resolve) => process.stdout.write('', () => { resolve(); }));
process.exit(0);
