/**
 * The built-in dataset (DATA.md): procedurally generated, deterministic from a seed, MOSI-shaped,
 * and built so the lessons of the paper show up on it:
 *  - text carries most of the signal: a sentence polarity s written along one "sentiment" direction
 *    at a few opinion tokens among distractor word vectors; a negator token just before an opinion
 *    token flips it (local structure a mean-pool cannot see);
 *  - audio and vision carry their own weaker cues (q_a, q_v) as short bursts under heavier noise,
 *    placed at the time of the first opinion token;
 *  - on an `interaction` share of samples a visual cue (sarcastic smirk / emphatic smile) flips or
 *    amplifies the text polarity, so those labels need text and vision together;
 *  - the label is y* = (text polarity, after negation and cue) + q_a + q_v, rated by 2–4 simulated
 *    annotators on the integer scale −3..3 and averaged, giving annotator-mean values such as
 *    exact zeros and halves.
 *  - with `shared` > 0, every modality also shows one slow per-sample trajectory u(τ) (two random
 *    sinusoids over normalised time) along its own direction: content with no label in it that a
 *    dropped frame shares with the other modalities at the same moment and with its neighbours —
 *    what the reconstruction branch (L_gen) can learn to rebuild. At 0 (the default) the features
 *    are exactly those without it, and L_gen can only learn the noise's mean.
 * Latents and labels come from their own generator, so the knobs never reshuffle the data: the
 * signal knobs scale how visible each effect is in the features, `noise` scales the feature noise
 * (not the annotator noise), `shared` adds the trajectory, and only `interaction` (the share of
 * cue-carrying samples) moves labels.
 */
import { DEFAULT_KNOBS, type PerModality, type SyntheticKnobs, type SyntheticPresetName } from '../config/config.ts';
import { roundHalfEven } from '../eval/metrics.ts';
import { MT19937 } from '../random.ts';
import { addGaussian } from './gaussianTable.ts';
import type { Dataset, Split } from './types.ts';

export interface SyntheticPreset {
  train: number;
  valid: number;
  test: number;
  lens: PerModality<number>; // L_t, L_a, L_v
  dims: PerModality<number>; // D_t, D_a, D_v
}

export const SYNTHETIC_PRESETS: Record<SyntheticPresetName, SyntheticPreset> = {
  // Unequal lengths on purpose: exercises the time maps and keeps CPU tests fast.
  tiny: { train: 120, valid: 30, test: 60, lens: [8, 12, 10], dims: [32, 5, 20] },
  small: { train: 600, valid: 120, test: 240, lens: [20, 20, 20], dims: [64, 5, 20] },
  'mosi-shape': { train: 1284, valid: 229, test: 686, lens: [50, 50, 50], dims: [768, 5, 20] },
};

// Latent distribution (label scale). Chosen so y* spans most of [−3, 3] with a neutral spike.
const NEUTRAL_SHARE = 0.15; // samples with no sentiment at all: the main source of exact-zero labels
const POLARITY_MIN = 0.4;
const POLARITY_SD = 1.1;
const NEGATION_SHARE = 0.08;
const NEGATION_FACTOR = -0.7; // "not good" is milder than "bad"
const AUDIO_CUE_SD = 0.5;
const VISION_CUE_SD = 0.5;
const INTERACTION_SHARE = 0.2; // at knobs.interaction = 1
const FLIP_SHARE = 0.4; // of the interaction samples; the rest are amplified
const AMPLIFY_FACTOR = 1.5;
const ANNOTATOR_SD = 0.5;
const NEUTRAL_ANNOTATOR_SD = 0.25;

// Feature scales. Per-element σ ≈ 0.7 in text (BERT-like), 1 in audio/vision; gains are the
// amplitude along a unit direction per unit of latent, so their visibility does not depend on D.
const VOCAB = 256;
const WORD_SD = 0.6;
const TEXT_NOISE_SD = 0.4;
const OPINION_GAIN = 3;
const NEGATOR_GAIN = 3;
const AV_NOISE_SD = 1;
const AUDIO_GAIN = 3;
const VISION_GAIN = 3;
const CUE_GAIN = 2.5;
const BURST = [0.5, 1, 0.5]; // a three-frame bump: the "short local burst"
// Per-element amplitude of the shared trajectory at knobs.shared = 1: the direction is scaled by √D,
// so it carries about as much variance per element as the audio/vision noise (σ = 1), whatever D.
const SHARED_GAIN = 1;

type Cue = 'none' | 'flip' | 'amplify';

/** Everything about one sample that the features and the label are made from. */
interface Latent {
  len: PerModality<number>;
  polarity: number; // s, the surface polarity of the opinion words
  opinion: number[]; // text positions of the opinion tokens, first one drives the bursts
  opinionWeight: number[];
  negator: number; // text position of the negator, −1 for none
  qa: number;
  qv: number;
  cue: Cue;
  burstShift: [number, number]; // audio, vision timing jitter around the opinion time
}

