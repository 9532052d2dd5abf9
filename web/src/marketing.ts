/**
 * The marketing engine as the web app sees it (issue 5): what checkout offers before the PIN, the
 * discount on a bill, a user's vouchers, and, for the operator console, campaigns, their
 * definitions, dry runs, the burn rate, events and funds. Money is digit strings of fen.
 */

/** What users are told a discount is; each label is bound to the money behind it on the server. */
export const labels = {
  government_subsidy: { zh: '政府补贴', en: 'Government subsidy' },
  merchant_discount: { zh: '商家优惠', en: 'Merchant discount' },
  platform_discount: { zh: '平台优惠', en: 'Platform discount' },
} as const;
export type LabelKey = keyof typeof labels;
export const labelKeys = Object.keys(labels) as LabelKey[];

/** A label key's text in a language; a key this app does not know shows as it came. */
export function labelText(label: string, lang: 'zh' | 'en'): string {
  const known = (labels as Readonly<Record<string, { readonly zh: string; readonly en: string } | undefined>>)[label];
  return known === undefined ? label : known[lang];
}

/** GET /v1/pay-targets/:code → offer: the best discount for this payer and amount, before the PIN. */
export interface Offer {
  readonly offerId: string;
  readonly campaignId: string;
  readonly label: string;
  readonly labelText: { readonly zh: string; readonly en: string };
  /** The amount off; for a random discount, the most it can be. */
  readonly offMinor: string;
  readonly random: boolean;
  /** What the payer pays (for a random discount, at least this). */
  readonly payMinor: string;
}

/** A bill's campaign discount: the payer paid the price less it. */
export interface BillDiscount {
  readonly campaignId: string;
  readonly label: string;
  readonly amountMinor: string;
  /** The price before the discount. */
  readonly grossMinor: string;
}

export interface Voucher {
  readonly id: string;
  readonly campaignId: string;
  readonly amountMinor: string;
  readonly minSpendMinor: string;
  readonly status: 'issued' | 'used';
  readonly expiresAt: string;
  readonly usedAt: string | null;
}

/** Payment scenes a campaign may touch; only the shop scenes go without a written reason. */
export const scenes = ['shop_qr', 'payment_code', 'online_bill', 'p2p_transfer', 'card_repayment', 'topup'] as const;
export type Scene = (typeof scenes)[number];
export const shopScenes: readonly Scene[] = ['shop_qr', 'payment_code'];
export const grantReasonLengthMin = 10;

export const fundingKinds = ['platform', 'merchant', 'subsidy'] as const;
export type FundingKind = (typeof fundingKinds)[number];
/** The funding each label needs (the server refuses any other pairing). */
export const labelFunding: Readonly<Record<LabelKey, FundingKind>> = {
  government_subsidy: 'subsidy',
  merchant_discount: 'merchant',
  platform_discount: 'platform',
};

export type Template =
  | { readonly kind: 'fixed'; readonly amountMinor: string; readonly minSpendMinor?: string }
  | { readonly kind: 'percent'; readonly basisPoints: number; readonly capMinor?: string | null }
  | { readonly kind: 'random'; readonly minMinor: string; readonly maxMinor: string }
  | { readonly kind: 'threshold'; readonly thresholdMinor: string; readonly amountMinor: string }
  | { readonly kind: 'voucher'; readonly amountMinor: string; readonly minSpendMinor: string; readonly validDays: number };
export type TemplateKind = Template['kind'];
export const templateKinds: readonly TemplateKind[] = ['fixed', 'percent', 'random', 'threshold', 'voucher'];

export type Segment = { readonly kind: 'all' } | { readonly kind: 'new_users'; readonly withinDays: number } | { readonly kind: 'list'; readonly userIds: readonly string[] };

