/**
 * Goal: object-level authorization everywhere. User A owns a card, bills, a friend request, a
 * friend, a group, a shop order and a shop payment; user B calls every route that takes an id with A's ids and gets 404 —
 * the same answer as for an id that does not exist — and changes nothing. Operator routes refuse
 * B's user session with 401. The walk is checked against the list of registered routes, so a new
 * route with an id parameter fails this test until it is added here.
 * Method: the whole app on a test schema, through app.inject().
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { demoPartnerName } from '../../src/credit/partner-routes.ts';
import { consentText } from '../../src/credit/texts.ts';
import { reconcile } from '../../src/ledger/index.ts';
import { fundedUser, newUser, send } from '../../src/payments/testing.ts';
import { asUser, createTestApp, testPin, type TestApp, type TestUser } from '../../src/testing/app.ts';

let t: TestApp;
let a: TestUser;
let b: TestUser;
let c: TestUser;
const ids: Record<string, string> = {};

before(async () => {
  t = await createTestApp();
  a = await newUser(t.app, { displayName: 'A' });
  b = await newUser(t.app, { displayName: 'B' });
  c = await newUser(t.app, { displayName: 'C' });
  const { cardId } = await fundedUser(t.app, a, 50_000n);
  ids['card'] = cardId;
  const paid = await send(t.app, a, { toUserId: c.id, amountMinor: '100', memo: 'A to C' });
  assert.equal(paid.statusCode, 201, paid.body);
  ids['bill'] = paid.json<{ id: string }>().id;
  // A and C become friends; A has a pending request to a fourth user; A and C share a group.
  const toC = await asUser(t.app, a, 'POST', '/v1/friend-requests', { userId: c.id });
  assert.equal(toC.statusCode, 201, toC.body);
  assert.equal((await asUser(t.app, c, 'POST', `/v1/friend-requests/${toC.json<{ id: string }>().id}/accept`)).statusCode, 200);
  const d = await newUser(t.app, { displayName: 'D' });
  const toD = await asUser(t.app, a, 'POST', '/v1/friend-requests', { userId: d.id });
  ids['request'] = toD.json<{ id: string }>().id;
  const group = await asUser(t.app, a, 'POST', '/v1/groups', { name: 'A and C', memberIds: [c.id] });
  assert.equal(group.statusCode, 201, group.body);
  ids['group'] = group.json<{ id: string }>().id;
  // A opens a shop with an order; C pays the shop.
  const shop = await asUser(t.app, a, 'POST', '/v1/shops', { name: 'A shop' });
  assert.equal(shop.statusCode, 201, shop.body);
  const order = await asUser(t.app, a, 'POST', '/v1/shops/mine/orders', { amountMinor: '300' });
  assert.equal(order.statusCode, 201, order.body);
  ids['order'] = order.json<{ id: string }>().id;
  await fundedUser(t.app, c, 5_000n);
  const shopPayment = await asUser(t.app, c, 'POST', '/v1/shop-payments', { code: shop.json<{ receiveCode: string }>().receiveCode, amountMinor: '200', pin: testPin });
  assert.equal(shopPayment.statusCode, 201, shopPayment.body);
  ids['shopPayment'] = shopPayment.json<{ id: string }>().id;
  // A's shop charges C's payment code for more than the no-PIN amount: it waits for C's PIN.
  // B has a shop too, so B's 404 on A's charge is about the charge, not a missing shop.
  const code = (await asUser(t.app, c, 'POST', '/v1/me/pay-code')).json<{ code: string }>().code;
  const charge = await asUser(t.app, a, 'POST', '/v1/shops/mine/charges', { payCode: code, amountMinor: '30000' });
  assert.equal(charge.json<{ status: string }>().status, 'awaiting_pin', charge.body);
  ids['charge'] = charge.json<{ id: string }>().id;
  assert.equal((await asUser(t.app, b, 'POST', '/v1/shops', { name: 'B shop' })).statusCode, 201);
  // A sends a red packet to the group with C (B is not in it).
  const packet = await asUser(t.app, a, 'POST', '/v1/redpackets', { mode: 'lucky', amountMinor: '200', count: 2, groupId: ids['group'], pin: testPin });
  assert.equal(packet.statusCode, 201, packet.body);
  ids['packet'] = packet.json<{ id: string }>().id;
  // A rain with fission packets; A wins its one prize.
  await t.app.rains.depositBudget(10_000n, 'authz', 'acct_system_bank_cny');
  const operator = await t.app.operators.create({ username: 'authz', password: 'operator-pass-1', role: 'admin' });
  const rain = await t.app.rains.schedule(operator.id, { name: 'rain', mode: 'line_cut', poolMinor: 100n, prizeCount: 1, startsAt: t.clock.now(), durationMs: 60_000, staggerMs: 0, perUserWinsMax: 1, perUserMinorMax: 100n, fissionShares: 2, fissionMinor: 200n });
  ids['rain'] = rain.id;
  assert.equal((await asUser(t.app, a, 'POST', `/v1/rains/${rain.id}/taps`)).json<{ won: boolean }>().won, true);
  await t.app.rains.settleNow();
  // A grants the annual bill's publication (a grant with no partner).
  const text = consentText('annual_bill.publish');
  ids['grant'] = (await t.app.credit.consent.grant(a.id, { purpose: 'annual_bill.publish', textSha256: text?.sha256 ?? '', agree: true })).id;
  // A rents the demo partner's bike: its deposit is held on A's balance.
  await t.app.credit.partners.register(operator.id, { name: demoPartnerName, kind: 'bike', purposes: ['credit.deposit_waiver'], scoreThreshold: 900 });
  const rental = await asUser(t.app, a, 'POST', '/v1/demo-partner/rentals');
  assert.equal(rental.statusCode, 201, rental.body);
  ids['deposit'] = rental.json<{ id: string }>().id;
});
after(async () => {
  await t.close();
});

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
interface Probe {
  readonly method: Method;
  readonly pattern: string;
  readonly url: () => string;
  readonly body?: () => unknown;
  /** 404 for a user route; 401 for an operator route a user session cannot open. */
  readonly expected: 404 | 401;
}

