import { describe, expect, it } from 'vitest';
import { defaultRunConfig } from '../core/config/config.ts';
import { ablationPreset, quickDemoPreset, robustnessPreset } from './presets.ts';
import { makeResultsFile, type ResultsFile } from '../core/eval/results.ts';
import { metricsOf, NO_MACRO, run } from '../core/eval/__fixtures__/runs.ts';
import {
  baseConfig,
  configDiff,
  configToHash,
  decodeConfig,
  decodeResults,
  encodeConfig,
  encodeResults,
  MAX_SHARE_URL,
  readUrlState,
  shareLink,
  shareUrl,
  withoutResults,
} from './urlCodec.ts';

const b64 = (o: unknown) => '1.' + Buffer.from(JSON.stringify(o)).toString('base64url');

describe('URL codec', () => {
  it('encodes the defaults as an empty diff and decodes them back', () => {
    const token = encodeConfig(defaultRunConfig());
    expect(token).toBe('1.e30');
    const r = decodeConfig(token);
    expect(r.ok).toBe(true);
    expect(r.config).toEqual(baseConfig());
  });

  it.each([
    ['quick demo', quickDemoPreset().config],
    ['ablation', ablationPreset().config],
    ['robustness', robustnessPreset().config],
  ])('round-trips the %s preset exactly', (_, cfg) => {
    const r = decodeConfig(encodeConfig(cfg));
    expect(r.ok).toBe(true);
    expect(r.config).toEqual(cfg);
  });

  it('round-trips edits in every section, including nulls, "random" and tuples', () => {
    const c = baseConfig();
    c.model.cell = 'lstm';
    c.model.branches.recon = false;
    c.model.attnDropout = [0.1, 0.2, 0.3];
    c.data.knobs.noise = 1.75;
    c.data.seed = 42;
    c.missing.trainRate = 'random';
    c.missing.perModalityRates = [0.1, 0.5, 0.9];
    c.missing.testRates = [0, 0.25, 0.5];
    c.missing.level = 'modality';
    c.train.seeds = [1, 2, 3];
    c.train.lr = 1e-4;
    c.eval.f1Order = 'pred-first';
    const token = encodeConfig(c);
    expect(token).toMatch(/^1\.[A-Za-z0-9_-]+$/);
    const r = decodeConfig(token);
    expect(r.ok).toBe(true);
    expect(r.config).toEqual(c);
    // only the differences travel
    expect(Object.keys(configDiff(c))).toEqual(['model', 'data', 'missing', 'train', 'eval']);
    expect(configDiff(c).model).toEqual({ attnDropout: [0.1, 0.2, 0.3], cell: 'lstm', branches: { recon: false } });
  });

  it('works through a full share URL and the hash reader, with a backend', () => {
    const c = quickDemoPreset().config;
    const url = shareUrl(c, 'http://localhost:5173/app/?x=1#old', 'wasm');
    expect(url.startsWith('http://localhost:5173/app/?x=1#config=1.')).toBe(true);
    const s = readUrlState(url);
    expect(s.error).toBeNull();
    expect(s.backend).toBe('wasm');
    expect(s.config).toEqual(c);
    expect(configToHash(c)).not.toContain('backend');
    expect(readUrlState('http://x/?backend=cpu').backend).toBe('cpu');
    expect(readUrlState('http://x/').config).toBeNull();
  });

  it.each([
    ['garbage', 'not-a-token', /no version prefix/],
    ['empty', '', /empty/],
    ['wrong version', '2.e30', /version "2" is not supported/],
    ['bad base64', '1.$$$', /not base64url/],
    ['not JSON', '1.' + Buffer.from('{oops').toString('base64url'), /not valid JSON/],
    ['not an object', b64([1, 2]), /expected an object/],
    ['unknown field', b64({ train: { epochz: 3 } }), /train\.epochz: unknown field/],
    ['unknown section', b64({ extra: 1 }), /extra: unknown field/],
    ['wrong type', b64({ train: { epochs: 'ten' } }), /train\.epochs: expected an integer/],
    [
      'out of range',
      b64({ missing: { testRates: [0, 1.5] } }),
      /missing\.testRates\[1\]: expected a number ≥ 0 and ≤ 1/,
    ],
    ['not ascending', b64({ missing: { testRates: [0.5, 0.2] } }), /strictly ascending/],
    ['bad enum', b64({ model: { cell: 'rnn' } }), /model\.cell: expected one of gru \| lstm/],
    ['no fusion stream', b64({ model: { branches: { macro: false, micro: false } } }), /at least one fusion stream/],
    ['section replaced by a number', b64({ model: 3 }), /model: expected an object/],
    ['NaN smuggled as null', b64({ train: { lr: null } }), /train\.lr: expected a number/],
  ])('rejects %s with a clear message and falls back to the defaults', (_, token, why) => {
    const r = decodeConfig(token);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatch(why);
    expect(r.error).toMatch(/defaults were loaded/);
    expect(r.config).toEqual(baseConfig());
  });

  it('never throws on hostile input', () => {
    for (const t of [null, undefined, 42, {}, '1.', '1.' + 'A'.repeat(200_000), '\u0000', '1.%%']) {
      expect(() => decodeConfig(t as unknown as string)).not.toThrow();
      expect(decodeConfig(t as unknown as string).config).toEqual(baseConfig());
    }
    expect(() => readUrlState('#config=%E0%A4%A')).not.toThrow();
  });

  it('reports an unknown backend in the URL', () => {
    const s = readUrlState('#backend=cuda');
    expect(s.backend).toBeNull();
    expect(s.error).toMatch(/backend "cuda"/);
  });
});

