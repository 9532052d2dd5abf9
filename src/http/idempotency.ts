import { createHash, createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, onSendAsyncHookHandler, preHandlerAsyncHookHandler, preValidationHookHandler } from 'fastify';
import { assert } from '../kernel/assert.ts';
import { batched } from '../kernel/batch.ts';
import type { Clock } from '../kernel/clock.ts';
import type { PendingQuery, Row } from 'postgres';
import { relaxedCommit, type ReservedSql, type Sql, type TransactionSql } from '../kernel/db.ts';
import { DomainError, registerErrors } from '../kernel/errors.ts';

/**
 * Idempotency-Key handling (STYLE.md "Idempotency", after the IETF httpapi draft). A route opts
 * in with `config: { idempotent: true }`; it then requires the header, and the first request with
 * a key claims a row keyed by (principal, route, key) holding the sha256 of the canonical body.
 * When it completes, its status and body are stored and every retry gets them back verbatim with
 * `Idempotency-Replayed: true`.
 *
 * The effect (a ledger batch) commits in the writer's own transaction, so the record cannot share
 * it. The gap is closed by takeover instead: a crashed request leaves its row in flight, and after
 * `inFlightTakeoverMs` a retry may run the handler again. That is safe because what the handlers
 * do is itself idempotent (transfers carry client ids; accounts compare fields).
 */
export const idempotencyErrors = registerErrors('idempotency', {
  key_required: { status: 400, title: 'An Idempotency-Key header is required', retryable: false },
  key_invalid: { status: 400, title: 'The Idempotency-Key header is not valid', retryable: false },
  key_reused: {
    status: 422,
    title: 'The Idempotency-Key was already used with a different request body',
    retryable: false,
  },
  in_flight: {
    status: 409,
    title: 'A request with this Idempotency-Key is still being processed',
    retryable: true,
  },
});

export const idempotencyKeyLengthMax = 255;
/** Keys are opaque to us; this alphabet covers UUIDs, ULIDs and base64/base64url tokens. */
const keyPattern = /^[A-Za-z0-9_.:~+/=-]+$/;
/** Records live at least this long (STYLE.md: ≥ 24 h); prune deletes only older ones. */
export const idempotencyRetentionMs = 24 * 3600 * 1000;
/** An in-flight record older than this belongs to a request that crashed; a retry takes it over. */
export const inFlightTakeoverMs = 60_000;
/** A claim races only with a release or prune deleting the row it found; a few tries settle it. */
const claimAttemptsMax = 3;
const pruneBatchRowsMax = 10_000;
const pruneBatchesMax = 100;

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route requires an Idempotency-Key header and replays completed responses. `'deferred'`:
     * no claim row is written before the handler; the record is written once, completed, when the
     * outcome is known (`IdempotencyStore.claimDeferred`, ADR 0014).
     */
    idempotent?: boolean | 'deferred';
  }
  interface FastifyRequest {
    /** Who is calling, set by an auth hook; idempotency keys are scoped by it. */
    principal: string | null;
    /** The claimed idempotency record this request will complete, if any. */
    idempotency: IdempotencyClaim | null;
  }
}

export interface IdempotencyScope {
  readonly principal: string;
  readonly route: string;
  readonly key: string;
}

export interface IdempotencyClaim extends IdempotencyScope {
  /** Fences a taken-over attempt: only the current attempt may complete or release the row. */
  readonly attempt: number;
  /**
   * Set for a deferred claim: no row was written before the handler ran, only looked for. The
   * record is inserted completed, with this fingerprint, once the response is known — in the
   * effect's own transaction where the effect can carry it (a direct payment, ADR 0014).
   */
  readonly deferred?: { readonly sha256: string };
}

export interface StoredResponse {
  readonly statusCode: number;
  readonly contentType: string | null;
  readonly body: string;
}

export type ClaimOutcome =
  | { readonly kind: 'claimed'; readonly claim: IdempotencyClaim }
  | { readonly kind: 'replay'; readonly response: StoredResponse }
  | { readonly kind: 'reused' }
  | { readonly kind: 'in_flight' };

/** JSON with object keys sorted at every level, so equal bodies hash equally whatever the order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * The stored fingerprint of a request body. With a key it is an HMAC: bodies carry payment PINs,
 * and a plain hash of a body whose only unknown is a 6-digit PIN gives the PIN back to anyone who
 * can read the table and try a million values.
 */
