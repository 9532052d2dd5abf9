import { createHmac, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Random } from '../kernel/random.ts';

/**
 * Payment PINs are checked with HMAC-SHA256 under a server key, not a slow hash (ADR 0005): a
 * 6-digit PIN has only a million values, so no hash cost protects a leaked table for long, while a
 * key kept outside the database makes the table alone worthless. Online guessing is stopped by the
 * lockout (5 wrong → 15 minutes). The key comes from QIANBAO_PIN_KEY (64 hex digits) or is
 * generated once and kept in `<dataDir>/pin-key`; losing it means every user re-sets their PIN
 * with their password.
 */
export const pinKeyFileName = 'pin-key';
const keyBytes = 32;
const hashPrefix = 'hmac-sha256:v1:';

export async function resolvePinKey(options: { configured: string | undefined; dataDir: string; random: Random }): Promise<Buffer> {
  if (options.configured !== undefined) {
    if (!/^[0-9a-f]{64}$/i.test(options.configured)) throw new Error('QIANBAO_PIN_KEY must be 64 hex digits');
    return Buffer.from(options.configured, 'hex');
  }
  const file = path.resolve(options.dataDir, pinKeyFileName);
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing !== undefined && /^[0-9a-f]{64}\s*$/i.test(existing)) return Buffer.from(existing.trim(), 'hex');
  const key = Buffer.from(options.random.bytes(keyBytes));
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' }).catch((error: unknown) => {
    // Another process wrote it first: use theirs.
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
  });
  await chmod(file, 0o600);
  const written = (await readFile(file, 'utf8')).trim();
  return Buffer.from(written, 'hex');
}

export function hashPin(key: Buffer, userId: string, pin: string): string {
  return `${hashPrefix}${createHmac('sha256', key).update(`${userId}:${pin}`).digest('hex')}`;
}

export function isPinHash(stored: string): boolean {
  return stored.startsWith(hashPrefix);
}

export function pinMatches(key: Buffer, userId: string, pin: string, stored: string): boolean {
  const expected = Buffer.from(hashPin(key, userId, pin));
  const actual = Buffer.from(stored);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
