import type { App } from '../app.ts';
import { bankAccountId } from '../payments/index.ts';
import type { CampaignRow, DefinitionJson } from './campaigns.ts';
import { depositFund } from './funds.ts';
import type { RolloutStage, Scene } from './model.ts';

/** A campaign every guardrail accepts: ¥5 off from ¥20 at shops, a ¥2,000 platform budget. */
export const saneDefinition: DefinitionJson = {
  name: '周末立减',
  template: { kind: 'fixed', amountMinor: '500', minSpendMinor: '2000' },
  scenes: [{ scene: 'shop_qr' }, { scene: 'payment_code' }],
  segment: { kind: 'all' },
  perUser: { countPerDay: 1, minorPerDay: '500', countPerCampaign: 3, minorPerCampaign: '1500' },
  startsAt: '2026-01-15T00:00:00Z',
  endsAt: '2026-01-20T00:00:00Z',
  label: 'platform_discount',
  budget: { funding: 'platform', amountMinor: '200000' },
};

/** The template of 16 January 2025: 20% off, every scene, no cap, "government subsidy" on platform money. */
export const incidentDefinition: DefinitionJson = {
  ...saneDefinition,
  name: 'routine',
  template: { kind: 'percent', basisPoints: 2000 },
  scenes: ['shop_qr', 'payment_code', 'online_bill', 'p2p_transfer', 'card_repayment', 'topup'].map((scene) => ({ scene })),
  label: 'government_subsidy',
};

/**
 * Takes a definition all the way to live, as two operators would: saved by one, dry-run, sent for
 * approval, its fund topped up, approved by the other confirming the exposure; then the engine is
 * refreshed so checkout sees it at once.
 */
export async function liveCampaign(app: App, definition: DefinitionJson, options: { readonly stage?: RolloutStage; readonly sample?: { readonly minutes: number; readonly payments: readonly { readonly scene: Scene; readonly userId: string; readonly amountMinor: bigint }[] } } = {}): Promise<CampaignRow> {
  const [author, approver] = await operatorPair(app);
  const created = await app.campaigns.create(author, definition);
  // Unless a test states its own, the dry run is told of a rush in every scene the campaign has,
  // so the breaker (on its one-second loop) does not pause a campaign the test is still using.
  const rush = { minutes: 1, payments: definition.scenes.flatMap((s) => Array.from({ length: 200 }, () => ({ scene: s.scene as Scene, userId: app.ids.next('usr'), amountMinor: 3000n }))) };
  await app.marketing.dryRun(created.id, options.sample ?? rush);
  await app.campaigns.submit(created.id);
  const budget = BigInt(definition.budget?.amountMinor ?? '0');
  await depositFund(app.ledger, { kind: definition.budget?.funding ?? 'platform', amountMinor: budget, requestKey: `live-${created.id}`, fromAccountId: bankAccountId });
  let approved = await app.campaigns.approve(approver, created.id, budget);
  // Rolled out as asked (every user by default): promotion passes while nothing has been spent.
  while (approved.stage !== (options.stage ?? 'pct100')) approved = await app.marketing.promote(approver, created.id);
  await app.engine.refresh();
  return approved;
}

let operatorCount = 0;
async function operatorPair(app: App): Promise<[string, string]> {
  operatorCount += 1;
  const author = await app.operators.create({ username: `author${String(operatorCount)}`, password: 'operator-pass-1', role: 'operator' });
  const approver = await app.operators.create({ username: `approver${String(operatorCount)}`, password: 'operator-pass-1', role: 'operator' });
  return [author.id, approver.id];
}

/** An operator's console session token (a Bearer for /v1/admin routes). */
export async function operatorToken(app: App, role: 'operator' | 'viewer' = 'operator'): Promise<string> {
  operatorCount += 1;
  const username = `console${String(operatorCount)}`;
  await app.operators.create({ username, password: 'operator-pass-1', role });
  const login = await app.inject({ method: 'POST', url: '/v1/admin/auth/login', payload: { username, password: 'operator-pass-1' } });
  return login.json<{ token: string }>().token;
}
