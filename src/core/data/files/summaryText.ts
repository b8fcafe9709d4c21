/**
 * A FileSummary as plain text: what `mfmb inspect` prints (the Data panel shows the same facts).
 */
import { SPLITS } from '../types.ts';
import { gb, type FileSummary } from './mmsa.ts';

const CLASSES = ['-3', '-2', '-1', '0', '+1', '+2', '+3'];

export function formatFileSummary(s: FileSummary): string {
  const out: string[] = [];
  const mb = (b: number) => gb(b);
  out.push(`${s.file}: ${s.format === 'pickle' ? 'Python pickle' : 'numpy .npz'}, ${mb(s.bytes)}`);
  out.push(`layout: ${s.aligned ? 'aligned' : 'unaligned'} (L text/audio/vision ${s.lens.join(' / ')}; D ${s.dims.join(' / ')})`);
  const counts = SPLITS.map((k) => {
    const sp = s.splits[k];
    return `${k} ${sp.n.toLocaleString('en-US')}${sp.loaded !== sp.n ? ` (first ${sp.loaded.toLocaleString('en-US')} loaded)` : ''}`;
  });
  out.push(`samples: ${counts.join(', ')}`);
  const lengthSource = ['text', 'audio', 'vision'].map((m, i) => `${m} ${s.hasLengths[i] ? (i === 0 && s.textIsBert ? 'from text_bert' : 'from the file') : 'full length'}`);
  out.push(`lengths: ${lengthSource.join(', ')}`);
  out.push(`dtypes: ${s.dtypes.join(', ')}`);
  out.push(`features as float32: ${mb(s.featureBytes)}${s.subset !== null ? ` (whole file: ${mb(s.fullFeatureBytes)})` : ''}` +
    (s.maxAbs ? `; largest |value| text ${s.maxAbs[0].toPrecision(3)}, audio ${s.maxAbs[1].toPrecision(3)}, vision ${s.maxAbs[2].toPrecision(3)}` : '') +
    (s.standardized ? '; standardised with the train split\'s mean and sigma' : ''));
  if (!s.standardized && s.maxAbs && Math.max(...s.maxAbs) > 20) out.push('hint: raw values this large swamp the reconstruction loss of a small model; consider --standardize');
  out.push(`text masking: ${s.textUnk ? 'dropped text positions take the file\'s text_unk vector' : 'no text_unk in the file, so dropped text positions become zeros (the paper replaces tokens by [UNK] and fine-tunes BERT, which this app cannot)'}` +
    (s.textIsBert ? '; [CLS]/[SEP] kept' : ''));
  out.push('');
  out.push('fields (train split):');
  const w = Math.max(...s.splits.train.fields.map((f) => f.name.length));
  for (const f of s.splits.train.fields) out.push(`  ${f.name.padEnd(w)}  ${f.dtype.padEnd(8)} ${f.shape.length ? `[${f.shape.join(', ')}]` : ''}`);
  if (s.labelHistogram) {
    out.push('');
    out.push(`train labels rounded to -3..3: ${s.labelHistogram.map((c, i) => `${CLASSES[i]}: ${c}`).join('  ')}`);
  }
  if (s.nonFinite.length) {
    out.push('non-finite values:');
    for (const f of s.nonFinite) {
      const parts = [f.negInf && `${f.negInf.toLocaleString('en-US')} -inf${f.field === 'audio' ? ' (read as 0, as MMSA does)' : ''}`, f.posInf && `${f.posInf} +inf`, f.nan && `${f.nan} NaN`].filter(Boolean);
      out.push(`  ${f.split}/${f.field}: ${parts.join(', ')}`);
    }
  } else if (s.labelHistogram) {
    out.push('non-finite values: none');
  }
  if (s.seconds) out.push(`read in ${(s.seconds.structure + s.seconds.read).toFixed(2)} s (structure ${s.seconds.structure.toFixed(2)} s, arrays ${s.seconds.read.toFixed(2)} s)`);
  return out.join('\n');
}
