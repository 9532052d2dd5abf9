/**
 * Goal: the ledger's operator API end to end — success paths, every error in the order the server
 * checks them (401 token → 400 Idempotency-Key → 400 schema → 404/409/422 from the ledger), the
 * Idempotency-Key contract (replay, reuse, in flight, takeover, pruning), holds, linked groups,
 * statements, and the system routes (/healthz, /metrics, /docs/json).
 * Method: the real app on an isolated PostgreSQL schema and a fake clock, driven with
 * `app.inject()`; balances are read back through the API.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { buildApp, type App } from '../../src/app.ts';
import { FakeClock } from '../../src/kernel/clock.ts';
import { loadConfig } from '../../src/kernel/config.ts';
import { SeededRandom } from '../../src/kernel/random.ts';
import { createTestDb, type TestDb } from '../../src/testing/pg.ts';

const token = 'e2e-operator-token';
let db: TestDb;
let app: App;
let clock: FakeClock;
let dataDir: string;
let counter = 0;
const unique = (label: string): string => `${label}-${String(++counter)}`;

before(async () => {
  db = await createTestDb();
  dataDir = await mkdtemp(path.join(tmpdir(), 'qianbao-e2e-'));
  clock = new FakeClock();
  const config = loadConfig({
    QIANBAO_OPERATOR_TOKEN: token,
    QIANBAO_DATA_DIR: dataDir,
    QIANBAO_BATCH_LINGER_MS: '0',
  });
  app = await buildApp({ config, sql: db.sql, clock, random: new SeededRandom(7) });
});
after(async () => {
  await app.close();
  await db.close();
  await rm(dataDir, { recursive: true, force: true });
});

type Json = Record<string, unknown>;
interface Call {
  readonly key?: string | null;
  readonly auth?: string | null;
  readonly headers?: Record<string, string>;
}

async function post(url: string, body: unknown, call: Call = {}): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { ...call.headers };
  if (call.auth !== null) headers['authorization'] = call.auth ?? `Bearer ${token}`;
  if (call.key !== null) headers['idempotency-key'] = call.key ?? unique('key');
  return app.inject({ method: 'POST', url, headers, payload: body as Json });
}

async function get(
  url: string,
  auth: string | null = `Bearer ${token}`,
): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url, headers: auth === null ? {} : { authorization: auth } });
}

function json(response: LightMyRequestResponse): Json {
  return JSON.parse(response.body) as Json;
}

/** Asserts an RFC 9457 problem with every member, and returns it. */
function problem(response: LightMyRequestResponse, status: number, code: string): Json {
  assert.equal(response.statusCode, status, response.body);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  const body = json(response);
  assert.equal(body['code'], code, response.body);
  assert.equal(body['status'], status);
  assert.equal(body['type'], `https://qianbao.dev/problems/${code}`);
  for (const member of ['title', 'detail', 'instance', 'traceId']) {
    assert.equal(typeof body[member], 'string', `problem member ${member}`);
  }
  assert.equal(typeof body['retryable'], 'boolean');
  assert.equal(body['traceId'], response.headers['x-request-id']);
  return body;
}

async function createAccount(body: Json): Promise<string> {
  const response = await post('/v1/ledger/accounts', { currency: 'CNY', ...body });
  assert.equal(response.statusCode, 201, response.body);
  return String(json(response)['id']);
}

const wallet = (): Promise<string> => createAccount({ code: 'user.wallet', noOverdraft: true });
const bank = (): Promise<string> => createAccount({ code: 'system.bank', noOverdraft: false });

function transferBody(from: string, to: string, amountMinor: string, extra: Json = {}): Json {
  return {
    id: unique('txf'),
    type: 'posted',
    debitAccountId: from,
    creditAccountId: to,
    amountMinor,
    currency: 'CNY',
    kind: 'topup',
    ...extra,
  };
}

async function balances(accountId: string): Promise<Json> {
  const response = await get(`/v1/ledger/accounts/${accountId}`);
  assert.equal(response.statusCode, 200, response.body);
  return json(response)['balances'] as Json;
}

async function funded(amountMinor: string): Promise<{ bank: string; wallet: string }> {
  const accounts = { bank: await bank(), wallet: await wallet() };
  if (amountMinor === '0') return accounts;
  const response = await post(
    '/v1/ledger/transfers',
    transferBody(accounts.bank, accounts.wallet, amountMinor),
  );
  assert.equal(response.statusCode, 201, response.body);
  return accounts;
}

