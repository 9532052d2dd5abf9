/**
 * Domain errors are expected outcomes and part of the API. Each module keeps a catalog of stable,
 * module-namespaced codes; the HTTP layer turns a DomainError into RFC 9457 problem+json.
 * Codes are never renamed, only deprecated; docs/errors.md lists every one (a test checks it).
 */
export interface ErrorSpec {
  readonly status: number;
  readonly title: string;
  readonly retryable: boolean;
}
export type ErrorCatalog = Readonly<Record<string, ErrorSpec>>;

const registry = new Map<string, ErrorSpec>();

/** Registers a module's catalog under its namespace, e.g. `ledger` → `ledger.insufficient_funds`. */
export function registerErrors<T extends ErrorCatalog>(namespace: string, catalog: T): T {
  for (const [name, spec] of Object.entries(catalog)) registry.set(`${namespace}.${name}`, spec);
  return catalog;
}

export function errorSpec(code: string): ErrorSpec | undefined {
  return registry.get(code);
}

export function allErrorCodes(): string[] {
  return [...registry.keys()].sort();
}

export class DomainError extends Error {
  override readonly name = 'DomainError';
  readonly code: string;
  readonly spec: ErrorSpec;
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(code: string, options: { detail?: string; [key: string]: unknown } = {}) {
    const spec = registry.get(code);
    if (spec === undefined) throw new Error(`unregistered error code: ${code}`);
    const { detail, ...extra } = options;
    // An expected outcome, answered as a problem and never logged with a trace: capturing a
    // stack for it is the costliest part of a refusal on a hot path (an empty red packet's 409).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(detail ?? spec.title);
    Error.stackTraceLimit = stackTraceLimit;
    this.code = code;
    this.spec = spec;
    this.extra = extra;
  }
}

/** Errors shared by every module. */
export const commonErrors = registerErrors('request', {
  invalid: { status: 400, title: 'The request is not valid', retryable: false },
  not_found: { status: 404, title: 'Not found', retryable: false },
  unauthorized: { status: 401, title: 'Authentication required', retryable: false },
  forbidden: { status: 403, title: 'Not allowed', retryable: false },
  rate_limited: { status: 429, title: 'Too many requests', retryable: true },
  payload_too_large: { status: 413, title: 'Request body too large', retryable: false },
  unsupported_media_type: { status: 415, title: 'Unsupported media type', retryable: false },
});

export const internalErrors = registerErrors('server', {
  internal_error: { status: 500, title: 'Internal error', retryable: true },
  unavailable: { status: 503, title: 'Service unavailable', retryable: true },
});
