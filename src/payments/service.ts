import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import { assert } from '../kernel/assert.ts';
import { DomainError } from '../kernel/errors.ts';
import type { IdGenerator } from '../kernel/ids.ts';
import { jsonContentType, type IdempotencyClaim } from '../http/idempotency.ts';
import {
  unverifiedDailySendMaxMinor,
  type AuthUser,
  type Identity,
} from '../identity/index.ts';
import type { Ledger } from '../ledger/index.ts';
import {
  listBills,
  requireBill,
  toBill,
  monthSummary,
  type Bill,
  type BillPage,
  type BillQuery,
  type MonthSummary,
} from './bills.ts';
import { PaymentBatches } from './batches.ts';
import { billsFor, intentFingerprint, newPaymentRow, sameRequest, type Intent, type RedPacketTarget, type ShopTarget } from './intent.ts';
import { bindCard, listCards, requireCard, unbindUserCard, type Card } from './cards.ts';
import { isBudgetSpent, ledgerLegsOf, paymentResult, type DiscountEngine, type DiscountQuote, type PaymentScene } from './discounts.ts';
import { directBillRow, discountReturn, isDirect, limitError, submissionOf, type RefundedDiscount } from './paths.ts';
import './errors.ts';
import {
  bankAccountCode,
  bankAccountId,
  isLimited,
  limitBreach,
  pendingStaleAfterMs,
  shanghaiDay,
  shanghaiMonth,
  staleSweepSizeMax,
  topupDailyMaxMinor,
  withdrawDailyMaxMinor,
  type BankCode,
  type PaymentKind,
  type PaymentLimits,
} from './model.ts';
import {
  insertBills,
  insertPendingPayment,
  isUniqueViolation,
  lockPayment,
  lockUserGuard,
  markFailed,
  markSucceeded,
  selectDaySums,
  selectLivePayment,
  selectPayment,
  selectRefundedMinor,
  recordDirectPayments,
  selectStalePending,
  type NewPayment,
  type PaymentRow,
} from './store.ts';

/**
 * Payments: bank cards, top-up, withdrawal and P2P transfer, and the bills they leave.
 *
 * How a payment can never pay twice, whatever crashes or retries:
 * 1. The route is idempotent (Idempotency-Key), so a retry normally gets the stored response.
 *    But that record completes only after the money moved, and a request that crashed is taken
 *    over by its retry after a minute; so the handler itself must be safe to run again.
 * 2. The ledger transfer id is derived from the request — (user, kind, Idempotency-Key) — never
 *    from anything an attempt invents. The ledger moves money at most once per id, so every
 *    attempt of one request, however they race, moves it at most once between them.
 * 3. `open` records the payment (status pending) in its own committed transaction before any
 *    money moves, checking the daily limits under a per-user lock in the same transaction. A
 *    retry finds that live row by its key and resumes it instead of creating another.
 * 4. `settle` submits the transfer, then records the outcome. A crash between the two leaves the
 *    row pending; the retry submits the same id again and the ledger answers `exists`. The ledger
 *    is the truth: a success overrides a failure a racing attempt recorded.
 * 5. A failed payment frees its key (the ledger keeps no trace of a failed transfer either), so
 *    a retry after, say, a top-up is judged anew, under the same ledger id.
 * No transaction is held open across the ledger call: the ledger's writer takes connections from
 * the same pool, and transactions waiting on it while holding every connection would deadlock.
 */
export interface PaymentsDeps {
  readonly sql: Sql;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly ledger: Ledger;
  readonly identity: Identity;
  readonly limits?: PaymentLimits;
  /** The marketing engine, when discounts are on: asked for the best benefit of each payment. */
  readonly discounts?: DiscountEngine;
}

export interface PaymentOutcome {
  /** The payment as its initiator's bill. */
  readonly bill: Bill;
  /** True when this call moved the money; false when an earlier attempt already had. */
  readonly created: boolean;
  /**
   * Set when the response was stored with the effect (`ResponseRecorder`): the body to send as
   * it is, with status 201; the request's Idempotency-Key record is already complete.
   */
  readonly storedBody?: string;
}

