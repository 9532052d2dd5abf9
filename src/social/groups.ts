import { assert } from '../kernel/assert.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Sql, TransactionSql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import type { IdGenerator } from '../kernel/ids.ts';
import { batched, type Batched } from '../kernel/batch.ts';
import './errors.ts';
import {
  decodeCursor,
  encodeCursor,
  normalizeGroupName,
  pageOf,
  toUserSummary,
  type GroupDetail,
  type GroupSummary,
  type LeaveResult,
  type Page,
  type SocialLimits,
} from './model.ts';
import {
  countGroupsOf,
  deleteMember,
  dissolveGroup,
  insertGroup,
  insertMembers,
  isFriend,
  isMember,
  lockGroup,
  lockUsers,
  selectFriendIdsAmong,
  selectGroup,
  selectMemberIds,
  selectMemberships,
  selectMembers,
  selectMyGroups,
  selectSeniorMember,
  updateGroupMembership,
  type GroupRow,
  type MyGroupRow,
} from './store.ts';

type Db = Sql | TransactionSql;

export interface GroupServiceDeps {
  readonly sql: Sql;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly limits: SocialLimits;
}

export interface CreateGroupInput {
  readonly name: string;
  readonly memberIds?: readonly string[] | undefined;
}

function toGroupSummary(row: MyGroupRow): GroupSummary {
  return {
    id: row.id,
    name: row.name,
    ownerId: row.owner_id,
    memberCount: row.member_count,
    createdAt: row.created_at,
    joinedAt: row.joined_at,
  };
}

/**
 * Groups: every member was added by a member who is their friend, so a group is reachable only
 * along friendships. The group row is locked for every change of membership, which keeps the
 * member count exact and the cap race-free; a group whose last member leaves is dissolved.
 */
/**
 * How long a "yes, a member" answer is reused. This process forgets it at once when the member
 * leaves (every membership change goes through this service); another process's leave reaches
 * this one within this bound. Only membership is cached, never its absence.
 */
const memberCacheMs = 10_000;
const memberCacheMax = 200_000;

export class GroupService {
  /** Checks outside a transaction, from concurrent requests, share one statement (a grab stampede). */
  private readonly memberBatch: Batched<{ readonly groupId: string; readonly userId: string }, boolean>;
  private readonly memberCache = new Map<string, number>();

  constructor(private readonly deps: GroupServiceDeps) {
    this.memberBatch = batched(async (pairs) => {
      const found = await selectMemberships(deps.sql, pairs);
      return pairs.map((pair) => found.has(`${pair.groupId}\n${pair.userId}`));
    });
  }

  /** Dissolved groups have no members, so this is false for them too. */
  async isGroupMember(groupId: string, userId: string, db?: Db): Promise<boolean> {
    if (db !== undefined) return isMember(db, groupId, userId);
    const key = `${groupId}\n${userId}`;
    const nowMs = this.deps.clock.nowMs();
    if ((this.memberCache.get(key) ?? 0) > nowMs) return true;
    const member = await this.memberBatch({ groupId, userId });
    if (member) {
      if (this.memberCache.size >= memberCacheMax) this.memberCache.clear();
      this.memberCache.set(key, nowMs + memberCacheMs);
    }
    return member;
  }

  /** In joining order; the member cap bounds the list. */
  listMemberIds(groupId: string, db: Db = this.deps.sql): Promise<string[]> {
    return selectMemberIds(db, groupId, this.deps.limits.groupMemberCountMax);
  }

  /**
   * Creates a group owned by its creator, with initial members who must all be the creator's
   * friends (the creator is always a member, and naming them again changes nothing).
   */
  async createGroup(ownerId: string, input: CreateGroupInput): Promise<GroupDetail> {
    const name = normalizeGroupName(input.name);
    const memberIds = [...new Set(input.memberIds ?? [])].filter((id) => id !== ownerId);
    const groupId = this.deps.ids.next('grp');
    await this.deps.sql.begin(async (tx) => {
      const friendIds = new Set(await selectFriendIdsAmong(tx, ownerId, memberIds));
      const strangers = memberIds.filter((id) => !friendIds.has(id));
      if (strangers.length > 0) {
        throw new DomainError('social.not_friend', {
          detail: 'every initial member must be your friend',
          userIds: strangers,
        });
      }
      this.assertRoom(memberIds.length + 1);
      const everyone = [ownerId, ...memberIds];
      await this.checkGroupLimits(tx, everyone);
      const joinedAt = this.deps.clock.now();
      await insertGroup(tx, {
        id: groupId,
        name,
        ownerId,
        memberCount: everyone.length,
        createdAt: joinedAt,
      });
      await insertMembers(tx, { groupId, userIds: [ownerId], invitedBy: null, joinedAt });
      if (memberIds.length > 0)
        await insertMembers(tx, { groupId, userIds: memberIds, invitedBy: ownerId, joinedAt });
    });
    return this.getGroup(ownerId, groupId);
  }

