#!/usr/bin/env node
// Bundles the command line (cli/mfmb.ts and the parts of src/core it imports) into dist-cli/ with
// esbuild, so `mfmb` starts without a TypeScript loader. Run by `npm install` / `npm ci` (the
// "prepare" script) and by `npm run build:cli`; bin/mfmb.js rebuilds by itself when a source is
// newer than the bundle. dist-cli/ is build output (in .gitignore), never committed.
//
// Layout: dist-cli/mfmb.js (entry) + chunk-HASH.js files (code splitting: tfjs is imported only by
// the chunk of cli/run.ts, which the entry loads with a dynamic import for train/sweep/ablate/info)
// + inputs.json (the sources it was built from, for the staleness check).
// Every npm package stays external (tfjs and its wasm backend find their files in node_modules).
//
// Plain JavaScript on purpose: it runs from package.json scripts before any TypeScript loader.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const outDir = join(root, 'dist-cli');
export const entryFile = join(outDir, 'mfmb.js');
const inputsFile = join(outDir, 'inputs.json');

/**
 * Whether dist-cli/ must be (re)built: 'missing', 'stale' (a source it was built from changed or
 * disappeared since the build started), or null when it is up to date. A few dozen stat calls.
 */
export function bundleState() {
  if (!existsSync(entryFile) || !existsSync(inputsFile)) return 'missing';
  let info;
  try {
    info = JSON.parse(readFileSync(inputsFile, 'utf8'));
  } catch {
    return 'missing';
  }
  for (const rel of info.inputs ?? []) {
    let st;
    try {
      st = statSync(join(root, rel));
    } catch {
      return 'stale';
    }
    if (st.mtimeMs > info.startedAt) return 'stale';
  }
  return null;
}

/** Whether esbuild (a dev dependency) is installed. */
export function canBuild() {
  return existsSync(join(root, 'node_modules', 'esbuild', 'package.json'));
}

/**
 * Builds dist-cli/. `clean`: remove the old folder first (npm's prepare). Otherwise the new files
 * are moved in one by one (chunks first, then the entry, then inputs.json), so a CLI process that
 * starts meanwhile loads either the old bundle or the new one, never half of each.
 */
export async function buildCli({ clean = false } = {}) {
  const esbuild = await import('esbuild');
  const startedAt = Date.now();
  if (clean) rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const tmp = join(outDir, `.build-${process.pid}-${startedAt}`);
  try {
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: { mfmb: 'cli/mfmb.ts' },
      outdir: tmp,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20.19',
      packages: 'external',
      chunkNames: 'chunk-[hash]',
      metafile: true,
      legalComments: 'none',
      logLevel: 'silent',
      banner: { js: '// Built by bin/build-cli.js from cli/ and src/core/: edit those, not this file.' },
    });
    const files = readdirSync(tmp);
    for (const f of files) if (f !== 'mfmb.js') renameSync(join(tmp, f), join(outDir, f));
    const inputs = Object.keys(result.metafile.inputs).filter((p) => !p.startsWith('node_modules/'));
    writeFileSync(join(tmp, 'inputs.json'), JSON.stringify({ startedAt, esbuild: esbuild.version, inputs }, null, 1));
    renameSync(join(tmp, 'mfmb.js'), entryFile);
    renameSync(join(tmp, 'inputs.json'), inputsFile);
    // Chunks of earlier builds that the new entry no longer names; only old ones, so a build that
    // ran at the same time (another process, other sources) keeps the chunks its entry names.
    for (const f of readdirSync(outDir)) {
      if (!/^chunk-.*\.js$/.test(f) || files.includes(f)) continue;
      const p = join(outDir, f);
      try {
        if (clean || statSync(p).mtimeMs < startedAt - 5 * 60_000) rmSync(p, { force: true });
      } catch {
        // removed by another build meanwhile
      }
    }
    return { inputs: inputs.length, files: files.length, ms: Date.now() - startedAt };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** esbuild's error, as the file:line: text lines a user can act on. */
export function buildErrorText(e) {
  const errors = e && Array.isArray(e.errors) ? e.errors : null;
  if (!errors || errors.length === 0) return e instanceof Error ? e.message : String(e);
  return errors
    .slice(0, 5)
    .map((m) => (m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}` : m.text))
    .join('\n');
}

// Run directly (not imported by bin/mfmb.js): argv[1] may be a symbolic link to this file.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!canBuild()) {
    // `npm install --omit=dev` has no esbuild: keep a bundle that is there, else say what to do,
    // without failing the install (bin/mfmb.js says it again when it is run).
    if (!existsSync(entryFile))
      console.error(
        'build-cli: esbuild (a dev dependency) is not installed, so the CLI is not built; `npm install` installs it',
      );
    process.exit(0);
  }
  try {
    const r = await buildCli({ clean: true });
    console.error(`built ${basename(outDir)}/ (${r.files} files from ${r.inputs} sources) in ${r.ms} ms`);
  } catch (e) {
    console.error(`build-cli: the CLI does not build:\n${buildErrorText(e)}`);
    process.exit(1);
  }
}
