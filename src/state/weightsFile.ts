/**
 * The trained-weights file ("mfmb-weights/1"): what 'Download weights' saves and 'Import weights'
 * reads back. Layout (little-endian):
 *   bytes 0–7   ASCII "MFMBWTS1"
 *   bytes 8–11  uint32 header length H
 *   12 … 12+H   UTF-8 JSON header { format, createdAt, tool, config, setting, seed, names, shapes }
 *   padding to a multiple of 4, then every tensor's float32 values in `names` order.
 * Names are the PyTorch state-dict names the core uses; the config is the one the run trained with,
 * so the same model can be rebuilt.
 */
import type { RunConfig } from '../core/config/config.ts';
import type { ModelSetting } from '../core/eval/experiment.ts';
import { jsonProblem } from '../core/eval/resultsSchema.ts';

export const WEIGHTS_FORMAT = 'mfmb-weights/1';
const MAGIC = 'MFMBWTS1';

export interface WeightsFile {
  format: typeof WEIGHTS_FORMAT;
  createdAt: string;
  tool: { name: string; version: string };
  config: RunConfig;
  setting: ModelSetting;
  seed: number;
  names: string[];
  shapes: number[][];
  data: Float32Array; // all values, concatenated in `names` order
}

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** What a header may hold: the biggest preset has a few hundred tensors. */
export const WEIGHTS_LIMITS = {
  maxHeaderBytes: 4 * 1024 * 1024,
  maxTensors: 10_000,
  maxRank: 8,
  maxValues: 2 ** 28, // 1 GB of float32
  json: { maxDepth: 12, maxNodes: 200_000, maxStringLength: 1_000 },
} as const;
const ARCHS = ['mfmb', 'fc-t', 'fc-a', 'fc-v', 'concat'];
const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

export function encodeWeightsFile(w: Omit<WeightsFile, 'format'>): Uint8Array<ArrayBuffer> {
  const { data, ...rest } = w;
  const header = new TextEncoder().encode(JSON.stringify({ format: WEIGHTS_FORMAT, ...rest }));
  const start = Math.ceil((12 + header.length) / 4) * 4;
  const out = new Uint8Array(start + data.byteLength);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, 12);
  const values = new DataView(out.buffer, start);
  for (let i = 0; i < data.length; i++) values.setFloat32(i * 4, data[i], true);
  return out;
}

/** Parses and checks a weights file; throws an Error whose message says what is wrong. */
export function decodeWeightsFile(bytes: ArrayBuffer | Uint8Array): WeightsFile {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const bad = (why: string) => new Error(`weights file: ${why}`);
  if (u8.length < 12 || new TextDecoder().decode(u8.subarray(0, 8)) !== MAGIC)
    throw bad(`not an MFMB weights file (it must start with "${MAGIC}")`);
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const h = view.getUint32(8, true);
  if (12 + h > u8.length) throw bad('the header is truncated');
  if (h > WEIGHTS_LIMITS.maxHeaderBytes)
    throw bad(`the header is ${h} bytes (at most ${WEIGHTS_LIMITS.maxHeaderBytes})`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(u8.subarray(12, 12 + h)));
  } catch {
    throw bad('the header is not valid JSON');
  }
  // Prototype keys, nesting and size before any field is read.
  const shape = jsonProblem(parsed, WEIGHTS_LIMITS.json, 'the header');
  if (shape) throw bad(shape);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('the header is not an object');
  const header = Object.assign(Object.create(null) as Record<string, unknown>, parsed);
  if (header.format !== WEIGHTS_FORMAT)
    throw bad(`format ${JSON.stringify(header.format)} is not supported (expected "${WEIGHTS_FORMAT}")`);
  const names = header.names;
  const shapes = header.shapes;
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string'))
    throw bad('"names" must be a list of strings');
  if (names.length > WEIGHTS_LIMITS.maxTensors)
    throw bad(`${names.length} tensors (at most ${WEIGHTS_LIMITS.maxTensors})`);
  if (
    !Array.isArray(shapes) ||
    shapes.length !== names.length ||
    !shapes.every(
      (s) =>
        Array.isArray(s) &&
        s.length <= WEIGHTS_LIMITS.maxRank &&
        s.every((d) => Number.isInteger(d) && d >= 0 && d <= WEIGHTS_LIMITS.maxValues),
    )
  ) {
    throw bad('"shapes" must hold one list of sizes per name');
  }
  const st = header.setting;
  if (typeof st !== 'object' || st === null || Array.isArray(st)) throw bad('"setting" is missing');
  const stArch = own(st, 'arch') ? (st as Record<string, unknown>).arch : undefined;
  const br = own(st, 'branches') ? (st as Record<string, unknown>).branches : undefined;
  if (typeof stArch !== 'string' || !ARCHS.includes(stArch))
    throw bad(`"setting.arch" must be one of ${ARCHS.join(' | ')}`);
  if (
    typeof br !== 'object' ||
    br === null ||
    !['macro', 'micro', 'recon'].every((k) => own(br, k) && typeof (br as Record<string, unknown>)[k] === 'boolean')
  )
    throw bad('"setting.branches" must say true or false for macro, micro and recon');
  const b = br as Record<string, boolean>;
  const setting: ModelSetting = {
    arch: stArch as ModelSetting['arch'],
    branches: { macro: b.macro, micro: b.micro, recon: b.recon },
  };
  if (!Number.isInteger(header.seed) || (header.seed as number) < 0 || (header.seed as number) > 2 ** 32 - 1)
    throw bad('"seed" must be an integer in [0, 2^32 - 1]');
  if (typeof header.config !== 'object' || header.config === null || Array.isArray(header.config))
    throw bad('"config" is missing');
  const start = Math.ceil((12 + h) / 4) * 4;
  const total = (shapes as number[][]).reduce((s, shape) => s + sizeOf(shape), 0);
  if (!(total <= WEIGHTS_LIMITS.maxValues))
    throw bad(`the shapes ask for ${total} values (at most ${WEIGHTS_LIMITS.maxValues})`);
  if (u8.length - start !== total * 4)
    throw bad(`expected ${total} float32 values after the header, found ${Math.max(0, (u8.length - start) / 4)}`);
  const values = new DataView(u8.buffer, u8.byteOffset + start, total * 4);
  const data = new Float32Array(total);
  for (let i = 0; i < total; i++) data[i] = values.getFloat32(i * 4, true);
  const t = header.tool;
  const tool =
    typeof t === 'object' && t !== null && !Array.isArray(t)
      ? {
          name: String(own(t, 'name') ? (t as Record<string, unknown>).name : 'unknown'),
          version: String(own(t, 'version') ? (t as Record<string, unknown>).version : ''),
        }
      : { name: 'unknown', version: '' };
  return {
    format: WEIGHTS_FORMAT,
    createdAt: typeof header.createdAt === 'string' ? header.createdAt : '',
    tool,
    config: header.config as RunConfig,
    setting,
    seed: header.seed as number,
    names: names as string[],
    shapes: shapes as number[][],
    data,
  };
}