/** POST /v1/admin/campaigns and PUT /v1/admin/campaigns/:id take this. */
export interface Definition {
  readonly name: string;
  readonly template: Template;
  readonly scenes: readonly { readonly scene: Scene; readonly reason?: string }[];
  readonly segment: Segment;
  readonly perUser: { readonly countPerDay: number; readonly minorPerDay: string; readonly countPerCampaign: number; readonly minorPerCampaign: string };
  readonly startsAt: string;
  readonly endsAt: string;
  readonly label: LabelKey;
  readonly budget: { readonly funding: FundingKind; readonly amountMinor: string } | null;
  readonly testUserIds?: readonly string[];
}

export type CampaignStatus = 'draft' | 'pending_approval' | 'active' | 'paused' | 'ended';

/** A dry run's forecast (POST /v1/admin/campaigns/:id/dry-run). */
export interface Forecast {
  readonly version: number;
  readonly perMinuteMinor: string;
  readonly peakPerMinuteMinor: string;
  readonly totalMinor: string;
  readonly scenes: Readonly<Record<string, { readonly count: number; readonly minor: string }>>;
  readonly paymentsConsidered: number;
  readonly paymentsDiscounted: number;
  readonly windowMinutes: number;
  readonly maximumExposureMinor: string;
  readonly source?: string;
  readonly at?: string;
}

export interface Campaign {
  readonly id: string;
  readonly name: string;
  readonly status: CampaignStatus;
  readonly version: number;
  readonly definition: Definition;
  readonly authorId: string;
  readonly approvedBy: string | null;
  readonly maximumExposureMinor: string;
  readonly updatedAt: string;
  /** Not sent by the server today; shown where it is. */
  readonly stage?: string;
  readonly forecast?: Forecast | null;
}

export interface CampaignVersion {
  readonly version: number;
  readonly authorId: string;
  readonly createdAt: string;
  readonly diff: readonly { readonly path: string; readonly before: unknown; readonly after: unknown }[];
}

export interface CampaignDetail extends Campaign {
  readonly versions: readonly CampaignVersion[];
}

export interface CampaignList {
  readonly campaigns: readonly Campaign[];
  readonly killSwitch: boolean;
}

export type EventKind = 'activated' | 'breaker' | 'paused' | 'resumed' | 'promoted' | 'ended' | 'kill_switch';

export interface MarketingEvent {
  readonly id: string;
  readonly campaignId: string | null;
  readonly kind: EventKind;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly actor: string;
  readonly createdAt: string;
}

export interface Burn {
  readonly forecastPerMinuteMinor: string;
  readonly breakerLineMinor: string;
  readonly minutes: readonly { readonly minute: string; readonly scene: string; readonly minor: string }[];
}

export interface Fund {
  readonly kind: FundingKind;
  readonly accountId: string;
  readonly balanceMinor: string;
}

export interface IncidentReport {
  readonly totalMinor: string;
  readonly count: number;
  readonly budgetLeftMinor: string;
  readonly byScene: readonly { readonly scene: string; readonly minor: string; readonly count: number }[];
  readonly payments: readonly {
    readonly id: string;
    readonly kind: string;
    readonly scene: string;
    readonly userId: string;
    readonly paidMinor: string;
    readonly discountMinor: string;
    readonly createdAt: string;
  }[];
}

/** A 422 marketing.invalid names each problem's field and says what to change. */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

/** The reason a paused campaign is paused: the newest pause or breaker event's `detail.reason`. */
export function pausedReason(events: readonly MarketingEvent[]): MarketingEvent | undefined {
  return events.find((event) => event.kind === 'paused' || event.kind === 'breaker');
}

/**
 * The rollout stage as the events tell it (newest first): the last promotion's target, or the
 * stage it was activated at. The campaign JSON does not carry it.
 */
export function stageFromEvents(events: readonly MarketingEvent[]): string | undefined {
  for (const event of events) {
    if (event.kind === 'promoted' && typeof event.detail['to'] === 'string') return event.detail['to'];
    if (event.kind === 'activated' && typeof event.detail['stage'] === 'string') return event.detail['stage'];
  }
  return undefined;
}
