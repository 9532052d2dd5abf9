/** The ledger's public API: the only file other modules import. Money moves only through here. */
export { Ledger, expiryId, statementPageSizeMax, type Account, type CreateAccountInput, type StatementLine } from './service.ts';
export type { SubmitResult, Transfer, BatchObserver, RecordWriter, RecordQuery } from './writer.ts';
export type { TransferRequest, Submission, Metadata, TransferType } from './model.ts';
export { ledgerTotals, reconcile, verifyChain, type LedgerTotals, type ReconcileProblem, type ReconcileReport, type VerifyReport } from './audit.ts';
export { ledgerErrors } from './errors.ts';
