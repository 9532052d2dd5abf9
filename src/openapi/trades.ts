import type { AuthUser, Identity } from '../identity/index.ts';
import { batched } from '../kernel/batch.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import type { Random } from '../kernel/random.ts';
import type { Bill, PayCodes, Payments, Shops } from '../payments/index.ts';
import type { LiveApp } from './apps.ts';
import { buyerId, content, formatAmount, gmt8, GatewayError, maskLogon, merchantIdPattern, newTradeNo, parseAmount } from './model.ts';
import type { Notifications } from './notifications.ts';
import { signedNotification } from './signing.ts';

/**
 * Trades made through the gateway are real payments: paying one is a shop payment from the
 * buyer's wallet to the app's merchant account (PIN, limits, the ledger), a refund is that shop's
 * refund, and everything is idempotent as Alipay defines it — `out_trade_no` (same content, same
 * trade; different content, ACQ.CONTEXT_INCONSISTENT), `out_request_no` (a replay moves no money,
 * `fund_change` N). Status changes queue notifications to the trade's notify_url.
 */
export interface TradeRow {
  trade_no: string;
  app_id: string;
  out_trade_no: string;
  method: string;
  total_minor: bigint;
  subject: string;
  body: string | null;
  content_sha256: string;
  status: 'WAIT_BUYER_PAY' | 'TRADE_SUCCESS' | 'TRADE_CLOSED' | 'TRADE_FINISHED';
  buyer_user_id: string | null;
  claimed_at: Date | null;
  payment_id: string | null;
  charge_id: string | null;
  refunded_minor: bigint;
  notify_url: string | null;
  return_url: string | null;
  expires_at: Date;
  created_at: Date;
  paid_at: Date | null;
  closed_at: Date | null;
}

export type Biz = Readonly<Record<string, unknown>>;

export interface TradeCall {
  readonly app: LiveApp;
  readonly method: string;
  readonly biz: Biz;
  readonly notifyUrl: string | undefined;
  readonly returnUrl: string | undefined;
  /** Where buyers open the wallet (for QR codes and the cashier). */
  readonly baseUrl: string;
}

export interface TradesDeps {
  readonly sql: Sql;
  readonly clock: Clock;
  readonly random: Random;
  readonly identity: Identity;
  readonly payments: Payments;
  readonly shops: Shops;
  readonly payCodes: PayCodes;
  readonly notifications: Notifications;
}

const str = (biz: Biz, key: string): string | undefined => (typeof biz[key] === 'string' && biz[key] !== '' ? (biz[key]) : undefined);
const invalid = (subMsg: string): GatewayError => new GatewayError('40004', 'ACQ.INVALID_PARAMETER', subMsg);
const twoHoursMs = 2 * 3_600_000;
/** How long a paid trade can be refunded; after it the trade is TRADE_FINISHED (Alipay's default is 3 months). */
export const refundWindowMs = 90 * 86_400_000;
/** A cashier claim older than this with no payment behind it is settled by the pass. */
const claimStaleMs = 10 * 60_000;

function timeoutMs(biz: Biz): number {
  const express = str(biz, 'timeout_express');
  const match = express === undefined ? null : /^([0-9]{1,4})([mhd])$/.exec(express);
  if (match === null) return twoHoursMs;
  const unit = match[2] === 'm' ? 60_000 : match[2] === 'h' ? 3_600_000 : 86_400_000;
  return Math.min(15 * 86_400_000, Number(match[1]) * unit);
}

interface TradeKey {
  readonly appId: string;
  readonly tradeNo: string | undefined;
  readonly outTradeNo: string | undefined;
}

export class Trades {
  private readonly remembered = new Set<string>();

  constructor(private readonly deps: TradesDeps) {}

  // ---- creation (precreate, create, page/wap pay)

