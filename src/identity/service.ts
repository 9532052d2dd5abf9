import argon2 from 'argon2';
import { batched } from '../kernel/batch.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import type { IdGenerator } from '../kernel/ids.ts';
import type { Random } from '../kernel/random.ts';
import { isSessionTokenFormat, newSessionToken, sha256Hex } from '../kernel/tokens.ts';
import type { Ledger } from '../ledger/index.ts';
import './errors.ts';
import { hashPin, isPinHash, pinMatches } from './pin-key.ts';
import {
  idNumberProblem,
  isPinFormat,
  isWeakPin,
  loginFailuresMax,
  loginLockMs,
  maskIdNumber,
  normalizeMobile,
  passwordProblem,
  pinFailuresMax,
  pinLockMs,
  realNameProblem,
  sessionTtlMs,
} from './model.ts';
import {
  clearFailures,
  insertSession,
  insertUser,
  recordFailure,
  revokeSession,
  searchUsers,
  selectSessionUsers,
  selectUser,
  selectUsers,
  selectUserByMobile,
  updatePinHash,
  updateRealName,
  type SessionUserRow,
  type UserRow,
} from './store.ts';

/** The signed-in user, as routes of every module see it. */
export interface AuthUser {
  readonly id: string;
  readonly mobile: string;
  readonly displayName: string;
  readonly walletAccountId: string;
  readonly realNameVerified: boolean;
  readonly hasPin: boolean;
}

export interface Session {
  readonly token: string;
  readonly expiresAt: Date;
  readonly user: AuthUser;
}

export function toAuthUser(row: SessionUserRow): AuthUser {
  return {
    id: row.id,
    mobile: row.mobile,
    displayName: row.display_name,
    walletAccountId: row.wallet_account_id,
    realNameVerified: row.real_name_verified_at !== null,
    hasPin: row.pin_hash !== null,
  };
}


/** argon2id with the library's defaults (64 MiB, 3 passes): a hash takes tens of milliseconds. */
const argon2Options = { type: argon2.argon2id } as const;

export class Identity {
  /** A real hash to verify against when the mobile number is unknown, so timing says nothing. */
  private readonly decoyHash: Promise<string>;

  constructor(
    private readonly deps: {
      readonly sql: Sql;
      readonly clock: Clock;
      readonly random: Random;
      readonly ids: IdGenerator;
      readonly ledger: Ledger;
      /** The HMAC key for payment PINs (see pin-key.ts). */
      readonly pinKey: Buffer;
    },
  ) {
    this.decoyHash = argon2.hash('decoy-password-0', argon2Options);
  }

  /** Session and user reads of concurrent requests share one statement (kernel/batch.ts). */
  private readonly sessionUser = batched<string, SessionUserRow | undefined>(async (hashes) => {
    const rows = await selectSessionUsers(this.deps.sql, hashes, this.deps.clock.now());
    const byHash = new Map(rows.map((row) => [row.token_sha256, row]));
    return hashes.map((hash) => byHash.get(hash));
  });

  /**
   * The row each request's user was authenticated from, a moment before its payment's PIN check:
   * that check reads it here instead of reading the user again. Per request, gone with it.
   */
  private readonly authenticatedRows = new WeakMap<AuthUser, SessionUserRow>();