describe('system routes', () => {
  test('/healthz answers ok when the database does', async () => {
    const response = await get('/healthz', null);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(json(response), { status: 'ok' });
  });

  test('an unknown route is a request.not_found problem', async () => {
    problem(await get('/v1/nowhere', null), 404, 'request.not_found');
  });

  test('/docs/json is an OpenAPI document listing the ledger paths', async () => {
    const response = await get('/docs/json', null);
    assert.equal(response.statusCode, 200);
    const document = json(response);
    assert.match(String(document['openapi']), /^3\./);
    const paths = Object.keys(document['paths'] as Json);
    for (const expected of [
      '/v1/ledger/accounts',
      '/v1/ledger/accounts/{id}',
      '/v1/ledger/accounts/{id}/statement',
      '/v1/ledger/transfers',
      '/v1/ledger/transfer-groups',
      '/v1/ledger/transfers/{id}',
      '/v1/ledger/reconcile',
      '/healthz',
    ]) {
      assert.ok(paths.includes(expected), `OpenAPI lists ${expected}`);
    }
  });

  test('/metrics carries the ledger batch metrics after a transfer', async () => {
    await funded('100');
    const response = await get('/metrics', null);
    assert.equal(response.statusCode, 200);
    const created = /^qianbao_ledger_transfers_created_total (\d+)/m.exec(response.body);
    assert.ok(created?.[1] !== undefined && Number(created[1]) >= 1, 'created counter');
    assert.match(response.body, /^qianbao_ledger_transfers_total \d+/m);
    assert.match(response.body, /^qianbao_ledger_batch_duration_seconds_count \d+/m);
    assert.match(response.body, /^qianbao_ledger_batch_size_bucket\{le="1"\} \d+/m);
    assert.match(
      response.body,
      /^http_request_duration_seconds_count\{route="\/v1\/ledger\/transfers",method="POST",status_code="201"\} \d+/m,
    );
  });
});

describe('accounts', () => {
  test('create, read back with balances as digit strings, and retry by id', async () => {
    const id = unique('acct-fixed');
    const body = {
      id,
      currency: 'CNY',
      code: 'user.wallet',
      noOverdraft: true,
      ownerId: 'usr-1',
      metadata: { tier: 'gold' },
    };
    const first = await post('/v1/ledger/accounts', body);
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(json(first)['id'], id);
    const again = await post('/v1/ledger/accounts', body);
    assert.equal(again.statusCode, 200, 'an existing account with the same fields is 200');
    assert.deepEqual(await balances(id), { posted: '0', pending: '0', available: '0' });
  });

  test('errors in order: 401, 400 key, 400 schema, 409 different fields, 404 unknown', async () => {
    const id = unique('acct-fixed');
    const body = { id, currency: 'CNY', code: 'user.wallet', noOverdraft: true };
    problem(
      await post('/v1/ledger/accounts', { currency: 'XX' }, { auth: null, key: null }),
      401,
      'request.unauthorized',
    );
    problem(
      await post('/v1/ledger/accounts', { currency: 'XX' }, { key: null }),
      400,
      'idempotency.key_required',
    );
    problem(
      await post('/v1/ledger/accounts', { ...body, currency: 'USD' }),
      400,
      'request.invalid',
    );
    problem(
      await post('/v1/ledger/accounts', { ...body, overdraftLimitMinor: '-1' }),
      400,
      'request.invalid',
    );
    assert.equal((await post('/v1/ledger/accounts', body)).statusCode, 201);
    problem(
      await post('/v1/ledger/accounts', { ...body, noOverdraft: false }),
      409,
      'ledger.account_exists_with_different_fields',
    );
    problem(await get(`/v1/ledger/accounts/${unique('missing')}`), 404, 'ledger.account_not_found');
    problem(
      await get(`/v1/ledger/accounts/${unique('missing')}/statement`),
      404,
      'ledger.account_not_found',
    );
  });
});

