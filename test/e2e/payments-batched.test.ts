/**
 * Goal: the statements that concurrent payments share (kernel/batch.ts, ADR 0006) answer each
 * request exactly as its one-by-one form would: many transfers at once each move their money once
 * and get their own bill; one Idempotency-Key claimed twice in one batch is claimed once; a batch
 * mixing fresh, replayed and reused keys sorts them; a wrong PIN in a batch fails alone; the
 * relaxed commit of those statements does not leak into the pooled session.
 * Method: the whole app on a test schema and a fake clock, many `app.inject()` calls in flight at
 * once; the idempotency store is also called directly, in one tick, so its batches are known.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IdempotencyStore } from '../../src/http/idempotency.ts';
import { connect, relaxedCommit } from '../../src/kernel/db.ts';
import { ledgerTransferId, requestFingerprint, shanghaiDay } from '../../src/payments/model.ts';
import { asUser, closeReconciled, createTestApp, testPin, type TestApp } from '../../src/testing/app.ts';
import {
  balanceMinor,
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

async function verifiedFunded(amountMinor: bigint) {
  const user = await newUser(t.app);
  await fundedUser(t.app, user, amountMinor);
  await verifyRealName(t.app, user);
  return user;
}

describe('concurrent payments through shared statements', () => {
  test('forty transfers at once each move their money once and get their own bill', async () => {
    // Two payers: each may make 30 payments a minute.
    const payers = [await verifiedFunded(10_000n), await verifiedFunded(10_000n)] as const;
    const payees = await Promise.all(Array.from({ length: 4 }, () => newUser(t.app)));
    const payerOf = (index: number) => payers[index % 2 === 0 ? 0 : 1];
    const payeeOf = (index: number) => payees[index % payees.length];
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        send(t.app, payerOf(index), {
          toUserId: payeeOf(index)?.id,
          amountMinor: String(index + 1),
          memo: `n${String(index)}`,
        }),
      ),
    );
    const bills = responses.map((response) => {
      assert.equal(response.statusCode, 201, response.body);
      return response.json<BillJsonForTest>();
    });
    assert.equal(new Set(bills.map((bill) => bill.id)).size, 40);
    bills.forEach((bill, index) => {
      assert.equal(bill.amountMinor, String(index + 1));
      assert.equal(bill.memo, `n${String(index)}`);
      assert.equal(bill.status, 'succeeded');
      assert.equal(bill.counterparty.userId, payeeOf(index)?.id);
    });
    const sentBy = (parity: number) =>
      bills.reduce((sum, bill, index) => (index % 2 === parity ? sum + BigInt(bill.amountMinor) : sum), 0n);
    for (const [parity, payer] of payers.entries()) {
      assert.equal(await balanceMinor(t.app, payer.walletAccountId), 10_000n - sentBy(parity));
      const listed = await asUser(t.app, payer, 'GET', '/v1/bills?limit=100&kind=p2p');
      assert.equal(listed.json<{ bills: unknown[] }>().bills.length, 20);
    }
    let receivedMinor = 0n;
    for (const payee of payees) receivedMinor += await balanceMinor(t.app, payee.walletAccountId);
    assert.equal(receivedMinor, BigInt((40 * 41) / 2));
  });

  test('one key sent five times at once moves the money once; the rest answer its bill', async () => {
    const payer = await verifiedFunded(1_000n);
    const payee = await newUser(t.app);
    const headers = { 'idempotency-key': 'same-key-5x' };
    const responses = await Promise.all(
      Array.from({ length: 5 }, () =>
        send(t.app, payer, { toUserId: payee.id, amountMinor: '70' }, headers),
      ),
    );
    // No claim row makes the others wait (ADR 0014): the attempt whose transfer the ledger
    // created answers 201, the others find that transfer and answer the same bill with 200.
    const statuses = responses.map((response) => response.statusCode);
    assert.deepEqual([...statuses].sort(), [200, 200, 200, 200, 201], statuses.join());
    const ids = new Set(responses.map((r) => r.json<BillJsonForTest>().id));
    assert.equal(ids.size, 1);
    assert.equal(await balanceMinor(t.app, payee.walletAccountId), 70n);
    const retried = await send(t.app, payer, { toUserId: payee.id, amountMinor: '70' }, headers);
    assert.equal(retried.statusCode, 201);
    assert.equal(retried.headers['idempotency-replayed'], 'true');
    assert.equal(await balanceMinor(t.app, payee.walletAccountId), 70n);
  });

  test('a wrong PIN among concurrent payments fails alone and moves nothing', async () => {
    const payer = await verifiedFunded(1_000n);
    const other = await verifiedFunded(1_000n);
    const payee = await newUser(t.app);
    const [good, wrong, alsoGood] = await Promise.all([
      send(t.app, payer, { toUserId: payee.id, amountMinor: '10' }),
      send(t.app, other, { toUserId: payee.id, amountMinor: '20', pin: '000001' }),
      send(t.app, payer, { toUserId: payee.id, amountMinor: '30', pin: testPin }),
    ]);
    assert.equal(good?.statusCode, 201);
    assert.equal(alsoGood?.statusCode, 201);
    assert.equal(wrong?.json<{ code: string }>().code, 'identity.pin_wrong');
    assert.equal(await balanceMinor(t.app, other.walletAccountId), 1_000n);
    assert.equal(await balanceMinor(t.app, payee.walletAccountId), 40n);
  });
});

describe('direct payments: the row and bills are written by the ledger batch', () => {
  const forgetKey = (key: string) => t.db.sql`DELETE FROM http_idempotency_keys WHERE key = ${key}`;
  const paymentRows = (key: string) =>
    t.db.sql<{ id: string; status: string; completed_at: Date | null }[]>`
      SELECT id, status, completed_at FROM payments WHERE request_key = ${key} ORDER BY created_at`;

  test("a verified payer's transfer is never pending; its row, bills and transfer exist together", async () => {
    const payer = await verifiedFunded(1_000n);
    const payee = await newUser(t.app);
    const response = await send(t.app, payer, { toUserId: payee.id, amountMinor: '120', memo: 'direct' }, { 'idempotency-key': 'direct-1' });
    assert.equal(response.statusCode, 201, response.body);
    const bill = response.json<BillJsonForTest>();
    const [row] = await paymentRows('direct-1');
    assert.equal(row?.id, bill.id);
    assert.equal(row.status, 'succeeded');
    assert.ok(row.completed_at !== null);
    const [counts] = await t.db.sql<{ bills: bigint; transfers: bigint }[]>`
      SELECT (SELECT count(*) FROM payments_bills WHERE payment_id = ${bill.id})::int8 AS bills,
             (SELECT count(*) FROM ledger_transfers WHERE id = ${bill.transactionNo})::int8 AS transfers`;
    assert.deepEqual(counts, { bills: 2n, transfers: 1n });
    // The same bill as the bills API reads it.
    const read = await asUser(t.app, payer, 'GET', `/v1/bills/${bill.id}`);
    assert.deepEqual(read.json(), response.json());
    // The key's record was completed in the same transaction, with the very body that was sent.
    const [key] = await t.db.sql<{ state: string; status_code: number; response_body: string }[]>`
      SELECT state, status_code, response_body FROM http_idempotency_keys WHERE key = 'direct-1'`;
    assert.deepEqual([key?.state, key?.status_code, key?.response_body], ['completed', 201, response.body]);
    const replay = await send(t.app, payer, { toUserId: payee.id, amountMinor: '120', memo: 'direct' }, { 'idempotency-key': 'direct-1' });
    assert.equal(replay.headers['idempotency-replayed'], 'true');
    assert.equal(replay.body, response.body);
  });

  test('a transfer claims no key row first: its record is written once, completed, with the payment', async () => {
    const payer = await verifiedFunded(1_000n);
    const payee = await newUser(t.app);
    const key = 'deferred-1';
    const { result: response, count: keyWrites } = await t.db.countStatements(
      () => send(t.app, payer, { toUserId: payee.id, amountMinor: '40' }, { 'idempotency-key': key }),
      /(INSERT INTO|UPDATE) http_idempotency_keys/,
    );
    assert.equal(response.statusCode, 201, response.body);
    // One statement wrote the key: the ledger batch's recording of the payment. No in-flight claim.
    assert.equal(keyWrites, 1);
    const rows = await t.db.sql<{ state: string; attempt: number; status_code: number; response_body: string }[]>`
      SELECT state, attempt, status_code, response_body FROM http_idempotency_keys WHERE key = ${key}`;
    assert.deepEqual(rows.map((row) => [row.state, row.attempt, row.status_code, row.response_body]), [['completed', 1, 201, response.body]]);
    const replay = await send(t.app, payer, { toUserId: payee.id, amountMinor: '40' }, { 'idempotency-key': key });
    assert.equal(replay.statusCode, 201);
    assert.equal(replay.headers['idempotency-replayed'], 'true');
    assert.equal(replay.body, response.body);
    assert.equal(await balanceMinor(t.app, payee.walletAccountId), 40n);
  });

  test('a final refusal on a transfer is stored and replayed; a retryable one is not kept', async () => {
    const payer = await verifiedFunded(100n);
    const payee = await newUser(t.app);
    const missing = { toUserId: 'usr_00000000-0000-7000-8000-000000000000', amountMinor: '10' };
    const refused = await send(t.app, payer, missing, { 'idempotency-key': 'deferred-2' });
    assert.equal(refused.statusCode, 404, refused.body);
    const replayed = await send(t.app, payer, missing, { 'idempotency-key': 'deferred-2' });
    assert.equal(replayed.statusCode, 404);
    assert.equal(replayed.headers['idempotency-replayed'], 'true');
    assert.equal(replayed.body, refused.body);
    // Another body under that key is a reuse, not a new transfer.
    const reused = await send(t.app, payer, { toUserId: payee.id, amountMinor: '10' }, { 'idempotency-key': 'deferred-2' });
    assert.equal(reused.json<{ code: string }>().code, 'idempotency.key_reused');
    // Insufficient funds is retryable: nothing is kept, and the same key pays once funds are there.
    const poor = await send(t.app, payer, { toUserId: payee.id, amountMinor: '500' }, { 'idempotency-key': 'deferred-3' });
    assert.equal(poor.json<{ code: string }>().code, 'ledger.insufficient_funds');
    const [kept] = await t.db.sql<{ n: bigint }[]>`SELECT count(*)::int8 AS n FROM http_idempotency_keys WHERE key = 'deferred-3'`;
    assert.equal(kept?.n, 0n);
    assert.equal(await balanceMinor(t.app, payee.walletAccountId), 0n);
  });

  test('a refused direct payment leaves no row; the same key succeeds once funds arrive', async () => {
    const payer = await newUser(t.app);
    const { cardId } = await fundedUser(t.app, payer, 100n);
    await verifyRealName(t.app, payer);
    const payee = await newUser(t.app);
    const body = { toUserId: payee.id, amountMinor: '300' };
    const refused = await send(t.app, payer, body, { 'idempotency-key': 'direct-2' });
    assert.equal(refused.json<{ code: string }>().code, 'ledger.insufficient_funds');
    assert.equal((await paymentRows('direct-2')).length, 0);
    await topUp(t.app, payer, cardId, 500n);
    const paid = await send(t.app, payer, body, { 'idempotency-key': 'direct-2' });
    assert.equal(paid.statusCode, 201, paid.body);
    assert.equal((await paymentRows('direct-2')).length, 1);
    assert.equal(await balanceMinor(t.app, payee.walletAccountId), 300n);
  });

  test('with its key record gone, a retry finds the transfer and its row; another amount is a reuse', async () => {
    const payer = await verifiedFunded(1_000n);
    const payee = await newUser(t.app);
    const first = await send(t.app, payer, { toUserId: payee.id, amountMinor: '50' }, { 'idempotency-key': 'direct-3' });
    await forgetKey('direct-3');
    const again = await send(t.app, payer, { toUserId: payee.id, amountMinor: '50' }, { 'idempotency-key': 'direct-3' });
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(again.json<BillJsonForTest>().id, first.json<BillJsonForTest>().id);
    await forgetKey('direct-3');
    const other = await send(t.app, payer, { toUserId: payee.id, amountMinor: '51' }, { 'idempotency-key': 'direct-3' });
    assert.equal(other.json<{ code: string }>().code, 'idempotency.key_reused');
    assert.equal(await balanceMinor(t.app, payee.walletAccountId), 50n);
  });

  test("an earlier attempt's pending row keeps the key: the direct retry settles that row", async () => {
    const payer = await verifiedFunded(1_000n);
    const payee = await newUser(t.app);
    // An attempt that recorded its pending row and stopped before the ledger (the user was not
    // verified then); its Idempotency-Key record is gone.
    const key = 'direct-4';
    const now = t.clock.now();
    await t.db.sql`
      INSERT INTO payments (id, kind, status, user_id, payee_user_id, debit_account_id, credit_account_id,
        amount_minor, currency, request_key, request_sha256, ledger_transfer_id, day, created_at)
      VALUES (${t.app.ids.next('pay')}, 'p2p', 'pending', ${payer.id}, ${payee.id}, ${payer.walletAccountId},
        ${payee.walletAccountId}, 70, 'CNY', ${key},
        ${requestFingerprint({ kind: 'p2p', counterpartyId: payee.id, amountMinor: 70n, memo: null })},
        ${ledgerTransferId({ userId: payer.id, kind: 'p2p', requestKey: key })}, ${shanghaiDay(now.getTime())}::date, ${now})`;
    const [pending] = await paymentRows(key);
    await t.db.sql`
      INSERT INTO payments_bills (user_id, payment_id, direction, kind, amount_minor, counterparty_user_id,
        counterparty_name, created_at)
      VALUES (${payer.id}, ${pending?.id ?? ''}, 'expense', 'p2p', 70, ${payee.id}, 'payee', ${now}),
        (${payee.id}, ${pending?.id ?? ''}, 'income', 'p2p', 70, ${payer.id}, 'payer', ${now})`;
    const retried = await send(t.app, payer, { toUserId: payee.id, amountMinor: '70' }, { 'idempotency-key': key });
    assert.equal(retried.statusCode, 201, retried.body);
    assert.equal(retried.json<BillJsonForTest>().id, pending?.id);
    const rows = await paymentRows(key);
    assert.deepEqual(rows.map((row) => [row.id, row.status]), [[pending?.id, 'succeeded']]);
    assert.equal(await balanceMinor(t.app, payee.walletAccountId), 70n);
  });
});

describe('idempotency claims in one batch', () => {
  const scope = (key: string) => ({ principal: 'usr_batch', route: 'POST /v1/test', key });

  test('fresh, duplicate, replayed and reused keys in one batch each get their own answer', async () => {
    const store = new IdempotencyStore({ sql: t.db.sql, clock: t.clock });
    const done = await store.claim(scope('done'), 'a'.repeat(64));
    assert.equal(done.kind, 'claimed');
    if (done.kind !== 'claimed') return;
    assert.equal(await store.complete(done.claim, { statusCode: 201, contentType: 'application/json', body: '{"ok":true}' }), true);
    // All five in one tick: one statement claims the fresh ones, the rest are answered one by one.
    const [fresh, first, second, replay, reused] = await Promise.all([
      store.claim(scope('fresh'), 'b'.repeat(64)),
      store.claim(scope('twice'), 'c'.repeat(64)),
      store.claim(scope('twice'), 'c'.repeat(64)),
      store.claim(scope('done'), 'a'.repeat(64)),
      store.claim(scope('done'), 'd'.repeat(64)),
    ]);
    assert.equal(fresh?.kind, 'claimed');
    assert.deepEqual([first?.kind, second?.kind].sort(), ['claimed', 'in_flight']);
    assert.equal(replay?.kind, 'replay');
    if (replay?.kind === 'replay') assert.equal(replay.response.body, '{"ok":true}');
    assert.equal(reused?.kind, 'reused');
  });

  test('completions in one batch are fenced by attempt, each on its own', async () => {
    const store = new IdempotencyStore({ sql: t.db.sql, clock: t.clock });
    const a = await store.claim(scope('fence-a'), 'e'.repeat(64));
    const b = await store.claim(scope('fence-b'), 'e'.repeat(64));
    assert.ok(a.kind === 'claimed' && b.kind === 'claimed');
    const response = { statusCode: 200, contentType: null, body: 'done' };
    const [good, stale] = await Promise.all([
      store.complete(a.claim, response),
      store.complete({ ...b.claim, attempt: b.claim.attempt + 1 }, response),
    ]);
    assert.deepEqual([good, stale], [true, false]);
  });
});

test('a relaxed commit applies to its own statement only, not to the pooled session', async () => {
  const sql = connect({ url: t.db.url, schema: t.db.schema, poolSize: 1 });
  try {
    await sql`SELECT 1 FROM ${relaxedCommit(sql)}`;
    const [row] = await sql<{ synchronous_commit: string }[]>`SHOW synchronous_commit`;
    assert.equal(row?.synchronous_commit, 'on');
  } finally {
    await sql.end();
  }
});
