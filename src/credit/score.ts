/**
 * The credit score, 350–950, as a pure function of the user's own data in qianbao. Every point is
 * one of the factors below, each with what it is based on and how to improve it, so the user sees
 * exactly why the score is what it is. Nothing about friends, groups or contacts is an input: the
 * type below has no field for them.
 */
export interface ScoreInputs {
  readonly realNameVerified: boolean;
  readonly accountAgeDays: number;
  /** Outgoing payments (transfers, shop payments, red packets) in the last 12 months. */
  readonly paymentsLast12m: number;
  /** Months of the last 12 with at least one outgoing payment. */
  readonly activeMonthsLast12: number;
  /** Shop payments in the last 12 months, and how many of them were refunded (in part or whole). */
  readonly shopPaymentsLast12m: number;
  readonly refundedLast12m: number;
  /** Deposits a partner charged for damage or loss in the last 12 months. */
  readonly depositChargesLast12m: number;
}

export interface Factor {
  readonly key: 'identity' | 'account_age' | 'payment_volume' | 'regularity' | 'refunds_disputes' | 'repayment' | 'holdings';
  readonly points: number;
  readonly max: number;
  readonly basis: { readonly zh: string; readonly en: string };
  readonly improve: { readonly zh: string; readonly en: string } | null;
}

export const scoreMin = 350;
export const scoreMax = 950;

const clamp = (value: number, max: number): number => Math.max(0, Math.min(max, Math.round(value)));

export function computeScore(input: ScoreInputs): { readonly score: number; readonly factors: readonly Factor[] } {
  const factors: Factor[] = [];
  const add = (factor: Factor): void => {
    factors.push(factor);
  };
  add({
    key: 'identity',
    points: input.realNameVerified ? 100 : 0,
    max: 100,
    basis: input.realNameVerified ? { zh: '已实名认证', en: 'Real name verified' } : { zh: '未实名认证', en: 'Real name not verified' },
    improve: input.realNameVerified ? null : { zh: '完成实名认证', en: 'Verify your real name' },
  });
  add({
    key: 'account_age',
    points: clamp((input.accountAgeDays / 365) * 100, 100),
    max: 100,
    basis: { zh: `账户已使用 ${String(input.accountAgeDays)} 天`, en: `Account open for ${String(input.accountAgeDays)} days` },
    improve: input.accountAgeDays >= 365 ? null : { zh: '账户使用满一年即得满分', en: 'Full points once the account is a year old' },
  });
  // Log scale: the first payments count most; 100 in a year is full.
  const volume = input.paymentsLast12m <= 0 ? 0 : (Math.log10(1 + input.paymentsLast12m) / Math.log10(101)) * 100;
  add({
    key: 'payment_volume',
    points: clamp(volume, 100),
    max: 100,
    basis: { zh: `近 12 个月付款 ${String(input.paymentsLast12m)} 笔`, en: `${String(input.paymentsLast12m)} payments in the last 12 months` },
    improve: input.paymentsLast12m >= 100 ? null : { zh: '日常消费用钱包付款', en: 'Pay for everyday things with the wallet' },
  });
  add({
    key: 'regularity',
    points: clamp((input.activeMonthsLast12 / 12) * 150, 150),
    max: 150,
    basis: { zh: `近 12 个月中有 ${String(input.activeMonthsLast12)} 个月有付款`, en: `Payments in ${String(input.activeMonthsLast12)} of the last 12 months` },
    improve: input.activeMonthsLast12 >= 12 ? null : { zh: '每个月都有使用', en: 'Use the wallet every month' },
  });
  // Refunds are normal up to one in ten; above that points fall, to none at one in two. A
  // partner's damage charge costs 20 points each.
  const ratio = input.shopPaymentsLast12m === 0 ? 0 : input.refundedLast12m / input.shopPaymentsLast12m;
  const refundPoints = ratio <= 0.1 ? 80 : ratio >= 0.5 ? 0 : 80 * (1 - (ratio - 0.1) / 0.4);
  add({
    key: 'refunds_disputes',
    points: clamp(refundPoints - 20 * input.depositChargesLast12m, 80),
    max: 80,
    basis: { zh: `退款 ${String(input.refundedLast12m)}/${String(input.shopPaymentsLast12m)} 笔，押金扣款 ${String(input.depositChargesLast12m)} 次`, en: `${String(input.refundedLast12m)} of ${String(input.shopPaymentsLast12m)} shop payments refunded; ${String(input.depositChargesLast12m)} deposit charges` },
    improve: ratio <= 0.1 && input.depositChargesLast12m === 0 ? null : { zh: '按时归还租用物品，减少退款', en: 'Return rentals on time and in good order; fewer refunds' },
  });
  // Not available yet in qianbao: counted as neutral (half), never as a penalty.
  add({ key: 'repayment', points: 25, max: 50, basis: { zh: '暂无借还记录（按中性计）', en: 'No repayment history yet (counted as neutral)' }, improve: null });
  add({ key: 'holdings', points: 10, max: 20, basis: { zh: '暂无理财持有（按中性计）', en: 'No holdings yet (counted as neutral)' }, improve: null });
  const score = scoreMin + factors.reduce((sum, f) => sum + f.points, 0);
  return { score: Math.min(scoreMax, score), factors };
}
