/**
 * Goal: operators manage campaigns over HTTP — the January 2025 template is refused at save with
 * every problem and what to change; a sane one is saved, edited (a version with its diff), sent
 * for approval and approved by a second operator who confirms the computed exposure; the author
 * and viewers cannot approve; the kill switch is engaged and released.
 * Method: the whole app on a test schema, through app.inject() with operator sessions.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { expectProblem } from '../../src/payments/testing.ts';
import { createTestApp, type TestApp } from '../../src/testing/app.ts';
import { incidentDefinition, saneDefinition } from '../../src/marketing/testing.ts';

let t: TestApp;
const tokens: Record<string, string> = {};

before(async () => {
  t = await createTestApp();
  for (const [name, role] of [['author', 'operator'], ['approver', 'operator'], ['viewer', 'viewer']] as const) {
    await t.app.operators.create({ username: name, password: 'operator-pass-1', role });
    const login = await t.app.inject({ method: 'POST', url: '/v1/admin/auth/login', payload: { username: name, password: 'operator-pass-1' } });
    tokens[name] = login.json<{ token: string }>().token;
  }
});
after(() => t.close());

let keys = 0;
function as(who: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) {
  return t.app.inject({ method, url, headers: { authorization: `Bearer ${tokens[who] ?? ''}`, 'idempotency-key': `c-${String(++keys)}` }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
}

const sane = saneDefinition;

test('the incident template is refused at save with what to change; nothing is saved', async () => {
  const incident = incidentDefinition;
  const body = expectProblem(await as('author', 'POST', '/v1/admin/campaigns', incident), 422, 'marketing.invalid');
  const problems = body['problems'] as { field: string; message: string }[];
  assert.ok(problems.some((p) => p.field === 'template.capMinor' && /capMinor/.test(p.message)));
  assert.ok(problems.some((p) => p.field === 'label' && /subsidy-funded/.test(p.message)));
  assert.ok(problems.some((p) => p.field === 'scenes.topup' && /written reason/.test(p.message)));
  expectProblem(await as('author', 'POST', '/v1/admin/campaigns', { ...sane, template: { kind: 'percent', basisPoints: 6000, capMinor: '100' } }), 422, 'marketing.invalid');
  assert.equal((await as('viewer', 'GET', '/v1/admin/campaigns')).json<{ campaigns: unknown[] }>().campaigns.length, 0);
});

test('save, edit, submit, four-eyes approve; versions with diffs; the kill switch', async () => {
  expectProblem(await as('viewer', 'POST', '/v1/admin/campaigns', sane), 403, 'request.forbidden');
  const created = await as('author', 'POST', '/v1/admin/campaigns', sane);
  assert.equal(created.statusCode, 201, created.body);
  const id = created.json<{ id: string; maximumExposureMinor: string }>().id;
  assert.equal(created.json<{ maximumExposureMinor: string }>().maximumExposureMinor, '200000');
  const edited = await as('author', 'PUT', `/v1/admin/campaigns/${id}`, { ...sane, budget: { funding: 'platform', amountMinor: '300000' } });
  assert.equal(edited.json<{ version: number }>().version, 2);
  const detail = (await as('viewer', 'GET', `/v1/admin/campaigns/${id}`)).json<{ versions: { version: number; diff: { path: string; before: unknown; after: unknown }[] }[] }>();
  assert.deepEqual(detail.versions[1]?.diff, [{ path: 'budget.amountMinor', before: '200000', after: '300000' }]);
  assert.equal((await as('author', 'POST', `/v1/admin/campaigns/${id}/submit`)).json<{ status: string }>().status, 'pending_approval');
  expectProblem(await as('author', 'POST', `/v1/admin/campaigns/${id}/approve`, { confirmedExposureMinor: '300000' }), 403, 'marketing.four_eyes');
  expectProblem(await as('viewer', 'POST', `/v1/admin/campaigns/${id}/approve`, { confirmedExposureMinor: '300000' }), 403, 'request.forbidden');
  expectProblem(await as('approver', 'POST', `/v1/admin/campaigns/${id}/approve`, { confirmedExposureMinor: '300000' }), 409, 'marketing.dry_run_required');
  const dryRun = await as('author', 'POST', `/v1/admin/campaigns/${id}/dry-run`, {});
  assert.equal(dryRun.statusCode, 200, dryRun.body);
  assert.equal(dryRun.json<{ version: number; source: string }>().version, 2);
  expectProblem(await as('approver', 'POST', `/v1/admin/campaigns/${id}/approve`, { confirmedExposureMinor: '200000' }), 409, 'marketing.exposure_mismatch');
  expectProblem(await as('approver', 'POST', `/v1/admin/campaigns/${id}/approve`, { confirmedExposureMinor: '300000' }), 422, 'marketing.fund_short');
  assert.equal((await as('approver', 'POST', '/v1/admin/marketing/funds/platform/deposits', { amountMinor: '300000' })).statusCode, 201);
  const approved = await as('approver', 'POST', `/v1/admin/campaigns/${id}/approve`, { confirmedExposureMinor: '300000' });
  assert.equal(approved.json<{ status: string }>().status, 'active', approved.body);
  expectProblem(await as('author', 'GET', '/v1/admin/campaigns/cmp_01234567-89ab-7def-8123-456789abcdef'), 404, 'marketing.not_found');
  assert.equal((await as('approver', 'POST', '/v1/admin/marketing/kill-switch', { engaged: true, reason: 'drill' })).json<{ engaged: boolean }>().engaged, true);
  assert.equal((await as('viewer', 'GET', '/v1/admin/campaigns')).json<{ killSwitch: boolean }>().killSwitch, true);
  assert.equal((await as('approver', 'POST', '/v1/admin/marketing/kill-switch', { engaged: false, reason: 'drill over' })).json<{ engaged: boolean }>().engaged, false);
});
