import argon2 from 'argon2';
import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import type { IdGenerator } from '../kernel/ids.ts';
import type { Random } from '../kernel/random.ts';
import { isSessionTokenFormat, newSessionToken, sha256Hex } from '../kernel/tokens.ts';
import './errors.ts';

/**
 * Operator accounts: people who run the platform, separate from wallet users. A user's session
 * token is not an operator token and opens nothing under /v1/admin.
 */
export type OperatorRole = 'admin' | 'operator' | 'viewer';

export interface Operator {
  readonly id: string;
  readonly username: string;
  readonly displayName: string;
  readonly role: OperatorRole;
}

interface OperatorRow {
  id: string;
  username: string;
  display_name: string;
  password_hash: string;
  role: OperatorRole;
  failed_logins: number;
  locked_until: Date | null;
  disabled_at: Date | null;
}

const sessionTtlMs = 12 * 3600_000;
const failuresMax = 5;
const lockMs = 30 * 60_000;
const passwordLengthMin = 12;


function toOperator(row: OperatorRow): Operator {
  return { id: row.id, username: row.username, displayName: row.display_name, role: row.role };
}

export class Operators {
  private readonly decoyHash: Promise<string>;

  constructor(private readonly deps: { readonly sql: Sql; readonly clock: Clock; readonly random: Random; readonly ids: IdGenerator }) {
    this.decoyHash = argon2.hash('decoy-operator-password', { type: argon2.argon2id });
  }

  async create(input: { username: string; password: string; displayName?: string; role: OperatorRole }): Promise<Operator> {
    if (!/^[a-z][a-z0-9_.-]{2,31}$/.test(input.username)) throw new DomainError('operator.username_invalid');
    if (input.password.length < passwordLengthMin) throw new DomainError('operator.password_too_weak');
    const id = this.deps.ids.next('op');
    const passwordHash = await argon2.hash(input.password, { type: argon2.argon2id });
    const rows = await this.deps.sql<OperatorRow[]>`
      INSERT INTO operator_accounts (id, username, display_name, password_hash, role, created_at)
      VALUES (${id}, ${input.username}, ${input.displayName ?? input.username}, ${passwordHash}, ${input.role}, ${this.deps.clock.now()})
      ON CONFLICT (username) DO NOTHING
      RETURNING *`;
    const row = rows[0];
    if (row === undefined) throw new DomainError('operator.username_taken');
    return toOperator(row);
  }

  async count(): Promise<number> {
    const [row] = await this.deps.sql<{ n: bigint }[]>`SELECT count(*)::int8 AS n FROM operator_accounts`;
    return Number(row?.n ?? 0n);
  }

  async logIn(input: { username: string; password: string }): Promise<{ token: string; expiresAt: Date; operator: Operator }> {
    const rows = await this.deps.sql<OperatorRow[]>`SELECT * FROM operator_accounts WHERE username = ${input.username}`;
    const row = rows[0];
    const now = this.deps.clock.now();
    if (row === undefined || row.disabled_at !== null) {
      await argon2.verify(await this.decoyHash, input.password);
      throw new DomainError('operator.login_failed');
    }
    if (row.locked_until !== null && row.locked_until > now) throw new DomainError('operator.login_locked', { detail: `locked until ${row.locked_until.toISOString()}` });
    if (!(await argon2.verify(row.password_hash, input.password))) {
      const lockUntil = new Date(now.getTime() + lockMs);
      await this.deps.sql`
        UPDATE operator_accounts
        SET failed_logins = CASE WHEN failed_logins + 1 >= ${failuresMax} THEN 0 ELSE failed_logins + 1 END,
            locked_until = CASE WHEN failed_logins + 1 >= ${failuresMax} THEN ${lockUntil} ELSE locked_until END
        WHERE id = ${row.id}`;
      throw new DomainError('operator.login_failed');
    }
    await this.deps.sql`UPDATE operator_accounts SET failed_logins = 0, locked_until = NULL WHERE id = ${row.id}`;
    const token = newSessionToken(this.deps.random);
    const expiresAt = new Date(now.getTime() + sessionTtlMs);
    await this.deps.sql`
      INSERT INTO operator_sessions (token_sha256, operator_id, created_at, expires_at)
      VALUES (${sha256Hex(token)}, ${row.id}, ${now}, ${expiresAt})`;
    return { token, expiresAt, operator: toOperator(row) };
  }

  async authenticate(token: string): Promise<Operator | undefined> {
    if (!isSessionTokenFormat(token)) return undefined;
    const rows = await this.deps.sql<OperatorRow[]>`
      SELECT o.* FROM operator_sessions s JOIN operator_accounts o ON o.id = s.operator_id
      WHERE s.token_sha256 = ${sha256Hex(token)} AND s.revoked_at IS NULL AND s.expires_at > ${this.deps.clock.now()}
        AND o.disabled_at IS NULL`;
    const row = rows[0];
    return row === undefined ? undefined : toOperator(row);
  }

  async logOut(token: string): Promise<void> {
    await this.deps.sql`UPDATE operator_sessions SET revoked_at = ${this.deps.clock.now()} WHERE token_sha256 = ${sha256Hex(token)} AND revoked_at IS NULL`;
  }
}
