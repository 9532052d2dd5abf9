import { useState } from 'react';
import { useI18n } from '../i18n.tsx';

/** A 6-digit PIN pad; submits as soon as the sixth digit is entered. */
export function PinPad({ title, onSubmit, onCancel }: { title: string; onSubmit: (pin: string) => void; onCancel: () => void }) {
  const { t } = useI18n();
  const [pin, setPin] = useState('');
  function press(digit: string) {
    const next = (pin + digit).slice(0, 6);
    setPin(next);
    if (next.length === 6) {
      setPin('');
      onSubmit(next);
    }
  }
  return (
    <div className="sheet" role="dialog" aria-label={title}>
      <div className="sheet-body">
        <div className="sheet-title">{title}</div>
        <div className="pin-dots" data-testid="pin-dots">
          {Array.from({ length: 6 }, (_, index) => (
            <span key={index} className={index < pin.length ? 'dot filled' : 'dot'} />
          ))}
        </div>
        <div className="pin-keys">
          {['1', '2', '3', '4', '5', '6', '7', '8', '9'].map((digit) => (
            <button type="button" key={digit} onClick={() => { press(digit); }} data-testid={`pin-${digit}`}>
              {digit}
            </button>
          ))}
          <button type="button" onClick={onCancel}>{t('cancel')}</button>
          <button type="button" onClick={() => { press('0'); }} data-testid="pin-0">0</button>
          <button type="button" onClick={() => { setPin(pin.slice(0, -1)); }}>⌫</button>
        </div>
      </div>
    </div>
  );
}
