import { useEffect, useState } from 'react';
import { errorMessage } from '../api.ts';
import { splitRuleZh, useI18n } from '../i18n.tsx';
import { fetchRules, type SplitRules as Rules } from '../redpacket.ts';

/**
 * "How amounts are decided": the published split rule. In English it is the server's text as
 * served; in Chinese, the app's translation of it.
 */
export function SplitRules() {
  const { lang } = useI18n();
  const [served, setServed] = useState<Rules | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (lang !== 'en') return;
    fetchRules().then(setServed, (caught: unknown) => {
      setError(errorMessage(caught));
    });
  }, [lang]);
  if (error !== null) return <p className="error" role="alert">{error}</p>;
  const rules = lang === 'en' ? served : splitRuleZh;
  if (rules === null) return null;
  return (
    <div className="rules" data-testid="rules">
      <p>{rules.lucky}</p>
      <p>{rules.fixed}</p>
      <p>{rules.expiry}</p>
    </div>
  );
}
