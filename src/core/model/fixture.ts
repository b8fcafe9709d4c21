/**
 * Reads the tensors of the parity fixture written by scripts/make_parity_fixture.py:
 * {shape, dtype: 'float32', data: base64 of little-endian float32}.
 */
export interface FixtureTensor {
  shape: number[];
  dtype: 'float32';
  data: string;
}

export function decodeTensor(t: FixtureTensor): Float32Array {
  const bin =
    typeof Buffer !== 'undefined'
      ? Buffer.from(t.data, 'base64')
      : Uint8Array.from(atob(t.data), (c) => c.charCodeAt(0));
  const bytes = new Uint8Array(bin.byteLength);
  bytes.set(bin);
  const out = new Float32Array(bytes.buffer);
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (out.length !== n) throw new Error(`fixture tensor: ${out.length} values for shape [${t.shape}]`);
  return out;
}