  /** A trade for an out_trade_no: created once; the same content answers it again. */
  async open(call: TradeCall, extra: { readonly buyerUserId?: string } = {}): Promise<TradeRow> {
    const outTradeNo = str(call.biz, 'out_trade_no');
    if (outTradeNo === undefined || !merchantIdPattern.test(outTradeNo)) throw invalid('out_trade_no is required: up to 64 letters, digits and underscores');
    const amount = parseAmount(call.biz['total_amount']);
    if (amount === undefined) throw invalid('total_amount must be yuan with at most 2 decimals, 0.01 to 100000000.00');
    const subject = str(call.biz, 'subject');
    if (subject === undefined || subject.length > 256) throw invalid('subject is required (at most 256 characters)');
    const sha = content([call.method, amount.toString(), subject, extra.buyerUserId ?? null]);
    const now = this.deps.clock.nowMs();
    const [inserted] = await this.deps.sql<TradeRow[]>`
      INSERT INTO openapi_trades (trade_no, app_id, out_trade_no, method, total_minor, subject, body, content_sha256, status, buyer_user_id, notify_url, return_url, expires_at, created_at)
      VALUES (${newTradeNo(now, this.deps.random)}, ${call.app.row.app_id}, ${outTradeNo}, ${call.method}, ${amount.toString()}, ${subject}, ${str(call.biz, 'body') ?? null}, ${sha}, 'WAIT_BUYER_PAY',
        ${extra.buyerUserId ?? null}, ${call.notifyUrl ?? null}, ${call.returnUrl ?? null}, ${new Date(now + timeoutMs(call.biz))}, ${new Date(now)})
      ON CONFLICT (app_id, out_trade_no) DO NOTHING RETURNING *`;
    if (inserted !== undefined) return inserted;
    const existing = await this.find(call.app, { out_trade_no: outTradeNo });
    if (existing.content_sha256 !== sha) throw new GatewayError('40004', 'ACQ.CONTEXT_INCONSISTENT', '交易信息被篡改: this out_trade_no was used with other content', { out_trade_no: outTradeNo });
    if (existing.status === 'TRADE_SUCCESS' || existing.status === 'TRADE_FINISHED') throw new GatewayError('40004', 'ACQ.TRADE_HAS_SUCCESS', '交易已被支付', { out_trade_no: outTradeNo, trade_no: existing.trade_no });
    if (existing.status === 'TRADE_CLOSED') throw new GatewayError('40004', 'ACQ.TRADE_HAS_CLOSE', '交易已经关闭', { out_trade_no: outTradeNo, trade_no: existing.trade_no });
    return existing;
  }

  /**
   * The trades named by the calls of one tick: `trade_no` (wins) or `out_trade_no`, each within
   * its app, in one statement. Queries are most of a gateway's calls, and a statement a call cost
   * this process and PostgreSQL more than the lookup itself. The statement reads the one table by
   * its two unique indexes (`= ANY` of the tick's values, a pair of apps and numbers matched to
   * its call here): PostgreSQL plans it in a fraction of what a join of the calls to the table
   * cost to plan, which was most of its time a query.
   */
  private readonly lookup = batched<TradeKey, TradeRow | undefined>(async (keys) => {
    const distinct = (values: readonly (string | undefined)[]): string[] => [...new Set(values.filter((value): value is string => value !== undefined))];
    const byTradeNo = keys.filter((key) => key.tradeNo !== undefined);
    const byOutTradeNo = keys.filter((key) => key.tradeNo === undefined && key.outTradeNo !== undefined);
    const rows = await this.deps.sql<TradeRow[]>`
      SELECT * FROM openapi_trades
      WHERE trade_no = ANY(${distinct(byTradeNo.map((key) => key.tradeNo))}::text[])
        OR (app_id = ANY(${distinct(byOutTradeNo.map((key) => key.appId))}::text[])
          AND out_trade_no = ANY(${distinct(byOutTradeNo.map((key) => key.outTradeNo))}::text[]))`;
    return keys.map((key) =>
      key.tradeNo !== undefined
        ? rows.find((row) => row.trade_no === key.tradeNo && row.app_id === key.appId)
        : rows.find((row) => row.out_trade_no === key.outTradeNo && row.app_id === key.appId),
    );
  });

