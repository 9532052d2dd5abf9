import { CommanderError } from 'commander';
import { DomainError } from './kernel/errors.ts';
import { currencies, formatMinor, int64Max, isCurrency, parseMajor } from './kernel/money.ts';
import type {
  Account,
  CreateAccountInput,
  ReconcileReport,
  StatementLine,
  SubmitResult,
  TransferRequest,
  VerifyReport,
} from './ledger/index.ts';

/**
 * The operator CLI's pure parts: command-line flags → ledger requests (yuan strings to fen, bad
 * input to a UsageError), the reports an operator reads, and exit codes. No I/O here, so all of it
 * is tested without a database or a process; src/cli.ts wires it to commander and PostgreSQL.
 */

export const exitCodes = { ok: 0, failed: 1, usage: 2 } as const;

/** A misused command: wrong flags or values. Exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

// ---------------------------------------------------------------------------------------------
// Arguments → requests

const digitsPattern = /^[0-9]{1,16}$/;
const seqPattern = /^[1-9][0-9]{0,18}$/;
export const shardCountMax = 256;
export const statementLimitDefault = 20;

export function parseIntegerOption(flag: string, text: string, min: number, max: number): number {
  const value = digitsPattern.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(
      `${flag} must be a whole number from ${String(min)} to ${String(max)}, got "${text}"`,
    );
  }
  return value;
}

/** Yuan on the command line (`12.34`), fen inside. */
export function parseAmountOption(flag: string, text: string): bigint {
  try {
    return parseMajor(text);
  } catch (error) {
    if (error instanceof DomainError) throw new UsageError(`${flag}: ${error.message}`);
    throw error;
  }
}

export function parseSeqOption(flag: string, text: string): bigint {
  const value = seqPattern.test(text) ? BigInt(text) : 0n;
  if (value < 1n || value > int64Max)
    throw new UsageError(`${flag} must be a journal seq (a positive whole number), got "${text}"`);
  return value;
}

function parseCurrencyOption(text: string): string {
  if (!isCurrency(text))
    throw new UsageError(`--currency must be one of ${currencies.join(', ')}, got "${text}"`);
  return text;
}

export interface AccountCreateOptions {
  readonly currency: string;
  readonly code: string;
  readonly owner?: string;
  /** commander's `--no-overdraft`: false when given. */
  readonly overdraft: boolean;
  readonly overdraftLimit?: string;
  readonly shards?: string;
  readonly id?: string;
}

export function accountInputFromOptions(options: AccountCreateOptions): CreateAccountInput {
  const noOverdraft = !options.overdraft;
  if (options.overdraftLimit !== undefined && !noOverdraft) {
    throw new UsageError(
      '--overdraft-limit applies to an account that cannot overdraw: add --no-overdraft',
    );
  }
  return {
    currency: parseCurrencyOption(options.currency),
    code: options.code,
    noOverdraft,
    ...(options.id === undefined ? {} : { id: options.id }),
    ...(options.owner === undefined ? {} : { ownerId: options.owner }),
    ...(options.overdraftLimit === undefined
      ? {}
      : { overdraftLimitMinor: parseAmountOption('--overdraft-limit', options.overdraftLimit) }),
    ...(options.shards === undefined
      ? {}
      : { shardCount: parseIntegerOption('--shards', options.shards, 1, shardCountMax) }),
  };
}

export interface TransferOptions {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly amount: string;
  readonly kind: string;
  readonly currency: string;
  readonly pending?: boolean;
  readonly timeout?: string;
}

export function transferRequestFromOptions(options: TransferOptions): TransferRequest {
  const pending = options.pending === true;
  if (options.timeout !== undefined && !pending) {
    throw new UsageError('--timeout applies to a hold: add --pending');
  }
  return {
    id: options.id,
    type: pending ? 'pending' : 'posted',
    debitAccountId: options.from,
    creditAccountId: options.to,
    amountMinor: parseAmountOption('--amount', options.amount),
    currency: parseCurrencyOption(options.currency),
    kind: options.kind,
    ...(options.timeout === undefined
      ? {}
      : {
          timeoutSeconds: parseIntegerOption(
            '--timeout',
            options.timeout,
            1,
            Number.MAX_SAFE_INTEGER,
          ),
        }),
  };
}

