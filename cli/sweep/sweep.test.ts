import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseResultsFile, type ResultsFile } from '../../src/core/eval/results.ts';
import { checkResultsFile } from '../../src/core/eval/resultsSchema.ts';

/**
 * Big sweeps end to end, with a real Redis (Debian's redis-server, started here on a free loopback
 * port, no persistence) and real CLI processes: queue workers (one killed with SIGKILL inside a
 * cell), array shares, and the refusals. The reference is the serial CLI's results file for the
 * same sweep: training is seeded, so every cell's numbers must be the serial run's.
 */

const bin = fileURLToPath(new URL('../../bin/mfmb.js', import.meta.url));
const fixture = (name: string) =>
  fileURLToPath(new URL(`../../src/core/data/files/__fixtures__/pickle/${name}`, import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'mfmb-sweep-'));

// 2 settings x 2 seeds x 3 rates, per-rate: 12 cells, each one training run (2 epochs of 3 steps).
const SWEEP = [
  '--model',
  'tiny',
  '--data',
  'synthetic:tiny',
  '--epochs',
  '2',
  '--batch',
  '40',
  '--rates',
  '0,0.5,1',
  '--seeds',
  '111,1111',
  '--branches',
  'all/macro,micro',
  '--protocol',
  'per-rate',
  '--quiet',
];
const CELLS = 12;

