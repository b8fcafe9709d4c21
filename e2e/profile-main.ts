/**
 * Where the page's main thread spends its time while a job trains (`npm run measure:main-thread`):
 *
 *   npm run measure:main-thread [-- --preset quick-demo] [--dev] [--no-build] [--top 25] [--trace] [--seconds N]
 *
 * Opens the built app in Chromium on wasm, starts a one-click preset, records a CPU profile of the
 * page (Chrome DevTools Protocol, main thread only: the worker is a separate target) until the job
 * ends, and prints the long tasks (> 50 ms) and the functions with the most self time. The app's
 * rule is that no main-thread task passes 50 ms; this is how to find the one that does. Tasks are
 * counted from the click until the job is seen done (and, listed apart, for 1.5 s after that, while
 * the views draw its results); the profiler's own stop afterwards is not counted.
 *
 * --seconds N profiles only the first N seconds after the click (the job's start).
 * --trace also records a Chrome trace (devtools.timeline) and breaks every task over 50 ms into
 * what the browser did in it (script, style, layout, paint, GC): the CPU profile files the
 * browser's own work under "(program)".
 */
import { chromiumPath, launchGuarded, serveApp } from './env.ts';
import { openApp, waitStatus } from './app.ts';

const argv = process.argv.slice(2);
const valueOf = (name: string): string | null => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1]! : null;
};
const preset = valueOf('--preset') ?? 'quick-demo';
const top = Number(valueOf('--top') ?? 25);

if (!chromiumPath()) {
  console.log('measure:main-thread: Chromium not found (apt-get install -y chromium)');
  process.exit(process.env.CI ? 1 : 0);
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: {
    name?: string;
    data?: { functionName?: string; url?: string };
    beginData?: { dirtyObjects?: number; totalObjects?: number; partialLayout?: boolean; stackTrace?: unknown };
  };
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number; // µs, the trace's clock
  samples: number[];
  timeDeltas: number[];
}