export function requestSha256(body: unknown, key?: Buffer): string {
  const canonical = canonicalJson(body);
  return (key === undefined ? createHash('sha256') : createHmac('sha256', key)).update(canonical).digest('hex');
}

export function parseIdempotencyKey(header: string | string[] | undefined): string {
  if (header === undefined || header === '') {
    throw new DomainError('idempotency.key_required', {
      detail: 'this request changes state: send an Idempotency-Key header (a UUID works)',
    });
  }
  if (
    typeof header !== 'string' ||
    header.length > idempotencyKeyLengthMax ||
    !keyPattern.test(header)
  ) {
    throw new DomainError('idempotency.key_invalid', {
      detail: `an Idempotency-Key is 1 to ${String(idempotencyKeyLengthMax)} characters of A-Z a-z 0-9 _ . : ~ + / = -`,
    });
  }
  return header;
}

interface KeyRow {
  readonly state: 'in_flight' | 'completed';
  readonly request_sha256: string;
  readonly status_code: number | null;
  readonly content_type: string | null;
  readonly response_body: string | null;
}

export class IdempotencyStore {
  constructor(private readonly deps: { readonly sql: Sql; readonly clock: Clock; readonly bodyKey?: Buffer }) {}

  fingerprint(body: unknown): string {
    return requestSha256(body, this.deps.bodyKey);
  }

  /**
   * Claims the key for this request, or says what to do instead. The claims of concurrent
   * requests share one statement, which inserts fresh rows and takes over stale in-flight ones
   * with the same body; a request it did not claim (a replay, a reuse, a live attempt, or the same
   * key twice in one batch) is answered one by one.
   */
  claim(scope: IdempotencyScope, sha256: string): Promise<ClaimOutcome> {
    return this.claimBatch({ scope, sha256, tries: 1 });
  }

  private readonly claimBatch = batched<ClaimRequest, ClaimOutcome>(async (requests) => {
    const firsts = new Map<string, ClaimRequest>();
    for (const request of requests) {
      const id = scopeId(request.scope);
      if (!firsts.has(id)) firsts.set(id, request);
    }
    const fresh = [...firsts.values()];
    const now = this.deps.clock.now();
    const staleBefore = new Date(now.getTime() - inFlightTakeoverMs);
    const column = (pick: (request: ClaimRequest) => string): string[] => fresh.map(pick);
    const rows = await this.deps.sql<{ principal: string; route: string; key: string; attempt: number }[]>`
      INSERT INTO http_idempotency_keys AS k
        (principal, route, key, request_sha256, state, created_at, locked_at)
      SELECT principal, route, key, sha256, 'in_flight', ${now}, ${now}
      FROM unnest(${column((r) => r.scope.principal)}::text[], ${column((r) => r.scope.route)}::text[],
        ${column((r) => r.scope.key)}::text[], ${column((r) => r.sha256)}::text[])
        AS x(principal, route, key, sha256), ${relaxedCommit(this.deps.sql)}
      ON CONFLICT (principal, route, key) DO UPDATE
        SET attempt = k.attempt + 1, locked_at = EXCLUDED.locked_at
        WHERE k.state = 'in_flight' AND k.locked_at < ${staleBefore}
          AND k.request_sha256 = EXCLUDED.request_sha256
      RETURNING k.principal, k.route, k.key, k.attempt`;
    const attempts = new Map(rows.map((row) => [scopeId(row), row.attempt]));
    return Promise.all(
      requests.map(async (request): Promise<ClaimOutcome> => {
        const attempt = attempts.get(scopeId(request.scope));
        if (attempt !== undefined && firsts.get(scopeId(request.scope)) === request)
          return { kind: 'claimed', claim: { ...request.scope, attempt } };
        return this.judge(request);
      }),
    );
  });

  /**
   * For a deferred route: the key's record if there is one, judged as a claim would judge it;
   * otherwise a deferred claim, and nothing is written. Lookups of concurrent requests share one
   * statement, and only read.
   */
  async claimDeferred(scope: IdempotencyScope, sha256: string): Promise<ClaimOutcome> {
    const existing = await this.findBatch(scope);
    if (existing !== undefined) return decide(existing, sha256);
    return { kind: 'claimed', claim: { ...scope, attempt: 1, deferred: { sha256 } } };
  }

