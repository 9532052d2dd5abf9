import QRCode from 'qrcode';
import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import { assert } from '../kernel/assert.ts';
import { DomainError } from '../kernel/errors.ts';
import { isId, type IdGenerator } from '../kernel/ids.ts';
import type { AuthUser } from '../identity/index.ts';
import type { Ledger } from '../ledger/index.ts';
import { batched } from '../kernel/batch.ts';
import { isUniqueViolation } from './store.ts';
import type { DiscountQuote } from './discounts.ts';
import type { PaymentOutcome, Payments, ResponseRecorder } from './service.ts';
import {
  insertOrder,
  insertShop,
  selectOrder,
  selectShops,
  selectShopByOwner,
  selectSucceededShopPayment,
  type OrderRow,
  type ShopRow,
} from './shops-store.ts';

/**
 * Shops: a user's merchant side. A shop is a ledger account (code `merchant`, no overdraft) that
 * customers pay from their wallets through the payments pipeline (`Payments.payShop`), by the
 * shop's static receive code (any amount) or by a dynamic order's code (a fixed amount, payable
 * once, for 2 hours). Codes are `qb-shop:<shop id>` and `qb-order:<order id>`: stable, and the
 * ids carry enough randomness (UUIDv7) that an order's code cannot be guessed from another's.
 * Owner-only lookups go through the signed-in user's own shop, so another user's shop or order
 * answers the same 404 as a missing one.
 */
export const shopAccountCode = 'merchant';
export const orderLifetimeMs = 2 * 3600_000;

export interface ShopsDeps {
  readonly sql: Sql;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly ledger: Ledger;
  readonly payments: Payments;
}

export interface Shop {
  readonly id: string;
  readonly name: string;
  readonly accountId: string;
  readonly receiveCode: string;
  readonly createdAt: Date;
}

export type ShopWithBalance = Shop & { readonly balanceMinor: bigint };

export type OrderStatus = 'open' | 'paid' | 'expired';

export interface Order {
  readonly id: string;
  readonly shopId: string;
  readonly amountMinor: bigint;
  readonly note: string | null;
  readonly receiveCode: string;
  readonly status: OrderStatus;
  readonly paymentId: string | null;
  readonly expiresAt: Date;
  readonly createdAt: Date;
}

/** What a scanned code asks the payer to pay. */
export interface PayTarget {
  readonly code: string;
  readonly shopName: string;
  /** Fixed by an order; null for a shop's static code, where the payer types the amount. */
  readonly amountMinor: bigint | null;
  readonly note: string | null;
  readonly expiresAt: Date | null;
  /** The best discount for this payer and amount now (shown before the PIN), if any. */
  readonly offer: DiscountQuote | null;
}

export interface ShopPayInput {
  readonly code: string;
  readonly amountMinor: bigint | undefined;
  readonly pin: string;
  readonly requestKey: string;
  readonly respond?: ResponseRecorder | undefined;
  /** The offer the payer was shown before the PIN, if any. */
  readonly offerId?: string | undefined;
}

const shopCodePrefix = 'qb-shop:';
const orderCodePrefix = 'qb-order:';

/** The in-app link a receive code's QR image carries. */
export function payLink(code: string): string {
  return `/#/pay?code=${encodeURIComponent(code)}`;
}

function toShop(row: ShopRow): Shop {
  return {
    id: row.id,
    name: row.name,
    accountId: row.account_id,
    receiveCode: `${shopCodePrefix}${row.id}`,
    createdAt: row.created_at,
  };
}

function orderStatus(row: OrderRow, nowMs: number): OrderStatus {
  if (row.paid_payment_id !== null) return 'paid';
  return row.expires_at.getTime() <= nowMs ? 'expired' : 'open';
}

