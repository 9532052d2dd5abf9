import { Type, type Static, type TSchema } from 'typebox';
import {
  cursorLengthMax,
  friendRequestIdPattern,
  groupCreateMembersMax,
  groupIdPattern,
  groupNameLengthMax,
  pageSizeMax,
  requestMessageLengthMax,
  userIdPattern,
  type Friend,
  type FriendRequest,
  type GroupDetail,
  type GroupSummary,
  type Page,
} from './model.ts';

/** The social routes' TypeBox schemas and the JSON shapes of the model; dates are ISO strings. */

export const UserId = Type.String({ pattern: userIdPattern, description: 'a user id (usr_…)' });
export const GroupId = Type.String({ pattern: groupIdPattern, description: 'a group id (grp_…)' });
export const FriendRequestId = Type.String({
  pattern: friendRequestIdPattern,
  description: 'a friend request id (frq_…)',
});

export const RequestIdParams = Type.Object({ requestId: FriendRequestId });
export const GroupIdParams = Type.Object({ groupId: GroupId });
export const FriendIdParams = Type.Object({ userId: UserId });

const Cursor = Type.String({
  minLength: 1,
  maxLength: cursorLengthMax,
  description: 'nextCursor of the previous page',
});
/** Query strings arrive as text (no type coercion); `pageLimit` checks the range. */
const Limit = Type.String({
  pattern: '^[0-9]{1,3}$',
  description: `page size, 1 to ${String(pageSizeMax)}`,
});

export const PageQuery = Type.Object(
  { cursor: Type.Optional(Cursor), limit: Type.Optional(Limit) },
  { additionalProperties: false },
);
export const RequestListQuery = Type.Object(
  {
    direction: Type.Optional(
      Type.Union([Type.Literal('incoming'), Type.Literal('outgoing')], {
        description: 'incoming (default) or outgoing',
      }),
    ),
    cursor: Type.Optional(Cursor),
    limit: Type.Optional(Limit),
  },
  { additionalProperties: false },
);

export const SendRequestBody = Type.Object(
  {
    mobile: Type.Optional(
      Type.String({
        minLength: 11,
        maxLength: 16,
        description: 'the recipient’s mobile number; or give userId',
      }),
    ),
    userId: Type.Optional(UserId),
    message: Type.Optional(
      Type.String({
        maxLength: requestMessageLengthMax,
        description: 'a short greeting the recipient sees',
      }),
    ),
  },
  { additionalProperties: false },
);
export type SendRequestBody = Static<typeof SendRequestBody>;

export const CreateGroupBody = Type.Object(
  {
    // At least one visible character; the service trims the name.
    name: Type.String({ minLength: 1, maxLength: groupNameLengthMax, pattern: '\\S' }),
    memberIds: Type.Optional(
      Type.Array(UserId, {
        maxItems: groupCreateMembersMax,
        uniqueItems: true,
        description: 'friends of the creator to add',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateGroupBody = Static<typeof CreateGroupBody>;

export const InviteBody = Type.Object({ userId: UserId }, { additionalProperties: false });

const NullableString = Type.Union([Type.String(), Type.Null()]);

export const UserSummaryJson = Type.Object({
  userId: Type.String(),
  displayName: Type.String(),
  mobileMasked: Type.String({
    description: 'e.g. 139****1234: the full number of another user is never shown',
  }),
});

export const FriendRequestJson = Type.Object({
  id: Type.String(),
  state: Type.Union([
    Type.Literal('pending'),
    Type.Literal('accepted'),
    Type.Literal('declined'),
    Type.Literal('cancelled'),
  ]),
  message: NullableString,
  from: UserSummaryJson,
  to: UserSummaryJson,
  createdAt: Type.String(),
  resolvedAt: NullableString,
});
export type FriendRequestJson = Static<typeof FriendRequestJson>;

export const FriendJson = Type.Object({ ...UserSummaryJson.properties, since: Type.String() });
export type FriendJson = Static<typeof FriendJson>;

export const GroupSummaryJson = Type.Object({
  id: Type.String(),
  name: Type.String(),
  ownerId: Type.String(),
  memberCount: Type.Integer(),
  createdAt: Type.String(),
  joinedAt: Type.String(),
});
export type GroupSummaryJson = Static<typeof GroupSummaryJson>;

export const GroupMemberJson = Type.Object({
  ...UserSummaryJson.properties,
  isOwner: Type.Boolean(),
  joinedAt: Type.String(),
});

export const GroupDetailJson = Type.Object({
  id: Type.String(),
  name: Type.String(),
  ownerId: Type.String(),
  memberCount: Type.Integer(),
  memberCountMax: Type.Integer(),
  createdAt: Type.String(),
  members: Type.Array(GroupMemberJson, { description: 'in joining order' }),
});
export type GroupDetailJson = Static<typeof GroupDetailJson>;

export const LeaveJson = Type.Object({
  groupId: Type.String(),
  dissolved: Type.Boolean(),
  ownerId: Type.Union([Type.String(), Type.Null()], {
    description: 'the owner after the leave; null once dissolved',
  }),
});

export function pageJson<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: NullableString });
}

export function toFriendRequestJson(request: FriendRequest): FriendRequestJson {
  return {
    ...request,
    createdAt: request.createdAt.toISOString(),
    resolvedAt: request.resolvedAt?.toISOString() ?? null,
  };
}

export function toFriendJson(friend: Friend): FriendJson {
  return {
    userId: friend.userId,
    displayName: friend.displayName,
    mobileMasked: friend.mobileMasked,
    since: friend.since.toISOString(),
  };
}

export function toGroupSummaryJson(group: GroupSummary): GroupSummaryJson {
  return {
    ...group,
    createdAt: group.createdAt.toISOString(),
    joinedAt: group.joinedAt.toISOString(),
  };
}

export function toGroupDetailJson(group: GroupDetail): GroupDetailJson {
  return {
    ...group,
    createdAt: group.createdAt.toISOString(),
    members: group.members.map((member) => ({
      ...member,
      joinedAt: member.joinedAt.toISOString(),
    })),
  };
}

export function mapPage<T, R>(
  page: Page<T>,
  toJson: (item: T) => R,
): { items: R[]; nextCursor: string | null } {
  return { items: page.items.map(toJson), nextCursor: page.nextCursor };
}
