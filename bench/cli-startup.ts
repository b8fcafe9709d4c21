/**
 * `npm run bench:cli`: how long `mfmb --help`, `mfmb inspect FILE` (a small fixture pickle) and
 * `mfmb info` take from process start to exit, for the bundled CLI (dist-cli/, what `mfmb` runs)
 * and for the TypeScript sources through tsx (MFMB_CLI_SOURCE=1, what it ran before the bundle).
 * Prints the median and the fastest of N runs; asserts nothing about speed.
 *
 *   npm run bench:cli [-- --runs 7] [-- --no-source]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const runsAt = argv.indexOf('--runs');
const RUNS = runsAt >= 0 ? Math.max(1, Number(argv[runsAt + 1]) || 5) : 5;
const SOURCE = !argv.includes('--no-source');

const bin = fileURLToPath(new URL('../bin/mfmb.js', import.meta.url));
const fixture = fileURLToPath(
  new URL('../src/core/data/files/__fixtures__/pickle/mmsa_aligned_p4_np1.pkl', import.meta.url),
);

const CASES: { name: string; args: string[] }[] = [
  { name: 'mfmb --help', args: ['--help'] },
  { name: 'mfmb inspect <fixture .pkl>', args: ['inspect', fixture] },
  { name: 'mfmb info (loads tfjs)', args: ['info', '--model', 'tiny', '--data', 'synthetic:tiny'] },
];

function timeOnce(args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`mfmb ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return `median ${(median / 1000).toFixed(2)} s, fastest ${(s[0] / 1000).toFixed(2)} s`;
}

const modes: { label: string; env: NodeJS.ProcessEnv }[] = [
  { label: 'bundle (dist-cli/)', env: { ...process.env, MFMB_CLI_SOURCE: '0' } },
];
if (SOURCE) modes.push({ label: 'sources via tsx', env: { ...process.env, MFMB_CLI_SOURCE: '1' } });

// One untimed run first: builds dist-cli/ if a source changed, warms the file cache.
timeOnce(['--help'], modes[0].env);
console.log(`CLI start-up, ${RUNS} runs each (Node ${process.version}):`);
for (const c of CASES) {
  for (const m of modes) {
    const times = Array.from({ length: RUNS }, () => timeOnce(c.args, m.env));
    console.log(`  ${c.name.padEnd(30)} ${m.label.padEnd(20)} ${stats(times)}`);
  }
}
