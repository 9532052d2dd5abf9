import type { Sql } from '../kernel/db.ts';
import { linkHash, type Metadata, type NewTransfer, type RecordType } from './model.ts';

/**
 * The two audits an operator runs: `reconcile` (the books agree with the journal and sum to zero)
 * and `verify` (the hash chain is unbroken). Both only read.
 */

export interface ReconcileProblem {
  readonly check: string;
  readonly subject: string;
  readonly expected: string;
  readonly actual: string;
}

export interface ReconcileReport {
  readonly ok: boolean;
  readonly accounts: number;
  readonly transfers: number;
  readonly currencies: { currency: string; postedSumMinor: bigint; pendingDebitsMinor: bigint; pendingCreditsMinor: bigint }[];
  readonly problems: ReconcileProblem[];
}

const problemsMax = 100;

/**
 * Runs in one REPEATABLE READ READ ONLY transaction, so every figure comes from one snapshot even
 * while the writer keeps committing.
 */
export async function reconcile(sql: Sql): Promise<ReconcileReport> {
  return sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
    const problems: ReconcileProblem[] = [];
    const add = (problem: ReconcileProblem): void => {
      if (problems.length < problemsMax) problems.push(problem);
    };
    const currencyRows = await tx<{ currency: string; posted: bigint; dp: bigint; cp: bigint }[]>`
      SELECT currency, sum(credits_posted - debits_posted)::int8 AS posted,
             sum(debits_pending)::int8 AS dp, sum(credits_pending)::int8 AS cp
      FROM ledger_accounts GROUP BY currency ORDER BY currency`;
    for (const row of currencyRows) {
      if (row.posted !== 0n) add({ check: 'currency_sums_to_zero', subject: row.currency, expected: '0', actual: row.posted.toString() });
      if (row.dp !== row.cp) add({ check: 'pending_debits_equal_pending_credits', subject: row.currency, expected: row.dp.toString(), actual: row.cp.toString() });
    }
    // Each book's posted totals equal its entries, and its last entry's running balance agrees.
    const postedRows = await tx<{ id: string; dP: bigint; cP: bigint; ed: bigint; ec: bigint; last: bigint | null }[]>`
      SELECT a.id, a.debits_posted AS "dP", a.credits_posted AS "cP",
             coalesce(e.d, 0)::int8 AS ed, coalesce(e.c, 0)::int8 AS ec, l.balance_after_minor AS last
      FROM ledger_accounts a
      LEFT JOIN (SELECT book_id, sum(amount_minor) FILTER (WHERE side = 'D') AS d,
                        sum(amount_minor) FILTER (WHERE side = 'C') AS c
                 FROM ledger_entries GROUP BY book_id) e ON e.book_id = a.id
      LEFT JOIN LATERAL (SELECT balance_after_minor FROM ledger_entries x WHERE x.book_id = a.id
                         ORDER BY transfer_seq DESC LIMIT 1) l ON true
      WHERE a.debits_posted <> coalesce(e.d, 0) OR a.credits_posted <> coalesce(e.c, 0)
         OR coalesce(l.balance_after_minor, 0) <> a.credits_posted - a.debits_posted
      LIMIT ${problemsMax}`;
    for (const row of postedRows) {
      add({ check: 'book_equals_entries', subject: row.id, expected: `debits ${row.ed.toString()} credits ${row.ec.toString()}`, actual: `debits ${row.dP.toString()} credits ${row.cP.toString()} last balance ${String(row.last)}` });
    }
    // Pending totals equal the open holds: pending transfers with no post, void or expiry.
    const pendingRows = await tx<{ id: string; dp: bigint; cp: bigint; hd: bigint; hc: bigint }[]>`
      WITH open AS (
        SELECT t.debit_book_id, t.credit_book_id, t.amount_minor FROM ledger_transfers t
        WHERE t.type = 'pending' AND NOT EXISTS (SELECT 1 FROM ledger_transfers r WHERE r.pending_id = t.id)),
      d AS (SELECT debit_book_id AS id, sum(amount_minor) AS s FROM open GROUP BY 1),
      c AS (SELECT credit_book_id AS id, sum(amount_minor) AS s FROM open GROUP BY 1)
      SELECT a.id, a.debits_pending AS dp, a.credits_pending AS cp,
             coalesce(d.s, 0)::int8 AS hd, coalesce(c.s, 0)::int8 AS hc
      FROM ledger_accounts a LEFT JOIN d ON d.id = a.id LEFT JOIN c ON c.id = a.id
      WHERE a.debits_pending <> coalesce(d.s, 0) OR a.credits_pending <> coalesce(c.s, 0)
      LIMIT ${problemsMax}`;
    for (const row of pendingRows) {
      add({ check: 'pending_equals_open_holds', subject: row.id, expected: `debits ${row.hd.toString()} credits ${row.hc.toString()}`, actual: `debits ${row.dp.toString()} credits ${row.cp.toString()}` });
    }
    // Every posted movement has its debit and credit entry of its amount (joined on the entries'
    // primary key), and no entry exists beyond those: the counts then agree exactly.
    const entryRows = await tx<{ id: string; d: bigint | null; c: bigint | null }[]>`
      SELECT t.id, d.amount_minor AS d, c.amount_minor AS c FROM ledger_transfers t
      LEFT JOIN ledger_entries d ON d.book_id = t.debit_book_id AND d.transfer_seq = t.seq AND d.side = 'D'
      LEFT JOIN ledger_entries c ON c.book_id = t.credit_book_id AND c.transfer_seq = t.seq AND c.side = 'C'
      WHERE t.type IN ('posted', 'post')
        AND (d.amount_minor IS DISTINCT FROM t.amount_minor OR c.amount_minor IS DISTINCT FROM t.amount_minor)
      LIMIT ${problemsMax}`;
    for (const row of entryRows) {
      add({ check: 'transfer_has_two_entries', subject: row.id, expected: 'a debit and a credit entry of the amount', actual: `debit ${String(row.d)} credit ${String(row.c)}` });
    }
    const [entryCounts] = await tx<{ entries: bigint; posted: bigint }[]>`
      SELECT (SELECT count(*) FROM ledger_entries)::int8 AS entries,
             (SELECT count(*) FROM ledger_transfers WHERE type IN ('posted', 'post'))::int8 AS posted`;
    if (entryCounts !== undefined && entryCounts.entries !== 2n * entryCounts.posted) {
      add({ check: 'entries_match_transfers', subject: 'ledger_entries', expected: `${String(2n * entryCounts.posted)} entries`, actual: `${entryCounts.entries.toString()} entries` });
    }
    const overdrawn = await tx<{ id: string; available: bigint }[]>`
      SELECT id, (credits_posted + overdraft_limit_minor - debits_posted - debits_pending)::int8 AS available
      FROM ledger_accounts
      WHERE no_overdraft AND debits_posted + debits_pending > credits_posted + overdraft_limit_minor
      LIMIT ${problemsMax}`;
    for (const row of overdrawn) {
      add({ check: 'no_overdraft_respected', subject: row.id, expected: '>= 0', actual: row.available.toString() });
    }
    const hotParents = await tx<{ id: string }[]>`
      SELECT id FROM ledger_accounts WHERE shard_count > 1
        AND (debits_pending <> 0 OR debits_posted <> 0 OR credits_pending <> 0 OR credits_posted <> 0)
      LIMIT ${problemsMax}`;
    for (const row of hotParents) {
      add({ check: 'hot_account_holds_no_money_itself', subject: row.id, expected: '0', actual: 'non-zero totals' });
    }
    const [counts] = await tx<{ accounts: bigint; transfers: bigint }[]>`
      SELECT (SELECT count(*) FROM ledger_accounts)::int8 AS accounts,
             (SELECT last_seq FROM ledger_chain_head) AS transfers`;
    return {
      ok: problems.length === 0,
      accounts: Number(counts?.accounts ?? 0n),
      transfers: Number(counts?.transfers ?? 0n),
      currencies: currencyRows.map((row) => ({ currency: row.currency, postedSumMinor: row.posted, pendingDebitsMinor: row.dp, pendingCreditsMinor: row.cp })),
      problems,
    };
  });
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly checked: number;
  readonly headSeq: bigint;
  /** The first link that does not match, if any. */
  readonly brokenAt: { seq: bigint; transferId: string; reason: string } | null;
}

