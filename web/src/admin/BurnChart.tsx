import { useCallback, useEffect, useRef, useState } from 'react';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import { api, errorMessage, formatYuan } from '../api.ts';
import type { Burn } from '../marketing.ts';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend);

/** How often a campaign's burn rate is read again while it runs. */
const burnRefreshMs = 2000;
/** The chart shows at least this many minutes, ending at the later of now and the last spend. */
const minutesShown = 30;
const sceneColors = ['#1677ff', '#ff7a45', '#36cfc9', '#9254de', '#ffc53d', '#73d13d'];

export interface BurnSeries {
  /** One label a minute, HH:MM local time. */
  readonly labels: readonly string[];
  /** Per scene, what it spent in each minute, in yuan (for the bar heights). */
  readonly scenes: readonly { readonly scene: string; readonly yuan: readonly number[] }[];
  readonly forecastYuan: number;
  readonly breakerYuan: number;
  /** The last minute's spend over all scenes, exactly (fen digits). */
  readonly lastMinuteMinor: string;
  /** Everything the chart shows, exactly (fen digits). */
  readonly totalMinor: string;
}

/**
 * The chart's numbers: a minute axis from the earliest spend (or `minutesShown` back) to the later
 * of now and the last spend, each scene's spend per minute, and the two lines. Sums stay exact
 * (bigint fen); only the drawn heights are yuan numbers.
 */
export function burnSeries(burn: Burn, nowMs: number): BurnSeries {
  const minuteMs = 60_000;
  const starts = burn.minutes.map((row) => Math.floor(Date.parse(row.minute) / minuteMs));
  const end = Math.max(Math.floor(nowMs / minuteMs), ...starts);
  const start = Math.min(end - (minutesShown - 1), ...starts);
  const count = end - start + 1;
  const sceneNames = [...new Set(burn.minutes.map((row) => row.scene))].sort();
  const bySceneMinor = new Map(sceneNames.map((scene) => [scene, Array.from({ length: count }, () => 0n)]));
  for (const row of burn.minutes) {
    const slots = bySceneMinor.get(row.scene);
    const index = Math.floor(Date.parse(row.minute) / minuteMs) - start;
    if (slots !== undefined && index >= 0 && index < count) slots[index] = (slots[index] ?? 0n) + BigInt(row.minor);
  }
  const pad = (value: number) => String(value).padStart(2, '0');
  const labels = Array.from({ length: count }, (_, index) => {
    const date = new Date((start + index) * minuteMs);
    return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  });
  let lastMinute = 0n;
  let total = 0n;
  for (const slots of bySceneMinor.values()) {
    lastMinute += slots[count - 1] ?? 0n;
    for (const minor of slots) total += minor;
  }
  return {
    labels,
    scenes: sceneNames.map((scene) => ({ scene, yuan: (bySceneMinor.get(scene) ?? []).map((minor) => Number(minor) / 100) })),
    forecastYuan: Number(burn.forecastPerMinuteMinor) / 100,
    breakerYuan: Number(burn.breakerLineMinor) / 100,
    lastMinuteMinor: lastMinute.toString(),
    totalMinor: total.toString(),
  };
}

/**
 * A campaign's live burn rate: spend per minute stacked by scene, with the forecast per minute
 * and the breaker's line across (spend over the line pauses the campaign). Read every 2 s while
 * the campaign runs; once more when it does not.
 */
export function BurnChart({ campaignId, isLive }: { campaignId: string; isLive: boolean }) {
  const canvas = useRef<HTMLCanvasElement | null>(null);
  const [view, setView] = useState<{ readonly burn: Burn; readonly loadedAtMs: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      const burn = await api<Burn>('GET', `/v1/admin/campaigns/${encodeURIComponent(campaignId)}/burn`);
      setView({ burn, loadedAtMs: Date.now() });
      setError(null);
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }, [campaignId]);
  useEffect(() => {
    void load();
    if (!isLive) return;
    const timer = window.setInterval(() => void load(), burnRefreshMs);
    return () => {
      window.clearInterval(timer);
    };
  }, [isLive, load]);

  useEffect(() => {
    if (canvas.current === null || view === null) return;
    const series = burnSeries(view.burn, view.loadedAtMs);
    const flat = (value: number) => series.labels.map(() => value);
    const chart = new Chart<'bar' | 'line'>(canvas.current, {
      type: 'bar',
      data: {
        labels: [...series.labels],
        datasets: [
          ...series.scenes.map((scene, index) => ({ type: 'bar' as const, label: `${scene.scene} (¥)`, data: [...scene.yuan], backgroundColor: sceneColors[index % sceneColors.length] ?? '#1677ff', stack: 'spend' })),
          { type: 'line' as const, label: 'Forecast per minute (¥)', data: flat(series.forecastYuan), borderColor: '#389e0d', backgroundColor: '#389e0d', pointRadius: 0, stack: 'forecast' },
          { type: 'line' as const, label: 'Breaker line (¥)', data: flat(series.breakerYuan), borderColor: '#d93026', backgroundColor: '#d93026', borderDash: [6, 4], pointRadius: 0, stack: 'breaker' },
        ],
      },
      options: {
        animation: false,
        plugins: { legend: { position: 'bottom' } },
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } },
      },
    });
    return () => {
      chart.destroy();
    };
  }, [view]);

  const series = view === null ? null : burnSeries(view.burn, view.loadedAtMs);
  return (
    <div className="burn" data-testid="burn">
      <h4>Burn rate{isLive ? ' (live, every 2 s)' : ''}</h4>
      {series !== null && view !== null && (
        <p className="muted" data-testid="burn-summary">
          ¥{formatYuan(series.totalMinor)} in the last hour · last minute ¥{formatYuan(series.lastMinuteMinor)} · forecast ¥{formatYuan(view.burn.forecastPerMinuteMinor)}/min · breaker at ¥{formatYuan(view.burn.breakerLineMinor)}/min
        </p>
      )}
      {error !== null && <p className="error" role="alert">{error}</p>}
      <canvas ref={canvas} height={120} data-testid="burn-chart" />
    </div>
  );
}
