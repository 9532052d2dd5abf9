import { createHash } from 'node:crypto';
import { assert } from '../kernel/assert.ts';
import { int64Max } from '../kernel/money.ts';
import type { LedgerErrorName } from './errors.ts';

/**
 * The ledger's pure rules: how one batch of transfer requests is applied to account books, in
 * order, with every failure a result that changes nothing. No I/O here: the writer loads the
 * books and transfers a batch touches, calls `applyBatch`, and writes what it returns.
 *
 * Balance model (TigerBeetle's): each book keeps debits/credits, pending/posted. The posted
 * balance is credits_posted − debits_posted; available = posted balance − debits_pending. A
 * no-overdraft book refuses a debit that would take debits_posted + debits_pending above
 * credits_posted + overdraft_limit.
 */

export type TransferType = 'posted' | 'pending' | 'post' | 'void';
export type RecordType = TransferType | 'expire';

/** Metadata is a flat map of short strings: deterministic to compare, hash and store. */
export type Metadata = Readonly<Record<string, string>>;
export const metadataKeysMax = 32;
export const metadataValueLengthMax = 256;
export const transferIdPattern = /^[A-Za-z0-9_.:-]{1,128}$/;
export const kindPattern = /^[a-z][a-z0-9_.]{0,62}$/;
export const timeoutSecondsMax = 30 * 24 * 3600;

export interface TransferRequest {
  readonly id: string;
  /** `expire` is the expiry sweep's own resolution; callers use the other four. */
  readonly type: RecordType;
  /** Required for posted and pending; optional for post/void (checked against the hold). */
  readonly debitAccountId?: string;
  readonly creditAccountId?: string;
  /** Required for posted and pending; for post, omitted means the whole hold. */
  readonly amountMinor?: bigint;
  readonly currency?: string;
  /** What the movement is for (`topup`, `p2p`, `redpacket.grab`…); post/void default to the hold's. */
  readonly kind?: string;
  readonly pendingId?: string;
  /** Pending only: the hold expires (is released) after this many seconds; unset never expires. */
  readonly timeoutSeconds?: number;
  readonly metadata?: Metadata;
}

/** One submission: a single transfer, or a linked group that applies all or none. */
export type Submission =
  | { readonly transfer: TransferRequest }
  | { readonly group: readonly TransferRequest[] };

/** A book is a row whose balance moves: a plain account, or one shard of a hot account. */
export interface Book {
  readonly id: string;
  readonly accountId: string;
  readonly currency: string;
  readonly noOverdraft: boolean;
  readonly overdraftLimitMinor: bigint;
  debitsPending: bigint;
  debitsPosted: bigint;
  creditsPending: bigint;
  creditsPosted: bigint;
}

/** An account as callers name it; a hot account has several books (shards). */
export interface AccountBooks {
  readonly id: string;
  readonly currency: string;
  readonly books: readonly Book[];
}

/** A stored transfer, as loaded for idempotency checks and as a hold to resolve. */
export interface TransferRecord {
  readonly seq: bigint;
  readonly id: string;
  readonly type: RecordType;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly debitBookId: string;
  readonly creditBookId: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly kind: string;
  readonly pendingId: string | null;
  readonly timeoutAtMs: number | null;
  readonly groupId: string | null;
  readonly metadata: Metadata;
  readonly createdAtMs: number;
}

export interface EntryRecord {
  readonly bookId: string;
  readonly side: 'D' | 'C';
  readonly amountMinor: bigint;
  readonly balanceAfterMinor: bigint;
}

/** A transfer the batch creates, before its seq and hash are assigned by the writer. */
export interface NewTransfer extends Omit<TransferRecord, 'seq'> {
  readonly entries: readonly EntryRecord[];
}

export type TransferResult =
  | { readonly id: string; readonly status: 'created'; readonly transfer: NewTransfer }
  | { readonly id: string; readonly status: 'exists'; readonly transfer: TransferRecord | NewTransfer }
  | {
      readonly id: string;
      readonly status: 'failed';
      readonly error: LedgerErrorName;
      readonly detail: string;
    };

