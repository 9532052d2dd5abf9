import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import type { IdGenerator } from '../kernel/ids.ts';
import './errors.ts';
import type { PartnerRow } from './partners.ts';
import { consentText } from './texts.ts';

/**
 * Consent: grants created only by an explicit act (`agree: true` with the sha256 of the text the
 * user was shown), listed and revoked at any time, and read live on every use — revocation takes
 * effect on the next read because nothing caches a grant. And the access log: every read of a
 * user's data by a partner or a feature is recorded with who, what, which purpose and which grant,
 * before the data is handed over; a refused read records the refusal and nothing else.
 */
export interface GrantRow {
  id: string;
  user_id: string;
  purpose: string;
  partner_id: string | null;
  text_version: number;
  text_sha256: string;
  scope: { readonly level: string };
  agreed_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

export interface GrantInput {
  readonly purpose: string;
  readonly partnerId?: string | undefined;
  readonly scope?: string | undefined;
  readonly textSha256: string;
  /** Must be exactly true: nothing defaults to agreed. */
  readonly agree?: unknown;
  readonly days?: number | undefined;
}

export interface Accessor {
  readonly kind: 'partner' | 'feature' | 'public';
  readonly id: string;
  readonly name: string;
}

export interface AccessRow {
  id: string;
  accessor_kind: string;
  accessor_id: string;
  accessor_name: string;
  purpose: string;
  grant_id: string | null;
  data: string;
  outcome: 'allowed' | 'refused';
  reason: string | null;
  at: Date;
}

export class Consent {
  constructor(private readonly deps: { readonly sql: Sql; readonly clock: Clock; readonly ids: IdGenerator; readonly partner: (id: string) => Promise<PartnerRow | undefined> }) {}

  /**
   * Grants a purpose. Precedence: agree (422), purpose (422), text hash (422), partner (422/404),
   * scope (422). A new grant of the same purpose to the same partner replaces the live one.
   */
  async grant(userId: string, input: GrantInput): Promise<GrantRow> {
    if (input.agree !== true) throw new DomainError('consent.agree_required', { detail: 'send agree: true with the sha256 of the text you showed the user; nothing is agreed by default' });
    const text = consentText(input.purpose);
    if (text === undefined) throw new DomainError('consent.unknown_purpose', { detail: `no purpose ${input.purpose}` });
    if (input.textSha256 !== text.sha256) throw new DomainError('consent.text_mismatch', { detail: `the current text of ${text.purpose} is version ${String(text.version)}; show it and send its sha256`, currentVersion: text.version, currentSha256: text.sha256 });
    let partnerId: string | null = null;
    if (text.needsPartner) {
      if (input.partnerId === undefined) throw new DomainError('consent.partner_required', { detail: `${text.purpose} is a grant to a named partner: send partnerId` });
      const partner = await this.deps.partner(input.partnerId);
      if (partner === undefined || partner.disabled_at !== null || !partner.purposes.includes(text.purpose)) throw new DomainError('credit.partner_not_found', { detail: 'no active partner asks for this purpose under that id' });
      partnerId = partner.id;
    }
    const level = input.scope ?? text.scopes[0] ?? '';
    if (!text.scopes.includes(level)) throw new DomainError('consent.scope_invalid', { detail: `${text.purpose} offers ${text.scopes.join(', ')}` });
    const days = input.days ?? text.defaultDays;
    if (!Number.isInteger(days) || days < 1 || days > text.maxDays) throw new DomainError('consent.scope_invalid', { detail: `a ${text.purpose} grant lasts 1 to ${String(text.maxDays)} days` });
    const now = this.deps.clock.now();
    const id = this.deps.ids.next('cns');
    return this.deps.sql.begin(async (tx) => {
      await tx`
        UPDATE consent_grants SET revoked_at = ${now}
        WHERE user_id = ${userId} AND purpose = ${text.purpose} AND partner_id IS NOT DISTINCT FROM ${partnerId} AND revoked_at IS NULL AND expires_at > ${now}`;
      const [row] = await tx<GrantRow[]>`
        INSERT INTO consent_grants (id, user_id, purpose, partner_id, text_version, text_sha256, scope, agreed_at, expires_at)
        VALUES (${id}, ${userId}, ${text.purpose}, ${partnerId}, ${text.version}, ${text.sha256}, ${tx.json({ level })}, ${now}, ${new Date(now.getTime() + days * 86_400_000)})
        RETURNING *`;
      if (row === undefined) throw new Error('the grant was not inserted');
      return row;
    });
  }

