import { createHash } from 'node:crypto';
import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import type { IdGenerator } from '../kernel/ids.ts';
import { Passes } from '../kernel/passes.ts';
import type { Random } from '../kernel/random.ts';
import type { Redis } from 'ioredis';
import { maskMobile, type AuthUser, type Identity } from '../identity/index.ts';
import type { Ledger } from '../ledger/index.ts';
import type { Payments } from '../payments/index.ts';
import type { Social } from '../social/index.ts';
import './errors.ts';
import {
  fundingStaleAfterMs,
  fissionGreeting,
  greetingDefault,
  packetTtlMs,
  sendProblem,
  split,
  splitDigest,
  type PacketMode,
} from './model.ts';
import { auditPacket, payGrab, refundPacket, type PacketAudit } from './payouts.ts';
import { packetView, type PacketView } from './view.ts';
import type { Rains } from './rain.ts';
import { redisCall, RedisSharePool, type SettleRecord } from './redis-pool.ts';
import {
  claimShares,
  closeExpired,
  grabShare,
  selectMyShare,
  insertPacket,
  markFunded,
  markFundingFailed,
  selectDue,
  selectLivePacket,
  selectPacket,
  selectPacketList,
  selectRefundsDue,
  selectActivePackets,
  selectShareState,
  selectStaleFunding,
  selectUnsettled,
  type GrabListRow,
  type PacketBox,
  type PacketListRow,
  type PacketRow,
  type UnsettledRow,
} from './store.ts';

/**
 * Red packets between people, on PostgreSQL.
 *
 * Money: sending is a payment (kind `redpacket`) from the sender's wallet into the packet's own
 * escrow account; every grab is paid from that escrow, and the unclaimed rest goes back from it.
 * So per packet, escrow left + paid out + refunded = amount sent, checked by `audit`.
 *
 * Never twice, whatever crashes:
 * - A send is keyed by (sender, Idempotency-Key): the packet row, its escrow and its payment are
 *   found again by a retry. It is `funding` until the payment succeeds; a packet left funding by
 *   a request that died is resolved by the sweep from the payment's own state.
 * - A grab claims one pre-split share (`grabShare`); the (packet, grabber) unique index is the
 *   last guard against a second. Claiming writes no money.
 * - Settlement pays claimed shares through the ledger's batching writer under the transfer id
 *   `rpg:<packet>:<seq>`, with the payout's payment and bill and the share's `settled_at` written
 *   in the same transaction. A crash loses nothing (the share stays unsettled and is paid next
 *   pass) and cannot pay twice (the transfer id).
 * - Expiry closes the open shares and records their sum in one statement, then pays it back under
 *   `rpr:<packet>`; a second run or a crash in between pays it once.
 */
export interface RedPacketsDeps {
  readonly sql: Sql;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly random: Random;
  readonly ledger: Ledger;
  readonly identity: Identity;
  readonly payments: Payments;
  readonly social: Social;
  /** Most shares in one packet. */
  readonly sharesMax: number;
  /** How long a packet may be grabbed before its rest goes back. */
  readonly ttlMs?: number;
  /** With Redis, grabs run as Lua scripts on Redis (see redis-pool.ts); without, on PostgreSQL. */
  readonly redis?: Redis | undefined;
  /** The hourly rain, whose winners send fission packets. */
  readonly rains?: Rains | undefined;
  readonly log?: (message: string, detail: object) => void;
}

export interface SendInput {
  readonly mode: PacketMode;
  readonly amountMinor: bigint;
  readonly count: number;
  readonly toUserId?: string | undefined;
  readonly groupId?: string | undefined;
  readonly greeting?: string | undefined;
  readonly pin: string;
  readonly requestKey: string;
}

export interface GrabOutcome {
  readonly packetId: string;
  readonly amountMinor: bigint;
  readonly grabbedAt: Date;
  readonly settled: boolean;
  /** False when the user had already grabbed this packet: the same share again. */
  readonly created: boolean;
}


