/**
 * A small WebAssembly SIMD module that works directly on tfjs-wasm's heap: it imports the backend's
 * own `WebAssembly.Memory`, so it reads and writes tensors in place through their heap addresses
 * (no copies in or out). tfjs-wasm 4.22 runs every batched matMul through a scalar triple loop
 * (~1.5 GFLOP/s here) and plain JavaScript does no better (~2 GFLOP/s, wasmMatMul.ts); attention
 * at the `tiny`/`base` sizes is all such products ([B·heads, L, d_head], d_head 5–12), and they were
 * the largest item of a training step on wasm (measured: 108 calls, ~150 of ~480 ms per `tiny`
 * aligned step).
 *
 * The module is assembled here from its instructions (no toolchain, nothing downloaded), one
 * function:
 *
 *   mm(a, b, out, M, K, N)   out[M×N] = a[M×K] · b[K×N], row-major float32, byte addresses, N ≥ 4
 *
 * It computes 4 rows × 4 columns of the output per pass over k (four f32x4 accumulators: each loaded
 * vector of b feeds four rows, each splatted element of a four columns). Ragged edges are handled by
 * overlapping blocks instead of scalar tails: the last row block starts at min(i, M − 1) row by row
 * (rows past the end repeat row M − 1) and the last column block at N − 4, so some outputs are
 * computed twice, identically (same operands, same order over k), and written twice with the same
 * value. Each output is Σ_k a[i,k]·b[k,j] in ascending k with float32 products and sums.
 *
 * Used only when WebAssembly SIMD validates and the backend's memory can be found; otherwise the
 * callers keep their JavaScript path (`simdKernels` returns null).
 */

// ------------------------------------------------------------------ a minimal assembler

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (i32 constants). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

const I32 = 0x7f,
  F32 = 0x7d,
  V128 = 0x7b;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  brIf: (l: number) => [0x0d, ...uleb(l)],
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  shl: [0x74],
  ltS: [0x48],
  select: [0x1b],
  f32Load: [0x2a, 0x02, 0x00], // align 2^2, offset 0
  v128Load: [0xfd, 0x00, 0x02, 0x00], // alignment hint 4 bytes (tensors are 4-byte aligned)
  v128Store: [0xfd, 0x0b, 0x02, 0x00],
  v128Zero: [0xfd, 0x0c, ...new Array<number>(16).fill(0)],
  f32x4Splat: [0xfd, 0x13],
  f32x4Add: [0xfd, 0xe4, 0x01],
  f32x4Mul: [0xfd, 0xe6, 0x01],
  i32x4Splat: [0xfd, 0x11],
  i32x4Add: [0xfd, 0xae, 0x01],
  i32x4Mul: [0xfd, 0xb5, 0x01],
  i32x4ShrU: [0xfd, 0xad, 0x01],
  i32x4GeU: [0xfd, 0x40],
  v128And: [0xfd, 0x4e],
  v128Xor: [0xfd, 0x51],
  v128Const: (lanes: number[]) => [
    0xfd,
    0x0c,
    ...lanes.flatMap((v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]),
  ],
};

/** min(x, y) of two i32 locals, signed. */
const minOf = (x: number[], y: number[]): number[] => [...x, ...y, ...x, ...y, ...op.ltS, ...op.select];

/** A v128 load or store at a constant byte offset from the address on the stack. */
const v128At = (store: boolean, offset: number): number[] => [0xfd, store ? 0x0b : 0x00, 0x02, ...uleb(offset)];

/**
 * The body of mm (see the file comment) with tiles of 4 rows × 4·V columns (V f32x4 accumulators
 * per row): V = 1 for N ≥ 4, V = 2 (mm8: each splatted element of a feeds two vectors) for N ≥ 8.
 */
