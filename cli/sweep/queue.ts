import { spawn, type ChildProcess } from 'node:child_process';
import type { Job, Queue as QueueT, Worker as WorkerT, ConnectionOptions } from 'bullmq';
import { PLAN_SCHEMA, planCells, type Cell, type CellResult, type SweepPlan } from '../../src/core/eval/cells.ts';
import type { CliOptions } from '../args.ts';
import { mergeCells } from '../../src/core/eval/cells.ts';
import { cellLabel, err, printTables, toolVersion, writeResults } from './report.ts';
import { finishCollect, planOf } from './sweeps.ts';

/**
 * Queue mode on BullMQ + Redis: each cell is a BullMQ job whose id is the cell's key, so enqueuing
 * the same sweep twice adds nothing, and a finished cell's result is the job's return value.
 * BullMQ's locks do the recovery: a worker renews the lock of the cell it runs; when a worker dies
 * (kill -9, a lost machine) its lock lapses and the stalled-job check of another worker puts the
 * cell back in the queue. A cell that throws fails after --attempts tries with its message.
 * The sweep's plan (config, settings, backend, data) sits beside the queue in Redis, so `status`
 * and `collect` need only the queue's URL and name. This module loads bullmq; tfjs only in workers.
 */

/** A Redis URL as connection options: redis://[USER:PASSWORD@]HOST:PORT[/DB], rediss:// for TLS. */
export function connectionOf(url: string): Record<string, unknown> & { host: string; port: number; db: number } {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0)
    throw new QueueError(`--queue: the database in ${safeUrl(url)} must be a number`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** The URL without its password, for messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** A problem with the queue itself (unreachable, refused, no such sweep): printed as one line. */
export class QueueError extends Error {
  override name = 'QueueError';
}

/**
 * Connects once, with no retries, and PINGs: an unreachable server or a refused password is one
 * clear line at once, instead of a client that retries forever in silence.
 */
export async function probe(url: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const r = new Redis({
    ...connectionOf(url),
    lazyConnect: true,
    connectTimeout: 5000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // The socket's own error (ECONNREFUSED, …) says more than the "Connection is closed." that
  // connect() then rejects with.
  let socketError: Error | null = null;
  r.on('error', (e: Error) => (socketError ??= e));
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    const msg = ((socketError ?? e) as Error).message ?? String(e);
    const where = safeUrl(url);
    if (/WRONGPASS|invalid password|invalid username-password/i.test(msg))
      throw new QueueError(`Redis at ${where} refused the password (${msg.split('\n')[0]})`);
    if (/NOAUTH/i.test(msg)) throw new QueueError(`Redis at ${where} needs a password: redis://:PASSWORD@HOST:PORT`);
    if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|EAI_AGAIN|Connection is closed/i.test(msg))
      throw new QueueError(`cannot reach Redis at ${where} (${msg.split('\n')[0]}); is redis-server running there?`);
    throw new QueueError(`Redis at ${where}: ${msg.split('\n')[0]}`);
  } finally {
    r.disconnect();
  }
}

async function bull() {
  return import('bullmq');
}

/** Options every BullMQ object gets: workers need maxRetriesPerRequest null (BullMQ's rule). */
function bullConnection(url: string): ConnectionOptions {
  return { ...connectionOf(url), maxRetriesPerRequest: null } as ConnectionOptions;
}

const planKey = (name: string) => `mfmb:${name}:plan`;

async function redisOf(queue: QueueT) {
  return (await queue.backend.client) as unknown as {
    set(k: string, v: string): Promise<unknown>;
    get(k: string): Promise<string | null>;
  };
}

export async function openQueue(url: string, name: string): Promise<QueueT> {
  const { Queue } = await bull();
  const q = new Queue(name, { connection: bullConnection(url) });
  q.on('error', () => {}); // the probe has reported reachability; later hiccups are retried by the client
  return q;
}

async function readPlan(queue: QueueT, name: string, url: string): Promise<SweepPlan> {
  const text = await (await redisOf(queue)).get(planKey(name));
  if (!text)
    throw new QueueError(`no sweep named "${name}" on ${safeUrl(url)} (enqueue one with --queue … --name ${name})`);
  const plan = JSON.parse(text) as SweepPlan;
  if (plan.schema !== PLAN_SCHEMA) throw new QueueError(`the plan of "${name}" is not an mfmb sweep plan`);
  return plan;
}

export type CellState = 'completed' | 'failed' | 'active' | 'waiting' | 'delayed' | 'missing' | string;

export interface Progress {
  states: Map<string, CellState>;
  done: number;
  running: number;
  failed: number;
  waiting: number;
}

export async function progressOf(queue: QueueT, cells: Cell[]): Promise<Progress> {
  const states = new Map<string, CellState>();
  const got = await Promise.all(cells.map((c) => queue.getJobState(c.key)));
  cells.forEach((c, i) => states.set(c.key, got[i] === 'unknown' ? 'missing' : got[i]));
  let done = 0;
  let running = 0;
  let failed = 0;
  for (const s of states.values()) {
    if (s === 'completed') done++;
    else if (s === 'active') running++;
    else if (s === 'failed') failed++;
  }
  return { states, done, running, failed, waiting: cells.length - done - running - failed };
}

/** The results of the finished cells (the jobs' return values). */
async function finishedResults(queue: QueueT, cells: Cell[]): Promise<CellResult[]> {
  const jobs = await Promise.all(cells.map((c) => queue.getJob(c.key)));
  const out: CellResult[] = [];
  for (const j of jobs) if (j && j.returnvalue && (await j.isCompleted())) out.push(j.returnvalue as CellResult);
  return out;
}

async function failedReasons(queue: QueueT, cells: Cell[], states: Map<string, CellState>): Promise<string[]> {
  const out: string[] = [];
  for (const c of cells) {
    if (states.get(c.key) !== 'failed') continue;
    const j = await queue.getJob(c.key);
    out.push(
      `${cellLabel(c)} failed after ${j?.attemptsMade ?? '?'} attempts: ${j?.failedReason ?? 'no reason recorded'}`,
    );
  }
  return out;
}

/**
 * Enqueues the cells; idempotent by key: cells already queued, running or done are left alone,
 * failed ones are retried (a re-submission is how a fixed failure is rerun).
 */
export async function enqueue(
  queue: QueueT,
  plan: SweepPlan,
  name: string,
  attempts: number,
): Promise<{ added: number; retried: number; present: number; cells: Cell[] }> {
  const cells = planCells(plan);
  await (await redisOf(queue)).set(planKey(name), JSON.stringify(plan));
  const existing = await Promise.all(cells.map((c) => queue.getJob(c.key)));
  const fresh = cells.filter((_, i) => !existing[i]);
  let retried = 0;
  for (const j of existing) {
    if (j && (await j.isFailed())) {
      await j.retry('failed');
      retried++;
    }
  }
  await queue.addBulk(
    fresh.map((c) => ({
      name: 'cell',
      data: c,
      opts: {
        jobId: c.key,
        attempts,
        backoff: { type: 'fixed', delay: 1000 },
        removeOnComplete: false,
        removeOnFail: false,
      },
    })),
  );
  return { added: fresh.length, retried, present: cells.length - fresh.length, cells };
}

const fmtTime = (s: number) =>
  s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`
      : `${Math.round(s)}s`;

/** `mfmb train|sweep|ablate … --queue URL`: enqueue, then (unless --detach) follow and merge. */
async function submit(opts: CliOptions): Promise<number> {
  const { queue: url, name, detach, attempts } = opts.sweep as CliOptions['sweep'] & { queue: string };
  const plan = planOf(opts);
  const queue = await openQueue(url, name);
  try {
    const { added, retried, present, cells } = await enqueue(queue, plan, name, attempts);
    err(
      `mfmb ${opts.command}: ${cells.length} cells on queue "${name}" at ${safeUrl(url)}: ${added} enqueued, ` +
        `${present - retried} already there, ${retried} failed ones retried`,
    );
    if (detach) {
      err(
        `detached: start workers with \`mfmb worker --queue URL --name ${name}\`; \`mfmb status\` / \`mfmb collect\` later`,
      );
      return 0;
    }
    let interrupted = false;
    process.once('SIGINT', () => {
      interrupted = true;
    });
    const t0 = performance.now();
    let done0: number | null = null;
    let last = '';
    let p: Progress;
    for (;;) {
      p = await progressOf(queue, cells);
      done0 ??= p.done;
      const elapsed = (performance.now() - t0) / 1000;
      const rate = (p.done - done0) / elapsed;
      const left = cells.length - p.done - p.failed;
      const eta = p.done > done0 && left > 0 ? `, ETA ${fmtTime(left / rate)}` : '';
      const width = 24;
      const filled = Math.round((width * (p.done + p.failed)) / cells.length);
      const line =
        `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${cells.length} done, ${p.running} running, ` +
        `${p.failed} failed, ${p.waiting} waiting${eta}`;
      if (!opts.quiet) {
        if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
        else if (line.replace(/, ETA.*/, '') !== last) err(line);
      }
      last = line.replace(/, ETA.*/, '');
      if (left === 0 || interrupted) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    if (process.stderr.isTTY && !opts.quiet) process.stderr.write('\n');
    if (interrupted) {
      err(
        `stopped following; the cells stay queued: \`mfmb status --queue URL --name ${name}\`, then \`mfmb collect\``,
      );
      return 130;
    }
    const failures = await failedReasons(queue, cells, p.states);
    const merged = mergeCells(plan, await finishedResults(queue, cells), toolVersion());
    if (merged.file) {
      printTables(opts.command, merged.file);
      if (opts.json && !writeResults(opts.json, merged.file)) return 1;
    }
    for (const f of failures) err(`mfmb: ${f}`);
    if (failures.length) {
      err(`mfmb: ${failures.length} of ${cells.length} cells failed; the ${merged.done} done are in the results`);
      return 1;
    }
    err(`all ${cells.length} cells done in ${fmtTime((performance.now() - t0) / 1000)}`);
    return merged.file!.runs.some((r) => r.stopReason === 'non-finite-loss') ? 3 : 0;
  } finally {
    await queue.close();
  }
}

