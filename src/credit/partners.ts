import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import type { IdGenerator } from '../kernel/ids.ts';
import type { Ledger } from '../ledger/index.ts';
import './errors.ts';

/**
 * Partners (a bike, a hotel, a power bank, a lender) registered by operators: the purposes they
 * may ask users for, the score they require, their own ledger account (deposits held for them and
 * damage charges go there), and an API key shown once and stored as its sha256.
 */
export const partnerKinds = ['bike', 'hotel', 'power_bank', 'rental', 'lender', 'other'] as const;
export const partnerPurposes = ['credit.score.share', 'credit.deposit_waiver', 'data.collect.payments'] as const;

export interface PartnerRow {
  id: string;
  name: string;
  kind: (typeof partnerKinds)[number];
  purposes: string[];
  score_threshold: number;
  key_sha256: string;
  account_id: string;
  created_by: string;
  created_at: Date;
  disabled_at: Date | null;
}

const keySha256 = (key: string): string => createHash('sha256').update(key).digest('hex');

export class Partners {
  constructor(private readonly deps: { readonly sql: Sql; readonly clock: Clock; readonly ids: IdGenerator; readonly ledger: Ledger }) {}

  /** Registers a partner: its account and a fresh API key, which this answer is the only place to see. */
  async register(operatorId: string, input: { readonly name: string; readonly kind: PartnerRow['kind']; readonly purposes: readonly string[]; readonly scoreThreshold: number }): Promise<{ readonly partner: PartnerRow; readonly apiKey: string }> {
    const id = this.deps.ids.next('ptn');
    const accountId = this.deps.ids.next('acct');
    const apiKey = `qbp_${randomBytes(24).toString('base64url')}`;
    await this.deps.ledger.createAccount({ id: accountId, currency: 'CNY', code: 'partner', ownerId: id, noOverdraft: true });
    const [row] = await this.deps.sql<PartnerRow[]>`
      INSERT INTO credit_partners (id, name, kind, purposes, score_threshold, key_sha256, account_id, created_by, created_at)
      VALUES (${id}, ${input.name}, ${input.kind}, ${[...new Set(input.purposes)]}, ${input.scoreThreshold}, ${keySha256(apiKey)}, ${accountId}, ${operatorId}, ${this.deps.clock.now()})
      RETURNING *`;
    if (row === undefined) throw new Error('the partner was not inserted');
    return { partner: row, apiKey };
  }

  async get(id: string): Promise<PartnerRow | undefined> {
    const [row] = await this.deps.sql<PartnerRow[]>`SELECT * FROM credit_partners WHERE id = ${id}`;
    return row;
  }

  list(): Promise<PartnerRow[]> {
    return this.deps.sql<PartnerRow[]>`SELECT * FROM credit_partners ORDER BY created_at DESC LIMIT 500`;
  }

  async byKey(key: string): Promise<PartnerRow | undefined> {
    const [row] = await this.deps.sql<PartnerRow[]>`SELECT * FROM credit_partners WHERE key_sha256 = ${keySha256(key)} AND disabled_at IS NULL`;
    return row;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    partner: PartnerRow | null;
  }
}

/** onRequest hook of the partner API: `Authorization: Bearer qbp_…`, or 401 in problem+json. */
export function authenticatePartner(partners: Partners) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization ?? '';
    const key = header.startsWith('Bearer qbp_') ? header.slice('Bearer '.length) : undefined;
    const partner = key === undefined ? undefined : await partners.byKey(key);
    if (partner === undefined) throw new DomainError('credit.partner_unauthorized', { detail: 'send Authorization: Bearer <the partner API key>' });
    request.partner = partner;
  };
}

export function currentPartner(request: FastifyRequest): PartnerRow {
  if (request.partner === null) throw new DomainError('credit.partner_unauthorized');
  return request.partner;
}

export function partnerJson(row: PartnerRow) {
  return { id: row.id, name: row.name, kind: row.kind, purposes: row.purposes, scoreThreshold: row.score_threshold, accountId: row.account_id, createdAt: row.created_at.toISOString(), disabled: row.disabled_at !== null };
}
