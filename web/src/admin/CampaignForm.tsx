import { useState, type ReactNode, type SyntheticEvent } from 'react';
import { api, ApiError, errorMessage } from '../api.ts';
import {
  grantReasonLengthMin,
  labelFunding,
  labelKeys,
  labels,
  fundingKinds,
  scenes,
  shopScenes,
  templateKinds,
  type Campaign,
  type Definition,
  type FieldProblem,
  type FundingKind,
  type LabelKey,
  type Scene,
  type Template,
  type TemplateKind,
} from '../marketing.ts';
import { yuanToMinor } from '../money.ts';

/**
 * The campaign editor: a definition as a form, saved as a draft (POST) or as a new version of one
 * (PUT). The server's guardrails decide; a refusal (422 marketing.invalid) lists each problem with
 * its field and what to change, and each message is shown next to that field. The form itself only
 * catches what cannot be sent at all (an amount that is not an amount).
 */
export interface CampaignFields {
  readonly name: string;
  readonly kind: TemplateKind;
  /** Yuan, as typed. */
  readonly amount: string;
  readonly minSpend: string;
  /** Percent off, as typed (20 or 12.5). */
  readonly percent: string;
  readonly cap: string;
  readonly min: string;
  readonly max: string;
  readonly threshold: string;
  readonly validDays: string;
  readonly scenes: Readonly<Record<Scene, { readonly isGranted: boolean; readonly reason: string }>>;
  readonly segment: 'all' | 'new_users' | 'list';
  readonly withinDays: string;
  readonly userIds: string;
  readonly countPerDay: string;
  readonly perDay: string;
  readonly countPerCampaign: string;
  readonly perCampaign: string;
  /** Local date-times, as <input type="datetime-local"> writes them. */
  readonly startsAt: string;
  readonly endsAt: string;
  readonly label: LabelKey;
  readonly funding: FundingKind;
  readonly budget: string;
  readonly testUserIds: string;
}