/** Fixed random geometry shared by all splits: where each effect lives in feature space. */
interface Geometry {
  vocab: Float32Array; // [VOCAB, D_t]
  sentiment: Float64Array; // unit, D_t
  negation: Float64Array; // unit, ⟂ sentiment
  audio: Float64Array; // unit, D_a
  vision: Float64Array; // unit, D_v
  flipCue: Float64Array; // unit, ⟂ vision
  amplifyCue: Float64Array; // unit, ⟂ vision, flipCue
}

/** Where the shared trajectory lives in each modality (drawn after, and apart from, Geometry). */
interface SharedGeometry {
  t: Float64Array; // ⟂ sentiment, negation; length √D_t
  a: Float64Array; // ⟂ audio; length √D_a
  v: Float64Array; // ⟂ vision, flipCue, amplifyCue; length √D_v
}

/** One sample's shared trajectory u(τ) = Σ_k amp_k · sin(2π f_k τ + φ_k), τ ∈ [0, 1]. */
interface Trajectory {
  amp: [number, number];
  freq: [number, number];
  phase: [number, number];
}

/** Generates one of the presets. Same preset + seed + knobs → byte-identical arrays. */
export function makeSynthetic(
  preset: SyntheticPresetName,
  seed: number,
  knobs: SyntheticKnobs = DEFAULT_KNOBS,
): Dataset {
  const p = SYNTHETIC_PRESETS[preset];
  if (!p) throw new Error(`unknown synthetic preset "${preset}" (${Object.keys(SYNTHETIC_PRESETS).join(' | ')})`);
  for (const [name, v] of Object.entries(knobs)) {
    if (!(Number.isFinite(v) && v >= 0))
      throw new Error(`synthetic knob ${name} must be a finite number ≥ 0, got ${v}`);
  }
  const master = new MT19937(seed);
  const geometry = makeGeometry(new MT19937(master.childSeed()), p);
  const seeds = [0, 1, 2].map(() => [master.childSeed(), master.childSeed()]);
  // Drawn after every seed above, from generators of their own, so data made before the `shared`
  // knob existed (or with it at 0) stays byte-identical.
  const shared = makeSharedGeometry(new MT19937(master.childSeed()), geometry);
  const trajectorySeeds = [0, 1, 2].map(() => master.childSeed());
  const split = (k: number, n: number): Split => {
    const latents = drawLatents(new MT19937(seeds[k][0]), n, p, knobs);
    const out = render(new MT19937(seeds[k][1]), latents, p, geometry, knobs);
    if (knobs.shared > 0)
      addShared(out, drawTrajectories(new MT19937(trajectorySeeds[k]), n), p, shared, knobs.shared * SHARED_GAIN);
    return out;
  };
  return {
    source: `synthetic:${preset}`,
    dims: [...p.dims],
    lens: [...p.lens],
    textIsBert: false,
    textUnk: null,
    train: split(0, p.train),
    valid: split(1, p.valid),
    test: split(2, p.test),
  };
}

function unitVector(rng: MT19937, D: number, orthogonalTo: Float64Array[]): Float64Array {
  const u = new Float64Array(D);
  for (let d = 0; d < D; d++) u[d] = rng.normal();
  // Gram–Schmidt, so cues do not leak into each other's direction.
  for (const w of orthogonalTo) {
    let dot = 0;
    for (let d = 0; d < D; d++) dot += u[d] * w[d];
    for (let d = 0; d < D; d++) u[d] -= dot * w[d];
  }
  let norm = 0;
  for (let d = 0; d < D; d++) norm += u[d] * u[d];
  norm = Math.sqrt(norm);
  for (let d = 0; d < D; d++) u[d] /= norm;
  return u;
}

function makeGeometry(rng: MT19937, p: SyntheticPreset): Geometry {
  const [Dt, Da, Dv] = p.dims;
  const vocab = new Float32Array(VOCAB * Dt);
  for (let k = 0; k < vocab.length; k++) vocab[k] = WORD_SD * rng.normal();
  const sentiment = unitVector(rng, Dt, []);
  const negation = unitVector(rng, Dt, [sentiment]);
  const audio = unitVector(rng, Da, []);
  const vision = unitVector(rng, Dv, []);
  const flipCue = unitVector(rng, Dv, [vision]);
  const amplifyCue = unitVector(rng, Dv, [vision, flipCue]);
  return { vocab, sentiment, negation, audio, vision, flipCue, amplifyCue };
}