async function status(opts: CliOptions): Promise<number> {
  const { queue: url, name } = opts.sweep as CliOptions['sweep'] & { queue: string };
  const queue = await openQueue(url, name);
  try {
    const plan = await readPlan(queue, name, url);
    const cells = planCells(plan);
    const p = await progressOf(queue, cells);
    console.log(
      `sweep "${name}" at ${safeUrl(url)}: ${cells.length} cells: ${p.done} done, ${p.running} running, ` +
        `${p.failed} failed, ${p.waiting} waiting`,
    );
    for (const f of await failedReasons(queue, cells, p.states)) console.log(`  ${f}`);
    return 0;
  } finally {
    await queue.close();
  }
}

async function collectQueue(opts: CliOptions): Promise<number> {
  const { queue: url, name } = opts.sweep as CliOptions['sweep'] & { queue: string };
  const queue = await openQueue(url, name);
  try {
    const plan = await readPlan(queue, name, url);
    const cells = planCells(plan);
    return finishCollect(opts, plan, await finishedResults(queue, cells), `queue "${name}"`);
  } finally {
    await queue.close();
  }
}

// ----------------------------------------------------------------------------- workers

/**
 * `mfmb worker`: --concurrency N starts N worker processes (tfjs trains on one thread per
 * process, so cells run in parallel only in separate processes) and passes signals on.
 */
