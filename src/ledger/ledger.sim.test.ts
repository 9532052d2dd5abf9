/**
 * Goal: prove the ledger's invariants under concurrency on a real PostgreSQL. Random programs of
 * steps run against a Ledger; each step submits a set of operations at once (Promise.all), so they
 * share batches in whatever way the writer forms them: posted transfers, linked groups of 2–3,
 * holds with timeouts, full and partial posts, voids, the expiry sweep after the fake clock moves,
 * and retries of earlier ids with the same and with different fields. After every step:
 *   (a) conservation: posted balances sum to 0 and pending debits equal pending credits;
 *   (b) no no-overdraft book is below its limit;
 *   (c) a failed operation changed nothing and a created one did exactly its effect: a model adds
 *       the effects of only the created results to the previous step's totals and must equal every
 *       account's totals in the database (a hot account's summed over its shards), and the set of
 *       transfer ids in the journal must equal the set the model saw created;
 *   (d) holds reconcile (`reconcile(sql).ok`); and at the end the hash chain verifies.
 * Method: fast-check with a fixed seed (override with LEDGER_SIM_SEED, replay with LEDGER_SIM_PATH,
 * scale with LEDGER_SIM_RUNS). Each run gets a fresh schema, so runs are independent. The model is
 * order-free: effects are sums, so it needs no knowledge of how the writer batched the step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { FakeClock } from '../kernel/clock.ts';
import { createTestDb, type TestDb } from '../testing/pg.ts';
import { createTestLedger, systemInput, walletInput } from '../testing/ledger.ts';
import { expiryId, reconcile, verifyChain, type Ledger, type Submission, type SubmitResult, type TransferRequest } from './index.ts';
import { shardIndex } from './model.ts';

const seed = Number(process.env['LEDGER_SIM_SEED'] ?? '20260101');
const replayPath = process.env['LEDGER_SIM_PATH'];
const numRuns = Number(process.env['LEDGER_SIM_RUNS'] ?? '20');
/** Bounds the whole property, shrinking included; a run is well under a second. */
const timeLimitMs = 90_000;
const stepsMin = 10;
const stepsMax = 20;
const opsPerStepMax = 12;

// The accounts of one run: a system account that may go negative, three no-overdraft wallets, a
// credit line with an overdraft limit, and a hot no-overdraft account with three shards.
const accountIds = ['bank', 'w1', 'w2', 'w3', 'credit', 'hot'] as const;
const accountCount = accountIds.length;
const creditLimitMinor = 500n;
const walletFundingMinor = 1000n;
const amountMaxMinor = 400n;
const transferMaxMinor = 100_000_000_000n;

// ---- the generated program -------------------------------------------------------------------

type MemberSpec =
  | { readonly t: 'posted'; readonly from: number; readonly to: number; readonly amount: bigint; readonly tagged: boolean }
  | { readonly t: 'pending'; readonly from: number; readonly to: number; readonly amount: bigint; readonly timeoutSeconds: number | null }
  /** `tenths` of the hold's amount (rounded up; 11 asks for more than the hold); null posts it all. */
  | { readonly t: 'post'; readonly hold: HoldPick; readonly tenths: number | null; readonly named: boolean }
  | { readonly t: 'void'; readonly hold: HoldPick; readonly named: boolean };

/** Which hold a post or void aims at, counted back from the newest: an open one, or any asked for. */
interface HoldPick { readonly index: number; readonly openOnly: boolean }

type Change = 'none' | 'amount' | 'kind' | 'metadata';
const invalidFlavors = ['zero_amount', 'same_account', 'unknown_account', 'bad_id', 'over_max', 'missing_hold', 'timeout_on_posted', 'duplicate_in_group'] as const;
type InvalidFlavor = (typeof invalidFlavors)[number];

type OpSpec =
  | { readonly t: 'single'; readonly member: MemberSpec }
  | { readonly t: 'linked'; readonly members: readonly MemberSpec[] }
  /**
   * A linked group that places a hold, and beside it (same step, usually the same batch) a single
   * post or void of that hold: when the group fails, the hold must not be visible to the later one.
   */
  | { readonly t: 'hold_then_resolve'; readonly hold: MemberSpec; readonly members: readonly MemberSpec[]; readonly resolve: ResolveSpec }
  /** The expiry sweep; two at once must still release each due hold once. */
  | { readonly t: 'expire'; readonly sweeps: number }
  | { readonly t: 'retry'; readonly pick: number; readonly change: Change }
  | { readonly t: 'invalid'; readonly flavor: InvalidFlavor; readonly from: number };

