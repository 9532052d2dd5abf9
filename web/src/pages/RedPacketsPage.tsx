import { useCallback, useEffect, useRef, useState } from 'react';
import { formatYuan } from '../api.ts';
import { FissionBadge, ModeBadge } from '../components/RedEnvelope.tsx';
import { fill, useI18n, type MessageKey } from '../i18n.tsx';
import { boxes, fetchBox, fissionLabel, packetProblemText, type Box, type PacketListItem } from '../redpacket.ts';
import { navigate } from '../router.ts';

const boxKeys: Readonly<Record<Box, MessageKey>> = { inbox: 'rp_inbox', sent: 'rp_sent', received: 'rp_received' };
/** Pages a box shows before it stops offering more (20 packets a page). */
const boxPagesMax = 10;

/**
 * Red packets: the inbox (to me or my groups, my own group packets too), the ones I sent and the
 * ones I opened, newest first. Each shows its envelope, and either 开 or what I got; a tap opens it.
 */
export function RedPacketsPage({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const [box, setBox] = useState<Box>('inbox');
  const [packets, setPackets] = useState<readonly PacketListItem[]>([]);
  const [nextBefore, setNextBefore] = useState<string | null>(null);
  const [pages, setPages] = useState(0);
  const [failure, setFailure] = useState<{ readonly problem: unknown } | null>(null);

  // A page that arrives after the tab changed belongs to the old tab: it is dropped.
  const shownBox = useRef(box);
  shownBox.current = box;
  const load = useCallback(async (before: string | null) => {
    try {
      setFailure(null);
      const page = await fetchBox(box, before);
      if (shownBox.current !== box) return;
      setPackets((shown) => (before === null ? page.packets : [...shown, ...page.packets]));
      setNextBefore(page.nextBefore);
      setPages((count) => (before === null ? 1 : count + 1));
    } catch (caught) {
      setFailure({ problem: caught });
    }
  }, [box]);
  useEffect(() => {
    setPackets([]);
    setNextBefore(null);
    void load(null);
  }, [load]);

  return (
    <main className="page">
      <section className="card rp-header">
        <h2>{t('redPackets')}</h2>
        <button type="button" className="primary red" onClick={() => { navigate('redpacket-send'); }} data-testid="rp-send">
          {t('rp_send')}
        </button>
      </section>
      <nav className="tabs">
        {boxes.map((value) => (
          <button type="button" key={value} className={box === value ? 'tab active' : 'tab'} onClick={() => { setBox(value); }} data-testid={`rp-tab-${value}`}>
            {t(boxKeys[value])}
          </button>
        ))}
      </nav>
      <section className="card">
        {failure !== null && <p className="error" role="alert">{packetProblemText(t, failure.problem)}</p>}
        {packets.length === 0 && failure === null && <p className="muted">{t('rp_noPackets')}</p>}
        <ul className="packets" data-testid="rp-list">
          {packets.map((packet) => <PacketRow key={packet.id} packet={packet} box={box} />)}
        </ul>
        {nextBefore !== null && pages < boxPagesMax && (
          <button type="button" className="link" onClick={() => void load(nextBefore)}>{t('rp_more')}</button>
        )}
      </section>
      <button type="button" className="link" onClick={onDone}>{t('back')}</button>
    </main>
  );
}

/** Whom a packet in a box was for, before its time: the group, my friend (in Sent), or the rain a fission packet came from. */
function targetText(t: (key: MessageKey) => string, packet: PacketListItem, box: Box): string {
  switch (packet.toType) {
    case 'group':
      return `${packet.targetName} · `;
    case 'fission':
      return `${fissionLabel(t, packet.targetName)} · `;
    case 'user':
      return box === 'sent' ? `${fill(t('rp_sentTo'), { name: packet.targetName })} · ` : '';
  }
}

/** One packet in a box: the envelope's face on the left; 开, my share, or the total on the right. */
function PacketRow({ packet, box }: { packet: PacketListItem; box: Box }) {
  const { t } = useI18n();
  const show = () => {
    navigate('redpacket', { id: packet.id });
  };
  const isClosed = packet.state !== 'active';
  return (
    <li className="packet-row" data-testid="rp-item" onClick={show}>
      <span className="packet-face">
        <span className="packet-icon">🧧</span>
        <span>
          <span className="packet-from">
            {fill(t('rp_packetOf'), { name: packet.senderName })} <ModeBadge mode={packet.mode} />
            {packet.toType === 'fission' && <> <FissionBadge /></>}
          </span>
          <span className="packet-line">{packet.greeting}</span>
          <small className="muted">
            {targetText(t, packet, box)}
            {new Date(packet.createdAt).toLocaleString()}
          </small>
        </span>
      </span>
      <span className="packet-side">
        {box === 'sent' ? (
          <>
            <span>¥{formatYuan(packet.amountMinor)}</span>
            <small className="muted">{fill(t('rp_shares'), { count: packet.shareCount })}{isClosed ? ` · ${t(`rp_state_${packet.state}`)}` : ''}</small>
          </>
        ) : packet.myAmountMinor !== null ? (
          <>
            <span className="plus" data-testid="rp-item-mine">¥{formatYuan(packet.myAmountMinor)}</span>
            <small className="muted">{t('rp_opened')}</small>
          </>
        ) : isClosed ? (
          <small className="muted">{t(`rp_state_${packet.state}`)}</small>
        ) : (
          <button type="button" className="open-small" onClick={(event) => { event.stopPropagation(); show(); }} data-testid="rp-item-open">
            {t('rp_openShort')}
          </button>
        )}
      </span>
    </li>
  );
}