function mmBody(V: number): number[] {
  const C = 4 * V; // tile width in columns
  // params
  const a = 0,
    b = 1,
    o = 2,
    M = 3,
    K = 4,
    N = 5;
  // i32 locals
  const K4 = 6,
    N4 = 7,
    Mm1 = 8,
    i0 = 9,
    t1 = 10,
    t2 = 11,
    t3 = 12,
    pa = [13, 14, 15, 16],
    po = [17, 18, 19, 20],
    j = 21,
    jj4 = 22,
    kk = 23,
    pb = 24;
  // v128 locals: acc[r][v], bv[v], the splatted element
  const acc = [0, 1, 2, 3].map((r) => Array.from({ length: V }, (_, v) => 25 + r * V + v));
  const bv = Array.from({ length: V }, (_, v) => 25 + 4 * V + v);
  const sp = 25 + 5 * V;
  const g = op.get,
    s = op.set;
  const code: number[] = [];
  const emit = (...parts: number[][]) => {
    for (const p of parts) code.push(...p);
  };
  emit(g(K), op.i32(2), op.shl, s(K4));
  emit(g(N), op.i32(2), op.shl, s(N4));
  emit(g(M), op.i32(1), op.sub, s(Mm1));
  emit(op.i32(0), s(i0));
  emit(op.loop); // rows, label depth 0 here
  {
    // t_r = min(i0 + r, M − 1)
    for (const [r, t] of [
      [1, t1],
      [2, t2],
      [3, t3],
    ]) {
      emit(minOf([...g(i0), ...op.i32(r), ...op.add], g(Mm1)), s(t));
    }
    const rows = [i0, t1, t2, t3];
    for (let r = 0; r < 4; r++) {
      emit(g(a), g(rows[r]), g(K4), op.mul, op.add, s(pa[r]));
      emit(g(o), g(rows[r]), g(N4), op.mul, op.add, s(po[r]));
    }
    emit(op.i32(0), s(j));
    emit(op.loop); // columns
    {
      // jj4 = min(j, N − C) · 4
      emit(minOf(g(j), [...g(N), ...op.i32(C), ...op.sub]), op.i32(2), op.shl, s(jj4));
      for (const row of acc) for (const r of row) emit(op.v128Zero, s(r));
      emit(op.i32(0), s(kk));
      emit(g(b), g(jj4), op.add, s(pb));
      emit(op.loop); // k
      {
        for (let v = 0; v < V; v++) emit(g(pb), v128At(false, 16 * v), s(bv[v]));
        for (let r = 0; r < 4; r++) {
          emit(g(pa[r]), g(kk), op.add, op.f32Load, op.f32x4Splat, s(sp));
          for (let v = 0; v < V; v++) emit(g(acc[r][v]), g(sp), g(bv[v]), op.f32x4Mul, op.f32x4Add, s(acc[r][v]));
        }
        emit(g(pb), g(N4), op.add, s(pb));
        emit(g(kk), op.i32(4), op.add, op.tee(kk), g(K4), op.ltS, op.brIf(0));
      }
      emit(op.end);
      for (let r = 0; r < 4; r++)
        for (let v = 0; v < V; v++) emit(g(po[r]), g(jj4), op.add, g(acc[r][v]), v128At(true, 16 * v));
      emit(g(j), op.i32(C), op.add, op.tee(j), g(N), op.ltS, op.brIf(0));
    }
    emit(op.end);
    emit(g(i0), op.i32(4), op.add, op.tee(i0), g(M), op.ltS, op.brIf(0));
  }
  emit(op.end);
  emit(op.end); // function end
  const locals = vec([
    [...uleb(19), I32],
    [...uleb(5 * V + 1), V128],
  ]);
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

/**
 * The body of drop(x, out, n, key, thr, s): for i < n (a multiple of 4), out[i] = keep(i) ? x[i]·s : 0
 * with keep(i) = fmix32((i·0x9e3779b1) ^ key) ≥ thr (unsigned): wasmAttention.ts's counter-based mask
 * (keepAt), four elements per instruction; s is the float32 scale 1/(1 − rate).
 */
function dropBody(): number[] {
  const x = 0,
    out = 1,
    n = 2,
    key = 3,
    thr = 4,
    sc = 5;
  const i = 6; // byte offset
  const idx = 7,
    keyV = 8,
    thrV = 9,
    sV = 10,
    hv = 11,
    golden = 12,
    c1 = 13,
    c2 = 14,
    four = 15;
  const g = op.get,
    s = op.set;
  const code: number[] = [];
  const emit = (...parts: number[][]) => {
    for (const p of parts) code.push(...p);
  };
  const shiftXor = (k: number) => emit(g(hv), g(hv), op.i32(k), op.i32x4ShrU, op.v128Xor, s(hv));
  emit(g(n), op.i32(2), op.shl, s(n)); // n in bytes
  emit(op.block);
  emit(g(n), op.i32(1), op.ltS, op.brIf(0)); // nothing to do
  emit(op.v128Const([0, 1, 2, 3]), s(idx));
  emit(g(key), op.i32x4Splat, s(keyV));
  emit(g(thr), op.i32x4Splat, s(thrV));
  emit(g(sc), [0xfd, 0x13], s(sV)); // f32x4.splat
  emit(op.i32(0x9e3779b1 | 0), op.i32x4Splat, s(golden));
  emit(op.i32(0x85ebca6b | 0), op.i32x4Splat, s(c1));
  emit(op.i32(0xc2b2ae35 | 0), op.i32x4Splat, s(c2));
  emit(op.i32(4), op.i32x4Splat, s(four));
  emit(op.i32(0), s(i));
  emit(op.loop);
  {
    emit(g(idx), g(golden), op.i32x4Mul, g(keyV), op.v128Xor, s(hv));
    shiftXor(16);
    emit(g(hv), g(c1), op.i32x4Mul, s(hv));
    shiftXor(13);
    emit(g(hv), g(c2), op.i32x4Mul, s(hv));
    shiftXor(16);
    // out = (x · s) & (h ≥ thr)
    emit(g(out), g(i), op.add);
    emit(g(x), g(i), op.add, op.v128Load, g(sV), op.f32x4Mul);
    emit(g(hv), g(thrV), op.i32x4GeU, op.v128And, op.v128Store);
    emit(g(idx), g(four), op.i32x4Add, s(idx));
    emit(g(i), op.i32(16), op.add, op.tee(i), g(n), op.ltS, op.brIf(0));
  }
  emit(op.end);
  emit(op.end); // block
  emit(op.end); // function
  const locals = vec([
    [...uleb(1), I32],
    [...uleb(9), V128],
  ]);
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

/** i8x16.shuffle selecting float32 lanes (0–3 from the first operand, 4–7 from the second). */
const shuffle32 = (lanes: number[]): number[] => [
  0xfd,
  0x0d,
  ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]),
];

