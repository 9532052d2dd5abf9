/**
 * Goal: bills end to end — the list (newest first; filters by direction, Asia/Shanghai month and
 * kind; cursor pages), the detail (another user's bill answers 404 like a missing one), the monthly
 * summary the chart draws (income, spending, by kind; top-ups and withdrawals count as neither),
 * what is and is not a bill (failed payments are not; a payee sees money only once it arrived),
 * and bad queries refused with 400.
 * Method: three users make a fixed history on a fake clock that crosses a Shanghai month boundary
 * (the boundary falls at 16:00 UTC), through app.inject(); then every query is checked against it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import {
  asUser,
  closeReconciled,
  createTestApp,
  testPin,
  type TestApp,
  type TestUser,
} from '../../src/testing/app.ts';
import {
  expectProblem,
  fundedUser,
  newUser,
  send,
  type BillJsonForTest,
} from '../../src/payments/testing.ts';

let t: TestApp;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
/** Alice's bills by name, in the order they were made. */
const made: Record<string, string> = {};

interface PageJson {
  bills: BillJsonForTest[];
  nextCursor: string | null;
}

async function paid(name: string, response: LightMyRequestResponse): Promise<void> {
  assert.equal(response.statusCode, 201, response.body);
  made[name] = response.json<BillJsonForTest>().id;
  t.clock.advance(60_000);
}

before(async () => {
  t = await createTestApp();
  alice = await newUser(t.app, { displayName: 'Alice' });
  bob = await newUser(t.app, { displayName: 'Bob' });
  carol = await newUser(t.app, { displayName: 'Carol' });
  const { cardId } = await fundedUser(t.app, alice, 0n);
  await fundedUser(t.app, bob, 10_000n);
  await paid(
    'topup',
    await asUser(t.app, alice, 'POST', '/v1/topups', {
      cardId,
      amountMinor: '100000',
      pin: testPin,
    }),
  );
  await paid(
    'rent',
    await send(t.app, alice, { toMobile: bob.mobile, amountMinor: '20000', memo: '房租' }),
  );
  await paid('refund', await send(t.app, bob, { toUserId: alice.id, amountMinor: '5000' }));
  await paid(
    'withdraw',
    await asUser(t.app, alice, 'POST', '/v1/withdrawals', {
      cardId,
      amountMinor: '10000',
      pin: testPin,
    }),
  );
  // 23:30 and 00:10 in Shanghai on either side of 1 February.
  t.clock.set(Date.UTC(2026, 0, 31, 15, 30));
  await paid(
    'lastOfJanuary',
    await send(t.app, alice, { toMobile: carol.mobile, amountMinor: '111' }),
  );
  t.clock.set(Date.UTC(2026, 0, 31, 16, 10));
  await paid(
    'firstOfFebruary',
    await send(t.app, alice, { toMobile: carol.mobile, amountMinor: '222' }),
  );
  // A failed payment is not a bill.
  expectProblem(
    await send(t.app, alice, { toMobile: carol.mobile, amountMinor: '80000' }),
    422,
    'ledger.insufficient_funds',
  );
});

after(() => closeReconciled(t));

async function ids(user: TestUser, query: string): Promise<string[]> {
  const response = await asUser(t.app, user, 'GET', `/v1/bills${query}`);
  assert.equal(response.statusCode, 200, response.body);
  return response.json<PageJson>().bills.map((bill) => bill.id);
}

const names = (...keys: string[]): string[] => keys.map((key) => made[key] ?? `missing ${key}`);

