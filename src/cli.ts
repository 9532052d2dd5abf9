import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { buildApp } from './app.ts';
import { addOpenapiCommands } from './cli-openapi.ts';
import { systemClock } from './kernel/clock.ts';
import { loadConfig, type Config } from './kernel/config.ts';
import { connect, ensureSchema, migrate, type Sql } from './kernel/db.ts';
import { createIdGenerator } from './kernel/ids.ts';
import { isProcessAlive } from './kernel/process.ts';
import { cryptoRandom } from './kernel/random.ts';
import {
  Ledger,
  statementPageSizeMax,
  verifyChain,
  type TransferRequest,
} from './ledger/index.ts';
import { reconcileAll } from './payments/index.ts';
import {
  UsageError,
  accountInputFromOptions,
  errorMessage,
  exitCodeFor,
  exitCodes,
  formatAccount,
  formatReconcileReport,
  formatStatement,
  formatTransferResult,
  formatVerifyProgress,
  formatVerifyReport,
  parseIntegerOption,
  parsePostmasterPid,
  parseSeqOption,
  redactUrl,
  resolutionRequestFromOptions,
  shardCountMax,
  statementLimitDefault,
  toJson,
  transferRequestFromOptions,
  type AccountCreateOptions,
  type TransferOptions,
} from './cli-model.ts';

/**
 * `qianbao`, the operator CLI. The argument → request mapping and the report formatting are pure
 * functions in cli-model.ts (tested without a database); `main` wires them to commander and
 * PostgreSQL, and bin/qianbao.js runs `main`.
 * Exit codes: 0 ok, 1 an audit found a mismatch or a transfer failed, 2 the command was misused.
 *
 * Database: DATABASE_URL (or --database-url) when set; otherwise the embedded PostgreSQL under
 * QIANBAO_DATA_DIR. Starting the embedded server would stop one already running on that directory
 * (a running `npm start`), so the CLI first looks for a live server there and connects to it, and
 * starts (and at exit stops) its own only when none runs. QIANBAO_DB_SCHEMA works in one schema,
 * as the tests do.
 */

type Env = Readonly<Record<string, string | undefined>>;

export interface Io {
  readonly env: Env;
  out(text: string): void;
  err(text: string): void;
  /** Progress redraws one line on a terminal and prints lines otherwise (CI logs). */
  readonly isErrTty: boolean;
}

// ---------------------------------------------------------------------------------------------
// I/O: the database

interface Database {
  readonly sql: Sql;
  close(): Promise<void>;
}