/**
 * The body of tr(x, out, nb, R, C): out[p] = x[p]ᵀ for nb row-major R×C float32 matrices (R, C ≥ 4),
 * in 4×4 blocks (four row loads, eight lane shuffles, four stores); the last block of each row and
 * column starts at R − 4 / C − 4, overlapping the one before (the same values written twice).
 */
function trBody(): number[] {
  const x = 0,
    out = 1,
    nb = 2,
    R = 3,
    C = 4;
  const p = 5,
    i0 = 6,
    j0 = 7,
    src = 8,
    dst = 9,
    C4 = 10,
    R4 = 11,
    mat = 12,
    xb = 13,
    ob = 14,
    ii = 15;
  const rr = [16, 17, 18, 19],
    tt = [20, 21, 22, 23];
  const g = op.get,
    s = op.set;
  const code: number[] = [];
  const emit = (...parts: number[][]) => {
    for (const q of parts) code.push(...q);
  };
  emit(g(C), op.i32(2), op.shl, s(C4));
  emit(g(R), op.i32(2), op.shl, s(R4));
  emit(g(R), g(C4), op.mul, s(mat));
  emit(g(x), s(xb), g(out), s(ob), op.i32(0), s(p));
  emit(op.loop); // matrices
  {
    emit(op.i32(0), s(i0));
    emit(op.loop); // row blocks
    {
      emit(minOf(g(i0), [...g(R), ...op.i32(4), ...op.sub]), s(ii));
      emit(op.i32(0), s(j0));
      emit(op.loop); // column blocks
      {
        // src = xb + ii·C4 + jj·4, dst = ob + jj·R4 + ii·4 with jj = min(j0, C − 4) (left on the stack as needed)
        const jj = minOf(g(j0), [...g(C), ...op.i32(4), ...op.sub]);
        emit(g(xb), g(ii), g(C4), op.mul, op.add, jj, op.i32(2), op.shl, op.add, s(src));
        emit(g(ob), jj, g(R4), op.mul, op.add, g(ii), op.i32(2), op.shl, op.add, s(dst));
        for (let r = 0; r < 4; r++) {
          emit(g(src));
          if (r > 0) emit(g(C4), op.i32(r), op.mul, op.add);
          emit(op.v128Load, s(rr[r]));
        }
        emit(g(rr[0]), g(rr[1]), shuffle32([0, 4, 1, 5]), s(tt[0])); // a0 b0 a1 b1
        emit(g(rr[0]), g(rr[1]), shuffle32([2, 6, 3, 7]), s(tt[1])); // a2 b2 a3 b3
        emit(g(rr[2]), g(rr[3]), shuffle32([0, 4, 1, 5]), s(tt[2])); // c0 d0 c1 d1
        emit(g(rr[2]), g(rr[3]), shuffle32([2, 6, 3, 7]), s(tt[3])); // c2 d2 c3 d3
        const outs: [number, number, number[]][] = [
          [tt[0], tt[2], [0, 1, 4, 5]],
          [tt[0], tt[2], [2, 3, 6, 7]],
          [tt[1], tt[3], [0, 1, 4, 5]],
          [tt[1], tt[3], [2, 3, 6, 7]],
        ];
        outs.forEach(([u, v, lanes], c) => {
          emit(g(dst));
          if (c > 0) emit(g(R4), op.i32(c), op.mul, op.add);
          emit(g(u), g(v), shuffle32(lanes), op.v128Store);
        });
        emit(g(j0), op.i32(4), op.add, op.tee(j0), g(C), op.ltS, op.brIf(0));
      }
      emit(op.end);
      emit(g(i0), op.i32(4), op.add, op.tee(i0), g(R), op.ltS, op.brIf(0));
    }
    emit(op.end);
    emit(g(xb), g(mat), op.add, s(xb), g(ob), g(mat), op.add, s(ob));
    emit(g(p), op.i32(1), op.add, op.tee(p), g(nb), op.ltS, op.brIf(0));
  }
  emit(op.end);
  emit(op.end); // function
  const locals = vec([
    [...uleb(11), I32],
    [...uleb(8), V128],
  ]);
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

/** The module's bytes; `shared`: import a shared memory (tfjs-wasm's threaded build). */
export function simdModuleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  const type = section(
    1,
    vec([
      [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32]]), 0x00],
      [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [F32]]), 0x00],
      [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0x00],
    ]),
  );
  const limits = shared ? [0x03, ...uleb(0), ...uleb(65536)] : [0x00, ...uleb(0)];
  const imports = section(2, vec([[...str('env'), ...str('memory'), 0x02, ...limits]]));
  const funcs = section(3, vec([uleb(0), uleb(1), uleb(0), uleb(2)]));
  const exports = section(
    7,
    vec([
      [...str('mm'), 0x00, ...uleb(0)],
      [...str('drop'), 0x00, ...uleb(1)],
      [...str('mm8'), 0x00, ...uleb(2)],
      [...str('tr'), 0x00, ...uleb(3)],
    ]),
  );
  const code = section(10, vec([mmBody(1), dropBody(), mmBody(2), trBody()]));
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...type,
    ...imports,
    ...funcs,
    ...exports,
    ...code,
  ]);
}

