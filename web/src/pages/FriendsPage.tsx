import { useCallback, useEffect, useState, type SyntheticEvent } from 'react';
import { api, errorMessage } from '../api.ts';
import { useI18n } from '../i18n.tsx';
import type { UserSummary } from '../social.ts';

interface FriendRequest {
  readonly id: string;
  readonly message: string | null;
  readonly from: UserSummary;
}

/** Friends: the list, incoming requests to accept or decline, and a request by mobile number. */
export function FriendsPage({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const [friends, setFriends] = useState<readonly UserSummary[]>([]);
  const [incoming, setIncoming] = useState<readonly FriendRequest[]>([]);
  const [mobile, setMobile] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const load = useCallback(async () => {
    setFriends((await api<{ items: UserSummary[] }>('GET', '/v1/friends')).items);
    setIncoming((await api<{ items: FriendRequest[] }>('GET', '/v1/friend-requests?direction=incoming')).items);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  async function request(event: SyntheticEvent) {
    event.preventDefault();
    try {
      await api('POST', '/v1/friend-requests', { mobile });
      setMobile('');
      setNotice(t('requestSent'));
      await load();
    } catch (caught) {
      setNotice(errorMessage(caught));
    }
  }
  async function answer(id: string, verb: 'accept' | 'decline') {
    await api('POST', `/v1/friend-requests/${id}/${verb}`);
    await load();
  }
  return (
    <main className="page">
      <form className="card" onSubmit={(event) => void request(event)}>
        <h2>{t('friends')}</h2>
        <label>{t('toMobile')}<input name="friendMobile" inputMode="tel" value={mobile} onChange={(e) => { setMobile(e.target.value); }} required /></label>
        {notice !== null && <p className="muted" role="status">{notice}</p>}
        <button type="submit" className="primary" data-testid="add-friend">{t('addFriend')}</button>
      </form>
      {incoming.length > 0 && (
        <section className="card" data-testid="incoming">
          <h3>{t('newFriends')}</h3>
          <ul className="bills">
            {incoming.map((item) => (
              <li key={item.id}>
                <span>{item.from.displayName} <small className="muted">{item.from.mobileMasked}</small></span>
                <span>
                  <button type="button" className="link" onClick={() => void answer(item.id, 'accept')} data-testid="accept-friend">{t('accept')}</button>
                  <button type="button" className="link" onClick={() => void answer(item.id, 'decline')}>{t('decline')}</button>
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}
      <section className="card">
        <ul className="bills" data-testid="friend-list">
          {friends.map((friend) => (
            <li key={friend.userId}>
              <span>{friend.displayName}</span>
              <small className="muted">{friend.mobileMasked}</small>
            </li>
          ))}
        </ul>
      </section>
      <button type="button" className="link" onClick={onDone}>{t('back')}</button>
    </main>
  );
}
