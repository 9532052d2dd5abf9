import { access } from 'node:fs/promises';
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

/**
 * `npm start` (and the browser tests) on a fresh clone have no bundle yet: build it once with
 * Vite's API (a few seconds). A failed build is reported and the API still starts.
 */
export async function buildWebIfMissing(log: (line: string) => void): Promise<boolean> {
  if (await isWebBuilt()) return true;
  log('building the web app (web/dist is missing)…');
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
  return true;
}