  private readonly userRow = batched<string, UserRow | undefined>(async (ids) => {
    const rows = await selectUsers(this.deps.sql, ids);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id));
  });

  /** Creates the user and their wallet account in one transaction, and signs them in. */
  async signUp(input: { mobile: string; password: string; displayName?: string | undefined }): Promise<Session> {
    const mobile = normalizeMobile(input.mobile);
    if (mobile === undefined) throw new DomainError('identity.mobile_invalid', { detail: 'use an 11-digit mainland mobile number' });
    const weak = passwordProblem(input.password, mobile);
    if (weak !== undefined) throw new DomainError('identity.password_too_weak', { detail: weak });
    if ((await selectUserByMobile(this.deps.sql, mobile)) !== undefined) {
      throw new DomainError('identity.mobile_taken', { detail: 'log in instead, or use another number' });
    }
    const passwordHash = await argon2.hash(input.password, argon2Options);
    const userId = this.deps.ids.next('usr');
    const walletAccountId = this.deps.ids.next('acct');
    const now = this.deps.clock.now();
    const displayName = input.displayName?.trim() || `用户${mobile.slice(-4)}`;
    try {
      await this.deps.sql.begin(async (tx) => {
        await this.deps.ledger.createAccount(
          { id: walletAccountId, currency: 'CNY', code: 'user.wallet', ownerId: userId, noOverdraft: true },
          tx,
        );
        await insertUser(tx, { id: userId, mobile, displayName, passwordHash, walletAccountId, createdAt: now });
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new DomainError('identity.mobile_taken', { detail: 'log in instead, or use another number' });
      throw error;
    }
    return this.openSession(userId);
  }

  async logIn(input: { mobile: string; password: string }): Promise<Session> {
    const mobile = normalizeMobile(input.mobile);
    const user = mobile === undefined ? undefined : await selectUserByMobile(this.deps.sql, mobile);
    const now = this.deps.clock.now();
    if (user === undefined) {
      await argon2.verify(await this.decoyHash, input.password);
      throw new DomainError('identity.login_failed', { detail: 'check the mobile number and password' });
    }
    if (user.login_locked_until !== null && user.login_locked_until > now) {
      throw new DomainError('identity.login_locked', { detail: `try again after ${user.login_locked_until.toISOString()}`, lockedUntil: user.login_locked_until.toISOString() });
    }
    if (!(await argon2.verify(user.password_hash, input.password))) {
      const lockUntil = new Date(now.getTime() + loginLockMs);
      const locked = await recordFailure(this.deps.sql, user.id, 'login', loginFailuresMax, lockUntil);
      if (locked) throw new DomainError('identity.login_locked', { detail: `too many failed logins; try again after ${lockUntil.toISOString()}`, lockedUntil: lockUntil.toISOString() });
      throw new DomainError('identity.login_failed', { detail: 'check the mobile number and password' });
    }
    await clearFailures(this.deps.sql, user.id, 'login');
    return this.openSession(user.id);
  }

  async logOut(token: string): Promise<void> {
    await revokeSession(this.deps.sql, sha256Hex(token), this.deps.clock.now());
  }

  /** The user behind a session token, if it is live. */
  async authenticate(token: string): Promise<AuthUser | undefined> {
    if (!isSessionTokenFormat(token)) return undefined;
    const row = await this.sessionUser(sha256Hex(token));
    if (row === undefined) return undefined;
    const user = toAuthUser(row);
    this.authenticatedRows.set(user, row);
    return user;
  }

  async getUser(userId: string): Promise<AuthUser | undefined> {
    const row = await this.userRow(userId);
    return row === undefined ? undefined : toAuthUser(row);
  }

  async findByMobile(mobileInput: string): Promise<AuthUser | undefined> {
    const mobile = normalizeMobile(mobileInput);
    if (mobile === undefined) throw new DomainError('identity.mobile_invalid', { detail: 'use an 11-digit mainland mobile number' });
    const row = await selectUserByMobile(this.deps.sql, mobile);
    return row === undefined ? undefined : toAuthUser(row);
  }

  /** Users for the operator console (mobile prefix of digits only), newest first. */
  async searchUsers(filter: { mobilePrefix?: string | undefined; beforeId?: string | undefined; limit: number }): Promise<(AuthUser & { createdAt: Date; realName: string | null })[]> {
    const mobilePrefix = filter.mobilePrefix !== undefined && /^[0-9]{1,11}$/.test(filter.mobilePrefix) ? filter.mobilePrefix : null;
    const rows = await searchUsers(this.deps.sql, { mobilePrefix, beforeId: filter.beforeId ?? null, limit: Math.min(Math.max(1, filter.limit), 100) });
    return rows.map((row) => ({ ...toAuthUser(row), createdAt: row.created_at, realName: row.real_name }));
  }

  /** Sets the first PIN (confirmed with the password) or changes it (confirmed with the old PIN). */
  async setPin(userId: string, input: { pin: string; password?: string | undefined; currentPin?: string | undefined }): Promise<void> {
    if (!isPinFormat(input.pin)) throw new DomainError('identity.pin_invalid_format', { detail: 'a payment PIN is 6 digits' });
    if (isWeakPin(input.pin)) throw new DomainError('identity.pin_invalid_format', { detail: 'choose a PIN that is not a run or a repeat of one digit' });
    const user = await selectUser(this.deps.sql, userId);
    if (user === undefined) throw new DomainError('identity.user_not_found');
    if (user.pin_hash === null) {
      if (input.password === undefined || !(await argon2.verify(user.password_hash, input.password))) {
        throw new DomainError('identity.login_failed', { detail: 'confirm with your password' });
      }
    } else {
      if (input.currentPin === undefined) throw new DomainError('identity.pin_already_set', { detail: 'to change it, give the current PIN' });
      await this.checkPin(user, input.currentPin);
    }
    await updatePinHash(this.deps.sql, userId, hashPin(this.deps.pinKey, userId, input.pin));
  }

  /**
   * Checks a payment PIN. Failures count in their own statement (not the payment's transaction,
   * which a wrong PIN never opens), so a crash or rollback cannot forget one; 5 in a row lock
   * payments for 15 minutes.
   */
  async verifyPin(authUser: AuthUser, pin: string): Promise<void> {
    await this.checkPin(await this.payerRow(authUser), pin);
  }

  /**
   * For a payment whose PIN is waived (a small payment-code charge): the user must still have a
   * PIN, and a PIN lock stops these payments too.
   */
  async assertCanPay(authUser: AuthUser): Promise<void> {
    const user = await this.payerRow(authUser);
    if (user.pin_hash === null) throw new DomainError('identity.pin_not_set', { detail: 'set a payment PIN first' });
    this.assertPinUnlocked(user);
  }

  /** The paying user's row: the one this request authenticated from, else read afresh. */
  private async payerRow(authUser: AuthUser): Promise<SessionUserRow> {
    const user = this.authenticatedRows.get(authUser) ?? (await this.userRow(authUser.id));
    if (user === undefined) throw new DomainError('identity.user_not_found');
    return user;
  }

  private assertPinUnlocked(user: SessionUserRow): void {
    if (user.pin_locked_until !== null && user.pin_locked_until > this.deps.clock.now()) {
      throw new DomainError('identity.pin_locked', { detail: `payments are locked until ${user.pin_locked_until.toISOString()}`, lockedUntil: user.pin_locked_until.toISOString() });
    }
  }

  private async checkPin(user: SessionUserRow, pin: string): Promise<void> {
    const userId = user.id;
    if (user.pin_hash === null) throw new DomainError('identity.pin_not_set', { detail: 'set a payment PIN first' });
    const now = this.deps.clock.now();
    this.assertPinUnlocked(user);
    if (!isPinFormat(pin) || !(await this.pinMatches(user.id, pin, user.pin_hash))) {
      const lockUntil = new Date(now.getTime() + pinLockMs);
      const locked = await recordFailure(this.deps.sql, userId, 'pin', pinFailuresMax, lockUntil);
      if (locked) throw new DomainError('identity.pin_locked', { detail: `too many wrong PINs; payments are locked until ${lockUntil.toISOString()}`, lockedUntil: lockUntil.toISOString() });
      throw new DomainError('identity.pin_wrong', { detail: 'the payment PIN is wrong' });
    }
    // Most payments follow a run of right PINs: only a count or a lock to clear costs a statement.
    if (user.failed_pins !== 0 || user.pin_locked_until !== null) await clearFailures(this.deps.sql, userId, 'pin');
  }

  /** PINs set before ADR 0005 were argon2 hashes; they still verify until the user changes the PIN. */
  private async pinMatches(userId: string, pin: string, stored: string): Promise<boolean> {
    return isPinHash(stored) ? pinMatches(this.deps.pinKey, userId, pin, stored) : argon2.verify(stored, pin);
  }

  /** Verifies the real name: format and checksum of the ID number; lifts the daily send limit. */
  async verifyRealName(userId: string, input: { realName: string; idNumber: string }): Promise<void> {
    const nameProblem = realNameProblem(input.realName);
    if (nameProblem !== undefined) throw new DomainError('request.invalid', { detail: nameProblem });
    const idProblem = idNumberProblem(input.idNumber, this.deps.clock.now());
    if (idProblem !== undefined) throw new DomainError('identity.id_number_invalid', { detail: idProblem });
    const user = await selectUser(this.deps.sql, userId);
    if (user === undefined) throw new DomainError('identity.user_not_found');
    if (user.real_name_verified_at !== null) throw new DomainError('identity.already_verified');
    const idNumber = input.idNumber.trim().toUpperCase();
    try {
      await updateRealName(this.deps.sql, userId, {
        realName: input.realName.trim(),
        idNumberMasked: maskIdNumber(idNumber),
        idNumberHash: sha256Hex(`qianbao:id-number:${idNumber}`),
        verifiedAt: this.deps.clock.now(),
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new DomainError('identity.id_number_taken');
      throw error;
    }
  }

  private async openSession(userId: string): Promise<Session> {
    const token = newSessionToken(this.deps.random);
    const now = this.deps.clock.now();
    const expiresAt = new Date(now.getTime() + sessionTtlMs);
    await insertSession(this.deps.sql, { tokenSha256: sha256Hex(token), userId, createdAt: now, expiresAt });
    const user = await this.getUser(userId);
    if (user === undefined) throw new DomainError('identity.user_not_found');
    return { token, expiresAt, user };
  }
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error).code === '23505';
}
