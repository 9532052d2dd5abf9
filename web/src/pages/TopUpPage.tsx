import { useCallback, useEffect, useState, type SyntheticEvent } from 'react';
import { api } from '../api.ts';
import { PinPad } from '../components/PinPad.tsx';
import { useI18n } from '../i18n.tsx';
import { yuanToMinor } from '../money.ts';
import { usePinPayment } from './usePayment.ts';

interface Card {
  readonly id: string;
  readonly bank: string;
  readonly bankName: string;
  readonly last4: string;
}

const banks = ['ICBC', 'CCB', 'ABC', 'BOC', 'CMB'] as const;

export function TopUpPage({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const [cards, setCards] = useState<readonly Card[]>([]);
  const [cardId, setCardId] = useState('');
  const [bank, setBank] = useState<string>(banks[0]);
  const [last4, setLast4] = useState('');
  const [amount, setAmount] = useState('');
  const load = useCallback(async () => {
    const list = (await api<{ cards: Card[] }>('GET', '/v1/cards')).cards;
    setCards(list);
    setCardId((current) => (current === '' ? (list[0]?.id ?? '') : current));
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  const payment = usePinPayment(async (pin) => {
    await api('POST', '/v1/topups', { cardId, amountMinor: yuanToMinor(amount) ?? '', pin });
  });
  async function bind(event: SyntheticEvent) {
    event.preventDefault();
    await api('POST', '/v1/cards', { bank, last4 });
    setLast4('');
    await load();
  }
  if (payment.done) {
    return (
      <main className="page">
        <div className="card center-text" data-testid="topup-done">
          <h2>{t('done')}</h2>
          <p>+¥{amount}</p>
          <button type="button" className="primary" onClick={onDone}>{t('back')}</button>
        </div>
      </main>
    );
  }
  return (
    <main className="page">
      <form className="card" onSubmit={(event) => { event.preventDefault(); if (yuanToMinor(amount) !== undefined && cardId !== '') payment.ask(); }}>
        <h2>{t('topup')}</h2>
        <label>
          {t('cards')}
          <select name="card" value={cardId} onChange={(e) => { setCardId(e.target.value); }}>
            {cards.length === 0 && <option value="">{t('noCards')}</option>}
            {cards.map((card) => <option key={card.id} value={card.id}>{card.bankName} ({card.last4})</option>)}
          </select>
        </label>
        <label>{t('amount')}<input name="amount" inputMode="decimal" value={amount} onChange={(e) => { setAmount(e.target.value); }} required /></label>
        {payment.error !== null && <p className="error" role="alert">{payment.error}</p>}
        <button type="submit" className="primary" data-testid="topup-next" disabled={cardId === ''}>{t('next')}</button>
        <button type="button" className="link" onClick={onDone}>{t('back')}</button>
      </form>
      <form className="card" onSubmit={(event) => void bind(event)}>
        <h3>{t('bindCard')}</h3>
        <label>{t('bank')}<select name="bank" value={bank} onChange={(e) => { setBank(e.target.value); }}>{banks.map((code) => <option key={code} value={code}>{code}</option>)}</select></label>
        <label>{t('last4')}<input name="last4" inputMode="numeric" pattern="[0-9]{4}" maxLength={4} value={last4} onChange={(e) => { setLast4(e.target.value); }} required /></label>
        <button type="submit" className="primary" data-testid="bind-card">{t('bindCard')}</button>
      </form>
      {payment.askingPin && <PinPad title={t('enterPin')} onSubmit={(pin) => void payment.submit(pin)} onCancel={payment.cancel} />}
    </main>
  );
}