/** The URL of an embedded PostgreSQL already running on `dataDir`, if one is. */
async function runningEmbeddedUrl(dataDir: string): Promise<string | undefined> {
  let pidText: string;
  try {
    pidText = await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const running = parsePostmasterPid(pidText);
  if (running === undefined || !isProcessAlive(running.pid)) return undefined;
  const saved = JSON.parse(await readFile(path.join(dataDir, 'pg.json'), 'utf8')) as {
    password?: unknown;
  };
  if (typeof saved.password !== 'string')
    throw new Error(`${path.join(dataDir, 'pg.json')} holds no password`);
  return `postgres://postgres:${encodeURIComponent(saved.password)}@127.0.0.1:${String(running.port)}/postgres`;
}

async function openDatabase(
  io: Io,
  config: Config,
  options: { readonly url: string | undefined; readonly isMigrate: boolean },
): Promise<Database> {
  const schema = io.env['QIANBAO_DB_SCHEMA'];
  const hasSchema = schema !== undefined && schema !== '';
  if (hasSchema && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new UsageError(`QIANBAO_DB_SCHEMA must be a lower-case SQL identifier, got "${schema}"`);
  }
  let url = options.url ?? config.databaseUrl;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (url === undefined) {
    const dataDir = path.resolve(config.dataDir);
    url = await runningEmbeddedUrl(dataDir);
    if (url === undefined) {
      io.err(
        `DATABASE_URL is not set and no embedded PostgreSQL runs on ${dataDir}: starting one for this command\n`,
      );
      // Imported only here: the package hooks the process's signals (on SIGINT it stops its
      // servers and exits 130) and its exit, which commands on a remote database do not want.
      const { startEmbeddedPostgres } = await import('./kernel/embedded-postgres.ts');
      const embedded = await startEmbeddedPostgres({ dataDir, log: (line) => { io.err(`${line}\n`); } });
      url = embedded.url;
      stopEmbedded = () => embedded.stop();
    }
  }
  const close = async (sql?: Sql): Promise<void> => {
    try {
      await sql?.end({ timeout: 5 });
    } finally {
      await stopEmbedded?.();
    }
  };
  let sql: Sql | undefined;
  try {
    if (hasSchema && options.isMigrate) await ensureSchema(url, schema);
    sql = connect({ url, poolSize: 4, ...(hasSchema ? { schema } : {}) });
    await sql`SELECT 1`;
  } catch (error) {
    await close(sql);
    throw new Error(`cannot use the PostgreSQL at ${redactUrl(url)}: ${errorMessage(error)}`);
  }
  const opened = sql;
  return { sql: opened, close: () => close(opened) };
}

// ---------------------------------------------------------------------------------------------
// Commands

interface Context {
  readonly io: Io;
  setExitCode(code: number): void;
}

interface Session {
  readonly sql: Sql;
  readonly config: Config;
  /** Created on first use; closed with the session. */
  ledger(): Ledger;
}

function loadCliConfig(env: Env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

async function withSession(
  context: Context,
  command: Command,
  run: (session: Session) => Promise<number>,
  options: { readonly isMigrate?: boolean } = {},
): Promise<void> {
  const globals = command.optsWithGlobals<{ databaseUrl?: string }>();
  const config = loadCliConfig(context.io.env);
  const database = await openDatabase(context.io, config, {
    url: globals.databaseUrl,
    isMigrate: options.isMigrate === true,
  });
  let ledger: Ledger | undefined;
  const session: Session = {
    sql: database.sql,
    config,
    ledger: () => {
      ledger ??= new Ledger({
        sql: database.sql,
        clock: systemClock,
        ids: createIdGenerator(systemClock, cryptoRandom),
        config: config.ledger,
      });
      return ledger;
    },
  };
  try {
    context.setExitCode(await run(session));
  } finally {
    try {
      await ledger?.close();
    } finally {
      await database.close();
    }
  }
}

async function runTransfer(
  context: Context,
  session: Session,
  request: TransferRequest,
): Promise<number> {
  const result = await session.ledger().transfer(request);
  if (result.status === 'failed') {
    context.io.err(`${formatTransferResult(result)}\n`);
    return exitCodes.failed;
  }
  context.io.out(`${formatTransferResult(result)}\n`);
  return exitCodes.ok;
}

function addLedgerCommands(program: Command, context: Context): void {
  const { io } = context;
  const ledger = program
    .command('ledger')
    .description('audit the ledger, manage accounts, move money');

  ledger
    .command('verify')
    .description('recompute the hash chain from seq 1 and name the first broken link')
    .action(async (_options: unknown, command: Command) => {
      await withSession(context, command, async ({ sql }) => {
        const started = performance.now();
        const end = io.isErrTty ? '\r' : '\n';
        const report = await verifyChain(sql, (checked, headSeq) => {
          io.err(`${formatVerifyProgress(checked, headSeq)}${end}`);
        });
        if (io.isErrTty) io.err('\n');
        io.out(`${formatVerifyReport(report, performance.now() - started)}\n`);
        return report.ok ? exitCodes.ok : exitCodes.failed;
      });
    });

  ledger
    .command('reconcile')
    .description('check that each currency sums to zero, each book equals its journal entries, and every payment row\'s references exist')
    .option('--json', 'print the report as JSON (amounts as digit strings)')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withSession(context, command, async ({ sql }) => {
        const report = await reconcileAll(sql);
        io.out(`${options.json === true ? toJson(report) : formatReconcileReport(report)}\n`);
        return report.ok ? exitCodes.ok : exitCodes.failed;
      });
    });

  const account = ledger.command('account').description('ledger accounts');
  account
    .command('create')
    .description('create an account (the same --id with the same fields returns the existing one)')
    .requiredOption('--currency <code>', 'currency', 'CNY')
    .requiredOption(
      '--code <code>',
      'what the account is: user.wallet, system.bank, campaign.budget…',
    )
    .option('--owner <id>', 'the owning user or merchant')
    .option('--no-overdraft', 'the balance may not go below zero (or below --overdraft-limit)')
    .option(
      '--overdraft-limit <yuan>',
      'with --no-overdraft: how far below zero it may go, in yuan',
    )
    .option(
      '--shards <n>',
      `a hot account: spread its money over n books (1–${String(shardCountMax)})`,
    )
    .option('--id <id>', 'the account id (default: a new acct_… id)')
    .action(async (options: AccountCreateOptions, command: Command) => {
      const input = accountInputFromOptions(options);
      await withSession(context, command, async (session) => {
        const created = await session.ledger().createAccount(input);
        io.out(`${formatAccount(created)}\n`);
        return exitCodes.ok;
      });
    });
  account
    .command('show')
    .description('show an account and its balances in yuan')
    .argument('<id>', 'account id')
    .action(async (id: string, _options: unknown, command: Command) => {
      await withSession(context, command, async (session) => {
        const found = await session.ledger().getAccount(id);
        if (found === undefined) {
          io.err(`account ${id} does not exist\n`);
          return exitCodes.failed;
        }
        io.out(`${formatAccount(found)}\n`);
        return exitCodes.ok;
      });
    });

  ledger
    .command('statement')
    .description("an account's posted movements, newest first, with the running balance")
    .argument('<id>', 'account id')
    .option(
      '--limit <n>',
      `lines per page (1–${String(statementPageSizeMax)})`,
      String(statementLimitDefault),
    )
    .option('--cursor <seq>', 'show movements before this seq (from the previous page)')
    .action(async (id: string, options: { limit: string; cursor?: string }, command: Command) => {
      const limit = parseIntegerOption('--limit', options.limit, 1, statementPageSizeMax);
      const beforeSeq =
        options.cursor === undefined ? undefined : parseSeqOption('--cursor', options.cursor);
      await withSession(context, command, async (session) => {
        const page = await session
          .ledger()
          .statement(id, { limit, ...(beforeSeq === undefined ? {} : { beforeSeq }) });
        if (page === undefined) {
          io.err(`account ${id} does not exist\n`);
          return exitCodes.failed;
        }
        io.out(`${formatStatement(id, page)}\n`);
        return exitCodes.ok;
      });
    });

  ledger
    .command('transfer')
    .description('move money now, or place a hold with --pending')
    .requiredOption('--id <id>', 'a client-chosen transfer id; retrying with it is safe')
    .requiredOption('--from <account>', 'the debit account')
    .requiredOption('--to <account>', 'the credit account')
    .requiredOption('--amount <yuan>', 'the amount in yuan, e.g. 12.34')
    .requiredOption('--kind <kind>', 'what the movement is for: topup, p2p, refund…')
    .option('--currency <code>', 'currency', 'CNY')
    .option('--pending', 'place a hold instead of moving money (resolve it with post or void)')
    .option('--timeout <seconds>', 'with --pending: release the hold after this many seconds')
    .action(async (options: TransferOptions, command: Command) => {
      const request = transferRequestFromOptions(options);
      await withSession(context, command, (session) => runTransfer(context, session, request));
    });

  for (const type of ['post', 'void'] as const) {
    const resolve = ledger
      .command(type)
      .description(
        type === 'post'
          ? 'post a hold: move all of it, or --amount of it'
          : 'void a hold: release it',
      )
      .argument('<pendingId>', 'the id of the pending transfer')
      .requiredOption('--id <id>', 'a client-chosen id for this resolution');
    if (type === 'post')
      resolve.option('--amount <yuan>', 'post less than the hold (the rest is released)');
    resolve.action(
      async (pendingId: string, options: { id: string; amount?: string }, command: Command) => {
        const request = resolutionRequestFromOptions(type, pendingId, options);
        await withSession(context, command, (session) => runTransfer(context, session, request));
      },
    );
  }

  ledger
    .command('expire')
    .description('run one expiry sweep: release holds whose timeout has passed')
    .action(async (_options: unknown, command: Command) => {
      await withSession(context, command, async (session) => {
        const expired = await session.ledger().expireDue();
        io.out(`expiry sweep: released ${String(expired)} hold${expired === 1 ? '' : 's'}\n`);
        return exitCodes.ok;
      });
    });
}

