import { createPrivateKey, createPublicKey, sign as rsaSign, verify as rsaVerify, type KeyObject } from 'node:crypto';

/**
 * The Alipay OpenAPI signing rules (../shared/ref/alipay-protocol.md §2.3, §2.4, §4, §6), as pure
 * functions over strings, checked against the reference vectors signed by the real SDK.
 */

export type SignType = 'RSA2' | 'RSA';
const algorithm = (type: SignType): string => (type === 'RSA2' ? 'sha256' : 'sha1');

/** A public key from SPKI PEM or its bare base64 (the two forms the SDK and its users pass). */
export function publicKeyFrom(text: string): KeyObject {
  const trimmed = text.trim();
  const pem = trimmed.startsWith('-----') ? trimmed : `-----BEGIN PUBLIC KEY-----\n${(trimmed.replace(/\s+/g, '').match(/.{1,64}/g) ?? []).join('\n')}\n-----END PUBLIC KEY-----`;
  return createPublicKey(pem);
}

export function privateKeyFrom(pem: string): KeyObject {
  return createPrivateKey(pem);
}

/** An RSA-2048 public key as the SDK accepts it: SPKI PEM, and its bare base64. */
export function publicKeyForms(key: KeyObject): { readonly pem: string; readonly base64: string } {
  const pem = key.export({ type: 'spki', format: 'pem' }).toString();
  return { pem, base64: pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '') };
}

export function signText(text: string, key: KeyObject, type: SignType = 'RSA2'): string {
  return rsaSign(algorithm(type), Buffer.from(text, 'utf8'), key).toString('base64');
}

export function verifyText(text: string, signature: string, key: KeyObject, type: SignType = 'RSA2'): boolean {
  try {
    return rsaVerify(algorithm(type), Buffer.from(text, 'utf8'), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * The v2 request signing string: every received parameter but `sign` (`sign_type` included),
 * empty values dropped unless `keepEmpty` (the Node SDK signs them), sorted, `k=v` joined by `&`,
 * raw values.
 */
export function v2SignContent(params: Readonly<Record<string, string>>, keepEmpty = false): string {
  return Object.keys(params)
    .filter((key) => key !== 'sign' && (keepEmpty || params[key] !== ''))
    .sort()
    .map((key) => `${key}=${params[key] ?? ''}`)
    .join('&');
}

/** Verifies a v2 request; tries once more with empty values kept when the request had some. */
export function verifyV2Request(params: Readonly<Record<string, string>>, key: KeyObject): { readonly ok: boolean; readonly content: string } {
  const type = params['sign_type'] === 'RSA' ? 'RSA' : 'RSA2';
  const signature = params['sign'] ?? '';
  const content = v2SignContent(params);
  if (verifyText(content, signature, key, type)) return { ok: true, content };
  if (Object.values(params).some((value) => value === '')) {
    const withEmpty = v2SignContent(params, true);
    if (verifyText(withEmpty, signature, key, type)) return { ok: true, content: withEmpty };
  }
  return { ok: false, content };
}

/**
 * A v2 response envelope: the node's compact JSON is signed byte for byte, and the envelope is
 * built around that exact text with `sign` last (the SDK slices the signed text out by position).
 */
export function v2Envelope(method: string, node: Readonly<Record<string, unknown>>, key: KeyObject | undefined, type: SignType = 'RSA2'): string {
  const responseKey = `${method.replaceAll('.', '_')}_response`;
  const inner = JSON.stringify(node);
  if (key === undefined) return `{"${responseKey}":${inner}}`;
  return `{"${responseKey}":${inner},"sign":${JSON.stringify(signText(inner, key, type))}}`;
}

/** The signing string of a notification (or a page-pay return): all fields but `sign` and `sign_type`. */
export function notifySignContent(fields: Readonly<Record<string, string>>): string {
  return Object.keys(fields)
    .filter((key) => key !== 'sign' && key !== 'sign_type')
    .sort()
    .map((key) => `${key}=${fields[key] ?? ''}`)
    .join('&');
}

/** A notification's fields, signed: empty values are never sent (verifiers disagree on them). */
export function signedNotification(fields: Readonly<Record<string, string>>, key: KeyObject): Record<string, string> {
  const present = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== ''));
  const withType = { ...present, sign_type: 'RSA2' };
  return { ...withType, sign: signText(notifySignContent(withType), key) };
}

/** A v3 `Authorization: ALIPAY-SHA256withRSA …` header split into its signed string and its parts. */
export function parseV3Authorization(header: string): { readonly authString: string; readonly sign: string; readonly fields: Readonly<Record<string, string>> } | undefined {
  const scheme = 'ALIPAY-SHA256withRSA ';
  if (!header.startsWith(scheme)) return undefined;
  const rest = header.slice(scheme.length);
  const at = rest.lastIndexOf(',sign=');
  if (at < 0) return undefined;
  const authString = rest.slice(0, at);
  const fields: Record<string, string> = {};
  for (const part of authString.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return { authString, sign: rest.slice(at + ',sign='.length), fields };
}

/** The v3 request signing string: auth string, method, request target, body, and the app auth token line when sent. */
export function v3RequestContent(input: { readonly authString: string; readonly method: string; readonly target: string; readonly body: string; readonly appAuthToken?: string | undefined }): string {
  return `${input.authString}\n${input.method}\n${input.target}\n${input.body}\n${input.appAuthToken === undefined ? '' : `${input.appAuthToken}\n`}`;
}

/** The v3 response signing string. */
export function v3ResponseContent(timestamp: string, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`;
}
