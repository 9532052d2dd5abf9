import { useState, type SyntheticEvent } from 'react';
import { api, errorMessage } from '../api.ts';
import { yuanToMinor } from '../money.ts';
import type { Rain, RainMode } from '../rain.ts';

/** When a rain starts: a minute after it is scheduled, at once, or at a set time (by default the next full hour). */
type StartChoice = 'in1min' | 'now' | 'at';
const startChoices: readonly { readonly value: StartChoice; readonly label: string }[] = [
  { value: 'in1min', label: 'In 1 minute' },
  { value: 'now', label: 'Now' },
  { value: 'at', label: 'At…' },
];

/** POST /v1/admin/rains, as the form fills it in. */
interface ScheduleBody {
  readonly name: string;
  readonly mode: RainMode;
  readonly poolMinor: string;
  readonly prizeCount: number;
  readonly startsAt: string;
  readonly durationSeconds: number;
  readonly staggerMs: number;
  readonly perUserWinsMax: number;
  readonly perUserMinorMax: string;
  readonly fissionShares: number;
  readonly fissionMinor: string;
}

/** A local date-time as <input type="datetime-local"> writes it: 2026-01-15T20:00. */
function localInputValue(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${String(date.getFullYear())}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function nextFullHour(nowMs: number): Date {
  const date = new Date(nowMs);
  date.setMinutes(60, 0, 0);
  return date;
}

/** A whole number typed into the form, or undefined. */
function wholeNumber(text: string): number | undefined {
  return /^[0-9]{1,7}$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

interface Fields {
  readonly name: string;
  readonly mode: RainMode;
  readonly pool: string;
  readonly prizes: string;
  readonly start: StartChoice;
  readonly startsAtLocal: string;
  readonly durationSeconds: string;
  readonly staggerMs: string;
  readonly winsMax: string;
  readonly userMax: string;
  readonly fissionShares: string;
  readonly fissionAmount: string;
}

/**
 * The request the fields make, with the start taken at submit time, or what to fix. The server
 * checks everything again (422 rain.invalid says what to change); this only catches typing.
 */
export function scheduleBody(fields: Fields, nowMs: number): ScheduleBody | string {
  const poolMinor = yuanToMinor(fields.pool);
  const userMinor = yuanToMinor(fields.userMax);
  const prizeCount = wholeNumber(fields.prizes);
  const durationSeconds = wholeNumber(fields.durationSeconds);
  const staggerMs = wholeNumber(fields.staggerMs);
  const winsMax = wholeNumber(fields.winsMax);
  const fissionShares = wholeNumber(fields.fissionShares);
  const fissionMinor = fissionShares === 0 ? '0' : yuanToMinor(fields.fissionAmount);
  const startsAtMs = fields.start === 'now' ? nowMs : fields.start === 'in1min' ? nowMs + 60_000 : Date.parse(fields.startsAtLocal);
  if (fields.name.trim() === '') return 'Name the rain';
  if (poolMinor === undefined) return 'The pool is an amount in yuan, like 100.00';
  if (prizeCount === undefined) return 'The prize count is a whole number';
  if (Number.isNaN(startsAtMs)) return 'Choose when the rain starts';
  if (durationSeconds === undefined) return 'The duration is a whole number of seconds';
  if (staggerMs === undefined) return 'The stagger is a whole number of milliseconds';
  if (winsMax === undefined || userMinor === undefined) return 'Set the per-user caps';
  if (fissionShares === undefined || fissionMinor === undefined) return 'Fission: a number of shares and an amount (0 shares for none)';
  return {
    name: fields.name.trim(),
    mode: fields.mode,
    poolMinor,
    prizeCount,
    startsAt: new Date(startsAtMs).toISOString(),
    durationSeconds,
    staggerMs,
    perUserWinsMax: winsMax,
    perUserMinorMax: userMinor,
    fissionShares,
    fissionMinor,
  };
}

/** Schedules a rain; its pool moves from the campaign budget into the rain's escrow at once. */
export function ScheduleRainForm({ onScheduled }: { onScheduled: (rain: Rain) => Promise<void> }) {
  const [fields, setFields] = useState<Fields>(() => ({
    name: '整点红包',
    mode: 'line_cut',
    pool: '100.00',
    prizes: '100',
    start: 'in1min',
    startsAtLocal: localInputValue(nextFullHour(Date.now())),
    durationSeconds: '60',
    staggerMs: '3000',
    winsMax: '3',
    userMax: '20.00',
    fissionShares: '5',
    fissionAmount: '5.00',
  }));
  const [error, setError] = useState<string | null>(null);
  const [isSending, setIsSending] = useState(false);
  const set = (name: keyof Fields) => (event: { target: { value: string } }) => {
    setFields({ ...fields, [name]: event.target.value });
  };

  async function submit(event: SyntheticEvent) {
    event.preventDefault();
    const body = scheduleBody(fields, Date.now());
    if (typeof body === 'string') {
      setError(body);
      return;
    }
    setError(null);
    setIsSending(true);
    try {
      await onScheduled(await api<Rain>('POST', '/v1/admin/rains', body));
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setIsSending(false);
    }
  }

  return (
    <form className="card" onSubmit={(event) => void submit(event)} data-testid="admin-schedule-rain">
      <h3>Schedule a rain</h3>
      <div className="form-grid">
        <label>Name<input name="rainName" maxLength={40} value={fields.name} onChange={set('name')} /></label>
        <label>Split
          <select name="rainMode" value={fields.mode} onChange={set('mode')}>
            <option value="line_cut">line cut (a few large prizes, many small)</option>
            <option value="double_mean">double mean (like a lucky packet)</option>
          </select>
        </label>
        <label>Pool (CNY)<input name="rainPool" inputMode="decimal" value={fields.pool} onChange={set('pool')} /></label>
        <label>Prizes<input name="rainPrizes" inputMode="numeric" value={fields.prizes} onChange={set('prizes')} /></label>
        <label>Starts
          <select name="rainStart" value={fields.start} onChange={set('start')}>
            {startChoices.map((choice) => <option key={choice.value} value={choice.value}>{choice.label}</option>)}
          </select>
        </label>
        {fields.start === 'at' && (
          <label>Starts at (local time)<input name="rainStartsAt" type="datetime-local" value={fields.startsAtLocal} onChange={set('startsAtLocal')} /></label>
        )}
        <label>Duration (seconds, 1–3600)<input name="rainDuration" inputMode="numeric" value={fields.durationSeconds} onChange={set('durationSeconds')} /></label>
        <label>Stagger (ms, 0–60000)<input name="rainStagger" inputMode="numeric" value={fields.staggerMs} onChange={set('staggerMs')} /></label>
        <label>Wins per user (max)<input name="rainWinsMax" inputMode="numeric" value={fields.winsMax} onChange={set('winsMax')} /></label>
        <label>Won per user (max CNY)<input name="rainUserMax" inputMode="decimal" value={fields.userMax} onChange={set('userMax')} /></label>
        <label>Fission shares (0–20, 0 for none)<input name="rainFissionShares" inputMode="numeric" value={fields.fissionShares} onChange={set('fissionShares')} /></label>
        <label>Fission packet (CNY)<input name="rainFissionAmount" inputMode="decimal" value={fields.fissionAmount} onChange={set('fissionAmount')} disabled={fields.fissionShares.trim() === '0'} /></label>
      </div>
      <small className="muted">Prizes are released evenly over the window; each user starts up to the stagger after the start. What nobody wins goes back to the budget when the rain closes.</small>
      {error !== null && <p className="error" role="alert">{error}</p>}
      <button type="submit" className="primary" disabled={isSending} data-testid="admin-schedule">Schedule</button>
    </form>
  );
}
