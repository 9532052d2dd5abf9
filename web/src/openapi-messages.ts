/**
 * The messages of the open platform's cashier (issue 7): the page an ISV's QR code or page-pay
 * redirect opens (#/trade/<tradeNo>). Kept apart from i18n.tsx like the credit messages; i18n.tsx
 * merges them into its catalog, and TypeScript checks both languages have every key.
 */
export const openapiMessages = {
  zh: {
    trade_title: '收银台',
    trade_merchant: '商户：{name}',
    trade_subject: '商品',
    trade_tradeNo: '交易号',
    trade_payBefore: '请在 {time} 前付款',
    trade_pay: '付款 ¥{amount}',
    trade_paid: '付款成功',
    trade_backToMerchant: '返回商户',
    trade_signInToPay: '登录后继续付款',
    trade_state_WAIT_BUYER_PAY: '等待付款',
    trade_state_TRADE_SUCCESS: '该交易已付款',
    trade_state_TRADE_FINISHED: '该交易已完成',
    trade_state_TRADE_CLOSED: '该交易已关闭，不能付款',
    trade_err_not_found: '交易不存在',
    trade_err_not_payable: '该交易现在不能付款',
    trade_err_insufficient: '余额不足',
    pay_tradeHint: '也可粘贴开放平台的付款链接或 28 位交易号',
  },
  en: {
    trade_title: 'Checkout',
    trade_merchant: 'Merchant: {name}',
    trade_subject: 'Item',
    trade_tradeNo: 'Trade no.',
    trade_payBefore: 'Pay before {time}',
    trade_pay: 'Pay ¥{amount}',
    trade_paid: 'Payment successful',
    trade_backToMerchant: 'Back to the merchant',
    trade_signInToPay: 'Log in to continue to the payment',
    trade_state_WAIT_BUYER_PAY: 'Awaiting payment',
    trade_state_TRADE_SUCCESS: 'This trade has been paid',
    trade_state_TRADE_FINISHED: 'This trade is finished',
    trade_state_TRADE_CLOSED: 'This trade is closed and cannot be paid',
    trade_err_not_found: 'No such trade',
    trade_err_not_payable: 'This trade cannot be paid now',
    trade_err_insufficient: 'Not enough money in your wallet',
    pay_tradeHint: 'Or paste a checkout link or a 28-digit trade number',
  },
} as const;