interface StepSpec { readonly advanceSeconds: number; readonly ops: readonly OpSpec[] }

const accountPair = fc
  .tuple(fc.integer({ min: 0, max: accountCount - 1 }), fc.integer({ min: 1, max: accountCount - 1 }))
  .map(([from, offset]) => ({ from, to: (from + offset) % accountCount }));
const amount = fc.bigInt({ min: 1n, max: amountMaxMinor });

const postedSpec: fc.Arbitrary<MemberSpec> = fc
  .tuple(accountPair, amount, fc.boolean())
  .map(([pair, value, tagged]) => ({ t: 'posted', ...pair, amount: value, tagged }));
const pendingSpec: fc.Arbitrary<MemberSpec> = fc
  .tuple(accountPair, amount, fc.option(fc.integer({ min: 1, max: 60 }), { nil: null }))
  .map(([pair, value, timeoutSeconds]) => ({ t: 'pending', ...pair, amount: value, timeoutSeconds }));
// A small index over the newest holds makes two operations in one step race for the same hold.
const holdPick: fc.Arbitrary<HoldPick> = fc.record({ index: fc.integer({ min: 0, max: 3 }), openOnly: fc.boolean() });
type ResolveSpec = Extract<MemberSpec, { t: 'post' | 'void' }>;
const postSpec: fc.Arbitrary<ResolveSpec> = fc
  .tuple(holdPick, fc.option(fc.integer({ min: 1, max: 11 }), { nil: null }), fc.boolean())
  .map(([hold, tenths, named]) => ({ t: 'post', hold, tenths, named }));
const voidSpec: fc.Arbitrary<ResolveSpec> = fc
  .tuple(holdPick, fc.boolean())
  .map(([hold, named]) => ({ t: 'void', hold, named }));
const memberSpec = fc.oneof(
  { arbitrary: postedSpec, weight: 5 },
  { arbitrary: pendingSpec, weight: 3 },
  { arbitrary: postSpec, weight: 2 },
  { arbitrary: voidSpec, weight: 1 },
);

const opSpec: fc.Arbitrary<OpSpec> = fc.oneof(
  { arbitrary: postedSpec.map((member): OpSpec => ({ t: 'single', member })), weight: 8 },
  { arbitrary: pendingSpec.map((member): OpSpec => ({ t: 'single', member })), weight: 4 },
  { arbitrary: postSpec.map((member): OpSpec => ({ t: 'single', member })), weight: 3 },
  { arbitrary: voidSpec.map((member): OpSpec => ({ t: 'single', member })), weight: 2 },
  { arbitrary: fc.array(memberSpec, { minLength: 2, maxLength: 3 }).map((members): OpSpec => ({ t: 'linked', members })), weight: 3 },
  {
    arbitrary: fc
      .tuple(pendingSpec, fc.array(memberSpec, { minLength: 1, maxLength: 2 }), fc.oneof(postSpec, voidSpec))
      .map(([hold, members, resolve]): OpSpec => ({ t: 'hold_then_resolve', hold, members, resolve })),
    weight: 2,
  },
  { arbitrary: fc.integer({ min: 1, max: 2 }).map((sweeps): OpSpec => ({ t: 'expire', sweeps })), weight: 1 },
  {
    arbitrary: fc
      // Counted back from the newest submission: small offsets retry this step's own submissions.
      .tuple(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.nat()), fc.constantFrom<Change>('none', 'none', 'amount', 'kind', 'metadata'))
      .map(([pick, change]): OpSpec => ({ t: 'retry', pick, change })),
    weight: 3,
  },
  { arbitrary: fc.tuple(fc.constantFrom(...invalidFlavors), fc.nat(accountCount - 1)).map(([flavor, from]): OpSpec => ({ t: 'invalid', flavor, from })), weight: 1 },
);

const stepSpec: fc.Arbitrary<StepSpec> = fc.record({
  advanceSeconds: fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.integer({ min: 1, max: 45 }), weight: 2 }),
  ops: fc.array(opSpec, { minLength: 1, maxLength: opsPerStepMax }),
});
const programSpec = fc.array(stepSpec, { minLength: stepsMin, maxLength: stepsMax });

