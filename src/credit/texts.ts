import { createHash } from 'node:crypto';

/**
 * The texts users agree to, one per purpose, versioned. A grant keeps the sha256 of the exact text
 * the user was shown; the API refuses a grant whose hash is not the current text's, so nobody can
 * be enrolled under words they never saw. Changing a text means a new version (and a new hash):
 * grants under the old one stay what they were.
 */
export interface ConsentText {
  readonly purpose: string;
  readonly version: number;
  /** Whether a partner must be named (sharing with someone), or the grant is the user's own choice. */
  readonly needsPartner: boolean;
  /** The scopes the user may choose between (the first is the narrowest). */
  readonly scopes: readonly string[];
  readonly defaultDays: number;
  readonly maxDays: number;
  readonly zh: string;
  readonly en: string;
}

const catalog: readonly ConsentText[] = [
  {
    purpose: 'credit.score.share',
    version: 1,
    needsPartner: true,
    scopes: ['threshold', 'full'],
    defaultDays: 90,
    maxDays: 365,
    zh: '我同意钱包向上述合作方提供我的信用分。若选择“仅门槛”，合作方只会得知我的信用分是否达到其门槛，不会得知分数本身。信用分仅由我在钱包内的数据计算，不包含任何好友或社交关系信息。每次查询都会记录在“谁用了我的数据”中。我可以随时撤回，撤回后合作方的下一次查询即被拒绝。',
    en: 'I agree that qianbao may give the partner named above my credit score. With "threshold only" the partner learns only whether my score meets its threshold, never the score itself. The score is computed only from my own data in qianbao and uses nothing about my friends or contacts. Every query is recorded under "who used my data". I can revoke this at any time; the partner\'s next query is then refused.',
  },
  {
    purpose: 'credit.deposit_waiver',
    version: 1,
    needsPartner: true,
    scopes: ['waiver'],
    defaultDays: 365,
    maxDays: 365,
    zh: '我同意上述合作方在我租用时查询我的信用分是否达到其免押门槛；达到则免收押金，未达到则从我的余额中冻结押金，归还后解冻。若物品损坏或未归还，合作方可按实际损失从冻结的押金中扣款；免押时可从我的余额中扣除不超过押金金额的损失。每一步都会出现在我的账单中。我可以随时撤回。',
    en: 'I agree that the partner named above may check, when I rent, whether my credit score meets its deposit-free threshold; if it does, no deposit is taken; if not, the deposit is held on my balance and released when I return the item. If the item is damaged or not returned, the partner may take its actual loss from the held deposit, or, when the deposit was waived, from my balance up to the deposit. Every step shows in my bill. I can revoke this at any time.',
  },
  {
    purpose: 'annual_bill.publish',
    version: 1,
    needsPartner: false,
    scopes: ['share_card'],
    defaultDays: 30,
    maxDays: 365,
    zh: '我同意为我的年度账单生成一个公开分享链接。任何拿到链接的人都能看到分享卡片上的汇总数字（支出、收入、分类占比、红包个数），看不到明细、商户账号或我的信用分。每次查看都会记录。撤回后链接立即失效。',
    en: 'I agree to create a public link to my annual bill. Anyone with the link sees the summary on the share card (spent, received, shares by category, red packets), never the details, shop accounts or my credit score. Every view is recorded. Revoking this kills the link at once.',
  },
  {
    purpose: 'annual_bill.publish_score',
    version: 1,
    needsPartner: false,
    scopes: ['score'],
    defaultDays: 30,
    maxDays: 365,
    zh: '我同意在我的年度账单分享卡片上显示我的信用分。这是单独的授权，撤回后卡片不再显示信用分。',
    en: 'I agree to show my credit score on my annual bill share card. This is a separate grant; revoking it removes the score from the card.',
  },
  {
    purpose: 'data.collect.payments',
    version: 1,
    needsPartner: true,
    scopes: ['summary'],
    defaultDays: 30,
    maxDays: 180,
    zh: '我同意上述合作方读取我在钱包内的付款汇总（笔数与金额，按月），仅此一类数据，不包括交易对方、位置或社交信息。每次读取都会记录。我可以随时撤回。',
    en: 'I agree that the partner named above may read a summary of my payments in qianbao (counts and amounts by month): this one category only, never counterparties, locations or contacts. Every read is recorded. I can revoke this at any time.',
  },
];

export function textSha256(text: ConsentText): string {
  return createHash('sha256').update(`${text.purpose}\nv${String(text.version)}\n${text.zh}\n${text.en}`).digest('hex');
}

const byPurpose = new Map(catalog.map((text) => [text.purpose, { ...text, sha256: textSha256(text) }]));

export type PublishedText = ConsentText & { readonly sha256: string };

export function consentText(purpose: string): PublishedText | undefined {
  return byPurpose.get(purpose);
}

export function consentTexts(): PublishedText[] {
  return [...byPurpose.values()];
}
