/**
 * Assertions guard invariants (bugs), never user input: user input goes through TypeBox schemas
 * and domain errors. A failed assertion surfaces as a 500 `internal_error` and is logged.
 */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

export function assert(condition: unknown, message?: string): asserts condition {
  if (!condition) throw new AssertionError(message ?? 'assertion failed');
}

export function assertNever(value: never, message = 'unexpected value'): never {
  throw new AssertionError(`${message}: ${String(value)}`);
}