function makeSharedGeometry(rng: MT19937, g: Geometry): SharedGeometry {
  const scaled = (u: Float64Array) => u.map((x) => x * Math.sqrt(u.length));
  return {
    t: scaled(unitVector(rng, g.sentiment.length, [g.sentiment, g.negation])),
    a: scaled(unitVector(rng, g.audio.length, [g.audio])),
    v: scaled(unitVector(rng, g.vision.length, [g.vision, g.flipCue, g.amplifyCue])),
  };
}

function drawTrajectories(rng: MT19937, n: number): Trajectory[] {
  const out: Trajectory[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      amp: [rng.normal(), rng.normal()],
      // One slow and one faster component: smooth over a few frames, yet not a constant offset.
      freq: [0.5 + rng.random(), 1.5 + 1.5 * rng.random()],
      phase: [2 * Math.PI * rng.random(), 2 * Math.PI * rng.random()],
    });
  }
  return out;
}

function trajectoryAt(z: Trajectory, tau: number): number {
  return (
    (z.amp[0] * Math.sin(2 * Math.PI * z.freq[0] * tau + z.phase[0]) +
      z.amp[1] * Math.sin(2 * Math.PI * z.freq[1] * tau + z.phase[1])) /
    Math.SQRT2
  );
}

/** Adds each sample's trajectory to every valid frame of every modality, at its normalised time. */
function addShared(split: Split, traj: Trajectory[], p: SyntheticPreset, g: SharedGeometry, gain: number): void {
  const dirs = [g.t, g.a, g.v];
  (['t', 'a', 'v'] as const).forEach((m, j) => {
    const L = p.lens[j];
    const D = p.dims[j];
    for (let i = 0; i < split.n; i++) {
      const len = split.len[m][i];
      for (let t = 0; t < len; t++) {
        addDirection(split.x[m], (i * L + t) * D, dirs[j], gain * trajectoryAt(traj[i], (t + 0.5) / len));
      }
    }
  });
}

/**
 * Draws every sample's latents and label. The number and order of draws per sample never depend on
 * the knobs, so changing a knob changes only what it is meant to.
 */
function drawLatents(
  rng: MT19937,
  n: number,
  p: SyntheticPreset,
  knobs: SyntheticKnobs,
): { latents: Latent[]; y: Float32Array } {
  const latents: Latent[] = [];
  const y = new Float32Array(n);
  const interactionShare = Math.min(1, INTERACTION_SHARE * knobs.interaction);
  // A fixed count of neutral samples per split (not a coin per sample), so even a 30-sample split
  // is sure to hold some, and with them exact-zero labels.
  const neutralCount = Math.max(1, Math.round(NEUTRAL_SHARE * n));
  const order = rng.permutation(n);
  for (let i = 0; i < n; i++) {
    // One utterance duration for all three streams, as in aligned data; at least half of L.
    const frac = rng.uniform(0.5, 1);
    const len = p.lens.map((L) => Math.min(L, Math.max(1, Math.round(frac * L)))) as PerModality<number>;
    const neutral = order[i] < neutralCount;
    // Opinions are rarely lukewarm: a signed magnitude away from zero gives MOSI's two humps.
    const sign = rng.random() < 0.5 ? -1 : 1;
    const s = sign * (POLARITY_MIN + POLARITY_SD * Math.abs(rng.normal()));
    const polarity = neutral ? 0 : s;
    const wantsNegation = rng.random() < NEGATION_SHARE;
    const negated = !neutral && wantsNegation && len[0] >= 2;
    const count = Math.min(len[0], 1 + rng.int(3));
    // Opinion positions: a partial Fisher–Yates over the valid text positions. With a negator, the
    // first opinion token sits right after it, so the pair is a local pattern.
    const free = Array.from({ length: len[0] }, (_, k) => k);
    const opinion: number[] = [];
    let negator = -1;
    if (negated) {
      negator = rng.int(len[0] - 1);
      opinion.push(negator + 1);
      free.splice(negator, 2);
    }
    while (opinion.length < count && free.length > 0) {
      const k = rng.int(free.length);
      opinion.push(free[k]);
      free.splice(k, 1);
    }
    const opinionWeight = opinion.map(() => 0.7 + 0.6 * rng.random());
    const qa = rng.normal() * AUDIO_CUE_SD;
    const qv = rng.normal() * VISION_CUE_SD;
    const interacts = rng.random() < interactionShare;
    const flips = rng.random() < FLIP_SHARE;
    const cue: Cue = neutral || !interacts ? 'none' : flips ? 'flip' : 'amplify';
    const burstShift: [number, number] = [rng.int(3) - 1, rng.int(3) - 1];

    const textPolarity = negated ? NEGATION_FACTOR * polarity : polarity;
    const shown = cue === 'flip' ? -textPolarity : cue === 'amplify' ? AMPLIFY_FACTOR * textPolarity : textPolarity;
    const yStar = shown + (neutral ? 0 : qa + qv);
    // Annotators rate on the integer scale and the label is their mean, like MOSI; clearly neutral
    // statements get near-consensus ratings.
    const raters = 2 + rng.int(3);
    const spread = neutral ? NEUTRAL_ANNOTATOR_SD : ANNOTATOR_SD;
    let sum = 0;
    for (let r = 0; r < raters; r++) sum += Math.max(-3, Math.min(3, Math.round(yStar + spread * rng.normal())));
    y[i] = sum / raters;
    latents.push({
      len,
      polarity,
      opinion,
      opinionWeight,
      negator,
      qa: neutral ? 0 : qa,
      qv: neutral ? 0 : qv,
      cue,
      burstShift,
    });
  }
  return { latents, y };
}

