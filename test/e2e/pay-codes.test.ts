/**
 * Goal: the payment code (付款码) end to end — issuing (18 digits starting 28, a QR, needs a PIN,
 * a new code retires the old), a shop charging it (small amounts at once without the PIN, larger
 * ones confirmed or declined by the payer with the PIN within 5 minutes), single use, expiry after
 * a minute, the payer's own shop, funds and PIN lock failing a charge, replay by key, bad input
 * changing nothing, and other users' charges answering 404; the ledger reconciles at the end.
 * Method: the whole app on a test schema and a fake clock, through app.inject(); the no-PIN amount
 * is the default ¥200.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { asUser, closeReconciled, createTestApp, testPin, type TestApp, type TestUser } from '../../src/testing/app.ts';
import { balanceMinor, expectProblem, fundedUser, newUser, type BillJsonForTest } from '../../src/payments/testing.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(() => closeReconciled(t));

interface ChargeJson {
  id: string;
  shopName: string;
  amountMinor: string;
  status: string;
  paymentId: string | null;
  failureCode: string | null;
  payerMobileMasked: string;
}

async function issue(user: TestUser): Promise<string> {
  const response = await asUser(t.app, user, 'POST', '/v1/me/pay-code');
  assert.equal(response.statusCode, 201, response.body);
  return response.json<{ code: string }>().code;
}

async function shopOwner(): Promise<{ owner: TestUser; accountId: string }> {
  const owner = await newUser(t.app);
  const response = await asUser(t.app, owner, 'POST', '/v1/shops', { name: '便利店' });
  assert.equal(response.statusCode, 201, response.body);
  return { owner, accountId: response.json<{ accountId: string }>().accountId };
}

async function customer(amountMinor = 100_000n): Promise<TestUser> {
  const user = await newUser(t.app);
  await fundedUser(t.app, user, amountMinor);
  return user;
}

function charge(owner: TestUser, payCode: string, amountMinor: string, headers: Record<string, string> = {}) {
  return asUser(t.app, owner, 'POST', '/v1/shops/mine/charges', { payCode, amountMinor }, headers);
}

describe('issuing a payment code', () => {
  test('18 digits starting 28 with a QR; needs a PIN; a new code retires the old one', async () => {
    const noPin = await newUser(t.app, { pin: false });
    expectProblem(await asUser(t.app, noPin, 'POST', '/v1/me/pay-code'), 409, 'identity.pin_not_set');
    expectProblem(await asUser(t.app, null, 'POST', '/v1/me/pay-code'), 401, 'request.unauthorized');
    const payer = await customer();
    const response = await asUser(t.app, payer, 'POST', '/v1/me/pay-code');
    const body = response.json<{ code: string; qrSvg: string; expiresAt: string }>();
    assert.match(body.code, /^28[0-9]{16}$/);
    assert.match(body.qrSvg, /^<svg/);
    assert.equal(Date.parse(body.expiresAt) - t.clock.nowMs(), 60_000);
    const newer = await issue(payer);
    assert.notEqual(newer, body.code);
    const { owner } = await shopOwner();
    expectProblem(await charge(owner, body.code, '100'), 422, 'payments.pay_code_invalid');
    assert.equal((await charge(owner, newer, '100')).json<ChargeJson>().status, 'paid');
  });
});

describe('charging a code', () => {
  test('a small amount is paid at once without the PIN, once; the code is then used', async () => {
    const { owner, accountId } = await shopOwner();
    const payer = await customer();
    const code = await issue(payer);
    const headers = { 'idempotency-key': 'charge-small-1' };
    const first = await charge(owner, code, '1550', headers);
    assert.equal(first.statusCode, 201, first.body);
    const paid = first.json<ChargeJson>();
    assert.equal(paid.status, 'paid');
    assert.equal(paid.shopName, '便利店');
    assert.match(paid.payerMobileMasked, /^1[0-9]{2}\*{4}[0-9]{4}$/);
    assert.equal(await balanceMinor(t.app, payer.walletAccountId), 100_000n - 1550n);
    assert.equal(await balanceMinor(t.app, accountId), 1550n);
    const replay = await charge(owner, code, '1550', headers);
    assert.equal(replay.headers['idempotency-replayed'], 'true');
    assert.equal(replay.json<ChargeJson>().id, paid.id);
    expectProblem(await charge(owner, code, '1550'), 422, 'payments.pay_code_invalid');
    assert.equal(await balanceMinor(t.app, payer.walletAccountId), 100_000n - 1550n);
    const bills = await asUser(t.app, payer, 'GET', '/v1/bills?kind=shop');
    const [bill] = bills.json<{ bills: BillJsonForTest[] }>().bills;
    assert.equal(bill?.id, paid.paymentId);
    assert.equal(bill.counterparty.displayName, '便利店');
    const polled = await asUser(t.app, owner, 'GET', `/v1/shops/mine/charges/${paid.id}`);
    assert.equal(polled.json<ChargeJson>().status, 'paid');
  });

  test('a code expires after a minute; the payer cannot charge their own code', async () => {
    const { owner } = await shopOwner();
    const payer = await customer();
    const code = await issue(payer);
    t.clock.advance(60_001);
    expectProblem(await charge(owner, code, '100'), 422, 'payments.pay_code_invalid');
    expectProblem(await charge(owner, await issue(owner), '100'), 422, 'payments.cannot_pay_own_shop');
    expectProblem(await charge(owner, '123', '100'), 422, 'payments.pay_code_invalid');
    assert.equal(await balanceMinor(t.app, payer.walletAccountId), 100_000n);
  });

  test('a refusal of the payment fails the charge with its reason and moves nothing', async () => {
    const { owner } = await shopOwner();
    const poor = await customer(500n);
    const response = await charge(owner, await issue(poor), '600');
    assert.equal(response.statusCode, 201);
    const failed = response.json<ChargeJson>();
    assert.deepEqual([failed.status, failed.failureCode, failed.paymentId], ['failed', 'ledger.insufficient_funds', null]);
    assert.equal(await balanceMinor(t.app, poor.walletAccountId), 500n);
    const locked = await customer();
    const code = await issue(locked);
    for (let attempt = 0; attempt < 5; attempt++) {
      await assert.rejects(t.app.identity.verifyPin((await t.app.identity.getUser(locked.id)) ?? assert.fail(), '000001'));
    }
    const refused = (await charge(owner, code, '100')).json<ChargeJson>();
    assert.deepEqual([refused.status, refused.failureCode], ['failed', 'identity.pin_locked']);
    assert.equal(await balanceMinor(t.app, locked.walletAccountId), 100_000n);
  });

  test('above ¥200 the payer confirms with the PIN; a wrong PIN leaves it waiting', async () => {
    const { owner, accountId } = await shopOwner();
    const payer = await customer();
    const waiting = (await charge(owner, await issue(payer), '25000')).json<ChargeJson>();
    assert.equal(waiting.status, 'awaiting_pin');
    assert.equal(await balanceMinor(t.app, payer.walletAccountId), 100_000n);
    const listed = await asUser(t.app, payer, 'GET', '/v1/me/code-charges');
    assert.deepEqual(listed.json<{ charges: ChargeJson[] }>().charges.map((c) => c.id), [waiting.id]);
    const confirmUrl = `/v1/me/code-charges/${waiting.id}/confirm`;
    expectProblem(await asUser(t.app, payer, 'POST', confirmUrl, { pin: '000001' }), 403, 'identity.pin_wrong');
    const stranger = await customer();
    expectProblem(await asUser(t.app, stranger, 'POST', confirmUrl, { pin: testPin }), 404, 'payments.charge_not_found');
    const confirmed = await asUser(t.app, payer, 'POST', confirmUrl, { pin: testPin });
    assert.equal(confirmed.statusCode, 201, confirmed.body);
    assert.equal(confirmed.json<BillJsonForTest>().amountMinor, '25000');
    assert.equal(await balanceMinor(t.app, payer.walletAccountId), 75_000n);
    assert.equal(await balanceMinor(t.app, accountId), 25_000n);
    const polled = (await asUser(t.app, owner, 'GET', `/v1/shops/mine/charges/${waiting.id}`)).json<ChargeJson>();
    assert.deepEqual([polled.status, polled.paymentId], ['paid', confirmed.json<BillJsonForTest>().id]);
    expectProblem(await asUser(t.app, payer, 'POST', `/v1/me/code-charges/${waiting.id}/decline`), 409, 'payments.charge_not_awaiting');
    assert.equal(await balanceMinor(t.app, payer.walletAccountId), 75_000n);
  });

  test('the payer may decline; an unconfirmed charge expires after 5 minutes', async () => {
    const { owner } = await shopOwner();
    const payer = await customer();
    const declined = (await charge(owner, await issue(payer), '30000')).json<ChargeJson>();
    const answer = await asUser(t.app, payer, 'POST', `/v1/me/code-charges/${declined.id}/decline`);
    assert.equal(answer.json<ChargeJson>().status, 'declined');
    const lapsed = (await charge(owner, await issue(payer), '30000')).json<ChargeJson>();
    t.clock.advance(5 * 60_000 + 1);
    assert.equal((await asUser(t.app, owner, 'GET', `/v1/shops/mine/charges/${lapsed.id}`)).json<ChargeJson>().status, 'expired');
    expectProblem(await asUser(t.app, payer, 'POST', `/v1/me/code-charges/${lapsed.id}/confirm`, { pin: testPin }), 409, 'payments.charge_not_awaiting');
    assert.equal((await asUser(t.app, payer, 'GET', '/v1/me/code-charges')).json<{ charges: unknown[] }>().charges.length, 0);
    assert.equal(await balanceMinor(t.app, payer.walletAccountId), 100_000n);
  });

  test("bad input changes nothing; another shop's charge is 404", async () => {
    const { owner } = await shopOwner();
    const payer = await customer();
    const code = await issue(payer);
    for (const body of [
      { payCode: code, amountMinor: '0' },
      { payCode: code, amountMinor: '-5' },
      { payCode: code, amountMinor: 12 },
      { payCode: code, amountMinor: '1.5' },
      { payCode: code, amountMinor: '100', extra: true },
      { payCode: 'x'.repeat(40), amountMinor: '100' },
    ]) {
      expectProblem(await asUser(t.app, owner, 'POST', '/v1/shops/mine/charges', body), 400, 'request.invalid', JSON.stringify(body));
    }
    const paid = (await charge(owner, code, '100')).json<ChargeJson>();
    assert.equal(paid.status, 'paid');
    const other = await shopOwner();
    expectProblem(await asUser(t.app, other.owner, 'GET', `/v1/shops/mine/charges/${paid.id}`), 404, 'payments.charge_not_found');
    const noShop = await customer();
    expectProblem(await charge(noShop, await issue(payer), '100'), 404, 'payments.shop_not_found');
    assert.equal(await balanceMinor(t.app, payer.walletAccountId), 100_000n - 100n);
  });

  test('a charge left paying by a request that stopped is finished by the sweep, once', async () => {
    const { owner, accountId } = await shopOwner();
    const payer = await customer();
    const code = await issue(payer);
    // The request consumed the code and recorded the charge, then died before paying.
    const [shop] = await t.db.sql<{ id: string }[]>`SELECT id FROM payments_shops WHERE owner_user_id = ${owner.id}`;
    const chargeId = t.app.ids.next('chg');
    const now = t.clock.now();
    await t.db.sql`UPDATE payments_pay_codes SET used_at = ${now} WHERE user_id = ${payer.id} AND used_at IS NULL AND retired_at IS NULL`;
    await t.db.sql`
      INSERT INTO payments_code_charges (id, shop_id, payer_user_id, code_sha256, amount_minor, status, request_key, created_at, confirm_by)
      SELECT ${chargeId}, ${shop?.id ?? ''}, ${payer.id}, code_sha256, 900, 'paying', 'died-1', ${now}, ${new Date(now.getTime() + 300_000)}
      FROM payments_pay_codes WHERE user_id = ${payer.id} AND used_at = ${now}`;
    expectProblem(await charge(owner, code, '900'), 422, 'payments.pay_code_invalid');
    assert.equal(await t.app.payCodes.settleStale(), 0, 'not stale yet');
    t.clock.advance(61_000);
    // The shop's poll reads; it moves no money.
    const read = await asUser(t.app, owner, 'GET', `/v1/shops/mine/charges/${chargeId}`);
    assert.equal(read.json<ChargeJson>().status, 'paying');
    assert.equal(await balanceMinor(t.app, payer.walletAccountId), 100_000n);
    assert.equal(await t.app.payCodes.settleStale(), 1);
    assert.equal(await t.app.payCodes.settleStale(), 0);
    const polled = (await asUser(t.app, owner, 'GET', `/v1/shops/mine/charges/${chargeId}`)).json<ChargeJson>();
    assert.equal(polled.status, 'paid');
    assert.equal(await balanceMinor(t.app, payer.walletAccountId), 100_000n - 900n);
    assert.equal(await balanceMinor(t.app, accountId), 900n);
  });

  test('confirming and declining replay by key', async () => {
    const { owner } = await shopOwner();
    const payer = await customer();
    const first = (await charge(owner, await issue(payer), '20001')).json<ChargeJson>();
    const headers = { 'idempotency-key': 'confirm-once' };
    const url = `/v1/me/code-charges/${first.id}/confirm`;
    const confirmed = await asUser(t.app, payer, 'POST', url, { pin: testPin }, headers);
    const again = await asUser(t.app, payer, 'POST', url, { pin: testPin }, headers);
    assert.equal(again.headers['idempotency-replayed'], 'true');
    assert.equal(again.body, confirmed.body);
    const second = (await charge(owner, await issue(payer), '20002')).json<ChargeJson>();
    const declineHeaders = { 'idempotency-key': 'decline-once' };
    const declined = await asUser(t.app, payer, 'POST', `/v1/me/code-charges/${second.id}/decline`, undefined, declineHeaders);
    const declinedAgain = await asUser(t.app, payer, 'POST', `/v1/me/code-charges/${second.id}/decline`, undefined, declineHeaders);
    assert.equal(declinedAgain.body, declined.body);
    assert.equal(await balanceMinor(t.app, payer.walletAccountId), 100_000n - 20_001n);
  });
});
