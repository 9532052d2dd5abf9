/**
 * Goal: every route that takes a body refuses bad input the same way and changes nothing —
 * malformed JSON, a body over the limit, the wrong JSON type, unknown fields, negative,
 * fractional and huge amounts — with a 4xx problem+json, whoever asks, on every module's routes
 * (a new route is walked without being listed here).
 * Method: the whole app on a test schema; a signed-in user with money and a shop; every POST/PUT
 * route with a body schema from the app's route list, its id parameters filled with well-formed
 * ids; row counts and the ledger's last sequence compared before and after.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyLimitBytes } from '../../src/http/server.ts';
import { closeReconciled, createTestApp, type TestApp } from '../../src/testing/app.ts';
import { fundedUser, newUser } from '../../src/payments/testing.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(() => closeReconciled(t));

const badBodies: readonly [string, string][] = [
  ['malformed JSON', '{"amountMinor": "1",'],
  ['a JSON array', '[]'],
  ['a JSON string', '"hello"'],
  ['null', 'null'],
  ['unknown fields only', '{"unknownField": true}'],
  ['a negative amount', '{"amountMinor": "-100", "pin": "802413", "toUserId": "usr_x", "code": "x", "payCode": "28", "cardId": "card_x"}'],
  ['a fractional amount', '{"amountMinor": "1.5", "pin": "802413"}'],
  ['a huge amount', `{"amountMinor": "${'9'.repeat(40)}", "pin": "802413"}`],
  ['an amount as a number', '{"amountMinor": 100, "pin": "802413"}'],
];

async function snapshot(): Promise<unknown> {
  const [row] = await t.db.sql`
    SELECT (SELECT count(*) FROM payments)::int8 AS payments,
           (SELECT count(*) FROM payments_cards)::int8 AS cards,
           (SELECT count(*) FROM payments_shops)::int8 AS shops,
           (SELECT count(*) FROM payments_code_charges)::int8 AS charges,
           (SELECT count(*) FROM social_friend_requests)::int8 AS requests,
           (SELECT count(*) FROM social_groups)::int8 AS groups,
           (SELECT count(*) FROM identity_users)::int8 AS users,
           (SELECT last_seq FROM ledger_chain_head) AS seq`;
  return row;
}

test('every route with a body refuses bad input with a 4xx problem and changes nothing', async () => {
  const user = await newUser(t.app);
  await fundedUser(t.app, user, 10_000n);
  const before = await snapshot();
  const routes = t.app.routes.filter((route) => route.hasBody && ['POST', 'PUT', 'PATCH'].includes(route.method));
  assert.ok(routes.length >= 15, `found ${String(routes.length)} routes with a body`);
  let key = 0;
  for (const route of routes) {
    const url = route.url.replace(/:([A-Za-z]+)/g, '01234567-0000-7000-8000-000000000000');
    const auth = route.url.startsWith('/v1/admin') || route.url.startsWith('/v1/ledger') ? `Bearer ${t.operatorToken}` : `Bearer ${user.token}`;
    const cases: [string, string][] = [...badBodies, ['a body over the limit', `{"memo": "${'x'.repeat(bodyLimitBytes)}"}`]];
    for (const [label, payload] of cases) {
      const response = await t.app.inject({
        method: route.method as 'POST',
        url,
        headers: { authorization: auth, 'content-type': 'application/json', 'idempotency-key': `bad-${String(++key)}` },
        payload,
      });
      const where = `${route.method} ${route.url} with ${label}`;
      assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${where}: ${String(response.statusCode)} ${response.body.slice(0, 200)}`);
      assert.match(String(response.headers['content-type']), /application\/problem\+json/, where);
    }
  }
  assert.deepEqual(await snapshot(), before);
});
