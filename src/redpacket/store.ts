import type { RecordQuery } from '../ledger/index.ts';
import type { ReservedSql, Sql, TransactionSql } from '../kernel/db.ts';
import { insertSettledPayments, type NewBill, type NewPayment } from '../payments/index.ts';
import type { PacketMode } from './model.ts';

/**
 * SQL for red packets: the only file that touches redpacket_* tables. It reads identity_users
 * for names and wallets in the same statement where a per-user call would cost a round trip per
 * grab (settlement, the grab list).
 */

type Db = Sql | TransactionSql | ReservedSql;

export type PacketStatus = 'funding' | 'active' | 'failed' | 'expired' | 'refunded';

export interface PacketRow {
  id: string;
  mode: PacketMode;
  sender_user_id: string;
  to_user_id: string | null;
  group_id: string | null;
  amount_minor: bigint;
  share_count: number;
  greeting: string;
  escrow_account_id: string;
  split_sha256: string;
  status: PacketStatus;
  request_key: string;
  request_sha256: string;
  failure_code: string | null;
  created_at: Date;
  funded_at: Date | null;
  expires_at: Date;
  refund_minor: bigint | null;
  refunded_at: Date | null;
  fission_of_rain_id: string | null;
  funding_account_id: string | null;
}

export type NewPacket = Omit<PacketRow, 'status' | 'failure_code' | 'funded_at' | 'refund_minor' | 'refunded_at' | 'fission_of_rain_id' | 'funding_account_id'> & {
  readonly fission_of_rain_id?: string | null;
  readonly funding_account_id?: string | null;
};

/** Inserts a packet (funding) and its shares; undefined when a live packet has the request's key. */
export async function insertPacket(tx: TransactionSql, packet: NewPacket, shares: readonly bigint[]): Promise<PacketRow | undefined> {
  const rows = await tx<PacketRow[]>`
    INSERT INTO redpackets (id, mode, sender_user_id, to_user_id, group_id, amount_minor, share_count,
      greeting, escrow_account_id, split_sha256, status, request_key, request_sha256, created_at, expires_at,
      fission_of_rain_id, funding_account_id)
    VALUES (${packet.id}, ${packet.mode}, ${packet.sender_user_id}, ${packet.to_user_id}, ${packet.group_id},
      ${packet.amount_minor.toString()}, ${packet.share_count}, ${packet.greeting}, ${packet.escrow_account_id},
      ${packet.split_sha256}, 'funding', ${packet.request_key}, ${packet.request_sha256}, ${packet.created_at},
      ${packet.expires_at}, ${packet.fission_of_rain_id ?? null}, ${packet.funding_account_id ?? null})
    ON CONFLICT (sender_user_id, request_key) WHERE status <> 'failed' DO NOTHING
    RETURNING *`;
  const row = rows[0];
  if (row === undefined) return undefined;
  // Large packets go in slices: one statement's parameters stay small.
  const sliceSize = 20_000;
  for (let start = 0; start < shares.length; start += sliceSize) {
    const slice = shares.slice(start, start + sliceSize);
    await tx`
      INSERT INTO redpacket_shares (packet_id, seq, amount_minor)
      SELECT ${packet.id}, start + ord - 1, amount
      FROM unnest(${slice.map(String)}::int8[]) WITH ORDINALITY AS x(amount, ord), (SELECT ${start}::int AS start) s`;
  }
  return row;
}

export async function selectPacket(db: Db, packetId: string): Promise<PacketRow | undefined> {
  const rows = await db<PacketRow[]>`SELECT * FROM redpackets WHERE id = ${packetId}`;
  return rows[0];
}

export async function selectLivePacket(db: Db, senderUserId: string, requestKey: string): Promise<PacketRow | undefined> {
  const rows = await db<PacketRow[]>`
    SELECT * FROM redpackets WHERE sender_user_id = ${senderUserId} AND request_key = ${requestKey} AND status <> 'failed'`;
  return rows[0];
}

/**
 * Funded: grabs may start. The ledger is the truth, so a packet a racing sweep marked failed
 * comes back when its money did move; undefined if another live packet took its key meanwhile.
 */
