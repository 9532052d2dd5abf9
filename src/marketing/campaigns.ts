import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import { DomainError, registerErrors } from '../kernel/errors.ts';
import type { IdGenerator } from '../kernel/ids.ts';
import type { Ledger } from '../ledger/index.ts';
import { fundBudget } from './funds.ts';
import { diffVersions, maximumExposure, validateCampaign, type CampaignDraft, type RolloutStage, type Template } from './model.ts';
import { insertEvent } from './store.ts';

/**
 * Campaign definitions (first part of the marketing engine): saving with guardrail 1, every change
 * a version with its diff and author (guardrail 7), four-eyes activation where a second operator
 * confirms the computed maximum exposure (guardrail 3), and the kill switch (guardrail 6), which
 * fails closed. Budgets, checkout discounts, dry runs, rollout and the breaker build on this.
 */

export const marketingErrors = registerErrors('marketing', {
  invalid: { status: 422, title: 'The campaign cannot be saved as it is', retryable: false },
  not_found: { status: 404, title: 'No such campaign', retryable: false },
  four_eyes: { status: 403, title: 'A campaign is approved by someone other than its author', retryable: false },
  exposure_mismatch: { status: 409, title: 'The confirmed exposure is not the computed one', retryable: false },
  wrong_status: { status: 409, title: 'The campaign is not in a state that allows this', retryable: false },
  dry_run_required: { status: 409, title: 'Run the dry run of this version before approving it', retryable: false },
  fund_short: { status: 422, title: "The campaign's fund cannot cover its budget", retryable: false },
  promotion_refused: { status: 409, title: 'Spend does not track the forecast: the rollout stays where it is', retryable: false },
  not_voucher: { status: 422, title: 'Only a voucher campaign issues vouchers', retryable: false },
});

/** A campaign definition as JSON (money as digit strings), as the API takes it and the row keeps it. */
export interface DefinitionJson {
  readonly name: string;
  readonly template: Record<string, unknown> & { readonly kind: Template['kind'] };
  readonly scenes: readonly { readonly scene: string; readonly reason?: string }[];
  readonly segment: { readonly kind: 'all' } | { readonly kind: 'new_users'; readonly withinDays: number } | { readonly kind: 'list'; readonly userIds: readonly string[] };
  readonly perUser: { readonly countPerDay: number; readonly minorPerDay: string; readonly countPerCampaign: number; readonly minorPerCampaign: string };
  readonly startsAt: string;
  readonly endsAt: string;
  readonly label: CampaignDraft['label'];
  readonly budget: { readonly funding: 'platform' | 'merchant' | 'subsidy'; readonly amountMinor: string } | null;
  /** The rollout's first stage: users who get the campaign before any percentage does. */
  readonly testUserIds?: readonly string[];
}

const money = (value: unknown): bigint => (typeof value === 'string' && /^(0|[1-9][0-9]{0,17})$/.test(value) ? BigInt(value) : -1n);

/** The draft the rules check; malformed money parses to -1 so validation names the field. */
export function toDraft(json: DefinitionJson): CampaignDraft {
  const t = json.template;
  let template: Template;
  switch (t.kind) {
    case 'fixed':
      template = { kind: 'fixed', amountMinor: money(t['amountMinor']), minSpendMinor: t['minSpendMinor'] === undefined ? 0n : money(t['minSpendMinor']) };
      break;
    case 'percent':
      template = { kind: 'percent', basisPoints: Number(t['basisPoints']), capMinor: t['capMinor'] === undefined || t['capMinor'] === null ? null : money(t['capMinor']) };
      break;
    case 'random':
      template = { kind: 'random', minMinor: money(t['minMinor']), maxMinor: money(t['maxMinor']) };
      break;
    case 'threshold':
      template = { kind: 'threshold', thresholdMinor: money(t['thresholdMinor']), amountMinor: money(t['amountMinor']) };
      break;
    case 'voucher':
      template = { kind: 'voucher', amountMinor: money(t['amountMinor']), minSpendMinor: money(t['minSpendMinor']), validDays: Number(t['validDays']) };
      break;
  }
  return {
    name: json.name,
    template,
    scenes: json.scenes.map((s) => ({ scene: s.scene as CampaignDraft['scenes'][number]['scene'], reason: s.reason })),
    segment: json.segment,
    perUser: { countPerDay: json.perUser.countPerDay, minorPerDay: money(json.perUser.minorPerDay), countPerCampaign: json.perUser.countPerCampaign, minorPerCampaign: money(json.perUser.minorPerCampaign) },
    startsAtMs: Date.parse(json.startsAt),
    endsAtMs: Date.parse(json.endsAt),
    label: json.label,
    budget: json.budget === null ? null : { funding: json.budget.funding, amountMinor: money(json.budget.amountMinor) },
  };
}