describe('transfers: errors in precedence order', () => {
  test('401 without or with a wrong token, before anything else is looked at', async () => {
    const bad = { id: 'x', amountMinor: '-1' };
    const none = problem(
      await post('/v1/ledger/transfers', bad, { auth: null, key: null }),
      401,
      'request.unauthorized',
    );
    assert.equal(none['retryable'], false);
    const wrong = await post('/v1/ledger/transfers', bad, {
      auth: 'Bearer not-the-token',
      key: null,
    });
    problem(wrong, 401, 'request.unauthorized');
    assert.match(String(wrong.headers['www-authenticate']), /^Bearer/);
    problem(
      await post('/v1/ledger/transfers', bad, { auth: token, key: null }),
      401,
      'request.unauthorized',
    );
  });

  test('400 when the Idempotency-Key is missing or malformed', async () => {
    const { bank: from, wallet: to } = await funded('0');
    const body = transferBody(from, to, '5');
    problem(
      await post('/v1/ledger/transfers', body, { key: null }),
      400,
      'idempotency.key_required',
    );
    problem(
      await post('/v1/ledger/transfers', body, { key: 'k'.repeat(256) }),
      400,
      'idempotency.key_invalid',
    );
    problem(
      await post('/v1/ledger/transfers', body, { key: 'has space' }),
      400,
      'idempotency.key_invalid',
    );
    assert.equal(
      (await post('/v1/ledger/transfers', body, { key: 'k'.repeat(255) })).statusCode,
      201,
    );
  });

  test('400 from the schema for negative, fractional, numeric or unknown fields; nothing moves', async () => {
    const { bank: from, wallet: to } = await funded('0');
    const cases: Json[] = [
      transferBody(from, to, '-5'),
      transferBody(from, to, '1.50'),
      transferBody(from, to, '1234567890123456789'),
      { ...transferBody(from, to, '5'), amountMinor: 5 },
      { ...transferBody(from, to, '5'), amount: '5' },
      { ...transferBody(from, to, '5'), type: 'expire' },
      { ...transferBody(from, to, '5'), id: undefined },
    ];
    for (const body of cases) {
      const found = problem(await post('/v1/ledger/transfers', body), 400, 'request.invalid');
      const errors = found['errors'] as Json[];
      assert.ok(Array.isArray(errors) && errors.length > 0, 'validation messages listed');
      assert.equal(typeof errors[0]?.['pointer'], 'string');
    }
    assert.deepEqual(await balances(to), { posted: '0', pending: '0', available: '0' });
  });

  test('422 insufficient funds is a problem with the ledger code, and changes nothing', async () => {
    const { bank: to, wallet: from } = await funded('100');
    const found = problem(
      await post('/v1/ledger/transfers', transferBody(from, to, '101')),
      422,
      'ledger.insufficient_funds',
    );
    assert.equal(found['retryable'], true);
    assert.equal(typeof found['transferId'], 'string');
    assert.equal((await balances(from))['posted'], '100');
    problem(
      await post('/v1/ledger/transfers', transferBody(from, unique('nobody'), '1')),
      422,
      'ledger.credit_account_not_found',
    );
  });

  test('201 created, 200 for the same transfer again, 409 for the same id with another amount', async () => {
    const { bank: from, wallet: to } = await funded('0');
    const body = transferBody(from, to, '250');
    const created = await post('/v1/ledger/transfers', body);
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(json(created)['amountMinor'], '250');
    const exists = await post('/v1/ledger/transfers', body);
    assert.equal(exists.statusCode, 200, exists.body);
    assert.equal(json(exists)['seq'], json(created)['seq']);
    problem(
      await post('/v1/ledger/transfers', { ...body, amountMinor: '251' }),
      409,
      'ledger.exists_with_different_amount',
    );
    assert.equal((await balances(to))['posted'], '250');
    const read = await get(`/v1/ledger/transfers/${String(body['id'])}`);
    assert.equal(read.statusCode, 200);
    assert.deepEqual(json(read), json(created));
    problem(await get(`/v1/ledger/transfers/${unique('missing')}`), 404, 'request.not_found');
  });
});

