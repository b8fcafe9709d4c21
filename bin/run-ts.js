#!/usr/bin/env node
// Runs a TypeScript entry point (bench, scripts, e2e) through tsx without a build step:
//   node bin/run-ts.js FILE [args]
// Plain JavaScript: the Node version is checked before tsx is loaded.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { requireSupportedNode } from './node-version.js';

requireSupportedNode('run-ts');
const { register } = await import('tsx/esm/api');
register();
const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bin/run-ts.js FILE.ts [args]');
  process.exit(2);
}
process.argv = [process.argv[0], resolve(file), ...rest];
await import(pathToFileURL(resolve(file)).href);
