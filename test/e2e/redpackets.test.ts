/**
 * Goal: red packets between people end to end — sending lucky and fixed packets to a group or a
 * friend (PIN, limits, funds, replay), who may see and grab them, one grab per person, the empty
 * packet with best luck, settlement into wallets and bills, expiry paying the rest back exactly
 * once, and per-packet audits; the ledger reconciles at the end.
 * Method: the whole app on a test schema and a fake clock, through app.inject(); settlement and
 * the expiry sweep are run by the test (they are the background loops' passes).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  asUser,
  closeReconciled,
  createTestApp,
  type TestApp,
  type TestUser,
} from '../../src/testing/app.ts';
import {
  balanceMinor,
  expectProblem,
  fundedUser,
  newUser,
  type BillJsonForTest,
} from '../../src/payments/testing.ts';
import {
  befriend,
  grab,
  grabPaths,
  groupOf,
  sendPacket,
  settleAll,
  type PacketJsonForTest,
} from '../../src/redpacket/testing.ts';

let t: TestApp;

async function sender(amountMinor = 1_000_000n): Promise<TestUser> {
  const user = await newUser(t.app, { displayName: '发红包的' });
  await fundedUser(t.app, user, amountMinor);
  return user;
}

async function packet(user: TestUser, id: string): Promise<PacketJsonForTest> {
  const response = await asUser(t.app, user, 'GET', `/v1/redpackets/${id}`);
  assert.equal(response.statusCode, 200, response.body);
  return response.json<PacketJsonForTest>();
}

async function bills(user: TestUser, kind: string): Promise<BillJsonForTest[]> {
  const response = await asUser(t.app, user, 'GET', `/v1/bills?kind=${kind}`);
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ bills: BillJsonForTest[] }>().bills;
}

for (const path of grabPaths()) {
  describe(`red packets, grabs on ${path.name}`, () => {
    before(async () => {
      t = await createTestApp(path.env);
      assert.equal(t.app.redPackets.grabPath, path.name);
    });
    after(() => closeReconciled(t));
    describe('a lucky packet to a group', () => {
      test('members grab once each until it is empty; settlement pays them; best luck is marked', async () => {
        const alice = await sender();
        const members = await Promise.all([1, 2, 3, 4].map(() => newUser(t.app)));
        const groupId = await groupOf(t.app, alice, members);
        const before = await balanceMinor(t.app, alice.walletAccountId);
        const sent = await sendPacket(t.app, alice, {
          amountMinor: '1000',
          count: 3,
          groupId,
          greeting: '新年快乐',
        });
        assert.equal(sent.state, 'active');
        assert.equal(sent.greeting, '新年快乐');
        assert.match(sent.splitSha256, /^[0-9a-f]{64}$/);
        assert.equal(await balanceMinor(t.app, alice.walletAccountId), before - 1000n);
        const [sendBill] = await bills(alice, 'redpacket');
        assert.equal(sendBill?.direction, 'expense');
        assert.equal(sendBill?.amountMinor, '1000');

        const stranger = await newUser(t.app);
        expectProblem(await grab(t.app, stranger, sent.id), 404, 'redpacket.not_found');
        // A member who leaves the group can no longer see or grab its packets, at once.
        const leaver = await newUser(t.app);
        await befriend(t.app, alice, leaver);
        await t.app.social.groups.inviteMember(alice.id, groupId, leaver.id);
        const seenBefore = await asUser(t.app, leaver, 'GET', `/v1/redpackets/${sent.id}`);
        assert.equal(seenBefore.statusCode, 200, seenBefore.body);
        await t.app.social.groups.leaveGroup(leaver.id, groupId);
        expectProblem(await grab(t.app, leaver, sent.id), 404, 'redpacket.not_found');
        expectProblem(
          await asUser(t.app, stranger, 'GET', `/v1/redpackets/${sent.id}`),
          404,
          'redpacket.not_found',
        );

        const amounts: bigint[] = [];
        for (const member of members.slice(0, 3)) {
          const first = await grab(t.app, member, sent.id);
          assert.equal(first.statusCode, 201, first.body);
          const again = await grab(t.app, member, sent.id);
          assert.equal(again.statusCode, 200, again.body);
          assert.equal(
            again.json<{ amountMinor: string }>().amountMinor,
            first.json<{ amountMinor: string }>().amountMinor,
          );
          amounts.push(BigInt(first.json<{ amountMinor: string }>().amountMinor));
        }
        assert.equal(
          amounts.reduce((a, b) => a + b, 0n),
          1000n,
        );
        expectProblem(await grab(t.app, members[3] as TestUser, sent.id), 409, 'redpacket.empty');

        await settleAll(t.app);
        for (const [index, member] of members.slice(0, 3).entries()) {
          assert.equal(await balanceMinor(t.app, member.walletAccountId), amounts[index]);
          const [grabBill] = await bills(member, 'redpacket_grab');
          assert.equal(grabBill?.direction, 'income');
          assert.equal(grabBill?.amountMinor, String(amounts[index]));
          assert.equal(grabBill?.counterparty.displayName, '发红包的');
        }
        const seen = await packet(members[3] as TestUser, sent.id);
        assert.equal(seen.state, 'empty');
        assert.equal(seen.grabbedCount, 3);
        assert.equal(seen.grabs.length, 3);
        const best = amounts.reduce((a, b) => (b > a ? b : a), 0n);
        assert.equal(seen.bestLuck?.amountMinor, String(best));
        assert.equal(seen.mine, null);
        const mine = await packet(members[0] as TestUser, sent.id);
        assert.equal(mine.mine?.amountMinor, String(amounts[0]));
        assert.equal(mine.mine.settled, true);
        const audit = await t.app.redPackets.audit(sent.id);
        assert.equal(audit.ok, true, audit.problems.join('; '));
        assert.equal(audit.escrowMinor, 0n);
        assert.equal(audit.paidOutMinor, 1000n);
      });

      test('a fixed packet gives equal shares; the sender may grab their own group packet', async () => {
        const alice = await sender();
        const bob = await newUser(t.app);
        const groupId = await groupOf(t.app, alice, [bob]);
        const sent = await sendPacket(t.app, alice, {
          mode: 'fixed',
          amountMinor: '600',
          count: 2,
          groupId,
        });
        const mine = await grab(t.app, alice, sent.id);
        const his = await grab(t.app, bob, sent.id);
        assert.equal(mine.json<{ amountMinor: string }>().amountMinor, '300');
        assert.equal(his.json<{ amountMinor: string }>().amountMinor, '300');
        await settleAll(t.app);
        assert.equal((await t.app.redPackets.audit(sent.id)).ok, true);
      });
    });

    describe('a packet to a friend', () => {
      test('one share, for the friend only', async () => {
        const alice = await sender();
        const bob = await newUser(t.app);
        const carol = await newUser(t.app);
        await befriend(t.app, alice, bob);
        expectProblem(
          await asUser(t.app, alice, 'POST', '/v1/redpackets', {
            mode: 'lucky',
            amountMinor: '500',
            count: 2,
            toUserId: bob.id,
            pin: '802413',
          }),
          422,
          'redpacket.friend_packet_single_share',
        );
        expectProblem(
          await asUser(t.app, alice, 'POST', '/v1/redpackets', {
            mode: 'lucky',
            amountMinor: '500',
            count: 1,
            toUserId: carol.id,
            pin: '802413',
          }),
          404,
          'social.friend_not_found',
        );
        const sent = await sendPacket(t.app, alice, {
          amountMinor: '520',
          count: 1,
          toUserId: bob.id,
        });
        expectProblem(await grab(t.app, alice, sent.id), 422, 'redpacket.own_packet');
        expectProblem(await grab(t.app, carol, sent.id), 404, 'redpacket.not_found');
        const opened = await grab(t.app, bob, sent.id);
        assert.equal(opened.statusCode, 201, opened.body);
        assert.equal(opened.json<{ amountMinor: string }>().amountMinor, '520');
        await settleAll(t.app);
        assert.equal(await balanceMinor(t.app, bob.walletAccountId), 520n);
        const received = await asUser(t.app, bob, 'GET', '/v1/redpackets?box=received');
        assert.equal(
          received.json<{ packets: { id: string; myAmountMinor: string }[] }>().packets[0]
            ?.myAmountMinor,
          '520',
        );
        const inbox = await asUser(t.app, bob, 'GET', '/v1/redpackets?box=inbox');
        const listed = inbox
          .json<{ packets: { id: string; myAmountMinor: string | null; toType: string }[] }>()
          .packets.find((p) => p.id === sent.id);
        assert.equal(listed?.myAmountMinor, '520');
        assert.equal(listed.toType, 'user');
        assert.equal(
          (await asUser(t.app, carol, 'GET', '/v1/redpackets?box=inbox')).json<{
            packets: unknown[];
          }>().packets.length,
          0,
        );
        const sentList = await asUser(t.app, alice, 'GET', '/v1/redpackets?box=sent&limit=5');
        assert.ok(
          sentList.json<{ packets: { id: string }[] }>().packets.some((p) => p.id === sent.id),
        );
      });
    });

    describe('grab rate', () => {
      test('more than 10 grabs a second by one user get a clear 429', async () => {
        const alice = await sender();
        const bob = await newUser(t.app);
        const groupId = await groupOf(t.app, alice, [bob]);
        const sent = await sendPacket(t.app, alice, { amountMinor: '200', count: 2, groupId });
        const statuses: number[] = [];
        for (let i = 0; i < 12; i++) statuses.push((await grab(t.app, bob, sent.id)).statusCode);
        assert.equal(statuses[0], 201);
        assert.ok(statuses.includes(429), statuses.join(','));
        const limited = await grab(t.app, bob, sent.id);
        if (limited.statusCode === 429) expectProblem(limited, 429, 'request.rate_limited');
      });
    });

    describe('sending is checked before any money moves', () => {
      test('shape, group size, PIN and funds each refuse, and nothing changes', async () => {
        const alice = await sender(10_000n);
        const bob = await newUser(t.app);
        const groupId = await groupOf(t.app, alice, [bob]);
        const body = { mode: 'lucky', amountMinor: '100', count: 2, groupId, pin: '802413' };
        const post = (extra: Record<string, unknown>) =>
          asUser(t.app, alice, 'POST', '/v1/redpackets', { ...body, ...extra });
        expectProblem(await post({ count: 101 }), 422, 'redpacket.too_many_shares');
        expectProblem(await post({ amountMinor: '1' }), 422, 'redpacket.share_too_small');
        expectProblem(await post({ amountMinor: '40001' }), 422, 'redpacket.share_too_large');
        expectProblem(
          await post({ mode: 'fixed', amountMinor: '101' }),
          422,
          'redpacket.fixed_not_divisible',
        );
        expectProblem(await post({ count: 3 }), 422, 'redpacket.more_shares_than_members');
        expectProblem(await post({ pin: '000000' }), 403, 'identity.pin_wrong');
        expectProblem(await post({ amountMinor: '20000' }), 422, 'ledger.insufficient_funds');
        expectProblem(await post({ toUserId: bob.id }), 400, 'request.invalid');
        expectProblem(await post({ count: 1.5 }), 400, 'request.invalid');
        expectProblem(await post({ amountMinor: '-5' }), 400, 'request.invalid');
        assert.equal(await balanceMinor(t.app, alice.walletAccountId), 10_000n);
        const list = await asUser(t.app, alice, 'GET', '/v1/redpackets?box=sent');
        assert.deepEqual(list.json<{ packets: unknown[] }>().packets, []);
      });

      test('a replay with the same key sends once; the key with another body is refused', async () => {
        const alice = await sender(10_000n);
        const bob = await newUser(t.app);
        const groupId = await groupOf(t.app, alice, [bob]);
        const headers = { 'idempotency-key': 'rp-replay-1' };
        const first = await sendPacket(
          t.app,
          alice,
          { amountMinor: '300', count: 2, groupId },
          headers,
        );
        const again = await asUser(
          t.app,
          alice,
          'POST',
          '/v1/redpackets',
          { pin: '802413', mode: 'lucky', amountMinor: '300', count: 2, groupId },
          headers,
        );
        // The first answer, replayed.
        assert.equal(again.statusCode, 201, again.body);
        assert.equal(again.body, JSON.stringify(first));
        assert.equal(again.json<PacketJsonForTest>().id, first.id);
        assert.equal(await balanceMinor(t.app, alice.walletAccountId), 9_700n);
        const other = await asUser(
          t.app,
          alice,
          'POST',
          '/v1/redpackets',
          { pin: '802413', mode: 'lucky', amountMinor: '400', count: 2, groupId },
          headers,
        );
        expectProblem(other, 422, 'idempotency.key_reused');
        assert.equal(await balanceMinor(t.app, alice.walletAccountId), 9_700n);
      });
    });

    describe('expiry', () => {
      test('after 24 hours the rest goes back once, however often the sweep runs; late grabs are refused', async () => {
        const alice = await sender();
        const members = await Promise.all([1, 2, 3].map(() => newUser(t.app)));
        const groupId = await groupOf(t.app, alice, members);
        const sent = await sendPacket(t.app, alice, { amountMinor: '3000', count: 3, groupId });
        const taken = BigInt(
          (await grab(t.app, members[0] as TestUser, sent.id)).json<{ amountMinor: string }>()
            .amountMinor,
        );
        const afterSend = await balanceMinor(t.app, alice.walletAccountId);
        t.clock.advance(24 * 3600_000);
        expectProblem(await grab(t.app, members[1] as TestUser, sent.id), 410, 'redpacket.expired');
        // Two sweeps at once, then another: the rest goes back exactly once.
        await Promise.all([t.app.redPackets.sweepExpired(), t.app.redPackets.sweepExpired()]);
        await t.app.runMaintenance();
        await settleAll(t.app);
        assert.equal(await balanceMinor(t.app, alice.walletAccountId), afterSend + 3000n - taken);
        assert.equal(await balanceMinor(t.app, (members[0] as TestUser).walletAccountId), taken);
        const seen = await packet(alice, sent.id);
        assert.equal(seen.state, 'refunded');
        assert.equal(seen.refundMinor, String(3000n - taken));
        const [refundBill] = await bills(alice, 'redpacket_refund');
        assert.equal(refundBill?.amountMinor, String(3000n - taken));
        assert.equal(refundBill?.direction, 'income');
        // The grabber still sees their share.
        const again = await grab(t.app, members[0] as TestUser, sent.id);
        assert.equal(again.statusCode, 200, again.body);
        const audit = await t.app.redPackets.audit(sent.id);
        assert.equal(audit.ok, true, audit.problems.join('; '));
        assert.equal(audit.refundedMinor, 3000n - taken);
      });
    });
  });
}
