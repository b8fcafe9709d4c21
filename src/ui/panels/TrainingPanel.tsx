import { useState } from 'react';
import { table5Settings } from '../../core/config/config.ts';
import { listProblem, TRAIN_LIMITS } from '../../core/config/validateConfig.ts';
import type { ModelSetting } from '../../core/eval/experiment.ts';
import type { JobKind } from '../../worker/protocol.ts';
import { useAppStore } from '../bindings.ts';
import { NumberField, NumberListField, Select } from '../controls.tsx';
import { fmtSeconds, settingLabel } from '../format.ts';
import { useBusy } from '../hooks.ts';
import { Panel } from '../Panel.tsx';

const KINDS: { value: JobKind; label: string }[] = [
  { value: 'train', label: 'Train the current setting' },
  { value: 'sweep', label: 'Robustness sweep (Table 4)' },
  { value: 'ablation', label: 'Ablation: the four Table-5 settings' },
];

export const ABLATION_SETTINGS: ModelSetting[] = table5Settings();

// The store's and the CLI's rule and message (core/config/validateConfig.ts).
const validateSeeds = (list: number[]): string | null => listProblem('train.seeds', list);

export function TrainingPanel() {
  const train = useAppStore((s) => s.config.train);
  const setConfig = useAppStore((s) => s.setConfig);
  const busy = useBusy();
  return (
    <Panel title="Training" subtitle="Adam with early stopping on validation MAE." testId="panel-training">
      <fieldset disabled={busy} className="fieldset">
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
      </fieldset>
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

  const start = () => startJob(kind, kind === 'ablation' ? ABLATION_SETTINGS : undefined);

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

/** What a screen reader says for the job's progress bar: the percentage, and where the job is. */
function progressText(status: string, frac: number, p: ReturnType<typeof useAppStore.getState>['progress']): string {
  if (status === 'idle' || !p) return status === 'done' ? '100 %, done' : 'no job running';
  const where = `run ${p.runIndex + 1} of ${p.runTotal}, epoch ${p.epoch} of ${p.maxEpochs}, step ${p.step} of ${p.stepsPerEpoch}`;
  return `${Math.round(frac * 100)} %, ${where}${status === 'done' ? ', done' : status === 'paused' ? ', paused' : ''}`;
}

export function Progress() {
  const p = useAppStore((s) => s.progress);
  const status = useAppStore((s) => s.status);
  let frac = 0;
  if (p && p.runTotal > 0) {
    const epochFrac =
      p.maxEpochs > 0
        ? (Math.max(0, p.epoch - 1) + (p.stepsPerEpoch > 0 ? Math.min(1, p.step / p.stepsPerEpoch) : 0)) / p.maxEpochs
        : 0;
    frac = Math.min(1, Math.max(0, (p.runIndex + Math.min(1, epochFrac)) / p.runTotal));
  }
  if (status === 'done') frac = 1;
  const statusText: Record<string, string> = {
    idle: 'Idle — press Start, or one of the experiments at the top.',
    running: 'Training',
    paused: 'Paused',
    stopping: 'Stopping after the current step…',
    done: 'Done',
    error: 'Stopped with an error',
  };
  return (
    // Only the status line is a live region (it changes when the job's status does); the numbers
    // below change with every step and are read on demand, not announced.
    <div className={`progress progress-${status}`} data-testid="progress" data-status={status}>
      <div className="progress-head">
        <span className={`status-dot status-${status}`} aria-hidden="true" />
        <span role="status" aria-atomic="true">
          <strong data-testid="job-status">{statusText[status] ?? status}</strong>
        </span>
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
          <span data-testid="progress-speed">
            <b>{Number.isFinite(p.stepsPerSecond) ? p.stepsPerSecond.toFixed(1) : '—'}</b> steps/s
          </span>
          <span data-testid="progress-eta">
            ETA <b>{fmtSeconds(p.etaSeconds)}</b>
          </span>
        </div>
      ) : null}
    </div>
  );
}