// ---- the model -------------------------------------------------------------------------------

interface Totals { debitsPending: bigint; debitsPosted: bigint; creditsPending: bigint; creditsPosted: bigint }

interface Hold {
  readonly id: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amountMinor: bigint;
  readonly timeoutAtMs: number | null;
  state: 'open' | 'post' | 'void' | 'expire';
}

interface Model {
  readonly totals: Map<string, Totals>;
  /** Every transfer id the ledger created, with its seq (null for sweep-created expiries). */
  readonly created: Map<string, bigint | null>;
  readonly holds: Map<string, Hold>;
  /** Every submission built so far, for retries. */
  readonly history: Submission[];
  /** Every pending request built so far (created or not), for posts and voids to aim at. */
  readonly pendingRequests: TransferRequest[];
}

/** One thing a step does concurrently: a submission (with what a retry must return) or a sweep. */
type Item =
  // mustFailWith: an invalid op's error; retryOfCreated: set when every id was created before.
  | { readonly t: 'submit'; readonly label: string; readonly submission: Submission; readonly mustFailWith?: string; readonly retryOfCreated?: Change }
  | { readonly t: 'expire'; readonly label: string };

/** A result that carries a stored transfer (created or exists). */
type Stored = Extract<SubmitResult, { transfer: unknown }>;

function requestsOf(submission: Submission): readonly TransferRequest[] {
  return 'transfer' in submission ? [submission.transfer] : submission.group;
}

function show(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'bigint' ? `${inner.toString()}n` : inner));
}

function pickHold(model: Model, pick: HoldPick): TransferRequest | undefined {
  if (pick.openOnly) {
    const open = [...model.holds.values()].filter((hold) => hold.state === 'open');
    const hold = open[Math.max(0, open.length - 1 - pick.index)];
    if (hold !== undefined) {
      return { id: hold.id, type: 'pending', debitAccountId: hold.debitAccountId, creditAccountId: hold.creditAccountId, amountMinor: hold.amountMinor };
    }
  }
  return model.pendingRequests[Math.max(0, model.pendingRequests.length - 1 - pick.index)];
}

function buildMember(model: Model, spec: MemberSpec, id: string): TransferRequest {
  switch (spec.t) {
    case 'posted':
      return {
        id,
        type: 'posted',
        debitAccountId: accountIds[spec.from] ?? 'bank',
        creditAccountId: accountIds[spec.to] ?? 'bank',
        amountMinor: spec.amount,
        currency: 'CNY',
        kind: 'p2p',
        ...(spec.tagged ? { metadata: { op: id } } : {}),
      };
    case 'pending':
      return {
        id,
        type: 'pending',
        debitAccountId: accountIds[spec.from] ?? 'bank',
        creditAccountId: accountIds[spec.to] ?? 'bank',
        amountMinor: spec.amount,
        currency: 'CNY',
        kind: 'preauth',
        ...(spec.timeoutSeconds === null ? {} : { timeoutSeconds: spec.timeoutSeconds }),
      };
    case 'post':
    case 'void': {
      const hold = pickHold(model, spec.hold);
      const named = spec.named && hold !== undefined ? { debitAccountId: hold.debitAccountId ?? '', creditAccountId: hold.creditAccountId ?? '' } : {};
      const holdMinor = hold?.amountMinor ?? 1n;
      const amountPart = spec.t === 'post' && spec.tenths !== null ? { amountMinor: (holdMinor * BigInt(spec.tenths) + 9n) / 10n } : {};
      return { id, type: spec.t, pendingId: hold?.id ?? 'no-such-hold', ...named, ...amountPart };
    }
  }
}

function changeRequest(request: TransferRequest, change: Change): TransferRequest {
  if (change === 'none') return request;
  if (change === 'amount' && request.amountMinor !== undefined) return { ...request, amountMinor: request.amountMinor + 1n };
  if (change === 'metadata') return { ...request, metadata: { changed: 'yes' } };
  return { ...request, kind: 'retry.changed' };
}

