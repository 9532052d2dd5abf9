import assert from 'node:assert/strict';
import type { App } from '../app.ts';
import { asUser, testPin, type TestUser } from '../testing/app.ts';

/** Red packet test helpers: friendships and groups through the services, packets through the API. */

export async function befriend(app: App, a: TestUser, b: TestUser): Promise<void> {
  const sent = await app.social.sendFriendRequest(a.id, { userId: b.id });
  if (sent.request.state === 'pending') await app.social.acceptFriendRequest(b.id, sent.request.id);
}

/** A group owned by `owner` with `members`, each befriended with the owner first. */
export async function groupOf(app: App, owner: TestUser, members: readonly TestUser[], name = '家人群'): Promise<string> {
  for (const member of members) await befriend(app, owner, member);
  const group = await app.social.groups.createGroup(owner.id, { name, memberIds: members.map((m) => m.id) });
  return group.id;
}

export interface PacketJsonForTest {
  id: string;
  mode: string;
  state: string;
  amountMinor: string;
  shareCount: number;
  greeting: string;
  splitSha256: string;
  grabbedCount: number;
  grabbedMinor: string;
  refundMinor: string | null;
  expiresAt: string;
  mine: { amountMinor: string; settled: boolean } | null;
  bestLuck: { userId: string; amountMinor: string } | null;
  grabs: { userId: string; displayName: string; amountMinor: string }[];
}

export async function sendPacket(
  app: App,
  sender: TestUser,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<PacketJsonForTest> {
  const response = await asUser(app, sender, 'POST', '/v1/redpackets', { pin: testPin, mode: 'lucky', ...body }, headers);
  assert.equal(response.statusCode, 201, response.body);
  return response.json<PacketJsonForTest>();
}

export function grab(app: App, user: TestUser, packetId: string) {
  return asUser(app, user, 'POST', `/v1/redpackets/${packetId}/grab`);
}

/** Pays every claimed share now, as the background settler would. */
export async function settleAll(app: App): Promise<void> {
  await app.redPackets.settleNow();
}

/** The grab paths to test: PostgreSQL always; Redis too when REDIS_URL is set (CI sets it). */
export function grabPaths(): { readonly name: 'postgres' | 'redis'; readonly env: Record<string, string> }[] {
  const url = process.env['REDIS_URL'];
  return [{ name: 'postgres', env: {} }, ...(url === undefined || url === '' ? [] : [{ name: 'redis' as const, env: { REDIS_URL: url } }])];
}
