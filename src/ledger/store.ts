import { assert } from '../kernel/assert.ts';
import type { ReservedSql, Sql, TransactionSql } from '../kernel/db.ts';
import type {
  AccountBooks,
  Book,
  Metadata,
  NewTransfer,
  RecordType,
  TransferRecord,
} from './model.ts';

/** SQL for the ledger: the only file that touches ledger_* tables. */

type Db = Sql | TransactionSql | ReservedSql;

export interface AccountRow {
  id: string;
  currency: string;
  owner_id: string | null;
  code: string;
  no_overdraft: boolean;
  overdraft_limit_minor: bigint;
  shard_count: number;
  parent_id: string | null;
  shard_no: number | null;
  debits_pending: bigint;
  debits_posted: bigint;
  credits_pending: bigint;
  credits_posted: bigint;
  metadata: Metadata;
  created_at: Date;
}

interface TransferRow {
  seq: bigint;
  id: string;
  type: RecordType;
  debit_account_id: string;
  credit_account_id: string;
  debit_book_id: string;
  credit_book_id: string;
  amount_minor: bigint;
  currency: string;
  kind: string;
  pending_id: string | null;
  timeout_at: Date | null;
  group_id: string | null;
  metadata: Metadata;
  created_at: Date;
}

export function toTransferRecord(row: TransferRow): TransferRecord {
  return {
    seq: row.seq,
    id: row.id,
    type: row.type,
    debitAccountId: row.debit_account_id,
    creditAccountId: row.credit_account_id,
    debitBookId: row.debit_book_id,
    creditBookId: row.credit_book_id,
    amountMinor: row.amount_minor,
    currency: row.currency,
    kind: row.kind,
    pendingId: row.pending_id,
    timeoutAtMs: row.timeout_at === null ? null : row.timeout_at.getTime(),
    groupId: row.group_id,
    metadata: row.metadata,
    createdAtMs: row.created_at.getTime(),
  };
}

/** The columns a batch needs of a book. */
type BookRow = { ctid: string } & Pick<
  AccountRow,
  | 'id' | 'currency' | 'no_overdraft' | 'overdraft_limit_minor' | 'shard_count' | 'parent_id'
  | 'shard_no' | 'debits_pending' | 'debits_posted' | 'credits_pending' | 'credits_posted'
>;

function toBook(row: BookRow): Book {
  return {
    id: row.id,
    accountId: row.parent_id ?? row.id,
    currency: row.currency,
    noOverdraft: row.no_overdraft,
    overdraftLimitMinor: row.overdraft_limit_minor,
    debitsPending: row.debits_pending,
    debitsPosted: row.debits_posted,
    creditsPending: row.credits_pending,
    creditsPosted: row.credits_posted,
  };
}

export interface InsertAccount {
  readonly id: string;
  readonly currency: string;
  readonly ownerId: string | null;
  readonly code: string;
  readonly noOverdraft: boolean;
  readonly overdraftLimitMinor: bigint;
  readonly shardCount: number;
  readonly metadata: Metadata;
  readonly createdAt: Date;
}

/** Inserts an account and, for a hot account, its shard books. Returns false if the id exists. */
export async function insertAccount(tx: TransactionSql, account: InsertAccount): Promise<boolean> {
  const inserted = await tx`
    INSERT INTO ledger_accounts (id, currency, owner_id, code, no_overdraft, overdraft_limit_minor,
                                 shard_count, metadata, created_at)
    VALUES (${account.id}, ${account.currency}, ${account.ownerId}, ${account.code},
            ${account.noOverdraft}, ${account.overdraftLimitMinor.toString()}, ${account.shardCount},
            ${tx.json(account.metadata)}, ${account.createdAt})
    ON CONFLICT (id) DO NOTHING
    RETURNING id`;
  if (inserted.length === 0) return false;
  if (account.shardCount > 1) {
    const numbers = Array.from({ length: account.shardCount }, (_, index) => index);
    await tx`
      INSERT INTO ledger_accounts (id, currency, owner_id, code, no_overdraft, overdraft_limit_minor,
                                   parent_id, shard_no, metadata, created_at)
      SELECT ${account.id} || '.s' || n, ${account.currency}, ${account.ownerId}, ${account.code},
             ${account.noOverdraft}, 0, ${account.id}, n, '{}', ${account.createdAt}
      FROM unnest(${numbers}::int[]) AS n`;
  }
  return true;
}

