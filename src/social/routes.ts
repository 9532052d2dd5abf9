import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { problemResponses } from '../http/problem.ts';
import { authenticateUser, currentUser, type Identity } from '../identity/index.ts';
import { pageLimit } from './model.ts';
import {
  CreateGroupBody,
  FriendIdParams,
  FriendJson,
  FriendRequestJson,
  GroupDetailJson,
  GroupIdParams,
  GroupSummaryJson,
  InviteBody,
  LeaveJson,
  mapPage,
  PageQuery,
  pageJson,
  RequestIdParams,
  RequestListQuery,
  SendRequestBody,
  toFriendJson,
  toFriendRequestJson,
  toGroupDetailJson,
  toGroupSummaryJson,
} from './schemas.ts';
import type { Social } from './service.ts';

export interface SocialRoutesOptions {
  readonly social: Social;
  readonly identity: Identity;
  /** Friend requests one user may send per minute. */
  readonly requestRateMax: number;
}

const tags = ['social'];

/**
 * Friend requests, the friend list and groups, for the signed-in user. Every POST requires an
 * Idempotency-Key (a retried accept or invite returns the first answer); ids of requests and
 * groups the caller is not party to answer 404 exactly like missing ones.
 */
export const socialRoutes: FastifyPluginAsyncTypebox<SocialRoutesOptions> = (app, options) => {
  const { social } = options;
  const onRequest = authenticateUser(options.identity);
  registerRequestRoutes(app, social, onRequest, options.requestRateMax);
  registerAnswerRoutes(app, social, onRequest);
  registerFriendRoutes(app, social, onRequest);
  registerGroupRoutes(app, social, onRequest);
  registerMembershipRoutes(app, social, onRequest);
  return Promise.resolve();
};

type App = Parameters<FastifyPluginAsyncTypebox<SocialRoutesOptions>>[0];
type OnRequest = ReturnType<typeof authenticateUser>;

