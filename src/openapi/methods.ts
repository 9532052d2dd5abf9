import { createHash } from 'node:crypto';
import type { Identity } from '../identity/index.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import type { IdGenerator } from '../kernel/ids.ts';
import type { Ledger } from '../ledger/index.ts';
import { payoutStep, insertSettledPayments } from '../payments/index.ts';
import type { MethodHandler } from './gateway.ts';
import { content, formatAmount, gmt8, GatewayError, merchantIdPattern, parseAmount } from './model.ts';
import type { TradeCall, Trades } from './trades.ts';

/**
 * The methods the gateway serves (protocol §3), each from a TradeCall to the response node's
 * fields; failures are GatewayErrors. Payouts (`alipay.fund.trans.uni.transfer`) move money from
 * the app's merchant account to a wallet user, once per `out_biz_no`.
 */
export interface MethodsDeps {
  readonly sql: Sql;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly ledger: Ledger;
  readonly identity: Identity;
  readonly trades: Trades;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

export function openapiMethods(deps: MethodsDeps): Map<string, MethodHandler> {
  const { trades } = deps;
  const precreate: MethodHandler = async (call) => {
    const trade = await trades.open(call);
    return { out_trade_no: trade.out_trade_no, qr_code: `${call.baseUrl}/#/trade/${trade.trade_no}` };
  };
  const create: MethodHandler = async (call) => {
    const buyer = text(call.biz['buyer_id']) ?? text(call.biz['buyer_open_id']);
    const [row] = buyer === undefined ? [] : await deps.sql<{ user_id: string }[]>`SELECT user_id FROM openapi_buyers WHERE buyer_id = ${buyer}`;
    if (row === undefined) throw new GatewayError('40004', 'ACQ.INVALID_PARAMETER', 'buyer_id names no wallet user');
    const trade = await trades.open(call, { buyerUserId: row.user_id });
    return { out_trade_no: trade.out_trade_no, trade_no: trade.trade_no };
  };
  const page: MethodHandler = async (call) => {
    const trade = await trades.open(call);
    const url = `${call.baseUrl}/#/trade/${trade.trade_no}`;
    return { html: `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${url}"><title>qianbao 收银台</title><p>正在前往收银台… <a href="${url}">继续 / continue</a></p>` };
  };
  return new Map<string, MethodHandler>([
    ['alipay.trade.precreate', precreate],
    ['alipay.trade.create', create],
    ['alipay.trade.pay', (call) => trades.pay(call)],
    ['alipay.trade.query', (call) => trades.query(call)],
    ['alipay.trade.refund', (call) => trades.refund(call)],
    ['alipay.trade.fastpay.refund.query', (call) => trades.refundQuery(call)],
    ['alipay.trade.close', (call) => trades.closeCall(call)],
    ['alipay.trade.cancel', (call) => trades.cancel(call)],
    ['alipay.trade.page.pay', page],
    ['alipay.trade.wap.pay', page],
    ['alipay.fund.trans.uni.transfer', (call) => payout(deps, call)],
  ]);
}

/** A payout: the same out_biz_no and content answer the original result; other content is refused. */
async function payout(deps: MethodsDeps, call: TradeCall): Promise<Record<string, unknown>> {
  const outBizNo = text(call.biz['out_biz_no']);
  if (outBizNo === undefined || !merchantIdPattern.test(outBizNo)) throw new GatewayError('40004', 'INVALID_PARAMETER', 'out_biz_no is required: up to 64 letters, digits and underscores');
  const amount = parseAmount(call.biz['trans_amount']);
  if (amount === undefined) throw new GatewayError('40004', 'INVALID_PARAMETER', 'trans_amount must be yuan with at most 2 decimals');
  const payee = (call.biz['payee_info'] ?? {}) as Readonly<Record<string, unknown>>;
  const identity = text(payee['identity']);
  const type = text(payee['identity_type']);
  const sha = content([amount.toString(), identity ?? '', type ?? '']);
  const [earlier] = await deps.sql<{ order_id: string; content_sha256: string; created_at: Date }[]>`SELECT order_id, content_sha256, created_at FROM openapi_transfers WHERE app_id = ${call.app.row.app_id} AND out_biz_no = ${outBizNo}`;
  if (earlier !== undefined) {
    if (earlier.content_sha256 !== sha) throw new GatewayError('40004', 'INVALID_PARAMETER', 'this out_biz_no was used for another payout');
    return { out_biz_no: outBizNo, order_id: earlier.order_id, pay_fund_order_id: earlier.order_id, status: 'SUCCESS', trans_date: gmt8(earlier.created_at.getTime()) };
  }
  let userId: string | undefined;
  if (type === 'ALIPAY_USER_ID') {
    const [row] = await deps.sql<{ user_id: string }[]>`SELECT user_id FROM openapi_buyers WHERE buyer_id = ${identity ?? ''}`;
    userId = row?.user_id;
  } else if (type === 'ALIPAY_LOGON_ID') {
    if (text(payee['name']) === undefined) throw new GatewayError('40004', 'PAYEE_USER_INFO_ERROR', 'name is required with ALIPAY_LOGON_ID');
    const user = await deps.identity.findByMobile(identity ?? '').catch(() => undefined);
    if (user !== undefined && user.displayName !== text(payee['name'])) throw new GatewayError('40004', 'PAYEE_USER_INFO_ERROR', '收款方姓名与账户不匹配');
    userId = user?.id;
  } else throw new GatewayError('40004', 'INVALID_PARAMETER', 'identity_type must be ALIPAY_USER_ID or ALIPAY_LOGON_ID');
  const user = userId === undefined ? undefined : await deps.identity.getUser(userId);
  if (user === undefined) throw new GatewayError('40004', 'PAYEE_NOT_EXIST', '收款账号不存在');
  const orderId = `${gmt8(deps.clock.nowMs()).replace(/[^0-9]/g, '').slice(0, 8)}${createHash('sha256').update(`${call.app.row.app_id}\n${outBizNo}`).digest('hex').replace(/[a-f]/g, '').padEnd(24, '0').slice(0, 24)}`;
  const ledgerId = `payout:${createHash('sha256').update(`${call.app.row.app_id}\n${outBizNo}`).digest('hex').slice(0, 48)}`;
  const now = deps.clock.now();
  const step = payoutStep({ id: deps.ids.next('pay'), appId: call.app.row.app_id, appName: call.app.row.name, userId: user.id, outBizNo, ledgerTransferId: ledgerId, shopAccountId: call.app.shop.accountId, walletAccountId: user.walletAccountId, amountMinor: amount, memo: text(call.biz['order_title'])?.slice(0, 50) ?? null, now });
  const { result } = await deps.ledger.transferWithRecord(
    { id: ledgerId, type: 'posted', debitAccountId: call.app.shop.accountId, creditAccountId: user.walletAccountId, amountMinor: amount, currency: 'CNY', kind: 'openapi_payout' },
    { write: (connection, rows) => insertSettledPayments(connection, rows.map((r) => r.payment), rows.map((r) => r.bill), []), id: step.payment.id, row: step },
  );
  if (result.status === 'failed') {
    if (result.error.endsWith('insufficient_funds')) throw new GatewayError('40004', 'PAYER_BALANCE_NOT_ENOUGH', '付款方余额不足');
    throw new GatewayError('40004', 'SYSTEM_ERROR', result.detail);
  }
  await deps.sql`
    INSERT INTO openapi_transfers (app_id, out_biz_no, order_id, content_sha256, payee_user_id, amount_minor, ledger_transfer_id, created_at)
    VALUES (${call.app.row.app_id}, ${outBizNo}, ${orderId}, ${sha}, ${user.id}, ${amount.toString()}, ${ledgerId}, ${now}) ON CONFLICT DO NOTHING`;
  return { out_biz_no: outBizNo, order_id: orderId, pay_fund_order_id: orderId, status: 'SUCCESS', trans_date: gmt8(now.getTime()), trans_amount: formatAmount(amount) };
}