const probes: Probe[] = [
  { method: 'DELETE', pattern: '/v1/cards/:id', url: () => `/v1/cards/${ids['card'] ?? ''}`, expected: 404 },
  { method: 'GET', pattern: '/v1/bills/:id', url: () => `/v1/bills/${ids['bill'] ?? ''}`, expected: 404 },
  { method: 'GET', pattern: '/v1/friend-requests/:requestId', url: () => `/v1/friend-requests/${ids['request'] ?? ''}`, expected: 404 },
  { method: 'POST', pattern: '/v1/friend-requests/:requestId/accept', url: () => `/v1/friend-requests/${ids['request'] ?? ''}/accept`, expected: 404 },
  { method: 'POST', pattern: '/v1/friend-requests/:requestId/decline', url: () => `/v1/friend-requests/${ids['request'] ?? ''}/decline`, expected: 404 },
  { method: 'POST', pattern: '/v1/friend-requests/:requestId/cancel', url: () => `/v1/friend-requests/${ids['request'] ?? ''}/cancel`, expected: 404 },
  { method: 'DELETE', pattern: '/v1/friends/:userId', url: () => `/v1/friends/${c.id}`, expected: 404 },
  { method: 'GET', pattern: '/v1/groups/:groupId', url: () => `/v1/groups/${ids['group'] ?? ''}`, expected: 404 },
  { method: 'POST', pattern: '/v1/groups/:groupId/members', url: () => `/v1/groups/${ids['group'] ?? ''}/members`, body: () => ({ userId: b.id }), expected: 404 },
  { method: 'POST', pattern: '/v1/groups/:groupId/leave', url: () => `/v1/groups/${ids['group'] ?? ''}/leave`, expected: 404 },
  { method: 'GET', pattern: '/v1/shops/mine/orders/:id', url: () => `/v1/shops/mine/orders/${ids['order'] ?? ''}`, expected: 404 },
  { method: 'POST', pattern: '/v1/shop-payments/:id/refunds', url: () => `/v1/shop-payments/${ids['shopPayment'] ?? ''}/refunds`, body: () => ({ amountMinor: '100' }), expected: 404 },
  { method: 'GET', pattern: '/v1/shops/mine/charges/:id', url: () => `/v1/shops/mine/charges/${ids['charge'] ?? ''}`, expected: 404 },
  { method: 'POST', pattern: '/v1/me/code-charges/:id/confirm', url: () => `/v1/me/code-charges/${ids['charge'] ?? ''}/confirm`, body: () => ({ pin: testPin }), expected: 404 },
  { method: 'POST', pattern: '/v1/me/code-charges/:id/decline', url: () => `/v1/me/code-charges/${ids['charge'] ?? ''}/decline`, expected: 404 },
  { method: 'GET', pattern: '/v1/redpackets/:id', url: () => `/v1/redpackets/${ids['packet'] ?? ''}`, expected: 404 },
  { method: 'POST', pattern: '/v1/redpackets/:id/grab', url: () => `/v1/redpackets/${ids['packet'] ?? ''}/grab`, expected: 404 },
  // Rains are public to every signed-in user by design (see publicByDesign); a prize is another's.
  { method: 'POST', pattern: '/v1/rains/:id/fission', url: () => `/v1/rains/${ids['rain'] ?? ''}/fission`, body: () => ({ prizeSeq: 0 }), expected: 404 },
  { method: 'GET', pattern: '/v1/admin/rains/:id', url: () => `/v1/admin/rains/${ids['rain'] ?? ''}`, expected: 401 },
  { method: 'GET', pattern: '/v1/admin/redpackets/:id/audit', url: () => `/v1/admin/redpackets/${ids['packet'] ?? ''}/audit`, expected: 401 },
  { method: 'GET', pattern: '/v1/admin/campaigns/:id', url: () => `/v1/admin/campaigns/cmp_x`, expected: 401 },
  { method: 'PUT', pattern: '/v1/admin/campaigns/:id', url: () => `/v1/admin/campaigns/cmp_x`, body: () => ({}), expected: 401 },
  { method: 'POST', pattern: '/v1/admin/campaigns/:id/submit', url: () => `/v1/admin/campaigns/cmp_x/submit`, expected: 401 },
  { method: 'POST', pattern: '/v1/admin/campaigns/:id/approve', url: () => `/v1/admin/campaigns/cmp_x/approve`, body: () => ({}), expected: 401 },
  { method: 'POST', pattern: '/v1/admin/campaigns/:id/dry-run', url: () => `/v1/admin/campaigns/cmp_x/dry-run`, body: () => ({}), expected: 401 },
  { method: 'POST', pattern: '/v1/admin/campaigns/:id/promote', url: () => `/v1/admin/campaigns/cmp_x/promote`, body: () => ({}), expected: 401 },
  { method: 'POST', pattern: '/v1/admin/campaigns/:id/pause', url: () => `/v1/admin/campaigns/cmp_x/pause`, body: () => ({}), expected: 401 },
  { method: 'POST', pattern: '/v1/admin/campaigns/:id/resume', url: () => `/v1/admin/campaigns/cmp_x/resume`, body: () => ({}), expected: 401 },
  { method: 'POST', pattern: '/v1/admin/campaigns/:id/end', url: () => `/v1/admin/campaigns/cmp_x/end`, body: () => ({}), expected: 401 },
  { method: 'POST', pattern: '/v1/admin/campaigns/:id/vouchers', url: () => `/v1/admin/campaigns/cmp_x/vouchers`, body: () => ({}), expected: 401 },
  { method: 'GET', pattern: '/v1/admin/campaigns/:id/report', url: () => `/v1/admin/campaigns/cmp_x/report`, expected: 401 },
  { method: 'GET', pattern: '/v1/admin/campaigns/:id/burn', url: () => `/v1/admin/campaigns/cmp_x/burn`, expected: 401 },
  { method: 'POST', pattern: '/v1/admin/marketing/funds/:kind/deposits', url: () => `/v1/admin/marketing/funds/platform/deposits`, body: () => ({}), expected: 401 },
  { method: 'GET', pattern: '/v1/admin/users/:id', url: () => `/v1/admin/users/${a.id}`, expected: 401 },
  { method: 'GET', pattern: '/v1/ledger/accounts/:id', url: () => `/v1/ledger/accounts/${a.walletAccountId}`, expected: 401 },
  { method: 'GET', pattern: '/v1/ledger/accounts/:id/statement', url: () => `/v1/ledger/accounts/${a.walletAccountId}/statement`, expected: 401 },
  { method: 'GET', pattern: '/v1/ledger/transfers/:id', url: () => `/v1/ledger/transfers/x`, expected: 401 },
  { method: 'POST', pattern: '/v1/consent/grants/:id/revoke', url: () => `/v1/consent/grants/${ids['grant'] ?? ''}/revoke`, expected: 404 },
  // The partner API takes a partner's key: a user's session opens none of it.
  { method: 'GET', pattern: '/v1/partner/users/:userId/credit-score', url: () => `/v1/partner/users/${a.id}/credit-score`, expected: 401 },
  { method: 'GET', pattern: '/v1/partner/users/:userId/payments-summary', url: () => `/v1/partner/users/${a.id}/payments-summary`, expected: 401 },
  { method: 'GET', pattern: '/v1/partner/deposits/:id', url: () => `/v1/partner/deposits/dep_x`, expected: 401 },
  { method: 'POST', pattern: '/v1/partner/deposits/:id/return', url: () => `/v1/partner/deposits/dep_x/return`, expected: 401 },
  { method: 'POST', pattern: '/v1/partner/deposits/:id/charge', url: () => `/v1/partner/deposits/dep_x/charge`, body: () => ({}), expected: 401 },
  { method: 'GET', pattern: '/v1/admin/openapi/apps/:appId/platform-key', url: () => `/v1/admin/openapi/apps/2021000000000001/platform-key`, expected: 401 },
  { method: 'POST', pattern: '/v1/admin/openapi/apps/:appId/sandbox-accounts', url: () => `/v1/admin/openapi/apps/2021000000000001/sandbox-accounts`, expected: 401 },
  { method: 'POST', pattern: '/v1/admin/openapi/notifications/:notifyId/resend', url: () => `/v1/admin/openapi/notifications/20260101000000000000000000/resend`, expected: 401 },
  { method: 'POST', pattern: '/v1/demo-partner/rentals/:id/return', url: () => `/v1/demo-partner/rentals/${ids['deposit'] ?? ''}/return`, expected: 404 },
  { method: 'POST', pattern: '/v1/demo-partner/rentals/:id/damage', url: () => `/v1/demo-partner/rentals/${ids['deposit'] ?? ''}/damage`, expected: 404 },
];