interface Done {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A CLI process; `done` resolves when it exits. */
function start(args: string[]): { child: ChildProcess; done: Promise<Done>; stderr: () => string } {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Done>((r) => child.on('close', (code) => r({ code, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

const mfmb = (args: string[]) => start(args).done;

/** The lines the CLI prints as errors ("mfmb: ..."). */
const errorLines = (s: string) => s.split('\n').filter((l) => l.startsWith('mfmb: '));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const servers: ChildProcess[] = [];
const workers: ChildProcess[] = [];

/** A redis-server of our own: loopback only, a temporary folder, nothing saved. */
async function startRedis(extra: string[] = []): Promise<number> {
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  if (which.status !== 0)
    throw new Error(
      'redis-server is not installed: the queue tests need a real Redis. Install it with ' +
        '`apt-get install -y redis-server` (Debian; .ci/run does this)',
    );
  const port = await freePort();
  const dir = mkdtempSync(join(tmp, 'redis-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  servers.push(child);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${out}`)));
  });
  return port;
}

/** The numbers of a results file: without wall time and timestamps, which no rerun repeats. */
function numbers(f: ResultsFile) {
  const { createdAt: _c, ...rest } = f;
  return { ...rest, runs: f.runs.map((r) => ({ ...r, epochs: r.epochs.map(({ seconds: _s, ...e }) => e) })) };
}

const readResults = (path: string) => parseResultsFile(readFileSync(path, 'utf8'));

/** Each run once, named by what makes it a cell. */
const runIds = (f: ResultsFile) =>
  f.runs.map((r) => `${r.branches.macro}${r.branches.micro}${r.branches.recon}/${r.seed}/${r.trainRate}`);

let url = '';
let serial: ResultsFile;

beforeAll(async () => {
  // Build the bundle once, so processes started together do not all rebuild it.
  expect(spawnSync(process.execPath, [bin, '--help']).status).toBe(0);
  url = `redis://127.0.0.1:${await startRedis()}`;
  const json = join(tmp, 'serial.json');
  const r = await mfmb(['sweep', ...SWEEP, '--json', json]);
  expect(r.code, r.stderr).toBe(0);
  serial = readResults(json);
  expect(serial.runs).toHaveLength(CELLS);
}, 120_000);

/** Ends a process we started and waits until it is gone. */
function end(p: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    p.once('exit', () => r());
    p.kill(signal);
  });
}

afterAll(async () => {
  await Promise.all(workers.map((w) => end(w, 'SIGKILL')));
  await Promise.all(servers.map((s) => end(s, 'SIGTERM')));
  rmSync(tmp, { recursive: true, force: true });
});

describe('queue mode (BullMQ on a real redis-server)', () => {
  it('2 workers, one killed with SIGKILL inside a cell: every cell once, merged == serial', async () => {
    const name = 'kill9';
    const q = ['--queue', url, '--name', name];
    const sub = start(['sweep', ...SWEEP, ...q, '--json', join(tmp, 'queue.json')]);
    const w = ['worker', ...q, '--lock-ms', '1500'];
    const a = start(w);
    const b = start(w);
    workers.push(a.child, b.child);
    // Kill worker a as soon as it is inside a cell (it prints "<label> started", then trains).
    const killedKey = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker a never started a cell:\n${a.stderr()}`)), 60_000);
      a.child.stderr!.on('data', () => {
        const m = /#\d+ ([0-9a-f]{12}) \([^)]*\) started/.exec(a.stderr());
        if (m) {
          clearTimeout(timer);
          a.child.kill('SIGKILL');
          resolve(m[1]);
        }
      });
    });
    const s = await sub.done;
    expect(s.code, s.stderr).toBe(0);
    // The killed cell was run to its end by the other worker (BullMQ's stalled-job check).
    expect(b.stderr()).toMatch(new RegExp(`${killedKey} \\([^)]*\\) max-epochs`));
    expect(a.stderr()).not.toMatch(new RegExp(`${killedKey} \\([^)]*\\) max-epochs`));
    b.child.kill('SIGTERM');
    const bDone = await b.done;
    expect(bDone.code, bDone.stderr).toBe(0);

    const merged = readResults(join(tmp, 'queue.json'));
    expect(new Set(runIds(merged)).size).toBe(CELLS);
    expect(runIds(merged)).toEqual(runIds(serial));
    expect(numbers(merged)).toEqual(numbers(serial));
    checkResultsFile(readFileSync(join(tmp, 'queue.json'), 'utf8')); // the app imports it

    // Re-submitting the same sweep adds nothing and finds it complete at once.
    const again = await mfmb(['sweep', ...SWEEP, ...q, '--json', join(tmp, 'again.json')]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('0 enqueued, 12 already there');
    expect(numbers(readResults(join(tmp, 'again.json')))).toEqual(numbers(serial));
    const st = await mfmb(['status', ...q]);
    expect(st.stdout).toContain('12 cells: 12 done, 0 running, 0 failed, 0 waiting');
  }, 150_000);

  it('bad input: unreachable Redis, wrong password, another data file, missing cells, failing cells', async () => {
    const closed = await freePort();
    for (const args of [
      ['status', '--queue', `redis://127.0.0.1:${closed}`, '--name', 'x'],
      ['sweep', ...SWEEP, '--queue', `redis://127.0.0.1:${closed}`, '--detach'],
    ]) {
      const r = await mfmb(args);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^mfmb: cannot reach Redis at .*ECONNREFUSED/),
      ]);
    }
    const locked = await startRedis(['--requirepass', 'right-one']);
    const wrong = await mfmb(['status', '--queue', `redis://:wrong@127.0.0.1:${locked}`, '--name', 'x']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^mfmb: Redis at .* refused the password/)]);
    expect(wrong.stderr).not.toContain('wrong'); // the password is not echoed
    const none = await mfmb(['status', '--queue', `redis://127.0.0.1:${locked}`, '--name', 'x']);
    expect(none.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^mfmb: Redis at .* needs a password/)]);
    const right = await mfmb(['status', '--queue', `redis://:right-one@127.0.0.1:${locked}`, '--name', 'x']);
    expect(right.stderr).toContain('no sweep named "x"'); // connected; there is just no such sweep

    // A worker whose data file is not the sweep's refuses, hands the cell back and exits 1.
    const fq = ['--queue', url, '--name', 'files'];
    const fileSweep = ['--model', 'tiny', '--epochs', '1', '--rates', '0,1', '--quiet'];
    const sub = await mfmb(['train', ...fileSweep, '--data', fixture('mmsa_aligned_p4_np1.pkl'), ...fq, '--detach']);
    expect(sub.code, sub.stderr).toBe(0);
    const other = await mfmb(['worker', ...fq, '--data', fixture('mmsa_aligned_p2_np1.pkl'), '--lock-ms', '1500']);
    expect(other.code).toBe(1);
    expect(errorLines(other.stderr)).toEqual([
      expect.stringMatching(/refused cell [0-9a-f]{12}: data file .* is not the sweep's/),
    ]);
    const st = await mfmb(['status', ...fq]);
    expect(st.stdout).toContain('1 cells: 0 done, 0 running, 0 failed, 1 waiting'); // nothing lost

    // collect with a cell missing: says which, exits 1, writes nothing (nothing is done).
    const col = await mfmb(['collect', ...fq, '--json', join(tmp, 'none.json')]);
    expect(col.code).toBe(1);
    expect(errorLines(col.stderr)).toEqual([
      expect.stringMatching(/1 of 1 cells missing .*nothing written.*#1 [0-9a-f]{12}/),
    ]);
    expect(existsSync(join(tmp, 'none.json'))).toBe(false);

    // A worker with the same bytes under another path and name runs it; then collect has it all.
    const copy = join(tmp, 'copy-of-a.pkl');
    copyFileSync(fixture('mmsa_aligned_p4_np1.pkl'), copy);
    const good = start(['worker', ...fq, '--data', copy]);
    workers.push(good.child);
    await new Promise<void>((resolve) =>
      good.child.stderr!.on('data', () => {
        if (/ max-epochs in /.test(good.stderr())) resolve();
      }),
    );
    good.child.kill('SIGTERM');
    expect((await good.done).code).toBe(0);
    const all = await mfmb(['collect', ...fq, '--json', join(tmp, 'files.json')]);
    expect(all.code, all.stderr).toBe(0);
    expect(readResults(join(tmp, 'files.json')).dataset.source).toBe('file:mmsa_aligned_p4_np1.pkl');

    // A cell that fails for a real reason (a file the loader refuses) fails after --attempts tries,
    // with its message.
    const bq = ['--queue', url, '--name', 'bad'];
    const bad = fixture('bad_nan.pkl');
    expect((await mfmb(['train', ...fileSweep, '--data', bad, ...bq, '--attempts', '2', '--detach'])).code).toBe(0);
    const wk = start(['worker', ...bq, '--lock-ms', '1500']);
    workers.push(wk.child);
    const follow = await mfmb(['train', ...fileSweep, '--data', bad, ...bq, '--json', join(tmp, 'bad.json')]);
    wk.child.kill('SIGTERM');
    expect((await wk.done).code).toBe(0);
    expect(follow.code).toBe(1);
    expect(errorLines(follow.stderr)[0]).toMatch(/failed after 2 attempts: .*NaN/i);
    const bst = await mfmb(['status', ...bq]);
    expect(bst.stdout).toContain('1 cells: 0 done, 0 running, 1 failed, 0 waiting');

    // SIGTERM inside a cell: the worker hands the cell back to the queue and exits 0.
    const hq = ['--queue', url, '--name', 'handback'];
    const long = ['--model', 'tiny', '--data', 'synthetic:small', '--epochs', '20', '--rates', '0', '--quiet'];
    expect((await mfmb(['train', ...long, ...hq, '--detach'])).code).toBe(0);
    const hw = start(['worker', ...hq]);
    workers.push(hw.child);
    await new Promise<void>((resolve) =>
      hw.child.stderr!.on('data', () => {
        if (/ started/.test(hw.stderr())) resolve();
      }),
    );
    hw.child.kill('SIGTERM');
    const hd = await hw.done;
    expect(hd.code, hd.stderr).toBe(0);
    expect(hd.stderr).toMatch(/handed back to the queue/);
    expect((await mfmb(['status', ...hq])).stdout).toContain('1 cells: 0 done, 0 running, 0 failed, 1 waiting');
  }, 120_000);
});