interface MoneyInput {
  readonly amountMinor: bigint;
  readonly pin: string;
  /** The request's Idempotency-Key. */
  readonly requestKey: string;
  /** The route's claim and how it renders the bill, to store the response with the payment. */
  readonly respond?: ResponseRecorder | undefined;
}

/** How a route stores its response with the payment: its Idempotency-Key claim and its renderer. */
export interface ResponseRecorder {
  readonly claim: IdempotencyClaim;
  render(bill: Bill): string;
}

export type CardPaymentInput = MoneyInput & { readonly cardId: string };
export type TransferInput = MoneyInput & {
  readonly toMobile?: string | undefined;
  readonly toUserId?: string | undefined;
  readonly memo: string | null;
};

export type ShopPaymentInput = Omit<MoneyInput, 'pin'> & {
  /** Null when the payer's PIN is waived: a small payment-code charge (小额免密). */
  readonly pin: string | null;
  readonly target: ShopTarget;
  /** The offer the payer was shown and confirmed before the PIN (see `Payments.pay`). */
  readonly offerId?: string | undefined;
};

export interface RefundInput {
  readonly amountMinor: bigint;
  readonly requestKey: string;
  readonly target: ShopTarget;
  /** The succeeded shop payment refunded, as `Shops` found it in the owner's shop. */
  readonly payment: { readonly id: string; readonly userId: string; readonly amountMinor: bigint; readonly discount?: RefundedDiscount | null };
}

export const defaultPaymentLimits: PaymentLimits = {
  topupDailyMaxMinor,
  withdrawDailyMaxMinor,
  unverifiedDailySendMaxMinor,
};


export class Payments {
  private readonly limits: PaymentLimits;
  private readonly batches: PaymentBatches;

  constructor(private readonly deps: PaymentsDeps) {
    this.limits = deps.limits ?? defaultPaymentLimits;
    this.batches = new PaymentBatches(deps);
  }

  /** The bank's ledger account; the same id and fields each start, so this is safe to repeat. */
  async ensureSystemAccounts(): Promise<void> {
    await this.deps.ledger.createAccount({
      id: bankAccountId,
      currency: 'CNY',
      code: bankAccountCode,
      noOverdraft: false,
    });
  }

  // ---- cards

  bindCard(
    userId: string,
    input: { readonly bank: BankCode; readonly last4: string },
  ): Promise<Card> {
    return bindCard(this.deps, userId, input);
  }

  listCards(userId: string): Promise<Card[]> {
    return listCards(this.deps.sql, userId);
  }

  unbindCard(userId: string, cardId: string): Promise<void> {
    return unbindUserCard(this.deps, userId, cardId);
  }

  // ---- money: checks in precedence order (target, PIN, limits, then funds in the ledger)

  /** Bank card → wallet. Confirmed with the PIN: it spends the user's money at the bank. */
  async topUp(user: AuthUser, input: CardPaymentInput): Promise<PaymentOutcome> {
    const card = await requireCard(this.deps.sql, user.id, input.cardId);
    await this.deps.identity.verifyPin(user, input.pin);
    return this.pay({
      ...this.baseIntent('topup', user, input),
      memo: null,
      debitAccountId: bankAccountId,
      creditAccountId: user.walletAccountId,
      card,
      payee: null,
      shop: null,
      refundOf: null,
      scene: 'topup',
    });
  }

  /** Wallet → bank card: outgoing money, so it counts toward the unverified send limit. */
  async withdraw(user: AuthUser, input: CardPaymentInput): Promise<PaymentOutcome> {
    const card = await requireCard(this.deps.sql, user.id, input.cardId);
    await this.deps.identity.verifyPin(user, input.pin);
    return this.pay({
      ...this.baseIntent('withdraw', user, input),
      memo: null,
      debitAccountId: user.walletAccountId,
      creditAccountId: bankAccountId,
      card,
      payee: null,
      shop: null,
      refundOf: null,
    });
  }

