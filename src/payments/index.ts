/** Payments' public API: bank cards, top-up, withdrawal, P2P transfer and bills. */
export {
  Payments,
  defaultPaymentLimits,
  type PaymentOutcome,
  type PaymentsDeps,
} from './service.ts';
export type { Card } from './cards.ts';
export { paymentsRoutes, type PaymentsRoutesOptions } from './routes.ts';
export { paymentsErrors } from './errors.ts';
export type { Bill, BillPage, MonthSummary } from './bills.ts';
export {
  bankAccountId,
  banks,
  type BankCode,
  type PaymentKind,
  type PaymentLimits,
} from './model.ts';
