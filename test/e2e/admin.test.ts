/**
 * Goal: the operator API — operator accounts separate from wallet users (neither's token opens
 * the other's routes), log-in lockout, user search, a user's wallet, transfer search, ledger
 * totals in one snapshot, reconciliation.
 * Method: the whole app on a test schema and a fake clock, through app.inject().
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { asUser, createTestApp, signUpUser, type TestApp } from '../../src/testing/app.ts';

let t: TestApp;
let adminToken: string;
const adminPassword = 'operator-password-1';

before(async () => {
  t = await createTestApp();
  await t.app.operators.create({ username: 'alice', password: adminPassword, role: 'admin' });
  const login = await t.app.inject({ method: 'POST', url: '/v1/admin/auth/login', payload: { username: 'alice', password: adminPassword } });
  assert.equal(login.statusCode, 200, login.body);
  adminToken = login.json<{ token: string }>().token;
});
after(async () => {
  await t.close();
});

const asAdmin = (url: string) => t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${adminToken}` } });

test('operator and user sessions do not open each other', async () => {
  const user = await signUpUser(t.app, { pin: false });
  assert.equal((await asUser(t.app, user, 'GET', '/v1/admin/users')).statusCode, 401);
  assert.equal((await asUser(t.app, { token: adminToken }, 'GET', '/v1/me')).statusCode, 401);
  assert.equal((await t.app.inject({ method: 'GET', url: '/v1/admin/users', headers: { authorization: `Bearer ${t.operatorToken}` } })).statusCode, 401);
  assert.equal((await asAdmin('/v1/admin/me')).json<{ operator: { username: string } }>().operator.username, 'alice');
});

test('users, a wallet, transfers, totals and reconcile', async () => {
  const user = await signUpUser(t.app, { pin: false });
  const found = await asAdmin(`/v1/admin/users?mobile=${user.mobile}`);
  assert.equal(found.statusCode, 200);
  assert.deepEqual(found.json<{ users: { id: string }[] }>().users.map((u) => u.id), [user.id]);
  const detail = await asAdmin(`/v1/admin/users/${user.id}`);
  assert.equal(detail.json<{ wallet: { balanceMinor: string } }>().wallet.balanceMinor, '0');
  assert.equal((await asAdmin('/v1/admin/users/usr_missing')).statusCode, 404);
  const bank = await t.app.ledger.createAccount({ currency: 'CNY', code: 'system.bank', noOverdraft: false });
  await t.app.ledger.transfer({ id: 'admin-test-topup', type: 'posted', debitAccountId: bank.id, creditAccountId: user.walletAccountId, amountMinor: 500n, currency: 'CNY', kind: 'topup' });
  const transfers = await asAdmin(`/v1/admin/transfers?accountId=${user.walletAccountId}`);
  assert.deepEqual(transfers.json<{ transfers: { id: string; amountMinor: string }[] }>().transfers.map((x) => [x.id, x.amountMinor]), [['admin-test-topup', '500']]);
  assert.equal((await asAdmin('/v1/admin/transfers?idPrefix=admin-test')).json<{ transfers: unknown[] }>().transfers.length, 1);
  const totals = (await asAdmin('/v1/admin/ledger/totals')).json<{ currencies: { currency: string; netMinor: string; creditBalancesMinor: string; byCode: { code: string; balanceMinor: string }[] }[] }>();
  const cny = totals.currencies.find((c) => c.currency === 'CNY');
  assert.equal(cny?.netMinor, '0');
  assert.ok(BigInt(cny?.creditBalancesMinor ?? '0') >= 500n);
  assert.equal(cny?.byCode.find((c) => c.code === 'system.bank')?.balanceMinor, '-500');
  assert.equal((await asAdmin('/v1/admin/ledger/reconcile')).json<{ ok: boolean }>().ok, true);
});

test('5 wrong operator passwords lock the account', async () => {
  await t.app.operators.create({ username: 'bob', password: adminPassword, role: 'viewer' });
  for (let attempt = 0; attempt < 5; attempt++) {
    const wrong = await t.app.inject({ method: 'POST', url: '/v1/admin/auth/login', payload: { username: 'bob', password: 'not-the-password' } });
    assert.equal(wrong.statusCode, 401);
  }
  const locked = await t.app.inject({ method: 'POST', url: '/v1/admin/auth/login', payload: { username: 'bob', password: adminPassword } });
  assert.equal(locked.statusCode, 423);
  assert.equal(locked.json<{ code: string }>().code, 'operator.login_locked');
});