// --dev: the Vite dev server, whose code keeps its function names (the build's are minified).
const server = await serveApp({
  mode: argv.includes('--dev') ? 'dev' : 'preview',
  build: !argv.includes('--no-build'),
  log: (s) => console.log(s),
});
const browser = await launchGuarded({ kind: 'no-webgpu', origin: server.origin });
try {
  const { page } = browser;
  await openApp(page, `${server.appUrl}?backend=wasm`);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  await cdp.send('Profiler.start');
  const trace = argv.includes('--trace');
  const traceEvents: TraceEvent[] = [];
  let traceDone: Promise<void> = Promise.resolve();
  if (trace) {
    cdp.on('Tracing.dataCollected', (e) => {
      for (const v of e.value as unknown as TraceEvent[]) traceEvents.push(v);
    });
    traceDone = new Promise((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()));
    await cdp.send('Tracing.start', {
      categories: 'devtools.timeline,disabled-by-default-devtools.timeline,v8',
      transferMode: 'ReportEvents',
    });
  }
  const loadTasks = await page.evaluate(() =>
    ((window as unknown as { __e2eLongTasks?: { start: number; duration: number }[] }).__e2eLongTasks ?? []).map(
      (t) => `${Math.round(t.start)}: ${Math.round(t.duration)}`,
    ),
  );
  console.log(`long tasks while the page loaded (ms since navigation: duration): ${loadTasks.join(', ') || 'none'}`);
  const since = await page.evaluate(() => performance.now());
  await page.getByTestId(`preset-${preset}`).click();
  // --seconds N: profile the first N seconds only (the job start, say), not the whole job.
  const seconds = Number(valueOf('--seconds') ?? 0);
  const pageNow = () => page.evaluate(() => performance.now());
  let doneAt: number;
  if (seconds > 0) {
    await page.waitForTimeout(seconds * 1000);
    doneAt = await pageNow();
  } else {
    await waitStatus(page, ['done', 'error'], 600_000);
    doneAt = await pageNow();
    // The views take in the finished job's results on their calm schedule (up to ~0.75 s later):
    // keep recording a little longer, and list those tasks apart.
    await page.waitForTimeout(1500);
  }
  // Stopping the profiler (and the trace) serialises them in the page's renderer: tasks of 100–300 ms
  // that are the measurement's own, so only tasks that started before this moment are counted.
  const until = await pageNow();
  const { profile } = (await cdp.send('Profiler.stop')) as { profile: Profile };
  if (trace) {
    await cdp.send('Tracing.end');
    await traceDone;
  }
  const tasks = await page.evaluate(
    ([s, u]) =>
      ((window as unknown as { __e2eLongTasks?: { start: number; duration: number }[] }).__e2eLongTasks ?? [])
        .filter((t) => t.start >= s! && t.start < u!)
        .map((t) => ({ start: t.start, at: Math.round(t.start - s!), ms: Math.round(t.duration) })),
    [since, until],
  );
  const during = tasks.filter((t) => t.start < doneAt);
  const after = tasks.filter((t) => t.start >= doneAt);
  const longest = during.reduce((m, t) => Math.max(m, t.ms), 0);
  console.log(
    `${seconds > 0 ? 'profiled' : 'job ran'} ${((doneAt - since) / 1000).toFixed(1)} s; longest task ${longest} ms`,
  );
  console.log(
    `long tasks (ms after the click: duration): ${during.map((t) => `${t.at}: ${t.ms}`).join(', ') || 'none'}`,
  );
  if (seconds === 0)
    console.log(
      `long tasks in the 1.5 s after the job ended (its results drawn): ${after.map((t) => `${t.at}: ${t.ms}`).join(', ') || 'none'}`,
    );

  // Long tasks found in the profile itself: runs of consecutive non-idle samples over 50 ms (no
  // clock to align with the page's), each with the functions that took most of it.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const frameKey = (id: number) => {
    const f = byId.get(id)!.callFrame;
    return `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
  };
  // Inclusive time per frame too: a sample counts for every function on its stack (once each), so
  // the components (named functions of the app's own chunk) that a busy run rendered stand out.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackKeys = (id: number): Set<string> => {
    const keys = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) keys.add(frameKey(n));
    return keys;
  };
  type Run = { ms: number; at: number; self: Map<string, number>; total: Map<string, number> };
  const runs: Run[] = [];
  let cur: Run | null = null;
  let clock = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    clock += dt;
    const key = frameKey(id);
    if (key.startsWith('(idle)')) {
      if (cur && cur.ms > 50) runs.push(cur);
      cur = null;
      return;
    }
    cur ??= { ms: 0, at: clock, self: new Map(), total: new Map() };
    cur.ms += dt;
    cur.self.set(key, (cur.self.get(key) ?? 0) + dt);
    for (const k of stackKeys(id)) cur.total.set(k, (cur.total.get(k) ?? 0) + dt);
  });
  for (const r of runs.sort((x, y) => y.ms - x.ms).slice(0, 3)) {
    console.log(`busy run of ${r.ms.toFixed(0)} ms at ${(r.at / 1000).toFixed(2)} s:`);
    for (const [k, ms] of [...r.self.entries()].sort((x, y) => y[1] - x[1]).slice(0, 8))
      console.log(`  ${ms.toFixed(1).padStart(7)} ms  ${k}`);
    const own = [...r.total.entries()].filter(([k]) => {
      const [name = '', file = ''] = k.split(' ');
      return !name.startsWith('(') && !/^(vendor-|react|chunk-|zustand|scheduler)|^:0$/.test(file);
    });
    if (own.length) {
      console.log("  the app's own functions in it, inclusive (--dev or an unminified build for names):");
      for (const [k, ms] of own.sort((x, y) => y[1] - x[1]).slice(0, 10))
        console.log(`  ${ms.toFixed(1).padStart(7)} ms  ${k}`);
    }
  }

  if (trace) reportTrace(traceEvents, profile, frameKey, stackKeys);

  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const n = byId.get(id)!;
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const busy = [...self.entries()].filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(program)'));
  console.log(
    `profile: ${(total / 1000).toFixed(1)} s sampled, ${(busy.reduce((a, [, v]) => a + v, 0) / 1000).toFixed(2)} s busy`,
  );
  for (const [k, ms] of busy.sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${ms.toFixed(0).padStart(7)} ms  ${k}`);
} finally {
  await browser.close();
  await server.close();
}

