#!/usr/bin/env node
// `npm start`: the main job. Until the browser app lands (next issue), that is the CLI's
// `mfmb train` on the defaults (small model, synthetic:small), printing progress and the metrics table.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const deps = spawnSync(process.execPath, [`${here}ensure-deps.js`], { stdio: 'inherit' });
if (deps.status !== 0) process.exit(deps.status ?? 1);
const args = process.argv.slice(2);
const r = spawnSync(process.execPath, [`${here}mfmb.js`, ...(args.length ? args : ['train'])], { stdio: 'inherit' });
process.exit(r.status ?? 1);