export function buildProgram(context: Context): Command {
  const { io } = context;
  const program = new Command('qianbao')
    .description('Operate qianbao: database migrations and the ledger.')
    .addOption(
      new Option(
        '--database-url <url>',
        'PostgreSQL URL (default: DATABASE_URL, else the embedded PostgreSQL under QIANBAO_DATA_DIR)',
      ),
    )
    .exitOverride()
    .configureOutput({ writeOut: (text) => { io.out(text); }, writeErr: (text) => { io.err(text); } })
    .showHelpAfterError('(add --help for usage)')
    .allowExcessArguments(false);

  program
    .command('migrate')
    .description('apply the database migrations that are not yet applied')
    .action(async (_options: unknown, command: Command) => {
      await withSession(
        context,
        command,
        async ({ sql }) => {
          const applied = await migrate(sql);
          io.out(
            applied.length === 0
              ? 'migrations: up to date\n'
              : applied.map((name) => `applied ${name}\n`).join(''),
          );
          return exitCodes.ok;
        },
        { isMigrate: true },
      );
    });
  addLedgerCommands(program, context);
  addOpenapiCommands(program, {
    io: context.io,
    withApp: (command, run) =>
      withSession(context, command, async ({ sql, config }) => {
        const app = await buildApp({ config: { ...config, seedDemo: false }, sql, clock: systemClock, random: cryptoRandom });
        try {
          return await run(app);
        } finally {
          await app.close();
        }
      }),
  });
  return program;
}

/** Runs the CLI and returns its exit code; `argv` is `process.argv` (node, script, args…). */
export async function main(argv: readonly string[], io?: Io): Promise<number> {
  const actualIo: Io = io ?? {
    env: process.env,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    isErrTty: process.stderr.isTTY,
  };
  let exitCode: number = exitCodes.ok;
  const program = buildProgram({ io: actualIo, setExitCode: (code) => (exitCode = code) });
  try {
    await program.parseAsync([...argv], { from: 'node' });
    return exitCode;
  } catch (error) {
    // commander has already printed its own usage errors.
    if (!(error instanceof CommanderError)) actualIo.err(`qianbao: ${errorMessage(error)}\n`);
    return exitCodeFor(error);
  }
}
