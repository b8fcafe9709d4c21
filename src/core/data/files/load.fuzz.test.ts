import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mulberry32, mutate } from '../../../../bench/fuzz-pickle.ts';
import { FileLoadError, loadFeatureFile } from './load.ts';
import { bytesSource } from './source.ts';

// The whole path a user's file takes (format detection, pickle or zip reader, float32 conversion,
// MMSA checks) on seeded mutations of the MMSA-shaped fixtures: every input must load or fail with
// a FileLoadError whose message is one of ours — never an internal error the loader only wrapped
// ("could not be read (…)") — and quickly.
const DIR = new URL('./__fixtures__/', import.meta.url);
const corpus = [
  ...readdirSync(new URL('pickle/', DIR))
    .filter((f) => f.startsWith('mmsa_'))
    .map((f) => `pickle/${f}`),
  ...['mmsa_slash.npz', 'mmsa_underscore.npz', 'mmsa_compressed.npz'].map((f) => `npz/${f}`),
].map((path) => ({ path, bytes: new Uint8Array(readFileSync(new URL(path, DIR))) }));

describe('loadFeatureFile fuzz', () => {
  it('400 mutated MMSA files: a dataset or one clear FileLoadError, each within 2 s', async () => {
    expect(corpus.length).toBeGreaterThanOrEqual(10);
    const rnd = mulberry32(4242);
    const kinds = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const src = corpus[Math.floor(rnd() * corpus.length)];
      const { bytes, how } = mutate(src.bytes, rnd);
      const t0 = performance.now();
      let kind = 'loaded';
      try {
        await loadFeatureFile(bytesSource(bytes, 'f.bin'));
      } catch (e) {
        const label = `#${i} ${src.path} (${how.join('+')}): ${(e as Error).message}`;
        expect(e, label).toBeInstanceOf(FileLoadError);
        expect((e as Error).message, label).not.toMatch(/could not be read \(|out of memory or a size/);
        expect((e as Error).message.startsWith('f.bin: '), label).toBe(true);
        kind = (e as FileLoadError).kind;
      }
      expect(performance.now() - t0).toBeLessThan(2000);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    expect(kinds.get('format') ?? 0).toBeGreaterThan(0);
  });
});
