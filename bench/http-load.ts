/**
 * The load generator for `bench -- http-transfer`, run as its own process so that it does not
 * share the server's event loop. Reads a JSON plan on stdin; runs `connections` concurrent
 * keep-alive loops for `seconds`; prints one JSON line of results.
 */
import { Agent, request } from 'node:http';

interface Plan {
  readonly baseUrl: string;
  readonly mode: 'healthz' | 'transfer';
  readonly seconds: number;
  readonly connections: number;
  /**
   * For transfers: per connection, the senders' tokens it rotates through (so that no user goes
   * over the per-user payment rate limit) and a recipient user id.
   */
  readonly pairs: readonly { readonly tokens: readonly string[]; readonly toUserId: string }[];
  readonly pin: string;
  readonly runId: string;
}

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const plan = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Plan;
const agent = new Agent({ keepAlive: true, maxSockets: plan.connections });
const url = new URL(plan.baseUrl);

function send(method: string, path: string, headers: Record<string, string>, body: string | undefined): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: url.hostname, port: url.port, method, path, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => {
        resolve(res.statusCode ?? 0);
      });
    });
    req.on('error', () => {
      resolve(0);
    });
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const latencies: number[] = [];
const statuses = new Map<number, number>();
const started = performance.now();
const deadline = started + plan.seconds * 1000;
const requestsMax = 10_000_000;
await Promise.all(
  Array.from({ length: plan.connections }, async (_, connection) => {
    const pair = plan.pairs[connection % Math.max(1, plan.pairs.length)];
    for (let n = 0; n < requestsMax && performance.now() < deadline; n++) {
      const t0 = performance.now();
      let status: number;
      if (plan.mode === 'healthz' || pair === undefined) {
        status = await send('GET', '/healthz', {}, undefined);
      } else {
        const body = JSON.stringify({ toUserId: pair.toUserId, amountMinor: '1', pin: plan.pin, memo: 'bench' });
        status = await send('POST', '/v1/transfers', {
          authorization: `Bearer ${pair.tokens[n % pair.tokens.length] ?? ''}`,
          'idempotency-key': `${plan.runId}-${String(connection)}-${String(n)}`,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
        }, body);
      }
      latencies.push(performance.now() - t0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
process.stdout.write(`${JSON.stringify({ requests: latencies.length, seconds, rps: latencies.length / seconds, p50: at(50), p99: at(99), statuses: Object.fromEntries(statuses) })}\n`);
agent.destroy();
