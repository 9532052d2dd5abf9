import type { DiscountQuote } from './discounts.ts';
import QRCode from 'qrcode';
import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import type { IdGenerator } from '../kernel/ids.ts';
import type { Random } from '../kernel/random.ts';
import { sha256Hex } from '../kernel/tokens.ts';
import { maskMobile, type AuthUser, type Identity } from '../identity/index.ts';
import type { Bill } from './bills.ts';
import {
  consumeCode,
  insertCharge,
  replaceCode,
  selectAwaitingCharges,
  selectCharge,
  selectChargeByKey,
  selectStalePaying,
  updateChargeStatus,
  type ChargeRow,
  type ChargeStatus,
} from './pay-codes-store.ts';
import type { Payments } from './service.ts';
import { shopTarget, type Shops } from './shops.ts';
import { isUniqueViolation } from './store.ts';

/**
 * The user's payment code (付款码) and the charges shops make with it. The payer's app shows an
 * 18-digit code starting 28 (and its QR); it lives one minute, is used once, and each new code
 * retires the older ones. A shop owner enters it with an amount: the charge consumes the code and
 * pays the shop from the payer's wallet through the payments pipeline — at once without the PIN
 * up to the configured small amount (the PIN must be set and not locked, and the payer's daily
 * limit applies), otherwise it waits up to 5 minutes for the payer to confirm with the PIN in the
 * app, or to decline. Only the code's sha256 is stored.
 */
export const payCodeLifetimeMs = 60_000;
export const chargeConfirmWindowMs = 5 * 60_000;
/** A charge still `paying` this long after it began belongs to a request that stopped. */
const stalePayingMs = 60_000;
const codePattern = /^28[0-9]{16}$/;
const codeDigits = 16n;

export type ChargeView = ChargeStatus | 'expired';

export interface Charge {
  readonly id: string;
  readonly shopId: string;
  readonly shopName: string;
  readonly amountMinor: bigint;
  readonly status: ChargeView;
  readonly paymentId: string | null;
  readonly failureCode: string | null;
  readonly payerMobileMasked: string;
  readonly createdAt: Date;
  readonly confirmBy: Date;
  /** A charge awaiting the payer's PIN: the discount it would get now (shown before the PIN). */
  readonly offer?: DiscountQuote | null;
}

export interface IssuedCode {
  readonly code: string;
  readonly qrSvg: string;
  readonly expiresAt: Date;
}

export interface PayCodesDeps {
  readonly sql: Sql;
  readonly clock: Clock;
  readonly random: Random;
  readonly ids: IdGenerator;
  readonly identity: Identity;
  readonly payments: Payments;
  readonly shops: Shops;
  /** Charges up to this amount need no PIN; 0 means every charge needs it. */
  readonly noPinMaxMinor: bigint;
}

const chargeNotFound = () => new DomainError('payments.charge_not_found', { detail: 'no such charge' });

export class PayCodes {
  constructor(private readonly deps: PayCodesDeps) {}

  /** A fresh code for the user's app; the older ones stop working. */
  async issue(user: AuthUser): Promise<IssuedCode> {
    if (!user.hasPin) throw new DomainError('identity.pin_not_set', { detail: 'set a payment PIN first' });
    const code = this.newCode();
    const createdAt = this.deps.clock.now();
    const expiresAt = new Date(createdAt.getTime() + payCodeLifetimeMs);
    await this.deps.sql.begin((tx) => replaceCode(tx, { sha256: codeHash(code), userId: user.id, createdAt, expiresAt }));
    return { code, expiresAt, qrSvg: await QRCode.toString(code, { type: 'svg', margin: 2 }) };
  }

