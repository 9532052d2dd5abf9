import { api, ApiError } from './api.ts';
import { fill, problemText, type MessageKey } from './i18n.tsx';

/** Red packets as the web app reads them (GET/POST /v1/redpackets…); money is a digit string of fen. */
export type PacketMode = 'lucky' | 'fixed';
export type PacketState = 'funding' | 'active' | 'empty' | 'expired' | 'refunded' | 'failed';
export type Box = 'inbox' | 'sent' | 'received';
export const boxes: readonly Box[] = ['inbox', 'sent', 'received'];

/** The server's default greeting, sent as it is whatever the app's language. */
export const greetingDefault = '恭喜发财，大吉大利';
export const greetingLengthMax = 40;
/**
 * The limits the server enforces (its defaults), checked first in the app so the form can say what
 * to fix; the server has the last word. A share is ¥0.01 to ¥200 on average; at most 100 shares.
 */
export const sharesMax = 100;
const shareMinMinor = 1n;
const shareAverageMaxMinor = 20_000n;

export interface Grab {
  readonly userId: string;
  readonly displayName: string;
  readonly amountMinor: string;
  readonly grabbedAt: string;
}

export interface Packet {
  readonly id: string;
  readonly mode: PacketMode;
  readonly state: PacketState;
  readonly sender: { readonly userId: string; readonly displayName: string };
  readonly to:
    | { readonly type: 'user'; readonly userId: string; readonly displayName: string }
    | { readonly type: 'group'; readonly groupId: string; readonly name: string }
    /** A fission packet: a rain's winner hands it to their friends (the campaign pays); `name` is the rain's. */
    | { readonly type: 'fission'; readonly rainId: string; readonly name: string };
  readonly amountMinor: string;
  readonly shareCount: number;
  readonly greeting: string;
  readonly splitSha256: string;
  readonly grabbedCount: number;
  readonly grabbedMinor: string;
  readonly refundMinor: string | null;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly mine: { readonly amountMinor: string; readonly grabbedAt: string; readonly settled: boolean } | null;
  readonly bestLuck: Grab | null;
  readonly grabs: readonly Grab[];
}

export interface PacketListItem {
  readonly id: string;
  readonly mode: PacketMode;
  readonly senderName: string;
  readonly targetName: string;
  readonly amountMinor: string;
  readonly shareCount: number;
  readonly greeting: string;
  readonly state: 'active' | 'expired' | 'refunded';
  readonly toType: 'user' | 'group' | 'fission';
  readonly myAmountMinor: string | null;
  readonly createdAt: string;
}

export interface PacketPage {
  readonly packets: readonly PacketListItem[];
  readonly nextBefore: string | null;
}

export interface SplitRules {
  readonly lucky: string;
  readonly fixed: string;
  readonly expiry: string;
}

export interface SendRequest {
  readonly mode: PacketMode;
  readonly amountMinor: string;
  readonly count: number;
  readonly target: { readonly toUserId: string } | { readonly groupId: string };
  readonly greeting: string;
  readonly pin: string;
}

export function fetchPacket(id: string): Promise<Packet> {
  return api<Packet>('GET', `/v1/redpackets/${encodeURIComponent(id)}`);
}

/**
 * A page of a box, newest first, at the server's default size (20). No `limit`: the route's
 * schema types it as an integer, and a query string arrives as text, so any limit is refused.
 */
export function fetchBox(box: Box, before: string | null): Promise<PacketPage> {
  const query = new URLSearchParams({ box });
  if (before !== null) query.set('before', before);
  return api<PacketPage>('GET', `/v1/redpackets?${query.toString()}`);
}

export function fetchRules(): Promise<SplitRules> {
  return api<SplitRules>('GET', '/v1/redpackets/rules');
}

/** Sends a packet (the api() helper adds the Idempotency-Key); an empty greeting takes the default. */
export function sendPacket(request: SendRequest): Promise<Packet> {
  return api<Packet>('POST', '/v1/redpackets', {
    mode: request.mode,
    amountMinor: request.amountMinor,
    count: request.count,
    ...request.target,
    ...(request.greeting.trim() === '' ? {} : { greeting: request.greeting.trim() }),
    pin: request.pin,
  });
}

