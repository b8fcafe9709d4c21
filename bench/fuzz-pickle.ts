/**
 * `npm run fuzz`: feeds thousands of mutated pickle fixtures (byte flips, insertions, deletions,
 * forged length fields, truncations, spliced opcodes) to the safe pickle reader and prints how each
 * ended: read fine, refused a global, or which FileFormatError; plus the slowest input and the
 * memory high-water mark. Anything other than FileFormatError is a crash and exits non-zero, as does
 * an internal error that the reader only caught and wrapped ("cannot read this pickle (…)").
 *
 *   npm run fuzz [-- --count 5000] [-- --seed 7]
 *
 * The mutator is exported for src/core/data/files/pickle.fuzz.test.ts (a few hundred inputs in CI).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readPickle } from '../src/core/data/files/pickle.ts';
import { bytesSource, FileFormatError } from '../src/core/data/files/source.ts';

export const FIXTURE_DIR = fileURLToPath(new URL('../src/core/data/files/__fixtures__/pickle/', import.meta.url));

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The fixtures to mutate (every .pkl, hostile ones included). */
export function loadCorpus(): { name: string; bytes: Uint8Array }[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.pkl'))
    .sort()
    .map((name) => ({ name, bytes: new Uint8Array(readFileSync(FIXTURE_DIR + name)) }));
}

// Opcodes worth splicing in: the ones with length fields, marks, memo and call opcodes.
const OPS = [
  0x28, 0x2e, 0x30, 0x31, 0x32, 0x42, 0x43, 0x52, 0x54, 0x55, 0x58, 0x5d, 0x61, 0x62, 0x65, 0x68, 0x6a, 0x71, 0x72,
  0x73, 0x74, 0x75, 0x7d, 0x81, 0x85, 0x86, 0x87, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94,
  0x95, 0x96,
];
const LENGTHS = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff, 2 ** 40, 2 ** 53, 2 ** 60, 2 ** 64 - 1];

export type Mutation = 'flip' | 'insert' | 'delete' | 'forge-length' | 'truncate' | 'splice-op' | 'duplicate';
const MUTATIONS: Mutation[] = ['flip', 'insert', 'delete', 'forge-length', 'truncate', 'splice-op', 'duplicate'];

/** One to three random mutations of bytes. */
export function mutate(bytes: Uint8Array, rnd: () => number): { bytes: Uint8Array; how: Mutation[] } {
  let b = bytes;
  const how: Mutation[] = [];
  const int = (n: number): number => Math.floor(rnd() * n);
  for (let k = 1 + int(3); k > 0; k--) {
    const m = MUTATIONS[int(MUTATIONS.length)];
    how.push(m);
    const at = int(b.length + 1);
    switch (m) {
      case 'flip': {
        b = b.slice();
        for (let i = 1 + int(8); i > 0 && b.length; i--) b[int(b.length)] ^= 1 << int(8);
        break;
      }
      case 'insert': {
        const ins = Uint8Array.from({ length: 1 + int(16) }, () => int(256));
        b = concat(b.subarray(0, at), ins, b.subarray(at));
        break;
      }
      case 'delete':
        b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(32))));
        break;
      case 'forge-length': {
        // A plausible length field (1, 4 or 8 bytes little-endian) after a random position.
        const width = [1, 4, 8][int(3)];
        const v = BigInt(LENGTHS[int(LENGTHS.length)]);
        b = b.slice();
        for (let i = 0; i < width && at + i < b.length; i++) b[at + i] = Number((v >> BigInt(8 * i)) & 255n);
        break;
      }
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'splice-op':
        b = concat(b.subarray(0, at), Uint8Array.of(OPS[int(OPS.length)]), b.subarray(at));
        break;
      case 'duplicate': {
        const len = 1 + int(64);
        b = concat(b.subarray(0, at), b.subarray(at, at + len), b.subarray(at));
        break;
      }
    }
  }
  return { bytes: b, how };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export type Outcome =
  | 'ok'
  | 'refused'
  | 'truncated'
  | 'not-pickle'
  | 'unknown-opcode'
  | 'stack'
  | 'memo'
  | 'text'
  | 'array-data'
  | 'dtype'
  | 'type'
  | 'budget'
  | 'other-format'
  | 'internal'
  | 'crash';