const accountColumns = `id, currency, owner_id, code, no_overdraft, overdraft_limit_minor, shard_count,
  parent_id, shard_no, debits_pending, debits_posted, credits_pending, credits_posted, metadata,
  created_at`;

export async function selectAccount(db: Db, id: string): Promise<AccountRow | undefined> {
  const rows = await db.unsafe<AccountRow[]>(
    `SELECT ${accountColumns} FROM ledger_accounts WHERE id = $1`,
    [id],
  );
  return rows[0];
}

export async function selectShards(db: Db, parentId: string): Promise<AccountRow[]> {
  return db.unsafe<AccountRow[]>(
    `SELECT ${accountColumns} FROM ledger_accounts WHERE parent_id = $1 ORDER BY shard_no`,
    [parentId],
  );
}

export async function selectAccountsByOwner(db: Db, ownerId: string, limit: number): Promise<AccountRow[]> {
  return db.unsafe<AccountRow[]>(
    `SELECT ${accountColumns} FROM ledger_accounts
     WHERE owner_id = $1 AND parent_id IS NULL ORDER BY id LIMIT $2`,
    [ownerId, limit],
  );
}

/**
 * Sends queries now, in the order given (postgres.js queries are lazy: each is sent when first
 * awaited, so `Promise.all([...])` alone does not fix the order on the wire), and waits for all.
 * `undefined` stands for a query not needed this time.
 */
type Sendable = PromiseLike<unknown> & { execute(): unknown };

export function inOrder<const T extends readonly (Sendable | undefined)[]>(
  queries: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  for (const query of queries) query?.execute();
  // `undefined` entries pass through Promise.all as themselves.
  // eslint-disable-next-line @typescript-eslint/await-thenable
  return Promise.all(queries);
}

export interface ChainHead {
  readonly lastSeq: bigint;
  readonly hash: Buffer;
}

export interface LoadedBatch {
  readonly head: ChainHead;
  readonly accounts: Map<string, AccountBooks>;
  readonly transfers: Map<string, TransferRecord>;
  readonly resolutions: Map<string, RecordType>;
  /** Each loaded book's row address (ctid), for the batch's update. */
  readonly rowRefs: Map<string, string>;
}

/**
 * Reads what a batch needs, in one pipelined round trip: first the chain head FOR UPDATE — the
 * writers' lock: a second writer waits here before it has read anything, so batches apply one
 * after another and nothing can deadlock — then the transfers whose ids the batch uses or whose
 * holds it resolves, how those holds were resolved, and every book involved.
 */
