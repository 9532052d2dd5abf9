import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { problemResponses } from '../http/problem.ts';
import { authenticateUser, currentUser, type Identity } from '../identity/index.ts';
import { IdempotencyHeaders } from '../payments/schemas.ts';
import type { RedPackets } from './service.ts';
import {
  GrabResultJson,
  ListQuery,
  PacketJson,
  PacketListJson,
  PacketParams,
  RulesJson,
  rulesJson,
  SendBody,
  toGrabResultJson,
  toPacketJson,
  toPacketListJson,
} from './schemas.ts';

/**
 * Red packets under /v1. Every route needs a signed-in user; a packet the user may not see (not
 * sent by them, not to them, not to a group they are in) answers the same 404 as a missing one.
 *
 * Send precedence: 401 → 400 Idempotency-Key → 400 schema → replay → 400 target → 422 shape
 * (single share to a friend, count, share size, fixed divides) → 404 friend / group → 422 more
 * shares than members → PIN (409/423/403) → 422 daily limit → the ledger's 422 (funds).
 *
 * A grab takes no Idempotency-Key: it is idempotent by (packet, user) — a retry answers 200 with
 * the share already taken — and a key record would be a second write on the hottest path.
 */
export interface RedPacketRoutesOptions {
  readonly redPackets: RedPackets;
  readonly identity: Identity;
  /** Sends per minute per user (they carry the PIN). */
  readonly pinRateMax: number;
  /** Grabs per second per user. */
  readonly grabRateMax: number;
}

export const redPacketRoutes: FastifyPluginAsyncTypebox<RedPacketRoutesOptions> = (app, options) => {
  const { redPackets } = options;
  app.addHook('onRequest', authenticateUser(options.identity));
  const perUser = (request: FastifyRequest) => request.user?.id ?? request.ip;

  app.get(
    '/redpackets/rules',
    { schema: { summary: 'How red packet amounts are decided (the published split rule)', tags: ['redpackets'], response: { 200: RulesJson, ...problemResponses(401) } } },
    () => rulesJson,
  );

  app.post(
    '/redpackets',
    {
      config: { idempotent: true, rateLimit: { max: options.pinRateMax, timeWindow: 60_000, keyGenerator: perUser } },
      schema: {
        summary: 'Send a lucky or fixed red packet to a friend or a group (PIN)',
        description: 'The whole amount moves from the wallet into the packet at once; what nobody grabs within 24 hours comes back.',
        tags: ['redpackets'],
        headers: IdempotencyHeaders,
        body: SendBody,
        response: { 200: PacketJson, 201: PacketJson, ...problemResponses(400, 401, 403, 404, 409, 422, 423, 429) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { packet, created } = await redPackets.send(currentUser(request), {
        mode: body.mode,
        amountMinor: BigInt(body.amountMinor),
        count: body.count,
        toUserId: body.toUserId,
        groupId: body.groupId,
        greeting: body.greeting,
        pin: body.pin,
        requestKey: String(request.headers['idempotency-key']),
      });
      return reply.code(created ? 201 : 200).send(toPacketJson(packet));
    },
  );

  app.get(
    '/redpackets',
    {
      schema: {
        summary: 'Red packets in my inbox (to me or my groups), that I sent, or that I grabbed; newest first',
        tags: ['redpackets'],
        querystring: ListQuery,
        response: { 200: PacketListJson, ...problemResponses(400, 401) },
      },
    },
    async (request) => {
      const limit = request.query.limit === undefined ? 20 : Number(request.query.limit);
      const before = request.query.before === undefined ? undefined : new Date(request.query.before);
      const rows = await redPackets.list(currentUser(request).id, request.query.box, { before, limit });
      return toPacketListJson(rows, limit);
    },
  );

  app.get(
    '/redpackets/:id',
    {
      schema: {
        summary: 'A red packet: its state, my share, best luck and who grabbed what',
        tags: ['redpackets'],
        params: PacketParams,
        response: { 200: PacketJson, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => toPacketJson(await redPackets.get(currentUser(request).id, request.params.id)),
  );

  app.post(
    '/redpackets/:id/grab',
    {
      config: { rateLimit: { max: options.grabRateMax, timeWindow: 1000, keyGenerator: perUser } },
      schema: {
        summary: 'Grab (open) a red packet: 201 with my share, 200 if I already had one',
        tags: ['redpackets'],
        params: PacketParams,
        response: { 200: GrabResultJson, 201: GrabResultJson, ...problemResponses(400, 401, 404, 409, 410, 422, 429) },
      },
    },
    async (request, reply) => {
      const outcome = await redPackets.grab(currentUser(request), request.params.id);
      return reply.code(outcome.created ? 201 : 200).send(toGrabResultJson(outcome));
    },
  );
  return Promise.resolve();
};