  /** The app's trade named by trade_no (wins) or out_trade_no, brought up to date first. */
  async find(app: LiveApp, biz: Biz): Promise<TradeRow> {
    const tradeNo = str(biz, 'trade_no');
    const outTradeNo = str(biz, 'out_trade_no');
    if (tradeNo === undefined && outTradeNo === undefined) throw invalid('name the trade by trade_no or out_trade_no');
    const row = await this.lookup({ appId: app.row.app_id, tradeNo, outTradeNo });
    if (row === undefined) throw new GatewayError('40004', 'ACQ.TRADE_NOT_EXIST', '交易不存在', { out_trade_no: outTradeNo ?? '', buyer_pay_amount: '0.00', invoice_amount: '0.00', point_amount: '0.00', receipt_amount: '0.00' });
    return this.refresh(row);
  }

  /** A trade's state now: a charge confirmed since, or its time run out. */
  private async refresh(row: TradeRow): Promise<TradeRow> {
    if (row.status === 'TRADE_SUCCESS' && row.paid_at !== null && row.paid_at.getTime() + refundWindowMs <= this.deps.clock.nowMs()) return (await this.finish(row)) ?? row;
    if (row.status !== 'WAIT_BUYER_PAY') return row;
    if (row.charge_id !== null) {
      const [charge] = await this.deps.sql<{ status: string; payment_id: string | null; payer_user_id: string }[]>`SELECT status, payment_id, payer_user_id FROM payments_code_charges WHERE id = ${row.charge_id}`;
      if (charge?.status === 'paid' && charge.payment_id !== null) return (await this.succeed(row, charge.payer_user_id, charge.payment_id)) ?? row;
      if (charge !== undefined && ['failed', 'declined', 'expired'].includes(charge.status)) return (await this.close(row, 'buyer did not pay')) ?? row;
      return row;
    }
    if (row.expires_at.getTime() <= this.deps.clock.nowMs() && row.buyer_user_id === null) return (await this.close(row, 'timeout')) ?? row;
    return row;
  }

  private async succeed(row: TradeRow, buyerUserId: string, paymentId: string): Promise<TradeRow | undefined> {
    const now = this.deps.clock.now();
    const [updated] = await this.deps.sql<TradeRow[]>`
      UPDATE openapi_trades SET status = 'TRADE_SUCCESS', buyer_user_id = ${buyerUserId}, payment_id = ${paymentId}, paid_at = ${now}
      WHERE trade_no = ${row.trade_no} AND status = 'WAIT_BUYER_PAY' RETURNING *`;
    if (updated !== undefined) await this.notify(updated, 'TRADE_SUCCESS', {});
    return updated ?? (await this.byNo(row.trade_no));
  }

  /** The refund window is over: the trade is final. */
  private async finish(row: TradeRow): Promise<TradeRow | undefined> {
    const [updated] = await this.deps.sql<TradeRow[]>`
      UPDATE openapi_trades SET status = 'TRADE_FINISHED', closed_at = ${this.deps.clock.now()} WHERE trade_no = ${row.trade_no} AND status = 'TRADE_SUCCESS' RETURNING *`;
    if (updated !== undefined) await this.notify(updated, 'TRADE_FINISHED', {});
    return updated;
  }

  private async close(row: TradeRow, why: string): Promise<TradeRow | undefined> {
    const [updated] = await this.deps.sql<TradeRow[]>`
      UPDATE openapi_trades SET status = 'TRADE_CLOSED', closed_at = ${this.deps.clock.now()}
      WHERE trade_no = ${row.trade_no} AND status = 'WAIT_BUYER_PAY' AND (payment_id IS NULL) RETURNING *`;
    if (updated !== undefined) await this.notify(updated, 'TRADE_CLOSED', { close_reason: why });
    return updated;
  }

  private async byNo(tradeNo: string): Promise<TradeRow | undefined> {
    const [row] = await this.deps.sql<TradeRow[]>`SELECT * FROM openapi_trades WHERE trade_no = ${tradeNo}`;
    return row;
  }

  // ---- the buyer's side (the wallet's cashier)

