import { useEffect, useState, type SyntheticEvent } from 'react';
import { formatYuan } from '../api.ts';
import { Choice } from '../components/Choice.tsx';
import { PinPad } from '../components/PinPad.tsx';
import { fill, useI18n } from '../i18n.tsx';
import { timesMinor, yuanToMinor } from '../money.ts';
import { greetingDefault, greetingLengthMax, packetProblemText, sendPacket, sendProblemKey, type PacketMode } from '../redpacket.ts';
import { navigate } from '../router.ts';
import { fetchFriends, fetchGroups, type GroupSummary, type UserSummary } from '../social.ts';
import { usePinPayment } from './usePayment.ts';

type TargetType = 'group' | 'user';
const targetTypes: readonly TargetType[] = ['group', 'user'];
const packetModes: readonly PacketMode[] = ['lucky', 'fixed'];

/**
 * Send a red packet, as WeChat asks for one: to a group (lucky: the total and how many shares;
 * fixed: the amount of ONE share and how many) or to a friend (one share), a greeting, then the PIN.
 * On success the packet's page opens.
 */
export function SendRedPacketPage() {
  const { t } = useI18n();
  const [friends, setFriends] = useState<readonly UserSummary[]>([]);
  const [groups, setGroups] = useState<readonly GroupSummary[]>([]);
  const [targetType, setTargetType] = useState<TargetType>('group');
  const [friendId, setFriendId] = useState('');
  const [groupId, setGroupId] = useState('');
  const [mode, setMode] = useState<PacketMode>('lucky');
  const [amount, setAmount] = useState('');
  const [countText, setCountText] = useState('');
  const [greeting, setGreeting] = useState('');
  useEffect(() => {
    void fetchFriends().then(setFriends);
    void fetchGroups().then(setGroups);
  }, []);

  const group = groups.find((candidate) => candidate.id === groupId);
  const isToFriend = targetType === 'user';
  // A packet to a friend is one share; its mode does not matter then, and it reads as 普通.
  const packetMode: PacketMode = isToFriend ? 'fixed' : mode;
  const count = isToFriend ? 1 : /^[1-9][0-9]{0,2}$/.test(countText) ? Number(countText) : undefined;
  const shareOrTotalMinor = yuanToMinor(amount);
  const totalMinor = shareOrTotalMinor === undefined || count === undefined ? undefined : packetMode === 'fixed' ? timesMinor(shareOrTotalMinor, count) : shareOrTotalMinor;

  const payment = usePinPayment(
    async (pin) => {
      if (totalMinor === undefined || count === undefined) return;
      const packet = await sendPacket({
        mode: packetMode,
        amountMinor: totalMinor,
        count,
        target: isToFriend ? { toUserId: friendId } : { groupId },
        greeting,
        pin,
      });
      navigate('redpacket', { id: packet.id });
    },
    (caught) => packetProblemText(t, caught),
  );

  function next(event: SyntheticEvent) {
    event.preventDefault();
    if ((isToFriend ? friendId : groupId) === '') {
      payment.setError(isToFriend ? t('rp_pickFriend') : t('rp_pickGroup'));
      return;
    }
    if (count === undefined) {
      payment.setError(t('rp_count'));
      return;
    }
    if (totalMinor === undefined) {
      payment.setError(t('amount'));
      return;
    }
    const problem = sendProblemKey({ totalMinor, count, memberCount: isToFriend ? null : (group?.memberCount ?? null) });
    if (problem !== undefined) {
      payment.setError(t(problem));
      return;
    }
    payment.ask();
  }

  const amountLabel = isToFriend ? t('amount') : mode === 'lucky' ? t('rp_totalAmount') : t('rp_shareAmount');
  return (
    <main className="page">
      <form className="card" onSubmit={next} data-testid="rp-send-form">
        <h2>{t('rp_send')}</h2>
        <Choice values={targetTypes} value={targetType} onChange={setTargetType} label={(value) => (value === 'group' ? t('rp_toGroup') : t('rp_toFriend'))} testIdPrefix="rp-to" />
        {isToFriend ? (
          <label>{t('rp_pickFriend')}
            <select name="rpFriend" value={friendId} onChange={(e) => { setFriendId(e.target.value); }}>
              <option value="">{friends.length === 0 ? t('noFriends') : t('rp_pickFriend')}</option>
              {friends.map((item) => <option key={item.userId} value={item.userId}>{item.displayName} {item.mobileMasked}</option>)}
            </select>
          </label>
        ) : (
          <>
            <label>{t('rp_pickGroup')}
              <select name="rpGroup" value={groupId} onChange={(e) => { setGroupId(e.target.value); }}>
                <option value="">{groups.length === 0 ? t('noGroups') : t('rp_pickGroup')}</option>
                {groups.map((item) => <option key={item.id} value={item.id}>{item.name} ({item.memberCount})</option>)}
              </select>
            </label>
            <Choice values={packetModes} value={mode} onChange={setMode} label={(value) => (value === 'lucky' ? t('rp_lucky') : t('rp_fixed'))} testIdPrefix="rp-mode" />
            <label>{t('rp_count')}
              <input name="rpCount" inputMode="numeric" value={countText} onChange={(e) => { setCountText(e.target.value); }} required />
              {group !== undefined && <small className="muted">{fill(t('rp_groupSize'), { count: group.memberCount })}</small>}
            </label>
          </>
        )}
        <label>{amountLabel}<input name="rpAmount" inputMode="decimal" value={amount} onChange={(e) => { setAmount(e.target.value); }} required /></label>
        <label>{t('rp_greeting')}<input name="rpGreeting" maxLength={greetingLengthMax} placeholder={greetingDefault} value={greeting} onChange={(e) => { setGreeting(e.target.value); }} /></label>
        <div className="packet-total center-text" data-testid="rp-send-total">{fill(t('rp_total'), { amount: totalMinor === undefined ? '0.00' : formatYuan(totalMinor) })}</div>
        {payment.error !== null && <p className="error" role="alert">{payment.error}</p>}
        <button type="submit" className="primary red" data-testid="rp-send-next">{t('rp_stuff')}</button>
        <button type="button" className="link" onClick={() => { navigate('redpackets'); }}>{t('back')}</button>
      </form>
      {payment.askingPin && <PinPad title={t('enterPin')} onSubmit={(pin) => void payment.submit(pin)} onCancel={payment.cancel} />}
    </main>
  );
}
