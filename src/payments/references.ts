import type { Sql } from '../kernel/db.ts';
import { reconcile, type ReconcileProblem, type ReconcileReport } from '../ledger/index.ts';

/**
 * The references the rows of the payment path hold without foreign keys (migration 0017, ADR
 * 0012): every one is written by code that has just read its parent, and no parent is ever
 * deleted. This audit is what the keys were: it names any row whose parent is missing.
 */
export const paymentReferences = [
  { table: 'payments', column: 'user_id', parent: 'identity_users', key: 'id' },
  { table: 'payments', column: 'payee_user_id', parent: 'identity_users', key: 'id' },
  { table: 'payments', column: 'card_id', parent: 'payments_cards', key: 'id' },
  { table: 'payments', column: 'shop_id', parent: 'payments_shops', key: 'id' },
  { table: 'payments', column: 'shop_order_id', parent: 'payments_shop_orders', key: 'id' },
  { table: 'payments', column: 'refund_of_payment_id', parent: 'payments', key: 'id' },
  { table: 'payments', column: 'redpacket_id', parent: 'redpackets', key: 'id' },
  { table: 'payments', column: 'rain_id', parent: 'redpacket_rains', key: 'id' },
  { table: 'payments', column: 'campaign_id', parent: 'marketing_campaigns', key: 'id' },
  { table: 'payments', column: 'voucher_id', parent: 'marketing_vouchers', key: 'id' },
  { table: 'payments', column: 'deposit_id', parent: 'credit_deposits', key: 'id' },
  { table: 'payments', column: 'openapi_app_id', parent: 'openapi_apps', key: 'app_id' },
  { table: 'payments_bills', column: 'user_id', parent: 'identity_users', key: 'id' },
  { table: 'payments_bills', column: 'payment_id', parent: 'payments', key: 'id' },
  // Never a foreign key, audited all the same.
  { table: 'payments_bills', column: 'counterparty_user_id', parent: 'identity_users', key: 'id' },
  { table: 'redpacket_shares', column: 'packet_id', parent: 'redpackets', key: 'id' },
  { table: 'redpacket_shares', column: 'grabbed_by', parent: 'identity_users', key: 'id' },
] as const;

const problemsMax = 100;

/** How a row of each table is named in a problem: its key. */
const rowKeys: Record<(typeof paymentReferences)[number]['table'], string> = {
  payments: 'c.id',
  payments_bills: `c.payment_id || ' for ' || c.user_id`,
  redpacket_shares: `c.packet_id || ' #' || c.seq`,
};

/** Rows whose referenced parent is missing (at most 100), as reconciliation problems. */
export async function auditReferences(sql: Sql): Promise<ReconcileProblem[]> {
  // Identifiers come from the constant list above, never from input.
  const checks = paymentReferences.map(
    (r) => `SELECT '${r.table}.${r.column}' AS ref, ${rowKeys[r.table]} AS row, c.${r.column} AS missing
      FROM ${r.table} c WHERE c.${r.column} IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM ${r.parent} p WHERE p.${r.key} = c.${r.column})`,
  );
  const rows = await sql.unsafe<{ ref: string; row: string; missing: string }[]>(
    `${checks.join('\nUNION ALL\n')}\nLIMIT ${String(problemsMax)}`,
  );
  return rows.map((row) => ({
    check: 'reference_exists',
    subject: `${row.ref} of ${row.row}`,
    expected: 'a row it names',
    actual: `no row ${row.missing}`,
  }));
}

/** The ledger's reconciliation, and the references of the payment rows around it. */
export async function reconcileAll(sql: Sql): Promise<ReconcileReport> {
  const [report, references] = await Promise.all([reconcile(sql), auditReferences(sql)]);
  if (references.length === 0) return report;
  return { ...report, ok: false, problems: [...report.problems, ...references] };
}
