import { useRef, useState, type DragEvent } from 'react';
import { SPLITS } from '../../core/data/types.ts';
import {
  formatBytes,
  lengthSources,
  nonFiniteText,
  scaleIsLarge,
  textMaskingText,
  clipName,
  MAX_NAME_CHARS,
  MAX_SUMMARY_FIELDS,
} from '../../core/data/files/summaryText.ts';
import type { FileSummary } from '../../worker/protocol.ts';
import { useAppStore } from '../bindings.ts';
import { NumberField } from '../controls.tsx';
import { fmtInt } from '../format.ts';
import { useBusy } from '../hooks.ts';

const ACCEPT = '.pkl,.pickle,.npz';

/**
 * Picking or dropping an MMSA .pkl / .npz. The file is read in the worker: this component shows
 * progress (bytes, current split/field), a Cancel button, and what went wrong — the dataset in use
 * before stays in use until a file has loaded and passed validation.
 */
export function FileLoader() {
  const f = useAppStore((s) => s.fileLoad);
  const loadFile = useAppStore((s) => s.loadFile);
  const cancel = useAppStore((s) => s.cancelFileLoad);
  const setStandardize = useAppStore((s) => s.setStandardize);
  const busy = useBusy();
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  // First N samples per split for the next load (0 = all): quick experiments on part of a big file.
  const [limit, setLimit] = useState(0);
  const reading = f.status === 'reading';
  const subset = limit > 0 ? limit : null;

  const take = (files: FileList | null) => {
    const file = files?.[0];
    if (file) loadFile(file, file.name, subset, f.standardize);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    if (!busy && !reading) take(e.dataTransfer.files);
  };
  const pct =
    f.progress && f.progress.totalBytes > 0 ? Math.min(100, (100 * f.progress.bytesRead) / f.progress.totalBytes) : 0;

  return (
    <div className="file-loader" data-testid="file-loader">
      <div
        className={`dropzone${over ? ' dropzone-over' : ''}${busy || reading ? ' dropzone-disabled' : ''}`}
        data-testid="file-dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <div>
          <strong>Your own features:</strong> drop an MMSA <code>.pkl</code> (aligned_50.pkl, unaligned_50.pkl) or a{' '}
          <code>.npz</code> here, or{' '}
          <button
            type="button"
            className="link-btn"
            disabled={busy || reading}
            onClick={() => input.current?.click()}
            data-testid="load-file"
            aria-describedby={
              (f.status === 'failed' || f.status === 'cancelled') && f.error ? 'file-load-error' : undefined
            }
          >
            choose a file
          </button>
          .
        </div>
        <div className="muted small">
          Read in this tab only; nothing you load leaves the browser. Pickles are read by a reader that can only rebuild
          arrays: it never runs code from the file.
        </div>
        <label
          className="inline-check small"
          title="MMSA feeds features raw; raw openSMILE/Facet values in the hundreds train poorly. Statistics come from the train split only."
        >
          <input
            type="checkbox"
            checked={f.standardize}
            disabled={busy || reading}
            data-testid="file-standardize"
            onChange={(e) => setStandardize(e.target.checked)}
          />{' '}
          Standardise features (z-score with the train split’s mean and σ)
        </label>
        <div className="file-limit">
          <NumberField
            label="Samples per split"
            value={limit}
            integer
            min={0}
            max={10_000_000}
            disabled={busy || reading}
            testId="file-limit"
            hint="Read only the first N samples of each split (0 = all). Applies to the file in use and the next one."
            onCommit={(v) => {
              setLimit(v);
              if (f.activeFile && f.summary && (v > 0 ? v : null) !== f.summary.subset)
                loadFile(f.activeFile, f.summary.file, v > 0 ? v : null, f.standardize);
            }}
          />
        </div>
        <input
          ref={input}
          type="file"
          accept={ACCEPT}
          className="visually-hidden"
          data-testid="file-input"
          tabIndex={-1}
          aria-label="Feature file (.pkl or .npz)"
          onChange={(e) => {
            take(e.target.files);
            e.target.value = '';
          }}
        />
      </div>

      {reading && f.progress ? (
        <div className="progress" data-testid="file-progress">
          <div className="progress-head">
            <span className="status-dot status-running" aria-hidden="true" />
            <span role="status">
              <strong>Reading {f.name}</strong>
            </span>
            <span className="muted"> · {f.progress.stage === 'structure' ? 'structure' : f.progress.stage}</span>
          </div>
          <div
            className="progress-track"
            role="progressbar"
            aria-label={`Reading ${f.name ?? 'the file'}`}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={Math.round(pct)}
            aria-valuetext={`${Math.round(pct)} %, ${formatBytes(f.progress.bytesRead)} of ${formatBytes(f.progress.totalBytes)}${f.progress.stage === 'structure' ? '' : `, ${f.progress.stage}`}`}
          >
            <div className="progress-fill" style={{ width: `${pct.toFixed(1)}%` }} />
          </div>
          <div className="progress-stats">
            <span>
              <b>{formatBytes(f.progress.bytesRead)}</b> / {formatBytes(f.progress.totalBytes)}
            </span>
            <button type="button" className="btn btn-small btn-danger" onClick={cancel} data-testid="file-cancel">
              Cancel
            </button>
          </div>
        </div>
      ) : null}

      {(f.status === 'failed' || f.status === 'cancelled') && f.error ? (
        <div
          className={f.status === 'failed' ? 'inline-error' : 'inline-info'}
          role="alert"
          id="file-load-error"
          data-testid="file-error"
        >
          <div>
            {f.status === 'failed' ? 'Not loaded — ' : ''}
            {f.error.message}
          </div>
          {f.error.kind === 'too-big' && f.error.maxSubset && f.file ? (
            <button
              type="button"
              className="btn btn-small"
              data-testid="file-subset"
              onClick={() => loadFile(f.file!, f.name!, f.error!.maxSubset)}
            >
              Load the first {fmtInt(f.error.maxSubset)} samples of each split
            </button>
          ) : null}
          <div className="small">
            {f.summary ? `Still using ${f.summary.file}.` : 'The dataset in use has not changed.'}
          </div>
        </div>
      ) : null}
    </div>
  );
}

