/**
 * `npm run bench:sweep`: wall time of one sweep run serially, then on the BullMQ queue with 2 and
 * 4 local worker processes (started and warm before the clock starts), and the queue's own cost
 * per cell: trivial cells (a worker that returns a result-sized record at once) through enqueue,
 * fetch, lock, completion and the stored result. Starts its own redis-server (Debian's) on a free
 * loopback port with no persistence, and stops it. Prints figures; asserts nothing about speed,
 * but checks that every queued sweep's numbers equal the serial run's.
 *
 *   npm run bench:sweep [-- --cells-overhead 300] [-- --epochs 1]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCellResult, makePlan } from '../src/core/eval/cells.ts';
import { defaultRunConfig, modelPreset } from '../src/core/config/config.ts';
import { enqueue, openQueue, progressOf } from '../cli/sweep/queue.ts';

const argv = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const OVERHEAD_CELLS = flag('--cells-overhead', 300);
const EPOCHS = flag('--epochs', 1);

const bin = fileURLToPath(new URL('../bin/mfmb.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'mfmb-bench-sweep-'));
// 2 settings x 2 seeds x 2 rates, per-rate: 8 cells.
const SWEEP = [
  ...['--model', 'tiny', '--data', 'synthetic:small', '--epochs', String(EPOCHS), '--protocol', 'per-rate'],
  ...['--rates', '0,0.5', '--seeds', '111,1111', '--branches', 'all/macro,micro', '--quiet'],
];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((r) => child.on('close', (code) => r({ code, stderr })));
}

/** Starts n workers and resolves once each is connected and waiting for cells. */
async function startWorkers(url: string, name: string, n: number): Promise<ChildProcess[]> {
  const kids = Array.from({ length: n }, () =>
    spawn(process.execPath, [bin, 'worker', '--queue', url, '--name', name, '--quiet'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  await Promise.all(
    kids.map(
      (k) =>
        new Promise<void>((resolve) => {
          let s = '';
          k.stderr!.on('data', (d) => {
            s += d;
            if (s.includes('serving queue')) resolve();
          });
        }),
    ),
  );
  return kids;
}

const stopAll = (kids: ChildProcess[]) =>
  Promise.all(
    kids.map(
      (k) => new Promise<void>((r) => (k.exitCode !== null ? r() : (k.on('exit', () => r()), k.kill('SIGTERM')))),
    ),
  );

function numbersOf(path: string): string {
  const f = JSON.parse(readFileSync(path, 'utf8'));
  delete f.createdAt;
  for (const r of f.runs) for (const e of r.epochs) delete e.seconds;
  return JSON.stringify(f);
}

async function main() {
  console.log(
    `bench:sweep: ${cpus().length} cores, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  spawnSync(process.execPath, [bin, '--help']); // builds dist-cli/ if needed, outside the clock
  const port = await freePort();
  const redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let s = '';
    redis.on('error', () => reject(new Error('redis-server not found: apt-get install -y redis-server')));
    redis.stdout!.on('data', (d) => {
      s += d;
      if (s.includes('Ready to accept connections')) resolve();
    });
  });
  const url = `redis://127.0.0.1:${port}`;
  try {
    const rows: string[] = [];
    console.log(`sweep: mfmb sweep ${SWEEP.join(' ')}  (8 cells)`);
    let t0 = performance.now();
    const s = await run(['sweep', ...SWEEP, '--json', join(tmp, 'serial.json')]);
    if (s.code !== 0) throw new Error(`serial run failed:\n${s.stderr}`);
    const serial = (performance.now() - t0) / 1000;
    rows.push(`serial (one process)               ${serial.toFixed(1)} s`);
    const ref = numbersOf(join(tmp, 'serial.json'));
    for (const n of [2, 4]) {
      const name = `bench-${n}`;
      const kids = await startWorkers(url, name, n);
      t0 = performance.now();
      const q = await run(['sweep', ...SWEEP, '--queue', url, '--name', name, '--json', join(tmp, `${name}.json`)]);
      const wall = (performance.now() - t0) / 1000;
      await stopAll(kids);
      if (q.code !== 0) throw new Error(`queue run failed:\n${q.stderr}`);
      const same = numbersOf(join(tmp, `${name}.json`)) === ref;
      rows.push(
        `queue, ${n} local workers (warm)      ${wall.toFixed(1)} s  = ${(serial / wall).toFixed(2)}x serial; numbers equal serial: ${same ? 'yes' : 'NO'}`,
      );
    }
    console.log(rows.join('\n'));

    // The queue's cost per cell: cells that take no time, a record of a real result's size.
    const cfg = defaultRunConfig();
    cfg.model = modelPreset('tiny');
    cfg.train.seeds = Array.from({ length: OVERHEAD_CELLS }, (_, i) => i + 1);
    const plan = makePlan({
      config: cfg,
      settings: [{ arch: 'mfmb', branches: { macro: true, micro: true, recon: true } }],
      backend: 'wasm',
      data: { kind: 'synthetic' },
    });
    const sample = JSON.parse(readFileSync(join(tmp, 'serial.json'), 'utf8'));
    const dataset = sample.dataset;
    const run0 = sample.runs[0];
    const { Worker } = await import('bullmq');
    const { connectionOf } = await import('../cli/sweep/queue.ts');
    for (const concurrency of [1, 4]) {
      const name = `overhead-${concurrency}`;
      const queue = await openQueue(url, name);
      const worker = new Worker(name, async (job) => makeCellResult(job.data, dataset, run0, 'bench'), {
        connection: { ...connectionOf(url), maxRetriesPerRequest: null },
        concurrency,
        drainDelay: 1,
      });
      await worker.waitUntilReady();
      let completed = 0;
      const allDone = new Promise<void>((r) =>
        worker.on('completed', () => {
          if (++completed === OVERHEAD_CELLS) r();
        }),
      );
      t0 = performance.now();
      const { cells } = await enqueue(queue, plan, name, 1);
      const tEnq = performance.now() - t0;
      await allDone;
      const total = performance.now() - t0;
      const p = await progressOf(queue, cells);
      if (p.done !== cells.length) throw new Error(`${p.done} of ${cells.length} trivial cells completed`);
      await worker.close();
      await queue.close();
      console.log(
        `queue overhead, ${cells.length} trivial cells, 1 worker process, concurrency ${concurrency}: ` +
          `${(total / cells.length).toFixed(2)} ms per cell (enqueue ${(tEnq / cells.length).toFixed(2)} ms of it), total ${(total / 1000).toFixed(2)} s`,
      );
    }
  } finally {
    redis.kill('SIGTERM');
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
