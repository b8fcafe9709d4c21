import { useState } from 'react';
import { table5Settings } from '../../core/config/config.ts';
import { listProblem, TRAIN_LIMITS } from '../../core/config/validateConfig.ts';
import type { ModelSetting } from '../../core/eval/experiment.ts';
import type { JobKind, JobStage } from '../../worker/protocol.ts';
import { heldAction, useAppStore } from '../bindings.ts';
import { NumberField, NumberListField, Select } from '../controls.tsx';
import { fmtSeconds, settingLabel } from '../format.ts';
import { useBusy, useStoreValue } from '../hooks.ts';
import { LockedFieldset, Panel } from '../Panel.tsx';

const KINDS: { value: JobKind; label: string }[] = [
  { value: 'train', label: 'Train the current setting' },
  { value: 'sweep', label: 'Robustness sweep (Table 4)' },
  { value: 'ablation', label: 'Ablation: the four Table-5 settings' },
];

export const ABLATION_SETTINGS: ModelSetting[] = table5Settings();

// The store's and the CLI's rule and message (core/config/validateConfig.ts).
const validateSeeds = (list: number[]): string | null => listProblem('train.seeds', list);

export function TrainingPanel() {
  const train = useStoreValue((s) => s.config.train);
  const setConfig = useAppStore((s) => s.setConfig);
  return (
    <Panel title="Training" subtitle="Adam with early stopping on validation MAE." testId="panel-training">
      <LockedFieldset>
        <div className="grid-3">
          <NumberField
            label="Max epochs"
            value={train.epochs}
            integer
            min={TRAIN_LIMITS.epochs.min}
            max={TRAIN_LIMITS.epochs.max}
            testId="train-epochs"
            onCommit={(v) => setConfig((c) => void (c.train.epochs = v))}
          />
          <NumberField
            label="Learning rate"
            value={train.lr}
            min={TRAIN_LIMITS.lr.min}
            max={TRAIN_LIMITS.lr.max}
            step={0.0005}
            testId="train-lr"
            onCommit={(v) => setConfig((c) => void (c.train.lr = v))}
          />
          <NumberField
            label="Batch size"
            value={train.batchSize}
            integer
            min={TRAIN_LIMITS.batchSize.min}
            max={TRAIN_LIMITS.batchSize.max}
            testId="train-batch"
            onCommit={(v) => setConfig((c) => void (c.train.batchSize = v))}
          />
          <NumberField
            label="Patience"
            value={train.patience}
            integer
            min={TRAIN_LIMITS.patience.min}
            max={TRAIN_LIMITS.patience.max}
            testId="train-patience"
            hint="epochs without a better valid MAE"
            onCommit={(v) => setConfig((c) => void (c.train.patience = v))}
          />
          <NumberListField
            label="Run seeds"
            value={train.seeds}
            validate={validateSeeds}
            testId="train-seeds"
            hint="one run per seed; several give mean ± std"
            onCommit={(v) => setConfig((c) => void (c.train.seeds = v))}
          />
        </div>
      </LockedFieldset>
      <RunControls />
    </Panel>
  );
}

function RunControls() {
  const status = useAppStore((s) => s.status);
  const startJob = useAppStore((s) => s.startJob);
  const pause = useAppStore((s) => s.pause);
  const resume = useAppStore((s) => s.resume);
  const stop = useAppStore((s) => s.stop);
  const backendActive = useAppStore((s) => s.backend.active);
  const [kind, setKind] = useState<JobKind>('train');
  const busy = useBusy();

  const start = () => heldAction(() => startJob(kind, kind === 'ablation' ? ABLATION_SETTINGS : undefined));

  return (
    <div className="run-controls">
      <div className="run-buttons">
        <Select<JobKind>
          label="Job"
          value={kind}
          options={KINDS}
          disabled={busy}
          testId="job-kind"
          onChange={setKind}
        />
        <div className="btn-row">
          <button
            type="button"
            className="btn btn-primary"
            data-testid="start"
            disabled={busy}
            title={backendActive ? undefined : 'the backend is still starting; the job will wait for it'}
            onClick={start}
          >
            ▶ Start
          </button>
          <button type="button" className="btn" data-testid="pause" disabled={status !== 'running'} onClick={pause}>
            ❚❚ Pause
          </button>
          <button type="button" className="btn" data-testid="resume" disabled={status !== 'paused'} onClick={resume}>
            ▶ Resume
          </button>
          <button
            type="button"
            className="btn btn-danger"
            data-testid="stop"
            disabled={!(status === 'running' || status === 'paused')}
            onClick={stop}
          >
            ■ Stop
          </button>
        </div>
      </div>
      <Progress />
      <MemoryLine />
      <StoredCheckpoints />
    </div>
  );
}

