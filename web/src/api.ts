/**
 * The web app's API client. The session travels in the HttpOnly cookie the server sets, so no
 * token is ever readable by page scripts. Errors arrive as RFC 9457 problems.
 */
export interface Problem {
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly status: number;
  /** A 422 that names fields (marketing.invalid): each problem with what to change. */
  readonly problems?: readonly { readonly field: string; readonly message: string }[];
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail || problem.title);
  }
}

/** What to show for a failed call: the server's problem detail, or the error as text. */
export function errorMessage(caught: unknown): string {
  return caught instanceof ApiError ? caught.message : String(caught);
}

function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

export async function api<T>(method: string, url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['idempotency-key'] = newIdempotencyKey();
  const response = await fetch(url, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status === 204) return undefined as T;
  const data: unknown = await response.json();
  if (!response.ok) throw new ApiError(data as Problem);
  return data as T;
}

/** Fen as a yuan string: 123456 → "1,234.56". Never through a float. */
export function formatYuan(minor: string): string {
  const negative = minor.startsWith('-');
  const digits = (negative ? minor.slice(1) : minor).padStart(3, '0');
  const whole = digits.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${whole}.${digits.slice(-2)}`;
}

export interface User {
  readonly id: string;
  readonly mobile: string;
  readonly mobileMasked: string;
  readonly displayName: string;
  readonly realNameVerified: boolean;
  readonly hasPin: boolean;
}

export interface Me {
  readonly user: User;
  readonly balance: { readonly availableMinor: string; readonly balanceMinor: string; readonly currency: string };
}