export async function markFunded(db: Db, packetId: string, now: Date): Promise<PacketRow | undefined> {
  try {
    const rows = await db<PacketRow[]>`
      UPDATE redpackets SET status = 'active', funded_at = coalesce(funded_at, ${now}), failure_code = NULL
      WHERE id = ${packetId} AND status IN ('funding', 'failed') RETURNING *`;
    return rows[0] ?? (await selectPacket(db, packetId));
  } catch (error) {
    if ((error as { code?: string }).code === '23505') return undefined;
    throw error;
  }
}

export async function markFundingFailed(db: Db, packetId: string, code: string): Promise<void> {
  await db`UPDATE redpackets SET status = 'failed', failure_code = ${code} WHERE id = ${packetId} AND status = 'funding'`;
}

export async function selectStaleFunding(db: Db, before: Date, limit: number): Promise<PacketRow[]> {
  return db<PacketRow[]>`
    SELECT * FROM redpackets WHERE status = 'funding' AND created_at < ${before} ORDER BY created_at LIMIT ${limit}`;
}

export interface GrabRow {
  state: 'mine' | 'new';
  seq: number;
  amount_minor: bigint;
  grabbed_at: Date;
  settled_at: Date | null;
}

/** The user's share of a packet, if they grabbed one. */
export async function selectMyShare(db: Db, packetId: string, userId: string): Promise<GrabRow | undefined> {
  const rows = await db<GrabRow[]>`
    SELECT 'mine' AS state, seq, amount_minor, grabbed_at, settled_at FROM redpacket_shares
    WHERE packet_id = ${packetId} AND grabbed_by = ${userId}`;
  return rows[0];
}

/**
 * One grab, one statement: the user's share if they already have one; otherwise the first open
 * share at or after `start` (then before it), locked with SKIP LOCKED so concurrent grabbers take
 * different shares instead of queueing on one. Starting at a random place spreads grabbers over
 * the packet. Nothing when the packet is empty. A second grab by the same user racing this one
 * fails the (packet, grabber) unique index: the last guard.
 */
export async function grabShare(
  db: Db,
  input: { readonly packetId: string; readonly userId: string; readonly now: Date; readonly start: number },
): Promise<GrabRow | undefined> {
  const { packetId, userId, now, start } = input;
  const rows = await db<GrabRow[]>`
    WITH mine AS (
      SELECT seq, amount_minor, grabbed_at, settled_at FROM redpacket_shares
      WHERE packet_id = ${packetId} AND grabbed_by = ${userId}
    ), after AS (
      SELECT seq FROM redpacket_shares
      WHERE packet_id = ${packetId} AND grabbed_by IS NULL AND refunded_at IS NULL AND seq >= ${start}
        AND NOT EXISTS (SELECT 1 FROM mine)
      ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED
    ), before AS (
      SELECT seq FROM redpacket_shares
      WHERE packet_id = ${packetId} AND grabbed_by IS NULL AND refunded_at IS NULL AND seq < ${start}
        AND NOT EXISTS (SELECT 1 FROM mine) AND NOT EXISTS (SELECT 1 FROM after)
      ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED
    ), taken AS (
      UPDATE redpacket_shares s SET grabbed_by = ${userId}, grabbed_at = ${now}
      WHERE s.packet_id = ${packetId} AND s.seq IN (SELECT seq FROM after UNION ALL SELECT seq FROM before)
      RETURNING s.seq, s.amount_minor, s.grabbed_at, s.settled_at
    )
    SELECT 'mine' AS state, * FROM mine
    UNION ALL
    SELECT 'new' AS state, * FROM taken`;
  return rows[0];
}

export interface PacketTotals {
  grabbed_count: number;
  grabbed_minor: bigint;
  settled_minor: bigint;
  refunded_share_minor: bigint;
  open_count: number;
}

export async function selectTotals(db: Db, packetId: string): Promise<PacketTotals> {
  const rows = await db<PacketTotals[]>`
    SELECT count(*) FILTER (WHERE grabbed_by IS NOT NULL)::int AS grabbed_count,
      coalesce(sum(amount_minor) FILTER (WHERE grabbed_by IS NOT NULL), 0)::int8 AS grabbed_minor,
      coalesce(sum(amount_minor) FILTER (WHERE settled_at IS NOT NULL), 0)::int8 AS settled_minor,
      coalesce(sum(amount_minor) FILTER (WHERE refunded_at IS NOT NULL), 0)::int8 AS refunded_share_minor,
      count(*) FILTER (WHERE grabbed_by IS NULL AND refunded_at IS NULL)::int AS open_count
    FROM redpacket_shares WHERE packet_id = ${packetId}`;
  const row = rows[0];
  if (row === undefined) throw new Error('an aggregate answers one row');
  return row;
}

