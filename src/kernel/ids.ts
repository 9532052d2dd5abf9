import { v7 as uuidv7 } from 'uuid';
import type { Clock } from './clock.ts';
import type { Random } from './random.ts';

/**
 * Ids are a type prefix plus a UUIDv7 (time-ordered, so B-tree inserts stay at the right edge):
 * `acct_0190a6f2-…`. The prefix tells a human what an id is and lets handlers reject an id of the
 * wrong type before touching the database.
 */
export const idPrefixes = ['acct', 'txf', 'grp', 'usr', 'rpk', 'req', 'op', 'card', 'pay', 'shop', 'ord', 'frq', 'rfd', 'chg', 'rain', 'cmp', 'vch', 'ptn', 'cns', 'dep'] as const;
export type IdPrefix = (typeof idPrefixes)[number];

export interface IdGenerator {
  next(prefix: IdPrefix): string;
}

export function createIdGenerator(clock: Clock, random: Random): IdGenerator {
  return {
    next: (prefix) => `${prefix}_${uuidv7({ msecs: clock.nowMs(), random: random.bytes(16) })}`,
  };
}

const uuidPattern = '[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';

/** When an id was made: the UUIDv7's first 48 bits are its milliseconds since the epoch. */
export function idTimeMs(id: string): number {
  const hex = id.slice(id.indexOf('_') + 1).replaceAll('-', '').slice(0, 12);
  return Number.parseInt(hex, 16);
}

export function idPattern(prefix: IdPrefix): string {
  return `^${prefix}_${uuidPattern}$`;
}

export function isId(prefix: IdPrefix, value: string): boolean {
  return new RegExp(idPattern(prefix)).test(value);
}
