import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { api, ApiError, errorMessage } from '../api.ts';
import { dayText, purposeName, scopeName, type ConsentText, type Grant } from '../credit.ts';
import { fill, useI18n } from '../i18n.tsx';

/** What a grant is asked for: the purpose, the partner it names (if any) and the scope chosen. */
export interface ConsentRequest {
  readonly purpose: string;
  readonly partner?: { readonly id: string; readonly name: string; readonly scoreThreshold: number } | undefined;
  /** One of the text's scopes; none means its narrowest (the first). */
  readonly scope?: string | undefined;
}

/** How near the end counts as the end, in px: sub-pixel layout seldom lands exactly on it. */
const endSlackPx = 4;
const dayChoices: readonly number[] = [7, 30, 90, 180, 365];
const dayMs = 86_400_000;

function dayOptions(text: ConsentText): number[] {
  return [...new Set([...dayChoices.filter((days) => days <= text.maxDays), text.defaultDays])].sort((a, b) => a - b);
}

/**
 * The only way the app creates a grant. It shows the purpose's current text in full, at body size,
 * in the app's language and then in the other (the sha256 the grant names covers both). The box
 * starts unticked and the agree button stays disabled until the end of the text has been on screen
 * (scrolled to, or all of it fits) and the box is ticked; agreeing sends `agree: true` with the
 * text's sha256. Declining creates nothing. Mount it afresh for each request.
 */
export function ConsentDialog({ request, onGranted, onCancel }: { request: ConsentRequest; onGranted: (grant: Grant) => void; onCancel: () => void }) {
  const { t, lang } = useI18n();
  const [text, setText] = useState<ConsentText | null>(null);
  const [days, setDays] = useState(0);
  const [hasReadToEnd, setHasReadToEnd] = useState(false);
  const [isTicked, setIsTicked] = useState(false);
  const [isBusy, setIsBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLDivElement | null>(null);

  const load = useCallback(async () => {
    const loaded = await api<ConsentText>('GET', `/v1/consent/texts/${encodeURIComponent(request.purpose)}`);
    setText(loaded);
    setDays(loaded.defaultDays);
  }, [request.purpose]);
  useEffect(() => {
    load().catch((caught: unknown) => {
      setError(errorMessage(caught));
    });
  }, [load]);

  // Once the end of the text has been on screen it counts as read; scrolling back up changes nothing.
  const checkEnd = useCallback(() => {
    const element = box.current;
    if (element !== null && element.scrollTop + element.clientHeight >= element.scrollHeight - endSlackPx) setHasReadToEnd(true);
  }, []);
  useLayoutEffect(() => {
    checkEnd();
  }, [text, checkEnd]);
  useEffect(() => {
    window.addEventListener('resize', checkEnd);
    return () => {
      window.removeEventListener('resize', checkEnd);
    };
  }, [checkEnd]);

  const canAgree = text !== null && hasReadToEnd && isTicked && !isBusy;
  async function agree() {
    if (text === null || !canAgree) return;
    setIsBusy(true);
    setError(null);
    try {
      const grant = await api<Grant>('POST', '/v1/consent/grants', {
        purpose: text.purpose,
        ...(request.partner === undefined ? {} : { partnerId: request.partner.id }),
        ...(request.scope === undefined ? {} : { scope: request.scope }),
        textSha256: text.sha256,
        agree: true,
        days,
      });
      onGranted(grant);
    } catch (caught) {
      if (caught instanceof ApiError && caught.problem.code === 'consent.text_mismatch') {
        // The text changed since it was shown: the new one is read from the top, the box unticked.
        setText(null);
        setHasReadToEnd(false);
        setIsTicked(false);
        setError(t('consent_textChanged'));
        await load().catch((again: unknown) => {
          setError(errorMessage(again));
        });
      } else {
        setError(errorMessage(caught));
      }
    } finally {
      setIsBusy(false);
    }
  }

  const other = lang === 'zh' ? 'en' : 'zh';
  const scope = request.scope ?? text?.scopes[0];
  return (
    <div className="sheet consent-sheet" role="dialog" aria-modal="true" aria-label={t('consent_title')} data-testid="consent-dialog" data-purpose={request.purpose}>
      <div className="sheet-body consent-body">
        <div className="sheet-title">{t('consent_title')}</div>
        <h3 className="consent-purpose" data-testid="consent-purpose">{purposeName(request.purpose, lang)}</h3>
        {request.partner !== undefined && (
          <p className="consent-meta" data-testid="consent-partner">{fill(t('consent_partner'), { name: request.partner.name, score: request.partner.scoreThreshold })}</p>
        )}
        {scope !== undefined && <p className="consent-meta" data-testid="consent-scope">{fill(t('consent_scope'), { scope: scopeName(scope, lang) })}</p>}
        {text === null ? (
          error === null && <p className="muted">{t('loading')}</p>
        ) : (
          <>
            <div ref={box} className="consent-text" onScroll={checkEnd} tabIndex={0} data-testid="consent-text" data-read-to-end={String(hasReadToEnd)}>
              <p lang={lang === 'zh' ? 'zh-CN' : 'en'}>{text[lang]}</p>
              <h4>{t('consent_otherLanguage')}</h4>
              <p lang={other === 'zh' ? 'zh-CN' : 'en'}>{text[other]}</p>
            </div>
            <p className="consent-version" data-testid="consent-version">{fill(t('consent_version'), { version: text.version, sha: `${text.sha256.slice(0, 12)}…` })}</p>
            {!hasReadToEnd && <p className="hint" data-testid="consent-scroll-hint">↓ {t('consent_scrollHint')}</p>}
            <div className="consent-days">
              <label htmlFor="consent-days">{t('consent_days')}</label>
              <select id="consent-days" name="consentDays" value={days} onChange={(e) => { setDays(Number(e.target.value)); }}>
                {dayOptions(text).map((value) => <option key={value} value={value}>{fill(t('consent_daysOption'), { days: value })}</option>)}
              </select>
              <span className="muted">{fill(t('consent_until'), { date: dayText(new Date(Date.now() + days * dayMs).toISOString(), lang) })}</span>
            </div>
            <label className="check consent-check">
              <input type="checkbox" name="consentAgree" checked={isTicked} onChange={(e) => { setIsTicked(e.target.checked); }} data-testid="consent-check" />
              <span>{t('consent_check')}</span>
            </label>
          </>
        )}
        {error !== null && <p className="error" role="alert" data-testid="consent-error">{error}</p>}
        <button type="button" className="primary" disabled={!canAgree} onClick={() => void agree()} data-testid="consent-agree">{t('consent_agree')}</button>
        <button type="button" className="link consent-decline" onClick={onCancel} data-testid="consent-decline">{t('consent_decline')}</button>
      </div>
    </div>
  );
}