/** What opening an envelope came to: my share, too slow, too late, or another problem to show. */
export type OpenOutcome =
  | { readonly kind: 'won'; readonly amountMinor: string; readonly settled: boolean }
  | { readonly kind: 'empty' }
  | { readonly kind: 'expired' }
  | { readonly kind: 'failed'; readonly problem: unknown };

/** Grabs a share: 201 (new) and 200 (the one I already had) both answer my share. */
export async function openPacket(id: string): Promise<OpenOutcome> {
  try {
    const share = await api<{ amountMinor: string; settled: boolean }>('POST', `/v1/redpackets/${encodeURIComponent(id)}/grab`);
    return { kind: 'won', amountMinor: share.amountMinor, settled: share.settled };
  } catch (caught) {
    if (caught instanceof ApiError && caught.problem.code === 'redpacket.empty') return { kind: 'empty' };
    if (caught instanceof ApiError && caught.problem.code === 'redpacket.expired') return { kind: 'expired' };
    return { kind: 'failed', problem: caught };
  }
}

/**
 * May I open this packet now? Not when it is closed, and not a 1:1 or fission packet I sent (my
 * friends open it); my own group packets I may.
 */
export function canOpen(packet: Packet, myUserId: string): boolean {
  if (packet.state !== 'active' || packet.mine !== null) return false;
  return packet.to.type === 'group' || packet.sender.userId !== myUserId;
}

/** Where a fission packet came from: 来自「rain」的裂变红包, or just 裂变红包 when the name is not known. */
export function fissionLabel(t: (key: MessageKey) => string, rainName: string): string {
  return rainName === '' ? t('rp_fission') : fill(t('rp_fissionOf'), { name: rainName });
}

const problemKeys: Readonly<Record<string, MessageKey>> = {
  'redpacket.friend_packet_single_share': 'rp_err_friend_packet_single_share',
  'redpacket.too_many_shares': 'rp_err_too_many_shares',
  'redpacket.more_shares_than_members': 'rp_err_more_shares_than_members',
  'redpacket.share_too_small': 'rp_err_share_too_small',
  'redpacket.share_too_large': 'rp_err_share_too_large',
  'redpacket.fixed_not_divisible': 'rp_err_fixed_not_divisible',
  'redpacket.own_packet': 'rp_err_own_packet',
  'redpacket.not_found': 'rp_err_not_found',
  'redpacket.not_ready': 'rp_err_not_ready',
  'redpacket.empty': 'rp_empty',
  'redpacket.expired': 'rp_expired',
  'request.rate_limited': 'rp_err_rate_limited',
  'identity.pin_wrong': 'rp_err_pin_wrong',
  'identity.pin_locked': 'rp_err_pin_locked',
  'ledger.insufficient_funds': 'rp_err_insufficient_funds',
  'payments.unverified_daily_limit_exceeded': 'rp_err_daily_limit',
  'social.friend_not_found': 'rp_err_friend_not_found',
  'social.group_not_found': 'rp_err_group_not_found',
};

/** A red packet problem in the app's language; codes it does not know show the server's detail. */
export function packetProblemText(t: (key: MessageKey) => string, caught: unknown): string {
  return problemText(t, caught, problemKeys);
}

/** What is wrong with a packet's shape before it is sent, in the server's precedence order. */
export function sendProblemKey(input: { totalMinor: string; count: number; memberCount: number | null }): MessageKey | undefined {
  const count = BigInt(input.count);
  if (input.count > sharesMax) return 'rp_err_too_many_shares';
  if (BigInt(input.totalMinor) < count * shareMinMinor) return 'rp_err_share_too_small';
  if (BigInt(input.totalMinor) > count * shareAverageMaxMinor) return 'rp_err_share_too_large';
  if (input.memberCount !== null && input.count > input.memberCount) return 'rp_err_more_shares_than_members';
  return undefined;
}