export interface GrabListRow {
  seq: number;
  user_id: string;
  display_name: string;
  amount_minor: bigint;
  grabbed_at: Date;
}

/** The latest grabs of a packet, newest first, with the grabbers' names. */
export async function selectGrabs(db: Db, packetId: string, limit: number): Promise<GrabListRow[]> {
  return db<GrabListRow[]>`
    SELECT s.seq, s.grabbed_by AS user_id, u.display_name, s.amount_minor, s.grabbed_at
    FROM redpacket_shares s JOIN identity_users u ON u.id = s.grabbed_by
    WHERE s.packet_id = ${packetId} AND s.grabbed_by IS NOT NULL
    ORDER BY s.grabbed_at DESC, s.seq DESC LIMIT ${limit}`;
}

/** The best-luck grab of a packet whose every share is taken. */
export async function selectBestLuck(db: Db, packetId: string): Promise<GrabListRow | undefined> {
  const rows = await db<GrabListRow[]>`
    SELECT s.seq, s.grabbed_by AS user_id, u.display_name, s.amount_minor, s.grabbed_at
    FROM redpacket_shares s JOIN identity_users u ON u.id = s.grabbed_by
    WHERE s.packet_id = ${packetId} AND s.grabbed_by IS NOT NULL
    ORDER BY s.amount_minor DESC, s.grabbed_at, s.seq LIMIT 1`;
  return rows[0];
}

export interface UnsettledRow {
  packet_id: string;
  seq: number;
  amount_minor: bigint;
  grabbed_by: string;
  grabbed_at: Date;
  escrow_account_id: string;
  greeting: string;
  grabber_wallet_account_id: string;
  sender_user_id: string;
  sender_name: string;
  sender_mobile: string;
}

/** What a grab's payout needs, from its share `s`: the packet, the grabber's wallet, the sender. */
const payoutColumns = `s.packet_id, s.seq, s.amount_minor, s.grabbed_by, s.grabbed_at, p.escrow_account_id, p.greeting,
  g.wallet_account_id AS grabber_wallet_account_id, p.sender_user_id, u.display_name AS sender_name,
  u.mobile AS sender_mobile`;
const payoutJoins = `JOIN redpackets p ON p.id = s.packet_id JOIN identity_users g ON g.id = s.grabbed_by
  JOIN identity_users u ON u.id = p.sender_user_id`;

/** Grabs not yet paid out, oldest first, with what their payout needs. */
export async function selectUnsettled(db: Db, limit: number): Promise<UnsettledRow[]> {
  return db<UnsettledRow[]>`
    SELECT ${db.unsafe(payoutColumns)} FROM redpacket_shares s ${db.unsafe(payoutJoins)}
    WHERE s.grabbed_by IS NOT NULL AND s.settled_at IS NULL
    ORDER BY s.grabbed_at LIMIT ${limit}`;
}

/** Active packets whose time is up, in the order they came due. */
export async function selectDue(db: Db, now: Date, limit: number): Promise<{ id: string; share_count: number }[]> {
  return db<{ id: string; share_count: number }[]>`
    SELECT id, share_count FROM redpackets WHERE status = 'active' AND expires_at <= ${now} ORDER BY expires_at LIMIT ${limit}`;
}

/**
 * Closes an expired packet in one statement: its open shares are marked refunded (a grab holding
 * one commits first, and the share is then no longer open), and the packet records their sum as
 * what goes back. A second sweep finds the packet no longer active and changes nothing.
 */
