import { createHash } from 'node:crypto';
import type { Random } from './random.ts';

/**
 * Opaque session tokens, for wallet users and operators alike: 32 random bytes in base64url
 * (43 characters) handed to the client, and only their sha256 stored, so a leaked sessions table
 * holds nothing usable.
 */
const tokenBytes = 32;
const tokenPattern = /^[A-Za-z0-9_-]{43}$/;

export function newSessionToken(random: Random): string {
  return Buffer.from(random.bytes(tokenBytes)).toString('base64url');
}

/** A cheap refusal before any lookup: anything that cannot be a token is no session. */
export function isSessionTokenFormat(token: string): boolean {
  return tokenPattern.test(token);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