  /** Key records by scope, for deferred lookups and for judging an unclaimed request. */
  private readonly findBatch = batched<IdempotencyScope, KeyRow | undefined>(async (scopes) => {
    const column = (pick: (scope: IdempotencyScope) => string): string[] => scopes.map(pick);
    const rows = await this.deps.sql<(KeyRow & { lookup_index: string })[]>`
      SELECT x.lookup_index, k.state, k.request_sha256, k.status_code, k.content_type, k.response_body
      FROM unnest(${column((s) => s.principal)}::text[], ${column((s) => s.route)}::text[], ${column((s) => s.key)}::text[])
        WITH ORDINALITY AS x(principal, route, key, lookup_index)
      JOIN http_idempotency_keys k ON k.principal = x.principal AND k.route = x.route AND k.key = x.key`;
    const found = new Map(rows.map(({ lookup_index: index, ...row }) => [Number(index) - 1, row]));
    return scopes.map((_, index) => found.get(index));
  });

  /**
   * A request the statement did not claim: the row it met says what to do. If that row is gone
   * (a release or prune deleted it meanwhile), the request tries to claim again, a few times.
   */
  private async judge(request: ClaimRequest): Promise<ClaimOutcome> {
    const existing = await this.findBatch(request.scope);
    if (existing !== undefined) return decide(existing, request.sha256);
    if (request.tries >= claimAttemptsMax) return { kind: 'in_flight' };
    return this.claimBatch({ ...request, tries: request.tries + 1 });
  }

  /**
   * Stores the final response; false when a takeover fenced this attempt out. Completions of
   * concurrent requests share one statement.
   */
  complete(claim: IdempotencyClaim, response: StoredResponse): Promise<boolean> {
    return this.completeBatch({ claim, response });
  }

  private readonly completeBatch = batched<Completion, boolean>(async (completions) => {
    const now = this.deps.clock.now();
    const claimed = completions.filter((c) => c.claim.deferred === undefined);
    const deferred = completions.filter((c) => c.claim.deferred !== undefined);
    const [updated] = await Promise.all([
      claimed.length === 0 ? [] : this.deps.sql<ScopeRow[]>`${completionUpdate(this.deps.sql, claimed, now, null)}`,
      deferred.length === 0 ? [] : this.deps.sql`${completionInsert(this.deps.sql, deferred, now, null)}`,
    ]);
    const done = new Set(updated.map((row) => `${scopeId(row)}#${String(row.attempt)}`));
    // A deferred record is never fenced out: one another attempt inserted first stands, and this
    // attempt's answer agreed with it or will be replayed from it.
    return completions.map((c) => c.claim.deferred !== undefined || done.has(`${scopeId(c.claim)}#${String(c.claim.attempt)}`));
  });

  /** Forgets an attempt whose outcome may change on retry, so the same key can try again. */
  async release(claim: IdempotencyClaim): Promise<void> {
    if (claim.deferred !== undefined) return;
    await this.deps.sql`
      DELETE FROM http_idempotency_keys
      WHERE principal = ${claim.principal} AND route = ${claim.route} AND key = ${claim.key}
        AND attempt = ${claim.attempt} AND state = 'in_flight'`;
  }

  /** Deletes records older than the retention, in bounded batches so no statement runs long. */
  async prune(): Promise<number> {
    const cutoff = new Date(this.deps.clock.nowMs() - idempotencyRetentionMs);
    let deleted = 0;
    for (let batch = 0; batch < pruneBatchesMax; batch++) {
      const result = await this.deps.sql`
        DELETE FROM http_idempotency_keys WHERE ctid IN (
          SELECT ctid FROM http_idempotency_keys WHERE created_at < ${cutoff}
          LIMIT ${pruneBatchRowsMax})`;
      deleted += result.count;
      if (result.count < pruneBatchRowsMax) break;
    }
    return deleted;
  }
}

interface ScopeRow {
  readonly principal: string;
  readonly route: string;
  readonly key: string;
  readonly attempt: number;
}

interface ClaimRequest {
  readonly scope: IdempotencyScope;
  readonly sha256: string;
  /** Which claim attempt this is (see `judge`). */
  readonly tries: number;
}

