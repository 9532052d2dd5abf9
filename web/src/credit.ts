/**
 * Credit with real consent (issue 6) as the web app sees it: consent texts and grants, the access
 * log ("who used my data"), the score and its factors, partners and their deposits, the annual bill
 * and its public share card. Money is digit strings of fen; times are ISO strings.
 */
import type { Lang } from './i18n.tsx';

type Text = { readonly zh: string; readonly en: string };

/** GET /v1/consent/texts/:purpose: what a user reads before agreeing; a grant names its sha256. */
export interface ConsentText {
  readonly purpose: string;
  readonly version: number;
  readonly needsPartner: boolean;
  /** The scopes offered, the narrowest first. */
  readonly scopes: readonly string[];
  readonly defaultDays: number;
  readonly maxDays: number;
  readonly zh: string;
  readonly en: string;
  readonly sha256: string;
}

export type GrantState = 'live' | 'expired' | 'revoked';

export interface Grant {
  readonly id: string;
  readonly purpose: string;
  readonly partnerId: string | null;
  readonly scope: string;
  readonly textVersion: number;
  readonly textSha256: string;
  readonly agreedAt: string;
  readonly expiresAt: string;
  readonly revokedAt: string | null;
  readonly state: GrantState;
}

export interface AccessEntry {
  readonly id: string;
  readonly accessor: { readonly kind: 'partner' | 'feature' | 'public'; readonly id: string; readonly name: string };
  readonly purpose: string;
  readonly grantId: string | null;
  readonly data: string;
  readonly outcome: 'allowed' | 'refused';
  readonly reason: string | null;
  readonly at: string;
}

/** GET /v1/partners (a user's view: no keys, no accounts). */
export interface Partner {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly purposes: readonly string[];
  readonly scoreThreshold: number;
}

export type FactorKey = 'identity' | 'account_age' | 'payment_volume' | 'regularity' | 'refunds_disputes' | 'repayment' | 'holdings';

export interface Factor {
  readonly key: FactorKey;
  readonly points: number;
  readonly max: number;
  readonly basis: Text;
  readonly improve: Text | null;
}

export interface CreditScore {
  readonly score: number;
  readonly min: number;
  readonly max: number;
  readonly factors: readonly Factor[];
  readonly computedAt: string;
}

export type DepositStatus = 'waived' | 'held' | 'returned' | 'charged';

export interface Deposit {
  readonly id: string;
  readonly partnerId: string;
  readonly amountMinor: string;
  readonly description: string;
  readonly status: DepositStatus;
  readonly waived: boolean;
  readonly chargedMinor: string | null;
  readonly createdAt: string;
  readonly closedAt: string | null;
  /** GET /v1/credit/deposits names the partner; the demo partner's own list does not. */
  readonly partner?: { readonly name: string } | null;
}

/** GET /v1/demo-partner: the bike rental the server plays, its deposit and my deposits with it. */
export interface DemoPartner {
  readonly partner: Partner;
  readonly depositMinor: string;
  readonly deposits: readonly Deposit[];
}

/** GET /v1/annual-bill/:year (private to its user). */
export interface AnnualBill {
  readonly year: number;
  readonly spentMinor: string;
  readonly receivedMinor: string;
  readonly byCategory: readonly { readonly kind: string; readonly minor: string; readonly count: number }[];
  readonly byMonth: readonly { readonly month: number; readonly spentMinor: string; readonly receivedMinor: string }[];
  readonly topShops: readonly { readonly name: string; readonly minor: string; readonly count: number }[];
  readonly redPackets: { readonly sent: number; readonly received: number };
  readonly forest: null;
  readonly wealth: null;
}

/** POST /v1/annual-bill/:year/share. */
export interface ShareLink {
  readonly token: string;
  readonly path: string;
  readonly includesScore: boolean;
}

/** GET /v1/public/annual-bills/:token: summary figures only, for anyone with the link. */
export interface ShareCard {
  readonly year: number;
  readonly displayName: string;
  readonly spentMinor: string;
  readonly receivedMinor: string;
  readonly categoryShares: readonly { readonly kind: string; readonly percent: number }[];
  readonly redPackets: { readonly sent: number; readonly received: number };
  readonly score: number | null;
}

export const purposes = {
  scoreShare: 'credit.score.share',
  depositWaiver: 'credit.deposit_waiver',
  publish: 'annual_bill.publish',
  publishScore: 'annual_bill.publish_score',
  collectPayments: 'data.collect.payments',
} as const;

const purposeNames: Readonly<Record<string, Text>> = {
  [purposes.scoreShare]: { zh: '向合作方提供信用分', en: 'Share my credit score with a partner' },
  [purposes.depositWaiver]: { zh: '信用免押', en: 'Deposit-free with my credit' },
  [purposes.publish]: { zh: '公开分享年度账单', en: 'Publish my annual bill' },
  [purposes.publishScore]: { zh: '年度账单分享卡片显示信用分', en: 'Show my score on the annual bill card' },
  [purposes.collectPayments]: { zh: '合作方读取付款汇总', en: 'A partner reads my payments summary' },
};

