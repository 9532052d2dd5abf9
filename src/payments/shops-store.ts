import type { Sql, TransactionSql } from '../kernel/db.ts';

/** SQL for shops and their orders (payments_shops, payments_shop_orders). */

type Db = Sql | TransactionSql;

export interface ShopRow {
  id: string;
  owner_user_id: string;
  name: string;
  account_id: string;
  created_at: Date;
}

export interface OrderRow {
  id: string;
  shop_id: string;
  amount_minor: bigint;
  note: string | null;
  expires_at: Date;
  created_at: Date;
  /** The live (pending or succeeded) payment of this order, if any. */
  paid_payment_id: string | null;
  paid_by_user_id: string | null;
  paid_request_key: string | null;
}

export async function insertShop(tx: TransactionSql, shop: ShopRow): Promise<void> {
  await tx`
    INSERT INTO payments_shops (id, owner_user_id, name, account_id, created_at)
    VALUES (${shop.id}, ${shop.owner_user_id}, ${shop.name}, ${shop.account_id}, ${shop.created_at})`;
}

export async function selectShopByOwner(db: Db, userId: string): Promise<ShopRow | undefined> {
  const rows = await db<ShopRow[]>`SELECT * FROM payments_shops WHERE owner_user_id = ${userId}`;
  return rows[0];
}

export function selectShops(db: Db, shopIds: readonly string[]): Promise<ShopRow[]> {
  return db<ShopRow[]>`SELECT * FROM payments_shops WHERE id = ANY(${shopIds as string[]}::text[])`;
}

export async function insertOrder(
  db: Db,
  order: Omit<OrderRow, 'paid_payment_id' | 'paid_by_user_id' | 'paid_request_key'>,
): Promise<void> {
  await db`
    INSERT INTO payments_shop_orders (id, shop_id, amount_minor, note, expires_at, created_at)
    VALUES (${order.id}, ${order.shop_id}, ${order.amount_minor.toString()}, ${order.note},
      ${order.expires_at}, ${order.created_at})`;
}

/** An order with its live payment, if any (at most one: a unique index keeps it so). */
export async function selectOrder(db: Db, orderId: string): Promise<OrderRow | undefined> {
  const rows = await db<OrderRow[]>`
    SELECT o.*, p.id AS paid_payment_id, p.user_id AS paid_by_user_id,
      p.request_key AS paid_request_key
    FROM payments_shop_orders o
    LEFT JOIN payments p ON p.shop_order_id = o.id AND p.status <> 'failed'
    WHERE o.id = ${orderId}`;
  return rows[0];
}

/** A succeeded payment to this shop: what its owner may refund. */
/** A shop payment as a refund needs it: what the payer paid, and the campaign's discount on it. */
export interface RefundablePayment {
  id: string;
  user_id: string;
  amount_minor: bigint;
  discount_minor: bigint | null;
  campaign_id: string | null;
  budget_account_id: string | null;
  discount_label: string | null;
  scene: string | null;
}

export async function selectSucceededShopPayment(
  db: Db,
  shopId: string,
  paymentId: string,
): Promise<RefundablePayment | undefined> {
  const rows = await db<RefundablePayment[]>`
    SELECT id, user_id, amount_minor, discount_minor, campaign_id, budget_account_id, discount_label, scene FROM payments
    WHERE id = ${paymentId} AND shop_id = ${shopId} AND kind = 'shop' AND status = 'succeeded'`;
  return rows[0];
}