describe('Idempotency-Key', () => {
  test('a replay returns the first response with Idempotency-Replayed and moves money once', async () => {
    const { bank: from, wallet: to } = await funded('0');
    const key = unique('replay');
    const body = transferBody(from, to, '40');
    const first = await post('/v1/ledger/transfers', body, { key });
    assert.equal(first.statusCode, 201);
    assert.equal(first.headers['idempotency-replayed'], undefined);
    // Key order does not matter: the body is hashed in canonical form.
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const second = await post('/v1/ledger/transfers', reordered, { key });
    assert.equal(second.statusCode, 201, 'the replay keeps the first status, not 200 "exists"');
    assert.equal(second.headers['idempotency-replayed'], 'true');
    assert.equal(second.body, first.body);
    assert.equal((await balances(to))['posted'], '40');
    const statement = json(await get(`/v1/ledger/accounts/${to}/statement`));
    assert.equal((statement['lines'] as unknown[]).length, 1, 'one movement, not two');
  });

  test('the same key with another body is 422 idempotency.key_reused', async () => {
    const { bank: from, wallet: to } = await funded('0');
    const key = unique('reuse');
    assert.equal(
      (await post('/v1/ledger/transfers', transferBody(from, to, '1'), { key })).statusCode,
      201,
    );
    problem(
      await post('/v1/ledger/transfers', transferBody(from, to, '2'), { key }),
      422,
      'idempotency.key_reused',
    );
    assert.equal((await balances(to))['posted'], '1');
  });

  test('keys are per route: the same key on another route is a new request', async () => {
    const key = unique('shared');
    const response = await post(
      '/v1/ledger/accounts',
      { currency: 'CNY', code: 'user.wallet', noOverdraft: true },
      { key },
    );
    assert.equal(response.statusCode, 201);
    const { bank: from, wallet: to } = await funded('0');
    assert.equal(
      (await post('/v1/ledger/transfers', transferBody(from, to, '3'), { key })).statusCode,
      201,
    );
  });

  test('a retryable failure releases the key, so the same request may succeed later', async () => {
    const { bank, wallet: from } = await funded('10');
    const key = unique('retry');
    const body = transferBody(from, bank, '30');
    problem(await post('/v1/ledger/transfers', body, { key }), 422, 'ledger.insufficient_funds');
    await post('/v1/ledger/transfers', transferBody(bank, from, '20'));
    const retried = await post('/v1/ledger/transfers', body, { key });
    assert.equal(retried.statusCode, 201, retried.body);
    assert.equal(retried.headers['idempotency-replayed'], undefined);
  });

  test('a final failure is stored and replayed like a success', async () => {
    const { bank: from, wallet: to } = await funded('0');
    const body = transferBody(from, to, '5');
    assert.equal((await post('/v1/ledger/transfers', body)).statusCode, 201);
    const key = unique('final');
    const changed = { ...body, amountMinor: '6' };
    const first = await post('/v1/ledger/transfers', changed, { key });
    problem(first, 409, 'ledger.exists_with_different_amount');
    const again = await post('/v1/ledger/transfers', changed, { key });
    assert.equal(again.headers['idempotency-replayed'], 'true');
    assert.equal(again.statusCode, 409);
    assert.match(String(again.headers['content-type']), /^application\/problem\+json/);
    // Verbatim, so the traceId is the first request's, where the logs explain the failure.
    assert.equal(again.body, first.body);
  });

  test('a request still in flight is 409; after 60 s it may be taken over', async () => {
    const { bank: from, wallet: to } = await funded('0');
    const key = unique('inflight');
    const body = transferBody(from, to, '8');
    // A request that claimed the key and then crashed: its row stays in flight.
    const scope = { principal: 'operator', route: 'POST /v1/ledger/transfers', key };
    const claimed = await app.idempotency.claim(scope, app.idempotency.fingerprint(body));
    assert.equal(claimed.kind, 'claimed');
    const busy = await post('/v1/ledger/transfers', body, { key });
    problem(busy, 409, 'idempotency.in_flight');
    assert.equal(busy.headers['retry-after'], '1');
    problem(
      await post('/v1/ledger/transfers', { ...body, amountMinor: '9' }, { key }),
      422,
      'idempotency.key_reused',
    );
    clock.advance(61_000);
    const takenOver = await post('/v1/ledger/transfers', body, { key });
    assert.equal(takenOver.statusCode, 201, takenOver.body);
    if (claimed.kind === 'claimed') {
      assert.equal(
        await app.idempotency.complete(claimed.claim, {
          statusCode: 500,
          contentType: null,
          body: '',
        }),
        false,
        'the crashed attempt is fenced out',
      );
    }
    assert.equal(
      (await post('/v1/ledger/transfers', body, { key })).headers['idempotency-replayed'],
      'true',
    );
  });

  test('records are pruned after 24 h, not before', async () => {
    const { bank: from, wallet: to } = await funded('0');
    const key = unique('prune');
    assert.equal(
      (await post('/v1/ledger/transfers', transferBody(from, to, '1'), { key })).statusCode,
      201,
    );
    clock.advance(23 * 3600 * 1000);
    await app.idempotency.prune();
    problem(
      await post('/v1/ledger/transfers', transferBody(from, to, '2'), { key }),
      422,
      'idempotency.key_reused',
    );
    clock.advance(2 * 3600 * 1000);
    const report = await app.runMaintenance();
    assert.ok(report.pruned !== null && report.pruned >= 1, 'maintenance pruned old records');
    assert.equal(
      (await post('/v1/ledger/transfers', transferBody(from, to, '2'), { key })).statusCode,
      201,
    );
  });
});