function MemoryLine() {
  const memory = useAppStore((s) => s.memory);
  const refresh = useAppStore((s) => s.refreshMemory);
  return (
    <div className="memory-line" data-testid="memory">
      worker memory:{' '}
      {memory ? (
        <>
          {memory.numTensors.toLocaleString('en-US')} tensors · {(memory.numBytes / 2 ** 20).toFixed(1)} MiB
        </>
      ) : (
        '—'
      )}{' '}
      <button type="button" className="link-btn" onClick={refresh} data-testid="memory-refresh">
        refresh
      </button>
    </div>
  );
}

/** How much the stored epoch checkpoints take, and a way to delete them all. */
function StoredCheckpoints() {
  const checkpoints = useAppStore((s) => s.checkpoints);
  const cap = useAppStore((s) => s.checkpointCapBytes);
  const deleteAll = useAppStore((s) => s.deleteAllCheckpoints);
  const [confirm, setConfirm] = useState(false);
  const infos = Object.values(checkpoints);
  if (!infos.length) return null;
  const bytes = infos.reduce((n, i) => n + i.bytes, 0);
  return (
    <div className="memory-line" data-testid="stored-checkpoints">
      stored checkpoints: {infos.length} job{infos.length === 1 ? '' : 's'} · {(bytes / 2 ** 20).toFixed(1)} MB of{' '}
      {(cap / 2 ** 20).toFixed(0)} MB (the oldest are dropped beyond that){' '}
      {confirm ? (
        <>
          <button
            type="button"
            className="link-btn"
            data-testid="delete-all-checkpoints-confirm"
            onClick={() => {
              deleteAll();
              setConfirm(false);
            }}
          >
            delete them all (no Resume or weights export after a reload)
          </button>{' '}
          <button type="button" className="link-btn" onClick={() => setConfirm(false)}>
            keep
          </button>
        </>
      ) : (
        <button
          type="button"
          className="link-btn"
          data-testid="delete-all-checkpoints"
          onClick={() => setConfirm(true)}
        >
          delete all
        </button>
      )}
    </div>
  );
}

/** Steps per second with the digits a small rate needs: 0.04, never 0.0. */
export function fmtRate(v: number): string {
  if (!Number.isFinite(v) || v <= 0) return '—';
  if (v >= 100) return String(Math.round(v));
  if (v >= 10) return v.toFixed(1);
  return String(Number(v.toPrecision(2)));
}

const STAGE_TEXT: Record<JobStage, string> = {
  'starting-backend': 'Starting the backend',
  compiling: 'First step: building the kernels',
  training: 'Training',
  validating: 'Validating',
  testing: 'Testing',
  checkpoint: 'Saving the epoch checkpoint',
};

/** The status line's words: what a running job is doing, or how the last one ended. */
function statusWords(
  status: string,
  p: ReturnType<typeof useAppStore.getState>['progress'],
  jobStatus: string | undefined,
  backend: string | null,
): string {
  if (status === 'running' && p?.stage) {
    if (p.stage === 'compiling' && (backend === 'webgpu' || backend === 'webgl'))
      return 'First step: compiling shaders (can take a minute)';
    if (p.stage === 'testing') return `Testing at missing rate r = ${p.stageRate ?? '?'}`;
    if (p.stage === 'validating') return `Validating epoch ${p.epoch}`;
    return STAGE_TEXT[p.stage];
  }
  if (status === 'done') {
    if (jobStatus === 'aborted') return 'Stopped';
    if (jobStatus === 'interrupted') return 'Interrupted';
    if (jobStatus === 'error') return 'Failed';
    return 'Done';
  }
  const text: Record<string, string> = {
    idle: 'Idle — press Start, or one of the experiments at the top.',
    running: 'Training',
    paused: 'Paused',
    stopping: 'Stopping after the current step…',
    error: 'Failed',
  };
  return text[status] ?? status;
}

/** The status in one word, for the live region: it changes when the job's status does, never per stage. */
function liveWord(status: string, jobStatus: string | undefined): string {
  if (status === 'done') {
    if (jobStatus === 'aborted') return 'Stopped';
    if (jobStatus === 'interrupted') return 'Interrupted';
    if (jobStatus === 'error') return 'Failed';
    return 'Done';
  }
  const word: Record<string, string> = {
    idle: 'Idle',
    running: 'Training',
    paused: 'Paused',
    stopping: 'Stopping',
    error: 'Failed',
  };
  return word[status] ?? status;
}

