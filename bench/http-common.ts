/** What the HTTP benchmarks share: users set up in bulk, and the load generator child process. */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile } from './percentile.ts';
import argon2 from 'argon2';
import { systemClock } from '../src/kernel/clock.ts';
import type { Sql } from '../src/kernel/db.ts';
import { createIdGenerator } from '../src/kernel/ids.ts';
import { cryptoRandom } from '../src/kernel/random.ts';
import { hashPin } from '../src/identity/pin-key.ts';

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly statuses: Record<string, number>;
  /** The warm-up's answers (a plan with `warmSeconds`): not measured, but its errors count. */
  readonly warmStatuses?: Record<string, number>;
  /** Sequence mode: users granted twice (201 more than once). */
  readonly duplicates?: number;
  /** Sequence mode: 200 answers whose body said `"won":true` (rain taps). */
  readonly wins?: number;
  /** With `keepLatencies` in the plan: every measured latency, ms, sorted. */
  readonly latencies?: readonly number[];
}

/**
 * Rounds of one phase as one result: requests and seconds summed (the rate is the run's), the
 * statuses added up, p50 and p99 over all the rounds' latencies (plans with `keepLatencies`).
 */
export function combineRounds(rounds: readonly LoadResult[]): LoadResult {
  const add = (pick: (round: LoadResult) => Record<string, number> | undefined): Record<string, number> => {
    const sum: Record<string, number> = {};
    for (const round of rounds) for (const [status, n] of Object.entries(pick(round) ?? {})) sum[status] = (sum[status] ?? 0) + n;
    return sum;
  };
  const requests = rounds.reduce((sum, round) => sum + round.requests, 0);
  const seconds = rounds.reduce((sum, round) => sum + round.seconds, 0);
  const latencies = rounds.flatMap((round) => {
    if (round.latencies === undefined) throw new Error('rounds are combined from plans with keepLatencies');
    return round.latencies;
  }).sort((a, b) => a - b);
  return {
    requests,
    seconds,
    rps: seconds > 0 ? requests / seconds : 0,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    statuses: add((round) => round.statuses),
    warmStatuses: add((round) => round.warmStatuses),
  };
}

/** Answers that were not 2xx. */
export function errorCount(result: LoadResult): number {
  return [result.statuses, result.warmStatuses ?? {}].flatMap((statuses) => Object.entries(statuses)).filter(([status]) => !status.startsWith('2')).reduce((sum, [, count]) => sum + count, 0);
}

/**
 * Runs a load generator (bench/http-load.ts unless named) in a child process with `plan` on
 * stdin, and answers the JSON of its last line. `nodeFlags` go before the script (a CPU profile).
 * A plan with `warmSeconds` makes the child warm up first and print `warm`; the CPU figures start
 * there, and `onWarm` is called.
 */
export function runLoad<T = LoadResult>(plan: object, generator = 'http-load.ts', nodeFlags: readonly string[] = [], onWarm?: () => void): Promise<T> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), generator);
  // The server's CPU per request (this process): steadier between runs than the rates.
  let cpuBefore = process.cpuUsage();
  let databaseBefore = databaseCpuMs();
  return new Promise<T>((resolve, reject) => {
    // The plan goes through stdin: thousands of tokens are more than one argv string may hold.
    const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.on('error', reject);
    child.stdin.end(JSON.stringify(plan));
    let output = '';
    let warm = false;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (!warm && output.startsWith('warm\n')) {
        warm = true;
        cpuBefore = process.cpuUsage();
        databaseBefore = databaseCpuMs();
        onWarm?.();
      }
    });
    child.on('exit', (code) => {
      const line = output.trim().split('\n').pop() ?? '';
      if (code !== 0 || line === '') {
        reject(new Error(`load generator exited ${String(code)}`));
        return;
      }
      const result = JSON.parse(line) as T & { requests?: number; cpuMs?: number };
      const cpu = process.cpuUsage(cpuBefore);
      const databaseMs = databaseCpuMs() - databaseBefore;
      if (typeof result.requests === 'number') printCosts({ requests: result.requests, server: cpu, databaseMs, loadMs: result.cpuMs });
      resolve(result);
    });
  });
}

/**
 * What a request cost the processes sharing the machine: the server's CPU (this process,
 * `process.cpuUsage` over the phase), PostgreSQL's and the load generator's, in ms a request.
 */
export function printCosts(phase: { readonly requests: number; readonly server: NodeJS.CpuUsage; readonly databaseMs: number; readonly loadMs?: number | undefined }): void {
  const { requests, server } = phase;
  if (requests <= 0) return;
  process.stderr.write(`  server CPU ${((server.user + server.system) / 1000 / requests).toFixed(3)} ms a request (${String(requests)} requests, user ${(server.user / 1e6).toFixed(1)} s, system ${(server.system / 1e6).toFixed(1)} s); PostgreSQL CPU ${(phase.databaseMs / requests).toFixed(3)} ms a request${phase.loadMs === undefined ? '' : `; load generator ${(phase.loadMs / requests).toFixed(3)}`}\n`);
}

/**
 * Health checks and payments alternate in `rounds` (a machine whose speed drifts during the run
 * moves both alike), each a load of its own, and come back as one result each (`combineRounds`).
 * `--profile` and `--count-sql` (`observer`) watch the first payments round.
 */
