import { access, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * Serves the built web app (web/dist) at `/`. The app routes on the URL hash, so the server needs
 * no fallback route: `/` is index.html and `/assets/*` are the hashed bundles (cached for a year;
 * index.html is revalidated so a deploy is picked up at once).
 */
export const webDistDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

export async function isWebBuilt(distDir = webDistDir): Promise<boolean> {
  return access(path.join(distDir, 'index.html')).then(
    () => true,
    () => false,
  );
}

const webRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');
const sourceFilesMax = 2000;

/** The newest modification time among the web app's sources (bounded walk). */
async function newestSourceMs(dir: string, budget = { files: sourceFilesMax }): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (budget.files-- <= 0) break;
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? await newestSourceMs(full, budget) : (await stat(full)).mtimeMs);
  }
  return newest;
}

/** Built, and not older than its sources (so a test never runs against a stale bundle). */
async function isWebFresh(): Promise<boolean> {
  if (!(await isWebBuilt())) return false;
  const builtMs = (await stat(path.join(webDistDir, 'index.html'))).mtimeMs;
  return builtMs >= (await newestSourceMs(webRoot));
}

/**
 * `npm start` (and the browser tests) on a fresh clone have no bundle yet: build it once with
 * Vite's API (a few seconds). A failed build is reported and the API still starts.
 */
export async function buildWebIfMissing(log: (line: string) => void): Promise<boolean> {
  if (await isWebFresh()) return true;
  log('building the web app (web/dist is missing or older than web/)…');
  try {
    const { build } = await import('vite');
    await build({ configFile: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../vite.config.ts'), logLevel: 'warn' });
    return await isWebBuilt();
  } catch (error) {
    log(`the web app did not build (${error instanceof Error ? error.message : String(error)}); the API runs without it`);
    return false;
  }
}

export async function registerWebApp(app: FastifyInstance, distDir = webDistDir): Promise<boolean> {
  if (!(await isWebBuilt(distDir))) return false;
  await app.register(fastifyStatic, {
    root: distDir,
    prefix: '/',
    index: 'index.html',
    wildcard: true,
    setHeaders: (response, filePath) => {
      const immutable = filePath.includes(`${path.sep}assets${path.sep}`);
      response.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  // The operator console is the same bundle, chosen by path.
  app.get('/admin', { schema: { hide: true } }, (_request, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html'));
  return true;
}