  /**
   * The shop owner charges a code. Precedence: shop (404), retry of the same key (its charge, or
   * 422 reused), code (422: unknown, used, retired or expired), own code (422), then the payment.
   */
  async charge(owner: AuthUser, input: { readonly code: string; readonly amountMinor: bigint; readonly requestKey: string }): Promise<Charge> {
    const shop = await this.deps.shops.requireOwnShop(owner.id);
    const sha256 = codeHash(input.code);
    const earlier = await selectChargeByKey(this.deps.sql, shop.id, input.requestKey);
    if (earlier !== undefined) return this.retry(earlier, sha256, input.amountMinor);
    if (!codePattern.test(input.code)) throw codeInvalid();
    const now = this.deps.clock.now();
    const id = this.deps.ids.next('chg');
    try {
      await this.deps.sql.begin(async (tx) => {
        const payerId = await consumeCode(tx, sha256, now);
        if (payerId === undefined) throw codeInvalid();
        if (payerId === owner.id) {
          throw new DomainError('payments.cannot_pay_own_shop', { detail: 'this is your own payment code' });
        }
        await insertCharge(tx, {
          id,
          shop_id: shop.id,
          payer_user_id: payerId,
          code_sha256: sha256,
          amount_minor: input.amountMinor,
          status: input.amountMinor <= this.deps.noPinMaxMinor ? 'paying' : 'awaiting_pin',
          request_key: input.requestKey,
          created_at: now,
          confirm_by: new Date(now.getTime() + chargeConfirmWindowMs),
        });
      });
    } catch (error) {
      // The same key, concurrently: the unique (shop, key) lets one through; this one follows it.
      if (!isUniqueViolation(error)) throw error;
      const raced = await selectChargeByKey(this.deps.sql, shop.id, input.requestKey);
      if (raced === undefined) throw error;
      return this.retry(raced, sha256, input.amountMinor);
    }
    return this.advance(await this.load(id));
  }

  /**
   * One of the owner's shop's charges, as it stands: a read moves no money. A charge whose request
   * stopped is finished by a retry of that request or by the sweep.
   */
  async getForShop(owner: AuthUser, chargeId: string): Promise<Charge> {
    const shop = await this.deps.shops.requireOwnShop(owner.id);
    const row = await selectCharge(this.deps.sql, chargeId);
    if (row === undefined || row.shop_id !== shop.id) throw chargeNotFound();
    return this.toCharge(row);
  }

  /** The payer's charges waiting for the PIN. */
  async awaiting(payer: AuthUser): Promise<Charge[]> {
    const rows = await selectAwaitingCharges(this.deps.sql, payer.id, this.deps.clock.now());
    return Promise.all(rows.map(async (row) => ({ ...this.toCharge(row), offer: (await this.deps.payments.quoteDiscount(payer, 'payment_code', row.amount_minor)) ?? null })));
  }

  /** The payer confirms a charge with the PIN: the shop is paid. Errors leave it waiting. */
  async confirm(payer: AuthUser, input: { readonly chargeId: string; readonly pin: string; readonly offerId?: string | undefined }): Promise<{ charge: Charge; bill: Bill }> {
    const row = await this.payersCharge(payer, input.chargeId);
    if (row.status === 'paid' && row.payment_id !== null) {
      const bill = await this.deps.payments.getBill(payer.id, row.payment_id);
      return { charge: this.toCharge(row), bill };
    }
    this.assertAwaiting(row);
    const outcome = await this.pay(row, payer, input.pin, input.offerId);
    await updateChargeStatus(this.deps.sql, row.id, 'awaiting_pin', { status: 'paid', paymentId: outcome.bill.id, now: this.deps.clock.now() });
    return { charge: this.toCharge(await this.load(row.id)), bill: outcome.bill };
  }

  /** The payer refuses a charge; nothing is paid. */
  async decline(payer: AuthUser, chargeId: string): Promise<Charge> {
    const row = await this.payersCharge(payer, chargeId);
    if (row.status !== 'declined') {
      this.assertAwaiting(row);
      await updateChargeStatus(this.deps.sql, row.id, 'awaiting_pin', { status: 'declined', now: this.deps.clock.now() });
    }
    return this.toCharge(await this.load(row.id));
  }

  /** The maintenance loop's part: finishes charges left paying by a request that stopped. */
  async settleStale(): Promise<number> {
    const rows = await selectStalePaying(this.deps.sql, new Date(this.deps.clock.nowMs() - stalePayingMs), 100);
    for (const row of rows) await this.advance(row);
    return rows.length;
  }

