import { assert } from '../kernel/assert.ts';
import type { Clock } from '../kernel/clock.ts';
import type { LedgerConfig } from '../kernel/config.ts';
import type { ReservedSql, Sql } from '../kernel/db.ts';
import {
  applyBatch,
  linkHash,
  type NewTransfer,
  type Submission,
  type TransferRecord,
  type TransferRequest,
  type TransferResult,
} from './model.ts';
import { loadBatch, writeBatch } from './store.ts';

/**
 * The batching writer. Callers submit transfers concurrently; one writer gathers them (for
 * `batchLingerMs` when it wakes from idle, and whatever arrived while the previous batch was
 * committing) and applies each batch in one durable PostgreSQL transaction: one pipelined round
 * trip to read under the chain-head lock, the pure `applyBatch` in memory, one pipelined round
 * trip to write and commit. synchronous_commit stays on: a result is returned only after its
 * batch is durable. Batches apply strictly one after another (the chain-head lock), but the next
 * one is already waiting on that lock while this process finishes the last.
 *
 * The hash chain is built here, in the batch, under the chain-head row lock that the batch takes
 * anyway; with one writer per database that lock is uncontended, and a second writer (a CLI, a
 * second server) queues behind it rather than forking the chain.
 */

/** A stored transfer, as results report it. */
export type Transfer = TransferRecord;

export type SubmitResult =
  | { readonly id: string; readonly status: 'created' | 'exists'; readonly transfer: Transfer }
  | { readonly id: string; readonly status: 'failed'; readonly error: string; readonly detail: string };

/**
 * A module's own rows that belong to its transfers: written by the batch, in the batch's own
 * transaction, for each submission whose transfers it created, so that they exist exactly when
 * the money moved (a payment and its bills). One statement per batch for all of them; it must
 * not fail (insert with ON CONFLICT DO NOTHING), or the whole batch rolls back. It answers a
 * `record_id` column naming the rows it wrote, so each caller learns whether its row was.
 */
export type RecordWriter<T> = (connection: ReservedSql, rows: readonly T[]) => RecordQuery;

/** A query not yet sent (postgres.js sends on `execute()`), answering rows with a `record_id`. */
export interface RecordQuery {
  execute(): PromiseLike<readonly object[]>;
}

export interface AttachedRecord {
  /** The writer, as the key its rows are grouped by. */
  readonly key: object;
  readonly id: string;
  readonly row: unknown;
  readonly writeAll: (connection: ReservedSql, rows: readonly unknown[]) => RecordQuery;
}

export function attachRecord<T>(write: RecordWriter<T>, id: string, row: T): AttachedRecord {
  return { key: write, id, row, writeAll: (connection, rows) => write(connection, rows as readonly T[]) };
}

/** A submission's results, and whether its attached record was written. */
export interface SubmitOutcome {
  readonly results: SubmitResult[];
  readonly recorded: boolean;
}

interface Waiting {
  readonly submission: Submission;
  readonly record: AttachedRecord | undefined;
  readonly size: number;
  resolve(outcome: SubmitOutcome): void;
  reject(error: unknown): void;
}

export interface BatchStats {
  readonly transfers: number;
  readonly created: number;
  /** From taking the batch to its COMMIT answered. */
  readonly durationMs: number;
  /** BEGIN and the locking reads. */
  readonly readMs: number;
  /** The pure apply, seqs and hashes. */
  readonly applyMs: number;
  /** The writes and COMMIT (the fsync). */
  readonly writeMs: number;
}

export interface BatchObserver {
  batchApplied(stats: BatchStats): void;
}

/** Batches in flight at once: one applying, the next already queued on the chain-head lock. */
const inFlightMax = 2;
/** Below this many queued transfers an idle writer does not split them into two batches. */
const splitMin = 16;
/**
 * A second batch starts while one is in flight only once this many transfers wait; fewer wait
 * for the first to finish and go in one larger batch. Larger batches cost less CPU a transfer,
 * which is what a busy server (HTTP requests, the database and the writer on the same cores)
 * runs short of; a flood of submitters still gets two batches in flight.
 */
const secondBatchMin = 32;

