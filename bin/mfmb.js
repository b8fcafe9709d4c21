#!/usr/bin/env node
// The `mfmb` command. Runs the bundled CLI in dist-cli/ (built by `npm install` / `npm ci` through
// the "prepare" script, see bin/build-cli.js). When a source under cli/ or src/core/ is newer than
// the bundle (or there is none yet), it rebuilds it first (esbuild, well under a second); without
// esbuild it runs the TypeScript through tsx; MFMB_CLI_SOURCE=1 forces that (debugging).
// Plain JavaScript: the Node version is checked before anything else is loaded.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { requireSupportedNode } from './node-version.js';

requireSupportedNode('mfmb');

const cli = await import('./build-cli.js');

async function fromSource() {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write(
      `mfmb: the command line is not built and tsx is not installed; run \`npm install\` in ${cli.root}\n`,
    );
    process.exit(1);
  }
  register();
  await import('../cli/mfmb.ts');
}

if (process.env.MFMB_CLI_SOURCE === '1') {
  await fromSource();
} else {
  const state = cli.bundleState();
  if (state && cli.canBuild()) {
    try {
      await cli.buildCli();
    } catch (e) {
      const fsError = ['EACCES', 'EPERM', 'EROFS'].includes(e && e.code);
      if (!(fsError && existsSync(cli.entryFile))) {
        process.stderr.write(`mfmb: the command line does not build:\n${cli.buildErrorText(e)}\n`);
        process.exit(1);
      }
      // A read-only install: run the bundle that is there.
    }
  } else if (state === 'stale') {
    process.stderr.write(
      'mfmb: note: dist-cli/ is older than the sources and esbuild is not installed to rebuild it\n',
    );
  }
  if (existsSync(cli.entryFile)) await import(pathToFileURL(cli.entryFile).href);
  else await fromSource();
}