export function resolutionRequestFromOptions(
  type: 'post' | 'void',
  pendingId: string,
  options: { readonly id: string; readonly amount?: string },
): TransferRequest {
  if (type === 'void' && options.amount !== undefined) {
    throw new UsageError('a void releases the whole hold: --amount applies to post only');
  }
  return {
    id: options.id,
    type,
    pendingId,
    ...(options.amount === undefined
      ? {}
      : { amountMinor: parseAmountOption('--amount', options.amount) }),
  };
}

/** `<dataDir>/pg/postmaster.pid`: line 1 is the server's pid, line 4 its port. */
export function parsePostmasterPid(text: string): { pid: number; port: number } | undefined {
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (
    !Number.isSafeInteger(pid) ||
    pid <= 0 ||
    !Number.isSafeInteger(port) ||
    port <= 0 ||
    port > 65535
  ) {
    return undefined;
  }
  return { pid, port };
}

// ---------------------------------------------------------------------------------------------
// Formatting

/** JSON with bigints as digit strings, the API's money form. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item),
    2,
  );
}

/** A plain-text table; columns listed in `right` are right-aligned (amounts). */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  right: readonly number[] = [],
): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? cell.length;
        return right.includes(column) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join(
    '\n',
  );
}

export function formatReconcileReport(report: ReconcileReport): string {
  const parts = [
    `reconcile: ${String(report.accounts)} account rows, ${String(report.transfers)} transfers in the journal`,
    '',
  ];
  const currencyRows = report.currencies.map((row) => [
    row.currency,
    formatMinor(row.postedSumMinor),
    formatMinor(row.pendingDebitsMinor),
    formatMinor(row.pendingCreditsMinor),
  ]);
  parts.push(
    formatTable(
      ['currency', 'posted sum (yuan)', 'pending debits (yuan)', 'pending credits (yuan)'],
      currencyRows,
      [1, 2, 3],
    ),
  );
  if (report.currencies.length === 0) parts.push('(no accounts yet)');
  parts.push('');
  if (report.problems.length === 0) {
    parts.push(
      'reconcile OK: every currency sums to zero and every book equals its journal entries',
    );
    return parts.join('\n');
  }
  const problemRows = report.problems.map((problem) => [
    problem.check,
    problem.subject,
    problem.expected,
    problem.actual,
  ]);
  parts.push(formatTable(['check', 'subject', 'expected', 'actual'], problemRows));
  parts.push('');
  parts.push(
    `reconcile FAILED: ${String(report.problems.length)} problem${report.problems.length === 1 ? '' : 's'} (amounts in minor units)`,
  );
  return parts.join('\n');
}

export function formatVerifyReport(report: VerifyReport, durationMs: number): string {
  const seconds = (durationMs / 1000).toFixed(1);
  if (report.brokenAt === null) {
    return `chain OK: ${String(report.checked)} links verified up to head seq ${report.headSeq.toString()} in ${seconds} s`;
  }
  const broken = report.brokenAt;
  return [
    `chain BROKEN at seq ${broken.seq.toString()}, transfer ${broken.transferId}: ${broken.reason}`,
    `${String(report.checked)} links verified before it; head seq ${report.headSeq.toString()}; ${seconds} s`,
  ].join('\n');
}

export function formatVerifyProgress(checked: number, headSeq: bigint): string {
  const total = Number(headSeq);
  const percent = total > 0 ? Math.min(100, Math.floor((checked * 100) / total)) : 100;
  return `verify: ${String(checked)} of ${headSeq.toString()} links (${String(percent)}%)`;
}

function overdraftText(account: Account): string {
  if (!account.noOverdraft) return 'allowed (no limit)';
  if (account.overdraftLimitMinor === 0n) return 'not allowed';
  return `up to ${formatMinor(account.overdraftLimitMinor)}`;
}