  /** What a buyer sees before the PIN: the app's name, the merchant, the subject and the amount. */
  async forBuyer(tradeNo: string): Promise<TradeRow & { app_name: string; shop_name: string }> {
    const [row] = await this.deps.sql<(TradeRow & { app_name: string; shop_name: string })[]>`
      SELECT t.*, a.name AS app_name, s.name AS shop_name FROM openapi_trades t JOIN openapi_apps a ON a.app_id = t.app_id JOIN payments_shops s ON s.id = a.shop_id
      WHERE t.trade_no = ${tradeNo}`;
    if (row === undefined) throw new DomainError('openapi.trade_not_found', { detail: `no trade ${tradeNo}` });
    const fresh = await this.refresh(row);
    return { ...row, ...fresh };
  }

  /**
   * The buyer pays with the PIN: the trade is claimed for this buyer (another buyer is refused),
   * then paid as a shop payment under a key derived from the trade, so a retry pays once.
   */
  async payAsBuyer(buyer: AuthUser, trade: TradeRow, pin: string, app: LiveApp): Promise<{ readonly trade: TradeRow; readonly bill: Bill }> {
    const tradeNo = trade.trade_no;
    if (trade.status !== 'WAIT_BUYER_PAY' && !(trade.status === 'TRADE_SUCCESS' && trade.buyer_user_id === buyer.id)) throw new DomainError('openapi.trade_not_payable', { detail: `this trade is ${trade.status}` });
    if (trade.buyer_user_id !== null && trade.buyer_user_id !== buyer.id) throw new DomainError('openapi.trade_not_payable', { detail: 'this trade is being paid by someone else' });
    const claimed = await this.deps.sql`
      UPDATE openapi_trades SET buyer_user_id = ${buyer.id}, claimed_at = coalesce(claimed_at, ${this.deps.clock.now()})
      WHERE trade_no = ${tradeNo} AND (buyer_user_id IS NULL OR buyer_user_id = ${buyer.id}) AND status IN ('WAIT_BUYER_PAY', 'TRADE_SUCCESS') RETURNING trade_no`;
    if (claimed.length === 0) throw new DomainError('openapi.trade_not_payable', { detail: 'this trade can no longer be paid' });
    try {
      const outcome = await this.deps.payments.payShop(buyer, {
        amountMinor: trade.total_minor,
        pin,
        requestKey: `trade:${tradeNo}`,
        target: { shopId: app.shop.id, shopName: app.row.name, accountId: app.shop.accountId, ownerUserId: app.shop.ownerUserId, orderId: null, code: `qb-trade:${tradeNo}` },
      });
      await this.deps.sql`INSERT INTO openapi_buyers (buyer_id, user_id) VALUES (${buyerId(buyer.id)}, ${buyer.id}) ON CONFLICT DO NOTHING`;
      const done = (await this.succeed(trade, buyer.id, outcome.bill.id)) ?? trade;
      return { trade: done, bill: outcome.bill };
    } catch (error) {
      // Nothing moved: the trade is free for another attempt.
      await this.release(tradeNo);
      throw error;
    }
  }

  /** Frees a cashier claim that moved no money (a trade created for a named buyer keeps its buyer). */
  private async release(tradeNo: string): Promise<void> {
    await this.deps.sql`
      UPDATE openapi_trades SET buyer_user_id = NULL, claimed_at = NULL
      WHERE trade_no = ${tradeNo} AND status = 'WAIT_BUYER_PAY' AND payment_id IS NULL AND charge_id IS NULL AND claimed_at IS NOT NULL`;
  }

  /**
   * A claim whose request stopped (a crash between claiming and paying): after 10 minutes the
   * payment it started decides — landed, the trade is paid; never started or failed, the claim is
   * freed for anyone; still pending, it waits for the payments' own sweep.
   */
  private async settleClaim(row: TradeRow): Promise<TradeRow> {
    if (row.buyer_user_id === null) return row;
    const live = await this.deps.payments.livePayment({ userId: row.buyer_user_id, kind: 'shop', requestKey: `trade:${row.trade_no}` });
    if (live?.status === 'succeeded') return (await this.succeed(row, row.buyer_user_id, live.id)) ?? row;
    if (live === undefined) await this.release(row.trade_no);
    return (await this.byNo(row.trade_no)) ?? row;
  }