/** An input the ledger must refuse, and the error it must name. */
function buildInvalid(flavor: InvalidFlavor, from: number, id: string): { submission: Submission; error: string } {
  const debitAccountId = accountIds[from] ?? 'bank';
  const base: TransferRequest = { id, type: 'posted', debitAccountId, creditAccountId: accountIds[(from + 1) % accountCount] ?? 'w1', amountMinor: 1n, currency: 'CNY', kind: 'p2p' };
  const single = (transfer: TransferRequest, error: string) => ({ submission: { transfer }, error });
  switch (flavor) {
    case 'zero_amount': return single({ ...base, amountMinor: 0n }, 'ledger.amount_must_be_positive');
    case 'same_account': return single({ ...base, creditAccountId: debitAccountId }, 'ledger.accounts_must_be_different');
    case 'unknown_account': return single({ ...base, debitAccountId: 'acct_missing' }, 'ledger.debit_account_not_found');
    case 'bad_id': return single({ ...base, id: `${id} bad` }, 'ledger.id_invalid');
    case 'over_max': return single({ ...base, amountMinor: transferMaxMinor + 1n }, 'ledger.amount_exceeds_maximum');
    case 'missing_hold': return single({ id, type: 'void', pendingId: `${id}.missing` }, 'ledger.pending_transfer_not_found');
    case 'timeout_on_posted': return single({ ...base, timeoutSeconds: 5 }, 'ledger.timeout_only_for_pending');
    case 'duplicate_in_group': return { submission: { group: [base, base] }, error: 'ledger.duplicate_id_in_request' };
  }
}

/** Turns a step's specs into concrete items, recording new submissions for later retries. */
function buildItems(model: Model, stepIndex: number, step: StepSpec): Item[] {
  const items: Item[] = [];
  step.ops.forEach((op, opIndex) => {
    const id = `s${String(stepIndex)}.${String(opIndex)}`;
    // Members are built in order and recorded as built, so a later member (or, for
    // hold_then_resolve, the single beside the group) may resolve an earlier member's hold.
    const submit = (members: readonly MemberSpec[], label: string, isGroup: boolean): void => {
      const requests = members.map((member, index) => {
        const request = buildMember(model, member, isGroup ? `${label}.m${String(index)}` : label);
        if (request.type === 'pending') model.pendingRequests.push(request);
        return request;
      });
      const [first] = requests;
      assert.ok(first !== undefined);
      const submission: Submission = isGroup ? { group: requests } : { transfer: first };
      model.history.push(submission);
      items.push({ t: 'submit', label, submission });
    };
    switch (op.t) {
      case 'single':
        submit([op.member], id, false);
        return;
      case 'linked':
        submit(op.members, id, true);
        return;
      case 'hold_then_resolve':
        submit([op.hold, ...op.members], id, true);
        // Aim the resolution at the group's newest hold (the newest pending request built).
        submit([{ ...op.resolve, hold: { index: 0, openOnly: false } }], `${id}.r`, false);
        return;
      case 'expire':
        for (let sweep = 0; sweep < op.sweeps; sweep++) items.push({ t: 'expire', label: `${id}.${String(sweep)}` });
        return;
      case 'retry': {
        const original = model.history[model.history.length - 1 - (op.pick % Math.max(1, model.history.length))];
        if (original === undefined) return;
        const requests = requestsOf(original);
        const allCreated = requests.every((request) => model.created.has(request.id));
        const last = requests.length - 1;
        const changed = requests.map((request, index) => (index === last ? changeRequest(request, op.change) : request));
        const submission: Submission = 'transfer' in original ? { transfer: changed[0] ?? original.transfer } : { group: changed };
        items.push({ t: 'submit', label: `${id}(retry)`, submission, ...(allCreated ? { retryOfCreated: op.change } : {}) });
        return;
      }
      case 'invalid': {
        const { submission, error } = buildInvalid(op.flavor, op.from, id);
        items.push({ t: 'submit', label: `${id}(${op.flavor})`, submission, mustFailWith: error });
        return;
      }
    }
  });
  return items;
}

function totalsOf(model: Model, accountId: string): Totals {
  const totals = model.totals.get(accountId);
  assert.ok(totals !== undefined, `the model knows account ${accountId}`);
  return totals;
}