export function formatAccount(account: Account): string {
  const money = (minor: bigint): string => `${formatMinor(minor)} ${account.currency}`;
  const rows: [string, string][] = [
    ['account', account.id],
    ['code', account.code],
    ['owner', account.ownerId ?? '-'],
    ['overdraft', overdraftText(account)],
    ['shards', String(account.shardCount)],
    ['balance', money(account.balanceMinor)],
    ['available', money(account.availableMinor)],
    [
      'posted',
      `debits ${formatMinor(account.debitsPostedMinor)}, credits ${formatMinor(account.creditsPostedMinor)}`,
    ],
    [
      'pending',
      `debits ${formatMinor(account.debitsPendingMinor)}, credits ${formatMinor(account.creditsPendingMinor)}`,
    ],
    ['created', account.createdAt.toISOString()],
  ];
  if (Object.keys(account.metadata).length > 0)
    rows.push(['metadata', JSON.stringify(account.metadata)]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

export function formatStatement(
  accountId: string,
  page: { readonly lines: readonly StatementLine[]; readonly nextBeforeSeq: bigint | null },
): string {
  const hasShards = page.lines.some((line) => line.shardNo !== null);
  const headers = [
    'seq',
    'time',
    'transfer',
    'type',
    'kind',
    'amount',
    'balance',
    'counterparty',
    ...(hasShards ? ['shard'] : []),
  ];
  const rows = page.lines.map((line) => [
    line.seq.toString(),
    line.createdAt.toISOString(),
    line.transferId,
    line.type,
    line.kind,
    `${line.side === 'C' ? '+' : '-'}${formatMinor(line.amountMinor)}`,
    formatMinor(line.balanceAfterMinor),
    line.counterpartyAccountId,
    ...(hasShards ? [line.shardNo === null ? '-' : String(line.shardNo)] : []),
  ]);
  const parts = [
    `statement of ${accountId}, newest first (yuan)`,
    formatTable(headers, rows, [0, 5, 6]),
  ];
  if (page.lines.length === 0) parts.push('(no posted movements)');
  parts.push(
    page.nextBeforeSeq === null
      ? 'end of statement'
      : `more: qianbao ledger statement ${accountId} --cursor ${page.nextBeforeSeq.toString()}`,
  );
  return parts.join('\n');
}

export function formatTransferResult(result: SubmitResult): string {
  if (result.status === 'failed')
    return `transfer ${result.id} failed: ${result.error}: ${result.detail}`;
  const transfer = result.transfer;
  const verb =
    result.status === 'created' ? 'created' : 'exists (already applied with these fields)';
  const lines = [
    `transfer ${transfer.id} ${verb}: seq ${transfer.seq.toString()}`,
    `  ${transfer.type} ${formatMinor(transfer.amountMinor)} ${transfer.currency} from ${transfer.debitAccountId} to ${transfer.creditAccountId}, kind ${transfer.kind}`,
  ];
  if (transfer.pendingId !== null) lines.push(`  resolves hold ${transfer.pendingId}`);
  if (transfer.timeoutAtMs !== null)
    lines.push(`  expires at ${new Date(transfer.timeoutAtMs).toISOString()}`);
  return lines.join('\n');
}

/** How a failure maps to an exit code: bad input is a usage error, anything else a failure. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
  if (error instanceof UsageError) return exitCodes.usage;
  if (error instanceof DomainError)
    return error.spec.status === 400 ? exitCodes.usage : exitCodes.failed;
  return exitCodes.failed;
}

export function errorMessage(error: unknown): string {
  if (error instanceof DomainError) return `${error.code}: ${error.message}`;
  if (typeof error === 'object' && error !== null && 'code' in error && error.code === '42P01') {
    return 'the database has no ledger tables: run `qianbao migrate` first';
  }
  return error instanceof Error ? error.message : String(error);
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable URL)';
  }
}