function registerRequestRoutes(
  app: App,
  social: Social,
  onRequest: OnRequest,
  rateMax: number,
): void {
  // Keyed by the signed-in user: the rate-limit hook runs after authentication on the same hook.
  const requestRate = {
    max: rateMax,
    timeWindow: 60_000,
    keyGenerator: (request: FastifyRequest) => request.principal ?? request.ip,
  };

  app.post(
    '/friend-requests',
    {
      onRequest,
      config: { idempotent: true, rateLimit: requestRate },
      schema: {
        summary: 'Send a friend request by mobile number or user id',
        description:
          'If the recipient already asked you, this accepts their request instead and answers 200 with it.',
        tags,
        body: SendRequestBody,
        response: {
          201: FriendRequestJson,
          200: FriendRequestJson,
          ...problemResponses(400, 401, 404, 409, 422, 429),
        },
      },
    },
    async (request, reply) => {
      const result = await social.sendFriendRequest(currentUser(request).id, request.body);
      return reply.code(result.autoAccepted ? 200 : 201).send(toFriendRequestJson(result.request));
    },
  );

  app.get(
    '/friend-requests',
    {
      onRequest,
      schema: {
        summary: 'Pending friend requests to me (incoming) or from me (outgoing), newest first',
        tags,
        querystring: RequestListQuery,
        response: { 200: pageJson(FriendRequestJson), ...problemResponses(400, 401) },
      },
    },
    async (request) => {
      const { direction = 'incoming', cursor, limit } = request.query;
      const page = await social.listFriendRequests(currentUser(request).id, direction, {
        cursor,
        limit: pageLimit(limit),
      });
      return mapPage(page, toFriendRequestJson);
    },
  );

  app.get(
    '/friend-requests/:requestId',
    {
      onRequest,
      schema: {
        summary: 'A friend request I sent or received',
        tags,
        params: RequestIdParams,
        response: { 200: FriendRequestJson, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) =>
      toFriendRequestJson(
        await social.getFriendRequest(currentUser(request).id, request.params.requestId),
      ),
  );
}

/** Accept and decline (the recipient's) and cancel (the sender's) share one shape. */
function registerAnswerRoutes(app: App, social: Social, onRequest: OnRequest): void {
  const answers = [
    {
      action: 'accept',
      summary: 'Accept a friend request sent to me',
      run: social.acceptFriendRequest.bind(social),
    },
    {
      action: 'decline',
      summary: 'Decline a friend request sent to me',
      run: social.declineFriendRequest.bind(social),
    },
    {
      action: 'cancel',
      summary: 'Cancel a friend request I sent',
      run: social.cancelFriendRequest.bind(social),
    },
  ] as const;
  for (const answer of answers) {
    app.post(
      `/friend-requests/:requestId/${answer.action}`,
      {
        onRequest,
        config: { idempotent: true },
        schema: {
          summary: answer.summary,
          tags,
          params: RequestIdParams,
          response: { 200: FriendRequestJson, ...problemResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request) =>
        toFriendRequestJson(await answer.run(currentUser(request).id, request.params.requestId)),
    );
  }
}

function registerFriendRoutes(app: App, social: Social, onRequest: OnRequest): void {
  app.get(
    '/friends',
    {
      onRequest,
      schema: {
        summary: 'My friends, sorted by name',
        tags,
        querystring: PageQuery,
        response: { 200: pageJson(FriendJson), ...problemResponses(400, 401) },
      },
    },
    async (request) => {
      const page = await social.listFriends(currentUser(request).id, {
        cursor: request.query.cursor,
        limit: pageLimit(request.query.limit),
      });
      return mapPage(page, toFriendJson);
    },
  );

  app.delete(
    '/friends/:userId',
    {
      onRequest,
      schema: {
        summary: 'Remove a friend (on both sides; shared groups stay)',
        tags,
        params: FriendIdParams,
        response: { 204: Type.Null(), ...problemResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await social.removeFriend(currentUser(request).id, request.params.userId);
      return reply.code(204).send(null);
    },
  );
}

function registerGroupRoutes(app: App, social: Social, onRequest: OnRequest): void {
  const groups = social.groups;

  app.post(
    '/groups',
    {
      onRequest,
      config: { idempotent: true },
      schema: {
        summary: 'Create a group with some of my friends',
        tags,
        body: CreateGroupBody,
        response: { 201: GroupDetailJson, ...problemResponses(400, 401, 409, 422) },
      },
    },
    async (request, reply) => {
      const group = await groups.createGroup(currentUser(request).id, request.body);
      return reply.code(201).send(toGroupDetailJson(group));
    },
  );

  app.get(
    '/groups',
    {
      onRequest,
      schema: {
        summary: 'The groups I am in, most recently joined first',
        tags,
        querystring: PageQuery,
        response: { 200: pageJson(GroupSummaryJson), ...problemResponses(400, 401) },
      },
    },
    async (request) => {
      const page = await groups.listGroups(currentUser(request).id, {
        cursor: request.query.cursor,
        limit: pageLimit(request.query.limit),
      });
      return mapPage(page, toGroupSummaryJson);
    },
  );

  app.get(
    '/groups/:groupId',
    {
      onRequest,
      schema: {
        summary: 'A group I am in, with its members',
        tags,
        params: GroupIdParams,
        response: { 200: GroupDetailJson, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) =>
      toGroupDetailJson(await groups.getGroup(currentUser(request).id, request.params.groupId)),
  );
}

/** Adding a friend to a group and leaving it: both change membership under the group's lock. */
function registerMembershipRoutes(app: App, social: Social, onRequest: OnRequest): void {
  const groups = social.groups;

  app.post(
    '/groups/:groupId/members',
    {
      onRequest,
      config: { idempotent: true },
      schema: {
        summary: 'Add a friend of mine to a group I am in',
        tags,
        params: GroupIdParams,
        body: InviteBody,
        response: { 201: GroupDetailJson, ...problemResponses(400, 401, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const group = await groups.inviteMember(
        currentUser(request).id,
        request.params.groupId,
        request.body.userId,
      );
      return reply.code(201).send(toGroupDetailJson(group));
    },
  );

  app.post(
    '/groups/:groupId/leave',
    {
      onRequest,
      config: { idempotent: true },
      schema: {
        summary:
          'Leave a group; an owner hands it to the longest-standing member, the last one dissolves it',
        tags,
        params: GroupIdParams,
        response: { 200: LeaveJson, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => groups.leaveGroup(currentUser(request).id, request.params.groupId),
  );
}