/** Fields of the train split not listed in the table. */
function moreFields(s: FileSummary): number {
  const t = s.splits.train;
  return (t.moreFields ?? 0) + Math.max(0, t.fields.length - MAX_SUMMARY_FIELDS);
}

/** What the reader found in the active file: the facts a researcher checks before training. */
export function FileSummaryView({ s }: { s: FileSummary }) {
  const setStandardize = useAppStore((st) => st.setStandardize);
  const busy = useBusy();
  return (
    <div className="file-summary" data-testid="file-summary">
      <p className="small">
        <strong data-testid="file-name">{s.file}</strong> · {s.format === 'pickle' ? 'pickle' : '.npz'} ·{' '}
        {formatBytes(s.bytes)} · <span data-testid="file-layout">{s.aligned ? 'aligned' : 'unaligned'}</span>
        {s.subset !== null ? ` · first ${fmtInt(s.subset)} samples per split` : ''}
        {s.standardized ? ' · standardised' : ''}
        {s.seconds ? ` · read in ${(s.seconds.structure + s.seconds.read).toFixed(1)} s` : ''}
      </p>
      <div className="file-tables">
        <table className="mini-table" data-testid="file-splits">
          <thead>
            <tr>
              <th>Split</th>
              <th>Samples</th>
            </tr>
          </thead>
          <tbody>
            {SPLITS.map((k) => (
              <tr key={k}>
                <th>{k}</th>
                <td>
                  {s.splits[k].loaded !== s.splits[k].n
                    ? `${fmtInt(s.splits[k].loaded)} of ${fmtInt(s.splits[k].n)}`
                    : fmtInt(s.splits[k].n)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <table className="mini-table" data-testid="file-fields">
          <thead>
            <tr>
              <th>Field (train)</th>
              <th>dtype</th>
              <th>shape</th>
            </tr>
          </thead>
          <tbody>
            {/* The core lists at most MAX_SUMMARY_FIELDS; slice again so an old or forged summary cannot flood the page. */}
            {s.splits.train.fields.slice(0, MAX_SUMMARY_FIELDS).map((fl, i) => (
              <tr key={`${i}:${fl.name}`}>
                <th title={fl.name.length > MAX_NAME_CHARS ? clipName(fl.name, 1000) : undefined}>
                  {clipName(fl.name)}
                </th>
                <td>{clipName(fl.dtype, 24)}</td>
                <td>{fl.shape.length ? fl.shape.join('×') : ''}</td>
              </tr>
            ))}
            {moreFields(s) > 0 ? (
              <tr data-testid="file-fields-more">
                <td colSpan={3} className="muted">
                  … and {fmtInt(moreFields(s))} more fields
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
      <p className="muted small" data-testid="file-dtypes">
        dtypes: {s.dtypes.join(', ')} · lengths: {lengthSources(s).join(', ')} · features in memory{' '}
        {formatBytes(s.featureBytes)}
      </p>
      <p className="muted small" data-testid="file-nonfinite">
        {s.nonFinite.length
          ? s.nonFinite.map((x) => `${x.split}/${x.field}: ${nonFiniteText(x)}`).join(' · ')
          : 'No NaN or infinite values.'}
      </p>
      {scaleIsLarge(s) ? (
        <p className="inline-info" data-testid="file-scale-hint">
          Raw feature values reach{' '}
          {['text', 'audio', 'vision'].map((m, i) => `${m} ${s.maxAbs![i].toPrecision(3)}`).join(', ')}. Values this
          large swamp the reconstruction loss of a small model (L_gen is the mean SmoothL1 over the raw values, weighted
          by α up to 20).{' '}
          <button
            type="button"
            className="btn btn-small"
            data-testid="file-standardize-now"
            disabled={busy}
            onClick={() => setStandardize(true)}
          >
            Standardise and reload
          </button>
        </p>
      ) : null}
      {s.standardized ? (
        <p className="muted small" data-testid="file-standardized-note">
          Features standardised: each feature z-scored with the train split’s mean and σ (valid positions only; padding
          stays 0). Untick “Standardise features” to train on the raw values.
        </p>
      ) : null}
      <p className="note" data-testid="file-text-masking">
        <strong>Text masking:</strong> {textMaskingText(s)}.
      </p>
    </div>
  );
}
