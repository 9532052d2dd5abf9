import { useCallback, useEffect, useState } from 'react';
import { formatYuan } from '../api.ts';
import { FissionBadge, ModeBadge, RedEnvelope } from '../components/RedEnvelope.tsx';
import { SplitRules } from '../components/SplitRules.tsx';
import { fill, useI18n, type MessageKey } from '../i18n.tsx';
import { canOpen, fetchPacket, fissionLabel, openPacket, packetProblemText, type OpenOutcome, type Packet, type PacketState } from '../redpacket.ts';
import { hashParam, navigate } from '../router.ts';
import { useBoundedPoll } from '../timers.ts';

/** A share reaches the wallet within a second or two; the page looks again this often, this many times. */
const settlePoll = { everyMs: 1000, countMax: 15 } as const;

const stateKeys: Readonly<Record<PacketState, MessageKey>> = {
  funding: 'rp_state_funding',
  active: 'rp_state_active',
  empty: 'rp_state_empty',
  expired: 'rp_state_expired',
  refunded: 'rp_state_refunded',
  failed: 'rp_state_failed',
};

/**
 * One red packet (#/redpacket?id=rpk_…): the envelope to open while I may, what opening it gave,
 * then the details — greeting, sender, total, grabbed n/m, my share, who got what with 手气最佳,
 * the state (and to the sender what came back), the split's sha256 and the rule behind it.
 */
export function RedPacketPage({ myUserId }: { myUserId: string }) {
  const { t } = useI18n();
  const id = hashParam('id') ?? '';
  const [packet, setPacket] = useState<Packet | null>(null);
  const [failure, setFailure] = useState<{ readonly problem: unknown } | null>(null);
  const [outcome, setOutcome] = useState<OpenOutcome | null>(null);
  const [isOpening, setIsOpening] = useState(false);
  const load = useCallback(async () => {
    try {
      setPacket(await fetchPacket(id));
    } catch (caught) {
      setFailure({ problem: caught });
    }
  }, [id]);
  useEffect(() => {
    void load();
  }, [load]);

  // After a grab, look again until the share is in the wallet (bounded: the page says so meanwhile).
  const isSettling = packet?.mine?.settled === false;
  useBoundedPoll(isSettling, load, settlePoll);

  async function open() {
    setIsOpening(true);
    setOutcome(await openPacket(id));
    setIsOpening(false);
    await load();
  }

  const back = () => {
    navigate('redpackets');
  };
  if (packet === null) {
    return (
      <main className="page">
        <section className="card">{failure === null ? t('loading') : <p className="error" role="alert">{packetProblemText(t, failure.problem)}</p>}</section>
        <button type="button" className="link" onClick={back}>{t('back')}</button>
      </main>
    );
  }
  return (
    <main className="page">
      {(outcome !== null || canOpen(packet, myUserId)) && (
        <RedEnvelope
          senderName={packet.sender.displayName}
          greeting={packet.greeting}
          mode={packet.mode}
          outcome={outcome}
          isOpening={isOpening}
          isSettled={packet.mine?.settled ?? false}
          onOpen={() => void open()}
        />
      )}
      <PacketDetails packet={packet} myUserId={myUserId} />
      <button type="button" className="link" onClick={back}>{t('back')}</button>
    </main>
  );
}

function PacketDetails({ packet, myUserId }: { packet: Packet; myUserId: string }) {
  const { t } = useI18n();
  const [isShowingRules, setIsShowingRules] = useState(false);
  const isSender = packet.sender.userId === myUserId;
  const to = packet.to;
  const targetLine = to.type === 'fission' ? fissionLabel(t, to.name) : fill(t('rp_sentTo'), { name: to.type === 'group' ? to.name : to.displayName });
  const isWaitingForFriend = isSender && to.type !== 'group' && packet.state === 'active';
  return (
    <section className="card" data-testid="packet-details">
      <h2 className="packet-title">
        {fill(t('rp_packetOf'), { name: packet.sender.displayName })} <ModeBadge mode={packet.mode} />
        {to.type === 'fission' && <> <FissionBadge /></>}
      </h2>
      <p className="packet-greeting" data-testid="packet-greeting">{packet.greeting}</p>
      <p className="muted" data-testid="packet-to">{targetLine} · {new Date(packet.createdAt).toLocaleString()}</p>
      <div className="packet-total" data-testid="packet-total">¥{formatYuan(packet.amountMinor)}</div>
      {packet.mine !== null && (
        <p className="packet-mine" data-testid="packet-mine">{fill(t('rp_myShare'), { amount: formatYuan(packet.mine.amountMinor) })}</p>
      )}
      <p data-testid="packet-state">
        {t(stateKeys[packet.state])}
        {isSender && packet.refundMinor !== null && <> · {fill(t('rp_refunded'), { amount: formatYuan(packet.refundMinor) })}</>}
      </p>
      {isWaitingForFriend && <p className="muted">{to.type === 'fission' ? t('rp_forFriends') : t('rp_forFriend')}</p>}
      <p className="muted" data-testid="packet-grabbed">
        {fill(t('rp_grabbed'), {
          count: packet.grabbedCount,
          total: packet.shareCount,
          amount: formatYuan(packet.grabbedMinor),
          sum: formatYuan(packet.amountMinor),
        })}
      </p>
      {packet.grabs.length === 0 && <p className="muted">{t('rp_noGrabs')}</p>}
      <ul className="bills grabs" data-testid="packet-grabs">
        {packet.grabs.map((grab) => (
          <li key={grab.userId} data-testid="packet-grab">
            <span>
              {grab.displayName}
              <small className="muted"> {new Date(grab.grabbedAt).toLocaleTimeString()}</small>
            </span>
            <span>
              ¥{formatYuan(grab.amountMinor)}
              {packet.bestLuck?.userId === grab.userId && <span className="badge gold" data-testid="best-luck">{t('rp_bestLuck')}</span>}
            </span>
          </li>
        ))}
      </ul>
      <small className="small-code" data-testid="packet-sha256">{t('rp_splitSha256')}: {packet.splitSha256}</small>
      <button type="button" className="link" onClick={() => { setIsShowingRules(!isShowingRules); }} data-testid="rules-toggle">
        {t('rp_howDecided')}
      </button>
      {isShowingRules && <SplitRules />}
    </section>
  );
}
