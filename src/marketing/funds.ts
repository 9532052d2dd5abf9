import { DomainError } from '../kernel/errors.ts';
import type { Ledger } from '../ledger/index.ts';
import type { FundingKind } from './model.ts';

/**
 * Where campaign budgets come from: one fund per kind of funding, each a system account that
 * cannot go negative, filled by deposits (from the bank, as a corporate transfer would). The
 * platform fund is the same account the red packet rains draw on. Activating a campaign moves its
 * budget from its fund into its own budget account; ending it moves what is left back.
 */
export const fundAccounts: Record<FundingKind, { readonly id: string; readonly code: string }> = {
  platform: { id: 'acct_system_campaign_cny', code: 'campaign.budget' },
  merchant: { id: 'acct_system_merchant_promo_cny', code: 'campaign.merchant' },
  subsidy: { id: 'acct_system_subsidy_cny', code: 'campaign.subsidy' },
};

export const budgetAccountCode = 'marketing.budget';

export async function ensureFunds(ledger: Ledger): Promise<void> {
  for (const fund of Object.values(fundAccounts)) await ledger.createAccount({ id: fund.id, currency: 'CNY', code: fund.code, noOverdraft: true });
}

export async function fundBalances(ledger: Ledger): Promise<Record<FundingKind, bigint>> {
  const balance = async (kind: FundingKind) => (await ledger.getAccount(fundAccounts[kind].id))?.availableMinor ?? 0n;
  return { platform: await balance('platform'), merchant: await balance('merchant'), subsidy: await balance('subsidy') };
}

export async function depositFund(ledger: Ledger, input: { readonly kind: FundingKind; readonly amountMinor: bigint; readonly requestKey: string; readonly fromAccountId: string }): Promise<void> {
  const result = await ledger.transfer({ id: `fund-deposit:${input.kind}:${input.requestKey}`, type: 'posted', debitAccountId: input.fromAccountId, creditAccountId: fundAccounts[input.kind].id, amountMinor: input.amountMinor, currency: 'CNY', kind: 'campaign_deposit' });
  if (result.status === 'failed') throw new DomainError(result.error, { detail: result.detail });
}

const fundingId = (campaignId: string, version: number): string => `cmp-fund:${campaignId}:v${String(version)}`;

/**
 * Tops a campaign's budget account up to `budgetMinor` from its fund. What was funded is read
 * from the ledger: the funding transfers of this and earlier versions (one id per version; refunds
 * also credit the account with returned discounts, so its credits are not the funding). A retry or
 * a second approver finds this version's transfer and moves nothing more.
 */
export async function fundBudget(ledger: Ledger, input: { readonly campaignId: string; readonly version: number; readonly kind: FundingKind; readonly budgetAccountId: string; readonly budgetMinor: bigint }): Promise<void> {
  await ledger.createAccount({ id: input.budgetAccountId, currency: 'CNY', code: budgetAccountCode, ownerId: null, noOverdraft: true });
  let funded = 0n;
  for (let version = 1; version <= input.version; version += 1) {
    const found = await ledger.getTransfer(fundingId(input.campaignId, version));
    if (found !== undefined && found.status !== 'failed') funded += found.transfer.amountMinor;
  }
  if (input.budgetMinor < funded)
    throw new DomainError('marketing.invalid', { detail: `this campaign was already funded with ${funded.toString()} fen; a budget can grow but not shrink: end the campaign to return what is left` });
  const delta = input.budgetMinor - funded;
  if (delta > 0n) {
    const result = await ledger.transfer({ id: fundingId(input.campaignId, input.version), type: 'posted', debitAccountId: fundAccounts[input.kind].id, creditAccountId: input.budgetAccountId, amountMinor: delta, currency: 'CNY', kind: 'campaign_fund' });
    if (result.status === 'failed') {
      if (result.error.endsWith('insufficient_funds'))
        throw new DomainError('marketing.fund_short', { detail: `the ${input.kind} fund cannot cover ${delta.toString()} fen: deposit into it first` });
      throw new DomainError(result.error, { detail: result.detail });
    }
  }
}

/** Moves what is left in a campaign's budget back to its fund, once. Answers the amount returned. */
export async function returnBudget(ledger: Ledger, input: { readonly campaignId: string; readonly kind: FundingKind; readonly budgetAccountId: string }): Promise<bigint> {
  const account = await ledger.getAccount(input.budgetAccountId);
  const left = account?.availableMinor ?? 0n;
  const id = `cmp-return:${input.campaignId}`;
  const earlier = await ledger.getTransfer(id);
  if (earlier !== undefined && earlier.status !== 'failed') return earlier.transfer.amountMinor;
  if (left <= 0n) return 0n;
  const result = await ledger.transfer({ id, type: 'posted', debitAccountId: input.budgetAccountId, creditAccountId: fundAccounts[input.kind].id, amountMinor: left, currency: 'CNY', kind: 'campaign_return' });
  if (result.status === 'failed') throw new DomainError(result.error, { detail: result.detail });
  return left;
}
