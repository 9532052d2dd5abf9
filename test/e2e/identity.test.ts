/**
 * Goal: identity end to end — sign-up (with a wallet), log-in and its lockout, log-out, the
 * profile, the payment PIN (set, change, 5 wrong → locked 15 min), real-name verification with
 * the ID checksum, and that every failure is a problem+json that changes nothing.
 * Method: the whole app on a test schema and a fake clock, through app.inject().
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { asUser, createTestApp, nextMobile, signUpUser, testPassword, testPin, type TestApp } from '../../src/testing/app.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => {
  await t.close();
});

function code(response: { statusCode: number; json: () => unknown; headers: Record<string, unknown> }): string {
  assert.match(String(response.headers['content-type']), /application\/problem\+json/);
  return (response.json() as { code: string }).code;
}

describe('sign-up and log-in', () => {
  test('sign-up creates a user with an empty wallet and a session cookie', async () => {
    const mobile = nextMobile();
    const response = await t.app.inject({ method: 'POST', url: '/v1/auth/signup', payload: { mobile, password: testPassword } });
    assert.equal(response.statusCode, 201);
    assert.match(String(response.headers['set-cookie']), /qb_session=.*HttpOnly/i);
    const body = response.json<{ token: string; user: { walletAccountId: string; mobileMasked: string } }>();
    assert.equal(body.user.mobileMasked, `${mobile.slice(0, 3)}****${mobile.slice(-4)}`);
    const me = await asUser(t.app, { token: body.token }, 'GET', '/v1/me');
    assert.equal(me.statusCode, 200);
    assert.equal(me.json<{ balance: { availableMinor: string } }>().balance.availableMinor, '0');
    const account = await t.app.ledger.getAccount(body.user.walletAccountId);
    assert.equal(account?.noOverdraft, true);
  });

  test('bad sign-ups are refused in order and create nothing', async () => {
    const mobile = nextMobile();
    const cases: [unknown, number, string][] = [
      [{ mobile, password: testPassword, extra: 1 }, 400, 'request.invalid'],
      [{ mobile: 12345678901, password: testPassword }, 400, 'request.invalid'],
      [{ mobile: '12345678901', password: testPassword }, 400, 'identity.mobile_invalid'],
      [{ mobile, password: 'short1' }, 400, 'identity.password_too_weak'],
      [{ mobile, password: 'onlyletters' }, 400, 'identity.password_too_weak'],
    ];
    for (const [payload, status, expected] of cases) {
      const response = await t.app.inject({ method: 'POST', url: '/v1/auth/signup', payload: payload as Record<string, unknown> });
      assert.equal(response.statusCode, status, JSON.stringify(payload));
      assert.equal(code(response), expected);
    }
    const rows = await t.db.sql<{ n: bigint }[]>`SELECT count(*)::int8 AS n FROM identity_users WHERE mobile = ${mobile}`;
    assert.equal(rows[0]?.n, 0n);
    await signUpUser(t.app, { mobile, pin: false });
    const again = await t.app.inject({ method: 'POST', url: '/v1/auth/signup', payload: { mobile, password: testPassword } });
    assert.equal(again.statusCode, 409);
    assert.equal(code(again), 'identity.mobile_taken');
  });

  test('log-in works; 10 failures lock the account for 30 minutes', async () => {
    const user = await signUpUser(t.app, { pin: false });
    const ok = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { mobile: user.mobile, password: testPassword } });
    assert.equal(ok.statusCode, 200);
    const unknown = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { mobile: nextMobile(), password: testPassword } });
    assert.equal(code(unknown), 'identity.login_failed');
    for (let attempt = 1; attempt <= 9; attempt++) {
      const wrong = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { mobile: user.mobile, password: 'wrong-pass-9' } });
      assert.equal(code(wrong), 'identity.login_failed', `attempt ${String(attempt)}`);
    }
    const tenth = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { mobile: user.mobile, password: 'wrong-pass-9' } });
    assert.equal(tenth.statusCode, 423);
    assert.equal(code(tenth), 'identity.login_locked');
    const right = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { mobile: user.mobile, password: testPassword } });
    assert.equal(code(right), 'identity.login_locked');
    t.clock.advance(30 * 60_000 + 1);
    const later = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { mobile: user.mobile, password: testPassword } });
    assert.equal(later.statusCode, 200);
  });

  test('log-out revokes the session; a missing or bad token is 401', async () => {
    const user = await signUpUser(t.app, { pin: false });
    assert.equal((await asUser(t.app, user, 'POST', '/v1/auth/logout')).statusCode, 204);
    assert.equal(code(await asUser(t.app, user, 'GET', '/v1/me')), 'request.unauthorized');
    assert.equal((await asUser(t.app, null, 'GET', '/v1/me')).statusCode, 401);
    assert.equal((await asUser(t.app, { token: 'x'.repeat(43) }, 'GET', '/v1/me')).statusCode, 401);
    // An operator token opens none of the user routes.
    assert.equal((await asUser(t.app, { token: t.operatorToken }, 'GET', '/v1/me')).statusCode, 401);
  });
});

describe('payment PIN', () => {
  test('set with the password, change with the current PIN; weak PINs refused', async () => {
    const user = await signUpUser(t.app, { pin: false });
    assert.equal(code(await asUser(t.app, user, 'PUT', '/v1/me/pin', { pin: '123456', password: testPassword })), 'identity.pin_invalid_format');
    assert.equal(code(await asUser(t.app, user, 'PUT', '/v1/me/pin', { pin: testPin, password: 'wrong-pass-1' })), 'identity.login_failed');
    assert.equal((await asUser(t.app, user, 'PUT', '/v1/me/pin', { pin: testPin, password: testPassword })).statusCode, 204);
    assert.equal(code(await asUser(t.app, user, 'PUT', '/v1/me/pin', { pin: '975310', password: testPassword })), 'identity.pin_already_set');
    assert.equal((await asUser(t.app, user, 'PUT', '/v1/me/pin', { pin: '975310', currentPin: testPin })).statusCode, 204);
  });

  test('5 wrong PINs lock payments for 15 minutes', async () => {
    const signedUp = await signUpUser(t.app);
    const user = await t.app.identity.getUser(signedUp.id);
    assert.ok(user !== undefined);
    for (let attempt = 1; attempt <= 4; attempt++) {
      await assert.rejects(t.app.identity.verifyPin(user, '000001'), /wrong/);
    }
    await assert.rejects(t.app.identity.verifyPin(user, '000001'), (error: { code?: string }) => error.code === 'identity.pin_locked');
    await assert.rejects(t.app.identity.verifyPin(user, testPin), (error: { code?: string }) => error.code === 'identity.pin_locked');
    t.clock.advance(15 * 60_000 + 1);
    await t.app.identity.verifyPin(user, testPin);
  });
});

describe('real-name verification', () => {
  test('checks the ID number format and checksum, then marks the user verified', async () => {
    const user = await signUpUser(t.app, { pin: false });
    assert.equal(code(await asUser(t.app, user, 'POST', '/v1/me/real-name', { realName: '张三', idNumber: '11010519491231002' })), 'identity.id_number_invalid');
    assert.equal(code(await asUser(t.app, user, 'POST', '/v1/me/real-name', { realName: '张三', idNumber: '110105194912310020' })), 'identity.id_number_invalid');
    assert.equal(code(await asUser(t.app, user, 'POST', '/v1/me/real-name', { realName: '张三', idNumber: '110105194913310021' })), 'identity.id_number_invalid');
    const ok = await asUser(t.app, user, 'POST', '/v1/me/real-name', { realName: '张三', idNumber: '11010519491231002X' });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json<{ realNameVerified: boolean }>().realNameVerified, true);
    const other = await signUpUser(t.app, { pin: false });
    assert.equal(code(await asUser(t.app, other, 'POST', '/v1/me/real-name', { realName: '李四', idNumber: '11010519491231002X' })), 'identity.id_number_taken');
  });
});