const scopeNames: Readonly<Record<string, Text>> = {
  threshold: { zh: '仅告知是否达到门槛', en: 'Threshold only (meets it or not)' },
  full: { zh: '完整分数', en: 'The full score' },
  waiver: { zh: '租用时查询是否达到免押门槛', en: 'Checked against the deposit-free threshold when I rent' },
  share_card: { zh: '分享卡片上的汇总数字', en: 'Summary figures on the share card' },
  score: { zh: '分享卡片上的信用分', en: 'The score on the share card' },
  summary: { zh: '按月的付款笔数与金额', en: 'Payment counts and amounts by month' },
};

const accessorKinds: Readonly<Record<AccessEntry['accessor']['kind'], Text>> = {
  partner: { zh: '合作方', en: 'Partner' },
  feature: { zh: '钱包功能', en: 'Wallet feature' },
  public: { zh: '公开链接', en: 'Public link' },
};

/** A name in a language; one this app does not know shows as it came. */
function named(names: Readonly<Record<string, Text>>, key: string, lang: Lang): string {
  return names[key]?.[lang] ?? key;
}

export const purposeName = (purpose: string, lang: Lang): string => named(purposeNames, purpose, lang);
export const scopeName = (scope: string, lang: Lang): string => named(scopeNames, scope, lang);
export const accessorKindName = (kind: AccessEntry['accessor']['kind'], lang: Lang): string => accessorKinds[kind][lang];

/**
 * What was read, in the user's language: the server records it in English (the log is shared with
 * operators); the Chinese is this app's translation of the phrases the server writes.
 */
export function accessDataText(data: string, lang: Lang): string {
  if (lang === 'en') return data;
  const year = /^annual bill (\d{4}) share card$/.exec(data);
  if (year !== null) return `${year[1] ?? ''} 年度账单分享卡片`;
  const known: Readonly<Record<string, string>> = {
    'credit score': '信用分',
    'credit score against the deposit-free threshold': '信用分是否达到免押门槛',
    'payments summary by month': '按月付款汇总',
    'credit score on the share card': '分享卡片上的信用分',
  };
  return known[data] ?? data;
}

/** Why a read was refused, in the user's language (the server's phrases, as for `accessDataText`). */
export function refusalText(reason: string, lang: Lang): string {
  if (lang === 'en') return reason;
  const patterns: readonly [RegExp, (purpose: string) => string][] = [
    [/^no (\S+) grant$/, (p) => `没有「${purposeName(p, 'zh')}」授权`],
    [/^revoked the (\S+) grant$/, (p) => `已撤回「${purposeName(p, 'zh')}」授权`],
    [/^a (\S+) grant that expired$/, (p) => `「${purposeName(p, 'zh')}」授权已过期`],
  ];
  for (const [pattern, text] of patterns) {
    const match = pattern.exec(reason);
    if (match !== null) return text(match[1] ?? '');
  }
  if (reason === 'the publish grant behind this link was revoked or expired') return '此链接对应的公开分享授权已撤回或过期';
  return reason;
}

/** The live grant of a purpose to a partner (or, with null, the user's own), if there is one. */
export function liveGrant(grants: readonly Grant[], purpose: string, partnerId: string | null): Grant | undefined {
  return grants.find((grant) => grant.state === 'live' && grant.purpose === purpose && grant.partnerId === partnerId);
}

/** Score bands, as wallets in China name them; the lowest score each starts at. */
export const scoreBands = [
  { from: 700, key: 'credit_band_excellent' },
  { from: 650, key: 'credit_band_great' },
  { from: 600, key: 'credit_band_good' },
  { from: 550, key: 'credit_band_fair' },
  { from: 0, key: 'credit_band_poor' },
] as const;

export type ScoreBandKey = (typeof scoreBands)[number]['key'];

export function scoreBand(score: number): ScoreBandKey {
  return scoreBands.find((band) => score >= band.from)?.key ?? 'credit_band_poor';
}

/** This year in Asia/Shanghai, as the annual bill counts years. */
export function currentYear(): number {
  return Number(new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric' }).format(new Date()));
}

/** A date for people (the day only), in the app's language. */
export function dayText(iso: string, lang: Lang): string {
  return new Date(iso).toLocaleDateString(lang === 'zh' ? 'zh-CN' : 'en-GB', { year: 'numeric', month: 'short', day: 'numeric' });
}

/** A moment for people (day and time), in the app's language. */
export function timeText(iso: string, lang: Lang): string {
  return new Date(iso).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}