function toOrder(row: OrderRow, nowMs: number): Order {
  return {
    id: row.id,
    shopId: row.shop_id,
    amountMinor: row.amount_minor,
    note: row.note,
    receiveCode: `${orderCodePrefix}${row.id}`,
    status: orderStatus(row, nowMs),
    paymentId: row.paid_payment_id,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
  };
}

const targetNotFound = () =>
  new DomainError('payments.pay_target_not_found', {
    detail: 'this code names no shop or order; scan it again',
  });

/** A resolved code: the shop, and the order for a dynamic code. */
interface Resolved {
  readonly shop: ShopRow;
  readonly order: OrderRow | null;
}

/** Shops held in memory: a shop row never changes once opened (no UPDATE or DELETE touches it). */
const shopCacheMax = 10_000;

export class Shops {
  private readonly shops = new Map<string, ShopRow>();

  constructor(private readonly deps: ShopsDeps) {}

  /**
   * A shop by id: from memory once read (its row is immutable), else read in a statement shared
   * with the concurrent requests (kernel/batch.ts). A missing shop is not remembered.
   */
  private async shop(shopId: string): Promise<ShopRow | undefined> {
    const held = this.shops.get(shopId);
    if (held !== undefined) return held;
    const row = await this.loadShop(shopId);
    if (row !== undefined) {
      if (this.shops.size >= shopCacheMax) this.shops.delete(this.shops.keys().next().value ?? '');
      this.shops.set(shopId, row);
    }
    return row;
  }

