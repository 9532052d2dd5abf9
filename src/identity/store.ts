import type { Sql, TransactionSql } from '../kernel/db.ts';

/** SQL for identity: the only file that touches identity_* tables. */

type Db = Sql | TransactionSql;

export interface UserRow {
  id: string;
  mobile: string;
  display_name: string;
  password_hash: string;
  pin_hash: string | null;
  wallet_account_id: string;
  real_name: string | null;
  id_number_masked: string | null;
  real_name_verified_at: Date | null;
  failed_logins: number;
  login_locked_until: Date | null;
  failed_pins: number;
  pin_locked_until: Date | null;
  created_at: Date;
}

export async function insertUser(
  tx: TransactionSql,
  user: { id: string; mobile: string; displayName: string; passwordHash: string; walletAccountId: string; createdAt: Date },
): Promise<void> {
  await tx`
    INSERT INTO identity_users (id, mobile, display_name, password_hash, wallet_account_id, created_at)
    VALUES (${user.id}, ${user.mobile}, ${user.displayName}, ${user.passwordHash}, ${user.walletAccountId}, ${user.createdAt})`;
}

export async function selectUserByMobile(db: Db, mobile: string): Promise<UserRow | undefined> {
  const rows = await db<UserRow[]>`SELECT * FROM identity_users WHERE mobile = ${mobile}`;
  return rows[0];
}

export async function selectUser(db: Db, id: string): Promise<UserRow | undefined> {
  const rows = await db<UserRow[]>`SELECT * FROM identity_users WHERE id = ${id}`;
  return rows[0];
}

/** Many users by id in one statement (the batched reads of the payment path). */
export async function selectUsers(db: Db, ids: readonly string[]): Promise<UserRow[]> {
  return db<UserRow[]>`SELECT * FROM identity_users WHERE id = ANY(${ids as string[]}::text[])`;
}

/**
 * The two lockout counters: failed logins and wrong PINs. Each failure counts in one atomic
 * statement; at `max` in a row the counter restarts and the lock runs until `lockUntil`.
 */
const lockoutColumns = {
  login: { count: 'failed_logins', until: 'login_locked_until' },
  pin: { count: 'failed_pins', until: 'pin_locked_until' },
} as const;
export type Lockout = keyof typeof lockoutColumns;

/** Returns whether this failure locked the user. */
export async function recordFailure(db: Db, id: string, lockout: Lockout, max: number, lockUntil: Date): Promise<boolean> {
  const { count, until } = lockoutColumns[lockout];
  const rows = await db<{ locked: boolean }[]>`
    UPDATE identity_users
    SET ${db(count)} = CASE WHEN ${db(count)} + 1 >= ${max} THEN 0 ELSE ${db(count)} + 1 END,
        ${db(until)} = CASE WHEN ${db(count)} + 1 >= ${max} THEN ${lockUntil} ELSE ${db(until)} END
    WHERE id = ${id}
    RETURNING ${db(until)} IS NOT DISTINCT FROM ${lockUntil} AS locked`;
  return rows[0]?.locked ?? false;
}

export async function clearFailures(db: Db, id: string, lockout: Lockout): Promise<void> {
  const { count, until } = lockoutColumns[lockout];
  await db`UPDATE identity_users SET ${db(count)} = 0, ${db(until)} = NULL WHERE id = ${id} AND (${db(count)} <> 0 OR ${db(until)} IS NOT NULL)`;
}

export async function updatePinHash(db: Db, id: string, pinHash: string): Promise<void> {
  await db`UPDATE identity_users SET pin_hash = ${pinHash}, failed_pins = 0, pin_locked_until = NULL WHERE id = ${id}`;
}

export async function updateRealName(
  db: Db,
  id: string,
  fields: { realName: string; idNumberMasked: string; idNumberHash: string; verifiedAt: Date },
): Promise<void> {
  await db`
    UPDATE identity_users
    SET real_name = ${fields.realName}, id_number_masked = ${fields.idNumberMasked},
        id_number_hash = ${fields.idNumberHash}, real_name_verified_at = ${fields.verifiedAt}
    WHERE id = ${id}`;
}

export async function insertSession(db: Db, session: { tokenSha256: string; userId: string; createdAt: Date; expiresAt: Date }): Promise<void> {
  await db`
    INSERT INTO identity_sessions (token_sha256, user_id, created_at, expires_at)
    VALUES (${session.tokenSha256}, ${session.userId}, ${session.createdAt}, ${session.expiresAt})`;
}

/**
 * A signed-in user's row as a request holds it: every column but the password hash, which only
 * logging in and confirming with the password read, and the ID number's keyed hash (no request
 * should carry either around). store.pg.test.ts fails when identity_users gains a column the
 * session lookup does not name.
 */
export type SessionUserRow = Omit<UserRow, 'password_hash'>;

/** The users behind many live sessions, each row tagged with its token's hash. */
export async function selectSessionUsers(
  db: Db,
  tokenSha256s: readonly string[],
  now: Date,
): Promise<(SessionUserRow & { token_sha256: string })[]> {
  return db<(SessionUserRow & { token_sha256: string })[]>`
    SELECT s.token_sha256, u.id, u.mobile, u.display_name, u.pin_hash, u.wallet_account_id, u.real_name,
      u.id_number_masked, u.real_name_verified_at, u.failed_logins, u.login_locked_until, u.failed_pins,
      u.pin_locked_until, u.created_at
    FROM identity_sessions s JOIN identity_users u ON u.id = s.user_id
    WHERE s.token_sha256 = ANY(${tokenSha256s as string[]}::text[]) AND s.revoked_at IS NULL
      AND s.expires_at > ${now}`;
}

export async function revokeSession(db: Db, tokenSha256: string, now: Date): Promise<void> {
  await db`UPDATE identity_sessions SET revoked_at = ${now} WHERE token_sha256 = ${tokenSha256} AND revoked_at IS NULL`;
}

/** Users for the operator console: by mobile prefix, newest first, keyset-paginated by id. */
export async function searchUsers(db: Db, filter: { mobilePrefix: string | null; beforeId: string | null; limit: number }): Promise<UserRow[]> {
  const prefix = filter.mobilePrefix === null ? null : `${filter.mobilePrefix}%`;
  return db<UserRow[]>`
    SELECT * FROM identity_users
    WHERE (${prefix}::text IS NULL OR mobile LIKE ${prefix})
      AND (${filter.beforeId}::text IS NULL OR id < ${filter.beforeId})
    ORDER BY id DESC LIMIT ${filter.limit}`;
}
