/**
 * Where the page's main thread spends its time while a job trains (`npm run measure:main-thread`):
 *
 *   npm run measure:main-thread [-- --preset quick-demo] [--dev] [--no-build] [--top 25]
 *
 * Opens the built app in Chromium on wasm, starts a one-click preset, records a CPU profile of the
 * page (Chrome DevTools Protocol, main thread only: the worker is a separate target) until the job
 * ends, and prints the long tasks (> 50 ms) and the functions with the most self time. The app's
 * rule is that no main-thread task passes 50 ms; this is how to find the one that does.
 */
import { chromiumPath, launchGuarded, longestTask, serveApp } from './env.ts';
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
interface Profile {
  nodes: ProfileNode[];
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
  const loadTasks = await page.evaluate(() =>
    ((window as unknown as { __e2eLongTasks?: { start: number; duration: number }[] }).__e2eLongTasks ?? []).map(
      (t) => `${Math.round(t.start)}: ${Math.round(t.duration)}`,
    ),
  );
  console.log(`long tasks while the page loaded (ms since navigation: duration): ${loadTasks.join(', ') || 'none'}`);
  const since = await page.evaluate(() => performance.now());
  const t0 = Date.now();
  await page.getByTestId(`preset-${preset}`).click();
  await waitStatus(page, ['done', 'error'], 600_000);
  const { profile } = (await cdp.send('Profiler.stop')) as { profile: Profile };
  const tasks = await page.evaluate(
    (s) =>
      ((window as unknown as { __e2eLongTasks?: { start: number; duration: number }[] }).__e2eLongTasks ?? [])
        .filter((t) => t.start >= s)
        .map((t) => ({ at: Math.round(t.start - s), ms: Math.round(t.duration) })),
    since,
  );
  console.log(
    `job ran ${((Date.now() - t0) / 1000).toFixed(1)} s; longest task ${(await longestTask(page, since)).toFixed(0)} ms`,
  );
  console.log(
    `long tasks (ms after the click: duration): ${tasks.map((t) => `${t.at}: ${t.ms}`).join(', ') || 'none'}`,
  );

  // Long tasks found in the profile itself: runs of consecutive non-idle samples over 50 ms (no
  // clock to align with the page's), each with the functions that took most of it.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const frameKey = (id: number) => {
    const f = byId.get(id)!.callFrame;
    return `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
  };
  const runs: { ms: number; at: number; self: Map<string, number> }[] = [];
  let cur: { ms: number; at: number; self: Map<string, number> } | null = null;
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
    cur ??= { ms: 0, at: clock, self: new Map() };
    cur.ms += dt;
    cur.self.set(key, (cur.self.get(key) ?? 0) + dt);
  });
  for (const r of runs.sort((x, y) => y.ms - x.ms).slice(0, 3)) {
    console.log(`busy run of ${r.ms.toFixed(0)} ms at ${(r.at / 1000).toFixed(2)} s:`);
    for (const [k, ms] of [...r.self.entries()].sort((x, y) => y[1] - x[1]).slice(0, 8))
      console.log(`  ${ms.toFixed(1).padStart(7)} ms  ${k}`);
  }

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
