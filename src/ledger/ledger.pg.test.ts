/**
 * Goal: the ledger's contract on a real PostgreSQL — transfers, idempotency, every failure result
 * in precedence order (and that a failure changes nothing), linked groups, two-phase holds, hot
 * accounts, statements, the append-only journal, reconcile and the hash chain.
 * Method: one schema per file; a Ledger on a fake clock; balances read back from the database.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDb, type TestDb } from '../testing/pg.ts';
import { createTestLedger, systemInput, walletInput } from '../testing/ledger.ts';
import { reconcile, verifyChain, type Ledger, type SubmitResult } from './index.ts';
import type { FakeClock } from '../kernel/clock.ts';

let db: TestDb;
let ledger: Ledger;
let clock: FakeClock;
let counter = 0;
const nextId = (label: string): string => `${label}-${String(++counter)}`;

before(async () => {
  db = await createTestDb();
  ({ ledger, clock } = createTestLedger(db.sql));
});
after(async () => {
  await ledger.close();
  await db.close();
});

async function funded(amountMinor: bigint): Promise<{ bank: string; wallet: string }> {
  const bank = (await ledger.createAccount(systemInput())).id;
  const wallet = (await ledger.createAccount(walletInput())).id;
  if (amountMinor > 0n) {
    const result = await ledger.transfer({ id: nextId('topup'), type: 'posted', debitAccountId: bank, creditAccountId: wallet, amountMinor, currency: 'CNY', kind: 'topup' });
    assert.equal(result.status, 'created');
  }
  return { bank, wallet };
}

async function balance(id: string): Promise<bigint> {
  const account = await ledger.getAccount(id);
  assert.ok(account);
  return account.balanceMinor;
}

function failure(result: SubmitResult | undefined): string {
  assert.ok(result);
  assert.equal(result.status, 'failed', `expected a failure, got ${result.status}`);
  return result.error;
}

describe('transfers', () => {
  test('a posted transfer moves money and balances both sides', async () => {
    const { bank, wallet } = await funded(10_000n);
    assert.equal(await balance(wallet), 10_000n);
    assert.equal(await balance(bank), -10_000n);
  });

  test('same id and fields returns the first result; different fields are typed errors', async () => {
    const { bank, wallet } = await funded(0n);
    const request = { id: nextId('t'), type: 'posted' as const, debitAccountId: bank, creditAccountId: wallet, amountMinor: 500n, currency: 'CNY', kind: 'topup', metadata: { order: 'o-1' } };
    const first = await ledger.transfer(request);
    const again = await ledger.transfer(request);
    assert.ok(first.status === 'created', first.status);
    assert.ok(again.status === 'exists', again.status);
    assert.equal(again.transfer.seq, first.transfer.seq);
    assert.equal(failure(await ledger.transfer({ ...request, amountMinor: 501n })), 'ledger.exists_with_different_amount');
    assert.equal(failure(await ledger.transfer({ ...request, creditAccountId: bank, debitAccountId: wallet })), 'ledger.exists_with_different_debit_account_id');
    assert.equal(failure(await ledger.transfer({ ...request, kind: 'refund' })), 'ledger.exists_with_different_kind');
    assert.equal(failure(await ledger.transfer({ ...request, metadata: { order: 'o-2' } })), 'ledger.exists_with_different_metadata');
    assert.equal(failure(await ledger.transfer({ ...request, type: 'pending' })), 'ledger.exists_with_different_type');
    // The idempotency check runs before validation: a retry of an existing id with a bad amount
    // says the amount differs, not that it is invalid.
    assert.equal(failure(await ledger.transfer({ ...request, amountMinor: -1n })), 'ledger.exists_with_different_amount');
    assert.equal(await balance(wallet), 500n);
  });

  test('concurrent retries of one id move money once', async () => {
    const { bank, wallet } = await funded(0n);
    const request = { id: nextId('dup'), type: 'posted' as const, debitAccountId: bank, creditAccountId: wallet, amountMinor: 7n, currency: 'CNY', kind: 'topup' };
    const results = await Promise.all(Array.from({ length: 20 }, () => ledger.transfer(request)));
    assert.equal(results.filter((r) => r.status === 'created').length, 1);
    assert.equal(results.filter((r) => r.status === 'exists').length, 19);
    assert.equal(await balance(wallet), 7n);
  });

  test('failures in precedence order, each changing nothing', async () => {
    const { bank, wallet } = await funded(100n);
    const other = (await ledger.createAccount(walletInput())).id;
    const base = { type: 'posted' as const, debitAccountId: wallet, creditAccountId: other, amountMinor: 10n, currency: 'CNY', kind: 'p2p' };
    const cases: [Partial<typeof base> & { id?: string; timeoutSeconds?: number }, string][] = [
      [{ id: 'has space' }, 'ledger.id_invalid'],
      [{ kind: 'Bad Kind' }, 'ledger.kind_invalid'],
      [{ timeoutSeconds: 5 }, 'ledger.timeout_only_for_pending'],
      [{ amountMinor: 0n }, 'ledger.amount_must_be_positive'],
      [{ amountMinor: -5n }, 'ledger.amount_must_be_positive'],
      [{ amountMinor: 100_000_000_001n }, 'ledger.amount_exceeds_maximum'],
      [{ creditAccountId: wallet }, 'ledger.accounts_must_be_different'],
      [{ debitAccountId: 'acct_missing' }, 'ledger.debit_account_not_found'],
      [{ creditAccountId: 'acct_missing' }, 'ledger.credit_account_not_found'],
      [{ currency: 'USD' }, 'ledger.currency_mismatch'],
      [{ amountMinor: 101n }, 'ledger.insufficient_funds'],
    ];
    for (const [override, code] of cases) {
      const result = await ledger.transfer({ ...base, id: nextId('bad'), ...override });
      assert.equal(failure(result), code, JSON.stringify(override, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    }
    assert.equal(await balance(wallet), 100n);
    assert.equal(await balance(other), 0n);
    assert.equal(await balance(bank), -100n);
  });

  test('an overdraft limit lets a credit line go negative up to the limit', async () => {
    const bank = (await ledger.createAccount(systemInput())).id;
    const line = (await ledger.createAccount(walletInput({ code: 'credit.line', overdraftLimitMinor: 1000n }))).id;
    const spend = (amountMinor: bigint) => ledger.transfer({ id: nextId('spend'), type: 'posted', debitAccountId: line, creditAccountId: bank, amountMinor, currency: 'CNY', kind: 'purchase' });
    assert.equal((await spend(600n)).status, 'created');
    assert.equal(failure(await spend(401n)), 'ledger.overdraft_limit_exceeded');
    assert.equal((await spend(400n)).status, 'created');
    assert.equal(await balance(line), -1000n);
  });
});

describe('batches and linked groups', () => {
  test('one failing transfer fails only itself, never its batch neighbours', async () => {
    const { wallet } = await funded(50n);
    const target = (await ledger.createAccount(walletInput())).id;
    const results = await Promise.all(
      [30n, 30n, 20n].map((amountMinor) => ledger.transfer({ id: nextId('n'), type: 'posted', debitAccountId: wallet, creditAccountId: target, amountMinor, currency: 'CNY', kind: 'p2p' })),
    );
    // Applied in submission order within one batch: 30 ok, 30 refused, 20 ok.
    assert.deepEqual(results.map((r) => r.status), ['created', 'failed', 'created']);
    assert.equal(await balance(target), 50n);
    assert.equal(await balance(wallet), 0n);
  });

  test('a linked group applies all or none', async () => {
    const { wallet } = await funded(100n);
    const shop = (await ledger.createAccount(walletInput({ code: 'merchant' }))).id;
    const fees = (await ledger.createAccount(systemInput({ code: 'system.fees' }))).id;
    const ok = await ledger.linked([
      { id: nextId('pay'), type: 'posted', debitAccountId: wallet, creditAccountId: shop, amountMinor: 60n, currency: 'CNY', kind: 'payment' },
      { id: nextId('fee'), type: 'posted', debitAccountId: shop, creditAccountId: fees, amountMinor: 1n, currency: 'CNY', kind: 'fee' },
    ]);
    assert.deepEqual(ok.map((r) => r.status), ['created', 'created']);
    const failed = await ledger.linked([
      { id: nextId('pay'), type: 'posted', debitAccountId: wallet, creditAccountId: shop, amountMinor: 30n, currency: 'CNY', kind: 'payment' },
      { id: nextId('pay'), type: 'posted', debitAccountId: wallet, creditAccountId: shop, amountMinor: 30n, currency: 'CNY', kind: 'payment' },
    ]);
    assert.deepEqual(failed.map((r) => (r.status === 'failed' ? r.error : r.status)), ['ledger.linked_event_failed', 'ledger.insufficient_funds']);
    assert.equal(await balance(wallet), 40n);
    assert.equal(await balance(shop), 59n);
    const repeat = await ledger.linked([
      { id: 'g-same', type: 'posted', debitAccountId: wallet, creditAccountId: shop, amountMinor: 1n, currency: 'CNY', kind: 'payment' },
      { id: 'g-same', type: 'posted', debitAccountId: wallet, creditAccountId: shop, amountMinor: 1n, currency: 'CNY', kind: 'payment' },
    ]);
    assert.deepEqual(repeat.map((r) => (r.status === 'failed' ? r.error : r.status)), ['ledger.linked_event_failed', 'ledger.duplicate_id_in_request']);
    assert.equal(await balance(wallet), 40n);
  });
});

describe('two-phase transfers', () => {
  test('a hold reserves funds; a partial post moves part and releases the rest', async () => {
    const { wallet } = await funded(100n);
    const shop = (await ledger.createAccount(walletInput({ code: 'merchant' }))).id;
    const holdId = nextId('hold');
    assert.equal((await ledger.transfer({ id: holdId, type: 'pending', debitAccountId: wallet, creditAccountId: shop, amountMinor: 80n, currency: 'CNY', kind: 'preauth', timeoutSeconds: 60 })).status, 'created');
    const held = await ledger.getAccount(wallet);
    assert.equal(held?.availableMinor, 20n);
    assert.equal(held?.balanceMinor, 100n);
    assert.equal(failure(await ledger.transfer({ id: nextId('x'), type: 'posted', debitAccountId: wallet, creditAccountId: shop, amountMinor: 21n, currency: 'CNY', kind: 'p2p' })), 'ledger.insufficient_funds');
    assert.equal(failure(await ledger.transfer({ id: nextId('post'), type: 'post', pendingId: holdId, amountMinor: 81n })), 'ledger.pending_amount_exceeded');
    const postId = nextId('post');
    assert.equal((await ledger.transfer({ id: postId, type: 'post', pendingId: holdId, amountMinor: 50n })).status, 'created');
    assert.equal((await ledger.transfer({ id: postId, type: 'post', pendingId: holdId, amountMinor: 50n })).status, 'exists');
    // Leaving the amount out asks for the whole hold, which is not what was posted.
    assert.equal(failure(await ledger.transfer({ id: postId, type: 'post', pendingId: holdId })), 'ledger.exists_with_different_amount');
    assert.equal(failure(await ledger.transfer({ id: nextId('void'), type: 'void', pendingId: holdId })), 'ledger.pending_transfer_already_posted');
    const after = await ledger.getAccount(wallet);
    assert.equal(after?.availableMinor, 50n);
    assert.equal(after?.debitsPendingMinor, 0n);
    assert.equal(await balance(shop), 50n);
  });

  test('void releases; expiry releases once even when the sweep runs twice', async () => {
    const { wallet } = await funded(100n);
    const shop = (await ledger.createAccount(walletInput({ code: 'merchant' }))).id;
    const voidMe = nextId('hold');
    const expireMe = nextId('hold');
    for (const id of [voidMe, expireMe]) {
      await ledger.transfer({ id, type: 'pending', debitAccountId: wallet, creditAccountId: shop, amountMinor: 40n, currency: 'CNY', kind: 'preauth', timeoutSeconds: 30 });
    }
    assert.equal(failure(await ledger.transfer({ id: nextId('p'), type: 'post', pendingId: 'nope' })), 'ledger.pending_transfer_not_found');
    assert.equal((await ledger.transfer({ id: nextId('void'), type: 'void', pendingId: voidMe })).status, 'created');
    assert.equal((await ledger.getAccount(wallet))?.availableMinor, 60n);
    clock.advance(31_000);
    assert.equal(failure(await ledger.transfer({ id: nextId('post'), type: 'post', pendingId: expireMe })), 'ledger.pending_transfer_expired');
    const [first, second] = await Promise.all([ledger.expireDue(), ledger.expireDue()]);
    assert.ok((first ?? 0) + (second ?? 0) >= 1);
    assert.equal(await ledger.expireDue(), 0);
    assert.equal(failure(await ledger.transfer({ id: nextId('post'), type: 'post', pendingId: expireMe })), 'ledger.pending_transfer_already_expired');
    const account = await ledger.getAccount(wallet);
    assert.equal(account?.availableMinor, 100n);
    assert.equal(account?.debitsPendingMinor, 0n);
  });
});

describe('hot accounts', () => {
  test('credits spread over shards; the balance is their sum; debits draw from a funded shard', async () => {
    const bank = (await ledger.createAccount(systemInput())).id;
    const hot = (await ledger.createAccount(walletInput({ code: 'merchant.hot', shardCount: 4 }))).id;
    const payer = (await funded(1000n)).wallet;
    await Promise.all(Array.from({ length: 40 }, () => ledger.transfer({ id: nextId('sale'), type: 'posted', debitAccountId: payer, creditAccountId: hot, amountMinor: 10n, currency: 'CNY', kind: 'payment' })));
    const account = await ledger.getAccount(hot);
    assert.equal(account?.balanceMinor, 400n);
    assert.equal(account?.shardCount, 4);
    const lines = await ledger.statement(hot, { limit: 100 });
    assert.ok(lines);
    assert.equal(lines.lines.length, 40);
    assert.ok(new Set(lines.lines.map((l) => l.shardNo)).size > 1, 'credits land on more than one shard');
    const payout = await ledger.transfer({ id: nextId('payout'), type: 'posted', debitAccountId: hot, creditAccountId: bank, amountMinor: 30n, currency: 'CNY', kind: 'settlement' });
    assert.equal(payout.status, 'created');
    assert.equal((await ledger.getAccount(hot))?.balanceMinor, 370n);
    assert.equal(failure(await ledger.transfer({ id: nextId('payout'), type: 'posted', debitAccountId: hot, creditAccountId: bank, amountMinor: 371n, currency: 'CNY', kind: 'settlement' })), 'ledger.insufficient_funds');
  });
});

describe('journal', () => {
  test('statements page by cursor with running balances', async () => {
    const { bank, wallet } = await funded(0n);
    for (let index = 1; index <= 5; index++) {
      await ledger.transfer({ id: nextId('s'), type: 'posted', debitAccountId: bank, creditAccountId: wallet, amountMinor: BigInt(index), currency: 'CNY', kind: 'topup' });
    }
    const first = await ledger.statement(wallet, { limit: 2 });
    assert.ok(first?.nextBeforeSeq);
    assert.deepEqual(first.lines.map((l) => l.balanceAfterMinor), [15n, 10n]);
    const second = await ledger.statement(wallet, { limit: 10, beforeSeq: first.nextBeforeSeq });
    assert.deepEqual(second?.lines.map((l) => l.balanceAfterMinor), [6n, 3n, 1n]);
    assert.equal(second?.nextBeforeSeq, null);
  });

  test('the database refuses UPDATE and DELETE on transfers and entries', async () => {
    await funded(5n);
    await assert.rejects(db.sql`UPDATE ledger_transfers SET amount_minor = amount_minor + 1`, /append-only/);
    await assert.rejects(db.sql`DELETE FROM ledger_entries`, /append-only/);
    await assert.rejects(db.sql`TRUNCATE ledger_transfers CASCADE`, /append-only/);
  });

  test('reconcile passes on a healthy ledger and names a tampered balance', async () => {
    const report = await reconcile(db.sql);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    const { wallet } = await funded(10n);
    await db.sql`UPDATE ledger_accounts SET credits_posted = credits_posted + 1 WHERE id = ${wallet}`;
    const broken = await reconcile(db.sql);
    assert.equal(broken.ok, false);
    assert.ok(broken.problems.some((p) => p.check === 'currency_sums_to_zero'));
    assert.ok(broken.problems.some((p) => p.check === 'book_equals_entries' && p.subject === wallet));
    await db.sql`UPDATE ledger_accounts SET credits_posted = credits_posted - 1 WHERE id = ${wallet}`;
    assert.equal((await reconcile(db.sql)).ok, true);
  });

  test('verify recomputes the chain and names the first link changed through SQL', async () => {
    const healthy = await verifyChain(db.sql);
    assert.equal(healthy.ok, true, `${String(healthy.brokenAt?.seq)} ${String(healthy.brokenAt?.reason)}`);
    assert.ok(healthy.checked > 10);
    const [victim] = await db.sql<{ seq: bigint; id: string }[]>`SELECT seq, id FROM ledger_transfers ORDER BY seq OFFSET 5 LIMIT 1`;
    assert.ok(victim);
    await db.sql.begin(async (tx) => {
      await tx`SET LOCAL session_replication_role = replica`;
      await tx`UPDATE ledger_transfers SET amount_minor = amount_minor + 100 WHERE seq = ${victim.seq.toString()}`;
    });
    const broken = await verifyChain(db.sql);
    assert.equal(broken.ok, false);
    assert.equal(broken.brokenAt?.seq, victim.seq);
    assert.equal(broken.brokenAt?.transferId, victim.id);
    await db.sql.begin(async (tx) => {
      await tx`SET LOCAL session_replication_role = replica`;
      await tx`UPDATE ledger_transfers SET amount_minor = amount_minor - 100 WHERE seq = ${victim.seq.toString()}`;
    });
    assert.equal((await verifyChain(db.sql)).ok, true);
  });
});