  private readonly loadShop = batched<string, ShopRow | undefined>(async (ids) => {
    const rows = await selectShops(this.deps.sql, ids);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id));
  });

  /** Opens the user's shop and its ledger account, in one transaction; one shop per user. */
  async openShop(user: AuthUser, input: { readonly name: string }): Promise<Shop> {
    const name = input.name.trim();
    if (name === '') throw new DomainError('request.invalid', { detail: 'name the shop' });
    const row: ShopRow = {
      id: this.deps.ids.next('shop'),
      owner_user_id: user.id,
      name,
      account_id: this.deps.ids.next('acct'),
      created_at: this.deps.clock.now(),
    };
    try {
      await this.deps.sql.begin(async (tx) => {
        if ((await selectShopByOwner(tx, user.id)) !== undefined) throw shopAlreadyOpen();
        await this.deps.ledger.createAccount(
          {
            id: row.account_id,
            currency: 'CNY',
            code: shopAccountCode,
            ownerId: user.id,
            noOverdraft: true,
          },
          tx,
        );
        await insertShop(tx, row);
      });
    } catch (error) {
      // Two concurrent first requests: the owner's unique index lets one through.
      if (isUniqueViolation(error, 'payments_shops_owner_user_id_key')) throw shopAlreadyOpen();
      throw error;
    }
    return toShop(row);
  }

  /** The user's shops: none or one. */
  async listShops(userId: string): Promise<ShopWithBalance[]> {
    const row = await selectShopByOwner(this.deps.sql, userId);
    return row === undefined ? [] : [await this.withBalance(row)];
  }

  async myShop(userId: string): Promise<ShopWithBalance> {
    return this.withBalance(await this.requireOwnShop(userId));
  }

  /** The SVG QR image of the shop's static receive code, as an in-app pay link. */
  async myShopQrSvg(userId: string): Promise<string> {
    const shop = toShop(await this.requireOwnShop(userId));
    return QRCode.toString(payLink(shop.receiveCode), { type: 'svg', margin: 2 });
  }

  /** A dynamic order of the user's shop: a fixed amount, payable once within 2 hours. */
  async createOrder(
    userId: string,
    input: { readonly amountMinor: bigint; readonly note: string | null },
  ): Promise<Order> {
    const shop = await this.requireOwnShop(userId);
    const now = this.deps.clock.now();
    const row = {
      id: this.deps.ids.next('ord'),
      shop_id: shop.id,
      amount_minor: input.amountMinor,
      note: input.note,
      expires_at: new Date(now.getTime() + orderLifetimeMs),
      created_at: now,
    };
    await insertOrder(this.deps.sql, row);
    return toOrder(
      { ...row, paid_payment_id: null, paid_by_user_id: null, paid_request_key: null },
      now.getTime(),
    );
  }

  /** One of the user's own shop's orders; another shop's is a 404 like a missing one. */
  async getOrder(userId: string, orderId: string): Promise<Order> {
    const shop = await selectShopByOwner(this.deps.sql, userId);
    const row = await selectOrder(this.deps.sql, orderId);
    if (shop === undefined || row === undefined || row.shop_id !== shop.id) {
      throw new DomainError('payments.order_not_found', { detail: 'no such order in your shop' });
    }
    return toOrder(row, this.deps.clock.nowMs());
  }

  /** What a scanned code would pay; a paid or expired order is refused here already. */
  async resolve(code: string, payer?: { readonly user: AuthUser; readonly amountMinor: bigint | undefined }): Promise<PayTarget> {
    const { shop, order } = await this.resolveCode(code);
    if (order !== null) this.assertPayable(order, undefined);
    const amountMinor = order?.amount_minor ?? payer?.amountMinor;
    const offer = payer === undefined || amountMinor === undefined || shop.owner_user_id === payer.user.id ? undefined : await this.deps.payments.quoteDiscount(payer.user, 'shop_qr', amountMinor);
    return {
      code,
      shopName: shop.name,
      amountMinor: order?.amount_minor ?? null,
      note: order?.note ?? null,
      expiresAt: order?.expires_at ?? null,
      offer: offer ?? null,
    };
  }

  /**
   * Pays a code from the payer's wallet. Precedence: code (404), own shop (422), order expired or
   * paid (409), amount (422), then as a transfer: PIN, daily limit, funds.
   */
  async pay(user: AuthUser, input: ShopPayInput): Promise<PaymentOutcome> {
    const { shop, order } = await this.resolveCode(input.code);
    if (shop.owner_user_id === user.id) {
      throw new DomainError('payments.cannot_pay_own_shop', {
        detail: 'this is your own shop; ask the customer to scan it',
      });
    }
    const amountMinor = order === null ? this.staticAmount(input) : order.amount_minor;
    if (order !== null) {
      this.assertPayable(order, { userId: user.id, requestKey: input.requestKey });
      if (input.amountMinor !== undefined && input.amountMinor !== order.amount_minor) {
        throw new DomainError('payments.amount_mismatch', {
          detail: `this order is for exactly ${order.amount_minor.toString()} fen`,
        });
      }
    }
    return this.deps.payments.payShop(user, {
      amountMinor,
      pin: input.pin,
      requestKey: input.requestKey,
      respond: input.respond,
      target: shopTarget(shop, order?.id ?? null, input.code),
      offerId: input.offerId,
    });
  }

  /**
   * Refunds all or part of a succeeded payment to the owner's shop, from the shop account back
   * to the payer's wallet. Precedence: payment (404: missing, not succeeded, or another shop's),
   * amount left (422, checked under the payment's row lock), the shop's funds (the ledger's 422).
   */
  async refund(
    owner: AuthUser,
    input: {
      readonly paymentId: string;
      readonly amountMinor: bigint;
      readonly requestKey: string;
    },
  ): Promise<PaymentOutcome> {
    const shop = await selectShopByOwner(this.deps.sql, owner.id);
    const payment =
      shop === undefined
        ? undefined
        : await selectSucceededShopPayment(this.deps.sql, shop.id, input.paymentId);
    if (shop === undefined || payment === undefined) {
      throw new DomainError('payments.shop_payment_not_found', {
        detail: 'no such payment to your shop',
      });
    }
    return this.deps.payments.refundShopPayment(owner, {
      amountMinor: input.amountMinor,
      requestKey: input.requestKey,
      target: shopTarget(shop, null, `refund:${payment.id}`),
      payment: {
        id: payment.id,
        userId: payment.user_id,
        amountMinor: payment.amount_minor,
        discount:
          payment.discount_minor === null || payment.campaign_id === null || payment.budget_account_id === null || payment.discount_label === null
            ? null
            : { minor: payment.discount_minor, campaignId: payment.campaign_id, budgetAccountId: payment.budget_account_id, label: payment.discount_label, scene: payment.scene },
      },
    });
  }

  private staticAmount(input: ShopPayInput): bigint {
    if (input.amountMinor === undefined) {
      throw new DomainError('payments.amount_required', {
        detail: "enter the amount: this shop's code has none",
      });
    }
    return input.amountMinor;
  }

  /**
   * An order can be paid while it is open. Its own payer's retry of the same request is let
   * through (the pipeline resumes that payment); anyone else finds it paid.
   */
  private assertPayable(
    order: OrderRow,
    retry: { readonly userId: string; readonly requestKey: string } | undefined,
  ): void {
    const isOwnAttempt =
      retry !== undefined &&
      order.paid_by_user_id === retry.userId &&
      order.paid_request_key === retry.requestKey;
    if (order.paid_payment_id !== null && !isOwnAttempt) {
      throw new DomainError('payments.order_already_paid', {
        detail: 'this order is already paid',
      });
    }
    if (order.paid_payment_id === null && order.expires_at.getTime() <= this.deps.clock.nowMs()) {
      throw new DomainError('payments.order_expired', {
        detail: 'this order has expired; ask the shop for a new code',
      });
    }
  }

  private async resolveCode(code: string): Promise<Resolved> {
    if (code.startsWith(shopCodePrefix)) {
      const shopId = code.slice(shopCodePrefix.length);
      if (!isId('shop', shopId)) throw targetNotFound();
      const shop = await this.shop(shopId);
      if (shop === undefined) throw targetNotFound();
      return { shop, order: null };
    }
    if (code.startsWith(orderCodePrefix)) {
      const orderId = code.slice(orderCodePrefix.length);
      if (!isId('ord', orderId)) throw targetNotFound();
      const order = await selectOrder(this.deps.sql, orderId);
      if (order === undefined) throw targetNotFound();
      const shop = await this.shop(order.shop_id);
      assert(shop !== undefined, 'an order belongs to a shop');
      return { shop, order };
    }
    throw targetNotFound();
  }

  /** A shop by id, which the caller already holds (a charge's shop). */
  async shopRow(shopId: string): Promise<ShopRow> {
    const row = await this.shop(shopId);
    assert(row !== undefined, `shop ${shopId} exists`);
    return row;
  }

  /** The user's own shop, or 404 `payments.shop_not_found`. */
  async requireOwnShop(userId: string): Promise<ShopRow> {
    const row = await selectShopByOwner(this.deps.sql, userId);
    if (row === undefined) {
      throw new DomainError('payments.shop_not_found', { detail: 'you have not opened a shop' });
    }
    return row;
  }

  private async withBalance(row: ShopRow): Promise<ShopWithBalance> {
    const account = await this.deps.ledger.getAccount(row.account_id);
    assert(account !== undefined, "a shop's ledger account exists");
    assert(account.balanceMinor >= 0n, 'a shop account never goes negative');
    return { ...toShop(row), balanceMinor: account.balanceMinor };
  }
}

function shopAlreadyOpen(): DomainError {
  return new DomainError('payments.shop_already_open', { detail: 'you already have a shop' });
}

/** What a payment to (or refund from) a shop needs to know of the shop. */
export function shopTarget(
  shop: { readonly id: string; readonly name: string; readonly account_id: string; readonly owner_user_id: string },
  orderId: string | null,
  code: string,
) {
  return { shopId: shop.id, shopName: shop.name, accountId: shop.account_id, ownerUserId: shop.owner_user_id, orderId, code };
}