  /**
   * Adds a friend of the inviter. Checked in order: the group is not the inviter's (404), the
   * user is already in it (409), the user is not the inviter's friend (422), the group is full
   * (409), the user is in too many groups (409).
   */
  async inviteMember(inviterId: string, groupId: string, userId: string): Promise<GroupDetail> {
    await this.deps.sql.begin(async (tx) => {
      const group = await this.lockOwnGroup(tx, groupId, inviterId);
      if (await isMember(tx, groupId, userId)) {
        throw new DomainError('social.already_member', {
          detail: 'this user is already in the group',
        });
      }
      if (!(await isFriend(tx, inviterId, userId))) {
        throw new DomainError('social.not_friend', {
          detail: 'you can add only your friends',
          userIds: [userId],
        });
      }
      this.assertRoom(group.member_count + 1);
      await this.checkGroupLimits(tx, [userId]);
      await insertMembers(tx, {
        groupId,
        userIds: [userId],
        invitedBy: inviterId,
        joinedAt: this.deps.clock.now(),
      });
      await updateGroupMembership(tx, {
        groupId,
        memberCount: group.member_count + 1,
        ownerId: group.owner_id,
      });
    });
    return this.getGroup(inviterId, groupId);
  }

  /**
   * Leaves a group. An owner who leaves hands the group to the longest-standing member; the last
   * member to leave dissolves it.
   */
  async leaveGroup(userId: string, groupId: string): Promise<LeaveResult> {
    const result = await this.leave(userId, groupId);
    // After the commit: a check racing the leave cannot put the old answer back.
    this.memberCache.delete(`${groupId}\n${userId}`);
    return result;
  }

  private leave(userId: string, groupId: string): Promise<LeaveResult> {
    return this.deps.sql.begin(async (tx) => {
      const group = await this.lockOwnGroup(tx, groupId, userId);
      assert(
        await deleteMember(tx, groupId, userId),
        'a member under the group lock can be removed',
      );
      const memberCount = group.member_count - 1;
      assert(memberCount >= 0, 'a group never has fewer than zero members');
      if (memberCount === 0) {
        await dissolveGroup(tx, groupId, this.deps.clock.now());
        return { groupId, dissolved: true, ownerId: null };
      }
      const ownerId =
        group.owner_id === userId ? await selectSeniorMember(tx, groupId) : group.owner_id;
      assert(ownerId !== undefined, 'a group with members has a senior member');
      await updateGroupMembership(tx, { groupId, memberCount, ownerId });
      return { groupId, dissolved: false, ownerId };
    });
  }

  /** The groups the user is in, most recently joined first. */
  async listGroups(
    userId: string,
    page: { cursor?: string | undefined; limit: number },
  ): Promise<Page<GroupSummary>> {
    const beforeSeq =
      page.cursor === undefined ? undefined : cursorSeq(decodeCursor('g', page.cursor, 1)[0]);
    const rows = await selectMyGroups(this.deps.sql, { userId, beforeSeq, limit: page.limit + 1 });
    return pageOf(rows, page.limit, toGroupSummary, (last) =>
      encodeCursor('g', [last.seq.toString()]),
    );
  }

  /** A live group's name and size, without its members (a red packet's target). */
  async summary(groupId: string): Promise<{ readonly id: string; readonly name: string; readonly memberCount: number } | undefined> {
    const group = await selectGroup(this.deps.sql, groupId);
    if (group === undefined) return undefined;
    return { id: group.id, name: group.name, memberCount: group.member_count };
  }

  /** A group with its members; a group the user is not in is "not found", like a missing one. */
  async getGroup(userId: string, groupId: string): Promise<GroupDetail> {
    const group = await selectGroup(this.deps.sql, groupId);
    if (group === undefined || !(await isMember(this.deps.sql, groupId, userId)))
      throw groupNotFound(groupId);
    const rows = await selectMembers(this.deps.sql, groupId, this.deps.limits.groupMemberCountMax);
    return {
      id: group.id,
      name: group.name,
      ownerId: group.owner_id,
      memberCount: group.member_count,
      memberCountMax: this.deps.limits.groupMemberCountMax,
      createdAt: group.created_at,
      members: rows.map((row) => ({
        ...toUserSummary(row.user_id, row.display_name, row.mobile),
        isOwner: row.user_id === group.owner_id,
        joinedAt: row.joined_at,
      })),
    };
  }

  /** Locks a live group that `userId` is in; otherwise 404, whether it is missing or not theirs. */
  private async lockOwnGroup(
    tx: TransactionSql,
    groupId: string,
    userId: string,
  ): Promise<GroupRow> {
    const group = await lockGroup(tx, groupId);
    if (group === undefined || !(await isMember(tx, groupId, userId))) throw groupNotFound(groupId);
    return group;
  }

  private assertRoom(memberCount: number): void {
    const max = this.deps.limits.groupMemberCountMax;
    if (memberCount > max) {
      throw new DomainError('social.group_full', {
        detail: `a group holds at most ${String(max)} members`,
        memberCountMax: max,
      });
    }
  }

  /** Each user may be in at most `groupsPerUserMax` groups; their locks make the count hold. */
  private async checkGroupLimits(tx: TransactionSql, userIds: readonly string[]): Promise<void> {
    await lockUsers(tx, userIds);
    const counts = await countGroupsOf(tx, userIds);
    const max = this.deps.limits.groupsPerUserMax;
    const full = userIds.find((id) => (counts.get(id) ?? 0) >= max);
    if (full !== undefined) {
      throw new DomainError('social.group_limit_reached', {
        detail: `a user can be in at most ${String(max)} groups`,
        userId: full,
      });
    }
  }
}

function groupNotFound(groupId: string): DomainError {
  return new DomainError('social.group_not_found', { detail: `group ${groupId} does not exist` });
}

function cursorSeq(part: string | undefined): bigint {
  if (part === undefined || !/^[1-9][0-9]{0,18}$/.test(part)) {
    throw new DomainError('request.invalid', { detail: 'cursor is not one this API returned' });
  }
  return BigInt(part);
}