/** How one input ended, by the wording of the reader's message. */
export function classify(e: unknown): Outcome {
  if (!(e instanceof FileFormatError)) return 'crash';
  const m = e.message;
  if (m.includes('cannot read this pickle (')) return 'internal';
  if (m.includes(': refused ')) return 'refused';
  if (m.includes('ends early')) return 'truncated';
  if (m.includes('not a Python pickle')) return 'not-pickle';
  if (m.includes('unknown opcode')) return 'unknown-opcode';
  if (m.includes('stack underflow') || m.includes('no MARK')) return 'stack';
  if (m.includes('memo key')) return 'memo';
  if (m.includes('not valid UTF-8')) return 'text';
  if (/data is|items, expected|shape|array state/.test(m)) return 'array-data';
  if (m.includes('dtype')) return 'dtype';
  if (/needs a|found|must be|cannot|not supported|unsupported|odd number|too large|not an? /.test(m)) return 'type';
  if (m.includes('expands')) return 'budget';
  return 'other-format';
}

export interface FuzzResult {
  outcome: Outcome;
  ms: number;
  message?: string;
}

export async function fuzzOne(bytes: Uint8Array, name: string): Promise<FuzzResult> {
  const t = performance.now();
  try {
    await readPickle(bytesSource(bytes, name));
    return { outcome: 'ok', ms: performance.now() - t };
  } catch (e) {
    return {
      outcome: classify(e),
      ms: performance.now() - t,
      message: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
    };
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (k: string, d: number): number => {
    const i = argv.indexOf(k);
    return i >= 0 ? Number(argv[i + 1]) : d;
  };
  const count = opt('--count', 5000),
    seed = opt('--seed', 1);
  const corpus = loadCorpus();
  const rnd = mulberry32(seed);
  const counts = new Map<Outcome, number>();
  const bad: string[] = [];
  let slowest = { ms: 0, name: '', how: '' };
  const mem0 = process.memoryUsage();
  let peakRss = mem0.rss,
    peakAb = mem0.arrayBuffers;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const src = corpus[Math.floor(rnd() * corpus.length)];
    const { bytes, how } = mutate(src.bytes, rnd);
    const r = await fuzzOne(bytes, src.name);
    counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
    if (r.ms > slowest.ms) slowest = { ms: r.ms, name: src.name, how: how.join('+') };
    if ((r.outcome === 'crash' || r.outcome === 'internal') && bad.length < 20)
      bad.push(`#${i} ${src.name} (${how.join('+')}): ${r.message}`);
    if (i % 50 === 0) {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakAb = Math.max(peakAb, m.arrayBuffers);
    }
  }
  const total = (performance.now() - t0) / 1000;
  const mb = (n: number): string => (n / 2 ** 20).toFixed(0);
  console.log(
    `pickle fuzz: ${count} inputs from ${corpus.length} fixtures, seed ${seed}, ${total.toFixed(1)} s (${((1000 * total) / count).toFixed(2)} ms each)`,
  );
  for (const [k, n] of [...counts].sort((a, b) => b[1] - a[1]))
    console.log(`  ${k.padEnd(15)} ${String(n).padStart(6)}`);
  console.log(`slowest input: ${slowest.ms.toFixed(1)} ms (${slowest.name}, ${slowest.how})`);
  console.log(
    `memory: rss ${mb(mem0.rss)} → peak ${mb(peakRss)} MB, arrayBuffers ${mb(mem0.arrayBuffers)} → peak ${mb(peakAb)} MB`,
  );
  if (bad.length) {
    console.log('crashes / wrapped internal errors:');
    for (const b of bad) console.log('  ' + b);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
