/**
 * Goal: whatever order grabs, settlement passes, expiry sweeps and crashes come in, a red packet
 * never grants more than it holds, never grants one person twice, and always reconciles: per
 * packet escrow + paid out + refunded = amount, and every wallet holds exactly its shares.
 * Method: fast-check generates a packet (lucky or fixed, 1–8 shares) and a schedule of steps run
 * against the whole app on a test schema: rounds of concurrent grabs (some users twice at once),
 * settlement passes (some concurrent with each other and with grabs), the clock passing expiry
 * with one or two sweeps at once, and a "crash" between closing a packet and paying its rest
 * (the close step run alone, as a sweep that died after it). The shrunk schedule and seed
 * are printed on failure.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { reconcile } from '../../src/ledger/index.ts';
import { balanceMinor, fundedUser, newUser } from '../../src/payments/testing.ts';
import { grab, grabPaths, groupOf, sendPacket, settleAll } from '../../src/redpacket/testing.ts';
import { createTestApp, type TestApp, type TestUser } from '../../src/testing/app.ts';

let t: TestApp;
let sender: TestUser;
let members: TestUser[];
let groupId: string;
let sessionsFromMs: number;

async function setUp(env: Record<string, string>): Promise<void> {
  // Grabs here come faster than a person taps; the per-user limit is tested elsewhere.
  t = await createTestApp({ QIANBAO_REDPACKET_GRAB_RATE_PER_S: '10000', QIANBAO_PIN_RATE_PER_MIN: '100000', ...env });
  sender = await newUser(t.app, { displayName: 'sender' });
  await fundedUser(t.app, sender, 5_000_000n);
  members = await Promise.all(
    Array.from({ length: 8 }, (_, i) => newUser(t.app, { displayName: `m${String(i)}` })),
  );
  groupId = await groupOf(t.app, sender, members, 'property');
  sessionsFromMs = t.clock.nowMs();
}

async function renewSessions(): Promise<void> {
  const now = t.clock.now();
  const renewed = [sender, ...members].map((user) => ({ ...user, token: randomBytes(32).toString('base64url') }));
  await t.db.sql`
    INSERT INTO identity_sessions (token_sha256, user_id, created_at, expires_at)
    SELECT t, u, ${now}, ${new Date(now.getTime() + 30 * 24 * 3600_000)}
    FROM unnest(${renewed.map((user) => createHash('sha256').update(user.token).digest('hex'))}::text[], ${renewed.map((user) => user.id)}::text[]) AS x(t, u)`;
  [sender = sender, ...members] = renewed;
  sessionsFromMs = now.getTime();
}

type Step =
  | { readonly kind: 'grabs'; readonly who: readonly number[] }
  | { readonly kind: 'settle'; readonly concurrent: number }
  | { readonly kind: 'expire'; readonly sweeps: number; readonly crashFirst: boolean };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('grabs' as const),
    who: fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 10 }),
  }),
  fc.record({ kind: fc.constant('settle' as const), concurrent: fc.integer({ min: 1, max: 3 }) }),
  fc.record({
    kind: fc.constant('expire' as const),
    sweeps: fc.integer({ min: 1, max: 2 }),
    crashFirst: fc.boolean(),
  }),
);

for (const path of grabPaths()) {
  test(`grabs on ${path.name}: random grabs, settlements, expiries and crashes never over-grant, never grant twice, and reconcile`, async () => {
    await setUp(path.env);
    after(() => t.close());
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('lucky', 'fixed'),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 300 }),
        fc.array(stepArb, { minLength: 1, maxLength: 6 }),
        async (mode, count, perShare, steps) => {
          // Each run passes a packet's expiry (a day); sessions last 30, so they are renewed as the
        // runs and shrinks fast-check makes add up.
        if (t.clock.nowMs() - sessionsFromMs > 20 * 24 * 3600_000) await renewSessions();
        const amountMinor = BigInt(count * perShare);
          const senderBefore = await balanceMinor(t.app, sender.walletAccountId);
          const membersBefore = await Promise.all(
            members.map((member) => balanceMinor(t.app, member.walletAccountId)),
          );
          const packet = await sendPacket(t.app, sender, {
            mode,
            amountMinor: String(amountMinor),
            count,
            groupId,
          });
          const won = new Map<string, bigint>();
          let expired = false;
          for (const step of steps) {
            if (step.kind === 'grabs') {
              // Everyone in the round at once, duplicates included: the same user twice concurrently.
              const [responses] = await Promise.all([
                Promise.all(step.who.map((i) => grab(t.app, members[i] as TestUser, packet.id))),
                t.app.redPackets.settleGrabs(),
              ]);
              for (const [index, response] of responses.entries()) {
                const member = members[step.who[index] ?? 0] as TestUser;
                const status = response.statusCode;
                const body = response.json<{ amountMinor?: string; code?: string }>();
                if (status === 201 || status === 200) {
                  const amount = BigInt(body.amountMinor ?? '0');
                  const previous = won.get(member.id);
                  assert.ok(
                    previous === undefined || previous === amount,
                    'one share per person, the same on every answer',
                  );
                  won.set(member.id, amount);
                } else {
                  assert.ok(
                    body.code === 'redpacket.empty' || body.code === 'redpacket.expired',
                    JSON.stringify(body),
                  );
                  assert.equal(body.code === 'redpacket.expired', expired);
                }
              }
            } else if (step.kind === 'settle') {
              await Promise.all(
                Array.from({ length: step.concurrent }, () => t.app.redPackets.settleGrabs()),
              );
            } else if (!expired) {
              t.clock.advance(24 * 3600_000);
              expired = true;
              if (step.crashFirst) await t.app.redPackets.closePacket(packet.id, count, t.clock.now());
              await Promise.all(
                Array.from({ length: step.sweeps }, () => t.app.redPackets.sweepExpired()),
              );
            }
          }
          if (!expired) {
            t.clock.advance(24 * 3600_000);
            await t.app.redPackets.sweepExpired();
          }
          await settleAll(t.app);
          await t.app.redPackets.sweepExpired();
          const granted = [...won.values()].reduce((a, b) => a + b, 0n);
          assert.ok(won.size <= count, 'no more grabs than shares');
          assert.ok(granted <= amountMinor, 'never more than the packet');
          const audit = await t.app.redPackets.audit(packet.id);
          assert.equal(audit.ok, true, audit.problems.join('; '));
          assert.equal(audit.paidOutMinor, granted);
          assert.equal(audit.refundedMinor, amountMinor - granted);
          assert.equal(audit.escrowMinor, 0n);
          assert.equal(await balanceMinor(t.app, sender.walletAccountId), senderBefore - granted);
          for (const [index, member] of members.entries())
            assert.equal(
              await balanceMinor(t.app, member.walletAccountId),
              (membersBefore[index] ?? 0n) + (won.get(member.id) ?? 0n),
            );
        },
      ),
      { numRuns: 25 },
    );
    assert.equal((await reconcile(t.db.sql)).ok, true);
  });
}
