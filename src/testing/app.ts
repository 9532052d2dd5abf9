import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import assert from 'node:assert/strict';
import { buildApp, type App } from '../app.ts';
import { reconcileAll } from '../payments/index.ts';
import { FakeClock } from '../kernel/clock.ts';
import { loadConfig } from '../kernel/config.ts';
import { SeededRandom } from '../kernel/random.ts';
import { createTestDb, type TestDb } from './pg.ts';

/**
 * The whole app on an isolated schema and a fake clock, for end-to-end tests through
 * `app.inject()`, with helpers to sign users up and call the API as them.
 */
export interface TestApp {
  readonly app: App;
  readonly db: TestDb;
  readonly clock: FakeClock;
  readonly operatorToken: string;
  close(): Promise<void>;
}

export async function createTestApp(env: Record<string, string> = {}, options: { clockStartMs?: number } = {}): Promise<TestApp> {
  const db = await createTestDb();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'qianbao-test-'));
  // A browser keeps cookies by real time, so browser tests start the fake clock at "now".
  const clock = new FakeClock(options.clockStartMs ?? Date.UTC(2026, 0, 15, 2, 0, 0));
  const operatorToken = 'test-operator-token';
  const config = loadConfig({ QIANBAO_OPERATOR_TOKEN: operatorToken, QIANBAO_DATA_DIR: dataDir, QIANBAO_BATCH_LINGER_MS: '0', QIANBAO_REDIS_PREFIX: `${db.schema}:`, ...env });
  const app = await buildApp({ config, sql: db.sql, clock, random: new SeededRandom(11) });
  return {
    app,
    db,
    clock,
    operatorToken,
    close: async () => {
      await app.close();
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Closes a test app after checking that its ledger reconciles and every payment row's references
 * exist (every money test ends so: the check that stands in for foreign keys, ADR 0012).
 */
export async function closeReconciled(t: TestApp): Promise<void> {
  const report = await reconcileAll(t.db.sql);
  await t.close();
  assert.equal(report.ok, true, JSON.stringify(report.problems));
}

export interface TestUser {
  readonly id: string;
  readonly mobile: string;
  readonly token: string;
  readonly walletAccountId: string;
}

let mobileCounter = 0;

/** A fresh mainland mobile number, unique within the process. */
export function nextMobile(): string {
  mobileCounter += 1;
  return `139${String(process.pid % 10_000).padStart(4, '0')}${String(mobileCounter).padStart(4, '0')}`;
}

export const testPassword = 'pass-word-1';
export const testPin = '802413';

/** Signs a user up (and, unless told not to, sets the payment PIN). */
export async function signUpUser(app: App, options: { mobile?: string; pin?: boolean; displayName?: string } = {}): Promise<TestUser> {
  const mobile = options.mobile ?? nextMobile();
  const response = await app.inject({
    method: 'POST',
    url: '/v1/auth/signup',
    payload: { mobile, password: testPassword, ...(options.displayName === undefined ? {} : { displayName: options.displayName }) },
  });
  if (response.statusCode !== 201) throw new Error(`sign-up failed: ${String(response.statusCode)} ${response.body}`);
  const body = response.json<{ token: string; user: { id: string; walletAccountId: string } }>();
  const user = { id: body.user.id, mobile, token: body.token, walletAccountId: body.user.walletAccountId };
  if (options.pin !== false) {
    const pin = await asUser(app, user, 'PUT', '/v1/me/pin', { pin: testPin, password: testPassword });
    if (pin.statusCode !== 204) throw new Error(`setting the PIN failed: ${String(pin.statusCode)} ${pin.body}`);
  }
  return user;
}

let keyCounter = 0;

/** Calls the API as `user` (Bearer token); POST/PUT/PATCH get a fresh Idempotency-Key unless given. */
export function asUser(
  app: App,
  user: { token: string } | null,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  const all: Record<string, string> = { ...headers };
  if (user !== null) all['authorization'] = `Bearer ${user.token}`;
  if (method !== 'GET' && all['idempotency-key'] === undefined) all['idempotency-key'] = `k-${String(process.pid)}-${String(++keyCounter)}`;
  return app.inject({ method, url, headers: all, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
}
