import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { assert } from '../kernel/assert.ts';
import type { Sql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import { currencies } from '../kernel/money.ts';
import { requireOperator } from '../http/auth.ts';
import { buildProblem, problemResponses, sendProblem } from '../http/problem.ts';
import {
  reconcile,
  statementPageSizeMax,
  type Account,
  type Ledger,
  type StatementLine,
  type SubmitResult,
  type Transfer,
} from './index.ts';
import {
  kindPattern,
  metadataKeysMax,
  metadataValueLengthMax,
  timeoutSecondsMax,
  transferIdPattern,
  type TransferRequest,
} from './model.ts';

/**
 * The ledger's operator API under /v1/ledger: thin handlers over `Ledger`. Money crosses the wire
 * as minor-unit digit strings with a currency; the schemas refuse signs, points and numbers, so a
 * malformed amount is a 400 before the ledger sees it. A failed transfer is a problem+json whose
 * code and status are the ledger's result code.
 */
export interface LedgerRoutesOptions {
  readonly ledger: Ledger;
  readonly sql: Sql;
  readonly operatorToken: string;
  /** The writer refuses a linked group larger than one batch; the route says so first. */
  readonly batchSizeMax: number;
}

export const transferGroupSizeMax = 100;
const statementPageSizeDefault = 50;
const cursorVersion = 'v1';

const AmountMinor = Type.String({
  pattern: '^[0-9]{1,18}$',
  description: 'Minor units (fen) as a digit string',
});
const BalanceMinor = Type.String({
  pattern: '^-?[0-9]{1,19}$',
  description: 'Signed minor units as a digit string',
});
const Currency = Type.Enum(currencies);
const EntityId = Type.String({ pattern: transferIdPattern.source });
const Code = Type.String({ pattern: kindPattern.source });
const Metadata = Type.Record(
  Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
  Type.String({ maxLength: metadataValueLengthMax }),
  { maxProperties: metadataKeysMax, additionalProperties: false },
);
const Timestamp = Type.String({ format: 'date-time' });
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const AccountBody = Type.Object(
  {
    id: Type.Optional(EntityId),
    currency: Currency,
    code: Code,
    ownerId: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Null()]),
    ),
    noOverdraft: Type.Boolean(),
    overdraftLimitMinor: Type.Optional(AmountMinor),
    shardCount: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type AccountBody = Static<typeof AccountBody>;

export const AccountJson = Type.Object({
  id: Type.String(),
  currency: Type.String(),
  code: Type.String(),
  ownerId: NullableString,
  noOverdraft: Type.Boolean(),
  overdraftLimitMinor: AmountMinor,
  shardCount: Type.Integer(),
  /** posted = credits − debits posted; pending = net holds; available = posted − pending debits. */
  balances: Type.Object({ posted: BalanceMinor, pending: BalanceMinor, available: BalanceMinor }),
  totals: Type.Object({
    debitsPendingMinor: AmountMinor,
    debitsPostedMinor: AmountMinor,
    creditsPendingMinor: AmountMinor,
    creditsPostedMinor: AmountMinor,
  }),
  metadata: Metadata,
  createdAt: Timestamp,
});
export type AccountJson = Static<typeof AccountJson>;

export const TransferBody = Type.Object(
  {
    id: EntityId,
    type: Type.Enum(['posted', 'pending', 'post', 'void']),
    debitAccountId: Type.Optional(EntityId),
    creditAccountId: Type.Optional(EntityId),
    amountMinor: Type.Optional(AmountMinor),
    currency: Type.Optional(Currency),
    kind: Type.Optional(Code),
    pendingId: Type.Optional(EntityId),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: timeoutSecondsMax })),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type TransferBody = Static<typeof TransferBody>;

export const TransferGroupBody = Type.Object(
  { transfers: Type.Array(TransferBody, { minItems: 1, maxItems: transferGroupSizeMax }) },
  { additionalProperties: false },
);
export type TransferGroupBody = Static<typeof TransferGroupBody>;

export const TransferJson = Type.Object({
  id: Type.String(),
  seq: Type.String({ pattern: '^[0-9]+$' }),
  type: Type.String(),
  debitAccountId: Type.String(),
  creditAccountId: Type.String(),
  amountMinor: AmountMinor,
  currency: Type.String(),
  kind: Type.String(),
  pendingId: NullableString,
  timeoutAt: Type.Union([Timestamp, Type.Null()]),
  groupId: NullableString,
  metadata: Metadata,
  createdAt: Timestamp,
});
export type TransferJson = Static<typeof TransferJson>;

export const TransferGroupJson = Type.Object({
  results: Type.Array(
    Type.Object({
      id: Type.String(),
      status: Type.Enum(['created', 'exists']),
      transfer: TransferJson,
    }),
  ),
});
export type TransferGroupJson = Static<typeof TransferGroupJson>;