async function worker(opts: CliOptions): Promise<number> {
  if (opts.sweep.concurrency > 1) return workerPool(opts);
  return workerLoop(opts);
}

function workerPool(opts: CliOptions): Promise<number> {
  const args = process.argv
    .slice(1)
    .filter((a, i, all) => a !== '--concurrency' && all[i - 1] !== '--concurrency' && !a.startsWith('--concurrency='));
  const kids: ChildProcess[] = [];
  for (let i = 0; i < opts.sweep.concurrency; i++)
    kids.push(spawn(process.execPath, [...process.execArgv, ...args], { stdio: 'inherit' }));
  const forward = (sig: NodeJS.Signals) => () => {
    for (const k of kids) if (k.exitCode === null) k.kill(sig);
  };
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  return Promise.all(
    kids.map((k) => new Promise<number>((r) => k.on('exit', (code, sig) => r(code ?? (sig ? 1 : 0))))),
  ).then((codes) => Math.max(...codes));
}

async function workerLoop(opts: CliOptions): Promise<number> {
  const { queue: url, name, lockMs } = opts.sweep as CliOptions['sweep'] & { queue: string };
  const { Worker, WaitingError } = await bull();
  const { initNodeBackend } = await import('../../src/core/backend.ts');
  const { DataCache, runCell } = await import('./cellRun.ts');
  const { DataMismatchError } = await import('./dataRef.ts');
  const { makeCellResult } = await import('../../src/core/eval/cells.ts');
  const { datasetBlockOf } = await import('../../src/core/eval/results.ts');
  const version = toolVersion();
  const data = new DataCache(opts.dataPath);
  const abort = new AbortController();
  let backend: string | null = null;
  let refused: string | null = null;
  let w: WorkerT | null = null;
  const tag = `worker ${process.pid}`;

  const processor = async (job: Job, token?: string): Promise<CellResult> => {
    const cell = job.data as Cell;
    const handBack = async () => {
      await job.moveToWait(token);
      throw new WaitingError();
    };
    if (abort.signal.aborted) return handBack();
    backend ??= await initNodeBackend(cell.backend as 'wasm' | 'cpu');
    if (backend !== cell.backend) throw new Error(`the cell asks for backend ${cell.backend}; ${tag} runs ${backend}`);
    let ds;
    try {
      ds = await data.get(cell);
    } catch (e) {
      if (!(e instanceof DataMismatchError)) throw e;
      // This machine's file is not the sweep's: the cell goes back for a worker that has it, and
      // this worker stops rather than refuse every cell of the sweep one by one.
      refused = `${tag} refused cell ${cell.key.slice(0, 12)}: ${e.message}`;
      void w?.close();
      return handBack();
    }
    const t0 = performance.now();
    if (!opts.quiet) err(`${tag}: ${cellLabel(cell)} started`);
    const run = await runCell(cell, ds, { signal: abort.signal, yieldEachStep: true });
    if (!run || run.stopReason === 'aborted') {
      err(`${tag}: ${cellLabel(cell)} handed back to the queue`);
      return handBack();
    }
    if (!opts.quiet)
      err(`${tag}: ${cellLabel(cell)} ${run.stopReason} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return makeCellResult(cell, datasetBlockOf(ds), run, version);
  };

  w = new Worker(name, processor, {
    connection: bullConnection(url),
    concurrency: 1,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    maxStalledCount: 3,
    drainDelay: 1,
  });
  w.on('error', (e) => err(`${tag}: queue error: ${e.message}`));
  w.on('failed', (job, e) => {
    if (job && e.name !== 'WaitingError')
      err(`${tag}: cell ${job.id?.slice(0, 12)} attempt ${job.attemptsMade} failed: ${e.message}`);
  });
  let signals = 0;
  const stop = () => {
    signals++;
    if (signals > 1) process.exit(130);
    err(`${tag}: stopping: the current cell (if any) goes back to the queue`);
    abort.abort();
    void w!.close();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  err(`${tag}: serving queue "${name}" at ${safeUrl(url)} (lock ${lockMs} ms)`);
  await w.waitUntilReady();
  await new Promise<void>((resolve) => w!.on('closed', () => resolve()));
  if (refused) {
    err(`mfmb: ${refused}`);
    return 1;
  }
  return 0;
}

export async function queueCommand(opts: CliOptions): Promise<number> {
  const url = opts.sweep.queue!;
  try {
    await probe(url);
    if (opts.command === 'worker') return await worker(opts);
    if (opts.command === 'status') return await status(opts);
    if (opts.command === 'collect') return await collectQueue(opts);
    return await submit(opts);
  } catch (e) {
    if (e instanceof QueueError) {
      err(`mfmb: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