function addDirection(x: Float32Array, off: number, dir: Float64Array, amount: number): void {
  if (amount === 0) return;
  for (let d = 0; d < dir.length; d++) x[off + d] += amount * dir[d];
}

/** A three-frame burst of `dir` centred at `centre`, clipped to the valid frames. */
function addBurst(
  x: Float32Array,
  row: number,
  L: number,
  len: number,
  centre: number,
  dir: Float64Array,
  amount: number,
): void {
  const D = dir.length;
  for (let k = 0; k < BURST.length; k++) {
    const t = centre - 1 + k;
    if (t >= 0 && t < len) addDirection(x, (row * L + t) * D, dir, amount * BURST[k]);
  }
}

function render(
  rng: MT19937,
  { latents, y }: { latents: Latent[]; y: Float32Array },
  p: SyntheticPreset,
  g: Geometry,
  knobs: SyntheticKnobs,
): Split {
  const n = latents.length;
  const [Lt, La, Lv] = p.lens;
  const [Dt, Da, Dv] = p.dims;
  const xt = new Float32Array(n * Lt * Dt);
  const xa = new Float32Array(n * La * Da);
  const xv = new Float32Array(n * Lv * Dv);
  const lt = new Int32Array(n);
  const la = new Int32Array(n);
  const lv = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const z = latents[i];
    [lt[i], la[i], lv[i]] = z.len;

    // Text: distractor words + noise everywhere valid; padding stays exactly zero.
    for (let t = 0; t < z.len[0]; t++) {
      const off = (i * Lt + t) * Dt;
      const word = rng.int(VOCAB);
      xt.set(g.vocab.subarray(word * Dt, (word + 1) * Dt), off);
      addGaussian(rng, xt, off, Dt, TEXT_NOISE_SD * knobs.noise);
    }
    z.opinion.forEach((t, k) =>
      addDirection(
        xt,
        (i * Lt + t) * Dt,
        g.sentiment,
        knobs.textSignal * OPINION_GAIN * z.polarity * z.opinionWeight[k],
      ),
    );
    if (z.negator >= 0) addDirection(xt, (i * Lt + z.negator) * Dt, g.negation, knobs.textSignal * NEGATOR_GAIN);

    // Audio and vision: heavier noise, cues as bursts at the time of the first opinion token.
    addGaussian(rng, xa, i * La * Da, z.len[1] * Da, AV_NOISE_SD * knobs.noise);
    addGaussian(rng, xv, i * Lv * Dv, z.len[2] * Dv, AV_NOISE_SD * knobs.noise);
    const first = z.opinion.length > 0 ? z.opinion[0] : 0;
    const at = (len: number, shift: number) =>
      Math.max(0, Math.min(len - 1, Math.floor(((first + 0.5) * len) / z.len[0]) + shift));
    const ca = at(z.len[1], z.burstShift[0]);
    const cv = at(z.len[2], z.burstShift[1]);
    addBurst(xa, i, La, z.len[1], ca, g.audio, knobs.audioSignal * AUDIO_GAIN * z.qa);
    addBurst(xv, i, Lv, z.len[2], cv, g.vision, knobs.visionSignal * VISION_GAIN * z.qv);
    if (z.cue !== 'none') {
      addBurst(xv, i, Lv, z.len[2], cv, z.cue === 'flip' ? g.flipCue : g.amplifyCue, knobs.visionSignal * CUE_GAIN);
    }
  }
  return { n, x: { t: xt, a: xa, v: xv }, len: { t: lt, a: la, v: lv }, y };
}

/**
 * Label counts per rounded class −k..k for `bins` = 2k + 1 classes (7 → −3..3, as Acc-7 rounds:
 * clipped to [−k, k], half to even). Non-finite labels are skipped.
 */
export function labelHistogram(y: Float32Array, bins = 7): Int32Array {
  if (!Number.isInteger(bins) || bins < 1 || bins % 2 === 0)
    throw new Error(`label histogram needs an odd number of bins, got ${bins}`);
  const k = (bins - 1) / 2;
  const counts = new Int32Array(bins);
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i])) continue;
    counts[roundHalfEven(Math.max(-k, Math.min(k, y[i]))) + k]++;
  }
  return counts;
}
