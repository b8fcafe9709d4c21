/**
 * The benchmarks' input, shared by `npm run bench` (Node) and `npm run bench:browser` (the bench
 * page's worker) so both time the same model on the same data: MOSI's feature sizes, random N(0,1)
 * features at full length, labels uniform in [−3, 3], one batch reused for every split.
 */
import type { PerModality } from '../src/core/config/config.ts';
import type { Dataset, Split } from '../src/core/data/types.ts';
import { MT19937 } from '../src/core/random.ts';

/** MOSI's feature sizes: BERT text 768, COVAREP-like audio 5, Facet-like vision 20. */
export const DIMS: PerModality<number> = [768, 5, 20];

export function benchData(B: number, lens: PerModality<number>): Dataset {
  const rng = new MT19937(0);
  const x = {} as Split['x'];
  const len = {} as Split['len'];
  (['t', 'a', 'v'] as const).forEach((m, i) => {
    const a = new Float32Array(B * lens[i] * DIMS[i]);
    for (let k = 0; k < a.length; k++) a[k] = rng.normal();
    x[m] = a;
    len[m] = new Int32Array(B).fill(lens[i]);
  });
  const y = new Float32Array(B);
  for (let k = 0; k < B; k++) y[k] = rng.uniform(-3, 3);
  const s: Split = { n: B, x, len, y };
  return { source: 'bench', dims: DIMS, lens, textIsBert: false, textUnk: null, train: s, valid: s, test: s };
}
