import type { DefinitionJson } from './campaigns.ts';

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