/** "3 min – 12 min" when early stopping can end runs sooner than the max-epochs cap; else the figure. */
function etaText(p: NonNullable<ReturnType<typeof useAppStore.getState>['progress']>): string {
  const max = p.etaSeconds;
  const min = p.etaMinSeconds;
  if (max === null || !Number.isFinite(max)) return '—';
  if (min === null || min === undefined || !(min < max * 0.95)) return fmtSeconds(max);
  return `${fmtSeconds(min)} – ${fmtSeconds(max)}`;
}

/** What a screen reader says for the job's progress bar: the percentage, and where the job is. */
function progressText(status: string, frac: number, p: ReturnType<typeof useAppStore.getState>['progress']): string {
  if (status === 'idle' || !p) return status === 'done' ? '100 %, done' : 'no job running';
  const where = `run ${p.runIndex + 1} of ${p.runTotal}, epoch ${p.epoch} of ${p.maxEpochs}, step ${p.step} of ${p.stepsPerEpoch}`;
  return `${Math.round(frac * 100)} %, ${where}${status === 'done' ? ', done' : status === 'paused' ? ', paused' : ''}`;
}

export function Progress() {
  const p = useAppStore((s) => s.progress);
  const status = useAppStore((s) => s.status);
  const jobStatus = useAppStore((s) => s.jobs.find((j) => j.id === s.currentJobId)?.status);
  const backend = useAppStore((s) => s.backend.active);
  let frac = 0;
  if (p && p.runTotal > 0) {
    const epochFrac =
      p.maxEpochs > 0
        ? (Math.max(0, p.epoch - 1) + (p.stepsPerEpoch > 0 ? Math.min(1, p.step / p.stepsPerEpoch) : 0)) / p.maxEpochs
        : 0;
    frac = Math.min(1, Math.max(0, (p.runIndex + Math.min(1, epochFrac)) / p.runTotal));
  }
  if (status === 'done' && jobStatus === 'done') frac = 1;
  const words = statusWords(status, p, jobStatus, backend);
  return (
    // Only the status line is a live region (it changes when the job's status does); the numbers
    // below change with every step and are read on demand, not announced.
    <div className={`progress progress-${status}`} data-testid="progress" data-status={status}>
      <div className="progress-head">
        <span className={`status-dot status-${status}`} aria-hidden="true" />
        {/* Announced: the status word only (Training, Paused, Stopped, Done…). The stage next to it
            changes within a run (validating, testing at r) and is read on demand, not announced. */}
        <span role="status" aria-atomic="true" className="sr-only">
          {liveWord(status, jobStatus)}
        </span>
        <strong data-testid="job-status" data-stage={p?.stage}>
          {words}
        </strong>
        {p && status !== 'idle' ? (
          <span className="muted">
            {' '}
            · run {p.runIndex + 1} / {p.runTotal}
            {p.setting ? ` · ${settingLabel(p.setting)}` : ''}
            {p.seed !== null ? ` · seed ${p.seed}` : ''}
          </span>
        ) : null}
      </div>
      <div
        className="progress-track"
        role="progressbar"
        aria-label="Job progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(frac * 100)}
        aria-valuetext={progressText(status, frac, p)}
      >
        <div className="progress-fill" style={{ width: `${(frac * 100).toFixed(1)}%` }} />
      </div>
      {p ? (
        <div className="progress-stats">
          <span data-testid="progress-epoch">
            epoch <b>{p.epoch}</b> / {p.maxEpochs}
          </span>
          <span data-testid="progress-step">
            step <b>{p.step}</b> / {p.stepsPerEpoch}
          </span>
          <span
            data-testid="progress-speed"
            title={
              p.stepsPerSecond > 0 && p.stepsPerSecond < 1 ? `${fmtSeconds(1 / p.stepsPerSecond)} per step` : undefined
            }
          >
            <b>{fmtRate(p.stepsPerSecond)}</b> steps/s
          </span>
          <span
            data-testid="progress-eta"
            title="Smoothed over recent steps. The longer figure trains every run to the max-epochs cap; early stopping can end runs sooner."
          >
            ETA <b>{etaText(p)}</b>
          </span>
        </div>
      ) : null}
    </div>
  );
}
