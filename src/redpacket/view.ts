import type { Identity } from '../identity/index.ts';
import type { Sql } from '../kernel/db.ts';
import type { Social } from '../social/index.ts';
import type { PacketMode } from './model.ts';
import { selectBestLuck, selectMyShare, selectGrabs, selectTotals, type GrabListRow, type PacketRow } from './store.ts';

/** A packet as its sender, its recipients and grabbers see it. */

interface ViewDeps {
  readonly sql: Sql;
  readonly identity: Identity;
  readonly social: Social;
  readonly rainName?: (rainId: string) => Promise<string>;
}

const grabsShownMax = 100;
/** Best luck is final once every share is taken; cached per process. */
const bestLuckCacheMax = 10_000;

export type PacketState = 'funding' | 'active' | 'empty' | 'expired' | 'refunded' | 'failed';

export interface GrabView {
  readonly userId: string;
  readonly displayName: string;
  readonly amountMinor: bigint;
  readonly grabbedAt: Date;
}

export interface PacketView {
  readonly id: string;
  readonly mode: PacketMode;
  readonly state: PacketState;
  readonly sender: { readonly userId: string; readonly displayName: string };
  readonly to:
    | { readonly type: 'user'; readonly userId: string; readonly displayName: string }
    | { readonly type: 'group'; readonly groupId: string; readonly name: string }
    /** A fission packet: handed by a rain's winner to their friends. */
    | { readonly type: 'fission'; readonly rainId: string; readonly name: string };
  readonly amountMinor: bigint;
  readonly shareCount: number;
  readonly greeting: string;
  readonly splitSha256: string;
  readonly grabbedCount: number;
  readonly grabbedMinor: bigint;
  readonly refundMinor: bigint | null;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly mine: (GrabView & { readonly settled: boolean }) | null;
  /** Set once every share is taken. */
  readonly bestLuck: GrabView | null;
  /** The latest grabs, newest first. */
  readonly grabs: readonly GrabView[];
}

export async function packetView(deps: ViewDeps, packet: PacketRow, userId: string, bestLuckCache: Map<string, GrabListRow>): Promise<PacketView> {
  const [totals, grabs, sender, target] = await Promise.all([
    selectTotals(deps.sql, packet.id),
    selectGrabs(deps.sql, packet.id, grabsShownMax),
    deps.identity.getUser(packet.sender_user_id),
    targetOf(deps, packet),
  ]);
  const empty = totals.grabbed_count === packet.share_count;
  const best = empty ? await bestLuck(deps, packet.id, bestLuckCache) : undefined;
  const mineRow = await selectMyShare(deps.sql, packet.id, userId);
  const state: PacketState = packet.status === 'active' && empty ? 'empty' : packet.status;
  return {
    id: packet.id,
    mode: packet.mode,
    state,
    sender: { userId: packet.sender_user_id, displayName: sender?.displayName ?? '' },
    to: target,
    amountMinor: packet.amount_minor,
    shareCount: packet.share_count,
    greeting: packet.greeting,
    splitSha256: packet.split_sha256,
    grabbedCount: totals.grabbed_count,
    grabbedMinor: totals.grabbed_minor,
    refundMinor: packet.refund_minor,
    createdAt: packet.created_at,
    expiresAt: packet.expires_at,
    mine:
      mineRow === undefined
        ? null
        : { userId, displayName: '', amountMinor: mineRow.amount_minor, grabbedAt: mineRow.grabbed_at, settled: mineRow.settled_at !== null },
    bestLuck: best === undefined ? null : toGrabView(best),
    grabs: grabs.map(toGrabView),
  };
}

async function targetOf(deps: ViewDeps, packet: PacketRow): Promise<PacketView['to']> {
  if (packet.fission_of_rain_id !== null) {
    const rainId = packet.fission_of_rain_id;
    return { type: 'fission', rainId, name: (await deps.rainName?.(rainId)) ?? '' };
  }
  if (packet.to_user_id !== null) {
    const friend = await deps.identity.getUser(packet.to_user_id);
    return { type: 'user', userId: packet.to_user_id, displayName: friend?.displayName ?? '' };
  }
  const groupId = packet.group_id ?? '';
  const group = await deps.social.groups.summary(groupId);
  return { type: 'group', groupId, name: group?.name ?? '' };
}

async function bestLuck(deps: ViewDeps, packetId: string, cache: Map<string, GrabListRow>): Promise<GrabListRow | undefined> {
  const cached = cache.get(packetId);
  if (cached !== undefined) return cached;
  const best = await selectBestLuck(deps.sql, packetId);
  if (best !== undefined) {
    if (cache.size >= bestLuckCacheMax) cache.clear();
    cache.set(packetId, best);
  }
  return best;
}

function toGrabView(row: GrabListRow): GrabView {
  return { userId: row.user_id, displayName: row.display_name, amountMinor: row.amount_minor, grabbedAt: row.grabbed_at };
}
