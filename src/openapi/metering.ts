import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * Metering of the gateway: calls per app, method and result code, and their latency, in
 * `/metrics` (`qianbao_openapi_calls_total`, `qianbao_openapi_call_seconds`), and a per-app view
 * for the console (calls, errors, p99 over the recent calls). Rate limits per app are a token
 * bucket per second, in process.
 */
const recentMax = 2048;

/** The last `recentMax` call durations (ms), in a ring: keeping one costs the same however many. */
class RecentDurations {
  private readonly values = new Float64Array(recentMax);
  private kept = 0;
  private next = 0;

  push(ms: number): void {
    this.values[this.next] = ms;
    this.next = (this.next + 1) % recentMax;
    this.kept = Math.min(recentMax, this.kept + 1);
  }

  /** The 99th percentile of the durations kept; 0 before any. */
  p99(): number {
    const sorted = this.values.slice(0, this.kept).sort();
    return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
  }
}

interface AppStats {
  calls: number;
  errors: number;
  readonly byMethod: Map<string, { calls: number; errors: number; readonly recentMs: RecentDurations }>;
  readonly recentMs: RecentDurations;
}

export class Metering {
  private readonly calls: Counter;
  private readonly seconds: Histogram;
  private readonly stats = new Map<string, AppStats>();
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(registry: Registry, private readonly nowMs: () => number) {
    this.calls = new Counter({ name: 'qianbao_openapi_calls_total', help: 'Open platform calls by app, method and result code', labelNames: ['app_id', 'method', 'code'], registers: [registry] });
    this.seconds = new Histogram({ name: 'qianbao_openapi_call_seconds', help: 'Open platform call latency by app and method', labelNames: ['app_id', 'method'], buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] });
  }

  record(appId: string, method: string, code: string, ms: number): void {
    this.calls.inc({ app_id: appId, method, code });
    this.seconds.observe({ app_id: appId, method }, ms / 1000);
    const stats: AppStats = this.stats.get(appId) ?? { calls: 0, errors: 0, byMethod: new Map(), recentMs: new RecentDurations() };
    const error = code !== '10000' && code !== '10003';
    stats.calls += 1;
    if (error) stats.errors += 1;
    const m = stats.byMethod.get(method) ?? { calls: 0, errors: 0, recentMs: new RecentDurations() };
    m.calls += 1;
    if (error) m.errors += 1;
    stats.byMethod.set(method, m);
    stats.recentMs.push(ms);
    m.recentMs.push(ms);
    this.stats.set(appId, stats);
  }

  /** A token bucket of `perSecond` a second per app: false when this call is over the limit. */
  admit(appId: string, perSecond: number): boolean {
    const now = this.nowMs();
    const bucket = this.buckets.get(appId) ?? { tokens: perSecond, atMs: now };
    bucket.tokens = Math.min(perSecond, bucket.tokens + ((now - bucket.atMs) / 1000) * perSecond);
    bucket.atMs = now;
    this.buckets.set(appId, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  view(appId: string): { readonly calls: number; readonly errors: number; readonly errorRate: number; readonly p99Ms: number; readonly methods: readonly { readonly method: string; readonly calls: number; readonly errors: number; readonly errorRate: number; readonly p99Ms: number }[] } {
    const stats = this.stats.get(appId);
    if (stats === undefined) return { calls: 0, errors: 0, errorRate: 0, p99Ms: 0, methods: [] };
    return {
      calls: stats.calls,
      errors: stats.errors,
      errorRate: stats.calls === 0 ? 0 : stats.errors / stats.calls,
      p99Ms: stats.recentMs.p99(),
      methods: [...stats.byMethod.entries()].map(([method, m]) => ({ method, calls: m.calls, errors: m.errors, errorRate: m.errors / m.calls, p99Ms: m.recentMs.p99() })),
    };
  }
}
