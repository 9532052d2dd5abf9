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
