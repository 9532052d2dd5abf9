/**
 * Goal: the social graph end to end — friend requests (send by mobile or id, accept, decline,
 * cancel, the crossing request), the friend list (sorted, paged, masked mobiles), removing a
 * friend, groups (create, invite, leave with the owner hand-off and dissolution), the limits,
 * object-level authorization (another user's request or group answers 404 like a missing one),
 * every error in precedence order, and replay with the same Idempotency-Key.
 * Method: the whole app on a test schema and a fake clock, through app.inject(); limits are
 * exercised on a second Social service with small caps over the same database.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { Social } from '../../src/social/index.ts';
import {
  asUser,
  createTestApp,
  nextMobile,
  testPassword,
  type TestApp,
  type TestUser,
} from '../../src/testing/app.ts';

interface RequestJson {
  id: string;
  state: string;
  message: string | null;
  from: { userId: string; displayName: string; mobileMasked: string };
  to: { userId: string; displayName: string; mobileMasked: string };
  resolvedAt: string | null;
}
interface PageJson<T> {
  items: T[];
  nextCursor: string | null;
}
interface FriendJson {
  userId: string;
  displayName: string;
  mobileMasked: string;
}
interface GroupJson {
  id: string;
  name: string;
  ownerId: string;
  memberCount: number;
  members: { userId: string; isOwner: boolean; mobileMasked: string }[];
}

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => {
  await t.close();
});

function expectProblem(
  response: LightMyRequestResponse,
  status: number,
  code: string,
  label = '',
): void {
  assert.equal(response.statusCode, status, `${label} ${response.body}`);
  assert.match(String(response.headers['content-type']), /application\/problem\+json/);
  assert.equal(response.json<{ code: string }>().code, code, label);
}

/** A call with the user's token but no Idempotency-Key. */
function withoutKey(
  user: TestUser,
  method: 'POST' | 'DELETE',
  url: string,
  payload?: Record<string, unknown>,
) {
  return t.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${user.token}` },
    ...(payload === undefined ? {} : { payload }),
  });
}

/**
 * Signs a user up through the service: the HTTP sign-up is rate-limited per address (20 a
 * minute), and these tests need more people than that.
 */
async function newUser(displayName: string): Promise<TestUser> {
  const session = await t.app.identity.signUp({
    mobile: nextMobile(),
    password: testPassword,
    displayName,
  });
  const { id, mobile, walletAccountId } = session.user;
  return { id, mobile, walletAccountId, token: session.token };
}

async function sendRequest(from: TestUser, to: TestUser, message?: string): Promise<RequestJson> {
  const response = await asUser(t.app, from, 'POST', '/v1/friend-requests', {
    userId: to.id,
    ...(message === undefined ? {} : { message }),
  });
  assert.equal(response.statusCode, 201, response.body);
  t.clock.advance(1); // request ids are time-ordered; distinct instants make "newest first" exact
  return response.json<RequestJson>();
}

async function befriend(a: TestUser, b: TestUser): Promise<void> {
  const request = await sendRequest(a, b);
  const accepted = await asUser(t.app, b, 'POST', `/v1/friend-requests/${request.id}/accept`);
  assert.equal(accepted.statusCode, 200, accepted.body);
}

async function createGroup(owner: TestUser, name: string, members: TestUser[]): Promise<GroupJson> {
  const response = await asUser(t.app, owner, 'POST', '/v1/groups', {
    name,
    memberIds: members.map((member) => member.id),
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json<GroupJson>();
}

const unknownRequestId = () => `frq_${t.app.ids.next('grp').slice(4)}`;

/** A Social service over the test database with small caps, to reach the limits quickly. */
function smallSocial(limits: ConstructorParameters<typeof Social>[0]['limits']): Social {
  return new Social({
    sql: t.db.sql,
    clock: t.clock,
    ids: t.app.ids,
    users: t.app.identity,
    ...(limits === undefined ? {} : { limits }),
  });
}

describe('friend requests', () => {
  test('send by mobile, see it on both sides, accept; nobody sees the other full mobile', async () => {
    const [a, b] = [await newUser('Amy'), await newUser('Ben')];
    const sent = await asUser(t.app, a, 'POST', '/v1/friend-requests', {
      mobile: b.mobile,
      message: '  hi, Amy here ',
    });
    assert.equal(sent.statusCode, 201, sent.body);
    const request = sent.json<RequestJson>();
    assert.equal(request.state, 'pending');
    assert.equal(request.message, 'hi, Amy here');
    assert.equal(request.to.mobileMasked, `${b.mobile.slice(0, 3)}****${b.mobile.slice(-4)}`);
    assert.ok(!sent.body.includes(b.mobile), 'the full mobile never leaves');
    const outgoing = await asUser(t.app, a, 'GET', '/v1/friend-requests?direction=outgoing');
    assert.deepEqual(
      outgoing.json<PageJson<RequestJson>>().items.map((item) => item.id),
      [request.id],
    );
    const incoming = await asUser(t.app, b, 'GET', '/v1/friend-requests');
    assert.deepEqual(
      incoming.json<PageJson<RequestJson>>().items.map((item) => item.id),
      [request.id],
    );
    assert.equal(
      (await asUser(t.app, b, 'GET', `/v1/friend-requests/${request.id}`)).statusCode,
      200,
    );

    const accepted = await asUser(t.app, b, 'POST', `/v1/friend-requests/${request.id}/accept`);
    assert.equal(accepted.statusCode, 200, accepted.body);
    assert.equal(accepted.json<RequestJson>().state, 'accepted');
    assert.notEqual(accepted.json<RequestJson>().resolvedAt, null);
    assert.equal(
      (await asUser(t.app, b, 'GET', '/v1/friend-requests')).json<PageJson<RequestJson>>().items
        .length,
      0,
    );
    const friends = await asUser(t.app, a, 'GET', '/v1/friends');
    assert.equal(friends.statusCode, 200);
    assert.deepEqual(
      friends.json<PageJson<FriendJson>>().items.map((f) => [f.userId, f.displayName]),
      [[b.id, 'Ben']],
    );
    assert.ok(!friends.body.includes(b.mobile));
    assert.equal(await t.app.social.areFriends(a.id, b.id), true);
    assert.equal(await t.app.social.areFriends(b.id, a.id), true);
    assert.deepEqual(await t.app.social.listFriendIds(b.id), [a.id]);
  });

  test('decline and cancel; a resolved request cannot be answered again; send again after a decline', async () => {
    const [a, c] = [await newUser('Ann'), await newUser('Cid')];
    const first = await sendRequest(a, c);
    expectProblem(
      await asUser(t.app, a, 'POST', `/v1/friend-requests/${first.id}/accept`),
      403,
      'social.recipient_only',
    );
    expectProblem(
      await asUser(t.app, a, 'POST', `/v1/friend-requests/${first.id}/decline`),
      403,
      'social.recipient_only',
    );
    expectProblem(
      await asUser(t.app, c, 'POST', `/v1/friend-requests/${first.id}/cancel`),
      403,
      'social.sender_only',
    );
    const declined = await asUser(t.app, c, 'POST', `/v1/friend-requests/${first.id}/decline`);
    assert.equal(declined.json<RequestJson>().state, 'declined');
    expectProblem(
      await asUser(t.app, c, 'POST', `/v1/friend-requests/${first.id}/accept`),
      409,
      'social.request_not_pending',
    );

    const second = await sendRequest(a, c);
    const cancelled = await asUser(t.app, a, 'POST', `/v1/friend-requests/${second.id}/cancel`);
    assert.equal(cancelled.json<RequestJson>().state, 'cancelled');
    expectProblem(
      await asUser(t.app, a, 'POST', `/v1/friend-requests/${second.id}/cancel`),
      409,
      'social.request_not_pending',
    );
    expectProblem(
      await asUser(t.app, c, 'POST', `/v1/friend-requests/${second.id}/decline`),
      409,
      'social.request_not_pending',
    );
    assert.equal(await t.app.social.areFriends(a.id, c.id), false);
  });

  test('a request to someone who already asked you accepts theirs (200, one friendship)', async () => {
    const [b, d] = [await newUser('Bo'), await newUser('Di')];
    const theirs = await sendRequest(b, d);
    const crossing = await asUser(t.app, d, 'POST', '/v1/friend-requests', { mobile: b.mobile });
    assert.equal(crossing.statusCode, 200, crossing.body);
    assert.equal(crossing.json<RequestJson>().id, theirs.id);
    assert.equal(crossing.json<RequestJson>().state, 'accepted');
    assert.equal(await t.app.social.areFriends(b.id, d.id), true);
    expectProblem(
      await asUser(t.app, b, 'POST', '/v1/friend-requests', { userId: d.id }),
      409,
      'social.already_friends',
    );
  });

  test('POST /friend-requests refuses in precedence order and changes nothing', async () => {
    const [a, b] = [await newUser('Ada'), await newUser('Bea')];
    const path = '/v1/friend-requests';
    expectProblem(
      await asUser(t.app, null, 'POST', path, { bogus: 1 }, { 'idempotency-key': '' }),
      401,
      'request.unauthorized',
      'no token',
    );
    expectProblem(
      await withoutKey(a, 'POST', path, { bogus: 1 }),
      400,
      'idempotency.key_required',
      'no key',
    );
    const schemaCases: [Record<string, unknown>, string][] = [
      [{ userId: b.id, bogus: 1 }, 'unknown field'],
      [{ mobile: 13900000000 }, 'mobile as a number'],
      [{ userId: 'usr_1' }, 'malformed user id'],
      [{ userId: t.app.ids.next('grp') }, 'an id of another kind'],
      [{ userId: b.id, message: 'x'.repeat(61) }, 'message too long'],
      [{}, 'neither mobile nor userId'],
      [{ mobile: b.mobile, userId: b.id }, 'both mobile and userId'],
    ];
    for (const [payload, label] of schemaCases)
      expectProblem(await asUser(t.app, a, 'POST', path, payload), 400, 'request.invalid', label);
    expectProblem(
      await asUser(t.app, a, 'POST', path, { mobile: '12345678901' }),
      400,
      'identity.mobile_invalid',
    );
    expectProblem(
      await asUser(t.app, a, 'POST', path, { mobile: '13000000001' }),
      404,
      'social.user_not_found',
      'unknown mobile',
    );
    expectProblem(
      await asUser(t.app, a, 'POST', path, { userId: t.app.ids.next('usr') }),
      404,
      'social.user_not_found',
      'unknown id',
    );
    expectProblem(
      await asUser(t.app, a, 'POST', path, { mobile: a.mobile }),
      422,
      'social.cannot_befriend_self',
      'self by mobile',
    );
    expectProblem(
      await asUser(t.app, a, 'POST', path, { userId: a.id }),
      422,
      'social.cannot_befriend_self',
      'self by id',
    );
    const rows = await t.db.sql<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM social_friend_requests WHERE from_user_id = ${a.id}`;
    assert.equal(rows[0]?.n, 0);
    const request = await sendRequest(a, b);
    const duplicate = await asUser(t.app, a, 'POST', path, { mobile: b.mobile });
    expectProblem(duplicate, 409, 'social.request_pending');
    assert.equal(duplicate.json<{ requestId: string }>().requestId, request.id);
    await asUser(t.app, b, 'POST', `/v1/friend-requests/${request.id}/accept`);
    expectProblem(
      await asUser(t.app, a, 'POST', path, { userId: b.id }),
      409,
      'social.already_friends',
    );
  });

  test('the same Idempotency-Key replays the first answer; a different body with it is refused', async () => {
    const [a, b] = [await newUser('Al'), await newUser('Bu')];
    const headers = { 'idempotency-key': 'send-once-1' };
    const first = await asUser(
      t.app,
      a,
      'POST',
      '/v1/friend-requests',
      { userId: b.id, message: 'hey' },
      headers,
    );
    assert.equal(first.statusCode, 201);
    const again = await asUser(
      t.app,
      a,
      'POST',
      '/v1/friend-requests',
      { userId: b.id, message: 'hey' },
      headers,
    );
    assert.equal(again.statusCode, 201);
    assert.equal(again.headers['idempotency-replayed'], 'true');
    assert.equal(again.json<RequestJson>().id, first.json<RequestJson>().id);
    expectProblem(
      await asUser(t.app, a, 'POST', '/v1/friend-requests', { userId: b.id }, headers),
      422,
      'idempotency.key_reused',
    );

    const acceptUrl = `/v1/friend-requests/${first.json<RequestJson>().id}/accept`;
    const accepted = await asUser(t.app, b, 'POST', acceptUrl, undefined, {
      'idempotency-key': 'accept-once-1',
    });
    const replayed = await asUser(t.app, b, 'POST', acceptUrl, undefined, {
      'idempotency-key': 'accept-once-1',
    });
    assert.equal(accepted.statusCode, 200);
    assert.equal(replayed.statusCode, 200);
    assert.equal(replayed.headers['idempotency-replayed'], 'true');
    assert.equal(replayed.body, accepted.body);
  });

  test('answering and reading refuse in order: 401, 400 key, 400 id, 404 unknown or not yours, 403, 409', async () => {
    const [a, b, c] = [await newUser('Avi'), await newUser('Bel'), await newUser('Cy')];
    const request = await sendRequest(a, b);
    for (const action of ['accept', 'decline', 'cancel']) {
      const url = `/v1/friend-requests/${request.id}/${action}`;
      expectProblem(await asUser(t.app, null, 'POST', url), 401, 'request.unauthorized', action);
      expectProblem(await withoutKey(b, 'POST', url), 400, 'idempotency.key_required', action);
      expectProblem(
        await asUser(t.app, b, 'POST', `/v1/friend-requests/frq_nope/${action}`),
        400,
        'request.invalid',
        action,
      );
      expectProblem(
        await asUser(t.app, b, 'POST', `/v1/friend-requests/${unknownRequestId()}/${action}`),
        404,
        'social.request_not_found',
        action,
      );
      expectProblem(
        await asUser(t.app, c, 'POST', url),
        404,
        'social.request_not_found',
        `${action} by a third user`,
      );
    }
    expectProblem(
      await asUser(t.app, null, 'GET', `/v1/friend-requests/${request.id}`),
      401,
      'request.unauthorized',
    );
    expectProblem(
      await asUser(t.app, c, 'GET', `/v1/friend-requests/${request.id}`),
      404,
      'social.request_not_found',
    );
    expectProblem(
      await asUser(t.app, c, 'GET', `/v1/friend-requests/${unknownRequestId()}`),
      404,
      'social.request_not_found',
    );
    expectProblem(
      await asUser(t.app, c, 'GET', '/v1/friend-requests?direction=sideways'),
      400,
      'request.invalid',
    );
    expectProblem(
      await asUser(t.app, null, 'GET', '/v1/friend-requests'),
      401,
      'request.unauthorized',
    );
    assert.equal(
      (await asUser(t.app, b, 'GET', `/v1/friend-requests/${request.id}`)).json<RequestJson>()
        .state,
      'pending',
    );
  });

  test('pending requests page newest first', async () => {
    const [x, ...senders] = [
      await newUser('Xi'),
      await newUser('S1'),
      await newUser('S2'),
      await newUser('S3'),
    ];
    const sent: string[] = [];
    for (const sender of senders) sent.push((await sendRequest(sender, x)).id);
    const first = (await asUser(t.app, x, 'GET', '/v1/friend-requests?limit=2')).json<
      PageJson<RequestJson>
    >();
    assert.deepEqual(
      first.items.map((item) => item.id),
      [sent[2], sent[1]],
    );
    assert.ok(first.nextCursor !== null);
    const second = (
      await asUser(t.app, x, 'GET', `/v1/friend-requests?limit=2&cursor=${first.nextCursor}`)
    ).json<PageJson<RequestJson>>();
    assert.deepEqual(
      second.items.map((item) => item.id),
      [sent[0]],
    );
    assert.equal(second.nextCursor, null);
    // A cursor of incoming requests means nothing for outgoing ones.
    expectProblem(
      await asUser(
        t.app,
        x,
        'GET',
        `/v1/friend-requests?direction=outgoing&cursor=${first.nextCursor}`,
      ),
      400,
      'request.invalid',
    );
  });

  test('concurrent duplicates open one request; concurrent crossing requests make one friendship', async () => {
    const [a, b, c] = [await newUser('Cal'), await newUser('Dot'), await newUser('Eon')];
    const sends = await Promise.all(
      Array.from({ length: 5 }, () =>
        asUser(t.app, a, 'POST', '/v1/friend-requests', { userId: b.id }),
      ),
    );
    assert.deepEqual(
      sends.map((response) => response.statusCode).sort(),
      [201, 409, 409, 409, 409],
    );
    const crossing = await Promise.all([
      asUser(t.app, a, 'POST', '/v1/friend-requests', { userId: c.id }),
      asUser(t.app, c, 'POST', '/v1/friend-requests', { userId: a.id }),
    ]);
    assert.deepEqual(crossing.map((response) => response.statusCode).sort(), [200, 201]);
    assert.equal(await t.app.social.areFriends(a.id, c.id), true);
    const rows = await t.db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM social_friendships WHERE user_id = ${a.id} OR friend_id = ${a.id}`;
    assert.equal(rows[0]?.n, 2);
  });

  test('sending is rate-limited per user (30 a minute), not per address', async () => {
    const [spammer, bystander] = [await newUser('Spam'), await newUser('Calm')];
    let status = 0;
    for (let attempt = 0; attempt < 31 && status !== 429; attempt++) {
      status = (await asUser(t.app, spammer, 'POST', '/v1/friend-requests', { userId: spammer.id }))
        .statusCode;
    }
    assert.equal(status, 429);
    expectProblem(
      await asUser(t.app, spammer, 'POST', '/v1/friend-requests', { userId: bystander.id }),
      429,
      'request.rate_limited',
    );
    expectProblem(
      await asUser(t.app, bystander, 'POST', '/v1/friend-requests', { userId: bystander.id }),
      422,
      'social.cannot_befriend_self',
    );
  });

  test('one user may have only so many requests waiting, and a friend list is capped', async () => {
    const [a, b, c] = [await newUser('Ola'), await newUser('Pia'), await newUser('Quy')];
    const capped = smallSocial({ pendingOutgoingMax: 1, friendCountMax: 1 });
    await capped.sendFriendRequest(a.id, { userId: b.id });
    await assert.rejects(capped.sendFriendRequest(a.id, { userId: c.id }), {
      code: 'social.pending_limit_reached',
    });
    const toA = await capped.sendFriendRequest(c.id, { userId: a.id });
    const fromA = (await capped.listFriendRequests(a.id, 'outgoing', { limit: 10 })).items[0];
    assert.ok(fromA !== undefined);
    await capped.acceptFriendRequest(b.id, fromA.id);
    await assert.rejects(capped.acceptFriendRequest(a.id, toA.request.id), {
      code: 'social.friend_limit_reached',
    });
    assert.equal(
      (await capped.getFriendRequest(a.id, toA.request.id)).state,
      'pending',
      'a refused accept changes nothing',
    );
  });
});

describe('the friend list', () => {
  test('sorted by name, paged with a cursor, with bounded page sizes', async () => {
    const owner = await newUser('Zed');
    const names = ['Dana', 'Ava', 'Cleo', 'Bree', 'Eli'];
    for (const name of names) await befriend(owner, await newUser(name));
    const seen: string[] = [];
    let url = '/v1/friends?limit=2';
    for (let pageIndex = 0; pageIndex < 5; pageIndex++) {
      const page = (await asUser(t.app, owner, 'GET', url)).json<PageJson<FriendJson>>();
      seen.push(...page.items.map((item) => item.displayName));
      if (page.nextCursor === null) break;
      url = `/v1/friends?limit=2&cursor=${page.nextCursor}`;
    }
    assert.deepEqual(seen, [...names].sort());
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'cursor=bm9wZQ', 'sort=name']) {
      expectProblem(
        await asUser(t.app, owner, 'GET', `/v1/friends?${query}`),
        400,
        'request.invalid',
        query,
      );
    }
    expectProblem(await asUser(t.app, null, 'GET', '/v1/friends'), 401, 'request.unauthorized');
  });

  test('removing a friend ends it on both sides; not a friend is 404; they can befriend again', async () => {
    const [a, b, stranger] = [await newUser('Rae'), await newUser('Sol'), await newUser('Tam')];
    await befriend(a, b);
    expectProblem(
      await asUser(t.app, null, 'DELETE', `/v1/friends/${b.id}`),
      401,
      'request.unauthorized',
    );
    expectProblem(await asUser(t.app, a, 'DELETE', '/v1/friends/usr_x'), 400, 'request.invalid');
    expectProblem(
      await asUser(t.app, a, 'DELETE', `/v1/friends/${stranger.id}`),
      404,
      'social.friend_not_found',
    );
    expectProblem(
      await asUser(t.app, a, 'DELETE', `/v1/friends/${t.app.ids.next('usr')}`),
      404,
      'social.friend_not_found',
    );
    assert.equal((await asUser(t.app, a, 'DELETE', `/v1/friends/${b.id}`)).statusCode, 204);
    expectProblem(
      await asUser(t.app, a, 'DELETE', `/v1/friends/${b.id}`),
      404,
      'social.friend_not_found',
    );
    assert.equal(
      (await asUser(t.app, b, 'GET', '/v1/friends')).json<PageJson<FriendJson>>().items.length,
      0,
    );
    assert.equal(await t.app.social.areFriends(b.id, a.id), false);
    await befriend(b, a);
  });
});

describe('groups', () => {
  test('create, list, read; creation refuses in precedence order and replays by key', async () => {
    const [a, b, stranger] = [await newUser('Gia'), await newUser('Hal'), await newUser('Ivo')];
    await befriend(a, b);
    const path = '/v1/groups';
    expectProblem(
      await asUser(t.app, null, 'POST', path, { bogus: 1 }),
      401,
      'request.unauthorized',
    );
    expectProblem(await withoutKey(a, 'POST', path, { bogus: 1 }), 400, 'idempotency.key_required');
    const schemaCases: [Record<string, unknown>, string][] = [
      [{ name: 'Team', bogus: 1 }, 'unknown field'],
      [{}, 'no name'],
      [{ name: '' }, 'empty name'],
      [{ name: '   ' }, 'blank name'],
      [{ name: 'x'.repeat(31) }, 'name too long'],
      [{ name: 'Team', memberIds: ['usr_1'] }, 'malformed member id'],
      [{ name: 'Team', memberIds: [b.id, b.id] }, 'repeated member'],
      [
        { name: 'Team', memberIds: Array.from({ length: 101 }, () => t.app.ids.next('usr')) },
        'too many members',
      ],
    ];
    for (const [payload, label] of schemaCases)
      expectProblem(await asUser(t.app, a, 'POST', path, payload), 400, 'request.invalid', label);
    const notFriend = await asUser(t.app, a, 'POST', path, {
      name: 'Team',
      memberIds: [b.id, stranger.id, t.app.ids.next('usr')],
    });
    expectProblem(notFriend, 422, 'social.not_friend');
    assert.equal(notFriend.json<{ userIds: string[] }>().userIds.length, 2);

    const headers = { 'idempotency-key': 'create-team-1' };
    const created = await asUser(
      t.app,
      a,
      'POST',
      path,
      { name: ' Team ', memberIds: [b.id, a.id] },
      headers,
    );
    assert.equal(created.statusCode, 201, created.body);
    const group = created.json<GroupJson>();
    assert.equal(group.name, 'Team');
    assert.equal(group.ownerId, a.id);
    assert.deepEqual(
      group.members.map((m) => [m.userId, m.isOwner]),
      [
        [a.id, true],
        [b.id, false],
      ],
    );
    assert.ok(!created.body.includes(b.mobile));
    const replay = await asUser(
      t.app,
      a,
      'POST',
      path,
      { name: ' Team ', memberIds: [b.id, a.id] },
      headers,
    );
    assert.equal(replay.headers['idempotency-replayed'], 'true');
    assert.equal(replay.json<GroupJson>().id, group.id);

    const mine = (await asUser(t.app, b, 'GET', '/v1/groups')).json<
      PageJson<{ id: string; memberCount: number }>
    >();
    assert.deepEqual(
      mine.items.map((item) => [item.id, item.memberCount]),
      [[group.id, 2]],
    );
    assert.equal((await asUser(t.app, b, 'GET', `/v1/groups/${group.id}`)).statusCode, 200);
    expectProblem(
      await asUser(t.app, stranger, 'GET', `/v1/groups/${group.id}`),
      404,
      'social.group_not_found',
    );
    expectProblem(
      await asUser(t.app, a, 'GET', `/v1/groups/${t.app.ids.next('grp')}`),
      404,
      'social.group_not_found',
    );
    expectProblem(await asUser(t.app, a, 'GET', '/v1/groups/grp_1'), 400, 'request.invalid');
    expectProblem(await asUser(t.app, null, 'GET', '/v1/groups'), 401, 'request.unauthorized');
    assert.equal(await t.app.social.isGroupMember(group.id, b.id), true);
    assert.deepEqual(await t.app.social.listGroupMemberIds(group.id), [a.id, b.id]);
  });

  test('my groups page most recently joined first', async () => {
    const a = await newUser('Kai');
    const ids: string[] = [];
    for (const name of ['One', 'Two', 'Three']) ids.push((await createGroup(a, name, [])).id);
    const first = (await asUser(t.app, a, 'GET', '/v1/groups?limit=2')).json<
      PageJson<{ id: string }>
    >();
    assert.deepEqual(
      first.items.map((item) => item.id),
      [ids[2], ids[1]],
    );
    const second = (
      await asUser(t.app, a, 'GET', `/v1/groups?limit=2&cursor=${first.nextCursor ?? ''}`)
    ).json<PageJson<{ id: string }>>();
    assert.deepEqual(
      second.items.map((item) => item.id),
      [ids[0]],
    );
    assert.equal(second.nextCursor, null);
    expectProblem(await asUser(t.app, a, 'GET', '/v1/groups?cursor=!!'), 400, 'request.invalid');
  });

  test('inviting refuses in precedence order: 401, 400 key, 400 body, 404, 409 member, 422 not a friend', async () => {
    const [a, b, c, d] = [
      await newUser('Lu'),
      await newUser('Mo'),
      await newUser('Ned'),
      await newUser('Oz'),
    ];
    await befriend(a, b);
    await befriend(a, d);
    const group = await createGroup(a, 'Club', [b]);
    const url = `/v1/groups/${group.id}/members`;
    expectProblem(
      await asUser(t.app, null, 'POST', url, { userId: c.id }),
      401,
      'request.unauthorized',
    );
    expectProblem(
      await withoutKey(a, 'POST', url, { userId: c.id }),
      400,
      'idempotency.key_required',
    );
    expectProblem(
      await asUser(t.app, a, 'POST', url, { userId: c.id, role: 'admin' }),
      400,
      'request.invalid',
    );
    expectProblem(await asUser(t.app, a, 'POST', url, { userId: 'c' }), 400, 'request.invalid');
    expectProblem(
      await asUser(t.app, a, 'POST', `/v1/groups/${t.app.ids.next('grp')}/members`, {
        userId: d.id,
      }),
      404,
      'social.group_not_found',
    );
    expectProblem(
      await asUser(t.app, c, 'POST', url, { userId: c.id }),
      404,
      'social.group_not_found',
      'a non-member invites',
    );
    expectProblem(
      await asUser(t.app, a, 'POST', url, { userId: b.id }),
      409,
      'social.already_member',
    );
    expectProblem(await asUser(t.app, a, 'POST', url, { userId: c.id }), 422, 'social.not_friend');
    const invited = await asUser(t.app, a, 'POST', url, { userId: d.id });
    assert.equal(invited.statusCode, 201, invited.body);
    assert.deepEqual(
      invited.json<GroupJson>().members.map((m) => m.userId),
      [a.id, b.id, d.id],
    );
    assert.equal(invited.json<GroupJson>().memberCount, 3);
  });

  test('a group is capped, and so is the number of groups a user is in', async () => {
    const [a, b, c] = [await newUser('Pat'), await newUser('Quin'), await newUser('Ros')];
    await befriend(a, b);
    await befriend(a, c);
    const capped = smallSocial({ groupMemberCountMax: 2, groupsPerUserMax: 2 });
    await assert.rejects(
      capped.groups.createGroup(a.id, { name: 'Big', memberIds: [b.id, c.id] }),
      { code: 'social.group_full' },
    );
    const pair = await capped.groups.createGroup(a.id, { name: 'Pair', memberIds: [b.id] });
    await assert.rejects(capped.groups.inviteMember(a.id, pair.id, c.id), {
      code: 'social.group_full',
    });
    await capped.groups.createGroup(a.id, { name: 'Second', memberIds: [] });
    await assert.rejects(capped.groups.createGroup(a.id, { name: 'Third', memberIds: [] }), {
      code: 'social.group_limit_reached',
    });
    const solo = await capped.groups.createGroup(c.id, { name: 'Solo', memberIds: [] });
    await capped.groups.createGroup(b.id, { name: 'B2', memberIds: [] });
    await assert.rejects(capped.groups.inviteMember(c.id, solo.id, a.id), {
      code: 'social.group_limit_reached',
    });
    assert.equal(
      (await capped.groups.getGroup(c.id, solo.id)).memberCount,
      1,
      'a refused invite changes nothing',
    );
  });

  test('leave: 401, 400 key, 404; the owner hands over to the longest-standing member; the last one dissolves it', async () => {
    const [a, b, c] = [await newUser('Uma'), await newUser('Vic'), await newUser('Wes')];
    await befriend(a, b);
    await befriend(a, c);
    const group = await createGroup(a, 'Trio', [c, b]);
    const url = `/v1/groups/${group.id}/leave`;
    expectProblem(await asUser(t.app, null, 'POST', url), 401, 'request.unauthorized');
    expectProblem(await withoutKey(a, 'POST', url), 400, 'idempotency.key_required');
    expectProblem(await asUser(t.app, a, 'POST', '/v1/groups/nope/leave'), 400, 'request.invalid');
    expectProblem(
      await asUser(t.app, a, 'POST', `/v1/groups/${t.app.ids.next('grp')}/leave`),
      404,
      'social.group_not_found',
    );
    const left = await asUser(t.app, a, 'POST', url, undefined, { 'idempotency-key': 'leave-1' });
    assert.deepEqual(left.json(), { groupId: group.id, dissolved: false, ownerId: c.id });
    const replay = await asUser(t.app, a, 'POST', url, undefined, { 'idempotency-key': 'leave-1' });
    assert.equal(replay.headers['idempotency-replayed'], 'true');
    expectProblem(
      await asUser(t.app, a, 'POST', url),
      404,
      'social.group_not_found',
      'leaving twice',
    );
    assert.deepEqual((await asUser(t.app, b, 'POST', url)).json(), {
      groupId: group.id,
      dissolved: false,
      ownerId: c.id,
    });
    assert.deepEqual((await asUser(t.app, c, 'POST', url)).json(), {
      groupId: group.id,
      dissolved: true,
      ownerId: null,
    });
    expectProblem(
      await asUser(t.app, c, 'GET', `/v1/groups/${group.id}`),
      404,
      'social.group_not_found',
    );
    assert.equal(await t.app.social.isGroupMember(group.id, c.id), false);
  });
});

describe('three users', () => {
  test('A befriends B, C sees none of it; A and B form a group; B adds C only once they are friends; leaving hands over', async () => {
    const [a, b, c] = [await newUser('Alice'), await newUser('Bob'), await newUser('Carol')];
    const request = await sendRequest(a, b, 'from Alice');
    for (const [method, url] of [
      ['GET', `/v1/friend-requests/${request.id}`],
      ['POST', `/v1/friend-requests/${request.id}/accept`],
      ['POST', `/v1/friend-requests/${request.id}/cancel`],
    ] as const) {
      expectProblem(
        await asUser(t.app, c, method, url),
        404,
        'social.request_not_found',
        `C: ${method} ${url}`,
      );
    }
    for (const direction of ['incoming', 'outgoing']) {
      assert.equal(
        (await asUser(t.app, c, 'GET', `/v1/friend-requests?direction=${direction}`)).json<
          PageJson<RequestJson>
        >().items.length,
        0,
      );
    }
    assert.equal(
      (await asUser(t.app, b, 'POST', `/v1/friend-requests/${request.id}/accept`)).statusCode,
      200,
    );
    assert.equal(
      (await asUser(t.app, c, 'GET', '/v1/friends')).json<PageJson<FriendJson>>().items.length,
      0,
    );

    const group = await createGroup(a, 'Alice & Bob', [b]);
    expectProblem(
      await asUser(t.app, c, 'GET', `/v1/groups/${group.id}`),
      404,
      'social.group_not_found',
    );
    expectProblem(
      await asUser(t.app, c, 'POST', `/v1/groups/${group.id}/leave`),
      404,
      'social.group_not_found',
    );
    assert.equal(
      (await asUser(t.app, c, 'GET', '/v1/groups')).json<PageJson<GroupJson>>().items.length,
      0,
    );
    expectProblem(
      await asUser(t.app, a, 'POST', `/v1/groups/${group.id}/members`, { userId: c.id }),
      422,
      'social.not_friend',
      'A and C are not friends',
    );
    expectProblem(
      await asUser(t.app, b, 'POST', `/v1/groups/${group.id}/members`, { userId: c.id }),
      422,
      'social.not_friend',
      'not yet',
    );

    await befriend(b, c);
    const invited = await asUser(t.app, b, 'POST', `/v1/groups/${group.id}/members`, {
      userId: c.id,
    });
    assert.equal(invited.statusCode, 201, invited.body);
    const seen = await asUser(t.app, c, 'GET', `/v1/groups/${group.id}`);
    assert.deepEqual(
      seen.json<GroupJson>().members.map((m) => m.userId),
      [a.id, b.id, c.id],
    );
    assert.ok(
      !seen.body.includes(a.mobile) && !seen.body.includes(b.mobile),
      'members show masked mobiles only',
    );

    assert.deepEqual((await asUser(t.app, a, 'POST', `/v1/groups/${group.id}/leave`)).json(), {
      groupId: group.id,
      dissolved: false,
      ownerId: b.id,
    });
    const afterA = (await asUser(t.app, c, 'GET', `/v1/groups/${group.id}`)).json<GroupJson>();
    assert.deepEqual([afterA.ownerId, afterA.memberCount], [b.id, 2]);
    assert.deepEqual((await asUser(t.app, b, 'POST', `/v1/groups/${group.id}/leave`)).json(), {
      groupId: group.id,
      dissolved: false,
      ownerId: c.id,
    });
    assert.equal(await t.app.social.isGroupMember(group.id, a.id), false);
    assert.equal(await t.app.social.isGroupMember(group.id, c.id), true);
    assert.equal(await t.app.social.areFriends(a.id, c.id), false);
  });
});
