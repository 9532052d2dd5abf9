import { assert } from '../kernel/assert.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Sql, TransactionSql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import type { IdGenerator } from '../kernel/ids.ts';
import type { AuthUser } from '../identity/index.ts';
import './errors.ts';
import { GroupService } from './groups.ts';
import {
  decodeCursor,
  defaultSocialLimits,
  encodeCursor,
  nextFriendRequestId,
  normalizeMessage,
  pageOf,
  pairLockKey,
  toUserSummary,
  type Friend,
  type FriendRequest,
  type FriendRequestState,
  type Page,
  type RequestDirection,
  type SocialLimits,
} from './model.ts';
import {
  countFriends,
  countPendingOutgoing,
  deleteFriendship,
  insertFriendship,
  insertRequest,
  isFriend,
  lockKey,
  lockUsers,
  resolveRequest,
  selectFriendIds,
  selectFriends,
  selectPendingBetween,
  selectPendingRequests,
  selectRequestView,
  type FriendRow,
  type RequestRow,
  type RequestViewRow,
} from './store.ts';

type Db = Sql | TransactionSql;

/** The two Identity look-ups the social graph needs to find the person a request is for. */
export interface UserDirectory {
  findByMobile(mobile: string): Promise<AuthUser | undefined>;
  getUser(userId: string): Promise<AuthUser | undefined>;
}

export interface SocialDeps {
  readonly sql: Sql;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly users: UserDirectory;
  readonly limits?: Partial<SocialLimits>;
}

export interface SendRequestInput {
  readonly mobile?: string | undefined;
  readonly userId?: string | undefined;
  readonly message?: string | undefined;
}

export interface SendRequestResult {
  readonly request: FriendRequest;
  /** True when the recipient had already asked the sender, so this answered their request. */
  readonly autoAccepted: boolean;
}

export interface PageInput {
  readonly cursor?: string | undefined;
  readonly limit: number;
}

function toFriendRequest(row: RequestViewRow): FriendRequest {
  return {
    id: row.id,
    state: row.state,
    message: row.message,
    from: toUserSummary(row.from_user_id, row.from_name, row.from_mobile),
    to: toUserSummary(row.to_user_id, row.to_name, row.to_mobile),
    createdAt: row.created_at,
    resolvedAt: row.resolved_at,
  };
}

function toFriend(row: FriendRow): Friend {
  return { ...toUserSummary(row.user_id, row.display_name, row.mobile), since: row.since };
}

/**
 * The social graph: friend requests, friendships and groups. Other modules (red packets, cards,
 * energy) ask it `areFriends`, `isGroupMember`, `listFriendIds` and `listGroupMemberIds`, passing
 * their transaction when the answer must hold for the rest of it.
 *
 * Every change to one pair of users (a request, an answer, an unfriending) takes that pair's
 * advisory lock first, so a duplicate or crossing request sees the other's effect.
 */
export class Social {
  readonly limits: SocialLimits;
  readonly groups: GroupService;

  constructor(private readonly deps: SocialDeps) {
    this.limits = { ...defaultSocialLimits, ...deps.limits };
    this.groups = new GroupService({
      sql: deps.sql,
      clock: deps.clock,
      ids: deps.ids,
      limits: this.limits,
    });
  }

  async areFriends(userId: string, otherId: string, db: Db = this.deps.sql): Promise<boolean> {
    return userId !== otherId && (await isFriend(db, userId, otherId));
  }

  /** Friend ids in id order, at most `friendCountMax` of them (the whole list). */
  async listFriendIds(userId: string, db: Db = this.deps.sql): Promise<string[]> {
    return selectFriendIds(db, userId, this.limits.friendCountMax);
  }

  isGroupMember(groupId: string, userId: string, db?: Db): Promise<boolean> {
    return this.groups.isGroupMember(groupId, userId, db);
  }

  listGroupMemberIds(groupId: string, db: Db = this.deps.sql): Promise<string[]> {
    return this.groups.listMemberIds(groupId, db);
  }