export const StatementJson = Type.Object({
  accountId: Type.String(),
  lines: Type.Array(
    Type.Object({
      seq: Type.String(),
      transferId: Type.String(),
      kind: Type.String(),
      type: Type.String(),
      side: Type.Enum(['D', 'C']),
      amountMinor: AmountMinor,
      balanceAfterMinor: BalanceMinor,
      shardNo: Type.Union([Type.Integer(), Type.Null()]),
      counterpartyAccountId: Type.String(),
      metadata: Metadata,
      createdAt: Timestamp,
    }),
  ),
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: NullableString,
});
export type StatementJson = Static<typeof StatementJson>;

const ReconcileJson = Type.Object({
  ok: Type.Boolean(),
  accounts: Type.Integer(),
  transfers: Type.Integer(),
  currencies: Type.Array(
    Type.Object({
      currency: Type.String(),
      postedSumMinor: BalanceMinor,
      pendingDebitsMinor: BalanceMinor,
      pendingCreditsMinor: BalanceMinor,
    }),
  ),
  problems: Type.Array(
    Type.Object({
      check: Type.String(),
      subject: Type.String(),
      expected: Type.String(),
      actual: Type.String(),
    }),
  ),
});

const IdParams = Type.Object({ id: EntityId });
const StatementQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 64 })),
    limit: Type.Optional(
      Type.String({ pattern: '^[0-9]{1,3}$', description: `1 to ${String(statementPageSizeMax)}` }),
    ),
  },
  { additionalProperties: false },
);
const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ description: 'Required: a unique key per logical request' }),
  ),
});

export function toAccountJson(account: Account): AccountJson {
  return {
    id: account.id,
    currency: account.currency,
    code: account.code,
    ownerId: account.ownerId,
    noOverdraft: account.noOverdraft,
    overdraftLimitMinor: account.overdraftLimitMinor.toString(),
    shardCount: account.shardCount,
    balances: {
      posted: account.balanceMinor.toString(),
      pending: (account.creditsPendingMinor - account.debitsPendingMinor).toString(),
      available: account.availableMinor.toString(),
    },
    totals: {
      debitsPendingMinor: account.debitsPendingMinor.toString(),
      debitsPostedMinor: account.debitsPostedMinor.toString(),
      creditsPendingMinor: account.creditsPendingMinor.toString(),
      creditsPostedMinor: account.creditsPostedMinor.toString(),
    },
    metadata: account.metadata,
    createdAt: account.createdAt.toISOString(),
  };
}

export function toTransferJson(transfer: Transfer): TransferJson {
  return {
    id: transfer.id,
    seq: transfer.seq.toString(),
    type: transfer.type,
    debitAccountId: transfer.debitAccountId,
    creditAccountId: transfer.creditAccountId,
    amountMinor: transfer.amountMinor.toString(),
    currency: transfer.currency,
    kind: transfer.kind,
    pendingId: transfer.pendingId,
    timeoutAt: transfer.timeoutAtMs === null ? null : new Date(transfer.timeoutAtMs).toISOString(),
    groupId: transfer.groupId,
    metadata: transfer.metadata,
    createdAt: new Date(transfer.createdAtMs).toISOString(),
  };
}

function toStatementLineJson(line: StatementLine): StatementJson['lines'][number] {
  return {
    seq: line.seq.toString(),
    transferId: line.transferId,
    kind: line.kind,
    type: line.type,
    side: line.side,
    amountMinor: line.amountMinor.toString(),
    balanceAfterMinor: line.balanceAfterMinor.toString(),
    shardNo: line.shardNo,
    counterpartyAccountId: line.counterpartyAccountId,
    metadata: line.metadata,
    createdAt: line.createdAt.toISOString(),
  };
}

/** The schema has already refused bad shapes; this only drops absent fields and makes bigints. */
export function toTransferRequest(body: TransferBody): TransferRequest {
  return {
    id: body.id,
    type: body.type,
    ...(body.debitAccountId === undefined ? {} : { debitAccountId: body.debitAccountId }),
    ...(body.creditAccountId === undefined ? {} : { creditAccountId: body.creditAccountId }),
    ...(body.amountMinor === undefined ? {} : { amountMinor: BigInt(body.amountMinor) }),
    ...(body.currency === undefined ? {} : { currency: body.currency }),
    ...(body.kind === undefined ? {} : { kind: body.kind }),
    ...(body.pendingId === undefined ? {} : { pendingId: body.pendingId }),
    ...(body.timeoutSeconds === undefined ? {} : { timeoutSeconds: body.timeoutSeconds }),
    ...(body.metadata === undefined ? {} : { metadata: body.metadata }),
  };
}

