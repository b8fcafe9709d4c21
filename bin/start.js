#!/usr/bin/env node
// `npm start`: installs the dependencies if missing, then serves the browser app with Vite's dev
// server on http://127.0.0.1:5173/ (the next free port if that one is taken).
//   npm start -- --port 8080 --host 0.0.0.0     another port / host (also PORT and HOST env vars)
//   npm start -- train [flags]                  the CLI instead (same as `npm run cli -- train`)
// Plain JavaScript on purpose: it must run before anything is installed.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireSupportedNode } from './node-version.js';

requireSupportedNode('npm start');

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));
const deps = spawnSync(process.execPath, [`${here}ensure-deps.js`], { stdio: 'inherit' });
if (deps.status !== 0) process.exit(deps.status ?? 1);

const args = process.argv.slice(2);
// Keep in step with COMMANDS of cli/args.ts (plain JS here: no TypeScript loader yet).
const CLI_COMMANDS = new Set(['train', 'sweep', 'ablate', 'info', 'inspect', 'help', '--help', '-h']);
if (args.length && CLI_COMMANDS.has(args[0])) {
  const r = spawnSync(process.execPath, [`${here}mfmb.js`, ...args], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

function option(name, envName, fallback) {
  const i = args.indexOf(name);
  if (i >= 0 && i + 1 < args.length) return args[i + 1];
  return process.env[envName] || fallback;
}
const host = option('--host', 'HOST', '127.0.0.1');
const port = Number(option('--port', 'PORT', '5173'));
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`bad port "${option('--port', 'PORT', '5173')}"`);
  process.exit(2);
}

const { createServer } = await import('vite');
const server = await createServer({ root, server: { host, port, strictPort: false } });
await server.listen();
const url = server.resolvedUrls?.local[0] ?? server.resolvedUrls?.network[0] ?? `http://${host}:${port}/`;
console.log('');
console.log(`  MFMB Playground running at ${url}`);
console.log('');
console.log('  Open it in Chrome/Chromium (WebGPU) or any modern browser (WebGL / wasm fallback).');
console.log('  Ctrl-C stops the server. The command-line trainer: npm run cli -- --help');
console.log('');

let closing = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    if (closing) process.exit(130);
    closing = true;
    await server.close().catch(() => {});
    process.exit(0);
  });
}
