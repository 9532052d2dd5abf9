import { createHash } from 'node:crypto';
import type { Clock } from '../kernel/clock.ts';
import type { LedgerConfig } from '../kernel/config.ts';
import type { Sql, TransactionSql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import type { IdGenerator } from '../kernel/ids.ts';
import { parseCurrency } from '../kernel/money.ts';
import './errors.ts';
import {
  canonicalMetadata,
  kindPattern,
  validateMetadata,
  type Metadata,
  type Submission,
  type TransferRequest,
} from './model.ts';
import {
  insertAccount,
  selectAccount,
  selectShards,
  toTransferRecord,
  type AccountRow,
} from './store.ts';
import { attachRecord, BatchWriter, type BatchObserver, type RecordWriter, type SubmitResult } from './writer.ts';

export interface CreateAccountInput {
  readonly id?: string;
  readonly currency: string;
  /** A short lower-case code saying what the account is: `user.wallet`, `bank`, `campaign.budget`. */
  readonly code: string;
  readonly ownerId?: string | null;
  readonly noOverdraft: boolean;
  readonly overdraftLimitMinor?: bigint;
  /** More than 1 makes a hot account: its money lives in this many shard books. */
  readonly shardCount?: number;
  readonly metadata?: Metadata;
}

export interface Account {
  readonly id: string;
  readonly currency: string;
  readonly code: string;
  readonly ownerId: string | null;
  readonly noOverdraft: boolean;
  readonly overdraftLimitMinor: bigint;
  readonly shardCount: number;
  readonly debitsPendingMinor: bigint;
  readonly debitsPostedMinor: bigint;
  readonly creditsPendingMinor: bigint;
  readonly creditsPostedMinor: bigint;
  /** Posted balance: credits_posted − debits_posted. */
  readonly balanceMinor: bigint;
  /** What can be spent now: the posted balance less pending debits. */
  readonly availableMinor: bigint;
  readonly metadata: Metadata;
  readonly createdAt: Date;
}

export interface StatementLine {
  readonly seq: bigint;
  readonly transferId: string;
  readonly kind: string;
  readonly type: string;
  readonly side: 'D' | 'C';
  readonly amountMinor: bigint;
  /** The book's posted balance after this line (for a hot account: the shard's). */
  readonly balanceAfterMinor: bigint;
  readonly shardNo: number | null;
  readonly counterpartyAccountId: string;
  readonly metadata: Metadata;
  readonly createdAt: Date;
}

export const statementPageSizeMax = 200;
export const expirySweepSizeMax = 1000;
const shardCountMax = 256;

export interface LedgerDeps {
  readonly sql: Sql;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly config: LedgerConfig;
  readonly observer?: BatchObserver;
}

function toAccount(row: AccountRow, shards: readonly AccountRow[]): Account {
  const books = shards.length > 0 ? shards : [row];
  const sum = (pick: (book: AccountRow) => bigint): bigint => books.reduce((total, book) => total + pick(book), 0n);
  const debitsPending = sum((b) => b.debits_pending);
  const debitsPosted = sum((b) => b.debits_posted);
  const creditsPending = sum((b) => b.credits_pending);
  const creditsPosted = sum((b) => b.credits_posted);
  return {
    id: row.id,
    currency: row.currency,
    code: row.code,
    ownerId: row.owner_id,
    noOverdraft: row.no_overdraft,
    overdraftLimitMinor: row.overdraft_limit_minor,
    shardCount: row.shard_count,
    debitsPendingMinor: debitsPending,
    debitsPostedMinor: debitsPosted,
    creditsPendingMinor: creditsPending,
    creditsPostedMinor: creditsPosted,
    balanceMinor: creditsPosted - debitsPosted,
    availableMinor: creditsPosted - debitsPosted - debitsPending,
    metadata: row.metadata,
    createdAt: row.created_at,
  };
}

export class Ledger {
  private readonly writer: BatchWriter;

  constructor(private readonly deps: LedgerDeps) {
    this.writer = new BatchWriter(deps);
  }

  /**
   * Creates an account; the same id with the same fields returns the existing one. With `tx`, the
   * account is created inside the caller's transaction (a user and their wallet, all or nothing).
   */
  async createAccount(input: CreateAccountInput, tx?: TransactionSql): Promise<Account> {
    const currency = parseCurrency(input.currency);
    if (!kindPattern.test(input.code)) {
      throw new DomainError('request.invalid', { detail: 'code is lower-case letters, digits, _ and .' });
    }
    const shardCount = input.shardCount ?? 1;
    if (!Number.isSafeInteger(shardCount) || shardCount < 1 || shardCount > shardCountMax) {
      throw new DomainError('request.invalid', { detail: `shardCount is 1 to ${String(shardCountMax)}` });
    }
    const overdraftLimitMinor = input.overdraftLimitMinor ?? 0n;
    if (overdraftLimitMinor < 0n || (overdraftLimitMinor > 0n && !input.noOverdraft)) {
      throw new DomainError('request.invalid', { detail: 'an overdraft limit is a non-negative amount on a no-overdraft account' });
    }
    if (overdraftLimitMinor > 0n && shardCount > 1) {
      throw new DomainError('request.invalid', { detail: 'a hot account cannot have an overdraft limit' });
    }
    const metadataProblem = validateMetadata(input.metadata);
    if (metadataProblem !== undefined) throw new DomainError('request.invalid', { detail: metadataProblem });
    const id = input.id ?? this.deps.ids.next('acct');
    const candidate = {
      id,
      currency,
      ownerId: input.ownerId ?? null,
      code: input.code,
      noOverdraft: input.noOverdraft,
      overdraftLimitMinor,
      shardCount,
      metadata: input.metadata ?? {},
      createdAt: this.deps.clock.now(),
    };
    const created = tx === undefined ? await this.deps.sql.begin((t) => insertAccount(t, candidate)) : await insertAccount(tx, candidate);
    const account = await this.readAccount(tx ?? this.deps.sql, id);
    if (account === undefined) throw new DomainError('ledger.account_not_found', { detail: `account ${id} vanished` });
    if (!created) {
      const same =
        account.currency === candidate.currency &&
        account.code === candidate.code &&
        account.ownerId === candidate.ownerId &&
        account.noOverdraft === candidate.noOverdraft &&
        account.overdraftLimitMinor === candidate.overdraftLimitMinor &&
        account.shardCount === candidate.shardCount &&
        canonicalMetadata(account.metadata) === canonicalMetadata(candidate.metadata);
      if (!same) {
        throw new DomainError('ledger.account_exists_with_different_fields', {
          detail: `account ${id} exists with different fields`,
        });
      }
    }
    return account;
  }

  getAccount(id: string): Promise<Account | undefined> {
    return this.readAccount(this.deps.sql, id);
  }

  private async readAccount(db: Sql | TransactionSql, id: string): Promise<Account | undefined> {
    const row = await selectAccount(db, id);
    if (row === undefined || row.parent_id !== null) return undefined;
    const shards = row.shard_count > 1 ? await selectShards(db, id) : [];
    return toAccount(row, shards);
  }

  /** Submits one transfer or one linked group; resolves once its batch is durable. */
  submit(submission: Submission): Promise<SubmitResult[]> {
    return this.writer.submit(submission);
  }

  async transfer(request: TransferRequest): Promise<SubmitResult> {
    const [result] = await this.writer.submit({ transfer: request });
    if (result === undefined) throw new Error('the writer returned no result');
    return result;
  }

  /**
   * A transfer with a module's own row written in the same transaction if, and only if, this
   * submission creates the transfer (see `RecordWriter`).
   */
  async transferWithRecord<T>(
    request: TransferRequest,
    record: { readonly write: RecordWriter<T>; readonly id: string; readonly row: T },
  ): Promise<{ readonly result: SubmitResult; readonly recorded: boolean }> {
    const outcome = await this.writer.submitWithRecord({ transfer: request }, attachRecord(record.write, record.id, record.row));
    const [result] = outcome.results;
    if (result === undefined) throw new Error('the writer returned no result');
    return { result, recorded: outcome.recorded };
  }

  /**
   * One transfer, or a linked group when there are several, with a record as `transferWithRecord`
   * writes it: the record is written if, and only if, the submission creates its transfers.
   */
  async legsWithRecord<T>(
    requests: readonly TransferRequest[],
    record: { readonly write: RecordWriter<T>; readonly id: string; readonly row: T },
  ): Promise<{ readonly results: SubmitResult[]; readonly recorded: boolean }> {
    const [only] = requests;
    const submission: Submission = requests.length === 1 && only !== undefined ? { transfer: only } : { group: requests };
    return this.writer.submitWithRecord(submission, attachRecord(record.write, record.id, record.row));
  }

  linked(requests: readonly TransferRequest[]): Promise<SubmitResult[]> {
    return this.writer.submit({ group: requests });
  }

  async getTransfer(id: string): Promise<SubmitResult | undefined> {
    const rows = await this.deps.sql`
      SELECT seq, id, type, debit_account_id, credit_account_id, debit_book_id, credit_book_id,
             amount_minor, currency, kind, pending_id, timeout_at, group_id, metadata, created_at
      FROM ledger_transfers WHERE id = ${id}`;
    const row = rows[0];
    if (row === undefined) return undefined;
    return { id, status: 'exists', transfer: toTransferRecord(row as Parameters<typeof toTransferRecord>[0]) };
  }

  /** An account's posted movements, newest first, with the running balance; `cursor` is a seq. */
  async statement(
    accountId: string,
    page: { readonly beforeSeq?: bigint; readonly limit: number },
  ): Promise<{ lines: StatementLine[]; nextBeforeSeq: bigint | null } | undefined> {
    const row = await selectAccount(this.deps.sql, accountId);
    if (row === undefined || row.parent_id !== null) return undefined;
    const limit = Math.min(Math.max(1, page.limit), statementPageSizeMax);
    const shards = row.shard_count > 1 ? await selectShards(this.deps.sql, accountId) : [];
    const bookIds = shards.length > 0 ? shards.map((s) => s.id) : [row.id];
    const shardNoByBook = new Map(shards.map((s) => [s.id, s.shard_no]));
    const before = page.beforeSeq ?? 9_223_372_036_854_775_807n;
    const rows = await this.deps.sql<
      {
        transfer_seq: bigint;
        book_id: string;
        side: 'D' | 'C';
        amount_minor: bigint;
        balance_after_minor: bigint;
        id: string;
        kind: string;
        type: string;
        debit_account_id: string;
        credit_account_id: string;
        metadata: Metadata;
        created_at: Date;
      }[]
    >`
      SELECT e.transfer_seq, e.book_id, e.side, e.amount_minor, e.balance_after_minor,
             t.id, t.kind, t.type, t.debit_account_id, t.credit_account_id, t.metadata, t.created_at
      FROM ledger_entries e JOIN ledger_transfers t ON t.seq = e.transfer_seq
      WHERE e.book_id = ANY(${bookIds}::text[]) AND e.transfer_seq < ${before.toString()}
      ORDER BY e.transfer_seq DESC
      LIMIT ${limit + 1}`;
    const lines = rows.slice(0, limit).map((r) => ({
      seq: r.transfer_seq,
      transferId: r.id,
      kind: r.kind,
      type: r.type,
      side: r.side,
      amountMinor: r.amount_minor,
      balanceAfterMinor: r.balance_after_minor,
      shardNo: shardNoByBook.get(r.book_id) ?? null,
      counterpartyAccountId: r.side === 'D' ? r.credit_account_id : r.debit_account_id,
      metadata: r.metadata,
      createdAt: r.created_at,
    }));
    const last = lines[lines.length - 1];
    return { lines, nextBeforeSeq: rows.length > limit && last !== undefined ? last.seq : null };
  }

  /** Transfers for the operator console, newest first: by account (either side), kind, id prefix. */
  async searchTransfers(filter: {
    readonly accountId?: string | undefined;
    readonly kind?: string | undefined;
    readonly idPrefix?: string | undefined;
    readonly beforeSeq?: bigint | undefined;
    readonly limit: number;
  }): Promise<{ transfers: ReturnType<typeof toTransferRecord>[]; nextBeforeSeq: bigint | null }> {
    const limit = Math.min(Math.max(1, filter.limit), statementPageSizeMax);
    const before = (filter.beforeSeq ?? 9_223_372_036_854_775_807n).toString();
    const account = filter.accountId ?? null;
    const kind = filter.kind ?? null;
    const prefix = filter.idPrefix === undefined ? null : `${filter.idPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = await this.deps.sql`
      SELECT seq, id, type, debit_account_id, credit_account_id, debit_book_id, credit_book_id,
             amount_minor, currency, kind, pending_id, timeout_at, group_id, metadata, created_at
      FROM ledger_transfers
      WHERE seq < ${before}
        AND (${account}::text IS NULL OR debit_account_id = ${account} OR credit_account_id = ${account})
        AND (${kind}::text IS NULL OR kind = ${kind})
        AND (${prefix}::text IS NULL OR id LIKE ${prefix})
      ORDER BY seq DESC LIMIT ${limit + 1}`;
    const transfers = rows.slice(0, limit).map((row) => toTransferRecord(row as Parameters<typeof toTransferRecord>[0]));
    const last = transfers[transfers.length - 1];
    return { transfers, nextBeforeSeq: rows.length > limit && last !== undefined ? last.seq : null };
  }

  /**
   * Releases holds whose timeout has passed. Each expiry has an id derived from its hold, and a
   * hold can be resolved once (a unique index), so running the sweep twice, or two sweeps at
   * once, releases each hold exactly once.
   */
  async expireDue(): Promise<number> {
    const rows = await this.deps.sql<{ id: string }[]>`
      SELECT t.id FROM ledger_transfers t
      WHERE t.type = 'pending' AND t.timeout_at <= ${this.deps.clock.now()}
        AND NOT EXISTS (SELECT 1 FROM ledger_transfers r WHERE r.pending_id = t.id)
      ORDER BY t.timeout_at LIMIT ${expirySweepSizeMax}`;
    const results = await Promise.all(
      rows.map((row) =>
        this.transfer({ id: expiryId(row.id), type: 'expire', pendingId: row.id }),
      ),
    );
    return results.filter((result) => result.status === 'created').length;
  }

  async close(): Promise<void> {
    await this.writer.close();
  }
}

export function expiryId(pendingId: string): string {
  return `expire:${createHash('sha256').update(pendingId).digest('hex').slice(0, 48)}`;
}
