import QRCode from 'qrcode';
import { useCallback, useEffect, useState, type SyntheticEvent } from 'react';
import { api, formatYuan, errorMessage } from '../api.ts';
import { useI18n, type MessageKey } from '../i18n.tsx';
import { yuanToMinor } from '../money.ts';

interface Shop {
  readonly id: string;
  readonly name: string;
  readonly balanceMinor: string;
  readonly receiveCode: string;
}

interface Order {
  readonly id: string;
  readonly amountMinor: string;
  readonly payLink: string;
}

interface Charge {
  readonly id: string;
  readonly amountMinor: string;
  readonly status: string;
  readonly failureCode: string | null;
  readonly payerMobileMasked: string;
}

interface IncomingBill {
  readonly id: string;
  readonly amountMinor: string;
  readonly createdAt: string;
  readonly counterparty: { readonly displayName: string };
}

const pollMs = 2_000;

/** A form's submit with a typed amount: a bad amount or a refused request shows as the form's error. */
async function withAmount(
  event: SyntheticEvent,
  amount: string,
  setError: (text: string | null) => void,
  invalid: string,
  action: (amountMinor: string) => Promise<void>,
): Promise<void> {
  event.preventDefault();
  const amountMinor = yuanToMinor(amount);
  if (amountMinor === undefined) {
    setError(invalid);
    return;
  }
  try {
    await action(amountMinor);
    setError(null);
  } catch (caught) {
    setError(errorMessage(caught));
  }
}

/**
 * The merchant side: open a shop; its balance and static receive QR; an order code for a fixed
 * amount; charging a customer's payment code (and waiting while they confirm); payments received,
 * each refundable in full or in part.
 */
