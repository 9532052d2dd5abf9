/**
 * Goal: docs/errors.md lists every registered error code with the status and retryable flag the
 * code actually uses (STYLE.md: "A test fails if a code is missing from docs/errors.md").
 * Method: import every module that registers a catalog — the kernel's, every `src/<module>/errors.ts`,
 * the HTTP layer and the composition root `src/app.ts` when they exist — then compare the registry
 * with the tables in docs/errors.md. Pure: reads files, touches no database.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { allErrorCodes, errorSpec } from '../src/kernel/errors.ts';
import '../src/kernel/money.ts';
import '../src/ledger/errors.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const docPath = path.join(root, 'docs', 'errors.md');

async function listFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).map((name) => path.join(dir, name));
  } catch {
    return [];
  }
}

/** Modules whose import registers error codes; absent ones are skipped, broken ones fail the test. */
async function catalogModules(): Promise<string[]> {
  const src = path.join(root, 'src');
  const modules: string[] = [];
  for (const dir of await listFiles(src)) {
    const errors = path.join(dir, 'errors.ts');
    if ((await listFiles(dir)).includes(errors)) modules.push(errors);
  }
  const http = (await listFiles(path.join(src, 'http'))).filter(
    (file) => file.endsWith('.ts') && !file.endsWith('.test.ts'),
  );
  modules.push(...http);
  if ((await listFiles(src)).includes(path.join(src, 'app.ts')))
    modules.push(path.join(src, 'app.ts'));
  return modules;
}

interface DocRow {
  readonly status: number;
  readonly title: string;
  readonly retryable: boolean;
  readonly when: string;
}

/** Rows look like: | `ledger.overflow` | 422 | Title | no | When it happens. | */
function parseDoc(text: string): Map<string, DocRow> {
  const rows = new Map<string, DocRow>();
  const rowPattern =
    /^\|\s*`([a-z0-9_]+\.[a-z0-9_]+)`\s*\|\s*(\d{3})\s*\|([^|]*)\|\s*(yes|no)\s*\|(.*)\|\s*$/;
  for (const line of text.split('\n')) {
    const match = rowPattern.exec(line);
    if (match === null) continue;
    const [, code = '', status = '', title = '', retryable = '', when = ''] = match;
    assert.ok(!rows.has(code), `docs/errors.md lists ${code} twice`);
    rows.set(code, {
      status: Number(status),
      title: title.trim(),
      retryable: retryable === 'yes',
      when: when.trim(),
    });
  }
  return rows;
}

test('every registered error code is documented with its status and retryable flag', async () => {
  for (const file of await catalogModules()) await import(pathToFileURL(file).href);
  const codes = allErrorCodes();
  assert.ok(
    codes.includes('ledger.insufficient_funds') && codes.includes('money.invalid_amount'),
    'catalogs were loaded',
  );
  const doc = parseDoc(await readFile(docPath, 'utf8'));

  const missing = codes.filter((code) => !doc.has(code));
  assert.deepEqual(missing, [], `add these codes to docs/errors.md: ${missing.join(', ')}`);
  const wrong: string[] = [];
  for (const code of codes) {
    const spec = errorSpec(code);
    const row = doc.get(code);
    if (spec === undefined || row === undefined) continue;
    if (row.status !== spec.status)
      wrong.push(
        `${code}: status ${String(row.status)} in the doc, ${String(spec.status)} in the code`,
      );
    if (row.retryable !== spec.retryable)
      wrong.push(
        `${code}: retryable ${String(row.retryable)} in the doc, ${String(spec.retryable)} in the code`,
      );
    if (row.when.length < 10) wrong.push(`${code}: say when it happens`);
  }
  assert.deepEqual(wrong, [], 'docs/errors.md disagrees with the catalogs');
});

test('every documented code is registered unless marked deprecated', async () => {
  for (const file of await catalogModules()) await import(pathToFileURL(file).href);
  const doc = parseDoc(await readFile(docPath, 'utf8'));
  const registered = new Set(allErrorCodes());
  const stale = [...doc.entries()]
    .filter(([code, row]) => !registered.has(code) && !/deprecated/i.test(row.when))
    .map(([code]) => code);
  assert.deepEqual(
    stale,
    [],
    `docs/errors.md lists codes no module registers (mark them Deprecated or remove them): ${stale.join(', ')}`,
  );
});
