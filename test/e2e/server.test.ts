/**
 * Goal: the HTTP layer's shared behaviour, apart from any module — every error leaves as RFC 9457
 * problem+json (bugs as 500 with internals only in the log, framework refusals as 4xx), /healthz
 * says 503 when the database does not answer, and the operator token is generated safely.
 * Method: the bare server from `buildServer` with a few test routes, on an isolated schema (and on
 * an unreachable database for the health check), driven with `inject()`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Type } from 'typebox';
import { resolveOperatorToken } from '../../src/http/auth.ts';
import { IdempotencyStore, canonicalJson, requestSha256 } from '../../src/http/idempotency.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { buildServer, type Server } from '../../src/http/server.ts';
import { assert as invariant } from '../../src/kernel/assert.ts';
import { FakeClock } from '../../src/kernel/clock.ts';
import { connect, type Sql } from '../../src/kernel/db.ts';
import { DomainError } from '../../src/kernel/errors.ts';
import { createIdGenerator } from '../../src/kernel/ids.ts';
import { SeededRandom } from '../../src/kernel/random.ts';
import { createTestDb, type TestDb } from '../../src/testing/pg.ts';
import '../../src/ledger/index.ts';

let db: TestDb;
let server: Server;
const logLines: string[] = [];

async function serverOn(sql: Sql, logs?: string[]): Promise<Server> {
  const clock = new FakeClock();
  const logger =
    logs === undefined
      ? false
      : { level: 'info', stream: { write: (line: string) => void logs.push(line) } };
  return buildServer({
    sql,
    ids: createIdGenerator(clock, new SeededRandom(3)),
    metrics: createMetrics(),
    idempotency: new IdempotencyStore({ sql, clock }),
    logger,
    version: 'test',
  });
}

before(async () => {
  db = await createTestDb();
  server = await serverOn(db.sql, logLines);
  server.get('/bug', async () => {
    invariant(false, 'secret internal detail 42');
  });
  server.get('/crash', async () => {
    throw new Error('connection string postgres://user:pw@host leaked?');
  });
  server.get('/domain', async () => {
    throw new DomainError('ledger.insufficient_funds', {
      detail: 'not enough',
      accountId: 'acct-1',
      shortfallMinor: 5n,
      status: 999,
    });
  });
  server.post(
    '/echo',
    {
      schema: {
        body: Type.Object({ n: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
      },
    },
    async (request) => request.body,
  );
  await server.ready();
});
after(async () => {
  await server.close();
  await db.close();
});

function problemOf(
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  status: number,
  code: string,
): Record<string, unknown> {
  assert.equal(response.statusCode, status, response.body);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  const body = JSON.parse(response.body) as Record<string, unknown>;
  assert.equal(body['code'], code);
  assert.equal(body['status'], status);
  assert.equal(body['type'], `https://qianbao.dev/problems/${code}`);
  return body;
}

describe('problem details', () => {
  test('a failed assertion is a 500 whose body hides the internals the log keeps', async () => {
    const response = await server.inject({ method: 'GET', url: '/bug' });
    const body = problemOf(response, 500, 'server.internal_error');
    assert.doesNotMatch(response.body, /secret internal detail/);
    assert.equal(body['retryable'], true);
    assert.ok(
      logLines.some((line) => line.includes('secret internal detail 42')),
      'the log has the assertion',
    );
    const crash = await server.inject({ method: 'GET', url: '/crash' });
    problemOf(crash, 500, 'server.internal_error');
    assert.doesNotMatch(crash.body, /postgres:\/\//);
  });

  test('a domain error keeps its status; extensions never override standard members', async () => {
    const body = problemOf(
      await server.inject({ method: 'GET', url: '/domain' }),
      422,
      'ledger.insufficient_funds',
    );
    assert.equal(body['detail'], 'not enough');
    assert.equal(body['accountId'], 'acct-1');
    assert.equal(body['shortfallMinor'], '5', 'bigints become digit strings');
    assert.equal(body['instance'], '/domain');
  });

  test('schema failures are 400 request.invalid with the messages', async () => {
    const body = problemOf(
      await server.inject({ method: 'POST', url: '/echo', payload: { n: 0 } }),
      400,
      'request.invalid',
    );
    assert.match(String(body['detail']), /must be >= 1/);
    assert.deepEqual(
      (body['errors'] as { pointer: string }[]).map((error) => error.pointer),
      ['#/n'],
    );
    problemOf(
      await server.inject({ method: 'POST', url: '/echo', payload: { n: 1, extra: true } }),
      400,
      'request.invalid',
    );
    problemOf(
      await server.inject({ method: 'POST', url: '/echo', payload: { n: '1' } }),
      400,
      'request.invalid',
    );
  });

  test('framework refusals: malformed JSON 400, wrong media type 415, too large 413, unknown 404', async () => {
    problemOf(
      await server.inject({
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': 'application/json' },
        payload: '{"n":',
      }),
      400,
      'request.invalid',
    );
    problemOf(
      await server.inject({
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': 'text/plain' },
        payload: 'n=1',
      }),
      415,
      'request.unsupported_media_type',
    );
    const large = `{"n":1,"pad":"${'x'.repeat(2 * 1024 * 1024)}"}`;
    problemOf(
      await server.inject({
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': 'application/json' },
        payload: large,
      }),
      413,
      'request.payload_too_large',
    );
    problemOf(await server.inject({ method: 'DELETE', url: '/echo' }), 404, 'request.not_found');
  });
});

describe('/healthz', () => {
  test('503 server.unavailable when the database does not answer', async () => {
    const unreachable = connect({ url: 'postgres://postgres@127.0.0.1:1/none', poolSize: 1 });
    const broken = await serverOn(unreachable);
    try {
      const body = problemOf(
        await broken.inject({ method: 'GET', url: '/healthz' }),
        503,
        'server.unavailable',
      );
      assert.equal(body['retryable'], true);
    } finally {
      await broken.close();
      await unreachable.end({ timeout: 1 });
    }
  });
});

describe('idempotency helpers', () => {
  test('the body hash ignores key order but not values', () => {
    assert.equal(
      canonicalJson({ b: [1, { d: 2, c: 3 }], a: 'x' }),
      '{"a":"x","b":[1,{"c":3,"d":2}]}',
    );
    assert.equal(requestSha256({ a: 1, b: 2 }), requestSha256({ b: 2, a: 1 }));
    assert.notEqual(requestSha256({ a: 1 }), requestSha256({ a: '1' }));
    // Keyed, the fingerprint of a body with a PIN cannot be matched by hashing guesses.
    const key = Buffer.alloc(32, 7);
    assert.notEqual(requestSha256({ pin: '802413' }, key), requestSha256({ pin: '802413' }));
    assert.equal(requestSha256({ pin: '802413' }, key), requestSha256({ pin: '802413' }, key));
  });
});

describe('operator token', () => {
  test('a configured token is used as is; otherwise one is generated into a 0600 file', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'qianbao-token-'));
    try {
      const random = new SeededRandom(11);
      const configured = await resolveOperatorToken({ configured: 'given', dataDir, random });
      assert.deepEqual(configured, { token: 'given', writtenTo: null });
      const file = path.join(dataDir, 'operator-token');
      await writeFile(file, 'old\n', { mode: 0o644 });
      const generated = await resolveOperatorToken({ configured: undefined, dataDir, random });
      assert.equal(generated.writtenTo, file);
      assert.match(generated.token, /^[A-Za-z0-9_-]{43}$/);
      assert.equal((await readFile(file, 'utf8')).trim(), generated.token);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
