import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { bearerToken } from '../http/auth.ts';
import { problemResponses } from '../http/problem.ts';
import type { Sql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import { maskMobile, type Identity } from '../identity/index.ts';
import { ledgerTotals, type Ledger } from '../ledger/index.ts';
import { reconcileAll } from '../payments/index.ts';
import type { Operator, Operators } from './service.ts';

/** The console's session cookie; scripts send the same token as a Bearer token. */
export const operatorCookie = 'qb_admin';

declare module 'fastify' {
  interface FastifyRequest {
    operator: Operator | null;
  }
}

export interface AdminRoutesOptions {
  readonly operators: Operators;
  readonly identity: Identity;
  readonly ledger: Ledger;
  readonly sql: Sql;
}

export function authenticateOperator(operators: Operators) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const token = bearerToken(request.headers.authorization) ?? request.cookies[operatorCookie];
    const operator = token === undefined ? undefined : await operators.authenticate(token);
    if (operator === undefined) {
      reply.header('www-authenticate', 'Bearer realm="qianbao-admin"');
      throw new DomainError('request.unauthorized', { detail: 'log in to the operator console' });
    }
    request.operator = operator;
    request.principal = operator.id;
  };
}

/**
 * onRequest hook of an operator route that changes something: a signed-in operator who is not a
 * viewer (viewers read; `what` says what they may not do, in the 403).
 */
export function authenticateChangingOperator(operators: Operators, what: string) {
  const authenticate = authenticateOperator(operators);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await authenticate(request, reply);
    if (request.operator?.role === 'viewer') throw new DomainError('request.forbidden', { detail: `viewers cannot ${what}` });
  };
}

/** bigint → digit string, all the way down (the console reads JSON). */
function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, jsonSafe(inner)]));
  }
  return value;
}

const Cursor = Type.Optional(Type.String({ maxLength: 64 }));
const Limit = Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' }));
const LoginBody = Type.Object({ username: Type.String({ minLength: 1, maxLength: 32 }), password: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false });
const Any = Type.Unknown();

/**
 * The operator API behind the console at /admin: log-in, users, a user's wallet, transfer
 * search, the ledger's totals in one snapshot, and reconciliation.
 */
export const adminRoutes: FastifyPluginAsyncTypebox<AdminRoutesOptions> = (app, options) => {
  const { operators, identity, ledger, sql } = options;
  const authenticate = authenticateOperator(operators);
  app.decorateRequest('operator', null);

  app.post('/auth/login', {
    config: { rateLimit: { max: 20, timeWindow: 60_000 } },
    schema: { summary: 'Operator log-in', tags: ['admin'], body: LoginBody, response: { 200: Any, ...problemResponses(400, 401, 423, 429) } },
  }, async (request, reply) => {
    const session = await operators.logIn(request.body);
    reply.setCookie(operatorCookie, session.token, { httpOnly: true, sameSite: 'strict', secure: request.protocol === 'https', path: '/', expires: session.expiresAt });
    return { token: session.token, expiresAt: session.expiresAt.toISOString(), operator: session.operator };
  });

  app.post('/auth/logout', { onRequest: authenticate, schema: { tags: ['admin'], response: { 204: Type.Null(), ...problemResponses(401) } } }, async (request, reply) => {
    const token = bearerToken(request.headers.authorization) ?? request.cookies[operatorCookie];
    if (token !== undefined) await operators.logOut(token);
    reply.clearCookie(operatorCookie, { path: '/' });
    return reply.code(204).send(null);
  });

  app.get('/me', { onRequest: authenticate, schema: { tags: ['admin'], response: { 200: Any, ...problemResponses(401) } } }, (request) => Promise.resolve({ operator: request.operator }));

  app.get('/users', {
    onRequest: authenticate,
    schema: { summary: 'Users by mobile prefix, newest first', tags: ['admin'], querystring: Type.Object({ mobile: Type.Optional(Type.String({ pattern: '^[0-9]{1,11}$' })), cursor: Cursor, limit: Limit }, { additionalProperties: false }), response: { 200: Any, ...problemResponses(400, 401) } },
  }, async (request) => {
    const limit = Number(request.query.limit ?? '50');
    const users = await identity.searchUsers({ mobilePrefix: request.query.mobile, beforeId: request.query.cursor, limit });
    const last = users[users.length - 1];
    return jsonSafe({ users: users.map((user) => ({ ...user, mobileMasked: maskMobile(user.mobile) })), nextCursor: users.length === Math.min(limit, 100) && last !== undefined ? last.id : null });
  });

  app.get('/users/:id', {
    onRequest: authenticate,
    schema: { summary: 'A user and their wallet', tags: ['admin'], params: Type.Object({ id: Type.String({ maxLength: 64 }) }), response: { 200: Any, ...problemResponses(401, 404) } },
  }, async (request) => {
    const user = await identity.getUser(request.params.id);
    if (user === undefined) throw new DomainError('identity.user_not_found');
    const wallet = await ledger.getAccount(user.walletAccountId);
    return jsonSafe({ user, wallet });
  });

  app.get('/transfers', {
    onRequest: authenticate,
    schema: {
      summary: 'Transfers, newest first, by account, kind or id prefix',
      tags: ['admin'],
      querystring: Type.Object({ accountId: Type.Optional(Type.String({ maxLength: 128 })), kind: Type.Optional(Type.String({ maxLength: 63 })), idPrefix: Type.Optional(Type.String({ maxLength: 128 })), cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$' })), limit: Limit }, { additionalProperties: false }),
      response: { 200: Any, ...problemResponses(400, 401) },
    },
  }, async (request) => {
    const page = await ledger.searchTransfers({
      accountId: request.query.accountId,
      kind: request.query.kind,
      idPrefix: request.query.idPrefix,
      beforeSeq: request.query.cursor === undefined ? undefined : BigInt(request.query.cursor),
      limit: Number(request.query.limit ?? '50'),
    });
    return jsonSafe({ transfers: page.transfers, nextCursor: page.nextBeforeSeq });
  });

  app.get('/ledger/totals', {
    onRequest: authenticate,
    schema: { summary: 'Per-currency totals of all balances, read in one consistent snapshot', tags: ['admin'], response: { 200: Any, ...problemResponses(401) } },
  }, async () => jsonSafe(await ledgerTotals(sql)));

  app.get('/ledger/reconcile', {
    onRequest: authenticate,
    schema: { summary: 'Reconciliation status: sums, books against entries, holds, and the payment rows\' references', tags: ['admin'], response: { 200: Any, ...problemResponses(401) } },
  }, async () => jsonSafe(await reconcileAll(sql)));
  return Promise.resolve();
};
