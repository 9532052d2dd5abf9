import { createHash } from 'node:crypto';
import type { Identity } from '../identity/index.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Sql, TransactionSql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import type { IdGenerator } from '../kernel/ids.ts';
import type { Ledger, TransferRequest } from '../ledger/index.ts';
import { depositStep, insertSettledPayments } from '../payments/index.ts';
import type { Consent } from './consent.ts';
import './errors.ts';
import type { PartnerRow } from './partners.ts';
import type { CreditScores } from './scores.ts';

/**
 * Deposit-free rentals (信用免押). A partner asks for a deposit: with a live
 * `credit.deposit_waiver` grant and a score at or over the partner's threshold it is waived (no
 * money held; the score read is logged under the grant); otherwise the amount is held on the
 * user's balance by a ledger hold (a pending transfer to the partner's account). Return voids the
 * hold; a charge posts part of it to the partner (the rest is released), or, for a waived deposit,
 * moves up to the deposit from the user's balance, as the grant's text says. Every step is a bill.
 * Ledger ids come from the request and the deposit, so retries move money once.
 */
export interface DepositRow {
  id: string;
  partner_id: string;
  user_id: string;
  amount_minor: bigint;
  description: string;
  request_key: string;
  request_sha256: string;
  status: 'waived' | 'held' | 'returned' | 'charged';
  grant_id: string | null;
  score: number | null;
  hold_transfer_id: string | null;
  charged_minor: bigint | null;
  created_at: Date;
  closed_at: Date | null;
}

export interface DepositsDeps {
  readonly sql: Sql;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly ledger: Ledger;
  readonly identity: Identity;
  readonly consent: Consent;
  readonly scores: CreditScores;
}

type Step = 'deposit_waived' | 'deposit_hold' | 'deposit_release' | 'deposit_charge';

export class Deposits {
  constructor(private readonly deps: DepositsDeps) {}

  /** A partner's deposit request; the same key answers the same deposit (`created` false). */
  async request(partner: PartnerRow, input: { readonly userId: string; readonly amountMinor: bigint; readonly description: string; readonly requestKey: string }): Promise<{ readonly deposit: DepositRow; readonly created: boolean }> {
    const sha256 = createHash('sha256').update(`${input.userId}\n${input.amountMinor.toString()}\n${input.description}`).digest('hex');
    const earlier = await this.byKey(partner.id, input.requestKey);
    if (earlier !== undefined) return { deposit: this.same(earlier, sha256), created: false };
    const user = await this.deps.identity.getUser(input.userId);
    if (user === undefined) throw new DomainError('credit.user_not_found', { detail: 'no qianbao user has this id' });
    const now = this.deps.clock.now();
    const id = this.deps.ids.next('dep');
    const grant = await this.deps.consent.liveGrant(user.id, 'credit.deposit_waiver', partner.id);
    if (grant !== undefined) {
      await this.deps.consent.authorize(user.id, 'credit.deposit_waiver', { kind: 'partner', id: partner.id, name: partner.name }, 'credit score against the deposit-free threshold', partner.id);
      const { score } = await this.deps.scores.get(user.id);
      if (score >= partner.score_threshold) {
        const row = await this.insert({ id, partner, userId: user.id, input, sha256, status: 'waived', grantId: grant.id, score, holdId: null, now }, (tx) =>
          this.bill(tx, { kind: 'deposit_waived', depositId: id, userId: user.id, partner, amountMinor: input.amountMinor, ledgerTransferId: `deposit:${id}:waived`, debit: user.walletAccountId, memo: `免押 ${input.description}`, now }),
        );
        return this.answer(row, partner.id, input.requestKey, sha256);
      }
    }
    // Held: the hold's id comes from the request, so a retry after a crash finds the same hold.
    const holdId = `deposit:${createHash('sha256').update(`${partner.id}\n${input.requestKey}`).digest('hex').slice(0, 48)}`;
    const held = await this.deps.ledger.transfer({ id: holdId, type: 'pending', debitAccountId: user.walletAccountId, creditAccountId: partner.account_id, amountMinor: input.amountMinor, currency: 'CNY', kind: 'deposit_hold' });
    if (held.status === 'failed') throw new DomainError(held.error, { detail: held.detail });
    const row = await this.insert({ id, partner, userId: user.id, input, sha256, status: 'held', grantId: null, score: null, holdId, now }, (tx) =>
      this.bill(tx, { kind: 'deposit_hold', depositId: id, userId: user.id, partner, amountMinor: input.amountMinor, ledgerTransferId: holdId, debit: user.walletAccountId, memo: `押金 ${input.description}`, now }),
    );
    return this.answer(row, partner.id, input.requestKey, sha256);
  }