/**
 * Routes whose parameter is meant to be read by anyone who has it: a shop's receive code is
 * printed on a QR for every payer to scan (it shows the shop's name and an order's amount only);
 * a rain is open to every signed-in user (each sees and taps it as themselves).
 */
const publicByDesign = new Set([
  'GET /v1/pay-targets/:code',
  'GET /v1/rains/:id',
  'POST /v1/rains/:id/taps',
  // Consent texts are public; a year selects within the signed-in user's own annual bill; a
  // share card's token is the public link itself (an unknown or revoked one answers 404).
  'GET /v1/consent/texts/:purpose',
  'GET /v1/annual-bill/:year',
  'POST /v1/annual-bill/:year/share',
  'GET /v1/public/annual-bills/:token',
  // An open-platform trade is paid by whoever scans its QR (the merchant shows it to a buyer it
  // does not know); once a buyer starts paying, anyone else is refused with 409.
  'GET /v1/trades/:tradeNo',
  'POST /v1/trades/:tradeNo/pay',
]);

test('every route with an id parameter is walked', () => {
  const registered = t.app.routes
    .filter((route) => route.url.includes(':') && route.method !== 'HEAD' && !publicByDesign.has(`${route.method} ${route.url}`))
    .map((route) => `${route.method} ${route.url}`)
    .sort();
  const walked = probes.map((probe) => `${probe.method} ${probe.pattern}`).sort();
  assert.deepEqual(walked, registered, 'add the new route to the probes in this file');
});