/** Checks each result against its request, and returns the created ones. */
function checkResults(
  context: string,
  model: Model,
  item: Extract<Item, { t: 'submit' }>,
  results: readonly SubmitResult[],
  exists: Stored[],
): { request: TransferRequest; result: Stored }[] {
  const requests = requestsOf(item.submission);
  const where = `${context} ${item.label} ${show(requests)} -> ${show(results)}`;
  assert.equal(results.length, requests.length, `one result per transfer: ${where}`);
  const failed = results.filter((result) => result.status === 'failed');
  if (requests.length > 1 && failed.length > 0) {
    // A linked group is all or none, and names the one member that failed.
    assert.equal(failed.length, results.length, `a linked group fails as a whole: ${where}`);
    const causes = failed.filter((result) => result.error !== 'ledger.linked_event_failed');
    assert.equal(causes.length, 1, `a failed linked group names one cause: ${where}`);
  }
  if (item.mustFailWith !== undefined) {
    const isRefused = results.every((result) => result.status === 'failed');
    const isNamed = results.some((result) => result.status === 'failed' && result.error === item.mustFailWith);
    assert.ok(isRefused && isNamed, `invalid input fails with ${item.mustFailWith}: ${where}`);
  }
  if (item.retryOfCreated !== undefined) {
    if (item.retryOfCreated === 'none') {
      results.forEach((result, index) => {
        assert.equal(result.status, 'exists', `a same-field retry of a created transfer returns exists: ${where}`);
        assert.equal(result.transfer.seq, model.created.get(requests[index]?.id ?? ''), `a retry returns the first transfer: ${where}`);
      });
    } else {
      const cause = results[results.length - 1];
      assert.ok(cause?.status === 'failed' && cause.error.startsWith('ledger.exists_with_different_'), `a changed retry of a created transfer is refused: ${where}`);
    }
  }
  const created: { request: TransferRequest; result: Stored }[] = [];
  results.forEach((result, index) => {
    const request = requests[index];
    assert.ok(request !== undefined && result.id === request.id, `results come in request order: ${where}`);
    if (result.status === 'failed') {
      assert.ok(result.error.startsWith('ledger.'), `a failure is a ledger error code: ${where}`);
      return;
    }
    if (result.status === 'exists') {
      exists.push(result);
      return;
    }
    assert.equal(result.transfer.type, request.type, `created with the requested type: ${where}`);
    if (request.type === 'posted' || request.type === 'pending') {
      assert.equal(result.transfer.debitAccountId, request.debitAccountId, `created with the requested debit account: ${where}`);
      assert.equal(result.transfer.creditAccountId, request.creditAccountId, `created with the requested credit account: ${where}`);
      assert.equal(result.transfer.amountMinor, request.amountMinor, `created with the requested amount: ${where}`);
    }
    created.push({ request, result });
  });
  return created;
}

function applyEffects(
  context: string,
  model: Model,
  created: readonly { request: TransferRequest; result: Stored }[],
  nowMs: number,
): void {
  const add = (accountId: string, delta: Partial<Totals>): void => {
    const totals = totalsOf(model, accountId);
    for (const key of ['debitsPending', 'debitsPosted', 'creditsPending', 'creditsPosted'] as const) totals[key] += delta[key] ?? 0n;
  };
  // Holds first: a post in this step may resolve a hold created in this step.
  for (const { request, result } of created) {
    assert.ok(!model.created.has(request.id), `${context}: transfer ${request.id} was created twice`);
    model.created.set(request.id, result.transfer.seq);
    if (request.type !== 'pending') continue;
    const timeoutAtMs = request.timeoutSeconds === undefined ? null : nowMs + request.timeoutSeconds * 1000;
    assert.equal(result.transfer.timeoutAtMs, timeoutAtMs, `${context}: hold ${request.id} times out when asked`);
    const { id, debitAccountId = '', creditAccountId = '', amountMinor = 0n } = request;
    model.holds.set(id, { id, debitAccountId, creditAccountId, amountMinor, timeoutAtMs, state: 'open' });
  }
  for (const { request, result } of created) {
    const amountMinor = request.amountMinor ?? 0n;
    if (request.type === 'posted' || request.type === 'pending') {
      const isPosted = request.type === 'posted';
      add(request.debitAccountId ?? '', isPosted ? { debitsPosted: amountMinor } : { debitsPending: amountMinor });
      add(request.creditAccountId ?? '', isPosted ? { creditsPosted: amountMinor } : { creditsPending: amountMinor });
    } else if (request.type === 'post' || request.type === 'void') {
      const hold = model.holds.get(request.pendingId ?? '');
      const where = `${context}: ${request.type} ${request.id} of hold ${String(request.pendingId)}`;
      assert.ok(hold !== undefined, `${where} resolved a hold the ledger never created`);
      assert.equal(hold.state, 'open', `${where} resolved a hold already resolved`);
      assert.ok(hold.timeoutAtMs === null || hold.timeoutAtMs > nowMs, `${where} resolved a hold that had timed out`);
      hold.state = request.type;
      const postedMinor = request.type === 'post' ? (request.amountMinor ?? hold.amountMinor) : 0n;
      assert.ok(postedMinor <= hold.amountMinor, `${where} posted more than the hold`);
      assert.equal(result.transfer.amountMinor, request.type === 'post' ? postedMinor : hold.amountMinor, `${where} has the expected amount`);
      assert.equal(result.transfer.debitAccountId, hold.debitAccountId, `${where} keeps the hold's debit account`);
      assert.equal(result.transfer.creditAccountId, hold.creditAccountId, `${where} keeps the hold's credit account`);
      add(hold.debitAccountId, { debitsPending: -hold.amountMinor, debitsPosted: postedMinor });
      add(hold.creditAccountId, { creditsPending: -hold.amountMinor, creditsPosted: postedMinor });
    } else {
      assert.fail(`${context}: a caller's ${request.type} ${request.id} was created`);
    }
  }
}