  /** Wallet → another user's wallet, found by mobile number or user id. */
  async transfer(user: AuthUser, input: TransferInput): Promise<PaymentOutcome> {
    const payee = await this.findRecipient(input);
    if (payee.id === user.id)
      throw new DomainError('payments.cannot_pay_self', { detail: 'choose another recipient' });
    await this.deps.identity.verifyPin(user, input.pin);
    return this.pay({
      ...this.baseIntent('p2p', user, input),
      memo: input.memo,
      debitAccountId: user.walletAccountId,
      creditAccountId: payee.walletAccountId,
      card: null,
      payee,
      shop: null,
      refundOf: null,
      scene: 'p2p_transfer',
    });
  }

  /**
   * Wallet → a shop's account. `Shops` has already resolved the code, refused the payer's own
   * shop and checked the amount; the PIN, limits and funds are checked here as for a transfer.
   */
  async payShop(user: AuthUser, input: ShopPaymentInput): Promise<PaymentOutcome> {
    const owner = await this.deps.identity.getUser(input.target.ownerUserId);
    assert(owner !== undefined, 'a shop has an owner');
    if (input.pin === null) await this.deps.identity.assertCanPay(user);
    else await this.deps.identity.verifyPin(user, input.pin);
    const paying = this.pay({
      ...this.baseIntent('shop', user, input),
      memo: null,
      debitAccountId: user.walletAccountId,
      creditAccountId: input.target.accountId,
      card: null,
      payee: owner,
      shop: input.target,
      refundOf: null,
      scene: input.target.code.startsWith('charge:') ? 'payment_code' : 'shop_qr',
      offerId: input.offerId,
    });
    // Another payer's live payment of the same order holds its unique index.
    return paying.catch((error: unknown) => {
      if (isUniqueViolation(error, 'payments_shop_order_paid'))
        throw new DomainError('payments.order_already_paid', {
          detail: 'this order is already paid',
        });
      throw error;
    });
  }

  /**
   * Shop account → the customer's wallet, all or part of a shop payment, by its owner. Refunds
   * of one payment are checked against its amount under its row lock (see `open`). No PIN: the
   * money leaves the shop, not the owner's wallet, and goes back where it came from.
   */
  async refundShopPayment(owner: AuthUser, input: RefundInput): Promise<PaymentOutcome> {
    const customer = await this.deps.identity.getUser(input.payment.userId);
    assert(customer !== undefined, 'a shop payment has a payer');
    return this.pay({
      kind: 'refund',
      user: owner,
      requestKey: input.requestKey,
      amountMinor: input.amountMinor,
      memo: null,
      debitAccountId: input.target.accountId,
      creditAccountId: customer.walletAccountId,
      card: null,
      payee: customer,
      shop: input.target,
      refundOf: { paymentId: input.payment.id, amountMinor: input.payment.amountMinor, discount: input.payment.discount ?? null },
      respond: null,
    });
  }

  /**
   * Wallet → a red packet's escrow account: the whole amount when the packet is sent. The caller
   * (`RedPackets`) has verified the PIN; limits and funds are checked here as for a transfer, and
   * the unverified send limit counts red packets. The packet id is the request's counterparty, so
   * the same Idempotency-Key always funds the same packet, once.
   */
  async fundRedPacket(user: AuthUser, input: Omit<MoneyInput, 'pin'> & { readonly escrowAccountId: string; readonly memo: string; readonly target: RedPacketTarget }): Promise<PaymentOutcome> {
    return this.pay({
      ...this.baseIntent('redpacket', user, input),
      memo: input.memo,
      debitAccountId: user.walletAccountId,
      creditAccountId: input.escrowAccountId,
      card: null,
      payee: null,
      shop: null,
      refundOf: null,
      redPacket: input.target,
    });
  }

  /** The discount a payment of this scene and amount would get now: shown before the PIN. */
  async quoteDiscount(user: AuthUser, scene: PaymentScene, amountMinor: bigint): Promise<DiscountQuote | undefined> {
    return this.deps.discounts?.quote({ scene, user, amountMinor });
  }

  /** The live payment of a request, if any: how a red packet's sweep learns whether it was funded. */
  async livePayment(request: { readonly userId: string; readonly kind: PaymentKind; readonly requestKey: string }): Promise<PaymentRow | undefined> {
    return selectLivePayment(this.deps.sql, request);
  }