describe('the bill list', () => {
  test('is newest first and filters by direction, kind and Shanghai month', async () => {
    assert.deepEqual(
      await ids(alice, ''),
      names('firstOfFebruary', 'lastOfJanuary', 'withdraw', 'refund', 'rent', 'topup'),
    );
    assert.deepEqual(
      await ids(alice, '?direction=expense'),
      names('firstOfFebruary', 'lastOfJanuary', 'rent'),
    );
    assert.deepEqual(await ids(alice, '?direction=income'), names('refund'));
    assert.deepEqual(await ids(alice, '?direction=neutral'), names('withdraw', 'topup'));
    assert.deepEqual(await ids(alice, '?kind=topup'), names('topup'));
    assert.deepEqual(
      await ids(alice, '?month=2026-01'),
      names('lastOfJanuary', 'withdraw', 'refund', 'rent', 'topup'),
    );
    assert.deepEqual(await ids(alice, '?month=2026-02'), names('firstOfFebruary'));
    assert.deepEqual(
      await ids(alice, '?month=2026-01&direction=expense&kind=p2p'),
      names('lastOfJanuary', 'rent'),
    );
    assert.deepEqual(await ids(alice, '?month=2025-12'), []);
    assert.deepEqual(await ids(carol, ''), names('firstOfFebruary', 'lastOfJanuary'));
  });

  test('each line names the other side, the memo, the amount and the status', async () => {
    const response = await asUser(t.app, alice, 'GET', '/v1/bills?month=2026-01');
    const byId = new Map(response.json<PageJson>().bills.map((bill) => [bill.id, bill]));
    const rent = byId.get(made['rent'] ?? '');
    assert.deepEqual(
      [
        rent?.direction,
        rent?.amountMinor,
        rent?.memo,
        rent?.status,
        rent?.counterparty.displayName,
        rent?.counterparty.userId,
      ],
      ['expense', '20000', '房租', 'succeeded', 'Bob', bob.id],
    );
    const topup = byId.get(made['topup'] ?? '');
    assert.deepEqual(
      [topup?.kind, topup?.direction, topup?.counterparty.type, topup?.counterparty.last4],
      ['topup', 'neutral', 'bank_card', '6222'],
    );
    const bobsView = await asUser(t.app, bob, 'GET', `/v1/bills/${made['rent'] ?? ''}`);
    assert.deepEqual(
      [
        bobsView.json<BillJsonForTest>().direction,
        bobsView.json<BillJsonForTest>().counterparty.displayName,
      ],
      ['income', 'Alice'],
    );
  });

  test('pages with a cursor until it runs out', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const query: string =
        cursor === null ? '?limit=4' : `?limit=4&cursor=${encodeURIComponent(cursor)}`;
      const body: PageJson = (
        await asUser(t.app, alice, 'GET', `/v1/bills${query}`)
      ).json<PageJson>();
      seen.push(...body.bills.map((bill) => bill.id));
      cursor = body.nextCursor;
      if (cursor === null) break;
    }
    assert.deepEqual(seen, await ids(alice, ''));
  });

  test('bad queries are 400; no session is 401', async () => {
    for (const query of [
      '?limit=0',
      '?limit=101',
      '?limit=ten',
      '?month=2026-13',
      '?month=2026-1',
      '?direction=sideways',
      '?kind=bogus',
      '?page=2',
      '?cursor=bm90LWEtY3Vyc29y',
    ]) {
      expectProblem(
        await asUser(t.app, alice, 'GET', `/v1/bills${query}`),
        400,
        'request.invalid',
        query,
      );
    }
    expectProblem(await asUser(t.app, null, 'GET', '/v1/bills'), 401, 'request.unauthorized');
    expectProblem(
      await asUser(t.app, null, 'GET', '/v1/bills/summary'),
      401,
      'request.unauthorized',
    );
  });
});

describe('bill detail', () => {
  test("another user's bill, a missing one and a malformed id are refused", async () => {
    const own = await asUser(t.app, alice, 'GET', `/v1/bills/${made['withdraw'] ?? ''}`);
    assert.equal(own.statusCode, 200, own.body);
    assert.equal(own.json<BillJsonForTest>().kind, 'withdraw');
    expectProblem(
      await asUser(t.app, carol, 'GET', `/v1/bills/${made['withdraw'] ?? ''}`),
      404,
      'payments.bill_not_found',
    );
    expectProblem(
      await asUser(t.app, carol, 'GET', `/v1/bills/${made['rent'] ?? ''}`),
      404,
      'payments.bill_not_found',
    );
    expectProblem(
      await asUser(t.app, alice, 'GET', '/v1/bills/pay_00000000-0000-7000-8000-000000000000'),
      404,
      'payments.bill_not_found',
    );
    expectProblem(await asUser(t.app, alice, 'GET', '/v1/bills/12345'), 400, 'request.invalid');
  });

  test("a payment still in flight is the payer's pending bill and not yet the payee's", async () => {
    const response = await send(t.app, bob, { toMobile: carol.mobile, amountMinor: '300' });
    const id = response.json<BillJsonForTest>().id;
    await t.db.sql`UPDATE payments SET status = 'pending', completed_at = NULL WHERE id = ${id}`;
    assert.equal(
      (await asUser(t.app, bob, 'GET', `/v1/bills/${id}`)).json<BillJsonForTest>().status,
      'pending',
    );
    expectProblem(
      await asUser(t.app, carol, 'GET', `/v1/bills/${id}`),
      404,
      'payments.bill_not_found',
    );
    await t.db
      .sql`UPDATE payments SET status = 'succeeded', completed_at = created_at WHERE id = ${id}`;
    assert.equal(
      (await asUser(t.app, carol, 'GET', `/v1/bills/${id}`)).json<BillJsonForTest>().direction,
      'income',
    );
  });
});

describe('the monthly summary', () => {
  test('totals income and spending by kind; top-ups and withdrawals are neither', async () => {
    const january = await asUser(t.app, alice, 'GET', '/v1/bills/summary?month=2026-01');
    assert.equal(january.statusCode, 200, january.body);
    assert.deepEqual(january.json(), {
      month: '2026-01',
      currency: 'CNY',
      incomeMinor: '5000',
      expenseMinor: '20111',
      byKind: [
        { kind: 'p2p', direction: 'expense', amountMinor: '20111', count: 2 },
        { kind: 'p2p', direction: 'income', amountMinor: '5000', count: 1 },
        { kind: 'topup', direction: 'neutral', amountMinor: '100000', count: 1 },
        { kind: 'withdraw', direction: 'neutral', amountMinor: '10000', count: 1 },
      ],
    });
  });

  test('defaults to the current Shanghai month', async () => {
    // The clock stands just after midnight of 1 February in Shanghai (still 31 January in UTC).
    const current = (await asUser(t.app, alice, 'GET', '/v1/bills/summary')).json<{
      month: string;
      expenseMinor: string;
    }>();
    assert.deepEqual([current.month, current.expenseMinor], ['2026-02', '222']);
    expectProblem(
      await asUser(t.app, alice, 'GET', '/v1/bills/summary?month=2026-00'),
      400,
      'request.invalid',
    );
  });
});