/**
 * Tasks over 50 ms on the page's main thread in a Chrome trace, each with the time of the events
 * inside it by name (nested events are counted in their parents too: a forced layout inside a
 * function call shows under both), longest first.
 */
function reportTrace(
  events: TraceEvent[],
  profile: Profile,
  frameKey: (id: number) => string,
  stackKeys: (id: number) => Set<string>,
) {
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  if (!main) {
    console.log('trace: no CrRendererMain thread found');
    return;
  }
  const onMain = events.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur !== undefined);
  const tasks = onMain.filter((e) => e.name === 'RunTask' && e.dur! > 50_000).sort((a, b) => b.dur! - a.dur!);
  const t0 = Math.min(...onMain.map((e) => e.ts));
  // The CPU profile's samples on the trace's clock, to name the functions inside each task.
  const sampleAt: { ts: number; id: number; dt: number }[] = [];
  let ts = profile.startTime;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    ts += dt;
    sampleAt.push({ ts, id, dt: dt / 1000 });
  });
  console.log(`trace: ${tasks.length} tasks over 50 ms on the main thread`);
  for (const task of tasks.slice(0, 6)) {
    const inside = new Map<string, number>();
    for (const e of onMain) {
      if (e === task || e.ts < task.ts || e.ts + e.dur! > task.ts + task.dur!) continue;
      const fn = e.args?.data?.functionName;
      const key = fn ? `${e.name} ${fn} ${e.args?.data?.url?.split('/').pop() ?? ''}` : e.name;
      inside.set(key, (inside.get(key) ?? 0) + e.dur! / 1000);
    }
    console.log(`task of ${(task.dur! / 1000).toFixed(0)} ms at ${((task.ts - t0) / 1e6).toFixed(2)} s (trace clock):`);
    for (const [k, ms] of [...inside.entries()].sort((x, y) => y[1] - x[1]).slice(0, 12))
      console.log(`  ${ms.toFixed(1).padStart(7)} ms  ${k}`);
    for (const e of onMain)
      if (e.name === 'Layout' && e.dur! > 20_000 && e.ts >= task.ts && e.ts <= task.ts + task.dur!)
        console.log(
          `  a layout of ${(e.dur! / 1000).toFixed(0)} ms: ${e.args?.beginData?.dirtyObjects} of ${e.args?.beginData?.totalObjects} objects dirty${e.args?.beginData?.partialLayout ? ' (partial)' : ''}`,
        );
    const self = new Map<string, number>();
    const total = new Map<string, number>();
    for (const smp of sampleAt) {
      if (smp.ts < task.ts || smp.ts > task.ts + task.dur!) continue;
      const k = frameKey(smp.id);
      self.set(k, (self.get(k) ?? 0) + smp.dt);
      for (const f of stackKeys(smp.id)) total.set(f, (total.get(f) ?? 0) + smp.dt);
    }
    console.log('  sampled in it, self:');
    for (const [k, ms] of [...self.entries()].sort((x, y) => y[1] - x[1]).slice(0, 10))
      console.log(`  ${ms.toFixed(1).padStart(7)} ms  ${k}`);
    console.log("  sampled in it, inclusive (the app's own functions):");
    for (const [k, ms] of [...total.entries()]
      .filter(([k]) => {
        const [name = '', file = ''] = k.split(' ');
        return !name.startsWith('(') && !/^(vendor-|react|chunk-|zustand|scheduler)|^:0$/.test(file);
      })
      .sort((x, y) => y[1] - x[1])
      .slice(0, 25))
      console.log(`  ${ms.toFixed(1).padStart(7)} ms  ${k}`);
  }
}
