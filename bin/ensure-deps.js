#!/usr/bin/env node
// Installs the dependencies when a fresh clone has none yet, so `npm start` and `npm test` work
// by themselves. Plain JavaScript on purpose: it must run before anything is installed.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireSupportedNode } from './node-version.js';

requireSupportedNode('mfmb-playground');

const root = fileURLToPath(new URL('..', import.meta.url));
const needed = [
  'tsx',
  'vitest',
  'vite',
  '@vitejs/plugin-react',
  'react',
  'playwright-core',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgl',
  '@tensorflow/tfjs-backend-webgpu',
];
const missing = needed.filter((p) => !existsSync(`${root}/node_modules/${p}/package.json`));
if (missing.length) {
  console.error(`installing dependencies (missing: ${missing.join(', ')}) ...`);
  const lock = existsSync(`${root}/package-lock.json`);
  const r = spawnSync('npm', [lock ? 'ci' : 'install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
