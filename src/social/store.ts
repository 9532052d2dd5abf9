import type { Sql, TransactionSql } from '../kernel/db.ts';
import { userLockKey, type FriendRequestState, type RequestDirection } from './model.ts';

/**
 * SQL for the social graph: the only file that touches social_* tables. Lists that show names
 * join identity_users read-only, because they sort and page by display name in one indexed
 * query; Identity has no batch lookup, and nothing here ever writes an identity table.
 */

type Db = Sql | TransactionSql;

/** A user as another user may see them; the mobile is masked before it leaves the service. */
export interface PersonRow {
  readonly user_id: string;
  readonly display_name: string;
  readonly mobile: string;
}

export interface RequestRow {
  readonly id: string;
  readonly from_user_id: string;
  readonly to_user_id: string;
  readonly message: string | null;
  readonly state: FriendRequestState;
  readonly created_at: Date;
  readonly resolved_at: Date | null;
}

export interface RequestViewRow extends RequestRow {
  readonly from_name: string;
  readonly from_mobile: string;
  readonly to_name: string;
  readonly to_mobile: string;
}

export interface FriendRow extends PersonRow {
  readonly since: Date;
}

export interface GroupRow {
  readonly id: string;
  readonly name: string;
  readonly owner_id: string;
  readonly member_count: number;
  readonly created_at: Date;
}

export interface MyGroupRow extends GroupRow {
  readonly seq: bigint;
  readonly joined_at: Date;
}

export interface MemberRow extends PersonRow {
  readonly joined_at: Date;
}

/** Serialises every change to one key (a pair, a user) until the transaction ends. */
export async function lockKey(tx: TransactionSql, key: string): Promise<void> {
  await tx`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`;
}

/** Serialises changes that count against users' limits (friends, groups), in id order so two never deadlock. */
export async function lockUsers(tx: TransactionSql, userIds: readonly string[]): Promise<void> {
  for (const userId of [...new Set(userIds)].sort()) await lockKey(tx, userLockKey(userId));
}

// ---- friend requests ----

const requestView = (db: Db) => db`
  SELECT r.*, f.display_name AS from_name, f.mobile AS from_mobile,
         t.display_name AS to_name, t.mobile AS to_mobile
  FROM social_friend_requests r
  JOIN identity_users f ON f.id = r.from_user_id
  JOIN identity_users t ON t.id = r.to_user_id`;

export async function selectRequestView(db: Db, id: string): Promise<RequestViewRow | undefined> {
  const rows = await db<RequestViewRow[]>`${requestView(db)} WHERE r.id = ${id}`;
  return rows[0];
}

/** The pending request between two users, in either direction (there is at most one). */
export async function selectPendingBetween(
  db: Db,
  a: string,
  b: string,
): Promise<RequestRow | undefined> {
  const rows = await db<RequestRow[]>`
    SELECT * FROM social_friend_requests
    WHERE state = 'pending' AND LEAST(from_user_id, to_user_id) = LEAST(${a}::text, ${b}::text)
      AND GREATEST(from_user_id, to_user_id) = GREATEST(${a}::text, ${b}::text)`;
  return rows[0];
}

export async function countPendingOutgoing(db: Db, userId: string): Promise<number> {
  const rows = await db<{ n: number }[]>`
    SELECT count(*)::int AS n FROM social_friend_requests WHERE from_user_id = ${userId} AND state = 'pending'`;
  return rows[0]?.n ?? 0;
}

export async function insertRequest(
  tx: TransactionSql,
  request: {
    id: string;
    fromUserId: string;
    toUserId: string;
    message: string | null;
    createdAt: Date;
  },
): Promise<void> {
  await tx`
    INSERT INTO social_friend_requests (id, from_user_id, to_user_id, message, state, created_at)
    VALUES (${request.id}, ${request.fromUserId}, ${request.toUserId}, ${request.message}, 'pending', ${request.createdAt})`;
}

/** Moves a pending request to its final state; false if it was no longer pending. */
export async function resolveRequest(
  tx: TransactionSql,
  id: string,
  state: Exclude<FriendRequestState, 'pending'>,
  at: Date,
): Promise<boolean> {
  const rows = await tx`
    UPDATE social_friend_requests SET state = ${state}, resolved_at = ${at}
    WHERE id = ${id} AND state = 'pending' RETURNING 1`;
  return rows.length === 1;
}