export interface BatchState {
  /** Accounts by the id callers use (a hot account's logical id, or a plain account's id). */
  readonly accounts: ReadonlyMap<string, AccountBooks>;
  /** Existing transfers by id: those whose ids the batch uses, and the holds it resolves. */
  readonly transfers: ReadonlyMap<string, TransferRecord>;
  /** For each hold the batch references that is already resolved: how it was resolved. */
  readonly resolutions: ReadonlyMap<string, RecordType>;
  readonly nowMs: number;
  readonly transferAmountMaxMinor: bigint;
}

export interface BatchOutcome {
  /** One result list per submission, in the submission's order. */
  readonly results: TransferResult[][];
  /** The transfers to write, in apply order. */
  readonly created: NewTransfer[];
  /** Books whose totals changed. */
  readonly dirtyBooks: Book[];
}

class Failure {
  constructor(
    readonly error: LedgerErrorName,
    readonly detail: string,
  ) {}
}

/** FNV-1a: spreads credits to a hot account over its shards by transfer id, deterministically. */
export function shardIndex(transferId: string, shardCount: number): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < transferId.length; index++) {
    hash ^= transferId.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shardCount;
}

export function availableMinor(book: Book): bigint {
  return book.creditsPosted - book.debitsPosted - book.debitsPending;
}

export function canonicalMetadata(metadata: Metadata | undefined): string {
  const source = metadata ?? {};
  const keys = Object.keys(source).sort();
  return JSON.stringify(keys.map((key) => [key, source[key]]));
}

export function validateMetadata(metadata: Metadata | undefined): string | undefined {
  if (metadata === undefined) return undefined;
  const entries = Object.entries(metadata);
  if (entries.length > metadataKeysMax) return `metadata has more than ${String(metadataKeysMax)} keys`;
  for (const [key, value] of entries) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(key)) return `metadata key "${key.slice(0, 64)}" is not valid`;
    if (typeof value !== 'string' || value.length > metadataValueLengthMax) {
      return `metadata value of "${key}" must be a string of at most ${String(metadataValueLengthMax)} characters`;
    }
  }
  return undefined;
}

/**
 * The same id with the same fields is the first result; the same id with any different field is a
 * typed error naming the first field that differs (in the order below, which tests follow).
 */
function compareWithExisting(
  request: TransferRequest,
  existing: TransferRecord | NewTransfer,
  groupId: string | null,
  holdAmountMinor: bigint | undefined,
): Failure | undefined {
  const differ = (name: LedgerErrorName): Failure =>
    new Failure(name, `transfer ${request.id} already exists with a different value`);
  if (existing.type !== request.type) return differ('exists_with_different_type');
  if (request.debitAccountId !== undefined && request.debitAccountId !== existing.debitAccountId) {
    return differ('exists_with_different_debit_account_id');
  }
  if (request.creditAccountId !== undefined && request.creditAccountId !== existing.creditAccountId) {
    return differ('exists_with_different_credit_account_id');
  }
  if (request.amountMinor !== undefined && request.amountMinor !== existing.amountMinor) {
    return differ('exists_with_different_amount');
  }
  // A post that omits the amount asks for the whole hold: a retry of it matches only a full post.
  if (request.type === 'post' && request.amountMinor === undefined && existing.amountMinor !== holdAmountMinor) {
    return differ('exists_with_different_amount');
  }
  if (request.currency !== undefined && request.currency !== existing.currency) {
    return differ('exists_with_different_currency');
  }
  if (request.kind !== undefined && request.kind !== existing.kind) {
    return differ('exists_with_different_kind');
  }
  if ((request.pendingId ?? null) !== existing.pendingId) {
    return differ('exists_with_different_pending_id');
  }
  const timeoutSeconds =
    existing.timeoutAtMs === null ? undefined : (existing.timeoutAtMs - existing.createdAtMs) / 1000;
  if (request.timeoutSeconds !== timeoutSeconds) return differ('exists_with_different_timeout');
  if (canonicalMetadata(request.metadata) !== canonicalMetadata(existing.metadata)) {
    return differ('exists_with_different_metadata');
  }
  if (existing.groupId !== groupId) return differ('exists_with_different_group');
  return undefined;
}

