import { Type, type Static } from 'typebox';
import { idPattern } from '../kernel/ids.ts';
import { AmountMinor, Pin, Timestamp } from '../payments/schemas.ts';
import { greetingLengthMax, packetIdPattern, packetModes, splitRule } from './model.ts';
import type { PacketListRow } from './store.ts';
import type { GrabOutcome } from './service.ts';
import type { GrabView, PacketView } from './view.ts';

/** The red packet API's schemas and JSON mappers; money is a digit string of fen. */

export const SendBody = Type.Object(
  {
    mode: Type.Enum(packetModes, { description: 'lucky (拼手气: random shares) or fixed (普通: equal shares)' }),
    amountMinor: AmountMinor,
    count: Type.Integer({ minimum: 1, maximum: 100_000, description: 'Number of shares; 1 for a friend' }),
    toUserId: Type.Optional(Type.String({ pattern: idPattern('usr'), description: 'A friend (or give groupId)' })),
    groupId: Type.Optional(Type.String({ pattern: idPattern('grp'), description: 'A group you are in' })),
    greeting: Type.Optional(Type.String({ maxLength: greetingLengthMax, pattern: '^[^\\u0000-\\u001f\\u007f]*$' })),
    pin: Pin,
  },
  { additionalProperties: false },
);
export type SendBody = Static<typeof SendBody>;

export const PacketParams = Type.Object({ id: Type.String({ pattern: packetIdPattern }) });

export const ListQuery = Type.Object(
  {
    box: Type.Enum(['inbox', 'sent', 'received'] as const, { description: 'inbox: packets to me or my groups; sent; received: the ones I grabbed' }),
    before: Type.Optional(Timestamp),
    // Query strings are text: a digit string, checked for range by the route.
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]?$|^100$', description: 'page size, 1 to 100' })),
  },
  { additionalProperties: false },
);

const NullableString = Type.Union([Type.String(), Type.Null()]);
const GrabJson = Type.Object({ userId: Type.String(), displayName: Type.String(), amountMinor: Type.String(), grabbedAt: Timestamp });

export const PacketJson = Type.Object({
  id: Type.String(),
  mode: Type.Enum(packetModes),
  state: Type.Enum(['funding', 'active', 'empty', 'expired', 'refunded', 'failed'] as const),
  sender: Type.Object({ userId: Type.String(), displayName: Type.String() }),
  to: Type.Union([
    Type.Object({ type: Type.Literal('user'), userId: Type.String(), displayName: Type.String() }),
    Type.Object({ type: Type.Literal('group'), groupId: Type.String(), name: Type.String() }),
    Type.Object({ type: Type.Literal('fission'), rainId: Type.String(), name: Type.String() }),
  ]),
  amountMinor: Type.String(),
  shareCount: Type.Integer(),
  greeting: Type.String(),
  splitSha256: Type.String({ description: 'sha256 of the shares in their stored order (see GET /v1/redpackets/rules)' }),
  grabbedCount: Type.Integer(),
  grabbedMinor: Type.String(),
  refundMinor: NullableString,
  createdAt: Timestamp,
  expiresAt: Timestamp,
  mine: Type.Union([Type.Object({ amountMinor: Type.String(), grabbedAt: Timestamp, settled: Type.Boolean() }), Type.Null()]),
  bestLuck: Type.Union([GrabJson, Type.Null()]),
  grabs: Type.Array(GrabJson),
});
export type PacketJson = Static<typeof PacketJson>;

export const GrabResultJson = Type.Object({
  packetId: Type.String(),
  amountMinor: Type.String(),
  grabbedAt: Timestamp,
  settled: Type.Boolean({ description: 'Whether the money is in the wallet yet; it follows within seconds' }),
});

export const PacketListJson = Type.Object({
  packets: Type.Array(
    Type.Object({
      id: Type.String(),
      mode: Type.Enum(packetModes),
      senderName: Type.String(),
      targetName: Type.String(),
      amountMinor: Type.String(),
      shareCount: Type.Integer(),
      greeting: Type.String(),
      state: Type.Enum(['active', 'expired', 'refunded'] as const),
      toType: Type.Enum(['user', 'group', 'fission'] as const),
      myAmountMinor: NullableString,
      createdAt: Timestamp,
    }),
  ),
  nextBefore: NullableString,
});

export const RulesJson = Type.Object({ lucky: Type.String(), fixed: Type.String(), expiry: Type.String() });
export const rulesJson = splitRule;

function toGrabJson(grab: GrabView) {
  return { userId: grab.userId, displayName: grab.displayName, amountMinor: grab.amountMinor.toString(), grabbedAt: grab.grabbedAt.toISOString() };
}

export function toPacketJson(packet: PacketView): PacketJson {
  return {
    id: packet.id,
    mode: packet.mode,
    state: packet.state,
    sender: packet.sender,
    to: packet.to,
    amountMinor: packet.amountMinor.toString(),
    shareCount: packet.shareCount,
    greeting: packet.greeting,
    splitSha256: packet.splitSha256,
    grabbedCount: packet.grabbedCount,
    grabbedMinor: packet.grabbedMinor.toString(),
    refundMinor: packet.refundMinor?.toString() ?? null,
    createdAt: packet.createdAt.toISOString(),
    expiresAt: packet.expiresAt.toISOString(),
    mine: packet.mine === null ? null : { amountMinor: packet.mine.amountMinor.toString(), grabbedAt: packet.mine.grabbedAt.toISOString(), settled: packet.mine.settled },
    bestLuck: packet.bestLuck === null ? null : toGrabJson(packet.bestLuck),
    grabs: packet.grabs.map(toGrabJson),
  };
}

export function toGrabResultJson(outcome: GrabOutcome) {
  return { packetId: outcome.packetId, amountMinor: outcome.amountMinor.toString(), grabbedAt: outcome.grabbedAt.toISOString(), settled: outcome.settled };
}

export function toPacketListJson(rows: readonly PacketListRow[], limit: number) {
  const last = rows[rows.length - 1];
  return {
    packets: rows.map((row) => ({
      id: row.id,
      mode: row.mode,
      senderName: row.sender_name,
      targetName: row.target_name,
      amountMinor: row.amount_minor.toString(),
      shareCount: row.share_count,
      greeting: row.greeting,
      state: row.status === 'expired' || row.status === 'refunded' ? row.status : ('active' as const),
      toType: row.fission_of_rain_id !== null ? ('fission' as const) : row.to_user_id === null ? ('group' as const) : ('user' as const),
      myAmountMinor: row.my_amount_minor?.toString() ?? null,
      createdAt: row.created_at.toISOString(),
    })),
    nextBefore: rows.length === limit && last !== undefined ? last.created_at.toISOString() : null,
  };
}
