/**
 * The shareable URL: the whole RunConfig in the URL hash as `#config=1.<base64url(JSON)>`, where
 * the JSON holds only the fields that differ from the app's defaults (sections nested, lists
 * whole), so the default config is `#config=1.e30`. Decoding validates everything and never
 * throws: bad input gives a clear error and the defaults. The hash may also carry `backend=NAME`
 * (webgpu | webgl | wasm | cpu | auto), e.g. `#backend=wasm` to force a backend.
 *
 * A share link may also carry the viewed results: `results=r1.<base64url(deflate-raw(JSON))>`, the
 * whole results file (mfmb-results/1) compressed with the browser's CompressionStream, when the
 * whole link stays within MAX_SHARE_URL characters; a bigger one is left out and the sender is told
 * to send the exported file instead. Decoding is async (DecompressionStream), bounded (token length,
 * unpacked size) and goes through the same checks as an imported file (checkResultsFile).
 */
import { defaultRunConfig, type RunConfig } from '../core/config/config.ts';
import { BACKEND_ORDER, type BackendName } from '../worker/protocol.ts';
import { configError, mergeOntoDefaults, normalizeConfig } from '../core/config/validateConfig.ts';
import { checkResultsFile, jsonProblem } from '../core/eval/resultsSchema.ts';
import type { ResultsFile } from '../core/eval/results.ts';

export const CONFIG_PARAM = 'config';
export const BACKEND_PARAM = 'backend';
export const RESULTS_PARAM = 'results';
const RESULTS_VERSION = 'r1';
/** The longest share link that carries results (characters); longer ones leave the results out. */
export const MAX_SHARE_URL = 8192;
/** A results token longer than this is refused unread (a link cannot be that long by our making). */
const MAX_RESULTS_TOKEN = 64 * 1024;
/** Unpacked JSON above this is refused: a small token must not unpack into a page-filling bomb. */
const MAX_RESULTS_UNPACKED = 4 * 1024 * 1024;
const VERSION = '1';
const MAX_ENCODED = 100_000;
/** A config diff is at most 4 levels deep (model.branches.macro, lists); anything far beyond is hostile. */
const URL_JSON_LIMITS = { maxDepth: 8, maxNodes: 20_000, maxStringLength: 1_000 };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The defaults every URL is relative to (normalized, so derived fields never show up as changes). */
export function baseConfig(): RunConfig {
  return normalizeConfig(defaultRunConfig());
}