// ------------------------------------------------------------------ instances per memory

export interface SimdKernels {
  /** out[M×N] = a[M×K] · b[K×N] at byte addresses of the memory; N ≥ 4, M, K ≥ 1. */
  mm(a: number, b: number, out: number, M: number, K: number, N: number): void;
  /**
   * Dropout with the counter-based mask: out[i] = keep(i) ? x[i]·s : 0 for i < n, n a multiple of 4,
   * byte addresses; key and thr as wasmAttention.ts's dropoutKey / dropThreshold (thr < 2³²), s float32.
   */
  drop(x: number, out: number, n: number, key: number, thr: number, s: number): void;
  /** out[p] = x[p]ᵀ for nb row-major R×C float32 matrices at byte addresses; R, C ≥ 4. */
  tr(x: number, out: number, nb: number, R: number, C: number): void;
}

/** Where tfjs-wasm keeps its WebAssembly.Memory (Emscripten: asm.memory, or wasmMemory in threaded builds). */
export function findWasmMemory(wasmModule: unknown): WebAssembly.Memory | null {
  const m = wasmModule as Record<string, unknown> | null | undefined;
  if (!m) return null;
  for (const c of [
    (m.asm as Record<string, unknown> | undefined)?.memory,
    (m.wasmExports as Record<string, unknown> | undefined)?.memory,
    m.wasmMemory,
  ]) {
    if (c instanceof WebAssembly.Memory) return c;
  }
  return null;
}

const instances = new WeakMap<WebAssembly.Memory, SimdKernels | null>();
let disabled = false;
let narrowOnly = false;

/** Makes mm use its 4-column tiles only (tests: both tile widths are checked). */
export function setSimdNarrowTiles(on: boolean): void {
  narrowOnly = on;
}

/** Turns the SIMD kernels off (callers take their JavaScript path): for tests and A/B timing. */
export function setSimdKernelsEnabled(on: boolean): void {
  disabled = !on;
}

/**
 * The SIMD kernels bound to `memory` (compiled once per memory), or null when SIMD is unavailable
 * or switched off.
 */
export function simdKernels(memory: WebAssembly.Memory | null): SimdKernels | null {
  if (disabled || !memory) return null;
  if (instances.has(memory)) return instances.get(memory)!;
  let k: SimdKernels | null = null;
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = simdModuleBytes(shared);
    if (WebAssembly.validate(bytes)) {
      const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
      const mm4 = inst.exports.mm as SimdKernels['mm'],
        mm8 = inst.exports.mm8 as SimdKernels['mm'];
      k = {
        mm: (a, b, out, M, K, N) => (N >= 8 && !narrowOnly ? mm8 : mm4)(a, b, out, M, K, N),
        drop: inst.exports.drop as SimdKernels['drop'],
        tr: inst.exports.tr as SimdKernels['tr'],
      };
    }
  } catch {
    k = null;
  }
  instances.set(memory, k);
  return k;
}