  // ---- methods

  /** `alipay.trade.pay`: the merchant charges the buyer's payment code. */
  async pay(call: TradeCall): Promise<Record<string, unknown>> {
    const authCode = str(call.biz, 'auth_code');
    if (authCode === undefined || !/^[0-9]{16,24}$/.test(authCode)) throw new GatewayError('40004', 'ACQ.PAYMENT_AUTH_CODE_INVALID', '支付授权码无效');
    const trade = await this.open(call);
    if (trade.status === 'TRADE_SUCCESS') return this.paidFields(trade);
    const owner = await this.deps.identity.getUser(call.app.shop.ownerUserId);
    if (owner === undefined) throw new GatewayError('40004', 'ACQ.SYSTEM_ERROR', 'the merchant is missing');
    let charge;
    try {
      charge = await this.deps.payCodes.charge(owner, { code: authCode, amountMinor: trade.total_minor, requestKey: `trade:${trade.trade_no}` });
    } catch (error) {
      if (error instanceof DomainError && error.code === 'payments.pay_code_invalid') throw new GatewayError('40004', 'ACQ.PAYMENT_AUTH_CODE_INVALID', '支付授权码无效', { out_trade_no: trade.out_trade_no });
      throw error;
    }
    await this.deps.sql`UPDATE openapi_trades SET charge_id = ${charge.id} WHERE trade_no = ${trade.trade_no} AND charge_id IS NULL`;
    const fresh = await this.refresh({ ...trade, charge_id: charge.id });
    if (fresh.status === 'TRADE_SUCCESS') return this.paidFields(fresh);
    if (charge.status === 'awaiting_pin') throw new GatewayError('10003', '', '', { out_trade_no: trade.out_trade_no, trade_no: trade.trade_no });
    const sub = charge.failureCode === 'ledger.insufficient_funds' ? 'ACQ.BUYER_BALANCE_NOT_ENOUGH' : 'ACQ.PAYMENT_FAIL';
    throw new GatewayError('40004', sub, charge.failureCode ?? 'payment failed', { out_trade_no: trade.out_trade_no, trade_no: trade.trade_no });
  }

  /** The buyer as the app sees it; the id shown is remembered (once per process) so it can be named back. */
  private async buyerFields(row: TradeRow): Promise<Record<string, string>> {
    if (row.buyer_user_id === null) return {};
    const buyer = await this.deps.identity.getUser(row.buyer_user_id);
    const id = buyerId(row.buyer_user_id);
    if (!this.remembered.has(id)) {
      await this.deps.sql`INSERT INTO openapi_buyers (buyer_id, user_id) VALUES (${id}, ${row.buyer_user_id}) ON CONFLICT DO NOTHING`;
      if (this.remembered.size > 100_000) this.remembered.clear();
      this.remembered.add(id);
    }
    return { buyer_user_id: id, buyer_logon_id: buyer === undefined ? '' : maskLogon(buyer.mobile) };
  }

  private async paidFields(row: TradeRow): Promise<Record<string, unknown>> {
    const amount = formatAmount(row.total_minor);
    return {
      trade_no: row.trade_no,
      out_trade_no: row.out_trade_no,
      ...(await this.buyerFields(row)),
      total_amount: amount,
      receipt_amount: amount,
      buyer_pay_amount: amount,
      point_amount: '0.00',
      invoice_amount: amount,
      gmt_payment: gmt8((row.paid_at ?? row.created_at).getTime()),
      fund_bill_list: [{ fund_channel: 'ALIPAYACCOUNT', amount, real_amount: amount }],
    };
  }