export async function loadBatch(
  tx: ReservedSql,
  input: { transferIds: string[]; pendingIds: string[]; accountIds: string[] },
): Promise<LoadedBatch> {
  const lookupIds = [...input.transferIds, ...input.pendingIds];
  const [headRows, transferRows, resolutionRows, namedRows, shardRows, holdRows] = await inOrder([
    tx<{ last_seq: bigint; hash: Buffer }[]>`
      SELECT last_seq, hash FROM ledger_chain_head WHERE id FOR UPDATE`,
    tx<TransferRow[]>`
      SELECT seq, id, type, debit_account_id, credit_account_id, debit_book_id, credit_book_id,
             amount_minor, currency, kind, pending_id, timeout_at, group_id, metadata, created_at
      FROM ledger_transfers WHERE id = ANY(${lookupIds}::text[])`,
    tx<{ pending_id: string; type: RecordType }[]>`
      SELECT pending_id, type FROM ledger_transfers WHERE pending_id = ANY(${input.pendingIds}::text[])`,
    // The named accounts, then the shards of any hot ones among them: two plain index scans.
    // Tagged (prepared) statements: planning a 64-element ANY each batch costs more than running it.
    // No FOR UPDATE: every balance change goes through a batch that holds the chain-head lock, and
    // this read runs after that lock is granted, so it sees every earlier batch's commit; a row
    // lock per book would only add a heap write and a WAL record per book. For the same reason the
    // rows' ctids stay valid until this batch updates them (see writeBatch).
    tx<BookRow[]>`
      SELECT ctid::text AS ctid, id, currency, no_overdraft, overdraft_limit_minor, shard_count,
             parent_id, shard_no, debits_pending, debits_posted, credits_pending, credits_posted
      FROM ledger_accounts WHERE id = ANY(${input.accountIds}::text[])`,
    tx<BookRow[]>`
      SELECT ctid::text AS ctid, id, currency, no_overdraft, overdraft_limit_minor, shard_count,
             parent_id, shard_no, debits_pending, debits_posted, credits_pending, credits_posted
      FROM ledger_accounts WHERE parent_id = ANY(${input.accountIds}::text[])`,
    input.pendingIds.length === 0
      ? undefined
      : tx<BookRow[]>`
          SELECT ctid::text AS ctid, id, currency, no_overdraft, overdraft_limit_minor, shard_count,
                 parent_id, shard_no, debits_pending, debits_posted, credits_pending, credits_posted
          FROM ledger_accounts
          WHERE id = ANY(SELECT unnest(ARRAY[debit_book_id, credit_book_id]) FROM ledger_transfers
                         WHERE id = ANY(${input.pendingIds}::text[]) AND type = 'pending')`,
  ]);
  const byId = new Map<string, BookRow>();
  for (const row of [...namedRows, ...shardRows, ...(holdRows ?? [])]) byId.set(row.id, row);
  const accountRows = [...byId.values()];
  const head = headRows[0];
  assert(head !== undefined, 'the chain head row exists');
  const accounts = new Map<string, AccountBooks>();
  const shardsByParent = new Map<string, { shardNo: number; book: Book }[]>();
  for (const row of accountRows) {
    if (row.parent_id === null) continue;
    const list = shardsByParent.get(row.parent_id) ?? [];
    list.push({ shardNo: row.shard_no ?? -1, book: toBook(row) });
    shardsByParent.set(row.parent_id, list);
  }
  for (const row of accountRows) {
    if (row.parent_id !== null) continue;
    // Ids sort ".s10" before ".s2": order shards by their number, which credits hash onto.
    const shards = (shardsByParent.get(row.id) ?? []).sort((a, b) => a.shardNo - b.shardNo);
    const books = row.shard_count > 1 ? shards.map((shard) => shard.book) : [toBook(row)];
    assert(books.length === row.shard_count, 'every shard of a hot account is loaded with it');
    assert(shards.every((shard, index) => shard.shardNo === index), 'shards are numbered 0..n-1');
    accounts.set(row.id, { id: row.id, currency: row.currency, books });
  }
  // Shards loaded only for a hold (their account was not named) are reachable by book id.
  for (const [parentId, shards] of shardsByParent) {
    if (accounts.has(parentId)) continue;
    for (const { book } of shards) accounts.set(book.id, { id: book.id, currency: book.currency, books: [book] });
  }
  return {
    head: { lastSeq: head.last_seq, hash: head.hash },
    rowRefs: new Map(accountRows.map((row) => [row.id, row.ctid])),
    accounts,
    transfers: new Map(transferRows.map((row) => [row.id, toTransferRecord(row)])),
    resolutions: new Map(resolutionRows.map((row) => [row.pending_id, row.type])),
  };
}

/**
 * Writes a batch's effects set-based and pipelined: the new transfers and entries (each an array
 * insert), the changed book totals (one UPDATE from arrays), and the new chain head. The
 * statements are on the wire when this returns, so a COMMIT the caller sends next follows them.
 */
