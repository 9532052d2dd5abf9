import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Sql } from '../kernel/db.ts';
import type { IdGenerator } from '../kernel/ids.ts';
import { registerIdempotency, type IdempotencyStore } from './idempotency.ts';
import { registerMetrics, type Metrics } from './metrics.ts';
import { buildProblem, problemResponses, registerProblemHandlers, sendProblem } from './problem.ts';

/**
 * The Fastify server every module's routes plug into: TypeBox schemas, OpenAPI at /docs, one
 * problem+json error path, Idempotency-Key hooks, metrics and a health check. Modules register
 * their routes on the instance this returns.
 */
export type Server = FastifyInstance;

/** A JSON API: big enough for a linked group of transfers, small enough to refuse abuse early. */
export const bodyLimitBytes = 1024 * 1024;
/** A health check that hangs is worse than one that says no: the database gets this long. */
const healthCheckTimeoutMs = 2000;

export interface ServerDeps {
  readonly sql: Sql;
  readonly ids: IdGenerator;
  readonly metrics: Metrics;
  readonly idempotency: IdempotencyStore;
  readonly logger: FastifyServerOptions['logger'];
  readonly version: string;
}

export async function buildServer(deps: ServerDeps): Promise<Server> {
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: bodyLimitBytes,
    // Request ids come from our generator (time-ordered, prefixed), never from the client.
    genReqId: () => deps.ids.next('req'),
    requestIdHeader: false,
    ajv: {
      // Unknown fields are refused rather than silently dropped, and JSON numbers are never
      // coerced into money strings (a float would lose digits on the way).
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // JSON only: a text/plain body gets 415 instead of reaching a schema as a string.
  app.removeContentTypeParser('text/plain');
  registerProblemHandlers(app);
  registerIdempotency(app, deps.idempotency);
  // Callback hooks on every request: an async one costs a promise and a microtask each.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });
  await registerDocs(app, deps.version);
  registerMetrics(app, deps.metrics);
  registerHealth(app, deps.sql);
  return app;
}

async function registerDocs(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'qianbao API',
        description:
          'Money is minor units (fen) as digit strings with a currency. Errors are RFC 9457 ' +
          'problem details. State-changing POSTs require an Idempotency-Key header.',
        version,
      },
      components: {
        securitySchemes: { operatorToken: { type: 'http', scheme: 'bearer' } },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

function registerHealth(app: FastifyInstance, sql: Sql): void {
  const schema = {
    summary: 'Liveness and database reachability',
    tags: ['system'],
    response: { 200: Type.Object({ status: Type.Literal('ok') }), ...problemResponses(503) },
  };
  app.get('/healthz', { schema }, async (request, reply) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(new Error('health check timed out'));
      }, healthCheckTimeoutMs);
    });
    try {
      await Promise.race([sql`SELECT 1`, timeout]);
      return await reply.send({ status: 'ok' });
    } catch (error) {
      request.log.warn({ err: error }, 'health check failed');
      return await sendProblem(
        reply,
        buildProblem(request, {
          code: 'server.unavailable',
          detail: 'the database does not answer',
        }),
      );
    } finally {
      clearTimeout(timer);
    }
  });
}
