/**
 * `npm run bench -- NAME [--quick]`: runs bench/NAME.ts. Each benchmark prints a table of its
 * figures and, as its last line, one line of JSON.
 */
const benches: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  ledger: () => import('./ledger.ts'),
  'http-transfer': () => import('./http-transfer.ts'),
  redpacket: () => import('./redpacket.ts'),
  marketing: () => import('./marketing.ts'),
  openapi: () => import('./openapi.ts'),
};

const [name, ...args] = process.argv.slice(2);
const load = name === undefined ? undefined : benches[name];
if (load === undefined) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [--quick]\n`);
  process.exit(2);
}
const bench = await load();
await bench.run(args);