  /**
   * Sends a request by mobile number or user id. If the recipient already asked the sender, this
   * accepts their request instead of opening a second one: both clearly want the friendship.
   */
  async sendFriendRequest(fromUserId: string, input: SendRequestInput): Promise<SendRequestResult> {
    const recipient = await this.findRecipient(input);
    if (recipient.id === fromUserId) {
      throw new DomainError('social.cannot_befriend_self', {
        detail: 'send the request to someone else',
      });
    }
    const outcome = await this.deps.sql.begin(async (tx) => {
      await lockKey(tx, pairLockKey(fromUserId, recipient.id));
      if (await isFriend(tx, fromUserId, recipient.id)) {
        throw new DomainError('social.already_friends', {
          detail: 'this user is already in your friend list',
        });
      }
      const pending = await selectPendingBetween(tx, fromUserId, recipient.id);
      if (pending?.from_user_id === fromUserId) {
        throw new DomainError('social.request_pending', {
          detail: 'wait for an answer, or cancel it first',
          requestId: pending.id,
        });
      }
      if (pending !== undefined) {
        await this.acceptLocked(tx, pending);
        return { requestId: pending.id, autoAccepted: true };
      }
      return {
        requestId: await this.openRequest(tx, fromUserId, recipient.id, input.message),
        autoAccepted: false,
      };
    });
    return {
      request: await this.requestById(outcome.requestId),
      autoAccepted: outcome.autoAccepted,
    };
  }

  async acceptFriendRequest(userId: string, requestId: string): Promise<FriendRequest> {
    return this.answer(userId, requestId, 'accepted');
  }

  async declineFriendRequest(userId: string, requestId: string): Promise<FriendRequest> {
    return this.answer(userId, requestId, 'declined');
  }

  async cancelFriendRequest(userId: string, requestId: string): Promise<FriendRequest> {
    return this.answer(userId, requestId, 'cancelled');
  }

  /** A request the user sent or received; anyone else's is "not found", like a missing one. */
  async getFriendRequest(userId: string, requestId: string): Promise<FriendRequest> {
    return toFriendRequest(await this.requestAsParty(userId, requestId));
  }

  /** Pending requests to (incoming) or from (outgoing) the user, newest first. */
  async listFriendRequests(
    userId: string,
    direction: RequestDirection,
    page: PageInput,
  ): Promise<Page<FriendRequest>> {
    const beforeId =
      page.cursor === undefined ? undefined : decodeCursor(`r.${direction}`, page.cursor, 1)[0];
    const rows = await selectPendingRequests(this.deps.sql, {
      userId,
      direction,
      beforeId,
      limit: page.limit + 1,
    });
    return pageOf(rows, page.limit, toFriendRequest, (last) =>
      encodeCursor(`r.${direction}`, [last.id]),
    );
  }

  /** Friends sorted by display name (then id, as names repeat). */
  async listFriends(userId: string, page: PageInput): Promise<Page<Friend>> {
    const cursor = page.cursor === undefined ? undefined : decodeCursor('f', page.cursor, 2);
    const after =
      cursor === undefined ? undefined : { name: cursor[0] ?? '', userId: cursor[1] ?? '' };
    const rows = await selectFriends(this.deps.sql, { userId, after, limit: page.limit + 1 });
    return pageOf(rows, page.limit, toFriend, (last) =>
      encodeCursor('f', [last.display_name, last.user_id]),
    );
  }

  /** Ends a friendship on both sides. Shared groups stay: leaving them is a separate choice. */
  async removeFriend(userId: string, friendId: string): Promise<void> {
    await this.deps.sql.begin(async (tx) => {
      await lockKey(tx, pairLockKey(userId, friendId));
      if ((await deleteFriendship(tx, userId, friendId)) === 0) {
        throw new DomainError('social.friend_not_found', {
          detail: 'this user is not in your friend list',
        });
      }
    });
  }

