/**
 * Goal: keep banned patterns out of the code, naming what to use instead, and keep files short
 * enough to read (STYLE.md "Tooling").
 * Method: read every .ts file under src/ and check it line by line. The code rules (parseFloat,
 * Math.random, Date.now) skip comments — a comment may say what the code must not do — and skip
 * tests and src/testing/, which may use real time and randomness around the code under test.
 * The merge-blocking marker and `.only(` are checked everywhere under src/ and test/, tests included, because a
 * focused test silently skips the rest of a file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fileLinesMax = 600;
const thisFile = 'test/tidy.test.ts';

interface Rule {
  readonly pattern: RegExp;
  readonly instead: string;
  /** Code rules look at code only, in non-test files outside src/testing/. */
  readonly codeOnly: boolean;
  readonly allowedIn?: readonly string[];
}

const rules: readonly Rule[] = [
  {
    pattern: /\bparseFloat\b/,
    instead: 'use parseMajor (money) or an integer parser: never a float',
    codeOnly: true,
  },
  {
    pattern: /\bMath\.random\b/,
    instead: 'use an injected Random (cryptoRandom; SeededRandom in tests)',
    codeOnly: true,
  },
  {
    pattern: /\bDate\.now\(/,
    instead: 'use an injected Clock (clock.nowMs())',
    codeOnly: true,
    allowedIn: ['src/kernel/clock.ts'],
  },
  {
    // Spelled in two parts so that this file does not contain the marker it bans.
    pattern: new RegExp('\\bFIX' + 'ME\\b'),
    instead: 'fix it before merging, or write TODO(name): with a reason',
    codeOnly: false,
  },
  {
    pattern: /\.only\(/,
    instead: 'drop .only: a focused test skips the rest (use --test-name-pattern locally)',
    codeOnly: false,
  },
];

async function tsFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await tsFiles(full)));
    else if (entry.name.endsWith('.ts')) found.push(full);
  }
  return found.sort();
}

/**
 * Blanks comments (keeping line breaks) so code rules do not match prose. Strings and template
 * literals are skipped as they are, so `'postgres://…'` is not mistaken for a comment.
 */
export function stripComments(source: string): string {
  let out = '';
  let index = 0;
  while (index < source.length) {
    const char = source[index] ?? '';
    const next = source[index + 1] ?? '';
    if (char === '/' && next === '/') {
      while (index < source.length && source[index] !== '\n') index++;
    } else if (char === '/' && next === '*') {
      const end = source.indexOf('*/', index + 2);
      const stop = end === -1 ? source.length : end + 2;
      out += source.slice(index, stop).replace(/[^\n]/g, ' ');
      index = stop;
    } else if (char === "'" || char === '"' || char === '`') {
      let end = index + 1;
      while (end < source.length && source[end] !== char) end += source[end] === '\\' ? 2 : 1;
      out += source.slice(index, end + 1);
      index = end + 1;
    } else {
      out += char;
      index++;
    }
  }
  return out;
}

function isTestOrHarness(relative: string): boolean {
  return relative.endsWith('.test.ts') || relative.startsWith('src/testing/');
}

test('stripComments keeps code and strings, blanks comments', () => {
  const source = "const a = 'x // y'; // Math.random()\n/* Date.now() */ b();";
  assert.equal(stripComments(source), "const a = 'x // y'; \n                 b();");
});

test('no banned patterns in src/ and test/', async () => {
  const files = [
    ...(await tsFiles(path.join(root, 'src'))),
    ...(await tsFiles(path.join(root, 'test'))),
  ];
  assert.ok(files.length > 0, 'found sources');
  const found: string[] = [];
  for (const file of files) {
    const relative = path.relative(root, file).split(path.sep).join('/');
    if (relative === thisFile) continue;
    const source = await readFile(file, 'utf8');
    const lines = source.split('\n');
    const codeLines = stripComments(source).split('\n');
    for (const rule of rules) {
      if (rule.allowedIn?.includes(relative) === true) continue;
      if (rule.codeOnly && (isTestOrHarness(relative) || !relative.startsWith('src/'))) continue;
      const checked = rule.codeOnly ? codeLines : lines;
      checked.forEach((line, index) => {
        if (rule.pattern.test(line)) {
          found.push(
            `${relative}:${String(index + 1)}: ${rule.pattern.source} — ${rule.instead}\n    ${(lines[index] ?? '').trim()}`,
          );
        }
      });
    }
  }
  assert.deepEqual(found, [], `banned patterns:\n${found.join('\n')}`);
});

test(`no .ts file in src/ is longer than ${String(fileLinesMax)} lines`, async () => {
  const long: string[] = [];
  for (const file of await tsFiles(path.join(root, 'src'))) {
    const text = await readFile(file, 'utf8');
    const lineCount = text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
    if (lineCount > fileLinesMax) {
      long.push(
        `${path.relative(root, file)}: ${String(lineCount)} lines — split it by responsibility`,
      );
    }
  }
  assert.deepEqual(long, [], `files over ${String(fileLinesMax)} lines:\n${long.join('\n')}`);
});