/** Fields of `c` that differ from `base`; sections recurse, everything else compares whole. */
export function configDiff(c: RunConfig, base: RunConfig = baseConfig()): Obj {
  const walk = (a: Obj, b: Obj): Obj => {
    const out: Obj = {};
    for (const k of Object.keys(a)) {
      if (isObj(a[k]) && isObj(b[k])) {
        const sub = walk(a[k] as Obj, b[k] as Obj);
        if (Object.keys(sub).length) out[k] = sub;
      } else if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) {
        out[k] = a[k];
      }
    }
    return out;
  };
  return walk(c as unknown as Obj, base as unknown as Obj);
}

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function bytesToBase64Url(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function base64UrlToBytes(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Error('it contains characters that are not base64url');
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  let bin: string;
  try {
    bin = atob(b64);
  } catch {
    throw new Error('it is not valid base64url');
  }
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}

function fromBase64Url(s: string): string {
  return new TextDecoder('utf-8', { fatal: true }).decode(base64UrlToBytes(s));
}

/** The config as the compact token that follows `config=` (version prefix included). */
export function encodeConfig(c: RunConfig): string {
  return `${VERSION}.${toBase64Url(JSON.stringify(configDiff(normalizeConfig(c))))}`;
}

export type DecodeResult = { ok: true; config: RunConfig } | { ok: false; error: string; config: RunConfig };

/** Token → config. Never throws: on any problem, ok=false, a message for a notice, and the defaults. */
export function decodeConfig(token: string): DecodeResult {
  const fail = (why: string): DecodeResult => ({
    ok: false,
    error: `The shared link's config could not be used: ${why}. The defaults were loaded instead.`,
    config: baseConfig(),
  });
  try {
    if (typeof token !== 'string' || token.length === 0) return fail('it is empty');
    if (token.length > MAX_ENCODED) return fail('it is too long');
    const dot = token.indexOf('.');
    if (dot < 0) return fail('it has no version prefix (expected "1.…")');
    const version = token.slice(0, dot);
    if (version !== VERSION) return fail(`version "${version}" is not supported (this app reads version ${VERSION})`);
    let json: string;
    try {
      json = fromBase64Url(token.slice(dot + 1));
    } catch (e) {
      return fail((e as Error).message);
    }
    let patch: unknown;
    try {
      patch = JSON.parse(json);
    } catch {
      return fail('it is not valid JSON');
    }
    // Prototype keys, depth and size first: nothing hostile reaches the merge.
    const shape = jsonProblem(patch, URL_JSON_LIMITS, 'config');
    if (shape) return fail(shape);
    const { config, errors } = mergeOntoDefaults(patch, baseConfig());
    if (errors.length)
      return fail(errors.slice(0, 3).join('; ') + (errors.length > 3 ? ` (and ${errors.length - 3} more)` : ''));
    const problem = configError(config);
    if (problem) return fail(problem);
    return { ok: true, config: normalizeConfig(config) };
  } catch (e) {
    return fail(`unexpected problem (${(e as Error)?.message ?? String(e)})`);
  }
}

/** `#config=1.…` (plus `&backend=NAME` when given and not 'auto'). */
export function configToHash(c: RunConfig, backend?: BackendName | 'auto'): string {
  const params = new URLSearchParams();
  params.set(CONFIG_PARAM, encodeConfig(c));
  if (backend && backend !== 'auto') params.set(BACKEND_PARAM, backend);
  return `#${params.toString()}`;
}

/** A full shareable link: `base` (default: the current page without its hash) + the config hash. */
export function shareUrl(c: RunConfig, base?: string, backend?: BackendName | 'auto'): string {
  const href = base ?? (typeof location !== 'undefined' ? location.href : 'http://localhost/');
  return href.split('#')[0] + configToHash(c, backend);
}

export interface UrlState {
  config: RunConfig | null; // null: the URL names no config
  backend: BackendName | 'auto' | null; // null: the URL names no backend
  error: string | null; // for a notice; config then holds the defaults
  results: string | null; // the `results=` token, undecoded (decodeResults is async); null: none
}

/**
 * Reads a URL's hash and query (`#config=…&backend=…`, `?backend=…`; the hash wins). Accepts a
 * full URL, a `#…` hash or a `?…` query.
 */
export function readUrlState(url: string): UrlState {
  const state: UrlState = { config: null, backend: null, error: null, results: null };
  let hash = '';
  let search = '';
  const h = url.indexOf('#');
  if (h >= 0) hash = url.slice(h + 1);
  const before = h >= 0 ? url.slice(0, h) : url;
  const q = before.indexOf('?');
  if (q >= 0) search = before.slice(q + 1);
  let params: URLSearchParams[];
  try {
    params = [new URLSearchParams(hash), new URLSearchParams(search)];
  } catch {
    return { ...state, error: 'The link could not be read; the defaults were loaded instead.' };
  }
  const errors: string[] = [];
  const token = params.map((p) => p.get(CONFIG_PARAM)).find((v) => v !== null);
  if (token !== undefined && token !== null) {
    const r = decodeConfig(token);
    state.config = r.config;
    if (!r.ok) errors.push(r.error);
  }
  const b = params.map((p) => p.get(BACKEND_PARAM)).find((v) => v !== null);
  if (b !== undefined && b !== null) {
    if (b === 'auto' || (BACKEND_ORDER as readonly string[]).includes(b)) state.backend = b as BackendName | 'auto';
    else
      errors.push(
        `The link asks for backend "${b}", which does not exist (${BACKEND_ORDER.join(', ')} or auto); using auto.`,
      );
  }
  const r = params.map((p) => p.get(RESULTS_PARAM)).find((v) => v !== null);
  if (r !== undefined && r !== null) state.results = r;
  state.error = errors.length ? errors.join(' ') : null;
  return state;
}

// ----------------------------------------------------------------------------- results in the link

async function deflateRaw(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Inflates at most `cap` bytes; more (a decompression bomb) or corrupt data throws a message. */
async function inflateRaw(bytes: Uint8Array, cap: number): Promise<Uint8Array> {
  const reader = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > cap) {
        void reader.cancel().catch(() => undefined);
        throw new Error(`it unpacks to more than ${cap / 1048576} MB`);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('it unpacks')) throw e;
    throw new Error('it is not valid compressed data (cut short or changed?)', { cause: e });
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** A results file as the token that follows `results=`: `r1.` + base64url of its deflate-raw'd JSON. */
export async function encodeResults(file: ResultsFile): Promise<string> {
  const packed = await deflateRaw(new TextEncoder().encode(JSON.stringify(file)));
  return `${RESULTS_VERSION}.${bytesToBase64Url(packed)}`;
}

export type ResultsDecode = { ok: true; file: ResultsFile } | { ok: false; error: string };

/**
 * Token → results file, fully checked as an imported file is (checkResultsFile). Never throws
 * (rejects): any problem is a message for a notice that says what to do instead.
 */
export async function decodeResults(token: string): Promise<ResultsDecode> {
  const fail = (why: string): ResultsDecode => ({
    ok: false,
    error: `The shared link's results could not be read: ${why}. Ask for the exported results file and import it (Runs → Import results JSON…).`,
  });
  try {
    if (typeof token !== 'string' || token.length === 0) return fail('they are empty');
    if (token.length > MAX_RESULTS_TOKEN) return fail('the link is too long');
    const dot = token.indexOf('.');
    if (dot < 0) return fail(`they have no version prefix (expected "${RESULTS_VERSION}.…")`);
    const version = token.slice(0, dot);
    if (version !== RESULTS_VERSION)
      return fail(`version "${version}" is not supported (this app reads ${RESULTS_VERSION})`);
    let bytes: Uint8Array;
    try {
      bytes = base64UrlToBytes(token.slice(dot + 1));
    } catch (e) {
      return fail((e as Error).message);
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(await inflateRaw(bytes, MAX_RESULTS_UNPACKED));
    } catch (e) {
      return fail((e as Error).message.startsWith('it ') ? (e as Error).message : 'it is not UTF-8 text');
    }
    try {
      return { ok: true, file: checkResultsFile(text) };
    } catch (e) {
      return fail((e as Error).message);
    }
  } catch (e) {
    return fail(`unexpected problem (${(e as Error)?.message ?? String(e)})`);
  }
}

export interface ShareLink {
  url: string;
  /** 'included': the results travel in the link; 'too-big': left out (send the file); 'none': no results given. */
  results: 'included' | 'too-big' | 'none';
  length: number; // characters of the link with the results, when they were tried
}

/**
 * A share link for the config and, when it fits in MAX_SHARE_URL characters (`limit`), the results:
 * `…#config=1.…&results=r1.…`. Checked by decoding both back before it is handed out.
 */
export async function shareLink(
  c: RunConfig,
  file: ResultsFile | null,
  base?: string,
  backend?: BackendName | 'auto',
  limit = MAX_SHARE_URL,
): Promise<ShareLink> {
  const plain = shareUrl(c, base, backend);
  if (!file) return { url: plain, results: 'none', length: plain.length };
  const token = await encodeResults(file);
  const url = `${plain}&${RESULTS_PARAM}=${token}`;
  if (url.length > limit) return { url: plain, results: 'too-big', length: url.length };
  return { url, results: 'included', length: url.length };
}

/** The hash without its `results=` part (after the results were imported, so a reload does not import them again). */
export function withoutResults(hash: string): string {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  params.delete(RESULTS_PARAM);
  const rest = params.toString();
  return rest ? `#${rest}` : '';
}