  async get(partner: PartnerRow, id: string): Promise<DepositRow> {
    const [row] = await this.deps.sql<DepositRow[]>`SELECT * FROM credit_deposits WHERE id = ${id} AND partner_id = ${partner.id}`;
    if (row === undefined) throw new DomainError('credit.deposit_not_found', { detail: `no deposit ${id} of yours` });
    return row;
  }

  listForUser(userId: string): Promise<DepositRow[]> {
    return this.deps.sql<DepositRow[]>`SELECT * FROM credit_deposits WHERE user_id = ${userId} ORDER BY created_at DESC LIMIT 100`;
  }

  /** The item came back: the hold is voided (nothing moves for a waived deposit). Repeating it changes nothing. */
  async returned(partner: PartnerRow, id: string): Promise<DepositRow> {
    const row = await this.get(partner, id);
    if (row.status === 'returned') return row;
    if (row.status === 'charged') throw new DomainError('credit.deposit_closed', { detail: 'this deposit was charged' });
    if (row.hold_transfer_id !== null) await this.resolve({ id: `${row.hold_transfer_id}:void`, type: 'void', pendingId: row.hold_transfer_id }, 'pending_transfer_already_voided');
    return this.close(row, 'returned', null, [{ kind: 'deposit_release', amountMinor: row.amount_minor, ledgerTransferId: row.hold_transfer_id === null ? `deposit:${row.id}:returned` : `${row.hold_transfer_id}:void`, memo: `押金退还 ${row.description}` }], partner);
  }

  /**
   * Damage or loss: `amountMinor` (at most the deposit) goes to the partner — posted from the
   * hold (the rest released), or, for a waived deposit, moved from the user's balance.
   */
  async charge(partner: PartnerRow, id: string, amountMinor: bigint): Promise<DepositRow> {
    const row = await this.get(partner, id);
    if (row.status === 'charged' && row.charged_minor === amountMinor) return row;
    if (row.status === 'charged' || row.status === 'returned') throw new DomainError('credit.deposit_closed', { detail: `this deposit is already ${row.status}` });
    if (amountMinor > row.amount_minor) throw new DomainError('credit.charge_exceeds_deposit', { detail: `the deposit is ${row.amount_minor.toString()} fen` });
    const user = await this.deps.identity.getUser(row.user_id);
    if (user === undefined) throw new DomainError('credit.user_not_found');
    if (row.hold_transfer_id !== null) {
      const postId = `${row.hold_transfer_id}:post`;
      await this.resolve({ id: postId, type: 'post', pendingId: row.hold_transfer_id, amountMinor }, 'pending_transfer_already_posted');
      const rest = row.amount_minor - amountMinor;
      return this.close(row, 'charged', amountMinor, [
        { kind: 'deposit_charge', amountMinor, ledgerTransferId: postId, memo: `押金扣款 ${row.description}` },
        ...(rest > 0n ? [{ kind: 'deposit_release' as const, amountMinor: rest, ledgerTransferId: `${postId}:rest`, memo: `押金退还 ${row.description}` }] : []),
      ], partner);
    }
    const chargeId = `deposit:${row.id}:charge`;
    const moved = await this.deps.ledger.transfer({ id: chargeId, type: 'posted', debitAccountId: user.walletAccountId, creditAccountId: partner.account_id, amountMinor, currency: 'CNY', kind: 'deposit_charge' });
    if (moved.status === 'failed') throw new DomainError(moved.error, { detail: moved.detail });
    return this.close(row, 'charged', amountMinor, [{ kind: 'deposit_charge', amountMinor, ledgerTransferId: chargeId, memo: `免押扣款 ${row.description}` }], partner);
  }

