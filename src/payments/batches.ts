import { batched } from '../kernel/batch.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import {
  isUniqueViolation,
  markManySucceeded,
  markSucceeded,
  selectBillsByKey,
  type BillRow,
} from './store.ts';

/**
 * The statements of the payment path that concurrent requests share (kernel/batch.ts): marking
 * payments succeeded, and reading the bill a response returns. Each answers exactly what its one-by-one form would.
 */
export class PaymentBatches {
  constructor(private readonly deps: { readonly sql: Sql; readonly clock: Clock }) {}

  /**
   * Marks a payment succeeded (see `markSucceeded`) and answers its payer's bill. Should one row
   * of a batch hit a unique index (a rare race of two live attempts of one request), the batch is
   * redone one by one, and that row answers undefined.
   */
  readonly succeed = batched<string, BillRow | undefined>(async (ids) => {
    const now = this.deps.clock.now();
    try {
      const rows = await markManySucceeded(this.deps.sql, ids, now);
      const byId = new Map(rows.map((row) => [row.payment_id, row]));
      return ids.map((id) => byId.get(id));
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return Promise.all(
        ids.map(async (id) => {
          const row = await markSucceeded(this.deps.sql, id, now);
          return row === undefined ? undefined : this.bill({ userId: row.user_id, paymentId: id });
        }),
      );
    }
  });

  /** A user's visible bill for a payment. */
  readonly bill = batched<{ userId: string; paymentId: string }, BillRow | undefined>(
    async (keys) => {
      const rows = await selectBillsByKey(this.deps.sql, keys);
      const byKey = new Map(rows.map((row) => [`${row.user_id} ${row.payment_id}`, row]));
      return keys.map((key) => byKey.get(`${key.userId} ${key.paymentId}`));
    },
  );
}