/** A small results file as the app writes it: a 2-rate sweep of two settings, one run stopped. */
function results(runsPerSetting = 1): ResultsFile {
  const runs = [];
  for (let seed = 1; seed <= runsPerSetting; seed++) {
    runs.push(
      run({
        seed,
        test: [
          [0, metricsOf(0.5 + seed / 1000, { corr: 0.61 })],
          [0.5, metricsOf(0.7, { corr: null })],
        ],
      }),
    );
    runs.push({
      ...run({ seed, branches: NO_MACRO, test: [[0, metricsOf(0.9)]] }),
      stopReason: 'aborted' as const,
      message: 'stopped by the user ✋',
    });
  }
  return makeResultsFile({
    backend: 'wasm',
    dataset: {
      source: 'synthetic:tiny',
      sizes: { train: 64, valid: 16, test: 32 },
      dims: { text: 8, audio: 4, vision: 6 },
      lengths: { text: 10, audio: 10, vision: 10 },
    },
    config: quickDemoPreset().config,
    runs,
    toolVersion: '0.1.0',
    createdAt: '2026-01-02T03:04:05Z',
  });
}

const token = (bytes: Uint8Array) => 'r1.' + Buffer.from(bytes).toString('base64url');
async function deflate(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe('results in the share link', () => {
  it('round-trips a results file through the link: nothing lost, the config beside it', async () => {
    const file = results();
    const link = await shareLink(file.config, file, 'http://localhost:4173/?backend=wasm#old');
    expect(link.results).toBe('included');
    expect(link.url.length).toBeLessThanOrEqual(MAX_SHARE_URL);
    const state = readUrlState(link.url);
    expect(state.error).toBeNull();
    expect(state.config).toEqual(file.config);
    expect(state.results).toMatch(/^r1\.[A-Za-z0-9_-]+$/);
    const back = await decodeResults(state.results!);
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    // Every field, the stopped run's status and message (non-ASCII) included, equals the sender's.
    expect(back.file).toEqual(JSON.parse(JSON.stringify(file)));
    expect(back.file.runs[1].status).toBe('stopped');
    expect(back.file.runs[1].message).toBe('stopped by the user ✋');
    // compressed: the token is well under the JSON's own size
    expect(state.results!.length).toBeLessThan(JSON.stringify(file).length / 2);
  });

  it('leaves the results out when the link would pass the size limit, and says so', async () => {
    const file = results(1);
    const fits = await shareLink(file.config, file, 'http://x/');
    expect(fits.results).toBe('included');
    // The same file with a limit one character under its link: left out, the config link only.
    const tight = await shareLink(file.config, file, 'http://x/', undefined, fits.length - 1);
    expect(tight.results).toBe('too-big');
    expect(tight.length).toBe(fits.length);
    expect(tight.url).toBe(shareUrl(file.config, 'http://x/'));
    expect(readUrlState(tight.url).results).toBeNull();
    // A file far bigger than the default limit: many seeds' worth of epochs.
    const big = results(60);
    let x = 12345; // deterministic noise, so the numbers do not compress away
    const noise = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648) * 0.5;
    for (const r of big.runs) for (const e of r.epochs) e.valid = metricsOf(noise(), { corr: noise() });
    const over = await shareLink(big.config, big, 'http://x/');
    expect(over.results).toBe('too-big');
    expect(over.length).toBeGreaterThan(MAX_SHARE_URL);
    expect((await shareLink(file.config, null, 'http://x/')).results).toBe('none');
  });

  it('drops the results part of a hash after import, keeping the rest', () => {
    expect(withoutResults('#config=1.e30&results=r1.abc&backend=wasm')).toBe('#config=1.e30&backend=wasm');
    expect(withoutResults('#results=r1.abc')).toBe('');
  });

  it('refuses garbled and hostile results with a clear message, never a throw', async () => {
    const good = await encodeResults(results());
    const cases: [string, unknown, RegExp][] = [
      ['empty', '', /empty/],
      ['no version', 'abc', /no version prefix/],
      ['other version', 'r9.' + good.slice(3), /version "r9" is not supported/],
      ['not base64url', 'r1.$$$', /not base64url/],
      ['cut short', good.slice(0, Math.floor(good.length / 2)), /not valid compressed data/],
      ['not compressed', 'r1.' + Buffer.from('hello, world').toString('base64url'), /not valid compressed data/],
      ['too long', 'r1.' + 'A'.repeat(70_000), /too long/],
      ['not a string', 42, /empty/],
    ];
    for (const [what, t, why] of cases) {
      const r = await decodeResults(t as string);
      expect(r.ok, what).toBe(false);
      if (r.ok) continue;
      expect(r.error, what).toMatch(why);
      expect(r.error, what).toMatch(/^The shared link's results could not be read: .*import it/);
    }
  });

  it('refuses a decompression bomb, non-JSON, prototype keys and bad values inside a valid stream', async () => {
    const bomb = await decodeResults(token(await deflate(' '.repeat(5 * 1024 * 1024))));
    expect(bomb.ok).toBe(false);
    if (!bomb.ok) expect(bomb.error).toMatch(/unpacks to more than 4 MB/);
    const notJson = await decodeResults(token(await deflate('{oops')));
    if (!notJson.ok) expect(notJson.error).toMatch(/not valid JSON/);
    expect(notJson.ok).toBe(false);
    const text = JSON.stringify(results());
    const proto = await decodeResults(token(await deflate(text.replace('"runs":[{', '"runs":[{"__proto__":{"x":1},'))));
    expect(proto.ok).toBe(false);
    if (!proto.ok) expect(proto.error).toMatch(/the key "__proto__" is not allowed/);
    const badRate = JSON.parse(text) as { runs: { test: { rate: number }[] }[] };
    badRate.runs[0].test[0].rate = 7;
    const bad = await decodeResults(token(await deflate(JSON.stringify(badRate))));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/runs\[0\]\.test\[0\]\.rate: a rate must lie in \[0, 1\]/);
    const notUtf8 = await decodeResults(token(await deflateBytes(new Uint8Array([0xff, 0xfe, 0x00]))));
    expect(notUtf8.ok).toBe(false);
    if (!notUtf8.ok) expect(notUtf8.error).toMatch(/not UTF-8/);
  });
});

async function deflateBytes(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