interface VerifyRow {
  seq: bigint;
  id: string;
  type: RecordType;
  debit_account_id: string;
  credit_account_id: string;
  debit_book_id: string;
  credit_book_id: string;
  amount_minor: bigint;
  currency: string;
  kind: string;
  pending_id: string | null;
  timeout_at: Date | null;
  group_id: string | null;
  metadata: Metadata;
  created_at: Date;
  hash: Buffer;
  d_amount: bigint | null;
  d_balance: bigint | null;
  c_amount: bigint | null;
  c_balance: bigint | null;
}

const verifyPageSize = 5000;

/**
 * Recomputes the chain from seq 1 and names the first broken link: a row whose stored hash differs
 * from the recomputed one (its content or an entry was changed), a gap in seq (a row was removed),
 * or a head that does not match the last row.
 */
export async function verifyChain(
  sql: Sql,
  onProgress?: (checked: number, headSeq: bigint) => void,
): Promise<VerifyReport> {
  const [head] = await sql<{ last_seq: bigint; hash: Buffer }[]>`SELECT last_seq, hash FROM ledger_chain_head`;
  const headSeq = head?.last_seq ?? 0n;
  let previous: Buffer = Buffer.alloc(32);
  let expectedSeq = 1n;
  let checked = 0;
  const pagesMax = Number(headSeq / BigInt(verifyPageSize)) + 2;
  for (let page = 0; page < pagesMax; page++) {
    const rows = await sql<VerifyRow[]>`
      SELECT t.seq, t.id, t.type, t.debit_account_id, t.credit_account_id, t.debit_book_id,
             t.credit_book_id, t.amount_minor, t.currency, t.kind, t.pending_id, t.timeout_at,
             t.group_id, t.metadata, t.created_at, t.hash,
             d.amount_minor AS d_amount, d.balance_after_minor AS d_balance,
             c.amount_minor AS c_amount, c.balance_after_minor AS c_balance
      FROM ledger_transfers t
      LEFT JOIN ledger_entries d ON d.book_id = t.debit_book_id AND d.transfer_seq = t.seq AND d.side = 'D'
      LEFT JOIN ledger_entries c ON c.book_id = t.credit_book_id AND c.transfer_seq = t.seq AND c.side = 'C'
      WHERE t.seq >= ${expectedSeq.toString()} AND t.seq <= ${headSeq.toString()}
      ORDER BY t.seq LIMIT ${verifyPageSize}`;
    if (rows.length === 0) break;
    for (const row of rows) {
      if (row.seq !== expectedSeq) {
        return { ok: false, checked, headSeq, brokenAt: { seq: expectedSeq, transferId: '(missing)', reason: `row with seq ${expectedSeq.toString()} is missing` } };
      }
      const hash = linkHash(previous, row.seq, rowToTransfer(row));
      if (!hash.equals(row.hash)) {
        return { ok: false, checked, headSeq, brokenAt: { seq: row.seq, transferId: row.id, reason: 'stored hash does not match the recomputed link' } };
      }
      previous = hash;
      expectedSeq += 1n;
      checked += 1;
    }
    onProgress?.(checked, headSeq);
  }
  if (expectedSeq - 1n !== headSeq) {
    return { ok: false, checked, headSeq, brokenAt: { seq: expectedSeq, transferId: '(missing)', reason: `the chain ends at ${String(expectedSeq - 1n)} but the head says ${headSeq.toString()}` } };
  }
  if (head !== undefined && headSeq > 0n && !previous.equals(head.hash)) {
    return { ok: false, checked, headSeq, brokenAt: { seq: headSeq, transferId: '(head)', reason: 'the chain head hash does not match the last link' } };
  }
  return { ok: true, checked, headSeq, brokenAt: null };
}

