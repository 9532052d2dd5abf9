import { formatYuan } from '../api.ts';
import { fill, useI18n } from '../i18n.tsx';
import { packetProblemText, type OpenOutcome, type PacketMode } from '../redpacket.ts';

/** The mode as a small badge: 拼手气 (lucky) or 普通 (fixed). */
export function ModeBadge({ mode }: { mode: PacketMode }) {
  const { t } = useI18n();
  return <span className="badge" data-testid="rp-mode">{mode === 'lucky' ? t('rp_mode_lucky') : t('rp_mode_fixed')}</span>;
}

/** A fission packet's badge: 裂变 (a rain's winner handed it on; the campaign pays). */
export function FissionBadge() {
  const { t } = useI18n();
  return <span className="badge gold" data-testid="rp-fission">{t('rp_fission')}</span>;
}

/**
 * A red envelope: whose it is, the greeting and a big 開. Once opened it shows what came of it:
 * my share big (and whether it is in the wallet yet), 手慢了 when every share was taken, or expired.
 */
export function RedEnvelope(props: {
  readonly senderName: string;
  readonly greeting: string;
  readonly mode: PacketMode;
  readonly outcome: OpenOutcome | null;
  readonly isOpening: boolean;
  /** Whether my share is in my wallet yet: the packet's latest word, after the grab's own. */
  readonly isSettled: boolean;
  readonly onOpen: () => void;
}) {
  const { t } = useI18n();
  return (
    <section className="envelope" data-testid="envelope">
      <div className="envelope-from">{fill(t('rp_packetOf'), { name: props.senderName })} <ModeBadge mode={props.mode} /></div>
      <div className="envelope-greeting">{props.greeting}</div>
      {props.outcome === null ? (
        <button type="button" className="envelope-open" disabled={props.isOpening} onClick={props.onOpen} data-testid="envelope-open" aria-label={t('rp_openShort')}>
          {t('rp_open')}
        </button>
      ) : (
        <EnvelopeOutcome outcome={props.outcome} isSettled={props.isSettled} />
      )}
    </section>
  );
}

function EnvelopeOutcome({ outcome, isSettled }: { outcome: OpenOutcome; isSettled: boolean }) {
  const { t } = useI18n();
  switch (outcome.kind) {
    case 'won':
      return (
        <div className="envelope-result">
          <div className="envelope-amount" data-testid="envelope-amount">¥{formatYuan(outcome.amountMinor)}</div>
          <div className="envelope-note" data-testid="envelope-settled">{isSettled ? t('rp_won') : t('rp_settling')}</div>
        </div>
      );
    case 'empty':
      return <div className="envelope-result envelope-note" data-testid="envelope-empty">{t('rp_empty')}</div>;
    case 'expired':
      return <div className="envelope-result envelope-note" data-testid="envelope-expired">{t('rp_expired')}</div>;
    case 'failed':
      return <p className="envelope-result envelope-note" role="alert">{packetProblemText(t, outcome.problem)}</p>;
  }
}