/** The sweep releases exactly the holds that were open and due when the step began. */
function applyExpiry(context: string, model: Model, due: readonly Hold[], sweptCount: number): void {
  assert.equal(sweptCount, due.length, `${context}: the sweeps expired ${String(sweptCount)} holds, expected ${show(due.map((hold) => hold.id))}`);
  for (const hold of due) {
    assert.equal(hold.state, 'open', `${context}: due hold ${hold.id} was resolved by a caller after its timeout`);
    hold.state = 'expire';
    model.created.set(expiryId(hold.id), null);
    totalsOf(model, hold.debitAccountId).debitsPending -= hold.amountMinor;
    totalsOf(model, hold.creditAccountId).creditsPending -= hold.amountMinor;
  }
}

async function checkDatabase(context: string, db: TestDb, ledger: Ledger, model: Model): Promise<void> {
  // Independent reads run at once: nothing writes between steps.
  const [sumRows, overdrawn, accounts, rows, report] = await Promise.all([
    db.sql<{ posted: bigint; dp: bigint; cp: bigint }[]>`
      SELECT coalesce(sum(credits_posted - debits_posted), 0)::int8 AS posted,
             coalesce(sum(debits_pending), 0)::int8 AS dp, coalesce(sum(credits_pending), 0)::int8 AS cp
      FROM ledger_accounts`,
    db.sql<{ id: string }[]>`
      SELECT id FROM ledger_accounts
      WHERE no_overdraft AND credits_posted + overdraft_limit_minor - debits_posted - debits_pending < 0`,
    Promise.all(accountIds.map((accountId) => ledger.getAccount(accountId))),
    db.sql<{ id: string; seq: bigint }[]>`SELECT id, seq FROM ledger_transfers`,
    reconcile(db.sql),
  ]);
  const [sums] = sumRows;
  assert.ok(sums !== undefined);
  assert.equal(sums.posted, 0n, `${context}: (a) posted balances sum to zero`);
  assert.equal(sums.dp, sums.cp, `${context}: (a) pending debits equal pending credits`);
  assert.deepEqual(overdrawn.map((row) => row.id), [], `${context}: (b) no book below its overdraft limit`);
  accountIds.forEach((accountId, index) => {
    const account = accounts[index];
    assert.ok(account !== undefined, `${context}: account ${accountId} exists`);
    const actual = { debitsPending: account.debitsPendingMinor, debitsPosted: account.debitsPostedMinor, creditsPending: account.creditsPendingMinor, creditsPosted: account.creditsPostedMinor };
    assert.deepEqual(actual, totalsOf(model, accountId), `${context}: (c) account ${accountId} has exactly the effects of the created transfers`);
  });
  const stored = new Map(rows.map((row) => [row.id, row.seq]));
  const unexpected = [...stored.keys()].filter((id) => !model.created.has(id));
  const missing = [...model.created.keys()].filter((id) => !stored.has(id));
  assert.deepEqual({ unexpected, missing }, { unexpected: [], missing: [] }, `${context}: (c) the journal holds exactly the created transfers`);
  for (const [id, seq] of model.created) {
    if (seq !== null) assert.equal(stored.get(id), seq, `${context}: transfer ${id} has the seq its result reported`);
  }
  assert.ok(report.ok, `${context}: (d) reconcile: ${show(report.problems)}`);
}