function checkShape(request: TransferRequest, amountMaxMinor: bigint): Failure | undefined {
  if (!transferIdPattern.test(request.id)) {
    return new Failure('id_invalid', 'a transfer id is 1–128 characters of A–Z a–z 0–9 _ . : -');
  }
  if (request.kind !== undefined && !kindPattern.test(request.kind)) {
    return new Failure('kind_invalid', `kind "${request.kind.slice(0, 64)}" is not lower-case letters, digits, _ and .`);
  }
  const metadataProblem = validateMetadata(request.metadata);
  if (metadataProblem !== undefined) return new Failure('metadata_invalid', metadataProblem);
  if (request.timeoutSeconds !== undefined) {
    if (request.type !== 'pending') {
      return new Failure('timeout_only_for_pending', 'only a pending transfer can have a timeout');
    }
    if (!Number.isSafeInteger(request.timeoutSeconds) || request.timeoutSeconds < 1 || request.timeoutSeconds > timeoutSecondsMax) {
      return new Failure('timeout_only_for_pending', `a timeout is 1 to ${String(timeoutSecondsMax)} seconds`);
    }
  }
  const amount = request.amountMinor;
  if (amount !== undefined && amount <= 0n) {
    return new Failure('amount_must_be_positive', 'the amount must be at least 1 minor unit');
  }
  if (amount !== undefined && amount > amountMaxMinor) {
    return new Failure('amount_exceeds_maximum', `the amount is over the per-transfer maximum of ${amountMaxMinor.toString()} minor units`);
  }
  return undefined;
}

/** Undo log for a linked group: restores book totals if any member fails. */
class Undo {
  private readonly saved = new Map<Book, [bigint, bigint, bigint, bigint]>();
  touch(book: Book): void {
    if (!this.saved.has(book)) {
      this.saved.set(book, [book.debitsPending, book.debitsPosted, book.creditsPending, book.creditsPosted]);
    }
  }
  rollback(): void {
    for (const [book, [dp, dP, cp, cP]] of this.saved) {
      book.debitsPending = dp;
      book.debitsPosted = dP;
      book.creditsPending = cp;
      book.creditsPosted = cP;
    }
  }
  books(): Book[] {
    return [...this.saved.keys()];
  }
}

interface Context {
  readonly state: BatchState;
  /** Transfers created earlier in this batch (visible to later submissions). */
  readonly createdById: Map<string, NewTransfer>;
  /** Holds resolved earlier in this batch. */
  readonly resolvedInBatch: Map<string, RecordType>;
  /** Ids seen so far in the submission being applied (a group must not repeat one). */
  readonly submissionIds: Set<string>;
}

function findTransfer(context: Context, id: string): TransferRecord | NewTransfer | undefined {
  return context.createdById.get(id) ?? context.state.transfers.get(id);
}

function fits(value: bigint): boolean {
  return value <= int64Max;
}

/** Picks the book a debit draws from: for a hot no-overdraft account, the shard with most funds. */
function debitBook(account: AccountBooks, transferId: string): Book {
  const books = account.books;
  assert(books.length > 0, 'an account has at least one book');
  const only = books[0];
  if (books.length === 1 && only !== undefined) return only;
  let best: Book | undefined;
  for (const book of books) {
    if (best === undefined || availableMinor(book) > availableMinor(best)) best = book;
  }
  assert(best !== undefined, 'a hot account has shards');
  if (!best.noOverdraft) {
    const spread = books[shardIndex(transferId, books.length)];
    assert(spread !== undefined, 'shard index in range');
    return spread;
  }
  return best;
}

function creditBook(account: AccountBooks, transferId: string): Book {
  const book = account.books[shardIndex(transferId, account.books.length)];
  assert(book !== undefined, 'shard index in range');
  return book;
}

