import { describe, expect, it } from 'vitest';
import { fuzzOne, loadCorpus, mulberry32, mutate, type Outcome } from '../../../../bench/fuzz-pickle.ts';

// Seeded mutations of every fixture (byte flips, insertions, deletions, forged length fields,
// truncations, spliced opcodes): each input must read or fail with FileFormatError, quickly, and
// without memory growing. `npm run fuzz -- --count 50000` runs the same thing at scale.
describe('readPickle fuzz', () => {
  it('1500 mutated fixtures: FileFormatError or a value, each within 2 s, memory bounded', async () => {
    const corpus = loadCorpus();
    expect(corpus.length).toBeGreaterThan(30);
    const rnd = mulberry32(20250611);
    const counts = new Map<Outcome, number>();
    const mem0 = process.memoryUsage();
    let slowest = 0;
    let peakRss = 0,
      peakAb = 0;
    for (let i = 0; i < 1500; i++) {
      const src = corpus[Math.floor(rnd() * corpus.length)];
      const { bytes, how } = mutate(src.bytes, rnd);
      const r = await fuzzOne(bytes, src.name);
      const label = `#${i} ${src.name} (${how.join('+')}): ${r.message ?? 'ok'}`;
      expect(r.outcome, label).not.toBe('crash'); // anything but FileFormatError
      expect(r.outcome, label).not.toBe('internal'); // a TypeError/RangeError the reader only wrapped
      expect(r.ms, label).toBeLessThan(2000);
      slowest = Math.max(slowest, r.ms);
      counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
      if (i % 25 === 0) {
        const m = process.memoryUsage();
        peakRss = Math.max(peakRss, m.rss - mem0.rss);
        peakAb = Math.max(peakAb, m.arrayBuffers - mem0.arrayBuffers);
      }
    }
    expect(peakRss).toBeLessThan(200 * 2 ** 20);
    expect(peakAb).toBeLessThan(200 * 2 ** 20);
    // The mix is varied: some inputs still read, some are refused, most are caught as broken.
    expect(counts.get('ok') ?? 0).toBeGreaterThan(0);
    expect(counts.get('refused') ?? 0).toBeGreaterThan(0);
    expect(counts.get('truncated') ?? 0).toBeGreaterThan(0);
    expect(slowest).toBeLessThan(2000);
  });

  it('the PRNG and mutator are deterministic', () => {
    const a = mulberry32(5),
      b = mulberry32(5);
    const x = Uint8Array.from({ length: 100 }, (_, i) => i);
    expect(mutate(x, a)).toEqual(mutate(x, b));
    expect(mulberry32(1)()).not.toBe(mulberry32(2)());
  });
});