/** Cursors are opaque to clients so the paging key can change without breaking them. */
export function encodeCursor(beforeSeq: bigint): string {
  return Buffer.from(`${cursorVersion}:${beforeSeq.toString()}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): bigint {
  const match = /^v1:([1-9][0-9]{0,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (match?.[1] === undefined) {
    throw new DomainError('request.invalid', { detail: 'cursor is not one this API returned' });
  }
  return BigInt(match[1]);
}

function statementLimit(raw: string | undefined): number {
  if (raw === undefined) return statementPageSizeDefault;
  const limit = Number(raw);
  if (limit < 1 || limit > statementPageSizeMax) {
    throw new DomainError('request.invalid', {
      detail: `limit is 1 to ${String(statementPageSizeMax)}`,
    });
  }
  return limit;
}

function toCreateAccountInput(body: AccountBody): Parameters<Ledger['createAccount']>[0] {
  return {
    currency: body.currency,
    code: body.code,
    noOverdraft: body.noOverdraft,
    ...(body.id === undefined ? {} : { id: body.id }),
    ...(body.ownerId === undefined ? {} : { ownerId: body.ownerId }),
    ...(body.overdraftLimitMinor === undefined
      ? {}
      : { overdraftLimitMinor: BigInt(body.overdraftLimitMinor) }),
    ...(body.shardCount === undefined ? {} : { shardCount: body.shardCount }),
    ...(body.metadata === undefined ? {} : { metadata: body.metadata }),
  };
}

function sendTransferFailure(
  request: FastifyRequest,
  reply: FastifyReply,
  failed: Extract<SubmitResult, { status: 'failed' }>,
): FastifyReply {
  return sendProblem(
    reply,
    buildProblem(request, {
      code: failed.error,
      detail: failed.detail,
      extensions: { transferId: failed.id },
    }),
  );
}

/**
 * A failed linked group is reported as its root cause (the member that failed for its own
 * reason, not `linked_event_failed`) with that code's status, so a group and a single transfer
 * failing for the same reason answer alike; every member's result is listed in `results`.
 */
function sendGroupFailure(
  request: FastifyRequest,
  reply: FastifyReply,
  results: readonly SubmitResult[],
): FastifyReply {
  const cause =
    results.find((r) => r.status === 'failed' && r.error !== 'ledger.linked_event_failed') ??
    results.find((r) => r.status === 'failed');
  assert(cause?.status === 'failed', 'a failed group has a failed member');
  const listed = results.map((r) =>
    r.status === 'failed'
      ? { id: r.id, status: r.status, code: r.error, detail: r.detail }
      : { id: r.id, status: r.status },
  );
  return sendProblem(
    reply,
    buildProblem(request, {
      code: cause.error,
      detail: `transfer ${cause.id}: ${cause.detail}`,
      extensions: { transferId: cause.id, results: listed },
    }),
  );
}

const operatorSecurity = [{ operatorToken: [] }];

type LedgerApp = Parameters<FastifyPluginAsyncTypebox<LedgerRoutesOptions>>[0];

/** Accounts: create (idempotent), read with balances, statement pages. */
function registerAccountRoutes(app: LedgerApp, options: LedgerRoutesOptions): void {
  const { ledger } = options;
  app.post(
    '/accounts',
    {
      config: { idempotent: true },
      schema: {
        summary: 'Create an account (the same id and fields return the existing one)',
        tags: ['ledger'],
        security: operatorSecurity,
        headers: IdempotencyHeaders,
        body: AccountBody,
        response: { 200: AccountJson, 201: AccountJson, ...problemResponses(400, 401, 409, 422) },
      },
    },
    async (request, reply) => {
      // The ledger does not say whether it created the row; a prior read tells 201 from 200. A race
      // can only mislabel the status, never create twice: the insert itself is conditional.
      const existed =
        request.body.id !== undefined && (await ledger.getAccount(request.body.id)) !== undefined;
      const account = await ledger.createAccount(toCreateAccountInput(request.body));
      return reply.code(existed ? 200 : 201).send(toAccountJson(account));
    },
  );

  app.get(
    '/accounts/:id',
    {
      schema: {
        summary: 'An account with its balances',
        tags: ['ledger'],
        security: operatorSecurity,
        params: IdParams,
        response: { 200: AccountJson, ...problemResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const account = await ledger.getAccount(request.params.id);
      if (account === undefined) {
        throw new DomainError('ledger.account_not_found', {
          detail: `account ${request.params.id} does not exist`,
        });
      }
      return reply.send(toAccountJson(account));
    },
  );

  app.get(
    '/accounts/:id/statement',
    {
      schema: {
        summary: "An account's posted movements, newest first, with running balances",
        tags: ['ledger'],
        security: operatorSecurity,
        params: IdParams,
        querystring: StatementQuery,
        response: { 200: StatementJson, ...problemResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const limit = statementLimit(request.query.limit);
      const cursor = request.query.cursor;
      const page = await ledger.statement(
        request.params.id,
        cursor === undefined ? { limit } : { limit, beforeSeq: decodeCursor(cursor) },
      );
      if (page === undefined) {
        throw new DomainError('ledger.account_not_found', {
          detail: `account ${request.params.id} does not exist`,
        });
      }
      return reply.send({
        accountId: request.params.id,
        lines: page.lines.map(toStatementLineJson),
        nextCursor: page.nextBeforeSeq === null ? null : encodeCursor(page.nextBeforeSeq),
      });
    },
  );
}

/** Transfers: one, a linked group (both idempotent), and read one back. */
function registerTransferRoutes(app: LedgerApp, options: LedgerRoutesOptions): void {
  const { ledger } = options;
  app.post(
    '/transfers',
    {
      config: { idempotent: true },
      schema: {
        summary: 'Submit one transfer: posted, pending (a hold), or post/void of a hold',
        description:
          '201 when created, 200 when a transfer with this id and fields already exists.',
        tags: ['ledger'],
        security: operatorSecurity,
        headers: IdempotencyHeaders,
        body: TransferBody,
        response: { 200: TransferJson, 201: TransferJson, ...problemResponses(400, 401, 409, 422) },
      },
    },
    async (request, reply) => {
      const result = await ledger.transfer(toTransferRequest(request.body));
      if (result.status === 'failed') return sendTransferFailure(request, reply, result);
      return reply
        .code(result.status === 'created' ? 201 : 200)
        .send(toTransferJson(result.transfer));
    },
  );

  app.post(
    '/transfer-groups',
    {
      config: { idempotent: true },
      schema: {
        summary: 'Submit linked transfers that apply all or none',
        tags: ['ledger'],
        security: operatorSecurity,
        headers: IdempotencyHeaders,
        body: TransferGroupBody,
        response: {
          200: TransferGroupJson,
          201: TransferGroupJson,
          ...problemResponses(400, 401, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const transfers = request.body.transfers;
      if (transfers.length > options.batchSizeMax) {
        throw new DomainError('request.invalid', {
          detail: `a linked group has at most ${String(options.batchSizeMax)} transfers`,
        });
      }
      const results = await ledger.linked(transfers.map(toTransferRequest));
      if (results.some((r) => r.status === 'failed'))
        return sendGroupFailure(request, reply, results);
      const listed = results.flatMap((r) =>
        r.status === 'failed'
          ? []
          : [{ id: r.id, status: r.status, transfer: toTransferJson(r.transfer) }],
      );
      const anyCreated = results.some((r) => r.status === 'created');
      return reply.code(anyCreated ? 201 : 200).send({ results: listed });
    },
  );

  app.get(
    '/transfers/:id',
    {
      schema: {
        summary: 'A transfer by id',
        tags: ['ledger'],
        security: operatorSecurity,
        params: IdParams,
        response: { 200: TransferJson, ...problemResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const found = await ledger.getTransfer(request.params.id);
      if (found === undefined || found.status === 'failed') {
        throw new DomainError('request.not_found', {
          detail: `transfer ${request.params.id} does not exist`,
        });
      }
      return reply.send(toTransferJson(found.transfer));
    },
  );
}

/** The reconciliation report, amounts as digit strings. */
function registerReconcileRoute(app: LedgerApp, options: LedgerRoutesOptions): void {
  app.get(
    '/reconcile',
    {
      schema: {
        summary: 'Check that the books agree with the journal and sum to zero per currency',
        tags: ['ledger'],
        security: operatorSecurity,
        response: { 200: ReconcileJson, ...problemResponses(401) },
      },
    },
    async (_request, reply) => {
      const report = await reconcile(options.sql);
      return reply.send({
        ok: report.ok,
        accounts: report.accounts,
        transfers: report.transfers,
        currencies: report.currencies.map((c) => ({
          currency: c.currency,
          postedSumMinor: c.postedSumMinor.toString(),
          pendingDebitsMinor: c.pendingDebitsMinor.toString(),
          pendingCreditsMinor: c.pendingCreditsMinor.toString(),
        })),
        problems: report.problems,
      });
    },
  );
}

// Fastify plugins are async by contract; this one only registers routes.
export const ledgerRoutes: FastifyPluginAsyncTypebox<LedgerRoutesOptions> = (app, options) => {
  app.addHook('onRequest', requireOperator(options.operatorToken));
  registerAccountRoutes(app, options);
  registerTransferRoutes(app, options);
  registerReconcileRoute(app, options);
  return Promise.resolve();
};
