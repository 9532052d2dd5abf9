import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, type Me } from './api.ts';
import { useI18n } from './i18n.tsx';
import { AnnualBillPage } from './pages/AnnualBillPage.tsx';
import { AuthPage } from './pages/AuthPage.tsx';
import { BikePage } from './pages/BikePage.tsx';
import { BillsPage } from './pages/BillsPage.tsx';
import { ConsentPage } from './pages/ConsentPage.tsx';
import { CreditPage } from './pages/CreditPage.tsx';
import { FriendsPage } from './pages/FriendsPage.tsx';
import { GroupsPage } from './pages/GroupsPage.tsx';
import { HomePage } from './pages/HomePage.tsx';
import { PayCodePage } from './pages/PayCodePage.tsx';
import { PayPage } from './pages/PayPage.tsx';
import { PinSetupPage } from './pages/PinSetupPage.tsx';
import { RainPage } from './pages/RainPage.tsx';
import { RedPacketPage } from './pages/RedPacketPage.tsx';
import { RedPacketsPage } from './pages/RedPacketsPage.tsx';
import { SendRedPacketPage } from './pages/SendRedPacketPage.tsx';
import { ShareCardPage } from './pages/ShareCardPage.tsx';
import { ShopPage } from './pages/ShopPage.tsx';
import { TopUpPage } from './pages/TopUpPage.tsx';
import { TradePage } from './pages/TradePage.tsx';
import { TransferPage } from './pages/TransferPage.tsx';
import { VouchersPage } from './pages/VouchersPage.tsx';
import { navigate, routeFromHash, shareTokenFromHash, tradeNoFromHash, type Route } from './router.ts';

/**
 * Signed out → the auth page; signed in → the page the hash names. The session is the HttpOnly
 * cookie. A public share card (#/share/<token>) opens either way: it needs no sign-in. Signing in
 * leaves the hash as it was, so a link opened signed out (an ISV's cashier, #/trade/<tradeNo>)
 * is where the payer lands after logging in.
 */
export function App() {
  const { t } = useI18n();
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [route, setRoute] = useState<Route>(routeFromHash);
  // The whole hash, so that opening another pay link (#/pay?code=…) starts a fresh page.
  const [hash, setHash] = useState(window.location.hash);

  const refresh = useCallback(async () => {
    try {
      setMe(await api<Me>('GET', '/v1/me'));
    } catch (error) {
      if (error instanceof ApiError && error.problem.status === 401) setMe(null);
      else throw error;
    }
  }, []);

  useEffect(() => {
    void refresh();
    const onHash = () => {
      setRoute(routeFromHash());
      setHash(window.location.hash);
    };
    window.addEventListener('hashchange', onHash);
    return () => {
      window.removeEventListener('hashchange', onHash);
    };
  }, [refresh]);

  const home = () => {
    navigate('home');
    void refresh();
  };

  const shareToken = shareTokenFromHash();
  if (shareToken !== null) return <ShareCardPage key={shareToken} token={shareToken} />;
  if (me === undefined) return <main className="center">{t('loading')}</main>;
  const tradeNo = tradeNoFromHash();
  if (me === null) return <AuthPage onSignedIn={refresh} notice={tradeNo === null ? null : t('trade_signInToPay')} />;
  if (tradeNo !== null) return <TradePage key={tradeNo} tradeNo={tradeNo} onDone={home} />;
  switch (route) {
    case 'transfer':
      return <TransferPage onDone={home} />;
    case 'topup':
      return <TopUpPage onDone={home} />;
    case 'bills':
      return <BillsPage onDone={home} />;
    case 'pin':
      return <PinSetupPage onDone={home} />;
    case 'friends':
      return <FriendsPage onDone={home} />;
    case 'groups':
      return <GroupsPage onDone={home} />;
    case 'pay':
      return <PayPage key={hash} onDone={home} />;
    case 'paycode':
      return <PayCodePage onDone={home} />;
    case 'shop':
      return <ShopPage onDone={home} />;
    case 'redpackets':
      return <RedPacketsPage onDone={home} />;
    case 'redpacket':
      return <RedPacketPage key={hash} myUserId={me.user.id} />;
    case 'redpacket-send':
      return <SendRedPacketPage />;
    case 'rain':
      return <RainPage key={hash} onDone={home} />;
    case 'vouchers':
      return <VouchersPage onDone={home} />;
    case 'credit':
      return <CreditPage onDone={home} />;
    case 'consent':
      return <ConsentPage key={hash} onDone={home} />;
    case 'annual-bill':
      return <AnnualBillPage onDone={home} />;
    case 'bike':
      return <BikePage onDone={home} />;
    case 'home':
      return (
        <HomePage
          me={me}
          onLogout={async () => {
            await api('POST', '/v1/auth/logout');
            setMe(null);
          }}
        />
      );
  }
}
