import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { bearerToken } from '../http/auth.ts';
import { problemResponses } from '../http/problem.ts';
import { DomainError } from '../kernel/errors.ts';
import type { Ledger } from '../ledger/index.ts';
import { maskMobile } from './model.ts';
import type { AuthUser, Identity, Session } from './service.ts';

/** The session cookie the web app uses; API clients send the same token as a Bearer token. */
export const sessionCookie = 'qb_session';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in wallet user, set by `authenticateUser`. */
    user: AuthUser | null;
  }
}

/**
 * An onRequest hook for every user route: a live session from `Authorization: Bearer` or the
 * session cookie, else 401 before the body is read. Idempotency keys are scoped to the user.
 */
export function authenticateUser(identity: Identity) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const token = bearerToken(request.headers.authorization) ?? request.cookies[sessionCookie];
    const user = token === undefined ? undefined : await identity.authenticate(token);
    if (user === undefined) {
      reply.header('www-authenticate', 'Bearer realm="qianbao"');
      throw new DomainError('request.unauthorized', { detail: 'log in first' });
    }
    request.user = user;
    request.principal = user.id;
  };
}

/** The signed-in user of a route behind `authenticateUser`. */
export function currentUser(request: FastifyRequest): AuthUser {
  const user = request.user;
  if (user === null) throw new DomainError('request.unauthorized', { detail: 'log in first' });
  return user;
}

const Mobile = Type.String({ minLength: 11, maxLength: 16, description: 'an 11-digit mainland mobile number' });
const Password = Type.String({ minLength: 1, maxLength: 128 });
const Pin = Type.String({ pattern: '^[0-9]{6}$', description: '6 digits' });

const SignUpBody = Type.Object(
  { mobile: Mobile, password: Password, displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })) },
  { additionalProperties: false },
);
const LogInBody = Type.Object({ mobile: Mobile, password: Password }, { additionalProperties: false });
const PinBody = Type.Object(
  { pin: Pin, password: Type.Optional(Password), currentPin: Type.Optional(Pin) },
  { additionalProperties: false },
);
const RealNameBody = Type.Object(
  { realName: Type.String({ minLength: 1, maxLength: 30 }), idNumber: Type.String({ minLength: 1, maxLength: 18 }) },
  { additionalProperties: false },
);

export const UserJson = Type.Object({
  id: Type.String(),
  mobile: Type.String(),
  mobileMasked: Type.String(),
  displayName: Type.String(),
  walletAccountId: Type.String(),
  realNameVerified: Type.Boolean(),
  hasPin: Type.Boolean(),
});
export type UserJson = Static<typeof UserJson>;

const SessionJson = Type.Object({ token: Type.String(), expiresAt: Type.String(), user: UserJson });
const MeJson = Type.Object({
  user: UserJson,
  balance: Type.Object({ availableMinor: Type.String(), balanceMinor: Type.String(), currency: Type.String() }),
});

export function toUserJson(user: AuthUser): UserJson {
  return {
    id: user.id,
    mobile: user.mobile,
    mobileMasked: maskMobile(user.mobile),
    displayName: user.displayName,
    walletAccountId: user.walletAccountId,
    realNameVerified: user.realNameVerified,
    hasPin: user.hasPin,
  };
}

export interface IdentityRoutesOptions {
  readonly identity: Identity;
  readonly ledger: Ledger;
  /** Attempts per minute per client address on login and sign-up. */
  readonly loginRateMax: number;
}

function sendSession(request: FastifyRequest, reply: FastifyReply, session: Session, status: number): FastifyReply {
  reply.setCookie(sessionCookie, session.token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: request.protocol === 'https',
    path: '/',
    expires: session.expiresAt,
  });
  return reply.code(status).send({ token: session.token, expiresAt: session.expiresAt.toISOString(), user: toUserJson(session.user) });
}

/** Sign-up, log-in, log-out, the profile, the payment PIN and real-name verification. */
export const identityRoutes: FastifyPluginAsyncTypebox<IdentityRoutesOptions> = (app, options) => {
  const { identity, ledger } = options;
  const authenticate = authenticateUser(identity);
  const loginLimit = { max: options.loginRateMax, timeWindow: 60_000 };

  app.post('/auth/signup', {
    config: { rateLimit: loginLimit },
    schema: { summary: 'Sign up with a mobile number and a password', tags: ['identity'], body: SignUpBody, response: { 201: SessionJson, ...problemResponses(400, 409, 429) } },
  }, async (request, reply) => sendSession(request, reply, await identity.signUp(request.body), 201));

  app.post('/auth/login', {
    config: { rateLimit: loginLimit },
    schema: { summary: 'Log in; 10 failures lock the account for 30 minutes', tags: ['identity'], body: LogInBody, response: { 200: SessionJson, ...problemResponses(400, 401, 423, 429) } },
  }, async (request, reply) => sendSession(request, reply, await identity.logIn(request.body), 200));

  app.post('/auth/logout', {
    onRequest: authenticate,
    schema: { summary: 'Log out (revokes this session)', tags: ['identity'], response: { 204: Type.Null(), ...problemResponses(401) } },
  }, async (request, reply) => {
    const token = bearerToken(request.headers.authorization) ?? request.cookies[sessionCookie];
    if (token !== undefined) await identity.logOut(token);
    reply.clearCookie(sessionCookie, { path: '/' });
    return reply.code(204).send(null);
  });

  app.get('/me', {
    onRequest: authenticate,
    schema: { summary: 'The signed-in user and their wallet balance', tags: ['identity'], response: { 200: MeJson, ...problemResponses(401) } },
  }, async (request) => {
    const user = currentUser(request);
    const wallet = await ledger.getAccount(user.walletAccountId);
    return {
      user: toUserJson(user),
      balance: {
        availableMinor: (wallet?.availableMinor ?? 0n).toString(),
        balanceMinor: (wallet?.balanceMinor ?? 0n).toString(),
        currency: wallet?.currency ?? 'CNY',
      },
    };
  });

  app.put('/me/pin', {
    onRequest: authenticate,
    config: { rateLimit: { max: 10, timeWindow: 60_000 } },
    schema: { summary: 'Set the payment PIN (with the password) or change it (with the current PIN)', tags: ['identity'], body: PinBody, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 409, 423, 429) } },
  }, async (request, reply) => {
    await identity.setPin(currentUser(request).id, request.body);
    return reply.code(204).send(null);
  });

  app.post('/me/real-name', {
    onRequest: authenticate,
    config: { rateLimit: { max: 10, timeWindow: 60_000 } },
    schema: { summary: 'Verify the real name (name and resident ID number); lifts the daily send limit', tags: ['identity'], body: RealNameBody, response: { 200: UserJson, ...problemResponses(400, 401, 409, 429) } },
  }, async (request) => {
    const user = currentUser(request);
    await identity.verifyRealName(user.id, request.body);
    const updated = await identity.getUser(user.id);
    if (updated === undefined) throw new DomainError('identity.user_not_found');
    return toUserJson(updated);
  });
  return Promise.resolve();
};
