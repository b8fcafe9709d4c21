/** Small pure helpers for the UI: formatting, labels, colours, downloads. No tfjs here. */
import { sameBranches, type Branches } from '../core/config/config.ts';
import type { ModelSetting } from '../core/eval/experiment.ts';
import { defaultRowLabel } from '../core/eval/tables.ts';

export { sameBranches };

/** Stable slug for a branch setting: 'all', 'wo-macro', 'wo-micro', 'wo-recon', else e.g. 'macro-recon'. */
export function branchSlug(b: Branches): string {
  if (b.macro && b.micro && b.recon) return 'all';
  const off = (['macro', 'micro', 'recon'] as const).filter((k) => !b[k]);
  if (off.length === 1) return `wo-${off[0]}`;
  const on = (['macro', 'micro', 'recon'] as const).filter((k) => b[k]);
  return on.length ? on.join('-') : 'none';
}

export function settingLabel(s: ModelSetting | null | undefined): string {
  if (!s) return '—';
  return defaultRowLabel(s);
}

export function fmtSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '—';
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(sec).padStart(2, '0')} s`;
  return `${sec} s`;
}

// One formatter each, made once: `toLocaleString` with a locale builds a new Intl formatter per
// call (milliseconds each: the job-start render formats every parameter count and date).
const INT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const DATE = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric',
  month: 'short',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
});

export function fmtInt(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return INT.format(Math.round(n));
}

export function fmtNum(n: number | null | undefined, digits = 3): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return n.toFixed(digits);
}

export function fmtDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return DATE.format(d);
}

/** Exponential moving average with TensorBoard-style debiasing; alpha = 0 returns the input. */
export function ema(values: (number | null)[], alpha: number): (number | null)[] {
  if (alpha <= 0) return values.slice();
  let acc = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    acc = alpha * acc + (1 - alpha) * v;
    n++;
    return acc / (1 - alpha ** n);
  });
}

/** Colour-blind friendly (Okabe–Ito based) series colours. */
export const PALETTE = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#7A5C99',
  '#999933',
  '#882255',
  '#44AA99',
];
export const colorAt = (i: number) => PALETTE[i % PALETTE.length];

/** Saves a Blob through a temporary <a download>; no network involved. */
export function downloadBlob(filename: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function safeFileName(s: string): string {
  return (
    s
      .replace(/[^\w.-]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 80) || 'mfmb'
  );
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Parses "0, 0.1, 0.2" into numbers (the CLI's rule, from the shared config validator). */
export { parseNumberList } from '../core/config/validateConfig.ts';

export function formatNumberList(list: number[]): string {
  return list.map((n) => String(Number(n.toFixed(6)))).join(', ');
}

/** Axis tick text: 3 significant digits, so close ticks (1.023, 1.027) stay apart. */
export function fmtTick(v: number): string {
  if (!Number.isFinite(v)) return '';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  return String(Number(v.toPrecision(3)));
}

/**
 * A formatter for one axis's ticks with as few decimals as keep every tick's label distinct and
 * exact (0.0025-step ticks get 4 decimals, so 1.0275 and 1.03 never both read "1.03").
 */
export function tickFormat(ticks: number[]): (v: number) => string {
  if (ticks.length < 2) return fmtTick;
  for (let d = 0; d <= 8; d++) {
    const labels = ticks.map((t) => t.toFixed(d));
    const exact = ticks.every((t, i) => Math.abs(Number(labels[i]) - t) <= Math.abs(t) * 1e-9 + 1e-12);
    if (exact && new Set(labels).size === labels.length)
      return (v: number) => (Number.isFinite(v) ? (Math.abs(v) < 0.5 * 10 ** -d ? (0).toFixed(d) : v.toFixed(d)) : '');
  }
  return fmtTick;
}

/** A "nice" step (1, 2, 2.5, 5 × 10^k) that splits `span` into about `n` parts. */
export function niceStep(span: number, n = 4): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
}

/** Axis bounds rounded outwards to nice steps, optionally always including 0. */
export function niceDomain(min: number, max: number, withZero: boolean): [number, number] {
  let lo = withZero ? Math.min(0, min) : min;
  let hi = withZero ? Math.max(0, max) : max;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi - lo < 1e-12) {
    hi += Math.abs(hi) * 0.1 || 1;
    if (!withZero) lo -= Math.abs(lo) * 0.1 || 1;
  }
  const step = niceStep(hi - lo);
  return [Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step];
}

/** Nice domain plus its evenly spaced ticks (integer multiples of the step: no float noise in labels). */
export function niceAxis(min: number, max: number, withZero: boolean): { domain: [number, number]; ticks: number[] } {
  const domain = niceDomain(min, max, withZero);
  const step = niceStep(domain[1] - domain[0]);
  // Ticks as integer multiples of the step, not by repeated addition: 0 comes out as exactly 0
  // (never 2.78e-17), and no two ticks can round to the same label.
  const first = Math.round(domain[0] / step);
  const last = Math.round(domain[1] / step);
  const ticks: number[] = [];
  for (let k = first; k <= last && ticks.length < 30; k++) ticks.push(k === 0 ? 0 : Number((k * step).toPrecision(12)));
  const lo = Number((first * step).toPrecision(12));
  const hi = Number((last * step).toPrecision(12));
  return { domain: [lo, hi], ticks };
}