  private async resolve(request: TransferRequest, alreadyDone: string): Promise<void> {
    const result = await this.deps.ledger.transfer(request);
    if (result.status === 'failed' && !result.error.endsWith(alreadyDone)) throw new DomainError(result.error, { detail: result.detail });
  }

  /** Closes a deposit and writes its bills, once: the status moves only from waived or held. */
  private async close(row: DepositRow, status: 'returned' | 'charged', charged: bigint | null, steps: readonly { readonly kind: Step; readonly amountMinor: bigint; readonly ledgerTransferId: string; readonly memo: string }[], partner: PartnerRow): Promise<DepositRow> {
    const now = this.deps.clock.now();
    const user = await this.deps.identity.getUser(row.user_id);
    await this.deps.sql.begin(async (tx) => {
      const updated = await tx`
        UPDATE credit_deposits SET status = ${status}, charged_minor = ${charged?.toString() ?? null}, closed_at = ${now}
        WHERE id = ${row.id} AND status IN ('waived', 'held') RETURNING id`;
      if (updated.length === 0) return;
      for (const step of steps) await this.bill(tx, { kind: step.kind, depositId: row.id, userId: row.user_id, partner, amountMinor: step.amountMinor, ledgerTransferId: step.ledgerTransferId, debit: user?.walletAccountId ?? '', memo: step.memo, now });
    });
    return this.get(partner, row.id);
  }

  private async bill(tx: TransactionSql, step: { readonly kind: Step; readonly depositId: string; readonly userId: string; readonly partner: PartnerRow; readonly amountMinor: bigint; readonly ledgerTransferId: string; readonly debit: string; readonly memo: string; readonly now: Date }): Promise<void> {
    const { payment, bill } = depositStep({ id: this.deps.ids.next('pay'), kind: step.kind, userId: step.userId, depositId: step.depositId, ledgerTransferId: step.ledgerTransferId, debitAccountId: step.debit, creditAccountId: step.partner.account_id, amountMinor: step.amountMinor, memo: step.memo, partnerName: step.partner.name, now: step.now });
    await insertSettledPayments(tx, [payment], [bill], []);
  }

  private async insert(
    d: { readonly id: string; readonly partner: PartnerRow; readonly userId: string; readonly input: { readonly amountMinor: bigint; readonly description: string; readonly requestKey: string }; readonly sha256: string; readonly status: 'waived' | 'held'; readonly grantId: string | null; readonly score: number | null; readonly holdId: string | null; readonly now: Date },
    bills: (tx: TransactionSql) => Promise<void>,
  ): Promise<DepositRow | undefined> {
    return this.deps.sql.begin(async (tx) => {
      const [row] = await tx<DepositRow[]>`
        INSERT INTO credit_deposits (id, partner_id, user_id, amount_minor, description, request_key, request_sha256, status, grant_id, score, hold_transfer_id, created_at)
        VALUES (${d.id}, ${d.partner.id}, ${d.userId}, ${d.input.amountMinor.toString()}, ${d.input.description}, ${d.input.requestKey}, ${d.sha256}, ${d.status}, ${d.grantId}, ${d.score}, ${d.holdId}, ${d.now})
        ON CONFLICT (partner_id, request_key) DO NOTHING RETURNING *`;
      if (row !== undefined) await bills(tx);
      return row;
    });
  }

  /** The inserted row, or (a concurrent attempt of the same request won) the one it inserted. */
  private async answer(row: DepositRow | undefined, partnerId: string, requestKey: string, sha256: string): Promise<{ readonly deposit: DepositRow; readonly created: boolean }> {
    if (row !== undefined) return { deposit: row, created: true };
    const raced = await this.byKey(partnerId, requestKey);
    if (raced === undefined) throw new Error('the deposit was neither inserted nor found');
    return { deposit: this.same(raced, sha256), created: false };
  }

  private async byKey(partnerId: string, requestKey: string): Promise<DepositRow | undefined> {
    const [row] = await this.deps.sql<DepositRow[]>`SELECT * FROM credit_deposits WHERE partner_id = ${partnerId} AND request_key = ${requestKey}`;
    return row;
  }

  private same(row: DepositRow, sha256: string): DepositRow {
    if (row.request_sha256 !== sha256) throw new DomainError('idempotency.key_reused', { detail: 'this Idempotency-Key was used for another deposit; use a new key' });
    return row;
  }
}