/** Pending requests to or from `userId`, newest first (ids are time-ordered), after `beforeId`. */
export async function selectPendingRequests(
  db: Db,
  input: {
    userId: string;
    direction: RequestDirection;
    beforeId: string | undefined;
    limit: number;
  },
): Promise<RequestViewRow[]> {
  const mine =
    input.direction === 'incoming'
      ? db`r.to_user_id = ${input.userId}`
      : db`r.from_user_id = ${input.userId}`;
  const after = input.beforeId === undefined ? db`` : db`AND r.id < ${input.beforeId}`;
  return db<RequestViewRow[]>`
    ${requestView(db)} WHERE ${mine} AND r.state = 'pending' ${after}
    ORDER BY r.id DESC LIMIT ${input.limit}`;
}

// ---- friendships ----

export async function isFriend(db: Db, userId: string, otherId: string): Promise<boolean> {
  const rows =
    await db`SELECT 1 FROM social_friendships WHERE user_id = ${userId} AND friend_id = ${otherId}`;
  return rows.length === 1;
}

export async function countFriends(db: Db, userId: string): Promise<number> {
  const rows = await db<
    { n: number }[]
  >`SELECT count(*)::int AS n FROM social_friendships WHERE user_id = ${userId}`;
  return rows[0]?.n ?? 0;
}

export async function insertFriendship(
  tx: TransactionSql,
  a: string,
  b: string,
  since: Date,
): Promise<void> {
  await tx`
    INSERT INTO social_friendships (user_id, friend_id, since)
    VALUES (${a}, ${b}, ${since}), (${b}, ${a}, ${since})
    ON CONFLICT DO NOTHING`;
}

/** Removes both directions; the number of rows removed (0 when they were not friends). */
export async function deleteFriendship(tx: TransactionSql, a: string, b: string): Promise<number> {
  const result = await tx`
    DELETE FROM social_friendships
    WHERE (user_id = ${a} AND friend_id = ${b}) OR (user_id = ${b} AND friend_id = ${a})`;
  return result.count;
}

/** Friends sorted by display name, then id (names repeat), after the (name, id) of a cursor. */
export async function selectFriends(
  db: Db,
  input: { userId: string; after: { name: string; userId: string } | undefined; limit: number },
): Promise<FriendRow[]> {
  const after =
    input.after === undefined
      ? db``
      : db`AND (u.display_name, u.id) > (${input.after.name}, ${input.after.userId})`;
  return db<FriendRow[]>`
    SELECT u.id AS user_id, u.display_name, u.mobile, f.since
    FROM social_friendships f JOIN identity_users u ON u.id = f.friend_id
    WHERE f.user_id = ${input.userId} ${after}
    ORDER BY u.display_name, u.id LIMIT ${input.limit}`;
}

/** Which of `candidateIds` are friends of `userId`. */
export async function selectFriendIdsAmong(
  db: Db,
  userId: string,
  candidateIds: readonly string[],
): Promise<string[]> {
  const rows = await db<{ friend_id: string }[]>`
    SELECT friend_id FROM social_friendships
    WHERE user_id = ${userId} AND friend_id = ANY(${candidateIds as string[]}::text[])`;
  return rows.map((row) => row.friend_id);
}

export async function selectFriendIds(db: Db, userId: string, limit: number): Promise<string[]> {
  const rows = await db<{ friend_id: string }[]>`
    SELECT friend_id FROM social_friendships WHERE user_id = ${userId} ORDER BY friend_id LIMIT ${limit}`;
  return rows.map((row) => row.friend_id);
}

// ---- groups ----

export async function insertGroup(
  tx: TransactionSql,
  group: { id: string; name: string; ownerId: string; memberCount: number; createdAt: Date },
): Promise<void> {
  await tx`
    INSERT INTO social_groups (id, name, owner_id, member_count, created_by, created_at)
    VALUES (${group.id}, ${group.name}, ${group.ownerId}, ${group.memberCount}, ${group.ownerId}, ${group.createdAt})`;
}

/** Adds members in the order given; that order is their seniority (`seq`). */
export async function insertMembers(
  tx: TransactionSql,
  input: { groupId: string; userIds: readonly string[]; invitedBy: string | null; joinedAt: Date },
): Promise<void> {
  await tx`
    INSERT INTO social_group_members (group_id, user_id, invited_by, joined_at)
    SELECT ${input.groupId}, u.id, ${input.invitedBy}, ${input.joinedAt}
    FROM unnest(${input.userIds as string[]}::text[]) WITH ORDINALITY AS u(id, position)
    ORDER BY u.position`;
}

/** Locks a live group's row: membership changes of one group queue behind each other. */
export async function lockGroup(
  tx: TransactionSql,
  groupId: string,
): Promise<GroupRow | undefined> {
  const rows = await tx<GroupRow[]>`
    SELECT id, name, owner_id, member_count, created_at FROM social_groups
    WHERE id = ${groupId} AND dissolved_at IS NULL FOR UPDATE`;
  return rows[0];
}

