import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, formatYuan } from '../api.ts';
import { fill, useI18n } from '../i18n.tsx';
import {
  fetchCurrentRains,
  fetchRain,
  formatCountdown,
  handFission,
  mergeWins,
  pickRain,
  rainPhase,
  rainProblemText,
  sumMinor,
  tapIntervalMinMs,
  tapRain,
  type MyRain,
  type RainWin,
} from '../rain.ts';
import { hashParam, navigate } from '../router.ts';
import { useBoundedPoll, useNow } from '../timers.ts';

/** The countdown and the window's start and end are read off the clock this often. */
const clockTickMs = 250;
/** Once the rain is over its prizes reach the wallet within moments; the page looks this often, this many times. */
const settlePoll = { everyMs: 1000, countMax: 15 } as const;
/**
 * On Redis a win reaches PostgreSQL a moment after the tap (the settler syncs it), and a fission
 * packet is checked against PostgreSQL: a prize not found yet is asked for again, a few times.
 */
const fissionRetryMax = 3;
const fissionRetryMs = 700;

/**
 * 整点红包 (#/rain, or #/rain?id=rain_… for one rain): the rain running now or next — its pool,
 * prizes and window; a countdown to my own start; then the 咻一咻 button, each tap a prize or
 * nothing (+¥x.xx flashes up), my running total and the cap; after the window, my prizes. Each
 * prize may hand friends a fission packet, whose page then opens.
 */
