import { createContext, useContext, useState, type ReactNode } from 'react';

/** zh-CN by default, English on request; the choice is remembered in localStorage. */
export type Lang = 'zh' | 'en';

const messages = {
  zh: {
    appName: '钱包',
    login: '登录',
    signup: '注册',
    logout: '退出登录',
    mobile: '手机号',
    password: '密码',
    displayName: '昵称（可选）',
    noAccount: '还没有账号？注册',
    haveAccount: '已有账号？登录',
    balance: '余额',
    available: '可用',
    yuan: '元',
    scan: '扫一扫',
    payCode: '付款码',
    transfer: '转账',
    bills: '账单',
    shop: '我的店铺',
    friends: '好友',
    redPackets: '红包',
    fortune: '集五福',
    forest: '蚂蚁森林',
    wealth: '理财',
    credit: '信用',
    comingSoon: '敬请期待',
    welcome: '你好，',
    language: 'English',
    loading: '加载中…',
    realNameNeeded: '未实名：每日转出上限 ¥1,000',
    realNameDone: '已实名',
    setPinHint: '尚未设置支付密码',
    cancel: '取消',
    back: '返回',
    amount: '金额（元）',
    memo: '备注（可选）',
    toMobile: '对方手机号',
    next: '下一步',
    enterPin: '请输入支付密码',
    topup: '充值',
    withdraw: '提现',
    cards: '银行卡',
    bindCard: '绑定银行卡',
    bank: '银行',
    last4: '卡号后四位',
    noCards: '还没有银行卡',
    done: '成功',
    income: '收入',
    expense: '支出',
    all: '全部',
    monthSummary: '本月收支',
    setPin: '设置支付密码',
    newPin: '新的 6 位支付密码',
    save: '保存',
    noBills: '暂无账单',
    kind_topup: '充值',
    kind_withdraw: '提现',
    kind_p2p: '转账',
    addFriend: '添加好友',
    requestSent: '好友请求已发送',
    newFriends: '新的朋友',
    accept: '接受',
    decline: '拒绝',
  },
  en: {
    appName: 'qianbao',
    login: 'Log in',
    signup: 'Sign up',
    logout: 'Log out',
    mobile: 'Mobile number',
    password: 'Password',
    displayName: 'Display name (optional)',
    noAccount: 'No account yet? Sign up',
    haveAccount: 'Have an account? Log in',
    balance: 'Balance',
    available: 'Available',
    yuan: 'CNY',
    scan: 'Scan',
    payCode: 'Pay code',
    transfer: 'Transfer',
    bills: 'Bills',
    shop: 'My shop',
    friends: 'Friends',
    redPackets: 'Red packets',
    fortune: 'Five Fortunes',
    forest: 'Forest',
    wealth: 'Wealth',
    credit: 'Credit',
    comingSoon: 'Coming soon',
    welcome: 'Hello, ',
    language: '中文',
    loading: 'Loading…',
    realNameNeeded: 'Not verified: ¥1,000 a day may leave this wallet',
    realNameDone: 'Verified',
    setPinHint: 'No payment PIN yet',
    cancel: 'Cancel',
    back: 'Back',
    amount: 'Amount (CNY)',
    memo: 'Memo (optional)',
    toMobile: "Recipient's mobile number",
    next: 'Next',
    enterPin: 'Enter your payment PIN',
    topup: 'Top up',
    withdraw: 'Withdraw',
    cards: 'Bank cards',
    bindCard: 'Add a bank card',
    bank: 'Bank',
    last4: 'Last 4 digits',
    noCards: 'No bank card yet',
    done: 'Done',
    income: 'Income',
    expense: 'Spending',
    all: 'All',
    monthSummary: 'This month',
    setPin: 'Set payment PIN',
    newPin: 'New 6-digit payment PIN',
    save: 'Save',
    noBills: 'No bills yet',
    kind_topup: 'Top-up',
    kind_withdraw: 'Withdrawal',
    kind_p2p: 'Transfer',
    addFriend: 'Add friend',
    requestSent: 'Friend request sent',
    newFriends: 'New friends',
    accept: 'Accept',
    decline: 'Decline',
  },
} as const;

export type MessageKey = keyof (typeof messages)['zh'];

interface I18n {
  readonly lang: Lang;
  readonly t: (key: MessageKey) => string;
  readonly toggle: () => void;
}

const I18nContext = createContext<I18n | null>(null);

function initialLang(): Lang {
  return localStorage.getItem('qb.lang') === 'en' ? 'en' : 'zh';
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLang] = useState<Lang>(initialLang);
  const value: I18n = {
    lang,
    t: (key) => messages[lang][key],
    toggle: () => {
      const next: Lang = lang === 'zh' ? 'en' : 'zh';
      localStorage.setItem('qb.lang', next);
      document.documentElement.lang = next === 'zh' ? 'zh-CN' : 'en';
      setLang(next);
    },
  };
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (value === null) throw new Error('useI18n outside I18nProvider');
  return value;
}
