import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BatchObserver } from '../ledger/index.ts';

/**
 * Prometheus metrics at `/metrics`. Each app has its own registry (not prom-client's global one)
 * so tests can build several apps in one process without "metric already registered" errors.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Handed to the Ledger, which reports every applied batch to it. */
  readonly ledgerObserver: BatchObserver;
}

const httpDurationBucketsSeconds = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];
const batchDurationBucketsSeconds = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];
const batchSizeBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000];

function createLedgerObserver(registry: Registry): BatchObserver {
  const transfers = new Counter({
    name: 'qianbao_ledger_transfers_total',
    help: 'Transfers submitted to the ledger writer, whatever their result',
    registers: [registry],
  });
  const created = new Counter({
    name: 'qianbao_ledger_transfers_created_total',
    help: 'Transfers the ledger writer created (journal rows appended)',
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'qianbao_ledger_batch_duration_seconds',
    help: 'Time to apply one ledger batch, from first read to durable commit',
    buckets: batchDurationBucketsSeconds,
    registers: [registry],
  });
  const size = new Histogram({
    name: 'qianbao_ledger_batch_size',
    help: 'Transfers per ledger batch',
    buckets: batchSizeBuckets,
    registers: [registry],
  });
  return {
    batchApplied: (stats) => {
      transfers.inc(stats.transfers);
      created.inc(stats.created);
      duration.observe(stats.durationMs / 1000);
      size.observe(stats.transfers);
    },
  };
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return { registry, ledgerObserver: createLedgerObserver(registry) };
}

/**
 * Times every response by route template (never the raw URL: ids would make the label set
 * unbounded) and serves the registry.
 */
export function registerMetrics(app: FastifyInstance, metrics: Metrics): void {
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route, method and status',
    labelNames: ['route', 'method', 'status_code'] as const,
    buckets: httpDurationBucketsSeconds,
    registers: [metrics.registry],
  });
  app.addHook('onResponse', (request, reply, done) => {
    httpDuration.observe(
      {
        route: request.routeOptions.url ?? 'unmatched',
        method: request.method,
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}
