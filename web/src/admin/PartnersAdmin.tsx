import { useLoad } from '../useLoad.ts';
import { useState, type SyntheticEvent } from 'react';
import { api, errorMessage } from '../api.ts';

const kinds = ['bike', 'hotel', 'power_bank', 'rental', 'lender', 'other'] as const;
type Kind = (typeof kinds)[number];
/** The purposes a partner may ask for (the annual bill ones are the user's own, never a partner's). */
const partnerPurposes = ['credit.score.share', 'credit.deposit_waiver', 'data.collect.payments'] as const;
const thresholdMin = 350;
const thresholdMax = 950;

interface AdminPartner {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly purposes: readonly string[];
  readonly scoreThreshold: number;
  readonly accountId: string;
  readonly createdAt: string;
  readonly disabled: boolean;
}

function RegisterForm({ onRegistered }: { onRegistered: (partner: AdminPartner, apiKey: string) => Promise<void> }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState<Kind>('bike');
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [threshold, setThreshold] = useState('550');
  const [error, setError] = useState<string | null>(null);
  const [isBusy, setIsBusy] = useState(false);
  async function submit(event: SyntheticEvent) {
    event.preventDefault();
    const scoreThreshold = Number(threshold);
    if (!Number.isInteger(scoreThreshold) || scoreThreshold < thresholdMin || scoreThreshold > thresholdMax) {
      setError(`The score threshold is a whole number from ${String(thresholdMin)} to ${String(thresholdMax)}`);
      return;
    }
    if (chosen.size === 0) {
      setError('Choose at least one purpose');
      return;
    }
    setIsBusy(true);
    setError(null);
    try {
      const answer = await api<AdminPartner & { apiKey: string }>('POST', '/v1/admin/partners', { name: name.trim(), kind, purposes: partnerPurposes.filter((p) => chosen.has(p)), scoreThreshold });
      const { apiKey, ...partner } = answer;
      setName('');
      setChosen(new Set());
      await onRegistered(partner, apiKey);
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setIsBusy(false);
    }
  }
  const toggle = (purpose: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(purpose);
    else next.delete(purpose);
    setChosen(next);
  };
  return (
    <form className="card" onSubmit={(event) => void submit(event)} data-testid="partner-form">
      <h3>Register a partner</h3>
      <div className="form-grid">
        <label>
          Name
          <input name="partnerName" value={name} maxLength={60} onChange={(e) => { setName(e.target.value); }} required />
        </label>
        <label>
          Kind
          <select name="partnerKind" value={kind} onChange={(e) => { setKind(e.target.value as Kind); }}>
            {kinds.map((value) => <option key={value} value={value}>{value}</option>)}
          </select>
        </label>
        <label>
          Score threshold ({thresholdMin}–{thresholdMax})
          <input name="partnerThreshold" type="number" min={thresholdMin} max={thresholdMax} step={1} value={threshold} onChange={(e) => { setThreshold(e.target.value); }} />
        </label>
      </div>
      <fieldset className="purposes">
        <legend>Purposes it may ask users to consent to</legend>
        {partnerPurposes.map((purpose) => (
          <label key={purpose} className="check">
            <input type="checkbox" name={`partnerPurpose-${purpose}`} checked={chosen.has(purpose)} onChange={(e) => { toggle(purpose, e.target.checked); }} />
            {purpose}
          </label>
        ))}
      </fieldset>
      {error !== null && <p className="error" role="alert" data-testid="partner-error">{error}</p>}
      <button type="submit" className="primary" disabled={isBusy} data-testid="partner-register">Register</button>
    </form>
  );
}

/**
 * 合作方 · Partners in the operator console: register a partner (its kind, the purposes it may ask
 * users to consent to, the score it requires) and list them. The API key is in the registration's
 * answer only — the server keeps its sha256 — so it is shown once, to copy now.
 */
export function PartnersAdmin({ canChange }: { canChange: boolean }) {
  const listed = useLoad<{ partners: AdminPartner[] }>('/v1/admin/partners');
  const partners = listed.data?.partners ?? null;
  const { error, reload: load } = listed;
  const [fresh, setFresh] = useState<{ readonly partner: AdminPartner; readonly apiKey: string } | null>(null);
  const [isCopied, setIsCopied] = useState(false);
  return (
    <>
      {canChange && (
        <RegisterForm
          onRegistered={async (partner, apiKey) => {
            setFresh({ partner, apiKey });
            setIsCopied(false);
            await load();
          }}
        />
      )}
      {fresh !== null && (
        <section className="card api-key" data-testid="partner-key-card">
          <h3>API key for {fresh.partner.name}</h3>
          <p className="hint">Copy it now: it is shown only this once. The server keeps only its hash; a lost key means registering the partner again.</p>
          <code className="code-digits" data-testid="partner-api-key">{fresh.apiKey}</code>
          <div className="row-actions">
            <button
              type="button"
              className="secondary small"
              onClick={() => {
                void navigator.clipboard.writeText(fresh.apiKey).then(() => {
                  setIsCopied(true);
                });
              }}
            >
              {isCopied ? 'Copied' : 'Copy'}
            </button>
            <button type="button" className="primary small" onClick={() => { setFresh(null); }} data-testid="partner-key-done">I have saved it</button>
          </div>
        </section>
      )}
      <section className="card" data-testid="partners">
        <h3>Partners</h3>
        {error !== null && <p className="error" role="alert">{error}</p>}
        {partners?.length === 0 && <p className="muted">No partners yet</p>}
        {partners !== null && partners.length > 0 && (
          <table>
            <thead><tr><th>Name</th><th>Kind</th><th>Purposes</th><th>Threshold</th><th>Id</th><th>Account</th><th>Registered</th><th>State</th></tr></thead>
            <tbody>
              {partners.map((partner) => (
                <tr key={partner.id} data-testid="partner-row" data-id={partner.id}>
                  <td>{partner.name}</td>
                  <td>{partner.kind}</td>
                  <td>{partner.purposes.join(', ')}</td>
                  <td>{partner.scoreThreshold}</td>
                  <td><code>{partner.id}</code></td>
                  <td title={partner.accountId}>{partner.accountId.slice(0, 13)}…</td>
                  <td>{new Date(partner.createdAt).toLocaleString()}</td>
                  <td>{partner.disabled ? 'disabled' : 'active'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
