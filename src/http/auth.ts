import { createHash, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../kernel/errors.ts';
import type { Random } from '../kernel/random.ts';

/**
 * Operator authentication: one bearer token guards the operator APIs (ledger, reconciliation).
 * It comes from QIANBAO_OPERATOR_TOKEN, or is generated at start and written where only this
 * user can read it, so a fresh `npm start` is never left open.
 */
export const operatorPrincipal = 'operator';
export const operatorTokenFileName = 'operator-token';
const generatedTokenBytes = 32;

export interface OperatorToken {
  readonly token: string;
  /** Set when the token was generated at this start and written to this file. */
  readonly writtenTo: string | null;
}

export async function resolveOperatorToken(options: {
  readonly configured: string | undefined;
  readonly dataDir: string;
  readonly random: Random;
}): Promise<OperatorToken> {
  if (options.configured !== undefined) return { token: options.configured, writtenTo: null };
  const token = Buffer.from(options.random.bytes(generatedTokenBytes)).toString('base64url');
  const file = path.resolve(options.dataDir, operatorTokenFileName);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  // writeFile's mode applies only when it creates the file; an older file keeps its mode.
  await chmod(file, 0o600);
  return { token, writtenTo: file };
}

/** Hashing first makes both sides the same length, which timingSafeEqual requires. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

const bearerPattern = /^Bearer +([\x21-\x7e]+) *$/i;

export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return bearerPattern.exec(header)?.[1];
}

/** An onRequest hook: refuses before the body is read, so strangers learn nothing about schemas. */
export function requireOperator(
  token: string,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = digest(token);
  return async (request, reply) => {
    const presented = bearerToken(request.headers.authorization);
    if (presented === undefined || !timingSafeEqual(digest(presented), expected)) {
      reply.header('www-authenticate', 'Bearer realm="qianbao-operator"');
      throw new DomainError('request.unauthorized', {
        detail: 'send the operator token as `Authorization: Bearer <token>`',
      });
    }
    request.principal = operatorPrincipal;
  };
}