function checkDebit(book: Book, addedDebitMinor: bigint): Failure | undefined {
  if (!book.noOverdraft) return undefined;
  const debits = book.debitsPosted + book.debitsPending + addedDebitMinor;
  if (debits <= book.creditsPosted + book.overdraftLimitMinor) return undefined;
  if (book.overdraftLimitMinor > 0n) {
    return new Failure('overdraft_limit_exceeded', `account ${book.accountId} would exceed its overdraft limit`);
  }
  return new Failure('insufficient_funds', `account ${book.accountId} has insufficient funds`);
}

function entryPair(debit: Book, credit: Book, amountMinor: bigint): EntryRecord[] {
  return [
    { bookId: debit.id, side: 'D', amountMinor, balanceAfterMinor: debit.creditsPosted - debit.debitsPosted },
    { bookId: credit.id, side: 'C', amountMinor, balanceAfterMinor: credit.creditsPosted - credit.debitsPosted },
  ];
}

/** A new movement: posted (money moves now) or pending (a hold). */
function applyMovement(
  context: Context,
  request: TransferRequest,
  groupId: string | null,
  undo: Undo,
): NewTransfer | Failure {
  const { debitAccountId, creditAccountId, amountMinor, currency, kind } = request;
  if (debitAccountId === undefined || creditAccountId === undefined || amountMinor === undefined || currency === undefined || kind === undefined) {
    return new Failure('fields_missing', 'a transfer names debitAccountId, creditAccountId, amountMinor, currency and kind');
  }
  if (debitAccountId === creditAccountId) {
    return new Failure('accounts_must_be_different', 'the debit and credit accounts must be different');
  }
  const debitAccount = context.state.accounts.get(debitAccountId);
  if (debitAccount === undefined) return new Failure('debit_account_not_found', `account ${debitAccountId} does not exist`);
  const creditAccount = context.state.accounts.get(creditAccountId);
  if (creditAccount === undefined) return new Failure('credit_account_not_found', `account ${creditAccountId} does not exist`);
  if (debitAccount.currency !== currency || creditAccount.currency !== currency) {
    return new Failure('currency_mismatch', `the transfer is in ${currency}; the accounts are in ${debitAccount.currency} and ${creditAccount.currency}`);
  }
  const debit = debitBook(debitAccount, request.id);
  const credit = creditBook(creditAccount, request.id);
  assert(debit !== credit, 'different accounts have different books');
  const pending = request.type === 'pending';
  const debitTotal = pending ? debit.debitsPending : debit.debitsPosted;
  const creditTotal = pending ? credit.creditsPending : credit.creditsPosted;
  if (!fits(debitTotal + amountMinor) || !fits(creditTotal + amountMinor) || !fits(debit.debitsPosted + debit.debitsPending + amountMinor)) {
    return new Failure('overflow', 'the transfer would overflow an account total');
  }
  const refused = checkDebit(debit, amountMinor);
  if (refused !== undefined) return refused;
  undo.touch(debit);
  undo.touch(credit);
  if (pending) {
    debit.debitsPending += amountMinor;
    credit.creditsPending += amountMinor;
  } else {
    debit.debitsPosted += amountMinor;
    credit.creditsPosted += amountMinor;
  }
  const nowMs = context.state.nowMs;
  return {
    id: request.id,
    type: request.type,
    debitAccountId,
    creditAccountId,
    debitBookId: debit.id,
    creditBookId: credit.id,
    amountMinor,
    currency,
    kind,
    pendingId: null,
    timeoutAtMs: request.timeoutSeconds === undefined ? null : nowMs + request.timeoutSeconds * 1000,
    groupId,
    metadata: request.metadata ?? {},
    createdAtMs: nowMs,
    entries: pending ? [] : entryPair(debit, credit, amountMinor),
  };
}

function bookOf(context: Context, bookId: string): Book | undefined {
  for (const account of context.state.accounts.values()) {
    for (const book of account.books) if (book.id === bookId) return book;
  }
  return undefined;
}

