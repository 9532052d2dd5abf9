import { useCallback, useEffect, useState, type SyntheticEvent } from 'react';
import { api, errorMessage } from '../api.ts';
import { useI18n } from '../i18n.tsx';
import type { GroupSummary, UserSummary } from '../social.ts';

interface GroupDetail extends GroupSummary {
  readonly members: readonly (UserSummary & { readonly isOwner: boolean })[];
}

/** Groups: the ones I am in; create one with friends; open one to see members, invite a friend, leave. */
export function GroupsPage({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const [groups, setGroups] = useState<readonly GroupSummary[]>([]);
  const [friends, setFriends] = useState<readonly UserSummary[]>([]);
  const [open, setOpen] = useState<GroupDetail | null>(null);
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    setGroups((await api<{ items: GroupSummary[] }>('GET', '/v1/groups')).items);
    setFriends((await api<{ items: UserSummary[] }>('GET', '/v1/friends')).items);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  async function run(action: () => Promise<void>) {
    try {
      setError(null);
      await action();
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }
  function create(event: SyntheticEvent) {
    event.preventDefault();
    void run(async () => {
      const group = await api<GroupDetail>('POST', '/v1/groups', { name, memberIds: [...chosen] });
      setName('');
      setChosen(new Set());
      setOpen(group);
      await load();
    });
  }
  const show = (id: string) => run(async () => { setOpen(await api<GroupDetail>('GET', `/v1/groups/${id}`)); });
  const invite = (group: GroupDetail, userId: string) =>
    run(async () => { setOpen(await api<GroupDetail>('POST', `/v1/groups/${group.id}/members`, { userId })); await load(); });
  const leave = (group: GroupDetail) =>
    run(async () => { await api('POST', `/v1/groups/${group.id}/leave`); setOpen(null); await load(); });

  return (
    <main className="page">
      <section className="card">
        <h2>{t('groups')}</h2>
        {groups.length === 0 && <p className="muted">{t('noGroups')}</p>}
        <ul className="list">
          {groups.map((group) => (
            <li key={group.id}>
              <button type="button" className="link" onClick={() => void show(group.id)} data-testid="group">{group.name} ({group.memberCount})</button>
            </li>
          ))}
        </ul>
        {error !== null && <p className="error" role="alert">{error}</p>}
      </section>
      {open !== null && (
        <section className="card" data-testid="group-detail">
          <h3>{open.name}</h3>
          <div className="muted">{t('members')}</div>
          <ul className="list">
            {open.members.map((member) => (
              <li key={member.userId} data-testid="group-member">{member.displayName} {member.isOwner ? '★' : ''} <span className="muted">{member.mobileMasked}</span></li>
            ))}
          </ul>
          {friends
            .filter((friend) => !open.members.some((member) => member.userId === friend.userId))
            .map((friend) => (
              <button type="button" key={friend.userId} className="secondary small" onClick={() => void invite(open, friend.userId)}>
                {t('invite')} {friend.displayName}
              </button>
            ))}
          <button type="button" className="link" onClick={() => void leave(open)} data-testid="group-leave">{t('leave')}</button>
        </section>
      )}
      <form className="card" onSubmit={create}>
        <h3>{t('newGroup')}</h3>
        <label>{t('groupName')}<input name="groupName" maxLength={30} value={name} onChange={(e) => { setName(e.target.value); }} required /></label>
        {friends.map((friend) => (
          <label key={friend.userId} className="check">
            <input
              type="checkbox"
              checked={chosen.has(friend.userId)}
              onChange={(e) => {
                const next = new Set(chosen);
                if (e.target.checked) next.add(friend.userId);
                else next.delete(friend.userId);
                setChosen(next);
              }}
            />
            {friend.displayName}
          </label>
        ))}
        <button type="submit" className="primary" data-testid="create-group">{t('newGroup')}</button>
      </form>
      <button type="button" className="link" onClick={onDone}>{t('back')}</button>
    </main>
  );
}
