import { useState } from 'react';
import type { StoredJob } from '../../state/types.ts';
import { isActive, useAppStore } from '../bindings.ts';
import { downloadBlob, errorText, fmtNum, safeFileName } from '../format.ts';

/**
 * What a job has kept in this browser and what can be done with it: after a reload cut it off,
 * its finished runs and test rates, its last epoch checkpoint and best weights, with **Resume**
 * (from the checkpoint: same job, seeds and data) and **Export weights** (from the stored best
 * weights); for any job with a stored checkpoint, deleting it. Renders nothing when there is
 * nothing to say.
 */
export function JobActions({ job }: { job: StoredJob }) {
  const info = useAppStore((s) => s.checkpoints[job.id]);
  const status = useAppStore((s) => s.status);
  const currentJobId = useAppStore((s) => s.currentJobId);
  const resumeInterrupted = useAppStore((s) => s.resumeInterrupted);
  const exportWeights = useAppStore((s) => s.exportWeights);
  const deleteCheckpoint = useAppStore((s) => s.deleteCheckpoint);
  const [working, setWorking] = useState<null | 'resume' | 'export'>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const interrupted = job.status === 'interrupted';
  const running = currentJobId === job.id && isActive(status);
  if (!interrupted && !info) return null;
  if (running) return null; // the progress panel speaks for a running job

  const runs = job.runs ?? [];
  const total = runCount(job);
  const tests = (job.tests ?? []).filter((t) => t.index >= runs.length);
  const act = async (what: 'resume' | 'export', fn: () => Promise<void>) => {
    setWorking(what);
    setProblem(null);
    try {
      await fn();
    } catch (e) {
      setProblem(errorText(e));
    } finally {
      setWorking(null);
    }
  };
  const exportBest = () =>
    act('export', async () => {
      const blob = await exportWeights(job.id);
      if (blob) downloadBlob(`${safeFileName(job.name)}.weights.bin`, blob);
    });

  return (
    <div className="job-actions" data-testid={`job-actions-${job.id}`}>
      {interrupted ? (
        <ul className="job-kept small" data-testid={`job-kept-${job.id}`}>
          <li data-testid={`job-kept-runs-${job.id}`}>
            {runs.length} of {total} run{total === 1 ? '' : 's'} finished
            {runs.length ? ` (seed${runs.length === 1 ? '' : 's'} ${runs.map((r) => r.seed).join(', ')})` : ''}
          </li>
          {info?.resumable && info.runIndex === runs.length ? (
            <li data-testid={`job-kept-epochs-${job.id}`}>
              run {info.runIndex + 1}: {info.epoch} epoch{info.epoch === 1 ? '' : 's'} finished and checkpointed
            </li>
          ) : runs.length < total ? (
            <li data-testid={`job-kept-epochs-${job.id}`}>run {runs.length + 1}: no epoch checkpoint; it restarts</li>
          ) : null}
          {tests.length ? (
            <li data-testid={`job-kept-tests-${job.id}`}>
              tested so far (run {tests[0].index + 1}):{' '}
              {tests.map((t) => `r = ${t.rate}: MAE ${fmtNum(t.metrics.mae)}`).join(' · ')}
            </li>
          ) : null}
          <li data-testid={`job-kept-best-${job.id}`}>
            {info?.bestEpoch
              ? `best weights: run ${info.runIndex + 1}, epoch ${info.bestEpoch}`
              : 'no best weights stored'}
          </li>
        </ul>
      ) : (
        <div className="muted small" data-testid={`job-kept-${job.id}`}>
          {info?.bestEpoch
            ? `best weights of run ${info.runIndex + 1} (epoch ${info.bestEpoch}) stored in this browser`
            : 'checkpoint stored in this browser'}{' '}
          · {(info!.bytes / 2 ** 20).toFixed(1)} MB
        </div>
      )}
      <div className="btn-row">
        {interrupted ? (
          <button
            type="button"
            className="btn btn-small btn-primary"
            data-testid={`job-resume-${job.id}`}
            disabled={working !== null || isActive(status)}
            title={
              isActive(status)
                ? 'another job is running'
                : 'Continue from the last epoch checkpoint: same job, seeds and data'
            }
            onClick={() => act('resume', () => resumeInterrupted(job.id))}
          >
            {working === 'resume' ? 'Resuming…' : '▶ Resume'}
          </button>
        ) : null}
        {info?.bestEpoch ? (
          <button
            type="button"
            className="btn btn-small"
            data-testid={`job-export-weights-${job.id}`}
            disabled={working !== null}
            title="The stored best-epoch weights (mfmb-weights/1)"
            onClick={exportBest}
          >
            {working === 'export' ? 'Exporting…' : 'Export weights'}
          </button>
        ) : null}
        {info ? (
          <button
            type="button"
            className="btn btn-small btn-ghost"
            data-testid={`job-delete-checkpoint-${job.id}`}
            disabled={working !== null}
            title={`Frees ${(info.bytes / 2 ** 20).toFixed(1)} MB; Resume and Export weights after a reload need it`}
            onClick={() => deleteCheckpoint(job.id)}
          >
            Delete stored checkpoint
          </button>
        ) : null}
      </div>
      {problem ? (
        <div className="run-message" role="alert">
          {problem}
        </div>
      ) : null}
    </div>
  );
}

function runCount(job: StoredJob): number {
  const cfg = job.config;
  const perRate = cfg?.missing?.protocol === 'per-rate' ? (cfg.missing.testRates?.length ?? 1) : 1;
  return (job.settings?.length ?? 1) * (cfg?.train?.seeds?.length ?? 1) * perRate;
}