/** Resolves a hold: post (all or part of it) or void; `expire` is the sweep's void. */
function applyResolution(
  context: Context,
  request: TransferRequest,
  type: 'post' | 'void' | 'expire',
  groupId: string | null,
  undo: Undo,
): NewTransfer | Failure {
  const pendingId = request.pendingId;
  if (pendingId === undefined) return new Failure('pending_transfer_not_found', 'post and void name a pendingId');
  const hold = findTransfer(context, pendingId);
  if (hold === undefined) return new Failure('pending_transfer_not_found', `pending transfer ${pendingId} does not exist`);
  if (hold.type !== 'pending') return new Failure('pending_transfer_not_pending', `transfer ${pendingId} is not pending`);
  const resolved = context.resolvedInBatch.get(pendingId) ?? context.state.resolutions.get(pendingId);
  if (resolved === 'post') return new Failure('pending_transfer_already_posted', `pending transfer ${pendingId} is already posted`);
  if (resolved === 'void') return new Failure('pending_transfer_already_voided', `pending transfer ${pendingId} is already voided`);
  if (resolved === 'expire') return new Failure('pending_transfer_already_expired', `pending transfer ${pendingId} has expired`);
  if (type !== 'expire' && hold.timeoutAtMs !== null && hold.timeoutAtMs <= context.state.nowMs) {
    return new Failure('pending_transfer_expired', `pending transfer ${pendingId} timed out`);
  }
  if (type === 'expire' && (hold.timeoutAtMs === null || hold.timeoutAtMs > context.state.nowMs)) {
    return new Failure('pending_transfer_not_pending', `pending transfer ${pendingId} is not due to expire`);
  }
  if ((request.debitAccountId !== undefined && request.debitAccountId !== hold.debitAccountId) || (request.creditAccountId !== undefined && request.creditAccountId !== hold.creditAccountId)) {
    return new Failure('pending_account_mismatch', 'the accounts differ from the pending transfer\'s');
  }
  if (request.currency !== undefined && request.currency !== hold.currency) {
    return new Failure('currency_mismatch', `the pending transfer is in ${hold.currency}`);
  }
  const postedMinor = type === 'post' ? (request.amountMinor ?? hold.amountMinor) : 0n;
  if (postedMinor > hold.amountMinor) {
    return new Failure('pending_amount_exceeded', `the hold is ${hold.amountMinor.toString()} minor units`);
  }
  const debit = bookOf(context, hold.debitBookId);
  const credit = bookOf(context, hold.creditBookId);
  assert(debit !== undefined && credit !== undefined, 'the writer loads the books of every hold it resolves');
  assert(debit.debitsPending >= hold.amountMinor, 'a hold is within its debit book\'s pending total');
  assert(credit.creditsPending >= hold.amountMinor, 'a hold is within its credit book\'s pending total');
  undo.touch(debit);
  undo.touch(credit);
  debit.debitsPending -= hold.amountMinor;
  credit.creditsPending -= hold.amountMinor;
  debit.debitsPosted += postedMinor;
  credit.creditsPosted += postedMinor;
  // Posting less than the hold never needs more funds than the hold reserved.
  assert(checkDebit(debit, 0n) === undefined, 'a post stays within the hold');
  context.resolvedInBatch.set(pendingId, type);
  return {
    id: request.id,
    type,
    debitAccountId: hold.debitAccountId,
    creditAccountId: hold.creditAccountId,
    debitBookId: hold.debitBookId,
    creditBookId: hold.creditBookId,
    amountMinor: type === 'post' ? postedMinor : hold.amountMinor,
    currency: hold.currency,
    kind: request.kind ?? hold.kind,
    pendingId,
    timeoutAtMs: null,
    groupId,
    metadata: request.metadata ?? {},
    createdAtMs: context.state.nowMs,
    entries: type === 'post' ? entryPair(debit, credit, postedMinor) : [],
  };
}

