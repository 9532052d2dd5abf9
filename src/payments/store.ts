import { assert } from '../kernel/assert.ts';
import type { PendingQuery, Row } from 'postgres';
import { completionInsert, completionUpdate, type Completion } from '../http/idempotency.ts';
import { relaxedCommit, type ReservedSql, type Sql, type TransactionSql } from '../kernel/db.ts';
import type { BankCode, BillDirection, DaySums, PaymentKind, PaymentStatus } from './model.ts';

/** SQL for payments: the only file that touches payments_* tables. */

type Db = Sql | TransactionSql | ReservedSql;

export interface CardRow {
  id: string;
  user_id: string;
  bank: BankCode;
  last4: string;
  created_at: Date;
  unbound_at: Date | null;
}

export interface PaymentRow {
  id: string;
  kind: PaymentKind;
  status: PaymentStatus;
  user_id: string;
  payee_user_id: string | null;
  card_id: string | null;
  debit_account_id: string;
  credit_account_id: string;
  amount_minor: bigint;
  currency: string;
  memo: string | null;
  request_key: string;
  request_sha256: string;
  ledger_transfer_id: string;
  failure_code: string | null;
  failure_detail: string | null;
  created_at: Date;
  completed_at: Date | null;
  shop_id: string | null;
  shop_order_id: string | null;
  refund_of_payment_id: string | null;
  redpacket_id: string | null;
  rain_id: string | null;
  /** A discounted payment: the payer paid amount_minor; the campaign's budget paid this much more. */
  discount_minor: bigint | null;
  campaign_id: string | null;
  discount_label: string | null;
  voucher_id: string | null;
  budget_account_id: string | null;
  scene: string | null;
  /** A deposit's bill (held, released, charged, waived): the partner's deposit it belongs to. */
  deposit_id: string | null;
  /** A payout through the open platform: the app that paid it. */
  openapi_app_id: string | null;
}

export type NewPayment = Omit<
  PaymentRow,
  'status' | 'failure_code' | 'failure_detail' | 'completed_at'
> & {
  readonly day: string;
};

export interface NewBill {
  readonly userId: string;
  readonly paymentId: string;
  readonly direction: BillDirection;
  readonly kind: PaymentKind;
  readonly amountMinor: bigint;
  readonly counterpartyUserId: string | null;
  readonly counterpartyName: string;
  readonly counterpartyMobileMasked: string | null;
  readonly createdAt: Date;
}

export interface BillRow {
  payment_id: string;
  direction: BillDirection;
  kind: PaymentKind;
  amount_minor: bigint;
  currency: string;
  status: PaymentStatus;
  memo: string | null;
  counterparty_user_id: string | null;
  counterparty_name: string;
  counterparty_mobile_masked: string | null;
  card_id: string | null;
  bank: BankCode | null;
  last4: string | null;
  ledger_transfer_id: string;
  created_at: Date;
  completed_at: Date | null;
  redpacket_id: string | null;
  rain_id: string | null;
  discount_minor: bigint | null;
  campaign_id: string | null;
  discount_label: string | null;
  deposit_id: string | null;
}

export interface BillFilter {
  readonly direction?: BillDirection | undefined;
  readonly kind?: PaymentKind | undefined;
  readonly range?: { readonly start: Date; readonly end: Date } | undefined;
  readonly before?: { readonly createdAt: Date; readonly paymentId: string } | undefined;
  readonly limit: number;
}

// ---- cards

export async function insertCard(db: Db, card: Omit<CardRow, 'unbound_at'>): Promise<void> {
  await db`
    INSERT INTO payments_cards (id, user_id, bank, last4, created_at)
    VALUES (${card.id}, ${card.user_id}, ${card.bank}, ${card.last4}, ${card.created_at})`;
}

export async function selectBoundCards(db: Db, userId: string): Promise<CardRow[]> {
  return db<CardRow[]>`
    SELECT * FROM payments_cards WHERE user_id = ${userId} AND unbound_at IS NULL
    ORDER BY created_at, id`;
}

/** A bound card of this user; another user's card is not found, exactly like a missing one. */
export async function selectBoundCard(
  db: Db,
  userId: string,
  cardId: string,
): Promise<CardRow | undefined> {
  const rows = await db<CardRow[]>`
    SELECT * FROM payments_cards WHERE id = ${cardId} AND user_id = ${userId} AND unbound_at IS NULL`;
  return rows[0];
}