async function setUp(ledger: Ledger, hotNoOverdraft: boolean): Promise<Model> {
  await ledger.createAccount(systemInput({ id: 'bank' }));
  for (const id of ['w1', 'w2', 'w3']) await ledger.createAccount(walletInput({ id }));
  await ledger.createAccount(walletInput({ id: 'credit', code: 'credit.line', overdraftLimitMinor: creditLimitMinor }));
  await ledger.createAccount(hotNoOverdraft ? walletInput({ id: 'hot', code: 'merchant.hot', shardCount: 3 }) : systemInput({ id: 'hot', code: 'merchant.hot', shardCount: 3 }));
  const zero = (): Totals => ({ debitsPending: 0n, debitsPosted: 0n, creditsPending: 0n, creditsPosted: 0n });
  const model: Model = { totals: new Map(accountIds.map((id) => [id, zero()])), created: new Map(), holds: new Map(), history: [], pendingRequests: [] };
  const funding = await ledger.linked(
    ['w1', 'w2', 'w3'].map((id) => ({ id: `fund.${id}`, type: 'posted' as const, debitAccountId: 'bank', creditAccountId: id, amountMinor: walletFundingMinor, currency: 'CNY', kind: 'topup' })),
  );
  for (const result of funding) {
    assert.ok(result.status === 'created', `funding: ${show(result)}`);
    model.created.set(result.id, result.transfer.seq);
    totalsOf(model, 'bank').debitsPosted += walletFundingMinor;
    totalsOf(model, result.transfer.creditAccountId).creditsPosted += walletFundingMinor;
  }
  return model;
}

async function runStep(ledger: Ledger, clock: FakeClock, model: Model, stepIndex: number, step: StepSpec, context: string): Promise<void> {
  clock.advance(step.advanceSeconds * 1000);
  const nowMs = clock.nowMs();
  const due = [...model.holds.values()].filter((hold) => hold.state === 'open' && hold.timeoutAtMs !== null && hold.timeoutAtMs <= nowMs);
  const items = buildItems(model, stepIndex, step);
  let outcomes: (SubmitResult[] | number)[];
  try {
    outcomes = await Promise.all(items.map((item) => (item.t === 'expire' ? ledger.expireDue() : ledger.submit(item.submission))));
  } catch (error) {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    assert.fail(`${context}: the ledger threw instead of returning results for ${show(items)}: ${detail}`);
  }
  const created: { request: TransferRequest; result: Stored }[] = [];
  const exists: Stored[] = [];
  let sweptCount: number | undefined;
  for (const [index, item] of items.entries()) {
    const outcome = outcomes[index];
    if (item.t === 'expire') {
      assert.ok(typeof outcome === 'number');
      sweptCount = (sweptCount ?? 0) + outcome;
    } else {
      assert.ok(Array.isArray(outcome));
      created.push(...checkResults(context, model, item, outcome, exists));
    }
  }
  applyEffects(context, model, created, nowMs);
  if (sweptCount !== undefined) applyExpiry(context, model, due, sweptCount);
  for (const result of exists) {
    assert.equal(result.transfer.seq, model.created.get(result.id), `${context}: exists for ${result.id} reports the transfer created with that id`);
  }
}

test('random concurrent programs keep every ledger invariant after every step', { timeout: timeLimitMs + 60_000 }, async (t) => {
  let runNumber = 0;
  let stepCount = 0;
  let transferCount = 0;
  const property = fc.asyncProperty(fc.boolean(), programSpec, async (hotNoOverdraft, program) => {
    runNumber += 1;
    const db = await createTestDb({ poolSize: 4 });
    const { ledger, clock } = createTestLedger(db.sql, { seed: runNumber });
    try {
      const model = await setUp(ledger, hotNoOverdraft);
      for (const [stepIndex, step] of program.entries()) {
        const context = `[seed ${String(seed)} run ${String(runNumber)} step ${String(stepIndex)}]`;
        await runStep(ledger, clock, model, stepIndex, step, context);
        await checkDatabase(context, db, ledger, model);
        stepCount += 1;
      }
      transferCount += model.created.size;
      const chain = await verifyChain(db.sql);
      assert.ok(chain.ok, `[seed ${String(seed)}] verifyChain: ${show(chain.brokenAt)}`);
      assert.equal(BigInt(chain.checked), chain.headSeq, `[seed ${String(seed)}] verify checks every link`);
      assert.equal(chain.checked, model.created.size, `[seed ${String(seed)}] the chain has one link per created transfer`);
    } finally {
      await ledger.close();
      await db.close();
    }
  });
  await fc.assert(property, { seed, numRuns, ...(replayPath === undefined ? {} : { path: replayPath }), plugins: [fc.interruptAfterTimeLimit(timeLimitMs)] });
  t.diagnostic(`seed ${String(seed)}: ${String(runNumber)} runs, ${String(stepCount)} steps checked, ${String(transferCount)} transfers created`);
});