/** A local date-time as <input type="datetime-local"> writes it: 2026-01-15T20:00. */
export function localInputValue(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${String(date.getFullYear())}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** Fen as a plain yuan string for an input: 123456 → "1234.56" (no grouping). */
function minorToInput(minor: string | undefined | null): string {
  if (minor === undefined || minor === null) return '';
  const digits = minor.padStart(3, '0');
  return `${digits.slice(0, -2).replace(/^0+(?=\d)/, '')}.${digits.slice(-2)}`;
}

/** Yuan as typed → fen digits; "" when empty; undefined when it is not an amount. "0" is allowed. */
function yuanInput(text: string): string | undefined {
  const trimmed = text.trim().replace(/,/g, '');
  if (trimmed === '') return '';
  if (/^0+(\.0{0,2})?$/.test(trimmed)) return '0';
  return yuanToMinor(trimmed);
}

/** Percent as typed (up to 2 decimals) → basis points; undefined when it is not a percentage. */
function basisPointsOf(text: string): number | undefined {
  const match = /^([0-9]{1,3})(?:\.([0-9]{1,2}))?$/.exec(text.trim().replace(/%$/, ''));
  if (match === null) return undefined;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

function wholeNumber(text: string): number | undefined {
  return /^[0-9]{1,7}$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

function idList(text: string): string[] {
  return text.split(/[\s,]+/).filter((id) => id !== '');
}

/** A new campaign's form: a week from this minute, shop QR only, modest per-user limits. */
export function newCampaignFields(nowMs: number): CampaignFields {
  const start = new Date(nowMs);
  start.setSeconds(0, 0);
  return {
    name: '',
    kind: 'fixed',
    amount: '',
    minSpend: '',
    percent: '',
    cap: '',
    min: '',
    max: '',
    threshold: '',
    validDays: '30',
    scenes: Object.fromEntries(scenes.map((scene) => [scene, { isGranted: scene === 'shop_qr', reason: '' }])) as CampaignFields['scenes'],
    segment: 'all',
    withinDays: '30',
    userIds: '',
    countPerDay: '1',
    perDay: '20.00',
    countPerCampaign: '3',
    perCampaign: '50.00',
    startsAt: localInputValue(start),
    endsAt: localInputValue(new Date(start.getTime() + 7 * 86_400_000)),
    label: 'platform_discount',
    funding: 'platform',
    budget: '',
    testUserIds: '',
  };
}

/** A saved definition back into the form, to edit it. */
export function fieldsFromDefinition(definition: Definition): CampaignFields {
  const blank = newCampaignFields(Date.now());
  const t = definition.template;
  const template: Partial<CampaignFields> =
    t.kind === 'fixed'
      ? { amount: minorToInput(t.amountMinor), minSpend: minorToInput(t.minSpendMinor) }
      : t.kind === 'percent'
        ? { percent: String(t.basisPoints / 100), cap: minorToInput(t.capMinor) }
        : t.kind === 'random'
          ? { min: minorToInput(t.minMinor), max: minorToInput(t.maxMinor) }
          : t.kind === 'threshold'
            ? { threshold: minorToInput(t.thresholdMinor), amount: minorToInput(t.amountMinor) }
            : { amount: minorToInput(t.amountMinor), minSpend: minorToInput(t.minSpendMinor), validDays: String(t.validDays) };
  const granted = new Map(definition.scenes.map((grant) => [grant.scene, grant.reason ?? '']));
  const segment = definition.segment;
  return {
    ...blank,
    ...template,
    name: definition.name,
    kind: t.kind,
    scenes: Object.fromEntries(scenes.map((scene) => [scene, { isGranted: granted.has(scene), reason: granted.get(scene) ?? '' }])) as CampaignFields['scenes'],
    segment: segment.kind,
    withinDays: segment.kind === 'new_users' ? String(segment.withinDays) : blank.withinDays,
    userIds: segment.kind === 'list' ? segment.userIds.join('\n') : '',
    countPerDay: String(definition.perUser.countPerDay),
    perDay: minorToInput(definition.perUser.minorPerDay),
    countPerCampaign: String(definition.perUser.countPerCampaign),
    perCampaign: minorToInput(definition.perUser.minorPerCampaign),
    startsAt: localInputValue(new Date(definition.startsAt)),
    endsAt: localInputValue(new Date(definition.endsAt)),
    label: definition.label,
    funding: definition.budget?.funding ?? labelFunding[definition.label],
    budget: minorToInput(definition.budget?.amountMinor),
    testUserIds: (definition.testUserIds ?? []).join('\n'),
  };
}

/**
 * The definition the fields make, or the problems that stop it being sent (named by the same
 * fields the server uses). What the guardrails decide — a missing cap, a scene without a reason,
 * a label on the wrong money — is left to the server, so its message is the one shown.
 */
export function definitionFrom(fields: CampaignFields): { readonly definition: Definition } | { readonly problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const money = (field: string, text: string, isOptional = false): string | undefined => {
    const minor = yuanInput(text);
    if (minor === undefined) problems.push({ field, message: 'an amount in yuan, like 20 or 12.50' });
    else if (minor === '' && !isOptional) problems.push({ field, message: 'enter an amount in yuan' });
    return minor === '' ? undefined : minor;
  };
  const count = (field: string, text: string): number => {
    const value = wholeNumber(text);
    if (value === undefined) problems.push({ field, message: 'a whole number' });
    return value ?? 0;
  };
  let template: Template;
  switch (fields.kind) {
    case 'fixed': {
      const minSpend = money('template.minSpendMinor', fields.minSpend, true);
      template = { kind: 'fixed', amountMinor: money('template.amountMinor', fields.amount) ?? '0', ...(minSpend === undefined ? {} : { minSpendMinor: minSpend }) };
      break;
    }
    case 'percent': {
      const basisPoints = basisPointsOf(fields.percent);
      if (basisPoints === undefined) problems.push({ field: 'template.basisPoints', message: 'a percentage, like 20 or 12.5' });
      // No cap typed: sent without one, and the server says what to do about it.
      const cap = money('template.capMinor', fields.cap, true);
      template = { kind: 'percent', basisPoints: basisPoints ?? 0, ...(cap === undefined ? {} : { capMinor: cap }) };
      break;
    }
    case 'random':
      template = { kind: 'random', minMinor: money('template.minMinor', fields.min) ?? '0', maxMinor: money('template.maxMinor', fields.max) ?? '0' };
      break;
    case 'threshold':
      template = { kind: 'threshold', thresholdMinor: money('template.thresholdMinor', fields.threshold) ?? '0', amountMinor: money('template.amountMinor', fields.amount) ?? '0' };
      break;
    case 'voucher':
      template = { kind: 'voucher', amountMinor: money('template.amountMinor', fields.amount) ?? '0', minSpendMinor: money('template.minSpendMinor', fields.minSpend) ?? '0', validDays: count('template.validDays', fields.validDays) };
      break;
  }
  const segment: Definition['segment'] =
    fields.segment === 'all' ? { kind: 'all' } : fields.segment === 'new_users' ? { kind: 'new_users', withinDays: count('segment.withinDays', fields.withinDays) } : { kind: 'list', userIds: idList(fields.userIds) };
  const startsAtMs = Date.parse(fields.startsAt);
  const endsAtMs = Date.parse(fields.endsAt);
  if (Number.isNaN(startsAtMs) || Number.isNaN(endsAtMs)) problems.push({ field: 'window', message: 'choose when the campaign starts and ends' });
  const budget = money('budget.amountMinor', fields.budget);
  const perUser = {
    countPerDay: count('perUser', fields.countPerDay),
    minorPerDay: money('perUser', fields.perDay) ?? '0',
    countPerCampaign: count('perUser', fields.countPerCampaign),
    minorPerCampaign: money('perUser', fields.perCampaign) ?? '0',
  };
  const testUserIds = idList(fields.testUserIds);
  if (problems.length > 0) return { problems };
  return {
    definition: {
      name: fields.name.trim(),
      template,
      scenes: scenes.filter((scene) => fields.scenes[scene].isGranted).map((scene) => {
        const reason = fields.scenes[scene].reason.trim();
        return reason === '' ? { scene } : { scene, reason };
      }),
      segment,
      perUser,
      startsAt: new Date(startsAtMs).toISOString(),
      endsAt: new Date(endsAtMs).toISOString(),
      label: fields.label,
      budget: { funding: fields.funding, amountMinor: budget ?? '0' },
      ...(testUserIds.length === 0 ? {} : { testUserIds }),
    },
  };
}

/** The template fields each kind shows, by the server's field names. */
const templateFields: Readonly<Record<TemplateKind, readonly string[]>> = {
  fixed: ['amountMinor', 'minSpendMinor'],
  percent: ['basisPoints', 'capMinor'],
  random: ['minMinor', 'maxMinor'],
  threshold: ['thresholdMinor', 'amountMinor'],
  voucher: ['amountMinor', 'minSpendMinor', 'validDays'],
};

/** Every field a problem can be shown next to, for the fields on the form now. */
function placedFields(fields: CampaignFields): Set<string> {
  return new Set([
    'name',
    'template',
    ...templateFields[fields.kind].map((name) => `template.${name}`),
    'scenes',
    ...scenes.map((scene) => `scenes.${scene}`),
    'segment',
    'segment.withinDays',
    'segment.userIds',
    'perUser',
    'window',
    'label',
    'budget',
    'budget.amountMinor',
    'testUserIds',
  ]);
}

/** A part of the form with the problems for its fields right under it. */
function Field({ names, problems, children, className }: { names: readonly string[]; problems: readonly FieldProblem[]; children: ReactNode; className?: string }) {
  const mine = problems.filter((problem) => names.includes(problem.field));
  return (
    <div className={`field${mine.length > 0 ? ' has-problem' : ''}${className === undefined ? '' : ` ${className}`}`} data-testid={`field-${names[0] ?? ''}`}>
      {children}
      {mine.map((problem, index) => (
        <p key={`${problem.field}:${String(index)}`} className="error field-problem" role="alert" data-testid="field-problem" data-field={problem.field}>
          {problem.message}
        </p>
      ))}
    </div>
  );
}

export function CampaignForm({ campaign, onSaved, onCancel }: { campaign: Campaign | null; onSaved: (campaign: Campaign) => Promise<void>; onCancel: () => void }) {
  const [fields, setFields] = useState<CampaignFields>(() => (campaign === null ? newCampaignFields(Date.now()) : fieldsFromDefinition(campaign.definition)));
  const [problems, setProblems] = useState<readonly FieldProblem[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [isSending, setIsSending] = useState(false);
  const set = (name: keyof CampaignFields) => (event: { target: { value: string } }) => {
    setFields({ ...fields, [name]: event.target.value });
  };
  const setScene = (scene: Scene, change: Partial<CampaignFields['scenes'][Scene]>) => {
    setFields({ ...fields, scenes: { ...fields.scenes, [scene]: { ...fields.scenes[scene], ...change } } });
  };

  async function submit(event: SyntheticEvent) {
    event.preventDefault();
    setError(null);
    const made = definitionFrom(fields);
    if ('problems' in made) {
      setProblems(made.problems);
      return;
    }
    setProblems([]);
    setIsSending(true);
    try {
      const saved = campaign === null ? await api<Campaign>('POST', '/v1/admin/campaigns', made.definition) : await api<Campaign>('PUT', `/v1/admin/campaigns/${encodeURIComponent(campaign.id)}`, made.definition);
      await onSaved(saved);
    } catch (caught) {
      const named = caught instanceof ApiError ? caught.problem.problems : undefined;
      if (named !== undefined && named.length > 0) setProblems(named);
      else setError(errorMessage(caught));
    } finally {
      setIsSending(false);
    }
  }

  const placed = placedFields(fields);
  const unplaced = problems.filter((problem) => !placed.has(problem.field));
  const input = (name: keyof CampaignFields, label: string, inputName: string, mode: 'decimal' | 'numeric' | 'text' = 'decimal') => (
    <label>
      {label}
      <input name={inputName} inputMode={mode} value={fields[name] as string} onChange={set(name)} />
    </label>
  );
  return (
    <form className="card campaign-form" onSubmit={(event) => void submit(event)} data-testid="campaign-form">
      <h3>{campaign === null ? 'New campaign' : `Edit ${campaign.name} (saves version ${String(campaign.version + 1)})`}</h3>
      <div className="form-grid">
        <Field names={['name']} problems={problems}>{input('name', 'Name', 'campaignName', 'text')}</Field>
        <Field names={['template']} problems={problems}>
          <label>
            Template
            <select name="templateKind" value={fields.kind} onChange={set('kind')}>
              {templateKinds.map((kind) => <option key={kind} value={kind}>{templateKindText[kind]}</option>)}
            </select>
          </label>
        </Field>
        {fields.kind === 'percent' && (
          <>
            <Field names={['template.basisPoints']} problems={problems}>{input('percent', 'Percent off (at most 50)', 'templatePercent')}</Field>
            <Field names={['template.capMinor']} problems={problems}>{input('cap', 'Cap per order (CNY)', 'templateCap')}</Field>
          </>
        )}
        {fields.kind === 'random' && (
          <>
            <Field names={['template.minMinor']} problems={problems}>{input('min', 'Smallest amount off (CNY)', 'templateMin')}</Field>
            <Field names={['template.maxMinor']} problems={problems}>{input('max', 'Largest amount off (CNY)', 'templateMax')}</Field>
          </>
        )}
        {fields.kind === 'threshold' && (
          <Field names={['template.thresholdMinor']} problems={problems}>{input('threshold', 'Spend at least (CNY)', 'templateThreshold')}</Field>
        )}
        {(fields.kind === 'fixed' || fields.kind === 'threshold' || fields.kind === 'voucher') && (
          <Field names={['template.amountMinor']} problems={problems}>{input('amount', fields.kind === 'voucher' ? 'Voucher value (CNY)' : 'Amount off (CNY)', 'templateAmount')}</Field>
        )}
        {(fields.kind === 'fixed' || fields.kind === 'voucher') && (
          <Field names={['template.minSpendMinor']} problems={problems}>{input('minSpend', fields.kind === 'fixed' ? 'Minimum spend (CNY, optional)' : 'Minimum spend (CNY)', 'templateMinSpend')}</Field>
        )}
        {fields.kind === 'voucher' && <Field names={['template.validDays']} problems={problems}>{input('validDays', 'Valid for (days, 1–90)', 'templateValidDays', 'numeric')}</Field>}
        <Field names={['label']} problems={problems}>
          <label>
            Label users see
            <select
              name="campaignLabel"
              value={fields.label}
              onChange={(event) => {
                const label = event.target.value as LabelKey;
                // The label's own funding is the usual choice; the budget's select can still differ (and be refused).
                setFields({ ...fields, label, funding: labelFunding[label] });
              }}
            >
              {labelKeys.map((key) => <option key={key} value={key}>{labels[key].zh} · {labels[key].en}</option>)}
            </select>
          </label>
        </Field>
        <Field names={['budget', 'budget.amountMinor']} problems={problems}>
          <label>
            Budget funding
            <select name="budgetFunding" value={fields.funding} onChange={set('funding')}>
              {fundingKinds.map((kind) => <option key={kind} value={kind}>{kind}</option>)}
            </select>
          </label>
          {input('budget', 'Budget (CNY, pre-funded at approval)', 'budgetAmount')}
        </Field>
        <Field names={['window']} problems={problems}>
          <label>Starts (local time)<input name="startsAt" type="datetime-local" value={fields.startsAt} onChange={set('startsAt')} /></label>
          <label>Ends (local time)<input name="endsAt" type="datetime-local" value={fields.endsAt} onChange={set('endsAt')} /></label>
        </Field>
        <Field names={['perUser']} problems={problems}>
          <div className="pair">
            {input('countPerDay', 'Uses a day', 'perUserCountPerDay', 'numeric')}
            {input('perDay', 'CNY a day', 'perUserMinorPerDay')}
          </div>
          <div className="pair">
            {input('countPerCampaign', 'Uses in all', 'perUserCountPerCampaign', 'numeric')}
            {input('perCampaign', 'CNY in all', 'perUserMinorPerCampaign')}
          </div>
        </Field>
        <Field names={['segment', 'segment.withinDays', 'segment.userIds']} problems={problems}>
          <label>
            Who
            <select name="segmentKind" value={fields.segment} onChange={set('segment')}>
              <option value="all">all users</option>
              <option value="new_users">new users</option>
              <option value="list">a list of users</option>
            </select>
          </label>
          {fields.segment === 'new_users' && input('withinDays', 'Signed up within (days)', 'segmentWithinDays', 'numeric')}
          {fields.segment === 'list' && (
            <label>User ids (one a line)<textarea name="segmentUserIds" rows={3} value={fields.userIds} onChange={set('userIds')} /></label>
          )}
        </Field>
        <Field names={['testUserIds']} problems={problems}>
          <label>
            Test list: users who get it first (one id a line)
            <textarea name="testUserIds" rows={2} value={fields.testUserIds} onChange={set('testUserIds')} />
          </label>
        </Field>
      </div>
      <Field names={['scenes']} problems={problems} className="scenes">
        <div className="muted">Scenes: only shop scenes go without a written reason (at least {grantReasonLengthMin} characters).</div>
        {scenes.map((scene) => (
          <Field key={scene} names={[`scenes.${scene}`]} problems={problems} className="scene">
            <label className="check">
              <input type="checkbox" name={`scene-${scene}`} checked={fields.scenes[scene].isGranted} onChange={(event) => { setScene(scene, { isGranted: event.target.checked }); }} />
              {scene}
            </label>
            {fields.scenes[scene].isGranted && !shopScenes.includes(scene) && (
              <input name={`sceneReason-${scene}`} placeholder="why this campaign may touch this scene" value={fields.scenes[scene].reason} onChange={(event) => { setScene(scene, { reason: event.target.value }); }} />
            )}
          </Field>
        ))}
      </Field>
      {unplaced.map((problem, index) => (
        <p key={`${problem.field}:${String(index)}`} className="error" role="alert" data-testid="field-problem" data-field={problem.field}>{problem.field}: {problem.message}</p>
      ))}
      {error !== null && <p className="error" role="alert" data-testid="campaign-form-error">{error}</p>}
      <div className="row-actions">
        <button type="submit" className="primary" disabled={isSending} data-testid="campaign-save">{campaign === null ? 'Save draft' : 'Save new version'}</button>
        <button type="button" className="link" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}

const templateKindText: Readonly<Record<TemplateKind, string>> = {
  fixed: '立减 fixed amount off',
  percent: 'percent off, with a cap',
  random: 'random amount off',
  threshold: '满减 spend at least, get an amount off',
  voucher: 'voucher (issued to users)',
};