  async query(call: TradeCall): Promise<Record<string, unknown>> {
    const row = await this.find(call.app, call.biz);
    const paid = row.payment_id !== null;
    const amount = formatAmount(row.total_minor);
    return {
      trade_no: row.trade_no,
      out_trade_no: row.out_trade_no,
      ...(await this.buyerFields(row)),
      trade_status: row.status,
      total_amount: amount,
      buyer_pay_amount: paid ? amount : '0.00',
      point_amount: '0.00',
      invoice_amount: paid ? amount : '0.00',
      receipt_amount: paid ? amount : '0.00',
      ...(paid ? { send_pay_date: gmt8((row.paid_at ?? row.created_at).getTime()), fund_bill_list: [{ fund_channel: 'ALIPAYACCOUNT', amount, real_amount: amount }] } : {}),
    };
  }

  async closeCall(call: TradeCall): Promise<Record<string, unknown>> {
    const row = await this.find(call.app, call.biz);
    if (row.status === 'TRADE_CLOSED' && row.payment_id === null) return { trade_no: row.trade_no, out_trade_no: row.out_trade_no };
    if (row.status !== 'WAIT_BUYER_PAY' || row.buyer_user_id !== null || row.charge_id !== null) throw new GatewayError('40004', 'ACQ.TRADE_STATUS_ERROR', '交易状态不合法: only an unpaid trade nobody is paying can be closed', { out_trade_no: row.out_trade_no, trade_no: row.trade_no });
    const closed = await this.close(row, 'closed by the merchant');
    if (closed === undefined) throw new GatewayError('40004', 'ACQ.TRADE_STATUS_ERROR', '交易状态不合法', { out_trade_no: row.out_trade_no });
    return { trade_no: row.trade_no, out_trade_no: row.out_trade_no };
  }

  /** `alipay.trade.refund`: idempotent per (trade, out_request_no); `refund_fee` is cumulative. */
  async refund(call: TradeCall): Promise<Record<string, unknown>> {
    const row = await this.find(call.app, call.biz);
    const amount = parseAmount(call.biz['refund_amount']);
    if (amount === undefined) throw invalid('refund_amount must be yuan with at most 2 decimals');
    const requestNo = str(call.biz, 'out_request_no') ?? row.out_trade_no;
    if (!merchantIdPattern.test(requestNo)) throw invalid('out_request_no: up to 64 letters, digits and underscores');
    const echo = { out_trade_no: row.out_trade_no, trade_no: row.trade_no };
    const [earlier] = await this.deps.sql<{ amount_minor: bigint }[]>`SELECT amount_minor FROM openapi_refunds WHERE trade_no = ${row.trade_no} AND out_request_no = ${requestNo}`;
    if (earlier !== undefined) {
      if (earlier.amount_minor !== amount) throw new GatewayError('40004', 'ACQ.DISCORDANT_REPEAT_REQUEST', '不一致的请求: this out_request_no refunded another amount', echo);
      return this.refundFields(row, false);
    }
    if (row.status === 'TRADE_FINISHED') throw new GatewayError('40004', 'ACQ.TRADE_HAS_FINISHED', '交易已完结: the refund window is over', echo);
    if (row.payment_id === null || (row.status !== 'TRADE_SUCCESS' && row.status !== 'TRADE_CLOSED')) throw new GatewayError('40004', 'ACQ.TRADE_STATUS_ERROR', '交易状态不合法: the trade is not paid', echo);
    if (row.refunded_minor + amount > row.total_minor) throw new GatewayError('40004', 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '退款金额超限', echo);
    const owner = await this.deps.identity.getUser(call.app.shop.ownerUserId);
    if (owner === undefined) throw new GatewayError('40004', 'ACQ.SYSTEM_ERROR', 'the merchant is missing', echo);
    let outcome;
    try {
      outcome = await this.deps.shops.refund(owner, { paymentId: row.payment_id, amountMinor: amount, requestKey: `trade-refund:${row.trade_no}:${requestNo}` });
    } catch (error) {
      if (error instanceof DomainError && error.code === 'ledger.insufficient_funds') throw new GatewayError('40004', 'ACQ.SELLER_BALANCE_NOT_ENOUGH', '卖家余额不足', echo);
      if (error instanceof DomainError && error.code === 'payments.refund_exceeds_payment') throw new GatewayError('40004', 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '退款金额超限', echo);
      throw error;
    }
    const now = this.deps.clock.now();
    const updated = await this.deps.sql.begin(async (tx) => {
      const inserted = await tx`
        INSERT INTO openapi_refunds (trade_no, out_request_no, amount_minor, reason, payment_id, created_at)
        VALUES (${row.trade_no}, ${requestNo}, ${amount.toString()}, ${str(call.biz, 'refund_reason') ?? null}, ${outcome.bill.id}, ${now})
        ON CONFLICT DO NOTHING RETURNING trade_no`;
      if (inserted.length === 0) return undefined;
      const [trade] = await tx<TradeRow[]>`
        UPDATE openapi_trades SET refunded_minor = refunded_minor + ${amount.toString()},
          status = CASE WHEN refunded_minor + ${amount.toString()} = total_minor THEN 'TRADE_CLOSED' ELSE status END,
          closed_at = CASE WHEN refunded_minor + ${amount.toString()} = total_minor THEN ${now}::timestamptz ELSE closed_at END
        WHERE trade_no = ${row.trade_no} RETURNING *`;
      return trade;
    });
    if (updated === undefined) return this.refundFields((await this.byNo(row.trade_no)) ?? row, false);
    await this.notify(updated, updated.status, { out_biz_no: requestNo, refund_fee: formatAmount(updated.refunded_minor), gmt_refund: `${gmt8(now.getTime())}.${String(now.getMilliseconds()).padStart(3, '0')}` });
    return this.refundFields(updated, outcome.created);
  }

