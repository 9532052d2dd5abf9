/**
 * The social graph's types and pure rules: limits, name and message rules, cursors, lock keys.
 * No I/O.
 */
import { DomainError } from '../kernel/errors.ts';
import { idPattern, type IdGenerator } from '../kernel/ids.ts';
import { maskMobile } from '../identity/index.ts';
import './errors.ts';

/** Requests move pending → accepted | declined | cancelled, once. */
export type FriendRequestState = 'pending' | 'accepted' | 'declined' | 'cancelled';
export type RequestDirection = 'incoming' | 'outgoing';

/** What one user may see of another: never the full mobile number. */
export interface UserSummary {
  readonly userId: string;
  readonly displayName: string;
  readonly mobileMasked: string;
}

export function toUserSummary(userId: string, displayName: string, mobile: string): UserSummary {
  return { userId, displayName, mobileMasked: maskMobile(mobile) };
}

export interface FriendRequest {
  readonly id: string;
  readonly state: FriendRequestState;
  readonly message: string | null;
  readonly from: UserSummary;
  readonly to: UserSummary;
  readonly createdAt: Date;
  readonly resolvedAt: Date | null;
}

export interface Friend extends UserSummary {
  readonly since: Date;
}

export interface GroupSummary {
  readonly id: string;
  readonly name: string;
  readonly ownerId: string;
  readonly memberCount: number;
  readonly createdAt: Date;
  /** When the asking user joined. */
  readonly joinedAt: Date;
}

export interface GroupMember extends UserSummary {
  readonly isOwner: boolean;
  readonly joinedAt: Date;
}

export interface GroupDetail {
  readonly id: string;
  readonly name: string;
  readonly ownerId: string;
  readonly memberCount: number;
  readonly memberCountMax: number;
  readonly createdAt: Date;
  /** In joining order; the owner's successor is the first non-owner here. */
  readonly members: readonly GroupMember[];
}

export interface LeaveResult {
  readonly groupId: string;
  readonly dissolved: boolean;
  /** The owner after the leave; null once the group is dissolved. */
  readonly ownerId: string | null;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

/**
 * Caps that keep every query bounded: a friend list or a group is read whole in a few places
 * (sorting by name, the group detail), and these make that cheap. Tests shrink them.
 */
export interface SocialLimits {
  readonly friendCountMax: number;
  /** Pending requests one user may have out at once, so nobody can spam the whole directory. */
  readonly pendingOutgoingMax: number;
  readonly groupMemberCountMax: number;
  readonly groupsPerUserMax: number;
}

export const defaultSocialLimits: SocialLimits = {
  friendCountMax: 5000,
  pendingOutgoingMax: 200,
  groupMemberCountMax: 500,
  groupsPerUserMax: 500,
};

export const pageSizeMax = 100;
export const pageSizeDefault = 20;
export const requestMessageLengthMax = 60;
export const groupNameLengthMax = 30;
/** Members named when a group is created; more join by invitation. */
export const groupCreateMembersMax = 100;
/** A cursor is a few ids and a name; anything longer was not made by us. */
export const cursorLengthMax = 512;

export const userIdPattern = idPattern('usr');
export const groupIdPattern = idPattern('grp');
/** Friend-request ids are `frq_` plus a UUIDv7 (`req_` is the HTTP request id). */
export const friendRequestIdPattern = idPattern('frq');

export function nextFriendRequestId(ids: IdGenerator): string {
  return ids.next('frq');
}

/** A message is trimmed; an empty one is no message. */
export function normalizeMessage(message: string | undefined): string | null {
  const trimmed = message?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
}

/** A group name is trimmed and must keep a visible character (the schema checks the length). */
export function normalizeGroupName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '')
    throw new DomainError('request.invalid', { detail: 'a group name needs a visible character' });
  return trimmed;
}

/** One advisory-lock key per unordered pair: every change to a pair's requests or friendship takes it. */
export function pairLockKey(a: string, b: string): string {
  return a < b ? `social.pair:${a}:${b}` : `social.pair:${b}:${a}`;
}

export function userLockKey(userId: string): string {
  return `social.user:${userId}`;
}

export function pageLimit(raw: string | undefined): number {
  if (raw === undefined) return pageSizeDefault;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > pageSizeMax) {
    throw new DomainError('request.invalid', { detail: `limit is 1 to ${String(pageSizeMax)}` });
  }
  return limit;
}

/**
 * Cursors are opaque to clients (base64url of a tagged JSON array) so the paging key can change
 * without breaking them; the tag stops a friends cursor being replayed on the groups list.
 */
export function encodeCursor(tag: string, parts: readonly string[]): string {
  return Buffer.from(JSON.stringify([tag, ...parts]), 'utf8').toString('base64url');
}

export function decodeCursor(tag: string, cursor: string, arity: number): string[] {
  const parts = parseCursorJson(cursor);
  const [head, ...rest] = parts ?? [];
  const isValid =
    head === tag && rest.length === arity && rest.every((part) => typeof part === 'string');
  if (!isValid)
    throw new DomainError('request.invalid', { detail: 'cursor is not one this API returned' });
  return rest;
}

function parseCursorJson(cursor: string): unknown[] | undefined {
  if (cursor.length > cursorLengthMax || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(value) ? (value as unknown[]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A page from rows read with `limit + 1`: the extra row only says that more follow, so the last
 * page never hands out a cursor to an empty one.
 */
export function pageOf<T, R>(
  rows: readonly T[],
  limit: number,
  toItem: (row: T) => R,
  toCursor: (last: T) => string,
): Page<R> {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  const nextCursor = rows.length > limit && last !== undefined ? toCursor(last) : null;
  return { items: kept.map(toItem), nextCursor };
}