function rowToTransfer(row: VerifyRow): NewTransfer {
  const entries: NewTransfer['entries'][number][] = [];
  if (row.d_amount !== null && row.d_balance !== null) entries.push({ bookId: row.debit_book_id, side: 'D', amountMinor: row.d_amount, balanceAfterMinor: row.d_balance });
  if (row.c_amount !== null && row.c_balance !== null) entries.push({ bookId: row.credit_book_id, side: 'C', amountMinor: row.c_amount, balanceAfterMinor: row.c_balance });
  return {
    id: row.id,
    type: row.type,
    debitAccountId: row.debit_account_id,
    creditAccountId: row.credit_account_id,
    debitBookId: row.debit_book_id,
    creditBookId: row.credit_book_id,
    amountMinor: row.amount_minor,
    currency: row.currency,
    kind: row.kind,
    pendingId: row.pending_id,
    timeoutAtMs: row.timeout_at === null ? null : row.timeout_at.getTime(),
    groupId: row.group_id,
    metadata: row.metadata,
    createdAtMs: row.created_at.getTime(),
    entries,
  };
}

export interface LedgerTotals {
  /** When the snapshot was read (the database's clock). */
  readonly asOf: Date;
  readonly currencies: {
    readonly currency: string;
    readonly accounts: number;
    /** Sum of the balances above zero (what the platform owes: wallets, escrow, budgets). */
    readonly creditBalancesMinor: bigint;
    /** Sum of the balances below zero, as a positive number (bank float, credit lines). */
    readonly debitBalancesMinor: bigint;
    /** Must be zero. */
    readonly netMinor: bigint;
    readonly pendingMinor: bigint;
    readonly byCode: { readonly code: string; readonly accounts: number; readonly balanceMinor: bigint }[];
  }[];
}