export type CampaignStatus = 'draft' | 'pending_approval' | 'active' | 'paused' | 'ended';

export interface CampaignRow {
  id: string;
  name: string;
  status: CampaignStatus;
  version: number;
  definition: DefinitionJson;
  created_by: string;
  author_id: string;
  approved_by: string | null;
  approved_at: Date | null;
  approved_exposure_minor: bigint | null;
  paused_reason: string | null;
  created_at: Date;
  updated_at: Date;
  budget_account_id: string | null;
  stage: RolloutStage;
  forecast: Forecast | null;
  paused_at: Date | null;
  paused_by: string | null;
}

/** A dry run's result, kept with the campaign: what the breaker and promotion compare spend with. */
export interface Forecast {
  readonly version: number;
  readonly perMinuteMinor: string;
  readonly peakPerMinuteMinor: string;
  readonly totalMinor: string;
  readonly scenes: Record<string, { readonly count: number; readonly minor: string }>;
  readonly paymentsConsidered: number;
  readonly paymentsDiscounted: number;
  readonly windowMinutes: number;
  readonly source: 'last_24h' | 'sample';
  readonly at: string;
  readonly maximumExposureMinor: string;
}

export interface VersionRow {
  version: number;
  definition: DefinitionJson;
  diff: { path: string; before: unknown; after: unknown }[];
  author_id: string;
  created_at: Date;
}

export class Campaigns {
  constructor(private readonly deps: { readonly sql: Sql; readonly clock: Clock; readonly ids: IdGenerator; readonly ledger: Ledger; readonly onChange?: () => void }) {}

  private check(definition: DefinitionJson): CampaignDraft {
    const draft = toDraft(definition);
    const problems = validateCampaign(draft);
    if (problems.length > 0) throw new DomainError('marketing.invalid', { detail: problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems });
    return draft;
  }

  /** A new campaign, saved as a draft: version 1. */
  async create(operatorId: string, definition: DefinitionJson): Promise<CampaignRow> {
    this.check(definition);
    const id = this.deps.ids.next('cmp');
    const now = this.deps.clock.now();
    await this.deps.sql.begin(async (tx) => {
      await tx`
        INSERT INTO marketing_campaigns (id, name, status, version, definition, created_by, created_at, updated_at, author_id)
        VALUES (${id}, ${definition.name}, 'draft', 1, ${tx.json(definition as never)}, ${operatorId}, ${now}, ${now}, ${operatorId})`;
      await tx`
        INSERT INTO marketing_campaign_versions (campaign_id, version, definition, diff, author_id, created_at)
        VALUES (${id}, 1, ${tx.json(definition as never)}, ${tx.json([])}, ${operatorId}, ${now})`;
    });
    return this.get(id);
  }

  /**
   * Edits a campaign: a new version with its diff. Any edit of a campaign that was approved (or
   * waiting) sends it back to draft: what was approved is no longer what runs.
   */
  async update(operatorId: string, id: string, definition: DefinitionJson): Promise<CampaignRow> {
    this.check(definition);
    const now = this.deps.clock.now();
    await this.deps.sql.begin(async (tx) => {
      const [current] = await tx<CampaignRow[]>`SELECT * FROM marketing_campaigns WHERE id = ${id} FOR UPDATE`;
      if (current === undefined) throw new DomainError('marketing.not_found', { detail: `no campaign ${id}` });
      if (current.status === 'ended') throw new DomainError('marketing.wrong_status', { detail: 'an ended campaign cannot change' });
      const diff = diffVersions(current.definition, definition);
      if (diff.length === 0) return;
      const version = current.version + 1;
      await tx`
        UPDATE marketing_campaigns SET name = ${definition.name}, definition = ${tx.json(definition as never)}, version = ${version},
          status = 'draft', author_id = ${operatorId}, approved_by = NULL, approved_at = NULL, approved_exposure_minor = NULL, updated_at = ${now}
        WHERE id = ${id}`;
      await tx`
        INSERT INTO marketing_campaign_versions (campaign_id, version, definition, diff, author_id, created_at)
        VALUES (${id}, ${version}, ${tx.json(definition as never)}, ${tx.json(diff as never)}, ${operatorId}, ${now})`;
    });
    return this.get(id);
  }

  async get(id: string): Promise<CampaignRow> {
    const [row] = await this.deps.sql<CampaignRow[]>`SELECT * FROM marketing_campaigns WHERE id = ${id}`;
    if (row === undefined) throw new DomainError('marketing.not_found', { detail: `no campaign ${id}` });
    return row;
  }

  list(): Promise<CampaignRow[]> {
    return this.deps.sql<CampaignRow[]>`SELECT * FROM marketing_campaigns ORDER BY updated_at DESC LIMIT 200`;
  }