  private baseIntent(kind: PaymentKind, user: AuthUser, input: Omit<MoneyInput, 'pin'>) {
    return { kind, user, requestKey: input.requestKey, amountMinor: input.amountMinor, respond: input.respond ?? null };
  }

  private async findRecipient(input: TransferInput): Promise<AuthUser> {
    if ((input.toMobile === undefined) === (input.toUserId === undefined)) {
      throw new DomainError('request.invalid', {
        detail: 'name the recipient by exactly one of toMobile and toUserId',
      });
    }
    const recipient =
      input.toUserId !== undefined
        ? await this.deps.identity.getUser(input.toUserId)
        : await this.deps.identity.findByMobile(input.toMobile ?? '');
    if (recipient === undefined)
      throw new DomainError('payments.recipient_not_found', {
        detail: 'no qianbao user has this mobile number or id',
      });
    return recipient;
  }

  /**
   * Pays an intent, with the best discount the marketing engine reserves for its scene. A
   * reservation the payment did not use (it failed, or an earlier attempt had paid) is given back.
   * When the campaign's budget ran out between the decision and the ledger (the ledger refused the
   * discount leg, so nothing moved), the payer who confirmed that offer is told so (409); one who
   * named none pays the price they typed, without it.
   */
  private async pay(intent: Intent): Promise<PaymentOutcome> {
    const engine = this.deps.discounts;
    const scene = intent.scene ?? null;
    const discount = engine === undefined || scene === null || intent.discount === null ? undefined : await engine.apply({ scene, user: intent.user, amountMinor: intent.amountMinor, requestKey: intent.requestKey, offerId: intent.offerId });
    if (discount === undefined && intent.offerId !== undefined && intent.discount !== null)
      throw new DomainError('marketing.offer_changed', { detail: 'the discount you were shown no longer applies; look at the price again and confirm' });
    const discounted: Intent = { ...intent, discount: discount ?? null };
    try {
      const outcome = isDirect(discounted) ? await this.payDirect(discounted) : await this.settle(await this.open(discounted));
      if (discount !== undefined && !outcome.created) await discount.release();
      return outcome;
    } catch (error) {
      if (discount === undefined) throw error;
      await discount.release();
      if (!isBudgetSpent(error)) throw error;
      await engine?.budgetRefused(discount.campaignId);
      if (intent.offerId !== undefined) throw new DomainError('marketing.offer_changed', { detail: 'the discount you were shown ran out just now; nothing was paid: look at the price again and confirm' });
      // Decided on a stale budget: decide once more on the one just read (what is left may still
      // cover part of it); refused again, pay without one.
      return this.pay(intent.budgetReread === true ? { ...intent, discount: null } : { ...intent, budgetReread: true });
    }
  }

