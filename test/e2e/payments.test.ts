/**
 * Goal: the payments core end to end — bank cards (bind, list, unbind, caps), top-up and
 * withdrawal with their daily limits, P2P transfer by mobile number or user id, every error in
 * precedence order with bad input changing nothing, the unverified user's ¥1,000 daily send
 * limit (also under concurrency) and its lifting by real-name verification, replay and a
 * concurrent double submit of one Idempotency-Key moving money once, a crash between the ledger
 * and the payments table, the stale-payment sweep, per-user rate limits, another user's ids
 * answering 404, and the ledger reconciling at the end.
 * Method: the whole app on a test schema and a fake clock (10:00 in Shanghai), through
 * app.inject(); crashes are simulated by rewinding the payment row in SQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { asUser, closeReconciled, createTestApp, testPin, type TestApp } from '../../src/testing/app.ts';
import {
  balanceMinor,
  bankBalanceMinor,
  bindCard,
  expectProblem,
  fundedUser,
  newUser,
  send,
  topUp,
  verifyRealName,
  type BillJsonForTest,
} from '../../src/payments/testing.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(() => closeReconciled(t));

const day = 24 * 3600_000;
const yuan = (amount: number): bigint => BigInt(amount) * 100n;

async function paymentRows(userId: string): Promise<{ status: string; n: bigint }[]> {
  const rows = await t.db.sql<{ status: string; n: bigint }[]>`
    SELECT status, count(*)::int8 AS n FROM payments WHERE user_id = ${userId} GROUP BY status ORDER BY status`;
  return rows.map((row) => ({ ...row }));
}

describe('bank cards', () => {
  test("bind several, list, refuse a duplicate, unbind; another user's card is 404", async () => {
    const user = await newUser(t.app);
    const first = await bindCard(t.app, user, { bank: 'ICBC', last4: '1234' });
    t.clock.advance(1000);
    const second = await bindCard(t.app, user, { bank: 'CMB', last4: '1234' });
    expectProblem(
      await asUser(t.app, user, 'POST', '/v1/cards', { bank: 'ICBC', last4: '1234' }),
      409,
      'payments.card_already_bound',
    );
    const list = await asUser(t.app, user, 'GET', '/v1/cards');
    assert.equal(list.statusCode, 200);
    const cards = list.json<{
      cards: { id: string; bank: string; bankName: string; last4: string }[];
    }>().cards;
    assert.deepEqual(
      cards.map((card) => [card.id, card.bank, card.bankName, card.last4]),
      [
        [first, 'ICBC', '工商银行', '1234'],
        [second, 'CMB', '招商银行', '1234'],
      ],
    );

    const stranger = await newUser(t.app);
    expectProblem(
      await asUser(t.app, stranger, 'DELETE', `/v1/cards/${first}`),
      404,
      'payments.card_not_found',
    );
    expectProblem(
      await asUser(t.app, stranger, 'POST', '/v1/topups', {
        cardId: first,
        amountMinor: '100',
        pin: testPin,
      }),
      404,
      'payments.card_not_found',
    );
    assert.equal((await asUser(t.app, user, 'DELETE', `/v1/cards/${first}`)).statusCode, 204);
    expectProblem(
      await asUser(t.app, user, 'DELETE', `/v1/cards/${first}`),
      404,
      'payments.card_not_found',
    );
    expectProblem(
      await asUser(t.app, user, 'POST', '/v1/topups', {
        cardId: first,
        amountMinor: '100',
        pin: testPin,
      }),
      404,
      'payments.card_not_found',
    );
    // Unbinding frees the number: the same card can be bound again.
    await bindCard(t.app, user, { bank: 'ICBC', last4: '1234' });
    assert.equal(
      (await asUser(t.app, user, 'GET', '/v1/cards')).json<{ cards: unknown[] }>().cards.length,
      2,
    );
  });

  test('bad cards are 400; the 11th card is refused', async () => {
    const user = await newUser(t.app, { pin: false });
    for (const body of [
      { bank: 'HSBC', last4: '1234' },
      { bank: 'ICBC', last4: '123' },
      { bank: 'ICBC', last4: '12a4' },
      { bank: 'ICBC', last4: 1234 },
      { bank: 'ICBC', last4: '1234', number: '6222' },
    ]) {
      expectProblem(
        await asUser(t.app, user, 'POST', '/v1/cards', body),
        400,
        'request.invalid',
        JSON.stringify(body),
      );
    }
    expectProblem(
      await t.app.inject({
        method: 'POST',
        url: '/v1/cards',
        payload: { bank: 'ICBC', last4: '1234' },
      }),
      401,
      'request.unauthorized',
    );
    for (let index = 0; index < 10; index++)
      await bindCard(t.app, user, { last4: String(1000 + index) });
    expectProblem(
      await asUser(t.app, user, 'POST', '/v1/cards', { bank: 'ICBC', last4: '9999' }),
      422,
      'payments.card_limit_reached',
    );
    expectProblem(
      await asUser(t.app, user, 'DELETE', '/v1/cards/card_nonsense'),
      400,
      'request.invalid',
    );
  });
});

describe('top-up and withdrawal', () => {
  test('top-up moves money from the bank to the wallet; withdrawal back; both need the PIN', async () => {
    const user = await newUser(t.app);
    const cardId = await bindCard(t.app, user, { bank: 'CCB', last4: '8888' });
    const bankBefore = await bankBalanceMinor(t.app);
    const bill = await topUp(t.app, user, cardId, yuan(500));
    assert.equal(bill.kind, 'topup');
    assert.equal(bill.direction, 'neutral');
    assert.equal(bill.status, 'succeeded');
    assert.equal(bill.amountMinor, '50000');
    assert.equal(bill.counterparty.type, 'bank_card');
    assert.equal(bill.counterparty.displayName, '建设银行(8888)');
    assert.equal(await balanceMinor(t.app, user.walletAccountId), yuan(500));
    assert.equal(await bankBalanceMinor(t.app), bankBefore - yuan(500));

    expectProblem(
      await asUser(t.app, user, 'POST', '/v1/withdrawals', {
        cardId,
        amountMinor: '100',
        pin: '000001',
      }),
      403,
      'identity.pin_wrong',
    );
    const out = await asUser(t.app, user, 'POST', '/v1/withdrawals', {
      cardId,
      amountMinor: '20000',
      pin: testPin,
    });
    assert.equal(out.statusCode, 201, out.body);
    assert.equal(out.json<BillJsonForTest>().kind, 'withdraw');
    assert.equal(await balanceMinor(t.app, user.walletAccountId), yuan(300));
    expectProblem(
      await asUser(t.app, user, 'POST', '/v1/withdrawals', {
        cardId,
        amountMinor: '30001',
        pin: testPin,
      }),
      422,
      'ledger.insufficient_funds',
    );
    assert.equal(await bankBalanceMinor(t.app), bankBefore - yuan(300));
  });

  test('top-ups stop at ¥50,000 a Shanghai day and start again the next day', async () => {
    const user = await newUser(t.app);
    const { cardId } = await fundedUser(t.app, user, yuan(30_000));
    await topUp(t.app, user, cardId, yuan(20_000));
    const over = await asUser(t.app, user, 'POST', '/v1/topups', {
      cardId,
      amountMinor: '1',
      pin: testPin,
    });
    const body = expectProblem(over, 422, 'payments.topup_daily_limit_exceeded');
    assert.equal(body['limitMinor'], '5000000');
    assert.equal(body['remainingMinor'], '0');
    assert.equal(await balanceMinor(t.app, user.walletAccountId), yuan(50_000));
    t.clock.advance(day);
    await topUp(t.app, user, cardId, yuan(1));
  });

  test('withdrawals count toward the unverified limit; verified users stop at ¥50,000 a day', async () => {
    const user = await newUser(t.app);
    const { cardId } = await fundedUser(t.app, user, yuan(49_000));
    await topUp(t.app, user, cardId, yuan(1_000));
    const withdraw = (amountMinor: bigint) =>
      asUser(t.app, user, 'POST', '/v1/withdrawals', {
        cardId,
        amountMinor: amountMinor.toString(),
        pin: testPin,
      });
    assert.equal((await withdraw(yuan(1_000))).statusCode, 201);
    expectProblem(await withdraw(1n), 422, 'payments.unverified_daily_limit_exceeded');
    await verifyRealName(t.app, user);
    assert.equal((await withdraw(yuan(49_000))).statusCode, 201);
    expectProblem(await withdraw(1n), 422, 'payments.withdraw_daily_limit_exceeded');
    assert.equal(await balanceMinor(t.app, user.walletAccountId), 0n);
  });
});

describe('transfer', () => {
  test('by mobile number and by user id, with a memo; both sides get a bill', async () => {
    const alice = await newUser(t.app, { displayName: 'Alice' });
    const bob = await newUser(t.app, { displayName: 'Bob' });
    await fundedUser(t.app, alice, yuan(800));
    const byMobile = await send(t.app, alice, {
      toMobile: bob.mobile,
      amountMinor: '12345',
      memo: '  午饭 AA  ',
    });
    assert.equal(byMobile.statusCode, 201, byMobile.body);
    const bill = byMobile.json<BillJsonForTest>();
    assert.deepEqual(
      [
        bill.kind,
        bill.direction,
        bill.status,
        bill.memo,
        bill.counterparty.displayName,
        bill.counterparty.userId,
      ],
      ['p2p', 'expense', 'succeeded', '午饭 AA', 'Bob', bob.id],
    );
    const byId = await send(t.app, alice, { toUserId: bob.id, amountMinor: '100' });
    assert.equal(byId.statusCode, 201, byId.body);
    assert.equal(byId.json<BillJsonForTest>().memo, null);
    assert.equal(await balanceMinor(t.app, alice.walletAccountId), yuan(800) - 12445n);
    assert.equal(await balanceMinor(t.app, bob.walletAccountId), 12445n);
    const income = await asUser(t.app, bob, 'GET', `/v1/bills/${bill.id}`);
    assert.equal(income.statusCode, 200, income.body);
    const seen = income.json<BillJsonForTest>();
    assert.deepEqual(
      [seen.direction, seen.counterparty.displayName, seen.counterparty.userId, seen.memo],
      ['income', 'Alice', alice.id, '午饭 AA'],
    );
  });

  test('errors come in precedence order and change nothing', async () => {
    const sender = await newUser(t.app);
    const payee = await newUser(t.app);
    await fundedUser(t.app, sender, yuan(100));
    const noPin = await newUser(t.app, { pin: false });
    const ok = { toMobile: payee.mobile, amountMinor: '100', pin: testPin };
    const unknownMobile = '13000000000';
    const cases: [string, () => ReturnType<typeof send>, number, string][] = [
      [
        'no session',
        () => asUser(t.app, null, 'POST', '/v1/transfers', ok),
        401,
        'request.unauthorized',
      ],
      [
        'no key, bad body',
        () =>
          t.app.inject({
            method: 'POST',
            url: '/v1/transfers',
            headers: { authorization: `Bearer ${sender.token}` },
            payload: { amountMinor: -1 },
          }),
        400,
        'idempotency.key_required',
      ],
      [
        'negative',
        () => send(t.app, sender, { ...ok, amountMinor: '-100' }),
        400,
        'request.invalid',
      ],
      ['zero', () => send(t.app, sender, { ...ok, amountMinor: '0' }), 400, 'request.invalid'],
      [
        'fractional',
        () => send(t.app, sender, { ...ok, amountMinor: '1.5' }),
        400,
        'request.invalid',
      ],
      [
        'exponent',
        () => send(t.app, sender, { ...ok, amountMinor: '1e3' }),
        400,
        'request.invalid',
      ],
      [
        'huge',
        () => send(t.app, sender, { ...ok, amountMinor: '1234567890123456789' }),
        400,
        'request.invalid',
      ],
      [
        'a JSON number',
        () => send(t.app, sender, { ...ok, amountMinor: 100 }),
        400,
        'request.invalid',
      ],
      [
        'PIN as a number',
        () => send(t.app, sender, { ...ok, pin: 802413 }),
        400,
        'request.invalid',
      ],
      ['unknown field', () => send(t.app, sender, { ...ok, fee: '0' }), 400, 'request.invalid'],
      [
        'long memo',
        () => send(t.app, sender, { ...ok, memo: '好'.repeat(51) }),
        400,
        'request.invalid',
      ],
      [
        'control character in memo',
        () => send(t.app, sender, { ...ok, memo: 'a\u0007b' }),
        400,
        'request.invalid',
      ],
      [
        'two recipients',
        () => send(t.app, sender, { ...ok, toUserId: payee.id }),
        400,
        'request.invalid',
      ],
      [
        'no recipient, wrong PIN',
        () => send(t.app, sender, { amountMinor: '100', pin: '000001' }),
        400,
        'request.invalid',
      ],
      [
        'unknown recipient, wrong PIN',
        () => send(t.app, sender, { ...ok, toMobile: unknownMobile, pin: '000001' }),
        404,
        'payments.recipient_not_found',
      ],
      [
        'unknown user id',
        () =>
          send(t.app, sender, {
            ...ok,
            toMobile: undefined,
            toUserId: 'usr_00000000-0000-7000-8000-000000000000',
          }),
        404,
        'payments.recipient_not_found',
      ],
      [
        'self, wrong PIN',
        () => send(t.app, sender, { ...ok, toMobile: sender.mobile, pin: '000001' }),
        422,
        'payments.cannot_pay_self',
      ],
      ['no PIN set', () => send(t.app, noPin, ok), 409, 'identity.pin_not_set'],
      [
        'wrong PIN, too much',
        () => send(t.app, sender, { ...ok, amountMinor: '99999999', pin: '000001' }),
        403,
        'identity.pin_wrong',
      ],
      [
        'over the limit and the balance',
        () => send(t.app, sender, { ...ok, amountMinor: '100001' }),
        422,
        'payments.unverified_daily_limit_exceeded',
      ],
      [
        'over the balance',
        () => send(t.app, sender, { ...ok, amountMinor: '10001' }),
        422,
        'ledger.insufficient_funds',
      ],
    ];
    for (const [label, call, status, code] of cases)
      expectProblem(await call(), status, code, label);
    assert.equal(await balanceMinor(t.app, sender.walletAccountId), yuan(100));
    assert.equal(await balanceMinor(t.app, payee.walletAccountId), 0n);
    const bills = await asUser(t.app, sender, 'GET', '/v1/bills?kind=p2p');
    assert.deepEqual(bills.json<{ bills: unknown[] }>().bills, []);
    // Only the insufficient-funds attempt got as far as a payment row, and it is failed.
    assert.deepEqual(await paymentRows(sender.id), [
      { status: 'failed', n: 1n },
      { status: 'succeeded', n: 1n },
    ]);
  });

  test('5 wrong PINs lock payments (423) for 15 minutes', async () => {
    const sender = await newUser(t.app);
    const payee = await newUser(t.app);
    await fundedUser(t.app, sender, yuan(10));
    for (let attempt = 1; attempt <= 4; attempt++)
      expectProblem(
        await send(t.app, sender, { toMobile: payee.mobile, amountMinor: '100', pin: '000001' }),
        403,
        'identity.pin_wrong',
      );
    expectProblem(
      await send(t.app, sender, { toMobile: payee.mobile, amountMinor: '100', pin: '000001' }),
      423,
      'identity.pin_locked',
    );
    expectProblem(
      await send(t.app, sender, { toMobile: payee.mobile, amountMinor: '100' }),
      423,
      'identity.pin_locked',
    );
    t.clock.advance(15 * 60_000 + 1);
    assert.equal(
      (await send(t.app, sender, { toMobile: payee.mobile, amountMinor: '100' })).statusCode,
      201,
    );
  });

  test('unverified users send at most ¥1,000 a day, counted across transfers; verification lifts it', async () => {
    const sender = await newUser(t.app);
    const payee = await newUser(t.app);
    await fundedUser(t.app, sender, yuan(10_000));
    assert.equal(
      (await send(t.app, sender, { toMobile: payee.mobile, amountMinor: '60000' })).statusCode,
      201,
    );
    assert.equal(
      (await send(t.app, sender, { toMobile: payee.mobile, amountMinor: '40000' })).statusCode,
      201,
    );
    const over = expectProblem(
      await send(t.app, sender, { toMobile: payee.mobile, amountMinor: '1' }),
      422,
      'payments.unverified_daily_limit_exceeded',
    );
    assert.equal(over['remainingMinor'], '0');
    assert.match(String(over['detail']), /Verify your real name/);
    t.clock.advance(day);
    assert.equal(
      (await send(t.app, sender, { toMobile: payee.mobile, amountMinor: '100000' })).statusCode,
      201,
    );
    expectProblem(
      await send(t.app, sender, { toMobile: payee.mobile, amountMinor: '1' }),
      422,
      'payments.unverified_daily_limit_exceeded',
    );
    await verifyRealName(t.app, sender);
    assert.equal(
      (await send(t.app, sender, { toMobile: payee.mobile, amountMinor: '500000' })).statusCode,
      201,
    );
    assert.equal(await balanceMinor(t.app, payee.walletAccountId), yuan(7_000));
  });

  test('concurrent transfers cannot both slip under the unverified limit', async () => {
    const sender = await newUser(t.app);
    const payee = await newUser(t.app);
    await fundedUser(t.app, sender, yuan(5_000));
    const responses = await Promise.all(
      Array.from({ length: 4 }, () =>
        send(t.app, sender, { toMobile: payee.mobile, amountMinor: '60000' }),
      ),
    );
    const statuses = responses.map((response) => response.statusCode).sort();
    assert.deepEqual(
      statuses,
      [201, 422, 422, 422],
      responses.map((response) => response.body).join('\n'),
    );
    assert.equal(await balanceMinor(t.app, payee.walletAccountId), yuan(600));
  });
});

describe('idempotency', () => {
  test('a replay returns the same response and moves money once; another body is refused', async () => {
    const sender = await newUser(t.app);
    const payee = await newUser(t.app);
    await fundedUser(t.app, sender, yuan(100));
    const headers = { 'idempotency-key': 'replay-key-1' };
    const first = await send(
      t.app,
      sender,
      { toMobile: payee.mobile, amountMinor: '500' },
      headers,
    );
    const again = await send(
      t.app,
      sender,
      { toMobile: payee.mobile, amountMinor: '500' },
      headers,
    );
    assert.equal(first.statusCode, 201);
    assert.equal(again.statusCode, 201);
    assert.equal(again.headers['idempotency-replayed'], 'true');
    assert.equal(again.body, first.body);
    expectProblem(
      await send(t.app, sender, { toMobile: payee.mobile, amountMinor: '501' }, headers),
      422,
      'idempotency.key_reused',
    );
    assert.equal(await balanceMinor(t.app, payee.walletAccountId), 500n);
  });

  test('a concurrent double submit of one key moves money once', async () => {
    const sender = await newUser(t.app);
    const payee = await newUser(t.app);
    const { cardId } = await fundedUser(t.app, sender, yuan(100));
    const headers = { 'idempotency-key': 'double-submit-1' };
    const responses = await Promise.all(
      [1, 2, 3].map(() =>
        send(t.app, sender, { toMobile: payee.mobile, amountMinor: '700' }, headers),
      ),
    );
    // One attempt moved the money (201); the others found its transfer and answer its bill (200).
    assert.deepEqual(responses.map((response) => response.statusCode).sort(), [200, 200, 201], responses.map((r) => r.body).join('\n'));
    assert.equal(new Set(responses.map((response) => response.json<{ id: string }>().id)).size, 1);
    const topups = await Promise.all(
      [1, 2].map(() =>
        asUser(
          t.app,
          sender,
          'POST',
          '/v1/topups',
          { cardId, amountMinor: '900', pin: testPin },
          { 'idempotency-key': 'double-topup-1' },
        ),
      ),
    );
    assert.ok(topups.some((response) => response.statusCode === 201));
    assert.equal(await balanceMinor(t.app, payee.walletAccountId), 700n);
    assert.equal(await balanceMinor(t.app, sender.walletAccountId), yuan(100) - 700n + 900n);
  });

  test('a crash between the ledger and the payments table never pays twice', async () => {
    const sender = await newUser(t.app);
    const payee = await newUser(t.app);
    await fundedUser(t.app, sender, yuan(100));
    const headers = { 'idempotency-key': 'crash-key-1' };
    const first = await send(
      t.app,
      sender,
      { toMobile: payee.mobile, amountMinor: '300' },
      headers,
    );
    assert.equal(first.statusCode, 201);
    const billId = first.json<BillJsonForTest>().id;
    // As if the process died after the ledger committed, before the payment was marked, and the
    // HTTP record was lost (taken over or pruned): the retry must find the money already moved.
    await rewindToPending(billId);
    await t.db.sql`DELETE FROM http_idempotency_keys WHERE key = ${headers['idempotency-key']}`;
    const retry = await send(
      t.app,
      sender,
      { toMobile: payee.mobile, amountMinor: '300' },
      headers,
    );
    assert.equal(retry.statusCode, 200, retry.body);
    assert.equal(retry.json<BillJsonForTest>().id, billId);
    assert.equal(retry.json<BillJsonForTest>().status, 'succeeded');
    assert.equal(await balanceMinor(t.app, payee.walletAccountId), 300n);
  });

  test('after insufficient funds the same key may try again, and pays once', async () => {
    const sender = await newUser(t.app);
    const payee = await newUser(t.app);
    const { cardId } = await fundedUser(t.app, sender, 0n);
    const headers = { 'idempotency-key': 'retry-after-topup' };
    expectProblem(
      await send(t.app, sender, { toMobile: payee.mobile, amountMinor: '800' }, headers),
      422,
      'ledger.insufficient_funds',
    );
    await topUp(t.app, sender, cardId, 1000n);
    assert.equal(
      (await send(t.app, sender, { toMobile: payee.mobile, amountMinor: '800' }, headers))
        .statusCode,
      201,
    );
    const replay = await send(
      t.app,
      sender,
      { toMobile: payee.mobile, amountMinor: '800' },
      headers,
    );
    assert.equal(replay.headers['idempotency-replayed'], 'true');
    assert.equal(await balanceMinor(t.app, payee.walletAccountId), 800n);
  });

  test('the sweep settles payments left pending by requests that died', async () => {
    const sender = await newUser(t.app);
    const payee = await newUser(t.app);
    await fundedUser(t.app, sender, yuan(10));
    const landed = await send(t.app, sender, { toMobile: payee.mobile, amountMinor: '100' });
    const landedId = landed.json<BillJsonForTest>().id;
    await rewindToPending(landedId);
    expectProblem(
      await send(t.app, sender, { toMobile: payee.mobile, amountMinor: '5000' }),
      422,
      'ledger.insufficient_funds',
    );
    const [never] = await t.db.sql<
      { id: string }[]
    >`SELECT id FROM payments WHERE user_id = ${sender.id} AND status = 'failed'`;
    assert.ok(never !== undefined);
    await rewindToPending(never.id);
    assert.deepEqual(await t.app.payments.settleStale(), { succeeded: 0, failed: 0 });
    t.clock.advance(5 * 60_000 + 1);
    assert.deepEqual(await t.app.payments.settleStale(), { succeeded: 1, failed: 1 });
    const [abandoned] = await t.db.sql<
      { failure_code: string }[]
    >`SELECT failure_code FROM payments WHERE id = ${never.id}`;
    assert.equal(abandoned?.failure_code, 'payments.payment_abandoned');
    assert.equal(
      (await asUser(t.app, sender, 'GET', `/v1/bills/${landedId}`)).json<BillJsonForTest>().status,
      'succeeded',
    );
    assert.equal(await balanceMinor(t.app, payee.walletAccountId), 100n);
  });
});

describe('rate limits', () => {
  test('PIN-bearing routes allow 30 requests a minute per user', async () => {
    const user = await newUser(t.app, { pin: false });
    const other = await newUser(t.app, { pin: false });
    for (let index = 0; index < 30; index++)
      expectProblem(await send(t.app, user, { amountMinor: 'x' }), 400, 'request.invalid');
    expectProblem(await send(t.app, user, { amountMinor: 'x' }), 429, 'request.rate_limited');
    // Each route keeps its own budget.
    expectProblem(await asUser(t.app, user, 'POST', '/v1/topups', {}), 400, 'request.invalid');
    expectProblem(await send(t.app, other, { amountMinor: 'x' }), 400, 'request.invalid');
  });
});

/** Puts a payment back to pending, as a crash before its outcome was recorded would leave it. */
async function rewindToPending(paymentId: string): Promise<void> {
  await t.db.sql`
    UPDATE payments SET status = 'pending', completed_at = NULL, failure_code = NULL, failure_detail = NULL
    WHERE id = ${paymentId}`;
}
