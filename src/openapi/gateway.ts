import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../kernel/clock.ts';
import type { Apps, LiveApp } from './apps.ts';
import { GatewayError, parseGmt8, resultMessages, timestampAccepted } from './model.ts';
import type { Metering } from './metering.ts';
import { parseV3Authorization, signText, v2Envelope, v3RequestContent, v3ResponseContent, verifyText, verifyV2Request } from './signing.ts';
import type { Biz, TradeCall } from './trades.ts';

/**
 * The Alipay-compatible gateway: `POST|GET /gateway.do` (v2, `sdk.exec`, page flows) and
 * `POST /v3/alipay/…` (v3, `sdk.curl`). v2 checks in Alipay's order (method, app, signature
 * fields, timestamp, version and charset, the signature, biz_content, the method) and always
 * answers HTTP 200 with `<method>_response` signed by the app's platform key; v3 verifies the
 * `Authorization` header over the raw request target and body, and signs every 2xx answer in
 * its headers; its errors are JSON with `code` and `message`.
 */
export type MethodHandler = (call: TradeCall) => Promise<Record<string, unknown> | { readonly html: string }>;

export interface GatewayOptions {
  readonly apps: Apps;
  readonly clock: Clock;
  readonly methods: ReadonlyMap<string, MethodHandler>;
  readonly metering: Metering;
}

const pageMethods = new Set(['alipay.trade.page.pay', 'alipay.trade.wap.pay']);

/**
 * The parameters of a v2 call: the query string (Fastify has parsed it already) and the form
 * body; a name sent twice keeps its last value, and a body value wins over the query's.
 */
function flatParams(request: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  const query = request.query as Readonly<Record<string, string | readonly string[] | undefined>>;
  for (const key in query) {
    const value = query[key];
    const last = typeof value === 'string' ? value : value?.at(-1);
    if (last !== undefined) out[key] = last;
  }
  if (typeof request.body === 'string') for (const [k, v] of new URLSearchParams(request.body)) out[k] = v;
  return out;
}

function baseUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.headers.host ?? 'localhost'}`;
}

export function registerGateway(app: FastifyInstance, options: GatewayOptions): void {
  const { apps, methods, metering } = options;

  /**
   * v2: checks in order; throws GatewayError for the protocol's own answers. The app is looked up
   * by the caller first, so every answer about a known app is signed with its key.
   */
  const v2 = (params: Record<string, string>, live: LiveApp | undefined, request: FastifyRequest): { readonly app: LiveApp; readonly call: TradeCall } => {
    const method = params['method'] ?? '';
    const appId = params['app_id'];
    const fail = (code: string, sub: string, msg: string): never => {
      throw new GatewayError(code, sub, msg);
    };
    if (appId === undefined || appId === '') return fail('40001', 'isv.missing-app-id', '缺少AppID参数');
    if (live === undefined) return fail('40002', 'isv.invalid-app-id', '无效的AppID参数');
    if (params['sign'] === undefined || params['sign'] === '') fail('40001', 'isv.missing-signature', '缺少签名参数');
    if (params['sign_type'] === undefined || params['sign_type'] === '') fail('40001', 'isv.missing-signature-type', '缺少签名类型参数');
    if (params['sign_type'] !== 'RSA2') fail('40002', 'isv.invalid-signature-type', '无效的签名类型: only RSA2 is supported');
    const timestamp = params['timestamp'];
    if (timestamp === undefined || timestamp === '') fail('40001', 'isv.missing-timestamp', '缺少时间戳参数');
    const sentMs = parseGmt8(timestamp ?? '');
    if (sentMs === undefined) fail('40002', 'isv.invalid-timestamp', '非法的时间戳参数: use yyyy-MM-dd HH:mm:ss');
    if (!timestampAccepted(sentMs ?? 0, options.clock.nowMs())) fail('40002', 'isv.invalid-timestamp', '非法的时间戳参数: not within 5 minutes of now in any time zone');
    if (params['version'] === undefined || params['version'] === '') fail('40001', 'isv.missing-version', '缺少版本参数');
    if (params['version'] !== '1.0') fail('40002', 'isv.invalid-parameter', 'version must be 1.0');
    if (params['charset'] !== undefined && params['charset'].toLowerCase() !== 'utf-8') fail('40002', 'isv.invalid-charset', '字符集错误: utf-8 only');
    if (params['format'] !== undefined && params['format'].toUpperCase() !== 'JSON') fail('40002', 'isv.invalid-format', 'format must be JSON');
    const verified = verifyV2Request(params, live.appKey);
    if (!verified.ok) fail('40002', 'isv.invalid-signature', `验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：${verified.content.replaceAll('&', '&amp;')}`);
    if (params['app_auth_token'] !== undefined && params['app_auth_token'] !== '') fail('20001', 'aop.invalid-app-auth-token', '无效的应用授权令牌: app authorisation is not supported');
    let biz: Biz = {};
    if (params['biz_content'] !== undefined && params['biz_content'] !== '') {
      try {
        const parsed: unknown = JSON.parse(params['biz_content']);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        biz = parsed as Biz;
      } catch {
        fail('40002', 'isv.invalid-parameter', 'biz_content is not a JSON object');
      }
    }
    if (!methods.has(method)) fail('40002', 'isv.invalid-method', '不存在的方法名');
    const notify = params['notify_url'];
    if (notify !== undefined && notify !== '' && !notifyAllowed(live, notify)) fail('40002', 'isv.invalid-parameter', `notify_url ${notify} is not one this app registered`);
    return { app: live, call: { app: live, method, biz, notifyUrl: params['notify_url'] || undefined, returnUrl: params['return_url'] || undefined, baseUrl: baseUrl(request) } };
  };

  const handleV2 = async (request: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const params = flatParams(request);
    const method = params['method'] ?? '';
    // The protocol's trace id is the request id the logs and problem documents carry.
    void reply.header('trace_id', request.id);
    const appId = params['app_id'];
    const live = appId === undefined || appId === '' ? undefined : await apps.get(appId);
    let node: Record<string, unknown>;
    if (method === '') {
      metering.record(params['app_id'] ?? '', '(none)', '40001', performance.now() - started);
      return reply.code(200).type('application/json;charset=utf-8').send(JSON.stringify({ error_response: { code: '40001', msg: resultMessages['40001'], sub_code: 'isv.missing-method', sub_msg: '缺少方法名参数' } }));
    }
    try {
      const checked = v2(params, live, request);
      if (!metering.admit(checked.app.row.app_id, checked.app.row.rate_per_second)) throw new GatewayError('20000', 'aop.rate-limit', `this app is limited to ${String(checked.app.row.rate_per_second)} calls a second; retry shortly`);
      const handler = methods.get(method);
      if (handler === undefined) throw new GatewayError('40002', 'isv.invalid-method', '不存在的方法名');
      const result = await handler(checked.call);
      if ('html' in result && typeof result.html === 'string') {
        metering.record(checked.app.row.app_id, method, '10000', performance.now() - started);
        return await reply.code(200).type('text/html; charset=utf-8').send(result.html);
      }
      node = { code: '10000', msg: 'Success', ...result };
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      if (pageMethods.has(method)) {
        metering.record(live?.row.app_id ?? params['app_id'] ?? '', method, error.code, performance.now() - started);
        return reply.code(400).type('text/html; charset=utf-8').send(`<!doctype html><meta charset="utf-8"><title>支付错误</title><h1>${escapeHtml(error.code)} ${escapeHtml(error.subCode)}</h1><p>${escapeHtml(error.subMsg)}</p>`);
      }
      node = error.code === '10003' ? { code: '10003', msg: resultMessages['10003'], ...error.echo } : { code: error.code, msg: resultMessages[error.code] ?? 'Business Failed', sub_code: error.subCode, sub_msg: error.subMsg, ...error.echo };
    }
    metering.record(live?.row.app_id ?? params['app_id'] ?? '', method, String(node['code']), performance.now() - started);
    return reply.code(200).type('application/json;charset=utf-8').send(v2Envelope(method, node, live?.platformKey));
  };

  void app.register((scope, _options, next) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
      done(null, body);
    });
    scope.post('/gateway.do', { schema: { hide: true } }, handleV2);
    scope.get('/gateway.do', { schema: { hide: true } }, handleV2);
    next();
  });

  // ---- v3

  const v3Error = (reply: FastifyReply, status: number, code: string, message: string, trace: string) =>
    reply.code(status).header('alipay-trace-id', trace).type('application/json; charset=utf-8').send(JSON.stringify({ code, message }));

  const handleV3 = async (request: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const trace = request.id;
    const path = request.url.split('?')[0] ?? '';
    const method = path.slice('/v3/'.length).replaceAll('/', '.');
    const auth = parseV3Authorization(request.headers.authorization ?? '');
    if (auth === undefined) return v3Error(reply, 401, 'missing-signature', 'Authorization: ALIPAY-SHA256withRSA … is required', trace);
    const appId = auth.fields['app_id'] ?? '';
    const live = await apps.get(appId);
    const done = (status: string) => {
      metering.record(appId, method, status, performance.now() - started);
    };
    if (live === undefined) {
      done('invalid-app-id');
      return v3Error(reply, 401, 'invalid-app-id', `no app ${appId}`, trace);
    }
    const sentMs = Number(auth.fields['timestamp']);
    const windowMs = auth.fields['expired_seconds'] === undefined ? 600_000 : Number(auth.fields['expired_seconds']) * 1000;
    if (!Number.isFinite(sentMs) || Math.abs(options.clock.nowMs() - sentMs) > windowMs) {
      done('invalid-timestamp');
      return v3Error(reply, 401, 'invalid-timestamp', 'timestamp is not within the window', trace);
    }
    const raw = typeof request.body === 'string' ? request.body : '';
    const token = request.headers['alipay-app-auth-token'];
    const signContent = v3RequestContent({ authString: auth.authString, method: request.method, target: request.url, body: raw, appAuthToken: typeof token === 'string' ? token : undefined });
    if (!verifyText(signContent, auth.sign, live.appKey)) {
      done('invalid-signature');
      return v3Error(reply, 401, 'invalid-signature', `验签出错，验签字符串为：${signContent}`, trace);
    }
    if (typeof token === 'string' && token !== '') {
      done('invalid-app-auth-token');
      return v3Error(reply, 401, 'invalid-app-auth-token', 'app authorisation is not supported', trace);
    }
    const handler = methods.get(method);
    if (handler === undefined || pageMethods.has(method)) {
      done('invalid-method');
      return v3Error(reply, 404, 'invalid-method', '不存在的方法名', trace);
    }
    if (!metering.admit(live.row.app_id, live.row.rate_per_second)) {
      done('rate-limit');
      return v3Error(reply, 429, 'rate-limit', `this app is limited to ${String(live.row.rate_per_second)} calls a second`, trace);
    }
    let biz: Biz;
    try {
      const parsed: unknown = raw === '' ? {} : JSON.parse(raw);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      biz = parsed as Biz;
    } catch {
      done('INVALID_PARAMETER');
      return v3Error(reply, 400, 'INVALID_PARAMETER', 'the body is not a JSON object', trace);
    }
    const notify = typeof biz['notify_url'] === 'string' && biz['notify_url'] !== '' ? biz['notify_url'] : undefined;
    if (notify !== undefined && !notifyAllowed(live, notify)) {
      done('INVALID_PARAMETER');
      return v3Error(reply, 400, 'INVALID_PARAMETER', `notify_url ${notify} is not one this app registered`, trace);
    }
    try {
      const result = await handler({ app: live, method, biz, notifyUrl: notify, returnUrl: undefined, baseUrl: baseUrl(request) });
      const body = JSON.stringify(result);
      const timestamp = String(options.clock.nowMs());
      const nonce = randomBytes(16).toString('hex');
      done('10000');
      return await reply
        .code(200)
        .headers({ 'alipay-timestamp': timestamp, 'alipay-nonce': nonce, 'alipay-signature': signText(v3ResponseContent(timestamp, nonce, body), live.platformKey), 'alipay-trace-id': trace })
        .type('application/json; charset=utf-8')
        .send(body);
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      done(error.subCode || error.code);
      if (error.code === '10003') return reply.code(202).header('alipay-trace-id', trace).type('application/json; charset=utf-8').send(JSON.stringify({ code: 'WAIT_BUYER_PAY', message: 'waiting for the buyer to confirm', ...error.echo }));
      return v3Error(reply, error.code === '20000' ? 503 : error.httpStatus, error.subCode || error.code, error.subMsg, trace);
    }
  };

  void app.register((scope, _options, next) => {
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      done(null, body);
    });
    scope.setErrorHandler((error, request, reply) => v3Error(reply, 500, 'SYSTEM_ERROR', (error instanceof Error ? error.message : String(error)).slice(0, 200), request.id));
    scope.post('/v3/*', { schema: { hide: true } }, handleV3);
    next();
  });
}

/** Notifications go only where the app registered: a registered URL, or one under it. */
function notifyAllowed(app: LiveApp, url: string): boolean {
  return app.row.notify_urls.some((allowed) => url === allowed || url.startsWith(allowed.endsWith('/') ? allowed : `${allowed}/`) || url.startsWith(`${allowed}?`));
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${String(c.charCodeAt(0))};`);
}