  /**
   * A payment nothing else constrains (no daily limit, no order to claim, no refund to bound):
   * its row and bills are written, already succeeded, by the ledger batch that moves its money,
   * in the same transaction (a RecordWriter), so they exist exactly when the money moved and no
   * pending state is needed. A retry finds the transfer (`exists`) and the row with it.
   */
  private async payDirect(intent: Intent): Promise<PaymentOutcome> {
    const fingerprint = intentFingerprint(intent);
    const payment = newPaymentRow(intent, this.deps.ids.next('pay'), this.deps.clock.now(), fingerprint);
    const bills = billsFor(intent, payment);
    const [payerBill] = bills;
    assert(payerBill !== undefined, 'a payment has its payer\'s bill');
    const bill = toBill(directBillRow(payment, payerBill));
    // The response, stored with the payment in the ledger's transaction (STYLE.md "Idempotency").
    const storedBody = intent.respond?.render(bill);
    const completion =
      intent.respond === null || storedBody === undefined
        ? null
        : { claim: intent.respond.claim, response: { statusCode: 201, contentType: jsonContentType, body: storedBody } };
    const outcome = await this.deps.ledger.legsWithRecord(
      ledgerLegsOf(payment),
      { write: recordDirectPayments, id: payment.id, row: { payment, bills, completion } },
    );
    const result = paymentResult(payment, outcome.results);
    const recorded = outcome.recorded;
    if (result.status === 'failed') {
      // The same key with another amount or payee: the ledger names the field. It may be an
      // earlier attempt of this very request with another discount: its row says which.
      if (result.error.startsWith('ledger.exists_with_different_')) {
        const earlier = await selectLivePayment(this.deps.sql, { userId: payment.user_id, kind: payment.kind, requestKey: payment.request_key });
        if (earlier === undefined) throw new DomainError('idempotency.key_reused', { detail: 'this Idempotency-Key was used for a different payment; use a new key' });
        return this.settle(sameRequest(earlier, fingerprint)).then((settled) => ({ ...settled, created: false }));
      }
      throw new DomainError(result.error, { detail: result.detail });
    }
    if (result.status === 'created' && recorded)
      return storedBody === undefined ? { bill, created: true } : { bill, created: true, storedBody };
    // The transfer existed, or an earlier attempt's pending row holds the key: settle by that row.
    const live = await selectLivePayment(this.deps.sql, { userId: payment.user_id, kind: payment.kind, requestKey: payment.request_key });
    assert(live !== undefined, 'a payment whose transfer exists has a live row');
    sameRequest(live, fingerprint);
    return this.settle(live).then((outcome) => ({ ...outcome, created: result.status === 'created' }));
  }

  /**
   * Records the payment as pending, or finds the live attempt of the same request. Limited
   * payments lock the user's guard row first, so today's sums and this insert are one step.
   */
  private async open(intent: Intent): Promise<PaymentRow> {
    const { kind, user, requestKey } = intent;
    const request = { userId: user.id, kind, requestKey };
    const fingerprint = intentFingerprint(intent);
    const limited = isLimited(kind, user.realNameVerified);
    const now = this.deps.clock.now();
    const day = shanghaiDay(now.getTime());
    const record = (id: string): NewPayment => newPaymentRow(intent, id, now, fingerprint);
    return this.deps.sql.begin(async (tx) => {
      if (limited) await lockUserGuard(tx, user.id);
      const refundOf = intent.refundOf;
      if (refundOf !== null) await lockPayment(tx, refundOf.paymentId);
      const existing = await selectLivePayment(tx, request);
      if (existing !== undefined) return sameRequest(existing, fingerprint);
      if (refundOf !== null) {
        const refundedMinor = await selectRefundedMinor(tx, refundOf.paymentId);
        if (refundedMinor + intent.amountMinor > refundOf.amountMinor) {
          throw new DomainError('payments.refund_exceeds_payment', {
            detail: `at most ${(refundOf.amountMinor - refundedMinor).toString()} fen is left to refund`,
            remainingMinor: refundOf.amountMinor - refundedMinor,
          });
        }
      }
      if (limited) {
        const sums = await selectDaySums(tx, user.id, day);
        const breach = limitBreach({
          kind,
          amountMinor: intent.amountMinor,
          sums,
          realNameVerified: user.realNameVerified,
          limits: this.limits,
        });
        if (breach !== undefined) throw limitError(breach);
      }
      // A discounted payment's refund gives the campaign back its share, in proportion.
      const returning = refundOf?.discount === null || refundOf?.discount === undefined ? undefined : discountReturn(refundOf.discount, refundOf.amountMinor, await selectRefundedMinor(tx, refundOf.paymentId), intent.amountMinor);
      const row = record(this.deps.ids.next('pay'));
      const inserted = await insertPendingPayment(tx, returning === undefined ? row : { ...row, ...returning });
      if (inserted === undefined) {
        // An unlimited payment takes no lock: a concurrent attempt of the same request won.
        const raced = await selectLivePayment(tx, request);
        assert(raced !== undefined, 'the conflicting live payment is visible');
        return sameRequest(raced, fingerprint);
      }
      await insertBills(tx, billsFor(intent, inserted));
      return inserted;
    });
  }

