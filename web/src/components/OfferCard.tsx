import { formatYuan } from '../api.ts';
import { fill, useI18n } from '../i18n.tsx';
import type { Offer } from '../marketing.ts';

/**
 * A campaign's offer as the payer reads it before the PIN: its label (政府补贴, 平台优惠, …), what
 * comes off (for a random discount, the most it can be) and what is left to pay.
 */
export function OfferCard({ offer, testId = 'pay-offer' }: { offer: Offer; testId?: string }) {
  const { t, lang } = useI18n();
  return (
    <div className="offer" data-testid={testId}>
      <span className="offer-label" data-testid={`${testId}-label`}>{offer.labelText[lang]}</span>
      <span className="offer-off" data-testid={`${testId}-off`}>{fill(t(offer.random ? 'offer_upTo' : 'offer_off'), { amount: formatYuan(offer.offMinor) })}</span>
      <div className="offer-pay" data-testid={`${testId}-pay`}>{fill(t(offer.random ? 'offer_payAtLeast' : 'offer_pay'), { amount: formatYuan(offer.payMinor) })}</div>
    </div>
  );
}