  private async findRecipient(input: SendRequestInput): Promise<AuthUser> {
    if ((input.mobile === undefined) === (input.userId === undefined)) {
      throw new DomainError('request.invalid', {
        detail: 'give either mobile or userId, not both',
      });
    }
    const user =
      input.mobile === undefined
        ? await this.deps.users.getUser(input.userId ?? '')
        : await this.deps.users.findByMobile(input.mobile);
    if (user === undefined)
      throw new DomainError('social.user_not_found', {
        detail: 'check the mobile number or user id',
      });
    return user;
  }

  private async openRequest(
    tx: TransactionSql,
    fromUserId: string,
    toUserId: string,
    message: string | undefined,
  ): Promise<string> {
    const pendingCount = await countPendingOutgoing(tx, fromUserId);
    if (pendingCount >= this.limits.pendingOutgoingMax) {
      throw new DomainError('social.pending_limit_reached', {
        detail: `at most ${String(this.limits.pendingOutgoingMax)} requests can wait for an answer; cancel some or wait`,
      });
    }
    const id = nextFriendRequestId(this.deps.ids);
    await insertRequest(tx, {
      id,
      fromUserId,
      toUserId,
      message: normalizeMessage(message),
      createdAt: this.deps.clock.now(),
    });
    return id;
  }

  /** Makes the pair friends and marks the request accepted; the caller holds the pair lock. */
  private async acceptLocked(tx: TransactionSql, request: RequestRow): Promise<void> {
    const pair = [request.from_user_id, request.to_user_id];
    await lockUsers(tx, pair);
    for (const userId of pair) {
      if ((await countFriends(tx, userId)) >= this.limits.friendCountMax) {
        throw new DomainError('social.friend_limit_reached', {
          detail: `a friend list holds at most ${String(this.limits.friendCountMax)} friends`,
          userId,
        });
      }
    }
    const now = this.deps.clock.now();
    await insertFriendship(tx, request.from_user_id, request.to_user_id, now);
    assert(
      await resolveRequest(tx, request.id, 'accepted', now),
      'a request under its pair lock is still pending',
    );
  }

  /**
   * Accept and decline belong to the recipient, cancel to the sender. Checked in order: not a
   * party (404), the wrong party (403), no longer pending (409).
   */
  private async answer(
    userId: string,
    requestId: string,
    state: Exclude<FriendRequestState, 'pending'>,
  ): Promise<FriendRequest> {
    const found = await this.requestAsParty(userId, requestId);
    const isSender = found.from_user_id === userId;
    if (state === 'cancelled' && !isSender) {
      throw new DomainError('social.sender_only', { detail: 'decline the request instead' });
    }
    if (state !== 'cancelled' && isSender) {
      throw new DomainError('social.recipient_only', {
        detail: 'you sent this request; you can cancel it',
      });
    }
    await this.deps.sql.begin(async (tx) => {
      await lockKey(tx, pairLockKey(found.from_user_id, found.to_user_id));
      const current = await selectPendingBetween(tx, found.from_user_id, found.to_user_id);
      if (current?.id !== requestId) {
        const latest = await selectRequestView(tx, requestId);
        throw new DomainError('social.request_not_pending', {
          detail: `the request is already ${latest?.state ?? 'answered'}`,
          state: latest?.state,
        });
      }
      if (state === 'accepted') await this.acceptLocked(tx, current);
      else
        assert(
          await resolveRequest(tx, requestId, state, this.deps.clock.now()),
          'a request under its pair lock is still pending',
        );
    });
    return this.requestById(requestId);
  }

  private async requestAsParty(userId: string, requestId: string): Promise<RequestViewRow> {
    const row = await selectRequestView(this.deps.sql, requestId);
    if (row === undefined || (row.from_user_id !== userId && row.to_user_id !== userId)) {
      throw new DomainError('social.request_not_found', {
        detail: `friend request ${requestId} does not exist`,
      });
    }
    return row;
  }

  private async requestById(requestId: string): Promise<FriendRequest> {
    const row = await selectRequestView(this.deps.sql, requestId);
    assert(row !== undefined, 'a request just written can be read');
    return toFriendRequest(row);
  }
}
