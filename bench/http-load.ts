/**
 * The load generator for the HTTP benchmarks, run as its own process so that it does not share
 * the server's event loop. Reads a JSON plan on stdin; runs `connections` concurrent keep-alive
 * loops — for `seconds` (healthz, transfer), or through a fixed list of requests (sequence: each
 * connection POSTs `path` as the users its list names, e.g. red packet grabs) — and prints one
 * JSON line of results.
 */
import { Agent, request } from 'node:http';
import { percentile } from './percentile.ts';

interface Plan {
  readonly baseUrl: string;
  readonly mode: 'healthz' | 'transfer' | 'sequence' | 'checkout';
  readonly seconds: number;
  readonly connections: number;
  /**
   * For transfers: per connection, the senders' tokens it rotates through (so that no user goes
   * over the per-user payment rate limit) and a recipient user id.
   */
  readonly pairs: readonly { readonly tokens: readonly string[]; readonly toUserId: string }[];
  readonly pin: string;
  readonly runId: string;
  /** Sequence mode: the users' tokens, the path every request POSTs, each connection's token indices. */
  readonly tokens?: readonly string[];
  readonly path?: string;
  readonly sequences?: readonly (readonly number[])[];
  /** Sequence mode: spread each connection's requests evenly over this many ms (a paced load). */
  readonly paceMs?: number;
  /** Checkout mode: the shop code paid and the amount, by the pairs' tokens in turn. */
  readonly code?: string;
  readonly amountMinor?: string;
  /**
   * Healthz, transfer and checkout modes: run the same load this long first, unmeasured (the JIT
   * warms up here and in the server), then print `warm` and measure for `seconds`.
   */
  readonly warmSeconds?: number;
  /** Answer every measured latency (ms, sorted), so that rounds' percentiles can be merged. */
  readonly keepLatencies?: boolean;
}

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const plan = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Plan;
const agent = new Agent({ keepAlive: true, maxSockets: plan.connections });
const url = new URL(plan.baseUrl);

function send(method: string, path: string, headers: Record<string, string>, body: string | undefined): Promise<number> {
  return sendFor(method, path, headers, body, false).then((result) => result.status);
}

/** A request's status, and its body when asked for. */
function sendFor(method: string, path: string, headers: Record<string, string>, body: string | undefined, keepBody: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: url.hostname, port: url.port, method, path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      if (keepBody) res.on('data', (chunk: Buffer) => chunks.push(chunk));
      else res.resume();
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: keepBody ? Buffer.concat(chunks).toString('utf8') : '' });
      });
    });
    req.on('error', () => {
      resolve({ status: 0, body: '' });
    });
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const latencies: number[] = [];
const statuses = new Map<number, number>();
/** Answers of the warm-up: not measured, but an error there is still an error. */
const warmStatuses = new Map<number, number>();
/** Sequence mode: per token, how many 201s it got (more than one is a duplicate grant). */
const created = new Map<number, number>();
let wonBodies = 0;
const requestsMax = 10_000_000;

async function runSequence(list: readonly number[], started: number): Promise<void> {
  const tokens = plan.tokens ?? [];
  for (const [k, index] of list.entries()) {
    if (plan.paceMs !== undefined) {
      const due = started + (k / list.length) * plan.paceMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const t0 = performance.now();
    const { status, body } = await sendFor('POST', plan.path ?? '/', { authorization: `Bearer ${tokens[index] ?? ''}`, 'content-length': '0' }, undefined, true);
    latencies.push(performance.now() - t0);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (status === 201) created.set(index, (created.get(index) ?? 0) + 1);
    if (status === 200 && body.includes('"won":true')) wonBodies++;
  }
}

/** Healthz, transfer and checkout modes: each connection's loop until `deadline`. */
async function runTimed(deadline: number, runId: string, measured: boolean): Promise<void> {
  await Promise.all(
    Array.from({ length: plan.connections }, async (_, connection) => {
      const pair = plan.pairs[connection % Math.max(1, plan.pairs.length)];
      for (let n = 0; n < requestsMax && performance.now() < deadline; n++) {
        const t0 = performance.now();
        let status: number;
        if (plan.mode === 'healthz' || pair === undefined) {
          status = await send('GET', '/healthz', {}, undefined);
        } else {
          const checkout = plan.mode === 'checkout';
          const body = checkout ? JSON.stringify({ code: plan.code, amountMinor: plan.amountMinor, pin: plan.pin }) : JSON.stringify({ toUserId: pair.toUserId, amountMinor: '1', pin: plan.pin, memo: 'bench' });
          status = await send('POST', checkout ? '/v1/shop-payments' : '/v1/transfers', {
            authorization: `Bearer ${pair.tokens[n % pair.tokens.length] ?? ''}`,
            'idempotency-key': `${runId}-${String(connection)}-${String(n)}`,
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
          }, body);
        }
        const into = measured ? statuses : warmStatuses;
        if (measured) latencies.push(performance.now() - t0);
        into.set(status, (into.get(status) ?? 0) + 1);
      }
    }),
  );
}

if (plan.mode !== 'sequence' && plan.warmSeconds !== undefined && plan.warmSeconds > 0) {
  await runTimed(performance.now() + plan.warmSeconds * 1000, `${plan.runId}w`, false);
  process.stdout.write('warm\n');
}
// The CPU this process spends from here on: the measured load, not loading the script or warming up.
const cpuAtStart = process.cpuUsage();
const started = performance.now();
if (plan.mode === 'sequence') await Promise.all(Array.from({ length: plan.connections }, (_, connection) => runSequence(plan.sequences?.[connection] ?? [], started)));
else await runTimed(started + plan.seconds * 1000, plan.runId, true);
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const duplicates = [...created.values()].filter((count) => count > 1).length;
const cpu = process.cpuUsage(cpuAtStart);
process.stdout.write(`${JSON.stringify({ requests: latencies.length, cpuMs: (cpu.user + cpu.system) / 1000, seconds, rps: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), statuses: Object.fromEntries(statuses), warmStatuses: Object.fromEntries(warmStatuses), duplicates, wins: wonBodies, ...(plan.keepLatencies === true ? { latencies: latencies.map((ms) => Math.round(ms * 100) / 100) } : {}) })}\n`);
agent.destroy();