  /** Moves the money of a pending payment (once, by its ledger id) and records the outcome. */
  private async settle(payment: PaymentRow): Promise<PaymentOutcome> {
    if (payment.status === 'succeeded')
      return { bill: await this.bill(payment.user_id, payment.id), created: false };
    const result = paymentResult(payment, await this.deps.ledger.submit(submissionOf(payment)));
    const now = this.deps.clock.now();
    if (result.status === 'failed') {
      // The writer's results carry the full, registered code (`ledger.insufficient_funds`).
      const code = result.error;
      const failed = await markFailed(this.deps.sql, payment.id, {
        code,
        detail: result.detail,
        now,
      });
      if (failed === undefined) return this.settledElsewhere(payment);
      throw new DomainError(code, { detail: result.detail });
    }
    const created = result.status === 'created';
    const bill = await this.batches.succeed(payment.id);
    if (bill !== undefined) return { bill: toBill(bill), created };
    const live = await selectLivePayment(this.deps.sql, {
      userId: payment.user_id,
      kind: payment.kind,
      requestKey: payment.request_key,
    });
    assert(live !== undefined, 'a payment whose transfer exists has a live row');
    return { bill: await this.bill(payment.user_id, live.id), created };
  }

  /** Our submission failed but the row had already left pending: report what the row says. */
  private async settledElsewhere(payment: PaymentRow): Promise<PaymentOutcome> {
    const row = await selectPayment(this.deps.sql, payment.id);
    assert(row !== undefined, 'a payment row is never deleted');
    if (row.status === 'succeeded')
      return { bill: await this.bill(row.user_id, row.id), created: false };
    assert(row.failure_code !== null, 'a failed payment has a failure code');
    throw new DomainError(
      row.failure_code,
      row.failure_detail === null ? {} : { detail: row.failure_detail },
    );
  }

  /**
   * Settles payments left pending by requests that died between `open` and `settle` (the
   * maintenance loop's job): a transfer that reached the ledger makes the payment succeeded;
   * one that did not makes it failed, which frees its key. The sweep never submits: a user who
   * saw an error may already have paid again under a new key. Should a stalled attempt's
   * transfer land after this, that attempt's own `settle` turns the payment back to succeeded.
   */
  async settleStale(): Promise<{ readonly succeeded: number; readonly failed: number }> {
    const before = new Date(this.deps.clock.nowMs() - pendingStaleAfterMs);
    const rows = await selectStalePending(this.deps.sql, before, staleSweepSizeMax);
    let succeeded = 0;
    let failed = 0;
    for (const row of rows) {
      const now = this.deps.clock.now();
      if (await this.hasLanded(row)) {
        if ((await markSucceeded(this.deps.sql, row.id, now)) !== undefined) succeeded += 1;
      } else {
        const abandoned = {
          code: 'payments.payment_abandoned',
          detail: 'the request stopped before the money moved',
          now,
        };
        if ((await markFailed(this.deps.sql, row.id, abandoned)) !== undefined) failed += 1;
      }
    }
    return { succeeded, failed };
  }

  /** Whether this payment's money moved: its ledger transfer exists, with its amount and payer. */
  private async hasLanded(row: PaymentRow): Promise<boolean> {
    const found = await this.deps.ledger.getTransfer(row.ledger_transfer_id);
    if (found === undefined || found.status === 'failed') return false;
    return (
      found.transfer.amountMinor === row.amount_minor &&
      found.transfer.debitAccountId === row.debit_account_id
    );
  }

  // ---- bills

  listBills(userId: string, query: BillQuery): Promise<BillPage> {
    return listBills(this.deps.sql, userId, query);
  }

  getBill(userId: string, billId: string): Promise<Bill> {
    return this.bill(userId, billId);
  }

  private async bill(userId: string, paymentId: string): Promise<Bill> {
    return requireBill(await this.batches.bill({ userId, paymentId }), paymentId);
  }

  /** A month's totals; without a month, the current Asia/Shanghai month. */
  monthSummary(userId: string, month?: string): Promise<MonthSummary> {
    return monthSummary(this.deps.sql, userId, month ?? shanghaiMonth(this.deps.clock.nowMs()));
  }
}