/** Per-currency totals of every balance, all read in one REPEATABLE READ snapshot. */
export async function ledgerTotals(sql: Sql): Promise<LedgerTotals> {
  return sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
    const [now] = await tx<{ now: Date }[]>`SELECT now() AS now`;
    const rows = await tx<{ currency: string; code: string; accounts: bigint; positive: bigint; negative: bigint; net: bigint; pending: bigint }[]>`
      SELECT coalesce(p.currency, a.currency) AS currency, coalesce(p.code, a.code) AS code,
             count(DISTINCT coalesce(a.parent_id, a.id))::int8 AS accounts,
             coalesce(sum(greatest(a.credits_posted - a.debits_posted, 0)), 0)::int8 AS positive,
             coalesce(sum(greatest(a.debits_posted - a.credits_posted, 0)), 0)::int8 AS negative,
             coalesce(sum(a.credits_posted - a.debits_posted), 0)::int8 AS net,
             coalesce(sum(a.debits_pending), 0)::int8 AS pending
      FROM ledger_accounts a LEFT JOIN ledger_accounts p ON p.id = a.parent_id
      WHERE a.shard_count = 1
      GROUP BY 1, 2 ORDER BY 1, 2`;
    const currencies = new Map<string, LedgerTotals['currencies'][number] & { byCode: { code: string; accounts: number; balanceMinor: bigint }[] }>();
    for (const row of rows) {
      const entry = currencies.get(row.currency) ?? { currency: row.currency, accounts: 0, creditBalancesMinor: 0n, debitBalancesMinor: 0n, netMinor: 0n, pendingMinor: 0n, byCode: [] };
      currencies.set(row.currency, {
        ...entry,
        accounts: entry.accounts + Number(row.accounts),
        creditBalancesMinor: entry.creditBalancesMinor + row.positive,
        debitBalancesMinor: entry.debitBalancesMinor + row.negative,
        netMinor: entry.netMinor + row.net,
        pendingMinor: entry.pendingMinor + row.pending,
        byCode: [...entry.byCode, { code: row.code, accounts: Number(row.accounts), balanceMinor: row.net }],
      });
    }
    return { asOf: now?.now ?? new Date(0), currencies: [...currencies.values()] };
  });
}
