import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { App } from '../app.ts';
import { asUser, nextMobile, testPassword, testPin, type TestUser } from '../testing/app.ts';
import { bankAccountId } from './model.ts';

/** Factories for payments' end-to-end tests: cards, money in and out, balances, real names. */

export interface BillJsonForTest {
  id: string;
  kind: string;
  direction: string;
  status: string;
  amountMinor: string;
  memo: string | null;
  counterparty: {
    type: string;
    displayName: string;
    userId: string | null;
    cardId: string | null;
    last4: string | null;
  };
  transactionNo: string;
  createdAt: string;
}

/** Asserts a problem+json with this status and code, and returns its body. */
export function expectProblem(
  response: LightMyRequestResponse,
  status: number,
  code: string,
  label = '',
): Record<string, unknown> {
  assert.match(
    String(response.headers['content-type']),
    /application\/problem\+json/,
    `${label} ${response.body}`,
  );
  const body = response.json<Record<string, unknown>>();
  assert.equal(response.statusCode, status, `${label} ${response.body}`);
  assert.equal(body['code'], code, `${label} ${response.body}`);
  return body;
}

/**
 * Signs a user up through the service, not the route: sign-up and PIN routes are rate-limited per
 * address, and a test file needs more users than a minute allows from one address.
 */
export async function newUser(
  app: App,
  options: { pin?: boolean; displayName?: string } = {},
): Promise<TestUser> {
  const mobile = nextMobile();
  const session = await app.identity.signUp({
    mobile,
    password: testPassword,
    displayName: options.displayName,
  });
  if (options.pin !== false)
    await app.identity.setPin(session.user.id, { pin: testPin, password: testPassword });
  return {
    id: session.user.id,
    mobile,
    token: session.token,
    walletAccountId: session.user.walletAccountId,
  };
}

export async function bindCard(
  app: App,
  user: TestUser,
  input: { bank?: string; last4?: string } = {},
): Promise<string> {
  const response = await asUser(app, user, 'POST', '/v1/cards', {
    bank: input.bank ?? 'ICBC',
    last4: input.last4 ?? '6222',
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json<{ id: string }>().id;
}

export async function topUp(
  app: App,
  user: TestUser,
  cardId: string,
  amountMinor: bigint,
): Promise<BillJsonForTest> {
  const response = await asUser(app, user, 'POST', '/v1/topups', {
    cardId,
    amountMinor: amountMinor.toString(),
    pin: testPin,
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json<BillJsonForTest>();
}

/** A user with a bound card and, if asked, money in the wallet. */
export async function fundedUser(
  app: App,
  user: TestUser,
  amountMinor: bigint,
): Promise<{ cardId: string }> {
  const cardId = await bindCard(app, user);
  if (amountMinor > 0n) await topUp(app, user, cardId, amountMinor);
  return { cardId };
}

export function send(
  app: App,
  user: TestUser,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return asUser(app, user, 'POST', '/v1/transfers', { pin: testPin, ...body }, headers);
}

export async function balanceMinor(app: App, accountId: string): Promise<bigint> {
  const account = await app.ledger.getAccount(accountId);
  assert.ok(account !== undefined, `account ${accountId} exists`);
  return account.balanceMinor;
}

export function bankBalanceMinor(app: App): Promise<bigint> {
  return balanceMinor(app, bankAccountId);
}

const idWeights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** A valid resident ID number (GB 11643) for a sequence number, so each test user gets their own. */
export function idNumberFor(sequence: number): string {
  const body = `11010519491231${String(sequence % 1000).padStart(3, '0')}`;
  const sum = idWeights.reduce((total, weight, index) => total + weight * Number(body[index]), 0);
  return `${body}${'10X98765432'[sum % 11] ?? ''}`;
}

let idSequence = 100;

/** Through the service, for the same reason as `newUser`. */
export async function verifyRealName(app: App, user: TestUser): Promise<void> {
  idSequence += 1;
  await app.identity.verifyRealName(user.id, {
    realName: '张三',
    idNumber: idNumberFor(idSequence),
  });
}