const settleBatchMax = 2000;
const sweepBatchMax = 100;
/** Immutable facts of active packets, for the grab path. */
const packetCacheMax = 10_000;

export class RedPackets {
  private readonly ttlMs: number;
  private readonly active = new Map<string, PacketRow>();
  private readonly bestLuckCache = new Map<string, GrabListRow>();
  private readonly pool: RedisSharePool | undefined;
  /** Packets whose shares are in Redis (loaded by this process or found loaded). */
  private readonly loaded = new Set<string>();
  /** Packets with Redis settlement records this process has not yet written to PostgreSQL. */
  private readonly dirty = new Map<string, number>();
  private readonly settler: Passes;

  constructor(private readonly deps: RedPacketsDeps) {
    this.ttlMs = deps.ttlMs ?? packetTtlMs;
    this.pool = deps.redis === undefined ? undefined : new RedisSharePool(deps.redis);
    this.settler = new Passes(
      () => this.settleGrabs(),
      (error) => deps.log?.('red packet settlement failed; the next pass retries', { error: String(error) }),
    );
  }

  /** Which store grabs run on. */
  get grabPath(): 'redis' | 'postgres' {
    return this.pool === undefined ? 'postgres' : 'redis';
  }

  // ---- send

  async send(user: AuthUser, input: SendInput): Promise<{ readonly packet: PacketView; readonly created: boolean }> {
    const toFriend = input.toUserId !== undefined;
    if (toFriend === (input.groupId !== undefined))
      throw new DomainError('request.invalid', { detail: 'send to exactly one of toUserId and groupId' });
    const problem = sendProblem({ mode: input.mode, amountMinor: input.amountMinor, count: input.count, toFriend, sharesMax: this.deps.sharesMax });
    if (problem !== undefined) throw new DomainError(problem.code, { detail: problem.detail });
    const target = await this.resolveTarget(user, input);
    await this.deps.identity.verifyPin(user, input.pin);
    const greeting = input.greeting?.trim() || greetingDefault;
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([input.mode, input.amountMinor.toString(), input.count, input.toUserId ?? null, input.groupId ?? null, greeting]))
      .digest('hex');
    let packet = await selectLivePacket(this.deps.sql, user.id, input.requestKey);
    let created = false;
    if (packet === undefined) {
      packet = await this.createPacket(user, input, greeting, fingerprint);
      created = true;
    }
    if (packet.request_sha256 !== fingerprint)
      throw new DomainError('idempotency.key_reused', { detail: 'this Idempotency-Key was used for a different red packet; use a new key' });
    if (packet.status === 'funding') packet = await this.fund(user, packet, target);
    return { packet: await this.view(packet, user.id), created };
  }

  private async resolveTarget(user: AuthUser, input: SendInput) {
    if (input.toUserId !== undefined) {
      const friend = input.toUserId === user.id ? undefined : await this.deps.identity.getUser(input.toUserId);
      if (friend === undefined || !(await this.deps.social.areFriends(user.id, friend.id)))
        throw new DomainError('social.friend_not_found', { detail: 'send red packets to your friends' });
      return { counterpartyUserId: friend.id, counterpartyName: friend.displayName, counterpartyMobileMasked: maskMobile(friend.mobile) };
    }
    const groupId = input.groupId ?? '';
    const group = await this.deps.social.groups.summary(groupId);
    if (group === undefined || !(await this.deps.social.isGroupMember(groupId, user.id)))
      throw new DomainError('social.group_not_found', { detail: `no group ${groupId} of yours` });
    if (input.count > group.memberCount)
      throw new DomainError('redpacket.more_shares_than_members', { detail: `the group has ${String(group.memberCount)} members; send at most that many shares` });
    return { counterpartyUserId: null, counterpartyName: group.name, counterpartyMobileMasked: null };
  }

  private async createPacket(user: AuthUser, input: SendInput, greeting: string, fingerprint: string, funding: { readonly fission_of_rain_id: string; readonly funding_account_id: string } | null = null): Promise<PacketRow> {
    const id = this.deps.ids.next('rpk');
    const escrowAccountId = this.deps.ids.next('acct');
    const now = this.deps.clock.now();
    const shares = split(input.mode, input.amountMinor, input.count, this.deps.random);
    const inserted = await this.deps.sql.begin(async (tx) => {
      await this.deps.ledger.createAccount({ id: escrowAccountId, currency: 'CNY', code: 'redpacket.escrow', ownerId: id, noOverdraft: true }, tx);
      return insertPacket(
        tx,
        {
          id,
          mode: input.mode,
          sender_user_id: user.id,
          to_user_id: input.toUserId ?? null,
          group_id: input.groupId ?? null,
          amount_minor: input.amountMinor,
          share_count: input.count,
          greeting,
          escrow_account_id: escrowAccountId,
          split_sha256: splitDigest(shares),
          request_key: input.requestKey,
          request_sha256: fingerprint,
          created_at: now,
          expires_at: new Date(now.getTime() + this.ttlMs),
          ...funding,
        },
        shares,
      );
    });
    if (inserted !== undefined) return inserted;
    // A concurrent attempt of the same request created it first.
    const raced = await selectLivePacket(this.deps.sql, user.id, input.requestKey);
    if (raced === undefined) throw new DomainError('redpacket.not_ready', { detail: 'retry the request' });
    return raced;
  }

  /** Pays the packet's escrow; grabs start once that succeeded. */
  private async fund(user: AuthUser, packet: PacketRow, target: { counterpartyUserId: string | null; counterpartyName: string; counterpartyMobileMasked: string | null }): Promise<PacketRow> {
    try {
      await this.deps.payments.fundRedPacket(user, {
        amountMinor: packet.amount_minor,
        requestKey: packet.request_key,
        escrowAccountId: packet.escrow_account_id,
        memo: packet.greeting,
        target: { packetId: packet.id, ...target },
      });
    } catch (error) {
      // A refused payment moved no money and freed its key: so does the packet. Anything else
      // (the database went away) leaves it funding for the retry or the sweep.
      if (error instanceof DomainError) await markFundingFailed(this.deps.sql, packet.id, error.code);
      throw error;
    }
    const funded = await markFunded(this.deps.sql, packet.id, this.deps.clock.now());
    if (funded === undefined) throw new DomainError('redpacket.not_ready', { detail: 'retry the request' });
    // The money moved and the packet is active: if Redis is away now, the first grab loads it.
    if (funded.status === 'active')
      await this.ensureLoaded(funded).catch((error: unknown) => {
        this.deps.log?.('red packet not loaded into Redis yet; its first grab will', { packetId: funded.id, error: String(error) });
      });
    return funded;
  }

  /** On the Redis path, the packet's shares are in its sub-pools before anyone grabs. */
  private async ensureLoaded(packet: PacketRow): Promise<void> {
    if (this.pool === undefined || this.loaded.has(packet.id)) return;
    if (!(await this.pool.isLoaded(packet.id, packet.share_count))) {
      const state = await selectShareState(this.deps.sql, packet.id);
      await this.pool.loadState(packet.id, packet.share_count, state.open, state.taken);
    }
    if (this.loaded.size >= packetCacheMax) this.loaded.clear();
    this.loaded.add(packet.id);
  }

  // ---- read

  /** A packet as the caller may see it: its sender, its friend, or a member of its group. */
  async get(userId: string, packetId: string): Promise<PacketView> {
    const packet = await this.visiblePacket(userId, packetId);
    return this.view(packet, userId);
  }

  private async visiblePacket(userId: string, packetId: string): Promise<PacketRow> {
    const packet = await selectPacket(this.deps.sql, packetId);
    if (packet === undefined || packet.status === 'failed' || !(await this.mayOpen(packet, userId)))
      throw new DomainError('redpacket.not_found', { detail: `no red packet ${packetId}` });
    return packet;
  }

  private async mayOpen(packet: PacketRow, userId: string): Promise<boolean> {
    if (packet.sender_user_id === userId || packet.to_user_id === userId) return true;
    // A fission packet is for its sender's friends.
    if (packet.fission_of_rain_id !== null) return this.deps.social.areFriends(packet.sender_user_id, userId);
    return packet.group_id !== null && (await this.deps.social.isGroupMember(packet.group_id, userId));
  }

  private view(packet: PacketRow, userId: string): Promise<PacketView> {
    const rains = this.deps.rains;
    return packetView({ ...this.deps, rainName: async (rainId) => (rains === undefined ? '' : (await rains.get(rainId)).name) }, packet, userId, this.bestLuckCache);
  }

  /**
   * 裂变: a rain's winner hands a packet funded by the rain's campaign to their friends — the
   * rain's number of shares (K) and amount, lucky, one share per friend. One per prize won: the
   * prize is the request, so a retry finds the same packet. What nobody opens in 24 hours goes
   * back to the campaign budget.
   */
  async sendFission(user: AuthUser, input: { readonly rainId: string; readonly prizeSeq: number; readonly greeting?: string | undefined }): Promise<{ readonly packet: PacketView; readonly created: boolean }> {
    const rains = this.deps.rains;
    if (rains === undefined) throw new DomainError('rain.not_found', { detail: `no rain ${input.rainId}` });
    const rain = await rains.get(input.rainId);
    if (rain.fission_shares === 0) throw new DomainError('rain.no_fission', { detail: 'this rain hands out no fission packets' });
    const wins = await rains.myWins(rain.id, user.id, { fresh: true });
    if (!wins.some((win) => win.seq === input.prizeSeq)) throw new DomainError('rain.prize_not_found', { detail: `you won no prize ${String(input.prizeSeq)} in this rain` });
    const requestKey = `fission:${rain.id}:${String(input.prizeSeq)}`;
    const fingerprint = createHash('sha256').update(requestKey).digest('hex');
    let packet = await selectLivePacket(this.deps.sql, user.id, requestKey);
    const created = packet === undefined;
    packet ??= await this.createPacket(user, { mode: 'lucky', amountMinor: rain.fission_minor, count: rain.fission_shares, pin: '', requestKey }, input.greeting?.trim() || fissionGreeting, fingerprint, { fission_of_rain_id: rain.id, funding_account_id: rain.budget_account_id });
    if (packet.status === 'funding') {
      const funded = await this.deps.ledger.transfer({ id: `fission-fund:${packet.id}`, type: 'posted', debitAccountId: rain.budget_account_id, creditAccountId: packet.escrow_account_id, amountMinor: packet.amount_minor, currency: 'CNY', kind: 'fission_fund' });
      if (funded.status === 'failed') {
        await markFundingFailed(this.deps.sql, packet.id, funded.error);
        throw new DomainError(funded.error, { detail: `the campaign cannot fund this packet: ${funded.detail}` });
      }
      const active = await markFunded(this.deps.sql, packet.id, this.deps.clock.now());
      if (active === undefined) throw new DomainError('redpacket.not_ready', { detail: 'retry the request' });
      await this.ensureLoaded(active);
      packet = active;
    }
    return { packet: await this.view(packet, user.id), created };
  }

  async list(userId: string, box: PacketBox, page: { readonly before?: Date | undefined; readonly limit: number }): Promise<PacketListRow[]> {
    return selectPacketList(this.deps.sql, { userId, box, before: page.before, limit: page.limit });
  }

  // ---- grab

  /**
   * Claims one share for the user: 201 with it, or 200 with the one they already have. The
   * money follows within moments (settlement); the share is theirs from this commit.
   */
  async grab(user: AuthUser, packetId: string): Promise<GrabOutcome> {
    const packet = await this.grabbable(user.id, packetId);
    const now = this.deps.clock.now();
    const open = now < packet.expires_at;
    if (this.pool !== undefined && open) return this.grabFromPool(packet, user.id, now);
    let row;
    try {
      // After expiry only the user's own share is read (the sweep closes the rest).
      row = open ? await grabShare(this.deps.sql, { packetId, userId: user.id, now, start: this.deps.random.int(0, packet.share_count) }) : await selectMyShare(this.deps.sql, packetId, user.id);
    } catch (error) {
      // The same user's concurrent grab won the (packet, grabber) index: answer with its share.
      if ((error as { code?: string }).code !== '23505') throw error;
      row = await selectMyShare(this.deps.sql, packetId, user.id);
    }
    if (row === undefined) {
      if (!open) throw new DomainError('redpacket.expired', { detail: 'this red packet has expired' });
      throw new DomainError('redpacket.empty', { detail: 'every share of this red packet has been taken' });
    }
    if (row.state === 'new') this.kickSettler();
    return { packetId, amountMinor: row.amount_minor, grabbedAt: row.grabbed_at, settled: row.settled_at !== null, created: row.state === 'new' };
  }

  private async grabFromPool(packet: PacketRow, userId: string, now: Date): Promise<GrabOutcome> {
    const pool = this.pool;
    if (pool === undefined) throw new Error('no Redis pool');
    const result = await redisCall(async () => {
      await this.ensureLoaded(packet);
      return pool.grab(packet.id, packet.share_count, userId, now.getTime());
    });
    if (result.state === 'empty') throw new DomainError('redpacket.empty', { detail: 'every share of this red packet has been taken' });
    if (result.state === 'new') {
      this.dirty.set(packet.id, packet.share_count);
      this.kickSettler();
    }
    return { packetId: packet.id, amountMinor: result.amountMinor, grabbedAt: new Date(result.grabbedAtMs), settled: false, created: result.state === 'new' };
  }

  private async grabbable(userId: string, packetId: string): Promise<PacketRow> {
    let packet = this.active.get(packetId);
    if (packet === undefined) {
      packet = await this.visiblePacket(userId, packetId);
      if (packet.status === 'funding') throw new DomainError('redpacket.not_ready', { detail: 'the red packet is still being paid for; try again in a moment' });
      if (packet.status === 'active') {
        if (this.active.size >= packetCacheMax) this.active.clear();
        this.active.set(packetId, packet);
      }
    } else if (!(await this.mayOpen(packet, userId))) {
      throw new DomainError('redpacket.not_found', { detail: `no red packet ${packetId}` });
    }
    if ((packet.to_user_id !== null || packet.fission_of_rain_id !== null) && packet.sender_user_id === userId)
      throw new DomainError('redpacket.own_packet', { detail: 'your friends open this red packet' });
    return packet;
  }

  // ---- settlement

  /** Starts a settlement pass now (or right after the one running). */
  kickSettler(): void {
    this.settler.kick();
  }

  /** Settles everything claimed so far, after any pass in flight: what the settler does, awaited. */
  settleNow(): Promise<number> {
    return this.settler.runNow();
  }

  /**
   * Pays out the grabs this pass claimed from Redis, then up to one batch of shares claimed
   * earlier and still unpaid, through the ledger's batching writer, all at once (the writer packs
   * them into few transactions). Answers how many it paid.
   */
  async settleGrabs(limit = settleBatchMax): Promise<number> {
    // Grabs taken on Redis are put on their shares first, and paid from what that answers.
    const claimed = await this.syncDirty();
    const now = this.deps.clock.now();
    const paid = await Promise.all(claimed.map((row) => payGrab(this.deps, row, now)));
    // Then any claimed earlier and not yet paid: grabs on PostgreSQL, or a pass that stopped.
    const rows = await selectUnsettled(this.deps.sql, limit);
    const outcomes = await Promise.all(rows.map((row) => payGrab(this.deps, row, now)));
    return [...paid, ...outcomes].filter(Boolean).length;
  }

  /** Writes the Redis settlement records of the packets grabbed since the last pass to PostgreSQL. */
  private async syncDirty(): Promise<UnsettledRow[]> {
    const packets = [...this.dirty];
    this.dirty.clear();
    const claimed: UnsettledRow[] = [];
    for (const [packetId, shareCount] of packets) await this.syncPacket(packetId, shareCount, claimed);
    return claimed;
  }

  /** Writes a packet's Redis settlement records to its shares; the shares claimed go to `claimed`. */
  private async syncPacket(packetId: string, shareCount: number, claimed?: UnsettledRow[]): Promise<number> {
    const pool = this.pool;
    if (pool === undefined) return 0;
    return pool.drain(packetId, shareCount, async (records: SettleRecord[]) => {
      // One share per user: a second record for a user (only after lost Redis state) is skipped.
      const seen = new Set<string>();
      const grabs = records.filter((r) => !seen.has(r.userId) && seen.add(r.userId)).map((r) => ({ seq: r.seq, userId: r.userId, grabbedAt: new Date(r.grabbedAtMs) }));
      const rows = await claimShares(this.deps.sql, packetId, grabs);
      claimed?.push(...rows);
    });
  }

  /** Recovery: Redis records of every active packet (a crashed process may have left some). */
  async syncAllActive(): Promise<number> {
    if (this.pool === undefined) return 0;
    let total = 0;
    for (const packet of await selectActivePackets(this.deps.sql, sweepBatchMax * 10)) total += await this.syncPacket(packet.id, packet.share_count);
    if (total > 0) this.kickSettler();
    return total;
  }

  // ---- expiry

  /**
   * The expiry sweep: closes the packets that came due (in time order, a batch at a time) and
   * pays back what nobody grabbed, including any a crashed pass closed but did not pay.
   */
  async sweepExpired(): Promise<{ readonly closed: number; readonly refunded: number }> {
    const now = this.deps.clock.now();
    let closed = 0;
    for (const due of await selectDue(this.deps.sql, now, sweepBatchMax)) if (await this.closePacket(due.id, due.share_count, now)) closed++;
    let refunded = 0;
    for (const packet of await selectRefundsDue(this.deps.sql, sweepBatchMax)) if (await refundPacket(this.deps, packet, now)) refunded++;
    return { closed, refunded };
  }

  /**
   * Closes one due packet: on Redis first (no more pops, and every grab it took is recorded on
   * its share), then in PostgreSQL, where its open shares are closed and their sum recorded as
   * what goes back. The refund itself is paid by `sweepExpired`. False if it was closed already.
   */
  async closePacket(packetId: string, shareCount: number, now: Date): Promise<boolean> {
    if (this.pool !== undefined) {
      await this.pool.close(packetId, shareCount);
      await this.syncPacket(packetId, shareCount);
    }
    this.active.delete(packetId);
    return (await closeExpired(this.deps.sql, packetId, now)) !== undefined;
  }

  /** Packets left funding by requests that died: funded if their payment succeeded, else failed. */
  async resolveStaleFunding(): Promise<number> {
    const now = this.deps.clock.now();
    let resolved = 0;
    for (const packet of await selectStaleFunding(this.deps.sql, new Date(now.getTime() - fundingStaleAfterMs), sweepBatchMax)) {
      const payment = await this.deps.payments.livePayment({ userId: packet.sender_user_id, kind: 'redpacket', requestKey: packet.request_key });
      if (payment?.status === 'pending') continue;
      if (payment?.status === 'succeeded') await markFunded(this.deps.sql, packet.id, now);
      else await markFundingFailed(this.deps.sql, packet.id, 'payments.payment_abandoned');
      resolved++;
    }
    return resolved;
  }

  // ---- audit

  /** escrow left + paid out + refunded = amount sent, and the shares sum to it (see payouts.ts). */
  async audit(packetId: string): Promise<PacketAudit> {
    return auditPacket(this.deps, packetId, this.pool, (id, shareCount) => this.syncPacket(id, shareCount));
  }

  /** Waits for a settlement pass in flight; no new pass starts. */
  async close(): Promise<void> {
    await this.settler.close();
  }
}
