/**
 * Goal: the official alipay-sdk (4.14, unmodified) works against qianbao: every gateway method
 * through `exec` with response signatures checked, the v3 paths through `curl`, notifications
 * verified with `checkNotifySignV2` on a local listener (retried after a failed answer), a
 * tampered request and a wrong key rejected, a refund replay moving no money, a reused
 * out_trade_no with another amount refused, a payout once per out_biz_no, a page-pay URL leading
 * to the cashier, and a v2 call from a process whose TZ is not Asia/Shanghai. The ledger
 * reconciles after.
 * Method: the whole app listening on a port (its clock starting at the real now, since the SDK
 * stamps real time), the SDK as the ISV's client, buyers paying through the wallet API.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { AlipaySdk } from 'alipay-sdk';
import { operatorToken } from '../../src/marketing/testing.ts';
import { balanceMinor, fundedUser, newUser } from '../../src/payments/testing.ts';
import { asUser, closeReconciled, createTestApp, testPin, type TestApp, type TestUser } from '../../src/testing/app.ts';

let t: TestApp;
let base: string;
let sdk: AlipaySdk;
let appId: string;
let appPrivatePem: string;
let platformPublic: string;
let merchant: TestUser;
let buyer: TestUser;
let listener: Server;
let notifyUrl: string;
const received: Record<string, string>[] = [];
let failNext = 0;
const run = promisify(execFile);

before(async () => {
  t = await createTestApp({ QIANBAO_PIN_RATE_PER_MIN: '100000' }, { clockStartMs: Date.now() });
  base = (await t.app.http.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
  listener = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push(Object.fromEntries(new URLSearchParams(body)));
      response.end(failNext-- > 0 ? 'fail' : 'success');
    });
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const address = listener.address();
  notifyUrl = `http://127.0.0.1:${String(typeof address === 'object' && address !== null ? address.port : 0)}/notify`;
  merchant = await newUser(t.app, { displayName: 'Merchant' });
  buyer = await newUser(t.app, { displayName: 'Buyer' });
  await fundedUser(t.app, buyer, 500_000n);
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  appPrivatePem = keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const token = await operatorToken(t.app);
  const created = await asUser(t.app, { token }, 'POST', '/v1/admin/openapi/apps', { name: '咖啡小程序 Coffee', ownerUserId: merchant.id, appPublicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(), notifyUrls: [notifyUrl] });
  assert.equal(created.statusCode, 201, created.body);
  appId = created.json<{ appId: string }>().appId;
  platformPublic = created.json<{ platformPublicKey: { base64: string } }>().platformPublicKey.base64;
  sdk = new AlipaySdk({ appId, privateKey: appPrivatePem, alipayPublicKey: platformPublic, gateway: `${base}/gateway.do`, endpoint: base, signType: 'RSA2' });
});
after(async () => {
  listener.close();
  await closeReconciled(t);
});

const exec = (method: string, bizContent: Record<string, unknown>, extra: Record<string, unknown> = {}) => sdk.exec(method, { bizContent, ...extra }, { validateSign: true });
let seq = 0;
const outNo = (): string => `T${String(Date.now())}${String(++seq)}`;

async function paidTrade(amount = '30.00'): Promise<{ outTradeNo: string; tradeNo: string }> {
  const outTradeNo = outNo();
  const created = await exec('alipay.trade.precreate', { outTradeNo, totalAmount: amount, subject: '拿铁 Latte' }, { notifyUrl });
  assert.equal(created.code, '10000', JSON.stringify(created));
  const tradeNo = String((await exec('alipay.trade.query', { outTradeNo })).tradeNo);
  const paid = await asUser(t.app, buyer, 'POST', `/v1/trades/${tradeNo}/pay`, { pin: testPin });
  assert.equal(paid.statusCode, 201, paid.body);
  return { outTradeNo, tradeNo };
}

test('precreate, pay in the wallet, query, the signed notification; out_trade_no is idempotent and guarded', async () => {
  const outTradeNo = outNo();
  const first = await exec('alipay.trade.precreate', { outTradeNo, totalAmount: '88.88', subject: '咖啡 Coffee' }, { notifyUrl });
  assert.equal(first.code, '10000', JSON.stringify(first));
  assert.match(String(first.qrCode), /#\/trade\/[0-9]{28}$/);
  assert.equal((await exec('alipay.trade.precreate', { outTradeNo, totalAmount: '88.88', subject: '咖啡 Coffee' }, { notifyUrl })).qrCode, first.qrCode);
  // Notifications go only to URLs the app registered.
  const elsewhere = await exec('alipay.trade.precreate', { outTradeNo: outNo(), totalAmount: '1.00', subject: 'x' }, { notifyUrl: 'http://169.254.169.254/latest' });
  assert.deepEqual([elsewhere.code, elsewhere.subCode], ['40002', 'isv.invalid-parameter']);
  const reused = await exec('alipay.trade.precreate', { outTradeNo, totalAmount: '99.99', subject: '咖啡 Coffee' });
  assert.deepEqual([reused.code, reused.subCode], ['40004', 'ACQ.CONTEXT_INCONSISTENT']);
  const waiting = await exec('alipay.trade.query', { outTradeNo });
  assert.equal(waiting.tradeStatus, 'WAIT_BUYER_PAY');
  const tradeNo = String(waiting.tradeNo);
  // The buyer sees the app's name and the amount before the PIN, then pays.
  const view = (await asUser(t.app, buyer, 'GET', `/v1/trades/${tradeNo}`)).json<{ appName: string; amountMinor: string }>();
  assert.deepEqual([view.appName, view.amountMinor], ['咖啡小程序 Coffee', '8888']);
  const merchantAccount = (await asUser(t.app, merchant, 'GET', '/v1/shops/mine')).json<{ accountId: string }>().accountId;
  const before = await balanceMinor(t.app, merchantAccount);
  failNext = 1;
  assert.equal((await asUser(t.app, buyer, 'POST', `/v1/trades/${tradeNo}/pay`, { pin: testPin })).statusCode, 201);
  assert.equal(await balanceMinor(t.app, merchantAccount), before + 8888n);
  const paid = await exec('alipay.trade.query', { tradeNo });
  assert.deepEqual([paid.tradeStatus, paid.totalAmount, paid.buyerPayAmount], ['TRADE_SUCCESS', '88.88', '88.88']);
  assert.match(String(paid.buyerUserId), /^2088[0-9]{12}$/);
  // The notification: refused once by the listener, then retried after 4 minutes; both signed.
  await t.app.openapi.runPass();
  t.clock.advance(4 * 60_000 + 1000);
  await t.app.openapi.runPass();
  const mine = received.filter((n) => n['out_trade_no'] === outTradeNo);
  assert.equal(mine.length, 2);
  for (const n of mine) assert.equal(sdk.checkNotifySignV2(n), true, JSON.stringify(n));
  assert.equal(mine[0]?.['notify_id'], mine[1]?.['notify_id']);
  assert.equal(mine[1]?.['trade_status'], 'TRADE_SUCCESS');
  assert.deepEqual(JSON.parse(mine[1]?.['fund_bill_list'] ?? '[]'), [{ amount: '88.88', fundChannel: 'ALIPAYACCOUNT' }]);
});

test('refund: partial, replayed (no money moves), a different amount refused; refund query; over-refund refused', async () => {
  const { tradeNo } = await paidTrade('30.00');
  const refund = { tradeNo, refundAmount: '10.00', outRequestNo: 'R1' };
  const before = await balanceMinor(t.app, buyer.walletAccountId);
  const first = await exec('alipay.trade.refund', refund);
  assert.deepEqual([first.code, first.fundChange, first.refundFee], ['10000', 'Y', '10.00']);
  const replay = await exec('alipay.trade.refund', refund);
  assert.deepEqual([replay.code, replay.fundChange, replay.refundFee], ['10000', 'N', '10.00']);
  assert.equal(await balanceMinor(t.app, buyer.walletAccountId), before + 1000n);
  const discordant = await exec('alipay.trade.refund', { ...refund, refundAmount: '11.00' });
  assert.equal(discordant.subCode, 'ACQ.DISCORDANT_REPEAT_REQUEST');
  const over = await exec('alipay.trade.refund', { tradeNo, refundAmount: '25.00', outRequestNo: 'R2' });
  assert.equal(over.subCode, 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL');
  const q = await exec('alipay.trade.fastpay.refund.query', { tradeNo, outRequestNo: 'R1' });
  assert.deepEqual([q.refundStatus, q.refundAmount], ['REFUND_SUCCESS', '10.00']);
  const unknown = await exec('alipay.trade.fastpay.refund.query', { tradeNo, outRequestNo: 'NOPE' });
  assert.equal(unknown.code, '10000');
  assert.equal(unknown.refundStatus, undefined);
  // The rest: the trade closes.
  assert.equal((await exec('alipay.trade.refund', { tradeNo, refundAmount: '20.00', outRequestNo: 'R3' })).refundFee, '30.00');
  assert.equal((await exec('alipay.trade.query', { tradeNo })).tradeStatus, 'TRADE_CLOSED');
});

test('close and cancel; an unknown trade; the buyer payment code (trade.pay); create for a known buyer', async () => {
  const open = outNo();
  await exec('alipay.trade.precreate', { outTradeNo: open, totalAmount: '5.00', subject: 'x' });
  assert.equal((await exec('alipay.trade.close', { outTradeNo: open })).code, '10000');
  assert.equal((await exec('alipay.trade.query', { outTradeNo: open })).tradeStatus, 'TRADE_CLOSED');
  const missing = await exec('alipay.trade.query', { outTradeNo: 'NO_SUCH' });
  assert.deepEqual([missing.code, missing.subCode], ['40004', 'ACQ.TRADE_NOT_EXIST']);
  const { outTradeNo } = await paidTrade('12.00');
  assert.equal((await exec('alipay.trade.cancel', { outTradeNo })).action, 'refund');
  // trade.pay: the buyer's payment code (under the no-PIN amount) is charged at once.
  const code = (await asUser(t.app, buyer, 'POST', '/v1/me/pay-code')).json<{ code: string }>().code;
  const pay = await exec('alipay.trade.pay', { outTradeNo: outNo(), scene: 'bar_code', authCode: code, totalAmount: '18.00', subject: '早餐 Breakfast' });
  assert.deepEqual([pay.code, pay.totalAmount], ['10000', '18.00']);
  const used = await exec('alipay.trade.pay', { outTradeNo: outNo(), scene: 'bar_code', authCode: code, totalAmount: '18.00', subject: '早餐' });
  assert.equal(used.subCode, 'ACQ.PAYMENT_AUTH_CODE_INVALID');
  // create: a buyer the platform has shown (a sandbox account).
  const token = await operatorToken(t.app);
  const sandbox = (await asUser(t.app, { token }, 'POST', `/v1/admin/openapi/apps/${appId}/sandbox-accounts`)).json<{ buyer: { buyerId: string } }>();
  const created = await exec('alipay.trade.create', { outTradeNo: outNo(), totalAmount: '3.00', subject: 'JSAPI', buyerId: sandbox.buyer.buyerId });
  assert.equal(created.code, '10000', JSON.stringify(created));
  assert.match(String(created.tradeNo), /^[0-9]{28}$/);
});

test('payout once per out_biz_no; v3 curl; page pay leads to the cashier', async () => {
  await paidTrade('50.00');
  const payout = { outBizNo: 'P1', transAmount: '2.00', productCode: 'TRANS_ACCOUNT_NO_PWD', bizScene: 'DIRECT_TRANSFER', orderTitle: '返现', payeeInfo: { identity: buyer.mobile, identityType: 'ALIPAY_LOGON_ID', name: 'Buyer' } };
  const before = await balanceMinor(t.app, buyer.walletAccountId);
  const first = await exec('alipay.fund.trans.uni.transfer', payout);
  assert.deepEqual([first.code, first.status], ['10000', 'SUCCESS']);
  assert.equal((await exec('alipay.fund.trans.uni.transfer', payout)).orderId, first.orderId);
  assert.equal(await balanceMinor(t.app, buyer.walletAccountId), before + 200n);
  assert.equal((await exec('alipay.fund.trans.uni.transfer', { ...payout, transAmount: '3.00' })).subCode, 'INVALID_PARAMETER');
  // v3: the same trade API over REST, signed both ways.
  const outTradeNo = outNo();
  const v3 = await sdk.curl('POST', '/v3/alipay/trade/precreate', { body: { out_trade_no: outTradeNo, total_amount: '20.00', subject: 'v3 扫码' } });
  assert.equal(v3.responseHttpStatus, 200);
  assert.equal((v3.data as { out_trade_no: string }).out_trade_no, outTradeNo);
  const v3query = await sdk.curl('POST', '/v3/alipay/trade/query', { body: { out_trade_no: outTradeNo } });
  assert.match(v3query.traceId, /^req_/);
  assert.equal((v3query.data as { trade_status: string }).trade_status, 'WAIT_BUYER_PAY');
  await assert.rejects(sdk.curl('POST', '/v3/alipay/trade/query', { body: { out_trade_no: 'NO_SUCH' } }), (error: { code?: string }) => error.code === 'ACQ.TRADE_NOT_EXIST');
  // The rest of the methods over v3 too: refund (and its replay), refund query, cancel, close, payout.
  const paid = await paidTrade('40.00');
  const v3refund = async () => (await sdk.curl('POST', '/v3/alipay/trade/refund', { body: { out_trade_no: paid.outTradeNo, refund_amount: '5.00', out_request_no: 'V3R1' } })).data as { fund_change: string; refund_fee: string };
  const firstRefund = await v3refund();
  const replayedRefund = await v3refund();
  assert.deepEqual([firstRefund.fund_change, replayedRefund.fund_change, replayedRefund.refund_fee], ['Y', 'N', '5.00']);
  assert.equal(((await sdk.curl('POST', '/v3/alipay/trade/fastpay/refund/query', { body: { out_trade_no: paid.outTradeNo, out_request_no: 'V3R1' } })).data as { refund_status: string }).refund_status, 'REFUND_SUCCESS');
  assert.equal(((await sdk.curl('POST', '/v3/alipay/trade/cancel', { body: { out_trade_no: paid.outTradeNo } })).data as { action: string }).action, 'refund');
  assert.equal((await sdk.curl('POST', '/v3/alipay/trade/close', { body: { out_trade_no: outTradeNo } })).responseHttpStatus, 200);
  const v3payout = (await sdk.curl('POST', '/v3/alipay/fund/trans/uni/transfer', { body: { out_biz_no: 'V3P1', trans_amount: '1.00', product_code: 'TRANS_ACCOUNT_NO_PWD', payee_info: { identity: buyer.mobile, identity_type: 'ALIPAY_LOGON_ID', name: 'Buyer' } } })).data as { status: string };
  assert.equal(v3payout.status, 'SUCCESS');
  // Page pay: the signed URL the SDK builds leads the browser to the cashier.
  const url = sdk.pageExecute('alipay.trade.page.pay', 'GET', { bizContent: { outTradeNo: outNo(), totalAmount: '9.90', subject: '网页支付', productCode: 'FAST_INSTANT_TRADE_PAY' }, returnUrl: 'https://merchant.example/return' });
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /#\/trade\/[0-9]{28}/);
});

test('a wrong key and a tampered request are refused, signed; v2 from a client not on GMT+8 works', async () => {
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const wrong = new AlipaySdk({ appId, privateKey: other, alipayPublicKey: platformPublic, gateway: `${base}/gateway.do`, endpoint: base });
  const refused = await wrong.exec('alipay.trade.query', { bizContent: { outTradeNo: 'X' } }, { validateSign: true });
  assert.deepEqual([refused.code, refused.subCode], ['40002', 'isv.invalid-signature']);
  assert.match(String(refused.subMsg), /app_id=/);
  // Tampered: a correctly signed request with biz_content changed on the way.
  const signed = new URL(sdk.pageExecute('alipay.trade.query', 'GET', { bizContent: { outTradeNo: 'A' } }));
  signed.searchParams.set('biz_content', JSON.stringify({ out_trade_no: 'B' }));
  const tamperedResponse = await fetch(signed, { method: 'POST' });
  const tampered = await tamperedResponse.json() as { alipay_trade_query_response: { sub_code: string } };
  assert.equal(tampered.alipay_trade_query_response.sub_code, 'isv.invalid-signature');
  // The protocol's trace id is the request id the logs carry.
  assert.match(tamperedResponse.headers.get('trace_id') ?? '', /^req_/);
  assert.equal(tamperedResponse.headers.get('trace_id'), tamperedResponse.headers.get('x-request-id'));
  // A parameter sent twice keeps its last value: the signed one last verifies, a changed one last does not.
  const twice = new URL(signed);
  twice.searchParams.append('biz_content', JSON.stringify({ out_trade_no: 'A' }));
  const lastSigned = await (await fetch(twice, { method: 'POST' })).json() as { alipay_trade_query_response: { sub_code: string } };
  assert.equal(lastSigned.alipay_trade_query_response.sub_code, 'ACQ.TRADE_NOT_EXIST');
  twice.searchParams.append('biz_content', JSON.stringify({ out_trade_no: 'C' }));
  const lastChanged = await (await fetch(twice, { method: 'POST' })).json() as { alipay_trade_query_response: { sub_code: string } };
  assert.equal(lastChanged.alipay_trade_query_response.sub_code, 'isv.invalid-signature');
  await assert.rejects(wrong.curl('POST', '/v3/alipay/trade/query', { body: { out_trade_no: 'X' } }), (error: { code?: string }) => error.code === 'invalid-signature');
  // A client on New York time: its timestamp is 12–13 hours behind GMT+8 and still accepted.
  const script = `import { AlipaySdk } from 'alipay-sdk'; const sdk = new AlipaySdk(${JSON.stringify({ appId, privateKey: appPrivatePem, alipayPublicKey: platformPublic, gateway: `${base}/gateway.do` })}); const r = await sdk.exec('alipay.trade.query', { bizContent: { outTradeNo: 'NO_SUCH' } }, { validateSign: true }); console.log(JSON.stringify({ code: r.code, subCode: r.subCode, tz: new Date().getTimezoneOffset() }));`;
  // A plain node process (not a test-runner child; asynchronous, since this process serves it).
  const child = await run(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', TZ: 'America/New_York' } });
  const out = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as { code: string; subCode: string; tz: number };
  assert.ok(out.tz >= 240, `the child ran at UTC offset ${String(-out.tz)} min`);
  assert.deepEqual([out.code, out.subCode], ['40004', 'ACQ.TRADE_NOT_EXIST']);
});

test('rate limits per app answer in the protocol\'s own form; calls are metered in /metrics', async () => {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const limited = await t.app.openapi.apps.create('test', { name: 'limited', ownerUserId: merchant.id, appPublicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(), notifyUrls: [], ratePerSecond: 2 });
  const client = new AlipaySdk({ appId: limited.app.app_id, privateKey: keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), alipayPublicKey: limited.platformPublicKey.base64, gateway: `${base}/gateway.do`, endpoint: base });
  const codes: string[] = [];
  for (let i = 0; i < 3; i += 1) codes.push(String((await client.exec('alipay.trade.query', { bizContent: { outTradeNo: 'NO_SUCH' } }, { validateSign: true })).subCode));
  assert.deepEqual(codes, ['ACQ.TRADE_NOT_EXIST', 'ACQ.TRADE_NOT_EXIST', 'aop.rate-limit']);
  await assert.rejects(client.curl('POST', '/v3/alipay/trade/query', { body: { out_trade_no: 'NO_SUCH' } }), (error: { responseHttpStatus?: number; code?: string }) => error.responseHttpStatus === 429 && error.code === 'rate-limit');
  // A second later the bucket has refilled.
  t.clock.advance(1000);
  assert.equal((await client.exec('alipay.trade.query', { bizContent: { outTradeNo: 'NO_SUCH' } })).subCode, 'ACQ.TRADE_NOT_EXIST');
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, new RegExp(`qianbao_openapi_calls_total\\{app_id="${limited.app.app_id}",method="alipay.trade.query",code="20000"\\} 1`));
  assert.match(metrics, /qianbao_openapi_call_seconds_bucket/);
  const token = await operatorToken(t.app);
  const listed = (await asUser(t.app, { token }, 'GET', '/v1/admin/openapi/apps')).json<{ apps: { appId: string; metering: { calls: number; errors: number; methods: { method: string; calls: number; p99Ms: number }[] } }[] }>().apps;
  const metering = listed.find((a) => a.appId === limited.app.app_id)?.metering;
  // Five calls (three v2, one v3, one more v2), all errors: two not found, two limited, one not found.
  assert.deepEqual([metering?.calls, metering?.errors], [5, 5]);
  const query = metering?.methods.find((m) => m.method === 'alipay.trade.query');
  assert.equal(query?.calls, 5);
  assert.ok((query?.p99Ms ?? 0) > 0);
});

test('queries made together share one lookup, and each still finds only its own app\'s trade', async () => {
  const live = await t.app.openapi.apps.require(appId);
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const otherApp = await t.app.openapi.apps.create('test', { name: 'other', ownerUserId: merchant.id, appPublicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(), notifyUrls: [], ratePerSecond: 100 });
  const other = await t.app.openapi.apps.require(otherApp.app.app_id);
  const open = (app: typeof live, outTradeNo: string, amount: string) => t.app.openapi.trades.open({ app, method: 'alipay.trade.precreate', biz: { out_trade_no: outTradeNo, total_amount: amount, subject: 'batch' }, notifyUrl: undefined, returnUrl: undefined, baseUrl: base });
  const shared = outNo();
  const mine = await open(live, shared, '1.00');
  const theirs = await open(other, shared, '2.00');
  const query = (app: typeof live, biz: Record<string, unknown>) => t.app.openapi.trades.query({ app, method: 'alipay.trade.query', biz, notifyUrl: undefined, returnUrl: undefined, baseUrl: base }).then((node) => `${String(node['trade_no'])} ${String(node['total_amount'])}`, (error: unknown) => String((error as { subCode?: string }).subCode));
  const statements = await t.db.countStatements(() => Promise.all([
    query(live, { out_trade_no: shared }),
    query(other, { out_trade_no: shared }),
    query(live, { trade_no: mine.trade_no }),
    // trade_no wins over out_trade_no, and another app's trade_no is not found.
    query(other, { trade_no: mine.trade_no, out_trade_no: shared }),
    query(live, { trade_no: mine.trade_no, out_trade_no: 'NO_SUCH' }),
    query(live, { out_trade_no: 'NO_SUCH' }),
  ]), /openapi_trades/);
  assert.deepEqual(statements.result, [`${mine.trade_no} 1.00`, `${theirs.trade_no} 2.00`, `${mine.trade_no} 1.00`, 'ACQ.TRADE_NOT_EXIST', `${mine.trade_no} 1.00`, 'ACQ.TRADE_NOT_EXIST']);
  assert.equal(statements.count, 1);
});

// Last: this moves the server's clock 91 days past the SDK's (real) time.
test('a cashier claim left by a stopped request is freed; after the refund window a paid trade is TRADE_FINISHED', async () => {
  // (The SDK's calls come first: after this the server's clock runs ahead of real time.)
  const { outTradeNo, tradeNo } = await paidTrade('6.00');
  // A buyer claimed a trade and the request stopped before paying (the row as it would be left).
  const live0 = await t.app.openapi.apps.require(appId);
  const stuck = await t.app.openapi.trades.open({ app: live0, method: 'alipay.trade.precreate', biz: { out_trade_no: outNo(), total_amount: '4.00', subject: 'stuck' }, notifyUrl: undefined, returnUrl: undefined, baseUrl: base });
  await t.db.sql`UPDATE openapi_trades SET buyer_user_id = ${buyer.id}, claimed_at = ${t.clock.now()} WHERE trade_no = ${stuck.trade_no}`;
  t.clock.advance(11 * 60_000);
  await t.app.openapi.runPass();
  const [freed] = await t.db.sql<{ buyer_user_id: string | null; status: string }[]>`SELECT buyer_user_id, status FROM openapi_trades WHERE trade_no = ${stuck.trade_no}`;
  assert.deepEqual([freed?.buyer_user_id, freed?.status], [null, 'WAIT_BUYER_PAY']);
  const other = await newUser(t.app);
  await fundedUser(t.app, other, 1_000n);
  assert.equal((await asUser(t.app, other, 'POST', `/v1/trades/${stuck.trade_no}/pay`, { pin: testPin })).statusCode, 201);


  await t.app.openapi.runPass();
  t.clock.advance(91 * 86_400_000);
  await t.app.openapi.runPass();
  const live = await t.app.openapi.apps.require(appId);
  const call = (biz: Record<string, unknown>) => ({ app: live, method: 'alipay.trade.refund', biz, notifyUrl: undefined, returnUrl: undefined, baseUrl: base });
  assert.equal((await t.app.openapi.trades.query(call({ trade_no: tradeNo })))['trade_status'], 'TRADE_FINISHED');
  await assert.rejects(t.app.openapi.trades.refund(call({ trade_no: tradeNo, refund_amount: '1.00', out_request_no: 'LATE' })), (error: { subCode?: string }) => error.subCode === 'ACQ.TRADE_HAS_FINISHED');
  const finished = received.filter((n) => n['out_trade_no'] === outTradeNo && n['trade_status'] === 'TRADE_FINISHED');
  assert.equal(finished.length, 1, JSON.stringify(finished.map((n) => [n['notify_id'], n['notify_time'], n['out_biz_no']])));
  assert.equal(sdk.checkNotifySignV2(finished[0]), true);
});