export async function unbindCard(
  db: Db,
  userId: string,
  cardId: string,
  now: Date,
): Promise<boolean> {
  const rows = await db`
    UPDATE payments_cards SET unbound_at = ${now}
    WHERE id = ${cardId} AND user_id = ${userId} AND unbound_at IS NULL
    RETURNING 1`;
  return rows.length === 1;
}

// ---- payments

/** Serialises one user's limit checks until the transaction ends (see the migration). */
export async function lockUserGuard(tx: TransactionSql, userId: string): Promise<void> {
  await tx`INSERT INTO payments_user_guards (user_id) VALUES (${userId}) ON CONFLICT DO NOTHING`;
  await tx`SELECT 1 FROM payments_user_guards WHERE user_id = ${userId} FOR UPDATE`;
}

export async function selectLivePayment(
  db: Db,
  request: { readonly userId: string; readonly kind: PaymentKind; readonly requestKey: string },
): Promise<PaymentRow | undefined> {
  const rows = await db<PaymentRow[]>`
    SELECT * FROM payments
    WHERE user_id = ${request.userId} AND kind = ${request.kind} AND request_key = ${request.requestKey}
      AND status <> 'failed'`;
  return rows[0];
}

/** Locks a payment's row: its refunds are checked against its amount while it is held. */
export async function lockPayment(tx: TransactionSql, paymentId: string): Promise<void> {
  const rows = await tx`SELECT id FROM payments WHERE id = ${paymentId} FOR UPDATE`;
  assert(rows.length === 1, 'the refunded payment exists');
}

/** What is refunded of a payment so far, counting refunds still pending (they may yet land). */
export async function selectRefundedMinor(db: Db, paymentId: string): Promise<bigint> {
  const [row] = await db<{ total: bigint }[]>`
    SELECT coalesce(sum(amount_minor), 0)::int8 AS total FROM payments
    WHERE refund_of_payment_id = ${paymentId} AND status <> 'failed'`;
  assert(row !== undefined, 'a sum has a row');
  return row.total;
}

/** What the user has committed on `day` (pending or succeeded), per kind. */
export async function selectDaySums(db: Db, userId: string, day: string): Promise<DaySums> {
  const rows = await db<{ kind: PaymentKind; total: bigint }[]>`
    SELECT kind, sum(amount_minor)::int8 AS total FROM payments
    WHERE user_id = ${userId} AND day = ${day}::date AND status <> 'failed'
    GROUP BY kind`;
  const total = (kind: PaymentKind): bigint => rows.find((row) => row.kind === kind)?.total ?? 0n;
  return {
    topupMinor: total('topup'),
    withdrawMinor: total('withdraw'),
    p2pMinor: total('p2p'),
    shopMinor: total('shop'),
    redpacketMinor: total('redpacket'),
  };
}

/** Inserts a pending payment; undefined when a live payment with its request key already exists. */
export async function insertPendingPayment(
  tx: TransactionSql,
  payment: NewPayment,
): Promise<PaymentRow | undefined> {
  const rows = await tx<PaymentRow[]>`
    INSERT INTO payments (id, kind, status, user_id, payee_user_id, card_id, debit_account_id,
      credit_account_id, amount_minor, currency, memo, request_key, request_sha256,
      ledger_transfer_id, day, created_at, shop_id, shop_order_id, refund_of_payment_id, redpacket_id, rain_id,
      discount_minor, campaign_id, discount_label, voucher_id, budget_account_id, scene, deposit_id, openapi_app_id)
    VALUES (${payment.id}, ${payment.kind}, 'pending', ${payment.user_id}, ${payment.payee_user_id},
      ${payment.card_id}, ${payment.debit_account_id}, ${payment.credit_account_id},
      ${payment.amount_minor.toString()}, ${payment.currency}, ${payment.memo}, ${payment.request_key},
      ${payment.request_sha256}, ${payment.ledger_transfer_id}, ${payment.day}::date, ${payment.created_at},
      ${payment.shop_id}, ${payment.shop_order_id}, ${payment.refund_of_payment_id}, ${payment.redpacket_id}, ${payment.rain_id},
      ${payment.discount_minor?.toString() ?? null}, ${payment.campaign_id}, ${payment.discount_label}, ${payment.voucher_id},
      ${payment.budget_account_id}, ${payment.scene}, ${payment.deposit_id}, ${payment.openapi_app_id})
    ON CONFLICT (user_id, kind, request_key) WHERE status <> 'failed' DO NOTHING
    RETURNING *`;
  return rows[0];
}

