/**
 * Goal: credit with real consent, end to end. The 2018 pattern is impossible: a grant without
 * `agree: true` and the current text's hash is refused and nothing is granted. A partner with no
 * grant, an expired or a revoked grant gets 403 and each attempt is logged as refused; reads under
 * a grant are logged one for one, and answer exactly what the grant allows (the threshold or the
 * full score). The score is explainable and has no social factor. Deposits on the ledger: waived,
 * held then released, held then partly charged — each step a bill. The annual bill is private; its
 * share link exists only under the publish grant, shows the score only under its own grant, and
 * dies with the grant. The ledger reconciles at the end.
 * Method: the whole app on a test schema and a fake clock, through app.inject(); the partner
 * registered by an operator over HTTP and calling with its API key.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { consentText } from '../../src/credit/texts.ts';
import { operatorToken } from '../../src/marketing/testing.ts';
import { balanceMinor, expectProblem, fundedUser, newUser, verifyRealName } from '../../src/payments/testing.ts';
import { asUser, closeReconciled, createTestApp, testPin, type TestApp, type TestUser } from '../../src/testing/app.ts';

let t: TestApp;
let partner: { id: string; apiKey: string; accountId: string };
let alice: TestUser;
let bob: TestUser;

before(async () => {
  t = await createTestApp();
  const token = await operatorToken(t.app);
  const registered = await asUser(t.app, { token }, 'POST', '/v1/admin/partners', { name: '哈啰单车 Bikes', kind: 'bike', purposes: ['credit.score.share', 'credit.deposit_waiver', 'data.collect.payments'], scoreThreshold: 550 });
  assert.equal(registered.statusCode, 201, registered.body);
  partner = registered.json();
  // Alice: verified, with a few payments; Bob: not verified, no history.
  alice = await newUser(t.app, { displayName: 'Alice' });
  bob = await newUser(t.app, { displayName: 'Bob' });
  await fundedUser(t.app, alice, 100_000n);
  await fundedUser(t.app, bob, 100_000n);
  await verifyRealName(t.app, alice);
  for (let i = 0; i < 3; i += 1) assert.equal((await asUser(t.app, alice, 'POST', '/v1/transfers', { toUserId: bob.id, amountMinor: '1000', pin: testPin })).statusCode, 201);
});
after(() => closeReconciled(t));

const sha = (purpose: string): string => consentText(purpose)?.sha256 ?? '';
const asPartner = (method: 'GET' | 'POST', url: string, payload?: unknown, key?: string) =>
  t.app.inject({ method, url, headers: { authorization: `Bearer ${partner.apiKey}`, 'idempotency-key': key ?? `p-${String(Math.random())}` }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
const grant = (user: TestUser, body: Record<string, unknown>) => asUser(t.app, user, 'POST', '/v1/consent/grants', body);
const log = async (user: TestUser) => (await asUser(t.app, user, 'GET', '/v1/consent/access-log')).json<{ entries: { outcome: string; purpose: string; grantId: string | null; reason: string | null; accessor: { id: string } }[] }>().entries;

test('consent is only an explicit act: no agree, a non-true agree, or another text\'s hash grant nothing', async () => {
  const base = { purpose: 'credit.score.share', partnerId: partner.id, scope: 'threshold', textSha256: sha('credit.score.share') };
  expectProblem(await grant(alice, base), 422, 'consent.agree_required');
  expectProblem(await grant(alice, { ...base, agree: 'true' }), 422, 'consent.agree_required');
  expectProblem(await grant(alice, { ...base, agree: false }), 422, 'consent.agree_required');
  expectProblem(await grant(alice, { ...base, agree: true, textSha256: sha('annual_bill.publish') }), 422, 'consent.text_mismatch');
  expectProblem(await grant(alice, { ...base, agree: true, partnerId: undefined }), 422, 'consent.partner_required');
  expectProblem(await grant(alice, { ...base, agree: true, scope: 'everything' }), 422, 'consent.scope_invalid');
  const grants = (await asUser(t.app, alice, 'GET', '/v1/consent/grants')).json<{ grants: unknown[] }>().grants;
  assert.equal(grants.length, 0);
  // The texts are public, each with the hash a grant must name.
  const text = (await t.app.inject({ method: 'GET', url: '/v1/consent/texts/credit.score.share' })).json<{ sha256: string; zh: string; version: number }>();
  assert.equal(text.sha256, sha('credit.score.share'));
});

test('a partner reads only under a live grant, exactly what it allows, and every read and refusal is logged', async () => {
  const url = `/v1/partner/users/${alice.id}/credit-score`;
  expectProblem(await t.app.inject({ method: 'GET', url }), 401, 'credit.partner_unauthorized');
  expectProblem(await asPartner('GET', url), 403, 'credit.consent_required');
  // A threshold grant: the answer says whether the score meets the partner's threshold, never the score.
  const threshold = await grant(alice, { purpose: 'credit.score.share', partnerId: partner.id, scope: 'threshold', textSha256: sha('credit.score.share'), agree: true, days: 30 });
  assert.equal(threshold.statusCode, 201, threshold.body);
  const answers = [];
  for (let i = 0; i < 5; i += 1) answers.push((await asPartner('GET', url)).json<Record<string, unknown>>());
  assert.deepEqual(Object.keys(answers[0] ?? {}).sort(), ['grantId', 'meets', 'scope', 'threshold']);
  assert.equal(answers[0]?.['meets'], true);
  // A full grant replaces it: now the score itself.
  const full = await grant(alice, { purpose: 'credit.score.share', partnerId: partner.id, scope: 'full', textSha256: sha('credit.score.share'), agree: true, days: 30 });
  const scored = (await asPartner('GET', url)).json<{ score: number; scope: string }>();
  assert.equal(scored.scope, 'full');
  assert.ok(scored.score >= 350 && scored.score <= 950);
  // Revoked: the next read is refused, and logged with why.
  assert.equal((await asUser(t.app, alice, 'POST', `/v1/consent/grants/${full.json<{ id: string }>().id}/revoke`)).json<{ state: string }>().state, 'revoked');
  expectProblem(await asPartner('GET', url), 403, 'credit.consent_required');
  // Expired: a one-day grant, a day and a minute on.
  const again = await grant(alice, { purpose: 'credit.score.share', partnerId: partner.id, scope: 'full', textSha256: sha('credit.score.share'), agree: true, days: 1 });
  assert.equal(again.statusCode, 201);
  assert.equal((await asPartner('GET', url)).statusCode, 200);
  t.clock.advance(86_400_000 + 60_000);
  expectProblem(await asPartner('GET', url), 403, 'credit.consent_required');

  // The log: 7 reads allowed (5 + 1 + 1), each with its grant; 3 refusals, with their reasons.
  const entries = (await log(alice)).filter((e) => e.purpose === 'credit.score.share').reverse();
  assert.deepEqual(entries.map((e) => e.outcome), ['refused', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'refused', 'allowed', 'refused']);
  assert.ok(entries.filter((e) => e.outcome === 'allowed').every((e) => e.grantId !== null && e.accessor.id === partner.id));
  assert.deepEqual(entries.filter((e) => e.outcome === 'refused').map((e) => e.reason), ['no credit.score.share grant', 'revoked the credit.score.share grant', 'a credit.score.share grant that expired']);
  // Bob never granted anything: his log holds no read of his data.
  assert.equal((await log(bob)).length, 0);
});

test('the score explains itself and uses nothing social', async () => {
  const score = (await asUser(t.app, alice, 'GET', '/v1/credit/score')).json<{ score: number; factors: { key: string; points: number; max: number }[] }>();
  assert.deepEqual(score.factors.map((f) => f.key), ['identity', 'account_age', 'payment_volume', 'regularity', 'refunds_disputes', 'repayment', 'holdings']);
  assert.equal(score.score, 350 + score.factors.reduce((s, f) => s + f.points, 0));
  assert.equal(score.factors.reduce((s, f) => s + f.max, 0), 600);
  const bobScore = (await asUser(t.app, bob, 'GET', '/v1/credit/score')).json<{ score: number; factors: { key: string; points: number }[] }>();
  assert.ok(bobScore.score < score.score, `${String(bobScore.score)} < ${String(score.score)}`);
  // A payment is an event: the next read recomputes.
  const before = score.factors.find((f) => f.key === 'payment_volume')?.points ?? 0;
  await asUser(t.app, alice, 'POST', '/v1/transfers', { toUserId: bob.id, amountMinor: '100', pin: testPin });
  const after = (await asUser(t.app, alice, 'GET', '/v1/credit/score')).json<{ factors: { key: string; points: number }[] }>();
  assert.ok((after.factors.find((f) => f.key === 'payment_volume')?.points ?? 0) > before);
});

test('deposits on the ledger: waived, held then released, held then partly charged; each step a bill', async () => {
  const aliceBefore = await balanceMinor(t.app, alice.walletAccountId);
  // Alice grants the waiver and meets the threshold: waived, nothing held.
  assert.equal((await grant(alice, { purpose: 'credit.deposit_waiver', partnerId: partner.id, textSha256: sha('credit.deposit_waiver'), agree: true })).statusCode, 201);
  const waived = await asPartner('POST', '/v1/partner/deposits', { userId: alice.id, amountMinor: '29900', description: '单车 bike #7' }, 'dep-1');
  assert.equal(waived.statusCode, 201, waived.body);
  assert.equal(waived.json<{ status: string; waived: boolean }>().status, 'waived');
  assert.equal(await balanceMinor(t.app, alice.walletAccountId), aliceBefore);
  // The same request again: the same deposit.
  assert.equal((await asPartner('POST', '/v1/partner/deposits', { userId: alice.id, amountMinor: '29900', description: '单车 bike #7' }, 'dep-1')).json<{ id: string }>().id, waived.json<{ id: string }>().id);
  assert.equal((await asPartner('POST', `/v1/partner/deposits/${waived.json<{ id: string }>().id}/return`)).json<{ status: string }>().status, 'returned');

  // Bob has no waiver grant: held on his balance, then released on return.
  const bobBefore = await balanceMinor(t.app, bob.walletAccountId);
  const held = await asPartner('POST', '/v1/partner/deposits', { userId: bob.id, amountMinor: '20000', description: '充电宝 power bank' }, 'dep-2');
  assert.equal(held.json<{ status: string }>().status, 'held');
  const account = await t.app.ledger.getAccount(bob.walletAccountId);
  assert.equal(account?.availableMinor, bobBefore - 20_000n);
  const returned = await asPartner('POST', `/v1/partner/deposits/${held.json<{ id: string }>().id}/return`);
  assert.equal(returned.json<{ status: string }>().status, 'returned');
  assert.equal((await t.app.ledger.getAccount(bob.walletAccountId))?.availableMinor, bobBefore);
  expectProblem(await asPartner('POST', `/v1/partner/deposits/${held.json<{ id: string }>().id}/charge`, { amountMinor: '100' }), 409, 'credit.deposit_closed');

  // Held, then damaged: ¥50 of ¥200 posted to the partner, the rest released.
  const damaged = await asPartner('POST', '/v1/partner/deposits', { userId: bob.id, amountMinor: '20000', description: '充电宝 power bank 2' }, 'dep-3');
  expectProblem(await asPartner('POST', `/v1/partner/deposits/${damaged.json<{ id: string }>().id}/charge`, { amountMinor: '20001' }), 422, 'credit.charge_exceeds_deposit');
  const charged = await asPartner('POST', `/v1/partner/deposits/${damaged.json<{ id: string }>().id}/charge`, { amountMinor: '5000' });
  assert.deepEqual([charged.json<{ status: string }>().status, charged.json<{ chargedMinor: string }>().chargedMinor], ['charged', '5000']);
  assert.equal(await balanceMinor(t.app, bob.walletAccountId), bobBefore - 5000n);
  assert.equal(await balanceMinor(t.app, partner.accountId), 5000n);
  // Every step in the bills: Bob's hold, release, hold, charge, release; Alice's waived and returned.
  const kinds = async (user: TestUser) => (await asUser(t.app, user, 'GET', '/v1/bills?limit=50')).json<{ bills: { kind: string; depositId: string | null }[] }>().bills.filter((b) => b.depositId !== null).map((b) => b.kind).sort();
  assert.deepEqual(await kinds(bob), ['deposit_charge', 'deposit_hold', 'deposit_hold', 'deposit_release', 'deposit_release'].sort());
  assert.deepEqual(await kinds(alice), ['deposit_release', 'deposit_waived']);
  // Another partner's deposit id, or none, is a 404 for this partner.
  expectProblem(await asPartner('GET', '/v1/partner/deposits/dep_01234567-89ab-7def-8123-456789abcdef'), 404, 'credit.deposit_not_found');
});

test('the annual bill is private; its share link lives only under its grants', async () => {
  const year = new Date(t.clock.nowMs() + 8 * 3_600_000).getUTCFullYear();
  const bill = (await asUser(t.app, alice, 'GET', `/v1/annual-bill/${String(year)}`)).json<{ spentMinor: string; byMonth: unknown[]; forest: null }>();
  assert.equal(bill.byMonth.length, 12);
  assert.equal(bill.forest, null);
  assert.ok(BigInt(bill.spentMinor) > 0n);
  expectProblem(await asUser(t.app, alice, 'POST', `/v1/annual-bill/${String(year)}/share`, {}), 403, 'credit.consent_required');
  const publish = await grant(alice, { purpose: 'annual_bill.publish', textSha256: sha('annual_bill.publish'), agree: true });
  assert.equal(publish.statusCode, 201, publish.body);
  expectProblem(await asUser(t.app, alice, 'POST', `/v1/annual-bill/${String(year)}/share`, { includeScore: true }), 403, 'credit.consent_required');
  const shared = (await asUser(t.app, alice, 'POST', `/v1/annual-bill/${String(year)}/share`, {})).json<{ token: string; includesScore: boolean }>();
  const card = await t.app.inject({ method: 'GET', url: `/v1/public/annual-bills/${shared.token}` });
  assert.equal(card.statusCode, 200, card.body);
  assert.equal(card.json<{ score: number | null; displayName: string }>().score, null);
  assert.equal(card.json<{ displayName: string }>().displayName, 'A**');
  // With the separate score grant, a new link shows the score.
  await grant(alice, { purpose: 'annual_bill.publish_score', textSha256: sha('annual_bill.publish_score'), agree: true });
  const withScore = (await asUser(t.app, alice, 'POST', `/v1/annual-bill/${String(year)}/share`, { includeScore: true })).json<{ token: string }>();
  assert.equal(typeof (await t.app.inject({ method: 'GET', url: `/v1/public/annual-bills/${withScore.token}` })).json<{ score: number }>().score, 'number');
  // Revoking the publish grant kills both links at once.
  await asUser(t.app, alice, 'POST', `/v1/consent/grants/${publish.json<{ id: string }>().id}/revoke`);
  expectProblem(await t.app.inject({ method: 'GET', url: `/v1/public/annual-bills/${shared.token}` }), 404, 'credit.share_not_found');
  expectProblem(await t.app.inject({ method: 'GET', url: `/v1/public/annual-bills/${withScore.token}` }), 404, 'credit.share_not_found');
  const views = (await log(alice)).filter((e) => e.purpose.startsWith('annual_bill'));
  assert.deepEqual(views.map((e) => e.outcome).sort(), ['allowed', 'allowed', 'allowed', 'refused', 'refused']);
});