  listGrants(userId: string): Promise<GrantRow[]> {
    return this.deps.sql<GrantRow[]>`SELECT * FROM consent_grants WHERE user_id = ${userId} ORDER BY agreed_at DESC, id DESC LIMIT 200`;
  }

  /** Revokes the user's own grant (another user's id answers 404); revoking twice changes nothing. */
  async revoke(userId: string, grantId: string): Promise<GrantRow> {
    const now = this.deps.clock.now();
    const [row] = await this.deps.sql<GrantRow[]>`
      UPDATE consent_grants SET revoked_at = coalesce(revoked_at, ${now}) WHERE id = ${grantId} AND user_id = ${userId} RETURNING *`;
    if (row === undefined) throw new DomainError('consent.grant_not_found', { detail: `no grant ${grantId}` });
    return row;
  }

  /** The live grant of a purpose (to a partner, or the user's own), read now: never cached. */
  async liveGrant(userId: string, purpose: string, partnerId: string | null): Promise<GrantRow | undefined> {
    const [row] = await this.deps.sql<GrantRow[]>`
      SELECT * FROM consent_grants
      WHERE user_id = ${userId} AND purpose = ${purpose} AND partner_id IS NOT DISTINCT FROM ${partnerId}
        AND revoked_at IS NULL AND expires_at > ${this.deps.clock.now()}
      ORDER BY agreed_at DESC LIMIT 1`;
    return row;
  }

  /**
   * A read of the user's data under a purpose: with a live grant the read is logged (before the
   * data leaves) and the grant returned; without one the refusal is logged, with why, and 403
   * `credit.consent_required` thrown.
   */
  async authorize(userId: string, purpose: string, accessor: Accessor, data: string, partnerId: string | null): Promise<GrantRow> {
    const grant = await this.liveGrant(userId, purpose, partnerId);
    if (grant === undefined) {
      const reason = await this.whyNot(userId, purpose, partnerId);
      await this.log(userId, accessor, purpose, null, data, 'refused', reason);
      throw new DomainError('credit.consent_required', { detail: `the user has ${reason}` });
    }
    await this.log(userId, accessor, purpose, grant.id, data, 'allowed', null);
    return grant;
  }

  private async whyNot(userId: string, purpose: string, partnerId: string | null): Promise<string> {
    const [last] = await this.deps.sql<GrantRow[]>`
      SELECT * FROM consent_grants WHERE user_id = ${userId} AND purpose = ${purpose} AND partner_id IS NOT DISTINCT FROM ${partnerId}
      ORDER BY (revoked_at IS NULL) DESC, agreed_at DESC LIMIT 1`;
    // With no live grant, one never revoked can only have expired.
    if (last === undefined) return `no ${purpose} grant`;
    if (last.revoked_at !== null) return `revoked the ${purpose} grant`;
    return `a ${purpose} grant that expired`;
  }

  async log(userId: string, accessor: Accessor, purpose: string, grantId: string | null, data: string, outcome: 'allowed' | 'refused', reason: string | null): Promise<void> {
    await this.deps.sql`
      INSERT INTO data_access_log (user_id, accessor_kind, accessor_id, accessor_name, purpose, grant_id, data, outcome, reason, at)
      VALUES (${userId}, ${accessor.kind}, ${accessor.id}, ${accessor.name}, ${purpose}, ${grantId}, ${data}, ${outcome}, ${reason}, ${this.deps.clock.now()})`;
  }

  /** "Who used my data": the user's access log, newest first. */
  accessLog(userId: string, limit = 200): Promise<AccessRow[]> {
    return this.deps.sql<AccessRow[]>`
      SELECT id::text, accessor_kind, accessor_id, accessor_name, purpose, grant_id, data, outcome, reason, at
      FROM data_access_log WHERE user_id = ${userId} ORDER BY at DESC, id DESC LIMIT ${limit}`;
  }
}