export async function closeExpired(db: Db, packetId: string, now: Date): Promise<PacketRow | undefined> {
  const rows = await db<PacketRow[]>`
    WITH packet AS (
      SELECT id FROM redpackets WHERE id = ${packetId} AND status = 'active' FOR UPDATE
    ), closed AS (
      UPDATE redpacket_shares SET refunded_at = ${now}
      WHERE packet_id IN (SELECT id FROM packet) AND grabbed_by IS NULL AND refunded_at IS NULL
      RETURNING amount_minor
    )
    UPDATE redpackets SET status = 'expired', refund_minor = (SELECT coalesce(sum(amount_minor), 0) FROM closed)
    WHERE id IN (SELECT id FROM packet) RETURNING *`;
  return rows[0];
}

export interface RefundDueRow extends PacketRow {
  sender_wallet_account_id: string;
  target_name: string;
}

/** Expired packets whose rest has not gone back yet (just closed, or left by a crash). */
export async function selectRefundsDue(db: Db, limit: number): Promise<RefundDueRow[]> {
  return db<RefundDueRow[]>`
    SELECT p.*, u.wallet_account_id AS sender_wallet_account_id,
      coalesce(g.name, f.display_name, '') AS target_name
    FROM redpackets p JOIN identity_users u ON u.id = p.sender_user_id
      LEFT JOIN social_groups g ON g.id = p.group_id
      LEFT JOIN identity_users f ON f.id = p.to_user_id
    WHERE p.status = 'expired' ORDER BY p.expires_at LIMIT ${limit}`;
}

export async function markRefunded(db: Db, packetId: string, now: Date): Promise<void> {
  await db`UPDATE redpackets SET status = 'refunded', refunded_at = ${now} WHERE id = ${packetId} AND status = 'expired'`;
}

export interface Payout {
  readonly payment: NewPayment;
  readonly bill: NewBill;
}

/**
 * The ledger batch's record writer for payouts (RecordWriter): each payout's payment and bill,
 * and, in the same statement, what the payout settles — a grab's share is marked settled, a
 * refunded packet is marked refunded — so both are true exactly when the money moved.
 */
export function recordPayouts(connection: ReservedSql, rows: readonly Payout[]): RecordQuery {
  return insertSettledPayments(
    connection,
    rows.map((row) => row.payment),
    rows.map((row) => row.bill),
    [connection`
      UPDATE redpacket_shares s SET settled_at = i.created_at FROM inserted i
      WHERE i.kind = 'redpacket_grab' AND s.packet_id = i.redpacket_id AND s.grabbed_by = i.user_id
      RETURNING 1`],
  );
}

/** For refunds: the packet's status follows its refund payment in the same statement. */
export function recordRefunds(connection: ReservedSql, rows: readonly Payout[]): RecordQuery {
  return insertSettledPayments(
    connection,
    rows.map((row) => row.payment),
    rows.map((row) => row.bill),
    [connection`
      UPDATE redpackets p SET status = 'refunded', refunded_at = i.created_at FROM inserted i
      WHERE i.kind = 'redpacket_refund' AND p.id = i.redpacket_id AND p.status = 'expired'
      RETURNING 1`],
  );
}

export interface PacketListRow extends PacketRow {
  sender_name: string;
  target_name: string;
  my_amount_minor: bigint | null;
}

export type PacketBox = 'inbox' | 'sent' | 'received';

/**
 * Packets the user sent; received (grabbed a share of); or their inbox: every packet to them or
 * to a group they are in (their own group packets too), with their share if they grabbed one.
 * Newest first.
 */
