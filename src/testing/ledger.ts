import { FakeClock } from '../kernel/clock.ts';
import type { LedgerConfig } from '../kernel/config.ts';
import { createIdGenerator } from '../kernel/ids.ts';
import { SeededRandom } from '../kernel/random.ts';
import { Ledger, type CreateAccountInput } from '../ledger/index.ts';
import type { Sql } from '../kernel/db.ts';

/** Factories for ledger tests: a ledger on a fake clock, and accounts with sensible defaults. */
export const testLedgerConfig: LedgerConfig = {
  transferAmountMaxMinor: 100_000_000_000n,
  batchLingerMs: 1,
  batchSizeMax: 500,
  expirySweepIntervalMs: 1000,
};

export function createTestLedger(sql: Sql, options: { seed?: number; config?: Partial<LedgerConfig> } = {}) {
  const clock = new FakeClock();
  const random = new SeededRandom(options.seed ?? 1);
  const ids = createIdGenerator(clock, random);
  const ledger = new Ledger({ sql, clock, ids, config: { ...testLedgerConfig, ...options.config } });
  return { ledger, clock, ids };
}

export function walletInput(overrides: Partial<CreateAccountInput> = {}): CreateAccountInput {
  return { currency: 'CNY', code: 'user.wallet', noOverdraft: true, ...overrides };
}

/** A system account that may go negative (the bank, a campaign's source of funds). */
export function systemInput(overrides: Partial<CreateAccountInput> = {}): CreateAccountInput {
  return { currency: 'CNY', code: 'system.bank', noOverdraft: false, ...overrides };
}
