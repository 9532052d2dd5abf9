/**
 * Goal: the reference audit that stands in for the payment rows' foreign keys (ADR 0012) — after
 * real payments (a transfer with its two bills, a top-up naming a card) every reference resolves
 * and the whole reconciliation is ok; a row naming a missing parent (each kind: a payment's user,
 * a bill's payment, a share's grabber) makes it fail, naming the column and the missing id.
 * Method: the whole app on a test schema; orphans written with plain SQL, as only a bug could.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { asUser, createTestApp, signUpUser, type TestApp, type TestUser } from '../testing/app.ts';
import { auditReferences, paymentReferences, reconcileAll } from './references.ts';

let t: TestApp;
let alice: TestUser;
let bob: TestUser;

before(async () => {
  t = await createTestApp();
  alice = await signUpUser(t.app);
  bob = await signUpUser(t.app);
  const card = await asUser(t.app, alice, 'POST', '/v1/cards', { bank: 'ICBC', last4: '1234' });
  assert.equal(card.statusCode, 201, card.body);
  const topUp = await asUser(t.app, alice, 'POST', '/v1/topups', { cardId: card.json<{ id: string }>().id, amountMinor: '5000', pin: '802413' });
  assert.equal(topUp.statusCode, 201, topUp.body);
  const transfer = await asUser(t.app, alice, 'POST', '/v1/transfers', { toUserId: bob.id, amountMinor: '1200', pin: '802413', memo: 'lunch' });
  assert.equal(transfer.statusCode, 201, transfer.body);
});
after(() => t.close());

test('after real payments every reference resolves and the reconciliation is ok', async () => {
  const [counts] = await t.db.sql<{ payments: number; bills: number }[]>`
    SELECT (SELECT count(*) FROM payments)::int AS payments, (SELECT count(*) FROM payments_bills)::int AS bills`;
  assert.ok((counts?.payments ?? 0) >= 2 && (counts?.bills ?? 0) >= 3, 'the payments were written');
  assert.deepEqual(await auditReferences(t.db.sql), []);
  const report = await reconcileAll(t.db.sql);
  assert.equal(report.ok, true, JSON.stringify(report.problems));
});

test('the payment rows hold no foreign keys: the audit lists every reference they dropped', async () => {
  const keys = await t.db.sql<{ table: string; column: string }[]>`
    SELECT c.conrelid::regclass::text AS table, a.attname AS column
    FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
    WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace
      AND c.conrelid::regclass::text IN ('payments', 'payments_bills', 'redpacket_shares')`;
  assert.deepEqual([...keys], []);
  const audited = new Set(paymentReferences.map((r) => `${r.table}.${r.column}`));
  const referencing = await t.db.sql<{ name: string }[]>`
    SELECT table_name || '.' || column_name AS name FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name IN ('payments', 'payments_bills', 'redpacket_shares')
      AND (column_name LIKE '%user_id' OR column_name LIKE '%\\_id' ESCAPE '\\' OR column_name = 'grabbed_by')
      AND column_name NOT IN ('id', 'request_key', 'ledger_transfer_id', 'debit_account_id', 'credit_account_id', 'budget_account_id')`;
  for (const { name } of referencing) assert.ok(audited.has(name), `${name} is audited`);
});

test('a row naming a missing parent fails the reconciliation, named', async () => {
  const [payment] = await t.db.sql<{ id: string }[]>`SELECT id FROM payments WHERE kind = 'p2p'`;
  assert.ok(payment !== undefined);
  await t.db.sql.begin(async (tx) => {
    await tx`UPDATE payments SET payee_user_id = 'usr_missing' WHERE id = ${payment.id}`;
    await tx`INSERT INTO payments_bills (user_id, payment_id, direction, kind, amount_minor, counterparty_name, created_at)
      VALUES (${alice.id}, 'pay_missing', 'expense', 'p2p', 1, 'nobody', now())`;
  });
  const problems = await auditReferences(t.db.sql);
  const named = problems.map((p) => `${p.subject}: ${p.actual}`).sort();
  assert.deepEqual(named, [
    `payments.payee_user_id of ${payment.id}: no row usr_missing`,
    `payments_bills.payment_id of pay_missing for ${alice.id}: no row pay_missing`,
  ]);
  const report = await reconcileAll(t.db.sql);
  assert.equal(report.ok, false);
  assert.ok(report.problems.every((p) => p.check === 'reference_exists'), 'the ledger itself still reconciles');
  // Put right, so the schema closes clean.
  await t.db.sql.begin(async (tx) => {
    await tx`UPDATE payments SET payee_user_id = ${bob.id} WHERE id = ${payment.id}`;
    await tx`DELETE FROM payments_bills WHERE payment_id = 'pay_missing'`;
  });
  assert.deepEqual(await auditReferences(t.db.sql), []);
});
