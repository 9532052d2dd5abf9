/** Payments' public API: bank cards, top-up, withdrawal, P2P transfer, shops and bills. */
export {
  Payments,
  defaultPaymentLimits,
  type PaymentOutcome,
  type PaymentsDeps,
} from './service.ts';
export type { Card } from './cards.ts';
export { paymentsRoutes, type PaymentsRoutesOptions } from './routes.ts';
export { Shops, type ShopsDeps } from './shops.ts';
export { shopsRoutes, type ShopsRoutesOptions } from './shops-routes.ts';
export { PayCodes, payCodeLifetimeMs, chargeConfirmWindowMs, type Charge } from './pay-codes.ts';
export { payCodesRoutes, type PayCodesRoutesOptions } from './pay-codes-routes.ts';
export { paymentsErrors } from './errors.ts';
export type { Bill, BillPage, MonthSummary } from './bills.ts';
export { depositStep, payoutStep, redPacketPayout, type RedPacketTarget } from './intent.ts';
export { insertSettledPayments, type NewBill, type NewPayment } from './store.ts';
export {
  bankAccountId,
  banks,
  type BankCode,
  type PaymentKind,
  type PaymentLimits,
} from './model.ts';
export { auditReferences, reconcileAll, paymentReferences } from './references.ts';
