/**
 * The load generator of `npm run bench -- openapi`, in its own process: `connections` concurrent
 * callers making signed `alipay.trade.query` calls through the real alipay-sdk (response
 * signatures checked) for `seconds`; prints one JSON line of results.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { AlipaySdk } from 'alipay-sdk';

interface Plan {
  readonly gateway: string;
  readonly appId: string;
  readonly privateKey: string;
  readonly alipayPublicKey: string;
  readonly outTradeNo: string;
  readonly seconds: number;
  readonly connections: number;
  /** Run the same calls this long first, unmeasured (the JIT warms up), then print `warm`. */
  readonly warmSeconds?: number;
}

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const plan = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Plan;
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
const codes = new Map<string, number>();
/** Codes of the warm-up: not measured, but an error there is still an error. */
const warmCodes = new Map<string, number>();

async function runUntil(deadline: number, measured: boolean): Promise<void> {
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
        if (measured) latencies.push(performance.now() - t0);
        const into = measured ? codes : warmCodes;
        into.set(code, (into.get(code) ?? 0) + 1);
      }
    }),
  );
}

if (plan.warmSeconds !== undefined && plan.warmSeconds > 0) {
  await runUntil(performance.now() + plan.warmSeconds * 1000, false);
  process.stdout.write('warm\n');
}
// The CPU this process spends from here on: the measured load, not loading the script or warming up.
const cpuAtStart = process.cpuUsage();
const started = performance.now();
await runUntil(started + plan.seconds * 1000, true);
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
const cpu = process.cpuUsage(cpuAtStart);
process.stdout.write(`${JSON.stringify({ requests: latencies.length, cpuMs: (cpu.user + cpu.system) / 1000, seconds, rps: latencies.length / seconds, p50: at(50), p99: at(99), codes: Object.fromEntries(codes), warmCodes: Object.fromEntries(warmCodes) })}\n`);