// ---- reproductions of ledger bugs the tests above found, kept as plain regression tests ----

/**
 * A hold whose credit landed on a hot account's shard other than 0, resolved by a void or by the
 * expiry sweep naming only the pendingId (so the batch loads that one shard, not the account).
 */
test('a hold on a hot account shard other than 0 can be voided and expired', async () => {
  const db = await createTestDb({ poolSize: 2 });
  const { ledger, clock } = createTestLedger(db.sql);
  try {
    await ledger.createAccount(systemInput({ id: 'bank' }));
    await ledger.createAccount(walletInput({ id: 'hot', code: 'merchant.hot', shardCount: 3 }));
    await ledger.createAccount(walletInput({ id: 'w1' }));
    const onShard = (prefix: string, shard: number): string => {
      const index = Array.from({ length: 100 }, (_, i) => i).find((i) => shardIndex(`${prefix}${String(i)}`, 3) === shard);
      return `${prefix}${String(index)}`;
    };
    const hold = (id: string, creditAccountId: string) =>
      ledger.transfer({ id, type: 'pending', debitAccountId: 'bank', creditAccountId, amountMinor: 5n, currency: 'CNY', kind: 'preauth', timeoutSeconds: 10 });
    const voidMe = onShard('void-me-', 2);
    const created = await hold(voidMe, 'hot');
    assert.ok(created.status === 'created' && created.transfer.creditBookId === 'hot.s2', show(created));
    const voided = await ledger.transfer({ id: 'void-1', type: 'void', pendingId: voidMe }).catch((error: unknown) => String(error));
    assert.equal(typeof voided === 'string' ? voided : voided.status, 'created', 'voiding a hold on hot.s2 returns a result');
    // An expiring hot-shard hold must not block the sweep, nor a plain hold expiring beside it.
    assert.equal((await hold(onShard('expire-me-', 1), 'hot')).status, 'created');
    assert.equal((await hold('expire-plain', 'w1')).status, 'created');
    clock.advance(11_000);
    assert.equal(await ledger.expireDue().catch((error: unknown) => String(error)), 2, 'the sweep expires both due holds');
    const report = await reconcile(db.sql);
    assert.ok(report.ok, show(report.problems));
  } finally {
    await ledger.close();
    await db.close();
  }
});

/** writer.ts: "a second writer (a CLI, a second server) queues behind it rather than forking the chain". */
test('two writers on one database keep one chain and balanced books', async () => {
  const db = await createTestDb({ poolSize: 6 });
  const writers = [createTestLedger(db.sql, { seed: 1 }).ledger, createTestLedger(db.sql, { seed: 2 }).ledger];
  try {
    await writers[0]!.createAccount(systemInput({ id: 'bank' }));
    for (const id of ['w0', 'w1']) await writers[0]!.createAccount(walletInput({ id }));
    const outcomes: string[] = [];
    for (let round = 0; round < 20; round++) {
      const sends = writers.map((writer, index) =>
        writer.transfer({ id: `r${String(round)}.${String(index)}`, type: 'posted', debitAccountId: 'bank', creditAccountId: `w${String(index)}`, amountMinor: 1n, currency: 'CNY', kind: 'topup' })
          .then((result) => result.status, (error: unknown) => `threw ${String(error)}`));
      outcomes.push(...(await Promise.all(sends)));
    }
    assert.deepEqual(outcomes.filter((outcome) => outcome !== 'created'), [], 'every transfer of both writers is created');
    const report = await reconcile(db.sql);
    assert.ok(report.ok, show(report.problems.slice(0, 3)));
    const chain = await verifyChain(db.sql);
    assert.ok(chain.ok, show(chain.brokenAt));
  } finally {
    for (const writer of writers) await writer.close();
    await db.close();
  }
});