export function RainPage({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  // Read once: another hash remounts the page (App keys it by the hash).
  const [routeId] = useState(() => hashParam('id'));
  const nowMs = useNow(clockTickMs);
  const [others, setOthers] = useState<readonly MyRain[]>([]);
  const [rain, setRain] = useState<MyRain | null | undefined>(undefined);
  const [failure, setFailure] = useState<{ readonly problem: unknown } | null>(null);

  useEffect(() => {
    void (async () => {
      try {
        const current = await fetchCurrentRains();
        const shown = routeId === null ? pickRain(current, Date.now()) : await fetchRain(routeId);
        setRain(shown ?? null);
        // The address names the rain shown, so a reload after its end still shows how it went.
        if (routeId === null && shown !== undefined) window.history.replaceState(null, '', `#/rain?id=${encodeURIComponent(shown.id)}`);
        setOthers(current.filter((candidate) => candidate.id !== shown?.id));
      } catch (caught) {
        setFailure({ problem: caught });
      }
    })();
  }, [routeId]);

  const rainId = rain?.id;
  const refresh = useCallback(async () => {
    if (rainId === undefined) return;
    try {
      setRain(await fetchRain(rainId));
    } catch (caught) {
      setFailure({ problem: caught });
    }
  }, [rainId]);

  return (
    <main className="page">
      {failure !== null && <p className="card error" role="alert">{rainProblemText(t, failure.problem)}</p>}
      {rain === undefined && failure === null && <section className="card">{t('loading')}</section>}
      {rain === null && <section className="card rain-none" data-testid="rain-none">{t('rain_none')}</section>}
      {rain !== null && rain !== undefined && <RainRound key={rain.id} rain={rain} nowMs={nowMs} onRefresh={refresh} />}
      {others.length > 0 && (
        <section className="card">
          <h3>{t('rain_others')}</h3>
          <ul className="bills grabs">
            {others.map((other) => (
              <li key={other.id} onClick={() => { navigate('rain', { id: other.id }); }} data-testid="rain-other">
                <span>{other.name}</span>
                <small className="muted">{new Date(other.startsAt).toLocaleString()}</small>
              </li>
            ))}
          </ul>
        </section>
      )}
      <button type="button" className="link" onClick={onDone}>{t('back')}</button>
    </main>
  );
}

interface Flash {
  readonly key: number;
  readonly text: string;
  readonly isWin: boolean;
}

/** One rain for me: what it is, where it stands by the clock, the tap button, and my prizes. */
function RainRound({ rain, nowMs, onRefresh }: { rain: MyRain; nowMs: number; onRefresh: () => Promise<void> }) {
  const { t } = useI18n();
  const [tapped, setTapped] = useState<readonly RainWin[]>([]);
  const [flash, setFlash] = useState<Flash | null>(null);
  const [isCappedByServer, setIsCappedByServer] = useState(false);
  const [hasEnded, setHasEnded] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<{ readonly problem: unknown } | null>(null);
  const lastTapMs = useRef(0);
  const flashCount = useRef(0);

  const wins = mergeWins(rain.myWins, tapped);
  const totalMinor = sumMinor(wins);
  const phase = hasEnded ? 'over' : rainPhase(rain, nowMs);
  const isCapped = isCappedByServer || wins.length >= rain.perUserWinsMax || BigInt(totalMinor) >= BigInt(rain.perUserMinorMax);

  // Once over: the server's word on my prizes, then again until each is in the wallet (bounded).
  const isOver = phase === 'over';
  const isSettling = wins.some((win) => !win.settled);
  useEffect(() => {
    if (isOver) void onRefresh();
  }, [isOver, onRefresh]);
  useBoundedPoll(isOver && isSettling, onRefresh, settlePoll);

  function show(text: string, isWin: boolean) {
    flashCount.current += 1;
    setFlash({ key: flashCount.current, text, isWin });
  }

  async function tap() {
    // Taps faster than the server allows are dropped here, so mashing the button never earns a 429.
    const tappedAtMs = Date.now();
    if (tappedAtMs - lastTapMs.current < tapIntervalMinMs) return;
    lastTapMs.current = tappedAtMs;
    const outcome = await tapRain(rain.id);
    switch (outcome.kind) {
      case 'won':
        setTapped((shown) => [...shown, { prizeSeq: outcome.prizeSeq, amountMinor: outcome.amountMinor, wonAt: new Date().toISOString(), settled: false }]);
        setNotice(null);
        show(`+¥${formatYuan(outcome.amountMinor)}`, true);
        return;
      case 'lost':
        if (outcome.capped) setIsCappedByServer(true);
        show(t('rain_missed'), false);
        return;
      case 'too_fast':
        return;
      case 'not_started':
        // My clock runs ahead of the server's: the start is a moment away.
        setNotice(t('rain_soon'));
        return;
      case 'ended':
        setHasEnded(true);
        return;
      case 'failed':
        setFailure({ problem: outcome.problem });
        return;
    }
  }

  const time = (iso: string) => new Date(iso).toLocaleTimeString();
  return (
    <>
      <section className="rain-hero" data-testid="rain">
        <h2 data-testid="rain-name">{rain.name}</h2>
        <p className="rain-pool" data-testid="rain-pool">{fill(t('rain_pool'), { amount: formatYuan(rain.poolMinor), count: rain.prizeCount })}</p>
        <p className="rain-meta" data-testid="rain-window">{fill(t('rain_window'), { start: time(rain.startsAt), end: time(rain.endsAt) })}</p>
        <p className="rain-meta">{fill(t('rain_caps'), { count: rain.perUserWinsMax, amount: formatYuan(rain.perUserMinorMax) })}</p>
        {phase === 'waiting' && (
          <div className="rain-countdown" data-testid="rain-countdown">
            <small>{t('rain_startsIn')}</small>
            <span>{formatCountdown(Date.parse(rain.myStartsAt) - nowMs)}</span>
          </div>
        )}
        {phase === 'running' && (
          <div className="rain-stage">
            <button type="button" className="rain-tap" disabled={isCapped} onClick={() => void tap()} data-testid="rain-tap">{t('rain_tap')}</button>
            {flash !== null && (
              <div key={flash.key} className={flash.isWin ? 'rain-flash win' : 'rain-flash'} data-testid={flash.isWin ? 'rain-flash-win' : 'rain-flash'}>{flash.text}</div>
            )}
            <p className="rain-meta" data-testid={isCapped ? 'rain-capped' : 'rain-hint'}>{isCapped ? t('rain_capped') : (notice ?? t('rain_tapHint'))}</p>
          </div>
        )}
        {phase === 'over' && <p className="rain-over" data-testid="rain-over">{t('rain_over')}</p>}
        <p className="rain-total" data-testid="rain-total">{fill(t('rain_myTotal'), { amount: formatYuan(totalMinor), count: wins.length })}</p>
        {failure !== null && <p className="rain-meta" role="alert">{rainProblemText(t, failure.problem)}</p>}
      </section>
      <section className="card">
        <h3>{t('rain_myWins')}</h3>
        {wins.length === 0 && <p className="muted">{t('rain_noWins')}</p>}
        {wins.length > 0 && rain.fissionShares > 0 && <p className="muted">{t('rain_fissionHint')}</p>}
        <ul className="bills grabs" data-testid="rain-wins">
          {wins.map((win) => (
            <li key={win.prizeSeq} className="rain-win" data-testid="rain-win">
              <span>
                <span className="plus" data-testid="rain-win-amount">¥{formatYuan(win.amountMinor)}</span>
                <small className="muted"> {time(win.wonAt)} · {win.settled ? t('rp_won') : t('rp_settling')}</small>
              </span>
              {rain.fissionShares > 0 && <FissionButton rain={rain} prizeSeq={win.prizeSeq} />}
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

/** Hands the fission packet of one prize to my friends and opens its page, where I see them open it. */
function FissionButton({ rain, prizeSeq }: { rain: MyRain; prizeSeq: number }) {
  const { t } = useI18n();
  const [isHanding, setIsHanding] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function hand() {
    setIsHanding(true);
    setError(null);
    for (let attempt = 1; attempt <= fissionRetryMax; attempt++) {
      try {
        const packet = await handFission(rain.id, prizeSeq);
        navigate('redpacket', { id: packet.id });
        return;
      } catch (caught) {
        const isNotYet = caught instanceof ApiError && caught.problem.code === 'rain.prize_not_found';
        if (!isNotYet || attempt === fissionRetryMax) {
          setError(rainProblemText(t, caught));
          setIsHanding(false);
          return;
        }
        await new Promise((resolve) => window.setTimeout(resolve, fissionRetryMs));
      }
    }
  }
  return (
    <span className="rain-fission">
      <button type="button" className="secondary small" disabled={isHanding} onClick={() => void hand()} data-testid="rain-fission">
        🧧 {fill(t('rain_fission'), { amount: formatYuan(rain.fissionMinor), count: rain.fissionShares })}
      </button>
      {error !== null && <small className="error" role="alert">{error}</small>}
    </span>
  );
}