export async function selectPacketList(
  db: Db,
  input: { readonly userId: string; readonly box: PacketBox; readonly before: Date | undefined; readonly limit: number },
): Promise<PacketListRow[]> {
  const { userId, box, before, limit } = input;
  const beforeClause = before === undefined ? db`` : db`AND p.created_at < ${before}`;
  const names = db`
    JOIN identity_users u ON u.id = p.sender_user_id
    LEFT JOIN social_groups g ON g.id = p.group_id
    LEFT JOIN identity_users f ON f.id = p.to_user_id
    LEFT JOIN redpacket_rains r ON r.id = p.fission_of_rain_id`;
  if (box === 'inbox') {
    return db<PacketListRow[]>`
      SELECT p.*, u.display_name AS sender_name, coalesce(g.name, f.display_name, r.name, '') AS target_name,
        s.amount_minor AS my_amount_minor
      FROM redpackets p ${names}
        LEFT JOIN redpacket_shares s ON s.packet_id = p.id AND s.grabbed_by = ${userId}
      WHERE p.status NOT IN ('funding', 'failed') ${beforeClause}
        AND (p.to_user_id = ${userId}
          OR p.group_id IN (SELECT group_id FROM social_group_members WHERE user_id = ${userId})
          OR (p.fission_of_rain_id IS NOT NULL
            AND p.sender_user_id IN (SELECT friend_id FROM social_friendships WHERE user_id = ${userId})))
      ORDER BY p.created_at DESC LIMIT ${limit}`;
  }
  if (box === 'sent') {
    return db<PacketListRow[]>`
      SELECT p.*, u.display_name AS sender_name, coalesce(g.name, f.display_name, r.name, '') AS target_name,
        NULL::int8 AS my_amount_minor
      FROM redpackets p ${names}
      WHERE p.sender_user_id = ${userId} AND p.status <> 'failed' ${beforeClause}
      ORDER BY p.created_at DESC LIMIT ${limit}`;
  }
  return db<PacketListRow[]>`
    SELECT p.*, u.display_name AS sender_name, coalesce(g.name, f.display_name, r.name, '') AS target_name,
      s.amount_minor AS my_amount_minor
    FROM redpacket_shares s JOIN redpackets p ON p.id = s.packet_id ${names}
    WHERE s.grabbed_by = ${userId} ${beforeClause}
    ORDER BY p.created_at DESC LIMIT ${limit}`;
}

/** A packet's shares as Redis needs them: the open ones, and who holds the others. */
export async function selectShareState(db: Db, packetId: string) {
  const rows = await db<{ seq: number; amount_minor: bigint; grabbed_by: string | null; grabbed_at: Date | null; refunded_at: Date | null }[]>`
    SELECT seq, amount_minor, grabbed_by, grabbed_at, refunded_at FROM redpacket_shares WHERE packet_id = ${packetId} ORDER BY seq`;
  return {
    open: rows.filter((r) => r.grabbed_by === null && r.refunded_at === null).map((r) => ({ seq: r.seq, amountMinor: r.amount_minor })),
    taken: rows.flatMap((r) => (r.grabbed_by === null ? [] : [{ userId: r.grabbed_by, seq: r.seq, amountMinor: r.amount_minor, grabbedAtMs: r.grabbed_at?.getTime() ?? 0 }])),
  };
}

/**
 * Records grabs claimed in Redis on their shares (the Redis path's settlement records), once:
 * a share already recorded, or a user who already holds a share of the packet, is skipped — the
 * (packet, grabber) index stays the last guard. Answers the shares it recorded with what their
 * payouts need, as `selectUnsettled` would, so the settler pays them without reading them back.
 */
export async function claimShares(
  db: Db,
  packetId: string,
  grabs: readonly { readonly seq: number; readonly userId: string; readonly grabbedAt: Date }[],
): Promise<UnsettledRow[]> {
  if (grabs.length === 0) return [];
  return db<UnsettledRow[]>`
    WITH claimed AS (
      UPDATE redpacket_shares s SET grabbed_by = x.user_id, grabbed_at = x.grabbed_at
      FROM unnest(${grabs.map((g) => g.seq)}::int[], ${grabs.map((g) => g.userId)}::text[],
        ${grabs.map((g) => g.grabbedAt.toISOString())}::timestamptz[]) AS x(seq, user_id, grabbed_at)
      WHERE s.packet_id = ${packetId} AND s.seq = x.seq AND s.grabbed_by IS NULL AND s.refunded_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM redpacket_shares o WHERE o.packet_id = ${packetId} AND o.grabbed_by = x.user_id)
      RETURNING s.packet_id, s.seq, s.amount_minor, s.grabbed_by, s.grabbed_at
    )
    SELECT ${db.unsafe(payoutColumns)} FROM claimed s ${db.unsafe(payoutJoins)}`;
}

export async function selectActivePackets(db: Db, limit: number): Promise<{ id: string; share_count: number }[]> {
  return db<{ id: string; share_count: number }[]>`
    SELECT id, share_count FROM redpackets WHERE status = 'active' ORDER BY created_at DESC LIMIT ${limit}`;
}
