import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { assert } from '../kernel/assert.ts';
import { DomainError, errorSpec } from '../kernel/errors.ts';

/**
 * RFC 9457 problem details. Every error the API returns — a domain error, a schema failure, an
 * unknown route, a body too large, a bug — leaves through here as `application/problem+json`
 * with the same members, so a client needs one error parser. `type` is always
 * `https://qianbao.dev/problems/<code>`; `code` repeats the stable, module-namespaced code and
 * `traceId` is the request id that the logs carry.
 */
export const problemContentType = 'application/problem+json';
export const problemTypeBase = 'https://qianbao.dev/problems/';

export const ProblemFieldError = Type.Object({
  /** A JSON Pointer (RFC 6901) into the part of the request named by `location`. */
  pointer: Type.String(),
  location: Type.String(),
  detail: Type.String(),
});
export type ProblemFieldError = Static<typeof ProblemFieldError>;

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.String(),
    code: Type.String(),
    retryable: Type.Boolean(),
    traceId: Type.String(),
    errors: Type.Optional(Type.Array(ProblemFieldError)),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details' },
);
export type Problem = Static<typeof Problem> & Readonly<Record<string, unknown>>;

declare module 'fastify' {
  interface FastifyReply {
    /** The problem this reply carries, if it is an error; idempotency reads `retryable`. */
    problem: Problem | null;
  }
}

export interface ProblemInput {
  readonly code: string;
  readonly detail?: string;
  /** Extension members (RFC 9457 §3.2); they never replace the standard members. */
  readonly extensions?: Readonly<Record<string, unknown>>;
}

export function buildProblem(request: FastifyRequest, input: ProblemInput): Problem {
  const spec = errorSpec(input.code);
  assert(spec !== undefined, `error code ${input.code} is registered`);
  const standard = {
    type: `${problemTypeBase}${input.code}`,
    title: spec.title,
    status: spec.status,
    detail: input.detail ?? spec.title,
    instance: request.url,
    code: input.code,
    retryable: spec.retryable,
    traceId: request.id,
  };
  const extensions = Object.entries(input.extensions ?? {}).filter(([key]) => !(key in standard));
  return { ...standard, ...Object.fromEntries(extensions) };
}

/** Bigints in extension members (amounts) become digit strings, as everywhere in the JSON API. */
function stringifyProblem(problem: Problem): string {
  return JSON.stringify(problem, (_key, value: unknown) =>
    typeof value === 'bigint' ? value.toString() : value,
  );
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  reply.problem = problem;
  // A string payload skips the route's response serializer, which knows only success shapes.
  return reply.code(problem.status).type(problemContentType).send(stringifyProblem(problem));
}

/** OpenAPI response entries for a route's problem statuses. */
export function problemResponses(
  ...statuses: number[]
): Record<number, { description: string; content: Record<string, { schema: typeof Problem }> }> {
  const responses: Record<
    number,
    { description: string; content: Record<string, { schema: typeof Problem }> }
  > = {};
  for (const status of statuses) {
    responses[status] = {
      description: 'Problem details (RFC 9457)',
      content: { [problemContentType]: { schema: Problem } },
    };
  }
  return responses;
}

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && typeof (error as Partial<FastifyError>).code === 'string';
}

function validationProblem(request: FastifyRequest, error: FastifyError): Problem {
  const location = error.validationContext ?? 'body';
  const errors = (error.validation ?? []).map((item) => ({
    pointer: `#${item.instancePath}`,
    location,
    detail: `${item.instancePath === '' ? location : item.instancePath.slice(1)} ${item.message ?? 'is not valid'}`,
  }));
  return buildProblem(request, {
    code: 'request.invalid',
    detail: error.message,
    extensions: { errors },
  });
}

/** Fastify's own 4xx errors (content type, body size, malformed JSON) mapped to our codes. */
function frameworkProblem(request: FastifyRequest, error: FastifyError): Problem | undefined {
  if (error.validation !== undefined) return validationProblem(request, error);
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return buildProblem(request, { code: 'request.payload_too_large', detail: error.message });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return buildProblem(request, {
        code: 'request.unsupported_media_type',
        detail: 'send the body as application/json',
      });
    default:
      break;
  }
  const status = error.statusCode ?? 500;
  if (status === 404)
    return buildProblem(request, { code: 'request.not_found', detail: error.message });
  if (status === 429)
    return buildProblem(request, { code: 'request.rate_limited', detail: error.message });
  // Fastify's other client errors (malformed JSON, empty body, bad content length) are all
  // "the request is not valid"; their messages describe the request, not our internals.
  if (status >= 400 && status < 500)
    return buildProblem(request, { code: 'request.invalid', detail: error.message });
  return undefined;
}

/** The one place any thrown error becomes a response; internals go to the log, never the body. */
export function problemFromError(request: FastifyRequest, error: unknown): Problem {
  if (error instanceof DomainError) {
    return buildProblem(request, {
      code: error.code,
      detail: error.message,
      extensions: error.extra,
    });
  }
  const framework = isFastifyError(error) ? frameworkProblem(request, error) : undefined;
  if (framework !== undefined) return framework;
  return buildProblem(request, {
    code: 'server.internal_error',
    detail: `An internal error occurred; quote trace id ${request.id} when reporting it`,
  });
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.decorateReply('problem', null);
  app.setErrorHandler((error, request, reply) => {
    const problem = problemFromError(request, error);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: problem.code, detail: problem.detail }, 'request refused');
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((request, reply) => {
    const detail = `no route for ${request.method} ${request.url.split('?')[0] ?? ''}`;
    return sendProblem(reply, buildProblem(request, { code: 'request.not_found', detail }));
  });
}