  private async refundFields(row: TradeRow, moved: boolean): Promise<Record<string, unknown>> {
    return { trade_no: row.trade_no, out_trade_no: row.out_trade_no, ...(await this.buyerFields(row)), fund_change: moved ? 'Y' : 'N', refund_fee: formatAmount(row.refunded_minor), gmt_refund_pay: gmt8(this.deps.clock.nowMs()), send_back_fee: '0.00' };
  }

  async refundQuery(call: TradeCall): Promise<Record<string, unknown>> {
    const row = await this.find(call.app, call.biz);
    const requestNo = str(call.biz, 'out_request_no');
    if (requestNo === undefined) throw invalid('out_request_no is required');
    const [refund] = await this.deps.sql<{ amount_minor: bigint; reason: string | null; created_at: Date }[]>`SELECT amount_minor, reason, created_at FROM openapi_refunds WHERE trade_no = ${row.trade_no} AND out_request_no = ${requestNo}`;
    const base = { trade_no: row.trade_no, out_trade_no: row.out_trade_no, out_request_no: requestNo, total_amount: formatAmount(row.total_minor) };
    if (refund === undefined) return base;
    const options = Array.isArray(call.biz['query_options']) ? (call.biz['query_options'] as unknown[]) : [];
    return { ...base, refund_amount: formatAmount(refund.amount_minor), refund_status: 'REFUND_SUCCESS', ...(refund.reason === null ? {} : { refund_reason: refund.reason }), ...(options.includes('gmt_refund_pay') ? { gmt_refund_pay: gmt8(refund.created_at.getTime()) } : {}) };
  }

  /** `alipay.trade.cancel`: an unpaid trade is closed; a paid one refunded in full. */
  async cancel(call: TradeCall): Promise<Record<string, unknown>> {
    let row: TradeRow;
    try {
      row = await this.find(call.app, call.biz);
    } catch (error) {
      if (error instanceof GatewayError && error.subCode === 'ACQ.TRADE_NOT_EXIST') return { out_trade_no: str(call.biz, 'out_trade_no') ?? '', retry_flag: 'N' };
      throw error;
    }
    const base = { trade_no: row.trade_no, out_trade_no: row.out_trade_no, retry_flag: 'N' };
    if (row.status === 'WAIT_BUYER_PAY') {
      if (row.charge_id !== null) await this.deps.sql`UPDATE payments_code_charges SET status = 'declined' WHERE id = ${row.charge_id} AND status = 'awaiting_pin'`;
      await this.close({ ...row, charge_id: null }, 'cancelled by the merchant');
      return { ...base, action: 'close' };
    }
    if (row.status === 'TRADE_SUCCESS' && row.refunded_minor < row.total_minor) {
      await this.refund({ ...call, biz: { trade_no: row.trade_no, refund_amount: formatAmount(row.total_minor - row.refunded_minor), out_request_no: `cancel_${row.trade_no}` } });
      return { ...base, action: 'refund' };
    }
    return { ...base, action: row.status === 'TRADE_CLOSED' && row.payment_id === null ? 'close' : 'refund' };
  }

