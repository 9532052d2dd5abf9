/**
 * Goal: shops end to end — opening a shop (its own no-overdraft merchant ledger account), the
 * shop with its balance, its static receive QR, resolving codes, paying a shop from a wallet by
 * its static code (any amount) or a dynamic order's code (fixed amount, once, 2 hours), every
 * error in precedence order with bad input changing nothing, replay moving money once, another
 * user's shop or order answering 404, and the ledger reconciling at the end.
 * Method: the whole app on a test schema and a fake clock, through app.inject().
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  asUser,
  closeReconciled,
  createTestApp,
  testPin,
  type TestApp,
  type TestUser,
} from '../../src/testing/app.ts';
import {
  balanceMinor,
  expectProblem,
  fundedUser,
  newUser,
  type BillJsonForTest,
} from '../../src/payments/testing.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(() => closeReconciled(t));

const yuan = (amount: number): bigint => BigInt(amount) * 100n;

interface ShopJson {
  id: string;
  name: string;
  accountId: string;
  receiveCode: string;
  payLink: string;
  balanceMinor: string;
}

interface OrderJson {
  id: string;
  amountMinor: string;
  note: string | null;
  receiveCode: string;
  status: string;
  paymentId: string | null;
  expiresAt: string;
}

async function openShop(user: TestUser, name = '老王面馆'): Promise<ShopJson> {
  const response = await asUser(t.app, user, 'POST', '/v1/shops', { name });
  assert.equal(response.statusCode, 201, response.body);
  return response.json<ShopJson>();
}

async function createOrder(user: TestUser, amountMinor: string, note?: string): Promise<OrderJson> {
  const response = await asUser(t.app, user, 'POST', '/v1/shops/mine/orders', {
    amountMinor,
    ...(note === undefined ? {} : { note }),
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json<OrderJson>();
}

function payShop(
  user: TestUser,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  return asUser(t.app, user, 'POST', '/v1/shop-payments', { pin: testPin, ...body }, headers);
}

async function shopPaymentRows(shopId: string): Promise<{ status: string; n: bigint }[]> {
  const rows = await t.db.sql<{ status: string; n: bigint }[]>`
    SELECT status, count(*)::int8 AS n FROM payments WHERE shop_id = ${shopId}
    GROUP BY status ORDER BY status`;
  return rows.map((row) => ({ ...row }));
}

describe('shops', () => {
  test('open a shop with its merchant account; see it with its balance; one per user', async () => {
    const owner = await newUser(t.app);
    expectProblem(
      await asUser(t.app, owner, 'GET', '/v1/shops/mine'),
      404,
      'payments.shop_not_found',
    );
    assert.deepEqual((await asUser(t.app, owner, 'GET', '/v1/shops')).json(), { shops: [] });
    const shop = await openShop(owner, '  老王面馆 ');
    assert.equal(shop.name, '老王面馆');
    assert.equal(shop.balanceMinor, '0');
    assert.equal(shop.receiveCode, `qb-shop:${shop.id}`);
    assert.equal(shop.payLink, `/#/pay?code=${encodeURIComponent(shop.receiveCode)}`);
    const account = await t.app.ledger.getAccount(shop.accountId);
    assert.ok(account !== undefined);
    assert.equal(account.code, 'merchant');
    assert.equal(account.noOverdraft, true);
    assert.equal(account.ownerId, owner.id);

    const mine = await asUser(t.app, owner, 'GET', '/v1/shops/mine');
    assert.equal(mine.statusCode, 200);
    assert.deepEqual(mine.json(), shop);
    assert.deepEqual((await asUser(t.app, owner, 'GET', '/v1/shops')).json(), { shops: [shop] });

    // Errors in precedence order: no session, no key, bad body, then the second shop.
    expectProblem(
      await asUser(t.app, null, 'POST', '/v1/shops', { name: 'x' }),
      401,
      'request.unauthorized',
    );
    const noKey = await t.app.inject({
      method: 'POST',
      url: '/v1/shops',
      headers: { authorization: `Bearer ${owner.token}` },
      payload: { name: 'x' },
    });
    assert.equal(noKey.statusCode, 400, noKey.body);
    expectProblem(
      await asUser(t.app, owner, 'POST', '/v1/shops', { name: '' }),
      400,
      'request.invalid',
    );
    expectProblem(
      await asUser(t.app, owner, 'POST', '/v1/shops', { name: 'a'.repeat(41) }),
      400,
      'request.invalid',
    );
    expectProblem(
      await asUser(t.app, owner, 'POST', '/v1/shops', { name: 'x', fee: 1 }),
      400,
      'request.invalid',
    );
    expectProblem(
      await asUser(t.app, owner, 'POST', '/v1/shops', { name: '二店' }),
      409,
      'payments.shop_already_open',
    );

    // Replay of the opening request answers the same shop and opens nothing more.
    const other = await newUser(t.app);
    const headers = { 'idempotency-key': 'open-shop-1' };
    const first = await asUser(t.app, other, 'POST', '/v1/shops', { name: '小卖部' }, headers);
    const again = await asUser(t.app, other, 'POST', '/v1/shops', { name: '小卖部' }, headers);
    assert.equal(first.statusCode, 201);
    assert.equal(again.body, first.body);
    assert.equal(again.headers['idempotency-replayed'], 'true');
    const [count] = await t.db.sql<{ n: bigint }[]>`
      SELECT count(*)::int8 AS n FROM payments_shops WHERE owner_user_id = ${other.id}`;
    assert.equal(count?.n, 1n);
  });

  test('the static receive QR is an SVG of the pay link', async () => {
    const owner = await newUser(t.app);
    expectProblem(
      await asUser(t.app, owner, 'GET', '/v1/shops/mine/qr.svg'),
      404,
      'payments.shop_not_found',
    );
    await openShop(owner);
    const response = await asUser(t.app, owner, 'GET', '/v1/shops/mine/qr.svg');
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^image\/svg\+xml/);
    assert.match(response.body, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    // Stable: the same image each time.
    assert.equal((await asUser(t.app, owner, 'GET', '/v1/shops/mine/qr.svg')).body, response.body);
  });
});

describe('paying a shop by its static code', () => {
  test('pay any amount: bills on both sides, money in the shop account', async () => {
    const owner = await newUser(t.app, { displayName: '老王' });
    const shop = await openShop(owner);
    const payer = await newUser(t.app, { displayName: '小李' });
    await fundedUser(t.app, payer, yuan(100));

    const target = await asUser(
      t.app,
      payer,
      'GET',
      `/v1/pay-targets/${encodeURIComponent(shop.receiveCode)}`,
    );
    assert.equal(target.statusCode, 200, target.body);
    assert.deepEqual(target.json(), {
      code: shop.receiveCode,
      shopName: '老王面馆',
      amountMinor: null,
      offer: null,
      currency: 'CNY',
      note: null,
      expiresAt: null,
    });

    const paid = await payShop(payer, { code: shop.receiveCode, amountMinor: '1250' });
    assert.equal(paid.statusCode, 201, paid.body);
    const bill = paid.json<BillJsonForTest>();
    assert.equal(bill.kind, 'shop');
    assert.equal(bill.direction, 'expense');
    assert.equal(bill.status, 'succeeded');
    assert.equal(bill.amountMinor, '1250');
    assert.equal(bill.counterparty.displayName, '老王面馆');
    assert.equal(bill.counterparty.userId, null);
    assert.equal(await balanceMinor(t.app, payer.walletAccountId), yuan(100) - 1250n);
    assert.equal(await balanceMinor(t.app, shop.accountId), 1250n);
    assert.equal(
      (await asUser(t.app, owner, 'GET', '/v1/shops/mine')).json<ShopJson>().balanceMinor,
      '1250',
    );

    const ownerBill = await asUser(t.app, owner, 'GET', `/v1/bills/${bill.id}`);
    assert.equal(ownerBill.statusCode, 200, ownerBill.body);
    const income = ownerBill.json<BillJsonForTest>();
    assert.equal(income.kind, 'shop');
    // The money is in the shop's account, not the owner's wallet: listed, not income.
    assert.equal(income.direction, 'neutral');
    assert.equal(income.counterparty.userId, payer.id);
    const summary = await asUser(t.app, payer, 'GET', '/v1/bills/summary?month=2026-01');
    assert.equal(summary.json<{ expenseMinor: string }>().expenseMinor, '1250');
    // The owner's wallet did not move: the shop's takings are not personal income.
    const ownerSummary = await asUser(t.app, owner, 'GET', '/v1/bills/summary?month=2026-01');
    assert.equal(ownerSummary.json<{ incomeMinor: string }>().incomeMinor, '0');
    // While in flight it is the payer's pending bill and not yet the owner's.
    await t.db.sql`UPDATE payments SET status = 'pending', completed_at = NULL WHERE id = ${bill.id}`;
    assert.equal((await asUser(t.app, payer, 'GET', `/v1/bills/${bill.id}`)).json<BillJsonForTest>().status, 'pending');
    expectProblem(await asUser(t.app, owner, 'GET', `/v1/bills/${bill.id}`), 404, 'payments.bill_not_found');
    await t.db.sql`UPDATE payments SET status = 'succeeded', completed_at = created_at WHERE id = ${bill.id}`;
  });

  test('errors in precedence order, each changing nothing', async () => {
    const owner = await newUser(t.app);
    const shop = await openShop(owner);
    const payer = await newUser(t.app);
    const noPin = await newUser(t.app, { pin: false });
    await fundedUser(t.app, payer, yuan(100));
    const ok = { code: shop.receiveCode, amountMinor: '100' };
    const unknownShop = 'qb-shop:shop_00000000-0000-7000-8000-000000000000';
    const cases: [string, () => ReturnType<typeof payShop>, number, string][] = [
      [
        'no session',
        () => asUser(t.app, null, 'POST', '/v1/shop-payments', { ...ok, pin: testPin }),
        401,
        'request.unauthorized',
      ],
      ['zero amount', () => payShop(payer, { ...ok, amountMinor: '0' }), 400, 'request.invalid'],
      ['number amount', () => payShop(payer, { ...ok, amountMinor: 100 }), 400, 'request.invalid'],
      ['unknown field', () => payShop(payer, { ...ok, tip: '1' }), 400, 'request.invalid'],
      [
        'unknown shop, wrong PIN',
        () => payShop(payer, { ...ok, code: unknownShop, pin: '000001' }),
        404,
        'payments.pay_target_not_found',
      ],
      [
        'garbage code',
        () => payShop(payer, { ...ok, code: 'hello' }),
        404,
        'payments.pay_target_not_found',
      ],
      [
        'own shop, wrong PIN',
        () => payShop(owner, { ...ok, pin: '000001' }),
        422,
        'payments.cannot_pay_own_shop',
      ],
      [
        'no amount, wrong PIN',
        () => payShop(payer, { code: shop.receiveCode, pin: '000001' }),
        422,
        'payments.amount_required',
      ],
      ['no PIN set', () => payShop(noPin, ok), 409, 'identity.pin_not_set'],
      [
        'wrong PIN, too much',
        () => payShop(payer, { ...ok, amountMinor: '99999999', pin: '000001' }),
        403,
        'identity.pin_wrong',
      ],
      [
        'over the unverified limit',
        () => payShop(payer, { ...ok, amountMinor: '100001' }),
        422,
        'payments.unverified_daily_limit_exceeded',
      ],
      [
        'over the balance',
        () => payShop(payer, { ...ok, amountMinor: '10001' }),
        422,
        'ledger.insufficient_funds',
      ],
    ];
    for (const [label, call, status, code] of cases)
      expectProblem(await call(), status, code, label);
    assert.equal(await balanceMinor(t.app, payer.walletAccountId), yuan(100));
    assert.equal(await balanceMinor(t.app, shop.accountId), 0n);
    // Only the insufficient-funds attempt got as far as a payment row, and it is failed.
    assert.deepEqual(await shopPaymentRows(shop.id), [{ status: 'failed', n: 1n }]);
    expectProblem(
      await asUser(t.app, payer, 'GET', `/v1/pay-targets/${encodeURIComponent(unknownShop)}`),
      404,
      'payments.pay_target_not_found',
    );
  });

  test('a replay returns the same response and moves money once; another body is refused', async () => {
    const owner = await newUser(t.app);
    const shop = await openShop(owner);
    const payer = await newUser(t.app);
    await fundedUser(t.app, payer, yuan(100));
    const headers = { 'idempotency-key': 'shop-replay-1' };
    const first = await payShop(payer, { code: shop.receiveCode, amountMinor: '500' }, headers);
    const again = await payShop(payer, { code: shop.receiveCode, amountMinor: '500' }, headers);
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(again.statusCode, 201);
    assert.equal(again.headers['idempotency-replayed'], 'true');
    assert.equal(again.body, first.body);
    expectProblem(
      await payShop(payer, { code: shop.receiveCode, amountMinor: '501' }, headers),
      422,
      'idempotency.key_reused',
    );
    // A concurrent double submit of another key moves money once too: the attempt that moved it
    // answers 201, the others 200 with the same bill (ADR 0014: no claim row makes them wait).
    const double = { 'idempotency-key': 'shop-double-1' };
    const responses = await Promise.all(
      [1, 2, 3].map(() => payShop(payer, { code: shop.receiveCode, amountMinor: '700' }, double)),
    );
    assert.deepEqual(responses.map((response) => response.statusCode).sort(), [200, 200, 201], responses.map((r) => r.body).join('\n'));
    assert.equal(new Set(responses.map((response) => response.json<{ id: string }>().id)).size, 1);
    assert.equal(await balanceMinor(t.app, shop.accountId), 1200n);
    assert.equal(await balanceMinor(t.app, payer.walletAccountId), yuan(100) - 1200n);
  });
});

describe('orders (dynamic codes)', () => {
  test('an order resolves to its fixed amount, is paid once, and shows as paid', async () => {
    const owner = await newUser(t.app);
    const shop = await openShop(owner);
    const payer = await newUser(t.app);
    const second = await newUser(t.app);
    await fundedUser(t.app, payer, yuan(100));
    await fundedUser(t.app, second, yuan(100));
    const order = await createOrder(owner, '3800', ' 两碗面 ');
    assert.equal(order.status, 'open');
    assert.equal(order.note, '两碗面');
    assert.equal(order.receiveCode, `qb-order:${order.id}`);
    assert.equal(Date.parse(order.expiresAt), t.clock.nowMs() + 2 * 3600_000);

    const target = await asUser(
      t.app,
      payer,
      'GET',
      `/v1/pay-targets/${encodeURIComponent(order.receiveCode)}`,
    );
    assert.deepEqual(target.json(), {
      code: order.receiveCode,
      offer: null,
      shopName: '老王面馆',
      amountMinor: '3800',
      currency: 'CNY',
      note: '两碗面',
      expiresAt: order.expiresAt,
    });

    expectProblem(
      await payShop(payer, { code: order.receiveCode, amountMinor: '3700', pin: '000001' }),
      422,
      'payments.amount_mismatch',
    );
    const headers = { 'idempotency-key': 'order-pay-1' };
    const paid = await payShop(payer, { code: order.receiveCode }, headers);
    assert.equal(paid.statusCode, 201, paid.body);
    assert.equal(paid.json<BillJsonForTest>().amountMinor, '3800');
    const replay = await payShop(payer, { code: order.receiveCode }, headers);
    assert.equal(replay.body, paid.body);
    // With the amount given, equal to the order's, it is the same request body only if the
    // body is the same: a new key finds the order paid.
    expectProblem(
      await payShop(payer, { code: order.receiveCode, amountMinor: '3800' }),
      409,
      'payments.order_already_paid',
    );
    expectProblem(
      await payShop(second, { code: order.receiveCode }),
      409,
      'payments.order_already_paid',
    );
    expectProblem(
      await asUser(
        t.app,
        second,
        'GET',
        `/v1/pay-targets/${encodeURIComponent(order.receiveCode)}`,
      ),
      409,
      'payments.order_already_paid',
    );
    assert.equal(await balanceMinor(t.app, shop.accountId), 3800n);
    assert.equal(await balanceMinor(t.app, second.walletAccountId), yuan(100));

    const seen = await asUser(t.app, owner, 'GET', `/v1/shops/mine/orders/${order.id}`);
    assert.equal(seen.statusCode, 200);
    assert.equal(seen.json<OrderJson>().status, 'paid');
    assert.equal(seen.json<OrderJson>().paymentId, paid.json<BillJsonForTest>().id);
  });

  test('the unique index refuses a second live payment of an order, whatever the checks saw', async () => {
    const owner = await newUser(t.app);
    const shop = await openShop(owner);
    const payers = [await newUser(t.app), await newUser(t.app), await newUser(t.app)];
    for (const payer of payers) await fundedUser(t.app, payer, yuan(10));
    const order = await createOrder(owner, '300');
    const responses = await Promise.all(
      payers.map((payer) => payShop(payer, { code: order.receiveCode })),
    );
    const codes = responses.map((response) => response.statusCode).sort();
    assert.deepEqual(codes, [201, 409, 409], responses.map((response) => response.body).join('\n'));
    for (const response of responses.filter((r) => r.statusCode === 409))
      expectProblem(response, 409, 'payments.order_already_paid');
    assert.equal(await balanceMinor(t.app, shop.accountId), 300n);
  });

  test('an expired order is refused with its own code; order errors in precedence order', async () => {
    const owner = await newUser(t.app);
    const payer = await newUser(t.app);
    await fundedUser(t.app, payer, yuan(10));
    expectProblem(
      await asUser(t.app, owner, 'POST', '/v1/shops/mine/orders', { amountMinor: '100' }),
      404,
      'payments.shop_not_found',
    );
    const shop = await openShop(owner);
    expectProblem(
      await asUser(t.app, owner, 'POST', '/v1/shops/mine/orders', { amountMinor: '0' }),
      400,
      'request.invalid',
    );
    expectProblem(
      await asUser(t.app, owner, 'POST', '/v1/shops/mine/orders', {
        amountMinor: '1',
        note: 'a'.repeat(51),
      }),
      400,
      'request.invalid',
    );
    const order = await createOrder(owner, '100');
    t.clock.advance(2 * 3600_000);
    expectProblem(
      await payShop(owner, { code: order.receiveCode, pin: '000001' }),
      422,
      'payments.cannot_pay_own_shop',
    );
    expectProblem(
      await payShop(payer, { code: order.receiveCode, pin: '000001' }),
      409,
      'payments.order_expired',
    );
    expectProblem(
      await asUser(t.app, payer, 'GET', `/v1/pay-targets/${encodeURIComponent(order.receiveCode)}`),
      409,
      'payments.order_expired',
    );
    assert.equal(
      (await asUser(t.app, owner, 'GET', `/v1/shops/mine/orders/${order.id}`)).json<OrderJson>()
        .status,
      'expired',
    );
    assert.equal(await balanceMinor(t.app, shop.accountId), 0n);
    assert.equal(await balanceMinor(t.app, payer.walletAccountId), yuan(10));
  });

  test("another user's order answers 404, like a missing one", async () => {
    const owner = await newUser(t.app);
    await openShop(owner);
    const order = await createOrder(owner, '100');
    const stranger = await newUser(t.app);
    expectProblem(
      await asUser(t.app, stranger, 'GET', `/v1/shops/mine/orders/${order.id}`),
      404,
      'payments.order_not_found',
    );
    await openShop(stranger, '隔壁');
    expectProblem(
      await asUser(t.app, stranger, 'GET', `/v1/shops/mine/orders/${order.id}`),
      404,
      'payments.order_not_found',
    );
    expectProblem(
      await asUser(
        t.app,
        owner,
        'GET',
        '/v1/shops/mine/orders/ord_00000000-0000-7000-8000-000000000000',
      ),
      404,
      'payments.order_not_found',
    );
    assert.equal(
      (await asUser(t.app, owner, 'GET', `/v1/shops/mine/orders/${order.id}`)).statusCode,
      200,
    );
  });
});

describe('refunds', () => {
  async function paidShop(amountMinor: string) {
    const owner = await newUser(t.app, { displayName: '老王' });
    const shop = await openShop(owner);
    const payer = await newUser(t.app, { displayName: '小李' });
    await fundedUser(t.app, payer, yuan(100));
    const paid = await payShop(payer, { code: shop.receiveCode, amountMinor });
    assert.equal(paid.statusCode, 201, paid.body);
    return { owner, shop, payer, paymentId: paid.json<BillJsonForTest>().id };
  }

  function refund(
    user: TestUser,
    paymentId: string,
    amountMinor: string,
    headers: Record<string, string> = {},
  ) {
    return asUser(
      t.app,
      user,
      'POST',
      `/v1/shop-payments/${paymentId}/refunds`,
      { amountMinor },
      headers,
    );
  }

  test('partial refunds up to the payment, never more; bills on both sides', async () => {
    const { owner, shop, payer, paymentId } = await paidShop('1000');
    const first = await refund(owner, paymentId, '300');
    assert.equal(first.statusCode, 201, first.body);
    const bill = first.json<BillJsonForTest>();
    assert.equal(bill.kind, 'refund');
    assert.equal(bill.direction, 'neutral');
    assert.equal(bill.amountMinor, '300');
    assert.equal(bill.counterparty.userId, payer.id);
    const payerBill = await asUser(t.app, payer, 'GET', `/v1/bills/${bill.id}`);
    assert.equal(payerBill.statusCode, 200, payerBill.body);
    assert.equal(payerBill.json<BillJsonForTest>().direction, 'income');
    assert.equal(payerBill.json<BillJsonForTest>().counterparty.displayName, '老王面馆');
    assert.equal(await balanceMinor(t.app, shop.accountId), 700n);
    assert.equal(await balanceMinor(t.app, payer.walletAccountId), yuan(100) - 700n);

    const tooMuch = expectProblem(
      await refund(owner, paymentId, '701'),
      422,
      'payments.refund_exceeds_payment',
    );
    assert.equal(tooMuch['remainingMinor'], '700');
    assert.equal((await refund(owner, paymentId, '700')).statusCode, 201);
    expectProblem(await refund(owner, paymentId, '1'), 422, 'payments.refund_exceeds_payment');
    assert.equal(await balanceMinor(t.app, shop.accountId), 0n);
    assert.equal(await balanceMinor(t.app, payer.walletAccountId), yuan(100));
  });

  test('concurrent refunds never add up to more than the payment', async () => {
    const { owner, shop, paymentId } = await paidShop('1000');
    const responses = await Promise.all([1, 2, 3, 4].map(() => refund(owner, paymentId, '400')));
    const codes = responses.map((response) => response.statusCode).sort();
    assert.deepEqual(
      codes,
      [201, 201, 422, 422],
      responses.map((response) => response.body).join('\n'),
    );
    assert.equal(await balanceMinor(t.app, shop.accountId), 200n);
  });

  test('errors in precedence order; replay moves money once', async () => {
    const { owner, shop, payer, paymentId } = await paidShop('1000');
    const other = await paidShop('500');
    const missing = 'pay_00000000-0000-7000-8000-000000000000';
    expectProblem(
      await asUser(t.app, null, 'POST', `/v1/shop-payments/${paymentId}/refunds`, {
        amountMinor: '1',
      }),
      401,
      'request.unauthorized',
    );
    expectProblem(await refund(owner, 'nope', '1'), 400, 'request.invalid');
    expectProblem(await refund(owner, paymentId, '0'), 400, 'request.invalid');
    expectProblem(await refund(owner, missing, '1'), 404, 'payments.shop_payment_not_found');
    // Another shop's payment, and the payer refunding their own payment: 404 like a missing one.
    expectProblem(
      await refund(owner, other.paymentId, '1'),
      404,
      'payments.shop_payment_not_found',
    );
    expectProblem(await refund(payer, paymentId, '1'), 404, 'payments.shop_payment_not_found');
    expectProblem(await refund(owner, paymentId, '1001'), 422, 'payments.refund_exceeds_payment');

    const headers = { 'idempotency-key': 'refund-replay-1' };
    const first = await refund(owner, paymentId, '250', headers);
    const again = await refund(owner, paymentId, '250', headers);
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(again.body, first.body);
    assert.equal(again.headers['idempotency-replayed'], 'true');
    expectProblem(await refund(owner, paymentId, '251', headers), 422, 'idempotency.key_reused');
    assert.equal(await balanceMinor(t.app, shop.accountId), 750n);
    assert.equal(await balanceMinor(t.app, payer.walletAccountId), yuan(100) - 750n);
    assert.equal(await balanceMinor(t.app, other.shop.accountId), 500n);
  });
});
