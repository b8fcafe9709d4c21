/**
 * A FileSummary in words: what `mfmb inspect` prints, and the phrases the Data panel shares with it.
 * Pure (no tfjs, no reader): the page imports it.
 */
import { SPLITS } from '../types.ts';
import type { FileSummary } from './fileSummary.ts';

const CLASSES = ['-3', '-2', '-1', '0', '+1', '+2', '+3'];

/**
 * Fields listed per split in a summary (the MMSA fields first); the rest are counted ("and 64,955
 * more fields"), so a file with 65,000 fields neither freezes the Data panel nor floods the terminal.
 */
export const MAX_SUMMARY_FIELDS = 50;
/** Longest field name shown whole; longer ones are cut with '…'. */
export const MAX_NAME_CHARS = 60;
/** Names listed in one message before "and N more". */
export const MAX_LISTED_NAMES = 10;

/** A name cut to MAX_NAME_CHARS characters. */
export function clipName(name: string, max = MAX_NAME_CHARS): string {
  return name.length > max ? `${name.slice(0, max - 1)}…` : name;
}

/** '"a", "b", "c" and 64,997 more': the first few (clipped) names of a long list, for messages. */
export function listSome(names: readonly string[], quote = '"', max = MAX_LISTED_NAMES): string {
  const shown = names.slice(0, max).map((n) => `${quote}${clipName(n)}${quote}`);
  const more = names.length - shown.length;
  return shown.join(', ') + (more > 0 ? ` and ${more.toLocaleString('en-US')} more` : '');
}
const MODALITY_NAMES = ['text', 'audio', 'vision'];

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

/** Where each modality's lengths came from: 'text from text_bert', 'audio from the file', 'vision full length'. */
export function lengthSources(s: FileSummary): string[] {
  return MODALITY_NAMES.map(
    (m, i) =>
      `${m} ${s.hasLengths[i] ? (i === 0 && s.textIsBert ? 'from text_bert' : 'from the file') : 'full length'}`,
  );
}

/** One field's non-finite counts: '117 -inf (read as 0, as MMSA does), 2 NaN'. */
export function nonFiniteText(f: FileSummary['nonFinite'][number]): string {
  const parts = [
    f.negInf && `${f.negInf.toLocaleString('en-US')} -inf${f.field === 'audio' ? ' (read as 0, as MMSA does)' : ''}`,
    f.posInf && `${f.posInf.toLocaleString('en-US')} +inf`,
    f.nan && `${f.nan.toLocaleString('en-US')} NaN`,
  ];
  return parts.filter(Boolean).join(', ');
}

/** How dropped text positions are filled for this file, and why that differs from the paper. */
export function textMaskingText(s: FileSummary): string {
  return (
    (s.textUnk
      ? "dropped text positions take the file's text_unk vector"
      : 'no text_unk in the file, so dropped text positions become zeros (the paper replaces tokens by [UNK] and fine-tunes BERT, which this app cannot)') +
    (s.textIsBert ? '; [CLS]/[SEP] kept' : '')
  );
}

/** Raw features this large train poorly without standardising (the Data panel and the CLI warn). */
export function scaleIsLarge(s: FileSummary): boolean {
  return !s.standardized && s.maxAbs !== null && Math.max(...s.maxAbs) > 20;
}

export function formatFileSummary(s: FileSummary): string {
  const out: string[] = [];
  out.push(`${s.file}: ${s.format === 'pickle' ? 'Python pickle' : 'numpy .npz'}, ${formatBytes(s.bytes)}`);
  out.push(
    `layout: ${s.aligned ? 'aligned' : 'unaligned'} (L text/audio/vision ${s.lens.join(' / ')}; D ${s.dims.join(' / ')})`,
  );
  const counts = SPLITS.map((k) => {
    const sp = s.splits[k];
    return `${k} ${sp.n.toLocaleString('en-US')}${sp.loaded !== sp.n ? ` (first ${sp.loaded.toLocaleString('en-US')} loaded)` : ''}`;
  });
  out.push(`samples: ${counts.join(', ')}`);
  out.push(`lengths: ${lengthSources(s).join(', ')}`);
  out.push(`dtypes: ${s.dtypes.join(', ')}`);
  out.push(
    `features as float32: ${formatBytes(s.featureBytes)}${s.subset !== null ? ` (whole file: ${formatBytes(s.fullFeatureBytes)})` : ''}` +
      (s.maxAbs
        ? `; largest |value| ${MODALITY_NAMES.map((m, i) => `${m} ${s.maxAbs![i].toPrecision(3)}`).join(', ')}`
        : '') +
      (s.standardized ? "; standardised with the train split's mean and sigma" : ''),
  );
  if (scaleIsLarge(s))
    out.push('hint: raw values this large swamp the reconstruction loss of a small model; consider --standardize');
  out.push(`text masking: ${textMaskingText(s)}`);
  out.push('');
  out.push('fields (train split):');
  const train = s.splits.train;
  const shown = train.fields.slice(0, MAX_SUMMARY_FIELDS);
  const w = Math.max(0, ...shown.map((f) => clipName(f.name).length));
  for (const f of shown)
    out.push(
      `  ${clipName(f.name).padEnd(w)}  ${clipName(f.dtype, 24).padEnd(8)} ${f.shape.length ? `[${f.shape.join(', ')}]` : ''}`,
    );
  const more = (train.moreFields ?? 0) + train.fields.length - shown.length;
  if (more > 0) out.push(`  … and ${more.toLocaleString('en-US')} more fields`);
  if (s.labelHistogram) {
    out.push('');
    out.push(`train labels rounded to -3..3: ${s.labelHistogram.map((c, i) => `${CLASSES[i]}: ${c}`).join('  ')}`);
  }
  if (s.nonFinite.length) {
    out.push('non-finite values:');
    for (const f of s.nonFinite) out.push(`  ${f.split}/${f.field}: ${nonFiniteText(f)}`);
  } else if (s.labelHistogram) {
    out.push('non-finite values: none');
  }
  if (s.seconds)
    out.push(
      `read in ${(s.seconds.structure + s.seconds.read).toFixed(2)} s (structure ${s.seconds.structure.toFixed(2)} s, arrays ${s.seconds.read.toFixed(2)} s)`,
    );
  return out.join('\n');
}
