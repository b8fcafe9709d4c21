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
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(u8.subarray(12, 12 + h)));
  } catch {
    throw bad('the header is not valid JSON');
  }
  if (header.format !== WEIGHTS_FORMAT)
    throw bad(`format ${JSON.stringify(header.format)} is not supported (expected "${WEIGHTS_FORMAT}")`);
  const names = header.names;
  const shapes = header.shapes;
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string'))
    throw bad('"names" must be a list of strings');
  if (
    !Array.isArray(shapes) ||
    shapes.length !== names.length ||
    !shapes.every((s) => Array.isArray(s) && s.every((d) => Number.isInteger(d) && d >= 0))
  ) {
    throw bad('"shapes" must hold one list of sizes per name');
  }
  const setting = header.setting as ModelSetting | undefined;
  if (!setting || typeof setting.arch !== 'string' || typeof setting.branches !== 'object' || setting.branches === null)
    throw bad('"setting" is missing');
  if (!Number.isInteger(header.seed)) throw bad('"seed" must be an integer');
  if (typeof header.config !== 'object' || header.config === null) throw bad('"config" is missing');
  const start = Math.ceil((12 + h) / 4) * 4;
  const total = (shapes as number[][]).reduce((s, shape) => s + sizeOf(shape), 0);
  if (u8.length - start !== total * 4)
    throw bad(`expected ${total} float32 values after the header, found ${Math.max(0, (u8.length - start) / 4)}`);
  const values = new DataView(u8.buffer, u8.byteOffset + start, total * 4);
  const data = new Float32Array(total);
  for (let i = 0; i < total; i++) data[i] = values.getFloat32(i * 4, true);
  const tool = (header.tool ?? { name: 'unknown', version: '' }) as { name: string; version: string };
  return {
    format: WEIGHTS_FORMAT,
    createdAt: String(header.createdAt ?? ''),
    tool,
    config: header.config as RunConfig,
    setting,
    seed: header.seed as number,
    names: names as string[],
    shapes: shapes as number[][],
    data,
  };
}
