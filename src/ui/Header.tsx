import { BACKEND_ORDER, type BackendName } from '../worker/protocol.ts';
import { heldAction, PRESET_BUTTONS, useAppStore } from './bindings.ts';
import { useBusy } from './hooks.ts';
import { formatDuration } from '../core/eval/estimate.ts';
import type { PresetEstimate } from '../state/slices/estimates.ts';
import { WorkshopButton } from './Workshop.tsx';

const BACKEND_LABEL: Record<BackendName | 'auto', string> = {
  auto: 'auto (fastest measured)',
  webgpu: 'WebGPU',
  webgl: 'WebGL',
  wasm: 'WebAssembly (wasm)',
  cpu: 'CPU (plain JS)',
};

export function Header() {
  return (
    <header className="topbar">
      <div className="brand">
        <svg className="brand-mark" viewBox="0 0 32 32" aria-hidden="true">
          <rect width="32" height="32" rx="7" fill="#2f5d8a" />
          <path
            d="M6 22l6-10 6 6 8-12"
            stroke="#fff"
            strokeWidth="2.6"
            fill="none"
            strokeLinecap="round"
            strokeLinejoin="round"
          />
          <circle cx="26" cy="6" r="2.4" fill="#f2b84b" />
        </svg>
        <div>
          <h1 className="brand-name">MFMB Playground</h1>
          <p className="brand-tag">
            Multimodal sentiment under missing data — MFMB-Net (AAAI 2025), trained in your browser
          </p>
        </div>
      </div>
      <BackendBox />
    </header>
  );
}

/** "wasm · 2 threads", "wasm · 1 thread — not cross-origin isolated", or just the backend's name. */
export function backendBadge(b: {
  active: BackendName | null;
  wasm?: { threads: number; isolated: boolean } | null;
}): string {
  if (!b.active) return 'starting…';
  if (b.active !== 'wasm' || !b.wasm) return b.active;
  const n = b.wasm.threads;
  return `wasm · ${n} thread${n === 1 ? '' : 's'}${b.wasm.isolated ? '' : ' — not cross-origin isolated'}`;
}

function wasmTitle(w: { binary: string; threads: number; isolated: boolean; cores: number }): string {
  if (!w.isolated)
    return (
      `${w.binary}, 1 thread: the page is not cross-origin isolated (no COOP/COEP headers), so the ` +
      'browser gives it no SharedArrayBuffer and tfjs-wasm cannot start threads.'
    );
  return (
    `${w.binary}, ${w.threads} thread${w.threads === 1 ? '' : 's'}: tfjs-wasm's pool is half the ` +
    `logical cores (${w.cores} here).`
  );
}

function BackendBox() {
  const backend = useAppStore((s) => s.backend);
  const selectBackend = useAppStore((s) => s.selectBackend);
  const remeasure = useAppStore((s) => s.remeasureBackend);
  const busy = useBusy();
  const webgpuFail = backend.tried.find((t) => t.name === 'webgpu' && !t.ok);
  const failures = backend.tried.filter((t) => !t.ok);
  const auto = backend.requested === 'auto' && backend.active ? backend.auto : null;
  const fallback =
    !auto && backend.active && backend.active !== 'webgpu' && webgpuFail
      ? webgpuFail.reason?.startsWith('WebGPU unavailable')
        ? webgpuFail.reason
        : `WebGPU unavailable: ${webgpuFail.reason ?? 'no reason given'}`
      : null;
  const title = [
    ...(backend.wasm && backend.active === 'wasm' ? [wasmTitle(backend.wasm)] : []),
    ...failures.map((f) => `${f.name}: ${f.reason ?? 'failed'}`),
  ].join('\n');
  return (
    <div className="backend" role="group" aria-label="Compute backend">
      <div className="backend-row">
        <span className="backend-label">Backend</span>
        <span
          className={`backend-name${backend.active ? '' : ' is-pending'}`}
          data-testid="backend-name"
          data-backend={backend.active ?? ''}
          data-threads={backend.active === 'wasm' && backend.wasm ? backend.wasm.threads : undefined}
          title={title || undefined}
        >
          {backendBadge(backend)}
        </span>
        <label className="sr-only" htmlFor="backend-select">
          Choose the backend
        </label>
        <select
          id="backend-select"
          data-testid="backend-select"
          value={backend.requested}
          disabled={busy}
          title={busy ? 'stop the job to change the backend' : 'Which tfjs backend the training worker uses'}
          onChange={(e) => selectBackend(e.target.value as BackendName | 'auto')}
        >
          {(['auto', ...BACKEND_ORDER] as const).map((b) => (
            <option key={b} value={b}>
              {BACKEND_LABEL[b]}
            </option>
          ))}
        </select>
      </div>
      {auto ? (
        <div className="backend-fallback" data-testid="backend-fallback">
          <span data-testid="backend-reason">
            {backend.active} — {auto.reason}
            {auto.remembered ? ' (remembered for this browser)' : ''}
          </span>{' '}
          <button
            type="button"
            className="btn btn-small btn-ghost"
            data-testid="backend-remeasure"
            disabled={busy}
            title="Time the backends again and keep the fastest"
            onClick={remeasure}
          >
            Re-measure
          </button>
        </div>
      ) : fallback ? (
        <div className="backend-fallback" data-testid="backend-fallback">
          {fallback}
        </div>
      ) : failures.length && backend.requested !== 'auto' && backend.active !== backend.requested ? (
        <div className="backend-fallback" data-testid="backend-fallback">
          {failures.map((f) => `${f.name}: ${f.reason ?? 'failed'}`).join(' · ')}
        </div>
      ) : null}
    </div>
  );
}

export function PresetBar() {
  const applyPreset = useAppStore((s) => s.applyPreset);
  const estimates = useAppStore((s) => s.estimates);
  const busy = useBusy();
  return (
    <nav className="presets" aria-label="One-click experiments">
      <span className="presets-label">One-click experiments</span>
      {PRESET_BUTTONS.map((p) => {
        const e = estimates[p.id];
        const time = estimateText(e);
        return (
          <button
            key={p.testId}
            type="button"
            className={`btn btn-preset${p.id.endsWith('-paper') ? ' btn-preset-paper' : ''}`}
            data-testid={`preset-${p.testId}`}
            disabled={busy}
            title={busy ? 'a job is running: stop it first' : `${p.hint}${time ? ` — ${time}` : ''}`}
            onClick={() => heldAction(() => applyPreset(p.id, true))}
          >
            <span className="btn-preset-title">{p.label}</span>
            <span className="btn-preset-hint">{p.hint}</span>
            <span className="btn-preset-time" data-testid={`preset-time-${p.testId}`} data-seconds={e?.seconds}>
              {time ?? '\u00a0'}
            </span>
          </button>
        );
      })}
      <WorkshopButton />
    </nav>
  );
}

/** "≈ 2 min here", with the early-stopping range when it matters; null while there is nothing to say. */
export function estimateText(e: PresetEstimate | undefined): string | null {
  if (!e) return null;
  if (e.status === 'measuring') return 'timing a step on this device…';
  if (e.status === 'unavailable' || e.seconds === undefined) return null;
  const up = formatDuration(e.seconds);
  const soon = e.soonestSeconds !== undefined ? formatDuration(e.soonestSeconds) : up;
  return soon !== up ? `${soon}–${up} here (early stopping decides)` : `≈ ${up} here`;
}