export interface Completion {
  readonly claim: IdempotencyClaim;
  readonly response: StoredResponse;
}

/**
 * Says that this request's key record was completed together with its effect (see
 * `completionUpdate`), so the onSend hook has nothing left to store.
 */
export function completedWithEffect(request: FastifyRequest): void {
  request.idempotency = null;
}

/** The content type of a JSON response, as Fastify sends it and a replay restores it. */
export const jsonContentType = 'application/json; charset=utf-8';

/**
 * A statement that writes completed records: on its own (`gatedBy` null), or as a CTE gated by the
 * `inserted(id)` of the statement it joins.
 */
type CompletionStatement = (
  db: Sql | TransactionSql | ReservedSql,
  completions: readonly (Completion & { readonly insertedId?: string })[],
  now: Date,
  gatedBy: 'inserted' | null,
) => PendingQuery<Row[]>;

/**
 * Completions as rows: the key's scope, then its attempt (claimed keys) or its fingerprint
 * (deferred ones), the response, and the id of the row that gates it.
 */
function completionRows(
  db: Sql | TransactionSql | ReservedSql,
  completions: readonly (Completion & { readonly insertedId?: string })[],
  fourth: 'attempt' | 'sha256',
): PendingQuery<Row[]> {
  const column = <T>(pick: (c: (typeof completions)[number]) => T): T[] => completions.map(pick);
  return db`unnest(${column((c) => c.claim.principal)}::text[], ${column((c) => c.claim.route)}::text[],
      ${column((c) => c.claim.key)}::text[],
      ${fourth === 'attempt' ? db`${column((c) => c.claim.attempt)}::int[]` : db`${column((c) => c.claim.deferred?.sha256 ?? '')}::text[]`},
      ${column((c) => c.response.statusCode)}::int[], ${column((c) => c.response.contentType)}::text[],
      ${column((c) => c.response.body)}::text[], ${column((c) => c.insertedId ?? null)}::text[])`;
}

/**
 * The UPDATE that completes in-flight Idempotency-Key records with their responses, fenced by
 * attempt. On its own (`gatedBy` null) it commits without waiting for the disk (ADR 0006). As a
 * CTE of another module's statement whose WITH has `inserted(id)`, each record completes only if
 * the row named by its `insertedId` was inserted, in that statement's (durable) transaction: the
 * response stored with the effect (STYLE.md; ADR 0007).
 */
export const completionUpdate: CompletionStatement = (db, completions, now, gatedBy) =>
  db`
    UPDATE http_idempotency_keys k
    SET state = 'completed', status_code = x.status_code, content_type = x.content_type,
        response_body = x.body, completed_at = ${now}
    FROM ${completionRows(db, completions, 'attempt')}
      AS x(principal, route, key, attempt, status_code, content_type, body, inserted_id)
      ${gatedBy === null ? db`, ${relaxedCommit(db)}` : db``}
    WHERE k.principal = x.principal AND k.route = x.route AND k.key = x.key
      AND k.attempt = x.attempt AND k.state = 'in_flight'
      ${gatedBy === null ? db`` : db`AND x.inserted_id IN (SELECT id FROM inserted)`}
    RETURNING k.principal, k.route, k.key, k.attempt`;

/**
 * The INSERT that writes deferred claims' records, completed, with their responses; a record an
 * earlier or concurrent attempt wrote is left as it is. Gated like `completionUpdate`: as a CTE
 * of a statement whose WITH has `inserted(id)`, a record is written only if its effect's row was.
 */
export const completionInsert: CompletionStatement = (db, completions, now, gatedBy) =>
  db`
    INSERT INTO http_idempotency_keys AS k
      (principal, route, key, request_sha256, state, attempt, status_code, content_type, response_body,
       created_at, locked_at, completed_at)
    SELECT x.principal, x.route, x.key, x.sha256, 'completed', 1, x.status_code, x.content_type, x.body,
      ${now}, ${now}, ${now}
    FROM ${completionRows(db, completions, 'sha256')}
      AS x(principal, route, key, sha256, status_code, content_type, body, inserted_id)
      ${gatedBy === null ? db`, ${relaxedCommit(db)}` : db``}
    ${gatedBy === null ? db`` : db`WHERE x.inserted_id IN (SELECT id FROM inserted)`}
    ON CONFLICT (principal, route, key) DO NOTHING
    RETURNING k.principal, k.route, k.key, k.attempt`;

