import { useEffect, useRef } from 'react';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import type { Rain } from '../rain.ts';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend);

/** GET /v1/admin/rains/:id: a rain and how it paid out, with what was won in each tenth of its window. */
export interface RainStats {
  readonly rain: Rain;
  readonly wonCount: number;
  readonly wonMinor: string;
  readonly settledMinor: string;
  readonly buckets: readonly { readonly bucket: number; readonly wonMinor: string; readonly wonCount: number }[];
  /** The rain's reconciliation (escrow + paid + returned = pool; Redis agrees), where the server sends it. */
  readonly audit?: { readonly ok: boolean; readonly problems: readonly string[] };
}

export interface RainSeries {
  readonly labels: readonly string[];
  /** Won in each tenth, in yuan; null for a tenth still to come. */
  readonly wonYuan: readonly (number | null)[];
  /** The pool left after each tenth, in yuan; null for a tenth still to come. */
  readonly leftYuan: readonly (number | null)[];
}

/**
 * The chart's numbers: per tenth of the window, what was won and what is left of the pool after it,
 * up to the tenth the clock is in. Sums stay exact (bigint fen); only the drawn values are yuan
 * numbers, for the bar and line heights.
 */
export function rainSeries(stats: RainStats, nowMs: number): RainSeries {
  const startMs = Date.parse(stats.rain.startsAt);
  const durationMs = Date.parse(stats.rain.endsAt) - startMs;
  const tenthMs = durationMs / stats.buckets.length;
  const isOver = stats.rain.status !== 'scheduled' || nowMs >= startMs + durationMs;
  const shownCount = isOver ? stats.buckets.length : Math.max(0, Math.ceil((nowMs - startMs) / tenthMs));
  const seconds = (ms: number) => String(Math.round(ms / 100) / 10);
  let leftMinor = BigInt(stats.rain.poolMinor);
  const labels: string[] = [];
  const wonYuan: (number | null)[] = [];
  const leftYuan: (number | null)[] = [];
  for (const bucket of stats.buckets) {
    labels.push(`${seconds(bucket.bucket * tenthMs)}–${seconds((bucket.bucket + 1) * tenthMs)} s`);
    const isShown = bucket.bucket < shownCount;
    leftMinor -= isShown ? BigInt(bucket.wonMinor) : 0n;
    wonYuan.push(isShown ? Number(bucket.wonMinor) / 100 : null);
    leftYuan.push(isShown ? Number(leftMinor) / 100 : null);
  }
  return { labels, wonYuan, leftYuan };
}

/** Bars of what was won in each tenth of the window and a line of the pool left, drawn with Chart.js. */
export function RainChart({ stats, nowMs }: { stats: RainStats; nowMs: number }) {
  const canvas = useRef<HTMLCanvasElement | null>(null);
  useEffect(() => {
    if (canvas.current === null) return;
    const series = rainSeries(stats, nowMs);
    const chart = new Chart<'bar' | 'line'>(canvas.current, {
      type: 'bar',
      data: {
        labels: [...series.labels],
        datasets: [
          { type: 'bar', label: 'Won in this tenth (¥)', data: [...series.wonYuan], backgroundColor: '#e6433a', yAxisID: 'won' },
          { type: 'line', label: 'Pool left (¥)', data: [...series.leftYuan], borderColor: '#1677ff', backgroundColor: '#1677ff', yAxisID: 'left' },
        ],
      },
      options: {
        animation: false,
        plugins: { legend: { position: 'bottom' } },
        scales: {
          won: { type: 'linear', position: 'left', beginAtZero: true },
          left: { type: 'linear', position: 'right', beginAtZero: true, grid: { drawOnChartArea: false } },
        },
      },
    });
    return () => {
      chart.destroy();
    };
  }, [stats, nowMs]);
  return <canvas ref={canvas} height={120} data-testid="admin-rain-chart" />;
}