export class BatchWriter {
  private readonly queue: Waiting[] = [];
  private queuedTransfers = 0;
  private inFlight = 0;
  private pumpScheduled = false;
  private closed = false;
  private readonly spareConnections: ReservedSql[] = [];
  private drained: (() => void) | undefined;
  private reserving: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: {
      readonly sql: Sql;
      readonly clock: Clock;
      readonly config: LedgerConfig;
      readonly observer?: BatchObserver;
    },
  ) {}

  async submit(submission: Submission): Promise<SubmitResult[]> {
    return (await this.submitWithRecord(submission, undefined)).results;
  }

  submitWithRecord(submission: Submission, record: AttachedRecord | undefined): Promise<SubmitOutcome> {
    if (this.closed) return Promise.reject(new Error('the ledger writer is closed'));
    const size = 'transfer' in submission ? 1 : submission.group.length;
    assert(size >= 1, 'a submission has at least one transfer');
    assert(size <= this.deps.config.batchSizeMax, 'a linked group fits in one batch');
    return new Promise((resolve, reject) => {
      this.queue.push({ submission, record, size, resolve, reject });
      this.queuedTransfers += size;
      this.schedulePump(this.inFlight === 0 ? this.deps.config.batchLingerMs : 0);
    });
  }

  /** Stops taking submissions, waits for the ones already queued, and returns its connections. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.inFlight > 0 || this.queue.length > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
      });
    }
    for (const connection of this.spareConnections.splice(0)) connection.release();
  }

  /**
   * Starts batches on the next turn of the event loop (or after the linger when idle), so that
   * callers answered by the last batch can submit again before the next one forms.
   */
  private schedulePump(delayMs: number): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    const run = (): void => {
      this.pumpScheduled = false;
      this.pump();
    };
    if (delayMs > 0) setTimeout(run, delayMs);
    else setImmediate(run);
  }

  /**
   * Keeps up to two batches in flight. While one applies, the next is already sent and waits on
   * the chain-head lock, so the database goes straight from one batch to the next while this
   * process prepares and answers them. An idle writer with enough queued splits them in two for
   * the same reason.
   */
  private pump(): void {
    const { batchSizeMax } = this.deps.config;
    for (let started = 0; started < inFlightMax && this.queue.length > 0 && this.inFlight < inFlightMax; started++) {
      if (this.inFlight > 0 && this.queuedTransfers < secondBatchMin) break;
      const split = this.inFlight === 0 && this.queuedTransfers >= 2 * splitMin;
      const limit = split ? Math.min(batchSizeMax, Math.ceil(this.queuedTransfers / 2)) : batchSizeMax;
      const batch = this.take(limit);
      this.inFlight += 1;
      void this.runAndAnswer(batch).finally(() => {
        this.inFlight -= 1;
        if (this.queue.length > 0) this.schedulePump(0);
        else if (this.inFlight === 0) this.drained?.();
      });
    }
  }

  private take(limit: number): Waiting[] {
    const batch: Waiting[] = [];
    let size = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0];
      assert(next !== undefined, 'queue is non-empty');
      if (batch.length > 0 && size + next.size > limit) break;
      this.queue.shift();
      size += next.size;
      batch.push(next);
    }
    this.queuedTransfers -= size;
    return batch;
  }

  private async runAndAnswer(batch: readonly Waiting[]): Promise<void> {
    try {
      const { results, recorded } = await this.runBatch(batch);
      batch.forEach((waiting, index) => {
        const list = results[index];
        assert(list !== undefined, 'one result list per submission');
        waiting.resolve({ results: list, recorded: waiting.record !== undefined && recorded.has(waiting.record.id) });
      });
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    }
  }

  /**
   * A connection of the writer's own. Reservations are made one at a time: postgres.js 3.4 can
   * hang, or hand one connection to both, when two reserve() calls race on an empty pool.
   */
  private acquire(): Promise<ReservedSql> {
    const spare = this.spareConnections.pop();
    if (spare !== undefined) return Promise.resolve(spare);
    const next = this.reserving.then(() => this.deps.sql.reserve());
    this.reserving = next.catch(() => undefined);
    return next;
  }

  /**
   * Runs `work` in a transaction on the writer's own connection, with BEGIN pipelined ahead of the
   * first reads and COMMIT behind the last writes: two round trips a batch. `work` returns its
   * writes already sent; COMMIT goes out after them and must answer COMMIT (PostgreSQL answers a
   * COMMIT of a failed transaction with ROLLBACK), or the batch fails.
   */
  private async inTransaction<T>(
    work: (connection: ReservedSql) => Promise<{ value: T; writes: Promise<unknown> }>,
  ): Promise<T> {
    const connection = await this.acquire();
    try {
      const begun = connection`BEGIN`.execute();
      const { value, writes } = await work(connection);
      // Sent after every write of the batch: COMMIT is the last statement on the wire.
      const committing = connection`COMMIT`.execute();
      const [, , result] = await Promise.all([begun, writes, committing]);
      assert(result.command === 'COMMIT', `the batch transaction ended with ${result.command}`);
      this.spareConnections.push(connection);
      return value;
    } catch (error) {
      // The connection may be mid-transaction or broken: roll back if it answers, and take a
      // fresh one for the next batch either way.
      await connection`ROLLBACK`.catch(() => undefined);
      connection.release();
      throw error;
    }
  }

  private async runBatch(batch: readonly Waiting[]): Promise<{ results: SubmitResult[][]; recorded: Set<string> }> {
    const started = performance.now();
    const submissions = batch.map((waiting) => waiting.submission);
    const requests: TransferRequest[] = submissions.flatMap((s) => ('transfer' in s ? [s.transfer] : [...s.group]));
    const transferIds = requests.map((r) => r.id);
    const pendingIds = requests.flatMap((r) => (r.pendingId === undefined ? [] : [r.pendingId]));
    const accountIds = [
      ...new Set(requests.flatMap((r) => [r.debitAccountId, r.creditAccountId].filter((id): id is string => id !== undefined))),
    ];
    let readDone = 0;
    let applyDone = 0;
    const output = await this.inTransaction(async (connection) => {
      const loaded = await loadBatch(connection, { transferIds, pendingIds, accountIds });
      readDone = performance.now();
      const outcome = applyBatch(
        {
          accounts: loaded.accounts,
          transfers: loaded.transfers,
          resolutions: loaded.resolutions,
          nowMs: this.deps.clock.nowMs(),
          transferAmountMaxMinor: this.deps.config.transferAmountMaxMinor,
        },
        submissions,
      );
      const seqs: bigint[] = [];
      const hashes: Buffer[] = [];
      let previous: Uint8Array = loaded.head.hash;
      outcome.created.forEach((transfer, index) => {
        const seq = loaded.head.lastSeq + BigInt(index + 1);
        const hash = linkHash(previous, seq, transfer);
        seqs.push(seq);
        hashes.push(hash);
        previous = hash;
      });
      assertBalanced(outcome.created);
      applyDone = performance.now();
      const recordWrites = writeRecords(connection, batch, outcome.results);
      const writes = Promise.all([
        writeBatch(connection, { created: outcome.created, seqs, hashes, dirtyBooks: outcome.dirtyBooks, rowRefs: loaded.rowRefs }),
        recordWrites,
      ]);
      const seqById = new Map(outcome.created.map((transfer, index) => [transfer.id, seqs[index] ?? 0n]));
      return { value: { outcome, seqById, recordWrites }, writes };
    });
    const finished = performance.now();
    this.deps.observer?.batchApplied({
      transfers: requests.length,
      created: output.outcome.created.length,
      durationMs: finished - started,
      readMs: readDone - started,
      applyMs: applyDone - readDone,
      writeMs: finished - applyDone,
    });
    return {
      results: output.outcome.results.map((list) => list.map((result) => toSubmitResult(result, output.seqById))),
      recorded: await output.recordWrites,
    };
  }
}