function scopeId(scope: IdempotencyScope): string {
  return JSON.stringify([scope.principal, scope.route, scope.key]);
}

function decide(row: KeyRow, sha256: string): ClaimOutcome {
  if (row.request_sha256 !== sha256) return { kind: 'reused' };
  if (row.state === 'in_flight') return { kind: 'in_flight' };
  assert(row.status_code !== null, 'a completed record has a status');
  assert(row.response_body !== null, 'a completed record has a body');
  return {
    kind: 'replay',
    response: {
      statusCode: row.status_code,
      contentType: row.content_type,
      body: row.response_body,
    },
  };
}

/**
 * A response is final unless retrying could change it: a server error or a problem marked
 * retryable (insufficient funds may pass after a top-up) releases the key instead.
 */
function isFinal(reply: FastifyReply): boolean {
  if (reply.statusCode >= 500) return false;
  return reply.problem?.retryable !== true;
}

async function finish(
  store: IdempotencyStore,
  claim: IdempotencyClaim,
  reply: FastifyReply,
  payload: unknown,
): Promise<void> {
  const body =
    typeof payload === 'string'
      ? payload
      : Buffer.isBuffer(payload)
        ? payload.toString('utf8')
        : undefined;
  if (body === undefined || !isFinal(reply)) {
    await store.release(claim);
    return;
  }
  const contentType = reply.getHeader('content-type');
  const completed = await store.complete(claim, {
    statusCode: reply.statusCode,
    contentType: typeof contentType === 'string' ? contentType : null,
    body,
  });
  if (!completed)
    reply.log.warn({ key: claim.key }, 'idempotency record was taken over before completing');
}

function replay(reply: FastifyReply, response: StoredResponse): FastifyReply {
  reply.code(response.statusCode).header('idempotency-replayed', 'true');
  if (response.contentType !== null) reply.type(response.contentType);
  return reply.send(response.body);
}

/**
 * Hooks for every route that opts in, and only those: a route without `config.idempotent` pays
 * nothing for them. The header is checked before schema validation (a cheap refusal); the claim
 * happens after it, so an invalid body never occupies a key.
 */
export function registerIdempotency(app: FastifyInstance, store: IdempotencyStore): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('idempotency', null);
  const checkHeader: preValidationHookHandler = (request, _reply, done) => {
    parseIdempotencyKey(request.headers['idempotency-key']);
    done();
  };
  const claim: preHandlerAsyncHookHandler = async (request, reply) => {
    const scope = {
      principal: request.principal ?? 'anonymous',
      route: `${request.method} ${request.routeOptions.url ?? request.url}`,
      key: parseIdempotencyKey(request.headers['idempotency-key']),
    };
    const sha256 = store.fingerprint(request.body);
    const outcome = request.routeOptions.config.idempotent === 'deferred'
      ? await store.claimDeferred(scope, sha256)
      : await store.claim(scope, sha256);
    switch (outcome.kind) {
      case 'claimed':
        request.idempotency = outcome.claim;
        return;
      case 'replay':
        return replay(reply, outcome.response);
      case 'reused':
        throw new DomainError('idempotency.key_reused', {
          detail:
            'this Idempotency-Key was used with a different body; use a new key for a new request',
        });
      case 'in_flight':
        reply.header('retry-after', '1');
        throw new DomainError('idempotency.in_flight', {
          detail: 'the first request with this Idempotency-Key has not finished; retry shortly',
        });
    }
  };
  const complete: onSendAsyncHookHandler = async (request, reply, payload) => {
    const claimed = request.idempotency;
    if (claimed === null) return payload;
    request.idempotency = null;
    await finish(store, claimed, reply, payload);
    return payload;
  };
  // Ahead of the route's own hooks, as app-wide hooks would run.
  app.addHook('onRoute', (route) => {
    const idempotent = (route.config as { idempotent?: unknown } | undefined)?.idempotent;
    if (idempotent !== true && idempotent !== 'deferred') return;
    route.preValidation = [checkHeader, ...[route.preValidation ?? []].flat()];
    route.preHandler = [claim, ...[route.preHandler ?? []].flat()];
    route.onSend = [complete, ...[route.onSend ?? []].flat()];
  });
}
