import { DomainError } from '../kernel/errors.ts';
import { maskMobile } from '../identity/index.ts';
import { redPacketPayout } from '../payments/index.ts';
import type { RedisSharePool } from './redis-pool.ts';
import type { RedPacketsDeps } from './service.ts';
import { markRefunded, recordPayouts, recordRefunds, selectPacket, selectTotals, type RefundDueRow, type UnsettledRow } from './store.ts';

/**
 * Money out of a packet's escrow: a grab's payout, the unclaimed rest going back, and the audit
 * that proves, per packet, escrow left + paid out + refunded = amount sent. Each payout moves
 * under a transfer id derived from what it pays (`rpg:<packet>:<seq>`, `rpr:<packet>`), with its
 * payment, bill and status written by the same ledger batch (RecordWriter): once, whatever runs
 * twice or crashes.
 */

type PayoutDeps = Pick<RedPacketsDeps, 'sql' | 'ids' | 'ledger' | 'log'>;

export interface PacketAudit {
  readonly packetId: string;
  readonly ok: boolean;
  readonly amountMinor: bigint;
  readonly escrowMinor: bigint;
  readonly paidOutMinor: bigint;
  readonly refundedMinor: bigint;
  readonly sharesMinor: bigint;
  readonly problems: readonly string[];
}

/** Pays one claimed share from escrow to its grabber. False if the ledger refused (logged). */
export async function payGrab(deps: PayoutDeps, row: UnsettledRow, now: Date): Promise<boolean> {
  const transferId = `rpg:${row.packet_id}:${String(row.seq)}`;
  const payout = redPacketPayout({
    id: deps.ids.next('pay'),
    kind: 'redpacket_grab',
    userId: row.grabbed_by,
    packetId: row.packet_id,
    ledgerTransferId: transferId,
    escrowAccountId: row.escrow_account_id,
    walletAccountId: row.grabber_wallet_account_id,
    amountMinor: row.amount_minor,
    memo: row.greeting,
    now,
    counterparty: { userId: row.sender_user_id, name: row.sender_name, mobileMasked: maskMobile(row.sender_mobile) },
  });
  const { result } = await deps.ledger.transferWithRecord(
    { id: transferId, type: 'posted', debitAccountId: row.escrow_account_id, creditAccountId: row.grabber_wallet_account_id, amountMinor: row.amount_minor, currency: 'CNY', kind: 'redpacket_grab' },
    { write: recordPayouts, id: payout.payment.id, row: payout },
  );
  if (result.status === 'failed') {
    deps.log?.('red packet grab not paid', { transferId, error: result.error, detail: result.detail });
    return false;
  }
  return true;
}

/**
 * Pays a closed packet's unclaimed rest back where it came from: the sender's wallet (with a
 * refund bill), or the campaign budget of a fission packet. Answers whether it is now refunded.
 */
export async function refundPacket(deps: PayoutDeps, packet: RefundDueRow, now: Date): Promise<boolean> {
  const refund = packet.refund_minor ?? 0n;
  if (refund === 0n) {
    await markRefunded(deps.sql, packet.id, now);
    return false;
  }
  const transferId = `rpr:${packet.id}`;
  const back = { id: transferId, type: 'posted' as const, debitAccountId: packet.escrow_account_id, amountMinor: refund, currency: 'CNY', kind: 'redpacket_refund' };
  if (packet.funding_account_id !== null) {
    const result = await deps.ledger.transfer({ ...back, creditAccountId: packet.funding_account_id });
    if (result.status === 'failed') {
      deps.log?.('fission packet refund not paid', { transferId, error: result.error, detail: result.detail });
      return false;
    }
    await markRefunded(deps.sql, packet.id, now);
    return true;
  }
  const payout = redPacketPayout({
    id: deps.ids.next('pay'),
    kind: 'redpacket_refund',
    userId: packet.sender_user_id,
    packetId: packet.id,
    ledgerTransferId: transferId,
    escrowAccountId: packet.escrow_account_id,
    walletAccountId: packet.sender_wallet_account_id,
    amountMinor: refund,
    memo: packet.greeting,
    now,
    counterparty: { userId: packet.to_user_id, name: packet.target_name, mobileMasked: null },
  });
  const { result, recorded } = await deps.ledger.transferWithRecord({ ...back, creditAccountId: packet.sender_wallet_account_id }, { write: recordRefunds, id: payout.payment.id, row: payout });
  if (result.status === 'failed') {
    deps.log?.('red packet refund not paid', { transferId, error: result.error, detail: result.detail });
    return false;
  }
  // An earlier pass moved it (and wrote its record); only the status may be behind.
  if (!recorded) await markRefunded(deps.sql, packet.id, now);
  return true;
}

/** escrow left + paid out + refunded = amount sent; the shares sum to it; Redis agrees once synced. */
export async function auditPacket(
  deps: PayoutDeps,
  packetId: string,
  pool: RedisSharePool | undefined,
  sync: (packetId: string, shareCount: number) => Promise<number>,
): Promise<PacketAudit> {
  const packet = await selectPacket(deps.sql, packetId);
  if (packet === undefined) throw new DomainError('redpacket.not_found', { detail: `no red packet ${packetId}` });
  if (pool !== undefined) await sync(packetId, packet.share_count);
  const inRedis = pool === undefined || packet.status === 'funding' ? undefined : await pool.grabbedTotals(packetId, packet.share_count);
  const [totals, escrow, sharesSum] = await Promise.all([
    selectTotals(deps.sql, packetId),
    deps.ledger.getAccount(packet.escrow_account_id),
    deps.sql<{ total: bigint }[]>`SELECT coalesce(sum(amount_minor), 0)::int8 AS total FROM redpacket_shares WHERE packet_id = ${packetId}`,
  ]);
  const escrowMinor = escrow?.balanceMinor ?? 0n;
  const refundedMinor = packet.status === 'refunded' ? (packet.refund_minor ?? 0n) : 0n;
  const sharesMinor = sharesSum[0]?.total ?? 0n;
  const funded = packet.status !== 'funding' && packet.status !== 'failed';
  const problems: string[] = [];
  if (sharesMinor !== packet.amount_minor) problems.push(`shares sum to ${String(sharesMinor)}, not ${String(packet.amount_minor)}`);
  if (funded && escrowMinor + totals.settled_minor + refundedMinor !== packet.amount_minor)
    problems.push(`escrow ${String(escrowMinor)} + paid out ${String(totals.settled_minor)} + refunded ${String(refundedMinor)} ≠ ${String(packet.amount_minor)}`);
  if (escrowMinor < 0n) problems.push('escrow is negative');
  if (inRedis !== undefined && (inRedis.count !== totals.grabbed_count || inRedis.amountMinor !== totals.grabbed_minor))
    problems.push(`Redis has ${String(inRedis.count)} grabs of ${String(inRedis.amountMinor)}; PostgreSQL ${String(totals.grabbed_count)} of ${String(totals.grabbed_minor)}`);
  if (packet.refund_minor !== null && packet.refund_minor !== totals.refunded_share_minor)
    problems.push(`refund ${String(packet.refund_minor)} ≠ closed shares ${String(totals.refunded_share_minor)}`);
  return { packetId, ok: problems.length === 0, amountMinor: packet.amount_minor, escrowMinor, paidOutMinor: totals.settled_minor, refundedMinor, sharesMinor, problems };
}