export function ShopPage({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const [shop, setShop] = useState<Shop | null | undefined>(undefined);
  const [incoming, setIncoming] = useState<readonly IncomingBill[]>([]);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(async () => {
    const { shops } = await api<{ shops: Shop[] }>('GET', '/v1/shops');
    setShop(shops[0] ?? null);
    if (shops.length > 0) {
      setIncoming((await api<{ bills: IncomingBill[] }>('GET', '/v1/bills?kind=shop&direction=neutral&limit=20')).bills);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  if (shop === undefined) return <main className="center">{t('loading')}</main>;
  if (shop === null) return <OpenShop onOpened={() => void load()} onDone={onDone} />;
  return (
    <main className="page">
      <section className="card center-text" data-testid="shop">
        <h2 data-testid="shop-name">{shop.name}</h2>
        <div className="muted">{t('balance')}</div>
        <div className="amount" data-testid="shop-balance">¥{formatYuan(shop.balanceMinor)}</div>
        <div className="muted">{t('receiveQr')}</div>
        <img className="qr" src="/v1/shops/mine/qr.svg" alt={t('receiveQr')} width={180} height={180} />
        <code className="small-code" data-testid="shop-receive-code">{shop.receiveCode}</code>
      </section>
      <OrderCode />
      <ChargeCode onPaid={() => void load()} />
      <section className="card" data-testid="shop-incoming">
        <h3>{t('incoming')}</h3>
        {notice !== null && <p className="notice" role="status" data-testid="shop-notice">{notice}</p>}
        {incoming.length === 0 && <p className="muted">{t('noBills')}</p>}
        <ul className="list">
          {incoming.map((bill) => (
            <IncomingRow key={bill.id} bill={bill} onRefunded={(text) => { setNotice(text); void load(); }} />
          ))}
        </ul>
      </section>
      <button type="button" className="link" onClick={onDone}>{t('back')}</button>
    </main>
  );
}

function OpenShop({ onOpened, onDone }: { onOpened: () => void; onDone: () => void }) {
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  async function open(event: SyntheticEvent) {
    event.preventDefault();
    try {
      await api('POST', '/v1/shops', { name });
      onOpened();
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }
  return (
    <main className="page">
      <form className="card" onSubmit={(event) => void open(event)}>
        <h2>{t('openShop')}</h2>
        <label>{t('shopName')}<input name="shopName" maxLength={40} value={name} onChange={(e) => { setName(e.target.value); }} required /></label>
        {error !== null && <p className="error" role="alert">{error}</p>}
        <button type="submit" className="primary" data-testid="open-shop">{t('openShop')}</button>
        <button type="button" className="link" onClick={onDone}>{t('back')}</button>
      </form>
    </main>
  );
}

function OrderCode() {
  const { t } = useI18n();
  const [amount, setAmount] = useState('');
  const [order, setOrder] = useState<{ order: Order; svg: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const create = (event: SyntheticEvent) =>
    withAmount(event, amount, setError, t('amount'), async (amountMinor) => {
      const created = await api<Order>('POST', '/v1/shops/mine/orders', { amountMinor });
      const svg = await QRCode.toString(`${window.location.origin}${created.payLink}`, { type: 'svg', margin: 2 });
      setOrder({ order: created, svg });
    });
  return (
    <form className="card" onSubmit={(event) => void create(event)}>
      <h3>{t('newOrder')}</h3>
      <label>{t('amount')}<input name="orderAmount" inputMode="decimal" value={amount} onChange={(e) => { setAmount(e.target.value); }} required /></label>
      {error !== null && <p className="error" role="alert">{error}</p>}
      <button type="submit" className="secondary" data-testid="create-order">{t('newOrder')}</button>
      {order !== null && (
        <div className="center-text" data-testid="order">
          <p className="muted">{t('orderCode')} · ¥{formatYuan(order.order.amountMinor)}</p>
          <div className="qr" dangerouslySetInnerHTML={{ __html: order.svg }} />
          <a href={order.order.payLink} data-testid="order-link">{order.order.payLink}</a>
        </div>
      )}
    </form>
  );
}

function ChargeCode({ onPaid }: { onPaid: () => void }) {
  const { t } = useI18n();
  const [payCode, setPayCode] = useState('');
  const [amount, setAmount] = useState('');
  const [charge, setCharge] = useState<Charge | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (charge?.status !== 'awaiting_pin') return;
    const timer = setInterval(() => {
      void api<Charge>('GET', `/v1/shops/mine/charges/${charge.id}`).then((next) => {
        setCharge(next);
        if (next.status === 'paid') onPaid();
      });
    }, pollMs);
    return () => {
      clearInterval(timer);
    };
  }, [charge, onPaid]);
  const submit = (event: SyntheticEvent) =>
    withAmount(event, amount, setError, t('amount'), async (amountMinor) => {
      const created = await api<Charge>('POST', '/v1/shops/mine/charges', { payCode: payCode.replace(/\s+/g, ''), amountMinor });
      setCharge(created);
      if (created.status === 'paid') onPaid();
    });
  return (
    <form className="card" onSubmit={(event) => void submit(event)}>
      <h3>{t('chargeCode')}</h3>
      <label>{t('customerCode')}<input name="customerCode" inputMode="numeric" value={payCode} onChange={(e) => { setPayCode(e.target.value); }} required /></label>
      <label>{t('amount')}<input name="chargeAmount" inputMode="decimal" value={amount} onChange={(e) => { setAmount(e.target.value); }} required /></label>
      {error !== null && <p className="error" role="alert">{error}</p>}
      <button type="submit" className="primary" data-testid="charge">{t('charge')}</button>
      {charge !== null && (
        <p className="notice" role="status" data-testid="charge-status" data-status={charge.status}>
          {charge.payerMobileMasked} · ¥{formatYuan(charge.amountMinor)} · {t(`status_${charge.status}` as MessageKey)}
          {charge.failureCode !== null && ` (${charge.failureCode})`}
        </p>
      )}
    </form>
  );
}

function IncomingRow({ bill, onRefunded }: { bill: IncomingBill; onRefunded: (text: string) => void }) {
  const { t } = useI18n();
  const [amount, setAmount] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const refund = (event: SyntheticEvent) =>
    withAmount(event, amount ?? '', setError, t('refundAmount'), async (amountMinor) => {
      await api('POST', `/v1/shop-payments/${bill.id}/refunds`, { amountMinor });
      setAmount(null);
      onRefunded(`${t('refund')} · ${t('done')} · ¥${formatYuan(amountMinor)}`);
    });
  return (
    <li data-testid="incoming-payment">
      <span>{bill.counterparty.displayName}</span>
      <span>¥{formatYuan(bill.amountMinor)}</span>
      {amount === null ? (
        <button type="button" className="link" onClick={() => { setAmount(formatYuan(bill.amountMinor).replace(/,/g, '')); }} data-testid="refund-start">{t('refund')}</button>
      ) : (
        <form onSubmit={(event) => void refund(event)} className="inline-form">
          <label>{t('refundAmount')}<input name="refundAmount" inputMode="decimal" value={amount} onChange={(e) => { setAmount(e.target.value); }} /></label>
          <button type="submit" className="secondary small" data-testid="refund-submit">{t('refund')}</button>
          {error !== null && <span className="error" role="alert">{error}</span>}
        </form>
      )}
    </li>
  );
}