test("another user's ids answer 404 (or 401 on operator routes) and change nothing", async () => {
  const before = await snapshot();
  for (const probe of probes) {
    const response = await asUser(t.app, b, probe.method, probe.url(), probe.body?.());
    assert.equal(response.statusCode, probe.expected, `${probe.method} ${probe.url()}: ${response.body}`);
    assert.match(String(response.headers['content-type']), /application\/problem\+json/);
  }
  assert.deepEqual(await snapshot(), before);
  assert.equal((await reconcile(t.db.sql)).ok, true);
  // A still sees everything B could not.
  assert.equal((await asUser(t.app, a, 'GET', `/v1/bills/${ids['bill'] ?? ''}`)).statusCode, 200);
  assert.equal((await asUser(t.app, a, 'GET', `/v1/groups/${ids['group'] ?? ''}`)).statusCode, 200);
});

async function snapshot(): Promise<unknown> {
  const [row] = await t.db.sql<{ cards: bigint; payments: bigint; requests: bigint; members: bigint; refunds: bigint; waiting: bigint; grabs: bigint; seq: bigint }[]>`
    SELECT (SELECT count(*) FROM payments_cards)::int8 AS cards,
           (SELECT count(*) FROM payments)::int8 AS payments,
           (SELECT count(*) FROM social_friend_requests)::int8 AS requests,
           (SELECT count(*) FROM social_group_members)::int8 AS members,
           (SELECT count(*) FROM payments WHERE kind = 'refund')::int8 AS refunds,
           (SELECT count(*) FROM payments_code_charges WHERE status = 'awaiting_pin')::int8 AS waiting,
           (SELECT count(*) FROM redpacket_shares WHERE grabbed_by IS NOT NULL)::int8 AS grabs,
           (SELECT last_seq FROM ledger_chain_head) AS seq`;
  return row;
}