/**
 * Inserts many succeeded payments (complete as made) and their bills in one statement, inside
 * the ledger batch that moves their money (its durable commit), and `also` as a last CTE. One
 * that conflicts with a live payment of its request (or any other unique index) is skipped with
 * its bills; the rows inserted answer only their `record_id`, all the writer reads (RecordWriter):
 * sending the whole rows back cost PostgreSQL their output and this process their parsing.
 */
export function insertSettledPayments(
  db: Db,
  payments: readonly NewPayment[],
  bills: readonly NewBill[],
  also: readonly PendingQuery<Row[]>[],
): PendingQuery<{ record_id: string }[]> {
  // The rows travel as one JSON document each (json_to_recordset), not as 39 array parameters:
  // postgres.js escapes every array element in JavaScript, JSON.stringify is native. (Sent as
  // text: a parameter typed json would be stringified a second time.)
  const paymentRows = JSON.stringify(payments.map((x) => ({ ...x, amount_minor: x.amount_minor.toString(), discount_minor: x.discount_minor?.toString() ?? null, created_at: x.created_at.toISOString() })));
  const billRows = JSON.stringify(bills.map((x) => ({ user_id: x.userId, payment_id: x.paymentId, direction: x.direction, kind: x.kind, amount_minor: x.amountMinor.toString(), counterparty_user_id: x.counterpartyUserId, counterparty_name: x.counterpartyName, counterparty_mobile_masked: x.counterpartyMobileMasked, created_at: x.createdAt.toISOString() })));
  return db<{ record_id: string }[]>`
    WITH inserted AS (
      INSERT INTO payments (id, kind, status, user_id, payee_user_id, card_id, debit_account_id,
        credit_account_id, amount_minor, currency, memo, request_key, request_sha256,
        ledger_transfer_id, day, created_at, shop_id, shop_order_id, refund_of_payment_id, redpacket_id, rain_id, completed_at,
        discount_minor, campaign_id, discount_label, voucher_id, budget_account_id, scene, deposit_id, openapi_app_id)
      SELECT id, kind, 'succeeded', user_id, payee_user_id, card_id, debit_account_id,
        credit_account_id, amount_minor, currency, memo, request_key, request_sha256,
        ledger_transfer_id, day, created_at, shop_id, shop_order_id, refund_of_payment_id, redpacket_id, rain_id, created_at,
        discount_minor, campaign_id, discount_label, voucher_id, budget_account_id, scene, deposit_id, openapi_app_id
      FROM json_to_recordset(${paymentRows}::text::json)
        AS x(id text, kind text, user_id text, payee_user_id text, card_id text, debit_account_id text,
          credit_account_id text, amount_minor int8, currency text, memo text, request_key text,
          request_sha256 text, ledger_transfer_id text, day date, created_at timestamptz, shop_id text,
          shop_order_id text, refund_of_payment_id text, redpacket_id text, rain_id text,
          discount_minor int8, campaign_id text, discount_label text, voucher_id text,
          budget_account_id text, scene text, deposit_id text, openapi_app_id text)
      ON CONFLICT DO NOTHING
      RETURNING *
    ), bills AS (
      INSERT INTO payments_bills (user_id, payment_id, direction, kind, amount_minor,
        counterparty_user_id, counterparty_name, counterparty_mobile_masked, created_at)
      SELECT x.user_id, x.payment_id, x.direction, x.kind, x.amount_minor, x.counterparty_user_id,
        x.counterparty_name, x.counterparty_mobile_masked, x.created_at
      FROM json_to_recordset(${billRows}::text::json)
        AS x(user_id text, payment_id text, direction text, kind text, amount_minor int8,
          counterparty_user_id text, counterparty_name text, counterparty_mobile_masked text,
          created_at timestamptz)
      WHERE x.payment_id IN (SELECT id FROM inserted)
    )${also.reduce((ctes, statement, index) => db`${ctes}, ${db(`also_${String(index)}`)} AS (${statement})`, db``)}
    SELECT id AS record_id FROM inserted`;
}

