/**
 * The process that test/crash.test.ts kills. It connects to the schema the parent prepared
 * (migrated, with a funded `bank`, a hot account `hot` and wallets `w0`…`w{N-1}`), builds a Ledger
 * on the real clock, and runs a transfer load from many concurrent loops: posted transfers, linked
 * groups and holds that are then posted or voided. For every transfer the ledger acknowledged
 * (result `created` or `exists`) it prints `ack <id>` on stdout, one per line, only after the
 * ledger returned; stdout is a pipe, which Node writes synchronously on Linux, so a printed ack
 * is already in the parent's pipe when the next line of code runs.
 *
 * Environment: DATABASE_URL, CRASH_SCHEMA, CRASH_RUN (makes this run's ids unique), CRASH_SEED,
 * CRASH_WALLETS (default 50), CRASH_LOOPS (default 32), CRASH_RUNTIME_MAX_MS (default 60 000), and
 * CRASH_ACK_EARLY=1, which prints acks before submitting: the broken behaviour the parent's
 * self-check proves it can detect.
 *
 * Exit codes: 0 when the runtime bound ends the load (the parent should have killed it first),
 * 2 when the ledger threw, 3 when a transfer failed for a reason this load never provokes.
 */
import { systemClock } from '../src/kernel/clock.ts';
import { loadConfig } from '../src/kernel/config.ts';
import { connect } from '../src/kernel/db.ts';
import { createIdGenerator } from '../src/kernel/ids.ts';
import { cryptoRandom, SeededRandom } from '../src/kernel/random.ts';
import { Ledger, type SubmitResult, type TransferRequest } from '../src/ledger/index.ts';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

function integer(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
  return value;
}

const url = required('DATABASE_URL');
const schema = required('CRASH_SCHEMA');
const run = required('CRASH_RUN');
const seed = integer('CRASH_SEED', 1);
const walletCount = integer('CRASH_WALLETS', 50);
const loopCount = integer('CRASH_LOOPS', 32);
const runtimeMaxMs = integer('CRASH_RUNTIME_MAX_MS', 60_000);
const isAckEarly = process.env['CRASH_ACK_EARLY'] === '1';
/** Each loop's bound, far above what the parent lets it reach before the kill. */
const iterationsMax = 100_000;
const amountMaxMinor = 1000;

const sql = connect({ url, schema, poolSize: 4 });
const ledger = new Ledger({
  sql,
  clock: systemClock,
  ids: createIdGenerator(systemClock, cryptoRandom),
  config: loadConfig(process.env).ledger,
});
const startedMs = performance.now();

function ack(ids: readonly string[]): void {
  if (ids.length > 0) process.stdout.write(ids.map((id) => `ack ${id}\n`).join(''));
}

function die(code: number, message: string): never {
  process.stderr.write(`crash-child run ${run}: ${message}\n`);
  process.exit(code);
}

const wallet = (random: SeededRandom): string => `w${String(random.int(0, walletCount))}`;

function otherWallet(random: SeededRandom, not: string): string {
  for (let attempt = 0; attempt < 100; attempt++) {
    const id = wallet(random);
    if (id !== not) return id;
  }
  return die(3, 'could not pick a second wallet');
}

function posted(id: string, debitAccountId: string, creditAccountId: string, random: SeededRandom): TransferRequest {
  const amountMinor = BigInt(random.int(1, amountMaxMinor + 1));
  return { id, type: 'posted', debitAccountId, creditAccountId, amountMinor, currency: 'CNY', kind: 'load' };
}

/** Submits, acks what the ledger acknowledged, and stops the process on anything unexpected. */
async function submit(requests: readonly TransferRequest[]): Promise<SubmitResult[]> {
  if (isAckEarly) ack(requests.map((request) => request.id));
  let results: SubmitResult[];
  try {
    results = requests.length === 1 && requests[0] !== undefined ? [await ledger.transfer(requests[0])] : await ledger.linked(requests);
  } catch (error) {
    return die(2, `the ledger threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
  const acknowledged = results.filter((result) => result.status !== 'failed').map((result) => result.id);
  if (!isAckEarly) ack(acknowledged);
  for (const result of results) {
    // Wallets are funded far beyond this load; only the hot account can run short.
    const isExpected = result.status !== 'failed' || result.error === 'ledger.insufficient_funds' || result.error === 'ledger.linked_event_failed';
    if (!isExpected) die(3, `unexpected result ${JSON.stringify(result)}`);
  }
  return results;
}

async function holdThenResolve(base: string, random: SeededRandom): Promise<void> {
  const debit = wallet(random);
  const credit = random.int(0, 4) === 0 ? 'hot' : otherWallet(random, debit);
  const hold: TransferRequest = { ...posted(`${base}.h`, debit, credit, random), type: 'pending', timeoutSeconds: 600 };
  const [held] = await submit([hold]);
  if (held?.status !== 'created') return;
  const roll = random.int(0, 3);
  if (roll === 0) {
    await submit([{ id: `${base}.v`, type: 'void', pendingId: hold.id }]);
  } else {
    const amountMinor = roll === 1 ? undefined : BigInt(random.int(1, Number(hold.amountMinor ?? 1n) + 1));
    await submit([{ id: `${base}.p`, type: 'post', pendingId: hold.id, ...(amountMinor === undefined ? {} : { amountMinor }) }]);
  }
}

async function loop(loopIndex: number): Promise<void> {
  const random = new SeededRandom(seed * 1000 + loopIndex);
  for (let iteration = 0; iteration < iterationsMax; iteration++) {
    if (performance.now() - startedMs > runtimeMaxMs) return;
    const base = `c${run}.${String(loopIndex)}.${String(iteration)}`;
    const roll = random.int(0, 100);
    if (roll < 60) {
      const debit = wallet(random);
      await submit([posted(base, debit, otherWallet(random, debit), random)]);
    } else if (roll < 68) {
      await submit([posted(base, wallet(random), 'hot', random)]);
    } else if (roll < 72) {
      await submit([posted(base, 'hot', 'bank', random)]);
    } else if (roll < 86) {
      // A linked chain a → b → c (→ d): all or none.
      const size = random.int(2, 4);
      const path = [wallet(random)];
      for (let hop = 0; hop < size; hop++) path.push(otherWallet(random, path[hop] ?? ''));
      await submit(path.slice(1).map((credit, hop) => posted(`${base}.g${String(hop)}`, path[hop] ?? '', credit, random)));
    } else {
      await holdThenResolve(base, random);
    }
  }
}

await Promise.all(Array.from({ length: loopCount }, (_, index) => loop(index)));
await ledger.close();
await sql.end({ timeout: 5 });
process.stderr.write(`crash-child run ${run}: runtime bound reached without being killed\n`);