  versions(id: string): Promise<VersionRow[]> {
    return this.deps.sql<VersionRow[]>`SELECT version, definition, diff, author_id, created_at FROM marketing_campaign_versions WHERE campaign_id = ${id} ORDER BY version`;
  }

  /** The figure the approver must type back: the most the campaign can ever spend. */
  exposureOf(row: CampaignRow): bigint {
    return maximumExposure(toDraft(row.definition)).budgetMinor;
  }

  async submit(id: string): Promise<CampaignRow> {
    const rows = await this.deps.sql`UPDATE marketing_campaigns SET status = 'pending_approval', updated_at = ${this.deps.clock.now()} WHERE id = ${id} AND status = 'draft' RETURNING id`;
    if (rows.length === 0) {
      await this.get(id);
      throw new DomainError('marketing.wrong_status', { detail: 'only a draft can be submitted for approval' });
    }
    return this.get(id);
  }

  /**
   * Four eyes: someone other than the version's author approves, confirming the exposure, after
   * a dry run of this very version. Approval funds the budget account from the campaign's fund
   * (see funds.ts) before the campaign goes live; a fund that cannot cover it refuses (422).
   */
  async approve(operatorId: string, id: string, confirmedExposureMinor: bigint): Promise<CampaignRow> {
    const row = await this.get(id);
    if (row.status !== 'pending_approval') throw new DomainError('marketing.wrong_status', { detail: 'only a campaign waiting for approval can be approved' });
    if (row.author_id === operatorId) throw new DomainError('marketing.four_eyes', { detail: 'you wrote this version: another operator must approve it' });
    if (row.forecast?.version !== row.version) throw new DomainError('marketing.dry_run_required', { detail: `version ${String(row.version)} has no dry run: run it and read the forecast first` });
    const exposure = this.exposureOf(row);
    if (confirmedExposureMinor !== exposure) throw new DomainError('marketing.exposure_mismatch', { detail: `the maximum exposure is ${String(exposure)} fen: confirm that figure`, exposureMinor: exposure.toString() });
    const budget = row.definition.budget;
    if (budget === null) throw new DomainError('marketing.invalid', { detail: 'a campaign needs a budget' });
    // The budget account's id is kept before any money moves, so a retry funds the same account.
    const [kept] = await this.deps.sql<{ budget_account_id: string }[]>`
      UPDATE marketing_campaigns SET budget_account_id = coalesce(budget_account_id, ${this.deps.ids.next('acct')})
      WHERE id = ${id} RETURNING budget_account_id`;
    if (kept === undefined) throw new DomainError('marketing.not_found', { detail: `no campaign ${id}` });
    await fundBudget(this.deps.ledger, { campaignId: id, version: row.version, kind: budget.funding, budgetAccountId: kept.budget_account_id, budgetMinor: BigInt(budget.amountMinor) });
    const now = this.deps.clock.now();
    const rows = await this.deps.sql`
      UPDATE marketing_campaigns SET status = 'active', approved_by = ${operatorId}, approved_at = ${now},
        approved_exposure_minor = ${exposure.toString()}, updated_at = ${now}
      WHERE id = ${id} AND status = 'pending_approval' AND version = ${row.version} RETURNING id`;
    if (rows.length === 0) throw new DomainError('marketing.wrong_status', { detail: 'the campaign changed while you approved it; review it again' });
    await insertEvent(this.deps.sql, { campaignId: id, kind: 'activated', detail: { version: row.version, exposureMinor: exposure.toString(), stage: row.stage }, actor: operatorId, at: now });
    this.deps.onChange?.();
    return this.get(id);
  }

  /** Guardrail 6: one switch pauses every campaign's discounts. */
  async setKillSwitch(operatorId: string, engaged: boolean, reason: string): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.sql`
      INSERT INTO marketing_kill_switch (id, engaged, reason, changed_by, changed_at) VALUES (true, ${engaged}, ${reason}, ${operatorId}, ${now})
      ON CONFLICT (id) DO UPDATE SET engaged = EXCLUDED.engaged, reason = EXCLUDED.reason, changed_by = EXCLUDED.changed_by, changed_at = EXCLUDED.changed_at`;
    await insertEvent(this.deps.sql, { campaignId: null, kind: 'kill_switch', detail: { engaged, reason }, actor: operatorId, at: now });
    this.deps.onChange?.();
  }

  /** Fails closed: if the switch cannot be read, it counts as engaged (no discounts). */
  async killSwitchEngaged(): Promise<boolean> {
    try {
      const [row] = await this.deps.sql<{ engaged: boolean }[]>`SELECT engaged FROM marketing_kill_switch WHERE id`;
      return row?.engaged ?? false;
    } catch {
      return true;
    }
  }
}
