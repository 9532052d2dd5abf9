/**
 * Goal: campaign definitions on a real PostgreSQL — the January 2025 template refused at save with
 * what to change, versions with diffs and authors, four-eyes approval confirming the computed
 * exposure (never by the author, never of a version that changed under the approver), and the kill
 * switch failing closed.
 * Method: the whole app on a test schema (for operators), Campaigns over its database.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DomainError } from '../kernel/errors.ts';
import { createTestApp, type TestApp } from '../testing/app.ts';
import { Campaigns, type DefinitionJson } from './campaigns.ts';
import { bankAccountId } from '../payments/index.ts';
import { depositFund, fundAccounts } from './funds.ts';
import { incidentDefinition, saneDefinition } from './testing.ts';

let t: TestApp;
let campaigns: Campaigns;
let alice: string;
let bob: string;

before(async () => {
  t = await createTestApp();
  campaigns = t.app.campaigns;
  alice = (await t.app.operators.create({ username: 'alice', password: 'operator-pass-1', role: 'operator' })).id;
  bob = (await t.app.operators.create({ username: 'bob', password: 'operator-pass-1', role: 'operator' })).id;
});
after(() => t.close());

const definition: DefinitionJson = { ...saneDefinition, budget: { funding: 'platform', amountMinor: '100000' } };

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

test('the incident template is refused at save, naming every mistake; nothing is written', async () => {
  const incident = incidentDefinition;
  const error = await refusal(campaigns.create(alice, incident));
  assert.equal(error.code, 'marketing.invalid');
  const fields = (error.extra['problems'] as { field: string }[]).map((p) => p.field);
  assert.ok(fields.includes('template.capMinor') && fields.includes('label') && fields.includes('scenes.p2p_transfer') && fields.includes('scenes.card_repayment'), fields.join());
  assert.equal((await campaigns.list()).length, 0);
});

test('versions carry their diff and author; an edit sends an approved campaign back to draft', async () => {
  const created = await campaigns.create(alice, definition);
  assert.equal(created.status, 'draft');
  const edited = await campaigns.update(bob, created.id, { ...definition, template: { kind: 'fixed', amountMinor: '800', minSpendMinor: '2000' } });
  assert.equal(edited.version, 2);
  assert.equal(edited.author_id, bob);
  const versions = await campaigns.versions(created.id);
  assert.deepEqual(versions.map((v) => [v.version, v.author_id]), [[1, alice], [2, bob]]);
  assert.deepEqual(versions[1]?.diff, [{ path: 'template.amountMinor', before: '500', after: '800' }]);
  // Saving the same definition again is not a new version.
  assert.equal((await campaigns.update(bob, created.id, { ...definition, template: { kind: 'fixed', amountMinor: '800', minSpendMinor: '2000' } })).version, 2);
});

test('four eyes: the author cannot approve; the approver confirms the computed exposure; an edit needs approving again', async () => {
  const created = await campaigns.create(alice, definition);
  assert.equal((await refusal(campaigns.approve(bob, created.id, 100_000n))).code, 'marketing.wrong_status');
  await campaigns.submit(created.id);
  assert.equal((await refusal(campaigns.approve(alice, created.id, 100_000n))).code, 'marketing.four_eyes');
  // No dry run of this version yet: approval waits for one.
  assert.equal((await refusal(campaigns.approve(bob, created.id, 100_000n))).code, 'marketing.dry_run_required');
  await t.app.marketing.dryRun(created.id);
  const mismatch = await refusal(campaigns.approve(bob, created.id, 99_999n));
  assert.equal(mismatch.code, 'marketing.exposure_mismatch');
  assert.equal(mismatch.extra['exposureMinor'], '100000');
  // The platform fund is empty: approval cannot fund the budget, and the campaign stays waiting.
  assert.equal((await refusal(campaigns.approve(bob, created.id, 100_000n))).code, 'marketing.fund_short');
  assert.equal((await campaigns.get(created.id)).status, 'pending_approval');
  await depositFund(t.app.ledger, { kind: 'platform', amountMinor: 150_000n, requestKey: 'test-deposit', fromAccountId: bankAccountId });
  const approved = await campaigns.approve(bob, created.id, 100_000n);
  assert.equal(approved.status, 'active');
  assert.equal(approved.approved_by, bob);
  // The budget moved from the fund into the campaign's own account, once.
  assert.ok(approved.budget_account_id !== null);
  assert.equal((await t.app.ledger.getAccount(approved.budget_account_id))?.balanceMinor, 100_000n);
  assert.equal((await t.app.ledger.getAccount(fundAccounts.platform.id))?.balanceMinor, 50_000n);
  const edited = await campaigns.update(alice, created.id, { ...definition, name: '周末立减 v2' });
  assert.equal(edited.status, 'draft');
  assert.equal(edited.approved_by, null);
  // The database refuses an approval by the author even if the service were bypassed.
  await assert.rejects(t.db.sql`UPDATE marketing_campaigns SET approved_by = author_id WHERE id = ${created.id}`);
  // A raised budget is topped up by the difference only; a lowered one is refused.
  const raise = async (amountMinor: string) => {
    await campaigns.update(alice, created.id, { ...definition, name: '周末立减 v2', budget: { funding: 'platform', amountMinor } });
    await t.app.marketing.dryRun(created.id);
    await campaigns.submit(created.id);
    return campaigns.approve(bob, created.id, BigInt(amountMinor));
  };
  await raise('150000');
  assert.equal((await t.app.ledger.getAccount(approved.budget_account_id))?.balanceMinor, 150_000n);
  assert.equal((await t.app.ledger.getAccount(fundAccounts.platform.id))?.balanceMinor, 0n);
  assert.equal((await refusal(raise('120000'))).code, 'marketing.invalid');
});

test('the kill switch pauses everything, and counts as engaged when it cannot be read', async () => {
  assert.equal(await campaigns.killSwitchEngaged(), false);
  await campaigns.setKillSwitch(alice, true, 'burn rate alert');
  assert.equal(await campaigns.killSwitchEngaged(), true);
  await campaigns.setKillSwitch(alice, false, 'all clear');
  assert.equal(await campaigns.killSwitchEngaged(), false);
  const away = (): never => {
    throw new Error('the database is away');
  };
  const broken = new Campaigns({ sql: away as never, clock: t.clock, ids: t.app.ids, ledger: t.app.ledger });
  assert.equal(await broken.killSwitchEngaged(), true);
});