export interface DirectPayment {
  readonly payment: NewPayment;
  readonly bills: readonly NewBill[];
  /** The request's Idempotency-Key record, completed with its response if the payment is written. */
  readonly completion: Completion | null;
}

/**
 * The ledger's record writer for payments that need no check against other payments: written
 * succeeded, with their bills, in the ledger batch that moves their money (RecordWriter).
 */
export function recordDirectPayments(connection: ReservedSql, rows: readonly DirectPayment[]): PendingQuery<{ record_id: string }[]> {
  // Settled in the transaction that moves the money: complete as made.
  const completions = rows.flatMap((row) =>
    row.completion === null ? [] : [{ ...row.completion, insertedId: row.payment.id }],
  );
  const firstPayment = rows[0]?.payment;
  const claimed = completions.filter((c) => c.claim.deferred === undefined);
  const deferred = completions.filter((c) => c.claim.deferred !== undefined);
  return insertSettledPayments(
    connection,
    rows.map((row) => row.payment),
    rows.flatMap((row) => row.bills),
    firstPayment === undefined ? [] : [
      ...(claimed.length === 0 ? [] : [completionUpdate(connection, claimed, firstPayment.created_at, 'inserted')]),
      ...(deferred.length === 0 ? [] : [completionInsert(connection, deferred, firstPayment.created_at, 'inserted')]),
    ],
  );
}

export async function insertBills(tx: TransactionSql, bills: readonly NewBill[]): Promise<void> {
  for (const bill of bills) {
    await tx`
      INSERT INTO payments_bills (user_id, payment_id, direction, kind, amount_minor,
        counterparty_user_id, counterparty_name, counterparty_mobile_masked, created_at)
      VALUES (${bill.userId}, ${bill.paymentId}, ${bill.direction}, ${bill.kind},
        ${bill.amountMinor.toString()}, ${bill.counterpartyUserId}, ${bill.counterpartyName},
        ${bill.counterpartyMobileMasked}, ${bill.createdAt})`;
  }
}

export async function selectPayment(db: Db, paymentId: string): Promise<PaymentRow | undefined> {
  const rows = await db<PaymentRow[]>`SELECT * FROM payments WHERE id = ${paymentId}`;
  return rows[0];
}

/**
 * Records that the payment's ledger transfer exists. The ledger is the truth, so this also turns a
 * payment marked failed by a racing attempt back into a success. Undefined when another live
 * payment of the same request holds the key (it shares the ledger transfer and settles alike).
 */
export async function markSucceeded(
  db: Db,
  paymentId: string,
  now: Date,
): Promise<PaymentRow | undefined> {
  try {
    const rows = await db<PaymentRow[]>`
      UPDATE payments SET status = 'succeeded', completed_at = coalesce(completed_at, ${now}),
        failure_code = NULL, failure_detail = NULL
      WHERE id = ${paymentId} RETURNING *`;
    const row = rows[0];
    assert(row !== undefined, `payment ${paymentId} exists`);
    return row;
  } catch (error) {
    if (isUniqueViolation(error)) return undefined;
    throw error;
  }
}

/**
 * `markSucceeded` for many payments in one statement, returning each one's bill as its payer
 * sees it; throws a unique violation as `markSucceeded` does.
 */
export async function markManySucceeded(
  db: Db,
  paymentIds: readonly string[],
  now: Date,
): Promise<BillRow[]> {
  return db<BillRow[]>`
    WITH p AS (
      UPDATE payments p SET status = 'succeeded', completed_at = coalesce(p.completed_at, ${now}),
        failure_code = NULL, failure_detail = NULL
      FROM unnest(${paymentIds as string[]}::text[]) AS x(id), ${relaxedCommit(db)}
      WHERE p.id = x.id RETURNING p.*
    )
    SELECT ${billColumns(db)}
    FROM p JOIN payments_bills b ON b.payment_id = p.id AND b.user_id = p.user_id
      LEFT JOIN payments_cards c ON c.id = p.card_id`;
}

