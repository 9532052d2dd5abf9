import { useEffect, useState, type SyntheticEvent } from 'react';
import { api } from '../api.ts';
import { PinPad } from '../components/PinPad.tsx';
import { useI18n } from '../i18n.tsx';
import { yuanToMinor } from '../money.ts';
import { fetchFriends, type UserSummary } from '../social.ts';
import { usePinPayment } from './usePayment.ts';

/** A transfer to a friend picked from the list, or to anyone by mobile number, confirmed with the PIN pad. */
export function TransferPage({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const [toMobile, setToMobile] = useState('');
  const [amount, setAmount] = useState('');
  const [memo, setMemo] = useState('');
  const [friends, setFriends] = useState<readonly UserSummary[]>([]);
  const [friendId, setFriendId] = useState('');
  useEffect(() => {
    void fetchFriends().then(setFriends);
  }, []);
  const friend = friends.find((candidate) => candidate.userId === friendId);
  const payment = usePinPayment(async (pin) => {
    const amountMinor = yuanToMinor(amount) ?? '';
    const recipient = friend === undefined ? { toMobile } : { toUserId: friend.userId };
    await api('POST', '/v1/transfers', { ...recipient, amountMinor, pin, ...(memo === '' ? {} : { memo }) });
  });
  function next(event: SyntheticEvent) {
    event.preventDefault();
    if (yuanToMinor(amount) === undefined) {
      payment.setError(t('amount'));
      return;
    }
    payment.ask();
  }
  if (payment.done) {
    return (
      <main className="page">
        <div className="card center-text" data-testid="transfer-done">
          <h2>{t('done')}</h2>
          <p>¥{amount} → {friend?.displayName ?? toMobile}</p>
          <button type="button" className="primary" onClick={onDone}>{t('back')}</button>
        </div>
      </main>
    );
  }
  return (
    <main className="page">
      <form className="card" onSubmit={next}>
        <h2>{t('transfer')}</h2>
        {friends.length > 0 && (
          <label>{t('friends')}
            <select name="friend" value={friendId} onChange={(e) => { setFriendId(e.target.value); }}>
              <option value="">{t('toMobile')}</option>
              {friends.map((item) => <option key={item.userId} value={item.userId}>{item.displayName} {item.mobileMasked}</option>)}
            </select>
          </label>
        )}
        {friend === undefined && (
          <label>{t('toMobile')}<input name="toMobile" inputMode="tel" value={toMobile} onChange={(e) => { setToMobile(e.target.value); }} required /></label>
        )}
        <label>{t('amount')}<input name="amount" inputMode="decimal" value={amount} onChange={(e) => { setAmount(e.target.value); }} required /></label>
        <label>{t('memo')}<input name="memo" maxLength={50} value={memo} onChange={(e) => { setMemo(e.target.value); }} /></label>
        {payment.error !== null && <p className="error" role="alert">{payment.error}</p>}
        <button type="submit" className="primary" data-testid="transfer-next">{t('next')}</button>
        <button type="button" className="link" onClick={onDone}>{t('back')}</button>
      </form>
      {payment.askingPin && <PinPad title={t('enterPin')} onSubmit={(pin) => void payment.submit(pin)} onCancel={payment.cancel} />}
    </main>
  );
}