export async function alternateRounds(
  rounds: number,
  healthz: (round: number) => Promise<LoadResult>,
  payments: (round: number, onWarm?: () => void) => Promise<LoadResult>,
  observe: (load: (onWarm: () => void) => Promise<LoadResult>) => Promise<LoadResult>,
): Promise<{ readonly healthz: LoadResult; readonly payments: LoadResult }> {
  const healthzRounds: LoadResult[] = [];
  const paymentRounds: LoadResult[] = [];
  for (let round = 0; round < rounds; round += 1) {
    healthzRounds.push(await healthz(round));
    paymentRounds.push(round === 0 ? await observe((onWarm) => payments(round, onWarm)) : await payments(round));
  }
  return { healthz: combineRounds(healthzRounds), payments: combineRounds(paymentRounds) };
}

/**
 * The CPU time, in ms, of this machine's PostgreSQL processes (Linux /proc; 0 elsewhere): with
 * the server's own, what a request costs on a shared machine, steadier than rates on a noisy one.
 */
export function databaseCpuMs(): number {
  let ticks = 0;
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^[0-9]+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        if (!stat.slice(stat.indexOf('(') + 1, close).startsWith('postgres')) continue;
        const fields = stat.slice(close + 2).split(' ');
        ticks += Number(fields[11]) + Number(fields[12]);
      } catch {
        // The process ended between the listing and the read.
      }
    }
  } catch {
    return 0;
  }
  return ticks * 10;
}

/** Senders and recipients with verified real names, PINs and live sessions, inserted in bulk. */
export async function setUpUsers(sql: Sql, options: { count: number; pinKey: Buffer; pin: string }) {
  const ids = createIdGenerator(systemClock, cryptoRandom);
  const passwordHash = await argon2.hash('bench-pass-1', { type: argon2.argon2id });
  const users = Array.from({ length: options.count }, (_, index) => {
    const id = ids.next('usr');
    const token = randomBytes(32).toString('base64url');
    return { id, wallet: ids.next('acct'), mobile: `137${String(10_000_000 + index).slice(-8)}`, token, tokenSha256: createHash('sha256').update(token).digest('hex'), pinHash: hashPin(options.pinKey, id, options.pin) };
  });
  const now = new Date();
  await sql`
    INSERT INTO ledger_accounts (id, currency, code, owner_id, no_overdraft, created_at)
    SELECT w, 'CNY', 'user.wallet', u, true, ${now} FROM unnest(${users.map((u) => u.wallet)}::text[], ${users.map((u) => u.id)}::text[]) AS x(w, u)`;
  await sql`
    INSERT INTO identity_users (id, mobile, display_name, password_hash, pin_hash, wallet_account_id, real_name, id_number_masked, real_name_verified_at, created_at)
    SELECT u, m, 'bench', ${passwordHash}, p, w, 'Bench', '110***********0000', ${now}, ${now}
    FROM unnest(${users.map((u) => u.id)}::text[], ${users.map((u) => u.mobile)}::text[], ${users.map((u) => u.pinHash)}::text[], ${users.map((u) => u.wallet)}::text[]) AS x(u, m, p, w)`;
  await sql`
    INSERT INTO identity_sessions (token_sha256, user_id, created_at, expires_at)
    SELECT t, u, ${now}, ${new Date(now.getTime() + 86_400_000)} FROM unnest(${users.map((u) => u.tokenSha256)}::text[], ${users.map((u) => u.id)}::text[]) AS x(t, u)`;
  return users;
}


/**
 * `--profile`: the server's CPU profile over one phase (the V8 inspector in this process). Call
 * the answer to stop it; it writes the .cpuprofile (open it in Chrome DevTools) and names it.
 */
async function startProfile(): Promise<() => Promise<string>> {
  const { Session } = await import('node:inspector/promises');
  const { writeFile } = await import('node:fs/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    const file = path.join(process.cwd(), `bench-${String(Date.now())}.cpuprofile`);
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
    return file;
  };
}

/**
 * `--profile` and `--count-sql` over one phase: the server's CPU profile (see `startProfile`) and
 * its statements by text, most frequent first, per request of the phase. Pass `debug` to
 * `connect`; `phase` runs a load with both switched on around it.
 */
export function phaseObserver(args: readonly string[]) {
  const counting = args.includes('--count-sql');
  const profiling = args.includes('--profile');
  const counts = new Map<string, number>();
  let on = false;
  return {
    debug: counting ? { debug: (_connection: number, query: string) => {
      if (!on) return;
      const key = query.replace(/\s+/g, ' ').slice(0, 100);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    } } : {},
    async phase<T extends { readonly requests: number }>(name: string, load: (onWarm: () => void) => Promise<T>): Promise<T> {
      // The profile covers the warm-up as well; the statements are counted from its end.
      const profile = profiling ? await startProfile() : undefined;
      counts.clear();
      on = true;
      const result = await load(() => { counts.clear(); }).finally(() => {
        on = false;
      });
      for (const [query, n] of [...counts.entries()].sort((a, b) => b[1] - a[1])) process.stderr.write(`${String(n).padStart(8)} ${(n / result.requests).toFixed(3).padStart(7)}/req ${query}\n`);
      if (profile !== undefined) process.stderr.write(`${name} phase CPU profile: ${await profile()}\n`);
      return result;
    },
  };
}
