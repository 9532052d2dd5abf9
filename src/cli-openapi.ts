import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { App } from './app.ts';
import { appJson } from './openapi/routes.ts';

/**
 * `qianbao openapi app create|list`: register ISV apps from the command line, as the console does.
 * `create` prints the app id and the platform public key (SPKI PEM and bare base64) the ISV
 * configures as `alipayPublicKey`.
 */
export interface OpenapiCliDeps {
  readonly io: { out(text: string): void; err(text: string): void };
  withApp(command: Command, run: (app: App) => Promise<number>): Promise<void>;
}

export function addOpenapiCommands(program: Command, deps: OpenapiCliDeps): void {
  const openapi = program.command('openapi').description('the open platform: ISV apps');
  const app = openapi.command('app').description('ISV apps');
  app
    .command('create')
    .description('register an app for a merchant (its shop is opened if it has none)')
    .requiredOption('--name <name>', 'the app name buyers see')
    .requiredOption('--owner-mobile <mobile>', 'the merchant user (by mobile number)')
    .requiredOption('--public-key <file>', "the app's RSA-2048 public key: SPKI PEM or bare base64, in a file")
    .option('--notify-url <url...>', 'allowed notify URLs')
    .option('--rate <perSecond>', 'calls per second', '200')
    .action(async (options: { name: string; ownerMobile: string; publicKey: string; notifyUrl?: string[]; rate: string }, command: Command) => {
      const key = await readFile(options.publicKey, 'utf8');
      await deps.withApp(command, async (qianbao) => {
        const owner = await qianbao.identity.findByMobile(options.ownerMobile);
        if (owner === undefined) {
          deps.io.err(`no user has the mobile number ${options.ownerMobile}\n`);
          return 1;
        }
        const created = await qianbao.openapi.apps.create('cli', { name: options.name, ownerUserId: owner.id, appPublicKey: key, notifyUrls: options.notifyUrl ?? [], ratePerSecond: Number(options.rate) });
        deps.io.out(`${JSON.stringify(appJson(created.app), null, 2)}\n`);
        return 0;
      });
    });
  app
    .command('list')
    .description('registered apps')
    .action(async (_options: unknown, command: Command) => {
      await deps.withApp(command, async (qianbao) => {
        for (const row of await qianbao.openapi.apps.list()) deps.io.out(`${row.app_id}  ${row.name}  shop ${row.shop_id}  ${String(row.rate_per_second)}/s\n`);
        return 0;
      });
    });
}
