/**
 * Seeded randomness for everything in the core: initialisation, shuffling, dropout seeds, masks and
 * synthetic data. One generator, MT19937, because PROTOCOL.md requires the missing-data masks to equal
 * numpy's legacy `RandomState(seed).random_sample` bit for bit — and using the same generator for the
 * rest keeps Node and the browser on identical streams.
 */

const N = 624;
const M = 397;

/** Everything a generator will draw from: enough to continue a stream exactly (a resumed run). */
export interface MT19937State {
  mt: Uint32Array; // 624 words
  mti: number;
  spareNormal: number | null;
}

export class MT19937 {
  private readonly mt = new Uint32Array(N);
  private mti = N + 1;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    this.seed(seed);
  }

  /** numpy's `RandomState(seed)` for an integer seed: Matsumoto & Nishimura's `init_genrand`. */
  seed(seed: number): void {
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      // 1812433253 * prev without losing the low 32 bits to float rounding.
      mt[i] = (((((prev & 0xffff0000) >>> 16) * 1812433253) << 16) + (prev & 0x0000ffff) * 1812433253 + i) >>> 0;
    }
    this.mti = N;
    this.spareNormal = null;
  }

  /** A copy of the state (the generator's own array is never handed out). */
  getState(): MT19937State {
    return { mt: new Uint32Array(this.mt), mti: this.mti, spareNormal: this.spareNormal };
  }

  /** Continues from `state` (a getState() copy, possibly through structured clone). */
  setState(state: MT19937State): void {
    const ok =
      state &&
      state.mt instanceof Uint32Array &&
      state.mt.length === N &&
      Number.isInteger(state.mti) &&
      state.mti >= 0 &&
      state.mti <= N &&
      (state.spareNormal === null || Number.isFinite(state.spareNormal));
    if (!ok) throw new Error('not an MT19937 state (624 uint32 words, an index 0–624, a spare normal or null)');
    this.mt.set(state.mt);
    this.mti = state.mti;
    this.spareNormal = state.spareNormal;
  }

  /** One 32-bit unsigned draw (genrand_int32). */
  nextUint32(): number {
    const mt = this.mt;
    if (this.mti >= N) {
      let kk = 0;
      let y: number;
      for (; kk < N - M; kk++) {
        y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
        mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      for (; kk < N - 1; kk++) {
        y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
        mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      y = (mt[N - 1] & 0x80000000) | (mt[0] & 0x7fffffff);
      mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      this.mti = 0;
    }
    let y = mt[this.mti++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A double in [0, 1) from two draws, exactly as numpy's `random_sample` (genrand_res53). */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Fills an array with `random()` in row-major order, like `random_sample(shape)`. */
  randomSample(count: number): Float64Array {
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = this.random();
    return out;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.random();
  }

  /** Standard normal by the polar Box–Muller method (numpy's legacy gauss, pairs cached). */
  normal(): number {
    if (this.spareNormal !== null) {
      const s = this.spareNormal;
      this.spareNormal = null;
      return s;
    }
    let x1: number, x2: number, r2: number;
    do {
      x1 = 2 * this.random() - 1;
      x2 = 2 * this.random() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * Math.log(r2)) / r2);
    this.spareNormal = f * x1;
    return f * x2;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** A fresh 31-bit seed for a child generator or a tfjs op that takes a seed. */
  childSeed(): number {
    return this.nextUint32() >>> 1;
  }

  /** Fisher–Yates permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
