import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Identity } from '../identity/index.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import { DomainError, registerErrors } from '../kernel/errors.ts';
import type { Random } from '../kernel/random.ts';
import type { Shops } from '../payments/index.ts';
import { newAppId } from './model.ts';
import { privateKeyFrom, publicKeyForms, publicKeyFrom } from './signing.ts';

/**
 * ISV apps: an app id, the app's public key (RSA-2048, SPKI PEM or bare base64), a platform key
 * pair of its own (the private half signs its responses and notifications; the public half is
 * downloadable as SPKI PEM and bare base64, the forms the SDK takes), allowed notify URLs, a rate
 * limit, and the merchant behind it: a shop whose account trades pay into. Apps are read through
 * a cache of parsed keys (they change only by re-registration), since every call verifies and
 * signs with them.
 */
export const openapiErrors = registerErrors('openapi', {
  app_invalid: { status: 422, title: 'The app cannot be registered as it is', retryable: false },
  app_not_found: { status: 404, title: 'No such app', retryable: false },
  trade_not_found: { status: 404, title: 'No such trade', retryable: false },
  trade_not_payable: { status: 409, title: 'This trade cannot be paid now', retryable: false },
  notification_not_found: { status: 404, title: 'No such notification', retryable: false },
});

export interface AppRow {
  app_id: string;
  name: string;
  shop_id: string;
  app_public_key: string;
  platform_private_key: string;
  platform_public_key: string;
  notify_urls: string[];
  rate_per_second: number;
  created_by: string;
  created_at: Date;
  disabled_at: Date | null;
}

export interface LiveApp {
  readonly row: AppRow;
  readonly appKey: KeyObject;
  readonly platformKey: KeyObject;
  readonly shop: { readonly id: string; readonly name: string; readonly accountId: string; readonly ownerUserId: string };
}

const cacheMs = 30_000;

export class Apps {
  private readonly cache = new Map<string, { readonly app: LiveApp | undefined; readonly atMs: number }>();

  constructor(private readonly deps: { readonly sql: Sql; readonly clock: Clock; readonly random: Random; readonly identity: Identity; readonly shops: Shops }) {}

  /** Registers an app for a merchant (the user's shop; opened if the user has none). */
  async create(actor: string, input: { readonly name: string; readonly ownerUserId: string; readonly appPublicKey: string; readonly notifyUrls: readonly string[]; readonly ratePerSecond?: number }): Promise<{ readonly app: AppRow; readonly platformPublicKey: { readonly pem: string; readonly base64: string } }> {
    let appKey: KeyObject;
    try {
      appKey = publicKeyFrom(input.appPublicKey);
    } catch {
      throw new DomainError('openapi.app_invalid', { detail: 'the app public key is not an RSA public key in SPKI PEM or bare base64' });
    }
    if (appKey.asymmetricKeyType !== 'rsa' || (appKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new DomainError('openapi.app_invalid', { detail: 'the app key must be RSA of at least 2048 bits' });
    for (const url of input.notifyUrls) if (!/^https?:\/\/[^\s]+$/.test(url)) throw new DomainError('openapi.app_invalid', { detail: `notify URL ${url} is not an http(s) URL` });
    const owner = await this.deps.identity.getUser(input.ownerUserId);
    if (owner === undefined) throw new DomainError('openapi.app_invalid', { detail: 'no such merchant user' });
    const shop = await this.deps.shops.myShop(owner.id).catch(async () => this.deps.shops.openShop(owner, { name: input.name }).then(() => this.deps.shops.myShop(owner.id)));
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forms = publicKeyForms(publicKey);
    const appId = newAppId(this.deps.random);
    const [row] = await this.deps.sql<AppRow[]>`
      INSERT INTO openapi_apps (app_id, name, shop_id, app_public_key, platform_private_key, platform_public_key, notify_urls, rate_per_second, created_by, created_at)
      VALUES (${appId}, ${input.name}, ${shop.id}, ${publicKeyForms(appKey).pem}, ${privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()}, ${forms.pem},
        ${[...input.notifyUrls]}, ${input.ratePerSecond ?? 200}, ${actor}, ${this.deps.clock.now()})
      RETURNING *`;
    if (row === undefined) throw new Error('the app was not inserted');
    return { app: row, platformPublicKey: forms };
  }

  /** A live app with its parsed keys and merchant, from the cache when fresh. */
  async get(appId: string): Promise<LiveApp | undefined> {
    const held = this.cache.get(appId);
    const now = this.deps.clock.nowMs();
    if (held !== undefined && now - held.atMs < cacheMs) return held.app;
    const [row] = await this.deps.sql<(AppRow & { shop_name: string; account_id: string; owner_user_id: string })[]>`
      SELECT a.*, s.name AS shop_name, s.account_id, s.owner_user_id FROM openapi_apps a JOIN payments_shops s ON s.id = a.shop_id
      WHERE a.app_id = ${appId} AND a.disabled_at IS NULL`;
    const app = row === undefined ? undefined : { row, appKey: publicKeyFrom(row.app_public_key), platformKey: privateKeyFrom(row.platform_private_key), shop: { id: row.shop_id, name: row.shop_name, accountId: row.account_id, ownerUserId: row.owner_user_id } };
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(appId, { app, atMs: now });
    return app;
  }

  async require(appId: string): Promise<LiveApp> {
    const app = await this.get(appId);
    if (app === undefined) throw new DomainError('openapi.app_not_found', { detail: `no app ${appId}` });
    return app;
  }

  /** Remembers which wallet user an Alipay-style buyer id names (it is a one-way hash). */
  async rememberBuyer(buyerId: string, userId: string): Promise<void> {
    await this.deps.sql`INSERT INTO openapi_buyers (buyer_id, user_id) VALUES (${buyerId}, ${userId}) ON CONFLICT DO NOTHING`;
  }

  list(): Promise<AppRow[]> {
    return this.deps.sql<AppRow[]>`SELECT * FROM openapi_apps ORDER BY created_at DESC LIMIT 500`;
  }
}