/** Records a failure, unless the payment is no longer pending (a racing attempt settled it). */
export async function markFailed(
  db: Db,
  paymentId: string,
  failure: { readonly code: string; readonly detail: string; readonly now: Date },
): Promise<PaymentRow | undefined> {
  const rows = await db<PaymentRow[]>`
    UPDATE payments SET status = 'failed', failure_code = ${failure.code},
      failure_detail = ${failure.detail}, completed_at = ${failure.now}
    WHERE id = ${paymentId} AND status = 'pending' RETURNING *`;
  return rows[0];
}

/** Pending payments created before `before`, oldest first. */
export async function selectStalePending(
  db: Db,
  before: Date,
  limit: number,
): Promise<PaymentRow[]> {
  return db<PaymentRow[]>`
    SELECT * FROM payments WHERE status = 'pending' AND created_at < ${before}
    ORDER BY created_at LIMIT ${limit}`;
}

/** A unique violation, of the named constraint or index when one is given. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  if (error.code !== '23505') return false;
  if (constraint === undefined) return true;
  return 'constraint_name' in error && error.constraint_name === constraint;
}

// ---- bills

const billColumns = (db: Db) => db`
  b.payment_id, b.direction, b.kind, b.amount_minor, p.currency, p.status, p.memo,
  b.counterparty_user_id, b.counterparty_name, b.counterparty_mobile_masked, p.card_id, c.bank,
  c.last4, p.ledger_transfer_id, b.created_at, p.completed_at, p.redpacket_id, p.rain_id,
  p.discount_minor, p.campaign_id, p.discount_label, p.deposit_id`;

/**
 * Which payments a user sees as bills: succeeded ones, and the still-pending ones they initiated.
 * A failed payment moved no money and is not a bill; a payee sees money only once it has arrived.
 */
const visible = (db: Db) =>
  db`(p.status = 'succeeded' OR (p.status = 'pending' AND b.user_id = p.user_id))`;

export async function selectBills(db: Db, userId: string, filter: BillFilter): Promise<BillRow[]> {
  const { direction, kind, range, before } = filter;
  return db<BillRow[]>`
    SELECT ${billColumns(db)}
    FROM payments_bills b JOIN payments p ON p.id = b.payment_id
      LEFT JOIN payments_cards c ON c.id = p.card_id
    WHERE b.user_id = ${userId} AND ${visible(db)}
      ${direction === undefined ? db`` : db`AND b.direction = ${direction}`}
      ${kind === undefined ? db`` : db`AND b.kind = ${kind}`}
      ${range === undefined ? db`` : db`AND b.created_at >= ${range.start} AND b.created_at < ${range.end}`}
      ${before === undefined ? db`` : db`AND (b.created_at, b.payment_id) < (${before.createdAt}, ${before.paymentId})`}
    ORDER BY b.created_at DESC, b.payment_id DESC
    LIMIT ${filter.limit}`;
}

/** Many users' bills by (user, payment) in one statement; invisible ones are left out. */
export async function selectBillsByKey(
  db: Db,
  keys: readonly { readonly userId: string; readonly paymentId: string }[],
): Promise<(BillRow & { user_id: string })[]> {
  return db<(BillRow & { user_id: string })[]>`
    SELECT b.user_id, ${billColumns(db)}
    FROM payments_bills b JOIN payments p ON p.id = b.payment_id
      LEFT JOIN payments_cards c ON c.id = p.card_id
    WHERE (b.user_id, b.payment_id) IN (
        SELECT * FROM unnest(${keys.map((k) => k.userId)}::text[], ${keys.map((k) => k.paymentId)}::text[]))
      AND ${visible(db)}`;
}

export interface BillSumRow {
  direction: BillDirection;
  kind: PaymentKind;
  total: bigint;
  count: bigint;
}

/** Succeeded bills of a month, summed by direction and kind (pending ones may still fail). */
export async function selectBillSums(
  db: Db,
  userId: string,
  range: { start: Date; end: Date },
): Promise<BillSumRow[]> {
  return db<BillSumRow[]>`
    SELECT b.direction, b.kind, sum(b.amount_minor)::int8 AS total, count(*)::int8 AS count
    FROM payments_bills b JOIN payments p ON p.id = b.payment_id
    WHERE b.user_id = ${userId} AND p.status = 'succeeded'
      AND b.created_at >= ${range.start} AND b.created_at < ${range.end}
    GROUP BY b.direction, b.kind
    ORDER BY b.direction, total DESC, b.kind`;
}