  /** A retry of a charge request: the same code and amount get the charge; anything else is a reuse. */
  private async retry(row: ChargeRow, sha256: string, amountMinor: bigint): Promise<Charge> {
    if (row.code_sha256 !== sha256 || row.amount_minor !== amountMinor) {
      throw new DomainError('idempotency.key_reused', { detail: 'this Idempotency-Key was used for another charge; use a new key' });
    }
    return this.advance(row);
  }

  /**
   * Pays a charge that needs no PIN. The payment's request key is the charge's id, so however
   * often this runs (the request, its retry, the sweep) the money moves once. A refusal (funds, the
   * daily limit, a locked PIN) fails the charge; the customer shows a new code.
   */
  private async advance(row: ChargeRow): Promise<Charge> {
    if (row.status !== 'paying') return this.toCharge(row);
    const payer = await this.deps.identity.getUser(row.payer_user_id);
    if (payer === undefined) throw chargeNotFound();
    const now = () => this.deps.clock.now();
    try {
      const outcome = await this.pay(row, payer, null);
      await updateChargeStatus(this.deps.sql, row.id, 'paying', { status: 'paid', paymentId: outcome.bill.id, now: now() });
    } catch (error) {
      if (!(error instanceof DomainError) || error.spec.status >= 500) throw error;
      await updateChargeStatus(this.deps.sql, row.id, 'paying', { status: 'failed', failureCode: error.code, now: now() });
    }
    return this.toCharge(await this.load(row.id));
  }

  private async pay(row: ChargeRow, payer: AuthUser, pin: string | null, offerId?: string) {
    const shop = await this.deps.shops.shopRow(row.shop_id);
    return this.deps.payments.payShop(payer, {
      amountMinor: row.amount_minor,
      offerId,
      pin,
      requestKey: `charge:${row.id}`,
      target: shopTarget(shop, null, `charge:${row.id}`),
    });
  }

  private async payersCharge(payer: AuthUser, chargeId: string): Promise<ChargeRow> {
    const row = await selectCharge(this.deps.sql, chargeId);
    if (row === undefined || row.payer_user_id !== payer.id) throw chargeNotFound();
    return row;
  }

  private assertAwaiting(row: ChargeRow): void {
    if (row.status !== 'awaiting_pin' || row.confirm_by.getTime() <= this.deps.clock.nowMs()) {
      throw new DomainError('payments.charge_not_awaiting', {
        detail: `this charge is ${this.toCharge(row).status}; nothing to confirm`,
      });
    }
  }

  private async load(chargeId: string): Promise<ChargeRow> {
    const row = await selectCharge(this.deps.sql, chargeId);
    if (row === undefined) throw chargeNotFound();
    return row;
  }

  private toCharge(row: ChargeRow): Charge {
    const expired = row.status === 'awaiting_pin' && row.confirm_by.getTime() <= this.deps.clock.nowMs();
    return {
      id: row.id,
      shopId: row.shop_id,
      shopName: row.shop_name,
      amountMinor: row.amount_minor,
      status: expired ? 'expired' : row.status,
      paymentId: row.payment_id,
      failureCode: row.failure_code,
      payerMobileMasked: maskMobile(row.payer_mobile),
      createdAt: row.created_at,
      confirmBy: row.confirm_by,
    };
  }

  /** '28' and 16 uniform random digits (rejection sampling over 64-bit draws: no modulo bias). */
  private newCode(): string {
    const space = 10n ** codeDigits;
    const limit = (2n ** 64n / space) * space;
    for (;;) {
      const draw = Buffer.from(this.deps.random.bytes(8)).readBigUInt64BE();
      if (draw < limit) return `28${(draw % space).toString().padStart(Number(codeDigits), '0')}`;
    }
  }
}

function codeHash(code: string): string {
  return sha256Hex(`qianbao:pay-code:${code}`);
}

function codeInvalid(): DomainError {
  return new DomainError('payments.pay_code_invalid', {
    detail: 'this payment code is unknown, used or expired; ask the customer to refresh it',
  });
}