describe('array mode (mfmb cell --index K --of N)', () => {
  it('3 shares as separate processes, merged == serial; a missing cell is named, the rest kept', async () => {
    const out = join(tmp, 'cells');
    const shares = await Promise.all(
      [0, 1, 2].map((k) => mfmb(['cell', '--index', String(k), '--of', '3', ...SWEEP, '--out', out])),
    );
    for (const s of shares) expect(s.code, s.stderr).toBe(0);
    const files = readdirSync(out).filter((f) => f !== 'sweep.json');
    expect(files).toHaveLength(CELLS);
    const json = join(tmp, 'array.json');
    const col = await mfmb(['collect', '--dir', out, '--json', json]);
    expect(col.code, col.stderr).toBe(0);
    const merged = readResults(json);
    expect(runIds(merged)).toEqual(runIds(serial));
    expect(numbers(merged)).toEqual(numbers(serial));

    // One cell's file gone: collect names it, exits 1, and writes the other 11.
    const gone = files.sort()[0];
    unlinkSync(join(out, gone));
    const part = await mfmb(['collect', '--dir', out, '--json', join(tmp, 'part.json')]);
    expect(part.code).toBe(1);
    expect(errorLines(part.stderr)).toEqual([expect.stringContaining(`1 of 12 cells missing`)]);
    expect(part.stderr).toContain(gone.slice(0, 12));
    expect(readResults(join(tmp, 'part.json')).runs).toHaveLength(CELLS - 1);
    // Rerunning the share that had it redoes that cell only.
    const redo = await Promise.all(
      [0, 1, 2].map((k) => mfmb(['cell', '--index', String(k), '--of', '3', ...SWEEP, '--out', out])),
    );
    expect(redo.map((r) => /(\d) already done/.exec(r.stderr)![1]).sort()).toEqual(['3', '4', '4']);
    expect((await mfmb(['collect', '--dir', out, '--json', json])).code).toBe(0);
    expect(numbers(readResults(json))).toEqual(numbers(serial));
  }, 120_000);
});