export function writeBatch(
  tx: ReservedSql,
  input: {
    created: readonly NewTransfer[];
    seqs: readonly bigint[];
    hashes: readonly Buffer[];
    dirtyBooks: readonly Book[];
    rowRefs: ReadonlyMap<string, string>;
  },
): Promise<unknown> {
  const { created, seqs, hashes, dirtyBooks } = input;
  if (created.length === 0) return Promise.resolve();
  const column = <T>(pick: (transfer: NewTransfer, index: number) => T): T[] => created.map(pick);
  const entryBooks: string[] = [];
  const entrySeqs: string[] = [];
  const entrySides: string[] = [];
  const entryAmounts: string[] = [];
  const entryBalances: string[] = [];
  created.forEach((transfer, index) => {
    for (const entry of transfer.entries) {
      entryBooks.push(entry.bookId);
      entrySeqs.push(String(seqs[index]));
      entrySides.push(entry.side);
      entryAmounts.push(entry.amountMinor.toString());
      entryBalances.push(entry.balanceAfterMinor.toString());
    }
  });
  const lastSeq = seqs[seqs.length - 1];
  const lastHash = hashes[hashes.length - 1];
  assert(lastSeq !== undefined && lastHash !== undefined, 'a non-empty batch has a last link');
  const bookIds = dirtyBooks.map((b) => b.id);
  const bookRefs = dirtyBooks.map((b) => {
    const ref = input.rowRefs.get(b.id);
    assert(ref !== undefined, 'every book the batch changes was loaded with its row address');
    return ref;
  });
  // One statement (data-modifying CTEs all run): one parse, bind and execute per batch. Books are
  // found by the row address read under the chain-head lock (a TID scan, no index descent), and
  // matched on id as well; a stale address that misses a book raises in the statement
  // (ledger_assert, migration 0010), which aborts the transaction: its COMMIT answers ROLLBACK.
  // execute() puts it on the wire now.
  return tx`
    WITH new_transfers AS (
      INSERT INTO ledger_transfers (seq, id, debit_account_id, credit_account_id, debit_book_id,
        credit_book_id, amount_minor, currency, kind, type, pending_id, timeout_at, group_id,
        metadata, created_at, hash)
      SELECT s, i, da, ca, db, cb, am, cu, k, ty, p, ta, g, m::jsonb, cr, decode(h, 'hex') FROM unnest(
        ${seqs.map(String)}::int8[], ${column((t) => t.id)}::text[],
        ${column((t) => t.debitAccountId)}::text[], ${column((t) => t.creditAccountId)}::text[],
        ${column((t) => t.debitBookId)}::text[], ${column((t) => t.creditBookId)}::text[],
        ${column((t) => t.amountMinor.toString())}::int8[], ${column((t) => t.currency)}::text[],
        ${column((t) => t.kind)}::text[], ${column((t) => t.type)}::text[],
        ${column((t) => t.pendingId)}::text[],
        ${column((t) => (t.timeoutAtMs === null ? null : new Date(t.timeoutAtMs).toISOString()))}::timestamptz[],
        ${column((t) => t.groupId)}::text[],
        ${column((t) => JSON.stringify(t.metadata))}::text[],
        ${column((t) => new Date(t.createdAtMs).toISOString())}::timestamptz[],
        ${hashes.map((hash) => hash.toString('hex'))}::text[])
        AS u(s, i, da, ca, db, cb, am, cu, k, ty, p, ta, g, m, cr, h)
    ), new_entries AS (
      INSERT INTO ledger_entries (book_id, transfer_seq, side, amount_minor, balance_after_minor)
      SELECT * FROM unnest(${entryBooks}::text[], ${entrySeqs}::int8[], ${entrySides}::"char"[],
                           ${entryAmounts}::int8[], ${entryBalances}::int8[])
    ), books AS (
      UPDATE ledger_accounts AS a
      SET debits_pending = u.d_pending, debits_posted = u.d_posted,
          credits_pending = u.c_pending, credits_posted = u.c_posted
      FROM unnest(${bookRefs}::tid[], ${bookIds}::text[],
                  ${dirtyBooks.map((b) => b.debitsPending.toString())}::int8[],
                  ${dirtyBooks.map((b) => b.debitsPosted.toString())}::int8[],
                  ${dirtyBooks.map((b) => b.creditsPending.toString())}::int8[],
                  ${dirtyBooks.map((b) => b.creditsPosted.toString())}::int8[])
           AS u(ref, id, d_pending, d_posted, c_pending, c_posted)
      WHERE a.ctid = ANY(${bookRefs}::tid[]) AND a.ctid = u.ref AND a.id = u.id
      RETURNING 1
    )
    UPDATE ledger_chain_head SET last_seq = ${lastSeq.toString()}, hash = ${lastHash}
    WHERE id AND ledger_assert((SELECT count(*) FROM books) = ${dirtyBooks.length}, 'the batch did not update every book it changed')`.execute().then((result) => {
      assert(result.count === 1, 'the batch updated every book it changed');
    });
}