export async function selectGroup(db: Db, groupId: string): Promise<GroupRow | undefined> {
  const rows = await db<GroupRow[]>`
    SELECT id, name, owner_id, member_count, created_at FROM social_groups
    WHERE id = ${groupId} AND dissolved_at IS NULL`;
  return rows[0];
}

export async function isMember(db: Db, groupId: string, userId: string): Promise<boolean> {
  const rows =
    await db`SELECT 1 FROM social_group_members WHERE group_id = ${groupId} AND user_id = ${userId}`;
  return rows.length === 1;
}

/** Which of many (group, user) pairs are memberships: one statement for a batch of checks. */
export async function selectMemberships(db: Db, pairs: readonly { readonly groupId: string; readonly userId: string }[]): Promise<Set<string>> {
  const rows = await db<{ group_id: string; user_id: string }[]>`
    SELECT m.group_id, m.user_id FROM social_group_members m
    JOIN unnest(${pairs.map((p) => p.groupId)}::text[], ${pairs.map((p) => p.userId)}::text[]) AS x(group_id, user_id)
      ON m.group_id = x.group_id AND m.user_id = x.user_id`;
  return new Set(rows.map((row) => `${row.group_id}\n${row.user_id}`));
}

/** How many groups each of `userIds` is in (users in none are absent from the map). */
export async function countGroupsOf(
  db: Db,
  userIds: readonly string[],
): Promise<Map<string, number>> {
  const rows = await db<{ user_id: string; n: number }[]>`
    SELECT user_id, count(*)::int AS n FROM social_group_members
    WHERE user_id = ANY(${userIds as string[]}::text[]) GROUP BY user_id`;
  return new Map(rows.map((row) => [row.user_id, row.n]));
}

export async function deleteMember(
  tx: TransactionSql,
  groupId: string,
  userId: string,
): Promise<boolean> {
  const result =
    await tx`DELETE FROM social_group_members WHERE group_id = ${groupId} AND user_id = ${userId}`;
  return result.count === 1;
}

/** The longest-standing member: the lowest seq. */
export async function selectSeniorMember(db: Db, groupId: string): Promise<string | undefined> {
  const rows = await db<{ user_id: string }[]>`
    SELECT user_id FROM social_group_members WHERE group_id = ${groupId} ORDER BY seq LIMIT 1`;
  return rows[0]?.user_id;
}

export async function updateGroupMembership(
  tx: TransactionSql,
  input: { groupId: string; memberCount: number; ownerId: string },
): Promise<void> {
  await tx`
    UPDATE social_groups SET member_count = ${input.memberCount}, owner_id = ${input.ownerId}
    WHERE id = ${input.groupId}`;
}

/** The group stays (later modules may refer to it) with no owner and no members. */
export async function dissolveGroup(tx: TransactionSql, groupId: string, at: Date): Promise<void> {
  await tx`
    UPDATE social_groups SET member_count = 0, owner_id = NULL, dissolved_at = ${at}
    WHERE id = ${groupId}`;
}

/** The groups `userId` is in, most recently joined first, after the seq of a cursor. */
export async function selectMyGroups(
  db: Db,
  input: { userId: string; beforeSeq: bigint | undefined; limit: number },
): Promise<MyGroupRow[]> {
  const after = input.beforeSeq === undefined ? db`` : db`AND m.seq < ${input.beforeSeq}`;
  return db<MyGroupRow[]>`
    SELECT g.id, g.name, g.owner_id, g.member_count, g.created_at, m.seq, m.joined_at
    FROM social_group_members m JOIN social_groups g ON g.id = m.group_id
    WHERE m.user_id = ${input.userId} ${after}
    ORDER BY m.seq DESC LIMIT ${input.limit}`;
}

/** Members in joining order; `limit` is the member cap, so this is the whole group. */
export async function selectMembers(db: Db, groupId: string, limit: number): Promise<MemberRow[]> {
  return db<MemberRow[]>`
    SELECT u.id AS user_id, u.display_name, u.mobile, m.joined_at
    FROM social_group_members m JOIN identity_users u ON u.id = m.user_id
    WHERE m.group_id = ${groupId}
    ORDER BY m.seq LIMIT ${limit}`;
}

export async function selectMemberIds(db: Db, groupId: string, limit: number): Promise<string[]> {
  const rows = await db<{ user_id: string }[]>`
    SELECT user_id FROM social_group_members WHERE group_id = ${groupId} ORDER BY seq LIMIT ${limit}`;
  return rows.map((row) => row.user_id);
}