function applyOne(
  context: Context,
  request: TransferRequest,
  groupId: string | null,
  undo: Undo,
): TransferResult {
  const existing = findTransfer(context, request.id);
  if (existing !== undefined) {
    const hold = existing.pendingId === null ? undefined : findTransfer(context, existing.pendingId);
    const differs = compareWithExisting(request, existing, groupId, hold?.amountMinor);
    if (differs !== undefined) return { id: request.id, status: 'failed', error: differs.error, detail: differs.detail };
    if (context.submissionIds.has(request.id)) {
      return { id: request.id, status: 'failed', error: 'duplicate_id_in_request', detail: `transfer ${request.id} appears twice in this linked group` };
    }
    // A concurrent retry may land in the same batch as the original: it gets the same transfer.
    return { id: request.id, status: 'exists', transfer: existing };
  }
  const shape = checkShape(request, context.state.transferAmountMaxMinor);
  if (shape !== undefined) return { id: request.id, status: 'failed', error: shape.error, detail: shape.detail };
  const outcome =
    request.type === 'posted' || request.type === 'pending'
      ? applyMovement(context, request, groupId, undo)
      : applyResolution(context, request, request.type, groupId, undo);
  if (outcome instanceof Failure) return { id: request.id, status: 'failed', error: outcome.error, detail: outcome.detail };
  context.createdById.set(outcome.id, outcome);
  return { id: request.id, status: 'created', transfer: outcome };
}

/**
 * Applies submissions in order. A failing transfer fails only itself; a failing member of a
 * linked group fails the group (its other members report `linked_event_failed`) and the group's
 * effects are undone; neighbours in the batch are untouched either way.
 */
export function applyBatch(state: BatchState, submissions: readonly Submission[]): BatchOutcome {
  const context: Context = { state, createdById: new Map(), resolvedInBatch: new Map(), submissionIds: new Set() };
  const results: TransferResult[][] = [];
  const created: NewTransfer[] = [];
  const dirty = new Set<Book>();
  for (const submission of submissions) {
    const requests = 'transfer' in submission ? [submission.transfer] : submission.group;
    const groupId = 'group' in submission ? (submission.group[0]?.id ?? null) : null;
    const undo = new Undo();
    const resolvedBefore = new Map(context.resolvedInBatch);
    const groupResults: TransferResult[] = [];
    let failedAt = -1;
    context.submissionIds.clear();
    for (const [index, request] of requests.entries()) {
      const result = applyOne(context, request, groupId, undo);
      context.submissionIds.add(request.id);
      groupResults.push(result);
      if (result.status === 'failed') {
        failedAt = index;
        break;
      }
    }
    if (failedAt >= 0 && requests.length > 1) {
      undo.rollback();
      for (const result of groupResults) if (result.status === 'created') context.createdById.delete(result.id);
      context.resolvedInBatch.clear();
      for (const [key, value] of resolvedBefore) context.resolvedInBatch.set(key, value);
      results.push(
        requests.map((request, index) =>
          index === failedAt
            ? (groupResults[index] as TransferResult)
            : { id: request.id, status: 'failed', error: 'linked_event_failed', detail: `transfer ${requests[failedAt]?.id ?? ''} in the linked group failed` },
        ),
      );
      continue;
    }
    for (const result of groupResults) if (result.status === 'created') created.push(result.transfer);
    for (const book of undo.books()) dirty.add(book);
    results.push(groupResults);
  }
  return { results, created, dirtyBooks: [...dirty] };
}

/** The hash that links a journal row to the one before it. */
export function linkHash(previousHash: Uint8Array, seq: bigint, transfer: NewTransfer): Buffer {
  const debitEntry = transfer.entries.find((entry) => entry.side === 'D');
  const creditEntry = transfer.entries.find((entry) => entry.side === 'C');
  const fields = [
    seq.toString(),
    transfer.id,
    transfer.type,
    transfer.debitAccountId,
    transfer.creditAccountId,
    transfer.debitBookId,
    transfer.creditBookId,
    transfer.amountMinor.toString(),
    transfer.currency,
    transfer.kind,
    transfer.pendingId ?? '',
    transfer.timeoutAtMs === null ? '' : String(transfer.timeoutAtMs),
    transfer.groupId ?? '',
    canonicalMetadata(transfer.metadata),
    String(transfer.createdAtMs),
    debitEntry === undefined ? '' : `${debitEntry.amountMinor.toString()}:${debitEntry.balanceAfterMinor.toString()}`,
    creditEntry === undefined ? '' : `${creditEntry.amountMinor.toString()}:${creditEntry.balanceAfterMinor.toString()}`,
  ];
  return createHash('sha256').update(previousHash).update(JSON.stringify(fields)).digest();
}