describe('holds, linked groups, statements, reconcile', () => {
  test('a pending hold is posted in part; another expires through the maintenance pass', async () => {
    const { bank: to, wallet: from } = await funded('1000');
    const hold: Json = { ...transferBody(from, to, '300'), type: 'pending', timeoutSeconds: 60 };
    assert.equal((await post('/v1/ledger/transfers', hold)).statusCode, 201);
    assert.deepEqual(await balances(from), { posted: '1000', pending: '-300', available: '700' });
    const posted = await post('/v1/ledger/transfers', {
      id: unique('post'),
      type: 'post',
      pendingId: hold['id'],
      amountMinor: '200',
    });
    assert.equal(posted.statusCode, 201, posted.body);
    assert.deepEqual(await balances(from), { posted: '800', pending: '0', available: '800' });
    const expiring: Json = { ...transferBody(from, to, '100'), type: 'pending', timeoutSeconds: 5 };
    assert.equal((await post('/v1/ledger/transfers', expiring)).statusCode, 201);
    assert.equal((await balances(from))['available'], '700');
    clock.advance(6000);
    const report = await app.runMaintenance();
    assert.ok(report.expired >= 1);
    assert.deepEqual(await balances(from), { posted: '800', pending: '0', available: '800' });
    const late = await post('/v1/ledger/transfers', {
      id: unique('void'),
      type: 'void',
      pendingId: expiring['id'],
    });
    problem(late, 409, 'ledger.pending_transfer_already_expired');
  });

  test('a linked group applies all (201 with every result) or none (problem listing results)', async () => {
    const { bank: source, wallet: payer } = await funded('100');
    const payee = await wallet();
    const ok = await post('/v1/ledger/transfer-groups', {
      transfers: [transferBody(payer, payee, '60'), transferBody(source, payee, '5')],
    });
    assert.equal(ok.statusCode, 201, ok.body);
    const results = json(ok)['results'] as Json[];
    assert.deepEqual(
      results.map((r) => r['status']),
      ['created', 'created'],
    );
    const failing = await post('/v1/ledger/transfer-groups', {
      transfers: [transferBody(source, payee, '1'), transferBody(payer, payee, '41')],
    });
    const found = problem(failing, 422, 'ledger.insufficient_funds');
    const listed = found['results'] as Json[];
    assert.deepEqual(
      listed.map((r) => r['code']),
      ['ledger.linked_event_failed', 'ledger.insufficient_funds'],
    );
    assert.equal((await balances(payee))['posted'], '65', 'the failed group moved nothing');
    problem(await post('/v1/ledger/transfer-groups', { transfers: [] }), 400, 'request.invalid');
  });

  test('a statement pages newest first with an opaque cursor', async () => {
    const { bank: from, wallet: to } = await funded('1');
    await post('/v1/ledger/transfers', transferBody(from, to, '2'));
    await post('/v1/ledger/transfers', transferBody(from, to, '3'));
    const first = json(await get(`/v1/ledger/accounts/${to}/statement?limit=2`));
    const lines = first['lines'] as Json[];
    assert.deepEqual(
      lines.map((line) => line['amountMinor']),
      ['3', '2'],
    );
    assert.deepEqual(
      lines.map((line) => line['balanceAfterMinor']),
      ['6', '3'],
    );
    assert.equal(typeof first['nextCursor'], 'string');
    const second = json(
      await get(
        `/v1/ledger/accounts/${to}/statement?limit=2&cursor=${String(first['nextCursor'])}`,
      ),
    );
    assert.deepEqual(
      (second['lines'] as Json[]).map((line) => line['amountMinor']),
      ['1'],
    );
    assert.equal(second['nextCursor'], null);
    problem(await get(`/v1/ledger/accounts/${to}/statement?cursor=bm9wZQ`), 400, 'request.invalid');
    problem(await get(`/v1/ledger/accounts/${to}/statement?limit=0`), 400, 'request.invalid');
    problem(await get(`/v1/ledger/accounts/${to}/statement?limit=abc`), 400, 'request.invalid');
  });

  test('reconcile reports balanced books with amounts as strings', async () => {
    const response = await get('/v1/ledger/reconcile');
    assert.equal(response.statusCode, 200, response.body);
    const report = json(response);
    assert.equal(report['ok'], true, response.body);
    const currencies = report['currencies'] as Json[];
    assert.deepEqual(
      currencies.map((c) => c['postedSumMinor']),
      ['0'],
    );
    problem(await get('/v1/ledger/reconcile', null), 401, 'request.unauthorized');
  });
});