  private async notify(row: TradeRow, status: string, extra: Readonly<Record<string, string>>): Promise<void> {
    if (row.notify_url === null) return;
    const amount = formatAmount(row.total_minor);
    const paid = row.payment_id !== null;
    const buyer = await this.buyerFields(row);
    await this.deps.notifications.enqueue({
      appId: row.app_id,
      tradeNo: row.trade_no,
      event: extra['out_biz_no'] === undefined ? status : 'refund',
      url: row.notify_url,
      fields: {
        notify_type: 'trade_status_sync',
        app_id: row.app_id,
        auth_app_id: row.app_id,
        charset: 'utf-8',
        version: '1.0',
        trade_no: row.trade_no,
        out_trade_no: row.out_trade_no,
        trade_status: status === 'refund' ? row.status : status,
        total_amount: amount,
        receipt_amount: paid ? amount : '',
        invoice_amount: paid ? amount : '',
        buyer_pay_amount: paid ? amount : '',
        point_amount: paid ? '0.00' : '',
        subject: row.subject,
        body: row.body ?? '',
        buyer_id: buyer['buyer_user_id'] ?? '',
        buyer_logon_id: buyer['buyer_logon_id'] ?? '',
        gmt_create: gmt8(row.created_at.getTime()),
        gmt_payment: row.paid_at === null ? '' : gmt8(row.paid_at.getTime()),
        gmt_close: row.closed_at === null ? '' : gmt8(row.closed_at.getTime()),
        fund_bill_list: paid ? JSON.stringify([{ amount, fundChannel: 'ALIPAYACCOUNT' }]) : '',
        ...extra,
      },
    });
  }

  /** Where a page/wap trade's buyer goes after paying: its return_url with the signed result (§5). */
  returnUrl(row: TradeRow, app: LiveApp): string | null {
    if (row.return_url === null || row.payment_id === null) return null;
    const fields = signedNotification(
      { charset: 'utf-8', out_trade_no: row.out_trade_no, method: `${row.method}.return`, total_amount: formatAmount(row.total_minor), trade_no: row.trade_no, auth_app_id: row.app_id, app_id: row.app_id, version: '1.0', seller_id: buyerId(app.shop.ownerUserId), timestamp: gmt8(this.deps.clock.nowMs()) },
      app.platformKey,
    );
    return `${row.return_url}${row.return_url.includes('?') ? '&' : '?'}${new URLSearchParams(fields).toString()}`;
  }

  /** The pass: trades whose payment-code charge settled, or whose time ran out. */
  async sync(): Promise<number> {
    const rows = await this.deps.sql<TradeRow[]>`
      SELECT * FROM openapi_trades
      WHERE (status = 'WAIT_BUYER_PAY' AND (charge_id IS NOT NULL OR (expires_at <= ${this.deps.clock.now()} AND buyer_user_id IS NULL)
              OR (claimed_at <= ${new Date(this.deps.clock.nowMs() - claimStaleMs)} AND payment_id IS NULL)))
         OR (status = 'TRADE_SUCCESS' AND paid_at <= ${new Date(this.deps.clock.nowMs() - refundWindowMs)})
      LIMIT 200`;
    let changed = 0;
    for (const row of rows) {
      const settled = row.claimed_at !== null && row.payment_id === null && row.status === 'WAIT_BUYER_PAY' ? await this.settleClaim(row) : row;
      if ((await this.refresh(settled)).status !== row.status || settled.claimed_at?.getTime() !== row.claimed_at?.getTime()) changed += 1;
    }
    return changed;
  }
}
