import type { Sql, TransactionSql } from '../kernel/db.ts';

/** SQL for payment codes and the charges shops make with them (payments_pay_codes, payments_code_charges). */

type Db = Sql | TransactionSql;

export type ChargeStatus = 'paying' | 'awaiting_pin' | 'paid' | 'failed' | 'declined';

export interface ChargeRow {
  id: string;
  shop_id: string;
  payer_user_id: string;
  code_sha256: string;
  amount_minor: bigint;
  status: ChargeStatus;
  request_key: string;
  payment_id: string | null;
  failure_code: string | null;
  created_at: Date;
  confirm_by: Date;
  completed_at: Date | null;
  /** Joined for display. */
  shop_name: string;
  payer_mobile: string;
}

/** Retires the user's live codes and records a new one: only the newest code can be used. */
export async function replaceCode(
  tx: TransactionSql,
  code: { readonly sha256: string; readonly userId: string; readonly createdAt: Date; readonly expiresAt: Date },
): Promise<void> {
  await tx`
    UPDATE payments_pay_codes SET retired_at = ${code.createdAt}
    WHERE user_id = ${code.userId} AND used_at IS NULL AND retired_at IS NULL
      AND expires_at > ${code.createdAt}`;
  await tx`
    INSERT INTO payments_pay_codes (code_sha256, user_id, created_at, expires_at)
    VALUES (${code.sha256}, ${code.userId}, ${code.createdAt}, ${code.expiresAt})`;
}

/** Uses a live code once; the code's user, or undefined when it is unknown, used, retired or expired. */
export async function consumeCode(tx: TransactionSql, sha256: string, now: Date): Promise<string | undefined> {
  const rows = await tx<{ user_id: string }[]>`
    UPDATE payments_pay_codes SET used_at = ${now}
    WHERE code_sha256 = ${sha256} AND used_at IS NULL AND retired_at IS NULL AND expires_at > ${now}
    RETURNING user_id`;
  return rows[0]?.user_id;
}

export async function insertCharge(
  tx: TransactionSql,
  charge: Omit<ChargeRow, 'payment_id' | 'failure_code' | 'completed_at' | 'shop_name' | 'payer_mobile'>,
): Promise<void> {
  await tx`
    INSERT INTO payments_code_charges (id, shop_id, payer_user_id, code_sha256, amount_minor, status,
      request_key, created_at, confirm_by)
    VALUES (${charge.id}, ${charge.shop_id}, ${charge.payer_user_id}, ${charge.code_sha256},
      ${charge.amount_minor.toString()}, ${charge.status}, ${charge.request_key}, ${charge.created_at},
      ${charge.confirm_by})`;
}

const chargeSelect = (db: Db) => db`
  SELECT c.*, s.name AS shop_name, u.mobile AS payer_mobile
  FROM payments_code_charges c JOIN payments_shops s ON s.id = c.shop_id
    JOIN identity_users u ON u.id = c.payer_user_id`;

export async function selectCharge(db: Db, chargeId: string): Promise<ChargeRow | undefined> {
  const rows = await db<ChargeRow[]>`${chargeSelect(db)} WHERE c.id = ${chargeId}`;
  return rows[0];
}

export async function selectChargeByKey(db: Db, shopId: string, requestKey: string): Promise<ChargeRow | undefined> {
  const rows = await db<ChargeRow[]>`${chargeSelect(db)} WHERE c.shop_id = ${shopId} AND c.request_key = ${requestKey}`;
  return rows[0];
}

/** The payer's charges still waiting for the PIN, newest first. */
export async function selectAwaitingCharges(db: Db, payerUserId: string, now: Date): Promise<ChargeRow[]> {
  return db<ChargeRow[]>`
    ${chargeSelect(db)}
    WHERE c.payer_user_id = ${payerUserId} AND c.status = 'awaiting_pin' AND c.confirm_by > ${now}
    ORDER BY c.created_at DESC LIMIT 20`;
}

/** Moves a charge on from one status; false when it had already left that status. */
export async function updateChargeStatus(
  db: Db,
  chargeId: string,
  from: ChargeStatus,
  to: { readonly status: ChargeStatus; readonly paymentId?: string; readonly failureCode?: string; readonly now: Date },
): Promise<boolean> {
  const rows = await db`
    UPDATE payments_code_charges
    SET status = ${to.status}, payment_id = ${to.paymentId ?? null}, failure_code = ${to.failureCode ?? null},
      completed_at = ${to.now}
    WHERE id = ${chargeId} AND status = ${from}
    RETURNING 1`;
  return rows.length === 1;
}

/** Charges left paying by a request that stopped, for the maintenance loop to finish. */
export async function selectStalePaying(db: Db, before: Date, limit: number): Promise<ChargeRow[]> {
  return db<ChargeRow[]>`
    ${chargeSelect(db)} WHERE c.status = 'paying' AND c.created_at < ${before}
    ORDER BY c.created_at LIMIT ${limit}`;
}