/**
 * The records of the submissions whose transfers this batch created, one statement per writer,
 * sent now (before COMMIT); answers the ids of the records written.
 */
async function writeRecords(
  connection: ReservedSql,
  batch: readonly Waiting[],
  results: readonly (readonly TransferResult[])[],
): Promise<Set<string>> {
  const groups = new Map<object, { record: AttachedRecord; rows: unknown[] }>();
  batch.forEach((waiting, index) => {
    const record = waiting.record;
    const created = results[index]?.every((result) => result.status === 'created') ?? false;
    if (record === undefined || !created) return;
    const group = groups.get(record.key) ?? { record, rows: [] };
    group.rows.push(record.row);
    groups.set(record.key, group);
  });
  const written = await Promise.all(
    [...groups.values()].map(({ record, rows }) => record.writeAll(connection, rows).execute()),
  );
  return new Set(written.flatMap((rows) => rows.map((row) => String((row as { record_id?: unknown }).record_id))));
}

/** Checked twice: every created transfer's entries balance (debits equal credits). */
function assertBalanced(created: readonly NewTransfer[]): void {
  for (const transfer of created) {
    let debits = 0n;
    let credits = 0n;
    for (const entry of transfer.entries) {
      if (entry.side === 'D') debits += entry.amountMinor;
      else credits += entry.amountMinor;
    }
    assert(debits === credits, `transfer ${transfer.id} balances`);
  }
}

function toSubmitResult(result: TransferResult, seqById: ReadonlyMap<string, bigint>): SubmitResult {
  if (result.status === 'failed') {
    return { id: result.id, status: 'failed', error: `ledger.${result.error}`, detail: result.detail };
  }
  if ('seq' in result.transfer) return { id: result.id, status: 'exists', transfer: result.transfer };
  const seq = seqById.get(result.id);
  assert(seq !== undefined, 'every transfer created in a batch has a seq');
  const { entries: _entries, ...record } = result.transfer;
  return { id: result.id, status: result.status, transfer: { ...record, seq } };
}
