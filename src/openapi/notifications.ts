import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import type { Random } from '../kernel/random.ts';
import type { Apps } from './apps.ts';
import { gmt8, notifyScheduleMs } from './model.ts';
import { signedNotification } from './signing.ts';

/**
 * Asynchronous notifications (protocol §4): a row per event, delivered by a pass as a signed form
 * POST exactly as Alipay sends it, until the app answers the body `success`; retried at 4m, 10m,
 * 10m, 1h, 2h, 6h and 15h, then marked failed. `notify_id` is stable across attempts (merchants
 * dedupe on it); `notify_time` and the signature are per attempt. Every attempt is logged on the
 * row; an operator can send one again.
 */
export interface NotificationRow {
  notify_id: string;
  app_id: string;
  trade_no: string;
  event: string;
  url: string;
  fields: Record<string, string>;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_at: Date;
  last_status: number | null;
  last_body: string | null;
  last_at: Date | null;
  created_at: Date;
}

export interface Poster {
  (url: string, body: string): Promise<{ readonly status: number; readonly body: string }>;
}

/** The default poster: fetch with a 5 s timeout; a network error is status 0. */
export const fetchPoster: Poster = async (url, body) => {
  try {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body, signal: AbortSignal.timeout(5000) });
    return { status: response.status, body: (await response.text()).slice(0, 200) };
  } catch (error) {
    return { status: 0, body: String(error).slice(0, 200) };
  }
};

/** How long an attempt holds its notification before another pass may try it (a stopped process). */
const leaseMs = 60_000;

export class Notifications {
  constructor(private readonly deps: { readonly sql: Sql; readonly clock: Clock; readonly random: Random; readonly apps: Apps; readonly post: Poster }) {}

  /** Queues a notification of an event; it goes out on the next pass. */
  async enqueue(input: { readonly appId: string; readonly tradeNo: string; readonly event: string; readonly url: string; readonly fields: Readonly<Record<string, string>> }): Promise<void> {
    const now = this.deps.clock.now();
    const notifyId = `${gmt8(now.getTime()).replace(/[^0-9]/g, '').slice(0, 8)}${String(this.deps.random.int(0, 1_000_000_000)).padStart(9, '0')}${String(this.deps.random.int(0, 1_000_000_000)).padStart(9, '0')}`;
    await this.deps.sql`
      INSERT INTO openapi_notifications (notify_id, app_id, trade_no, event, url, fields, status, next_at, created_at)
      VALUES (${notifyId}, ${input.appId}, ${input.tradeNo}, ${input.event}, ${input.url}, ${this.deps.sql.json({ ...input.fields, notify_id: notifyId })}, 'pending', ${now}, ${now})`;
  }

  /** Delivers what is due (a batch); answers how many were attempted. */
  async deliverDue(limit = 50): Promise<number> {
    const due = await this.deps.sql<NotificationRow[]>`
      SELECT * FROM openapi_notifications WHERE status = 'pending' AND next_at <= ${this.deps.clock.now()} ORDER BY next_at LIMIT ${limit}`;
    await Promise.all(due.map((row) => this.attempt(row)));
    return due.length;
  }

  private async attempt(row: NotificationRow): Promise<void> {
    const app = await this.deps.apps.get(row.app_id);
    if (app === undefined) return;
    const now = this.deps.clock.now();
    // A lease: one process (or pass) delivers an attempt; the others skip it.
    const leased = await this.deps.sql`
      UPDATE openapi_notifications SET next_at = ${new Date(now.getTime() + leaseMs)}
      WHERE notify_id = ${row.notify_id} AND status = 'pending' AND attempts = ${row.attempts} AND next_at <= ${now} RETURNING notify_id`;
    if (leased.length === 0) return;
    const fields = signedNotification({ ...row.fields, notify_time: gmt8(now.getTime()) }, app.platformKey);
    const result = await this.deps.post(row.url, new URLSearchParams(fields).toString());
    const delivered = result.status === 200 && result.body.trim() === 'success';
    const attempts = row.attempts + 1;
    const wait = notifyScheduleMs[attempts - 1];
    const status = delivered ? 'delivered' : wait === undefined ? 'failed' : 'pending';
    await this.deps.sql`
      UPDATE openapi_notifications SET status = ${status}, attempts = ${attempts}, next_at = ${new Date(now.getTime() + (wait ?? 0))},
        last_status = ${result.status}, last_body = ${result.body}, last_at = ${now}
      WHERE notify_id = ${row.notify_id} AND attempts = ${row.attempts}`;
  }

  /** An operator's re-send: due now, whatever its state. */
  async resend(notifyId: string): Promise<boolean> {
    const rows = await this.deps.sql`UPDATE openapi_notifications SET status = 'pending', next_at = ${this.deps.clock.now()} WHERE notify_id = ${notifyId} RETURNING notify_id`;
    return rows.length === 1;
  }

  list(appId: string | null, limit = 200): Promise<NotificationRow[]> {
    return this.deps.sql<NotificationRow[]>`
      SELECT * FROM openapi_notifications ${appId === null ? this.deps.sql`` : this.deps.sql`WHERE app_id = ${appId}`} ORDER BY created_at DESC LIMIT ${limit}`;
  }
}
