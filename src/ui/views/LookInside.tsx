import { useState } from 'react';
import { useAppStore } from '../bindings.ts';
import { Panel } from '../Panel.tsx';
import { HubAttentionView } from './HubAttentionView.tsx';
import { ReconstructionView } from './ReconstructionView.tsx';
import { SampleInspector } from './SampleInspector.tsx';
import './views.css';

type Tab = 'recon' | 'hub' | 'sample';
const TABS: { id: Tab; label: string }[] = [
  { id: 'recon', label: 'Reconstruction' },
  { id: 'hub', label: 'Hub attention' },
  { id: 'sample', label: 'Sample inspector' },
];

/** "Look inside": the views of the last finished run of this page, computed in the worker. */
export function LookInside() {
  const ins = useAppStore((s) => s.inspect);
  const request = useAppStore((s) => s.requestInspect);
  const pick = useAppStore((s) => s.pickSample);
  const canInspect = useAppStore((s) => s.status === 'done' && s.currentJobId !== null);
  const currentJobId = useAppStore((s) => s.currentJobId);
  const rates = useAppStore((s) => s.jobs.find((j) => j.id === s.currentJobId)?.config.missing.testRates ?? null);
  const [tab, setTab] = useState<Tab>('recon');
  const [sampleText, setSampleText] = useState(String(ins.sample));
  const r = ins.result;
  const stale = r !== null && r.jobId !== currentJobId;
  const busy = ins.status === 'loading';
  const go = (sample?: number, rate?: number) => {
    if (sample !== undefined) setSampleText(String(sample));
    request({ sample, rate });
  };
  return (
    <Panel
      title="Look inside the model"
      subtitle="What the trained model does with one test sample: its reconstruction, the hub's attention and its predictions as data go missing."
      testId="look-inside"
      id="look-inside"
    >
      {!canInspect && !r ? (
        <p className="muted">
          Train a model (for example the Quick demo) to look inside it; the views use its best-epoch weights.
        </p>
      ) : (
        <>
          <form
            className="inspect-controls"
            onSubmit={(e) => {
              e.preventDefault();
              go(Number(sampleText));
            }}
          >
            <label>
              Test sample{' '}
              <input
                type="number"
                min={0}
                max={r ? r.n - 1 : undefined}
                value={sampleText}
                onChange={(e) => setSampleText(e.target.value)}
                data-testid="inspect-sample"
                className="num"
              />
            </label>
            <label>
              Missing rate{' '}
              <select
                value={ins.rate}
                onChange={(e) => go(undefined, Number(e.target.value))}
                data-testid="inspect-rate"
                disabled={busy || !canInspect}
              >
                {(rates ?? [ins.rate]).map((x) => (
                  <option key={x} value={x}>
                    {x}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" disabled={busy || !canInspect} data-testid="inspect-go">
              {r ? 'Show' : 'Look inside'}
            </button>
            <button
              type="button"
              disabled={busy || !r || !canInspect}
              onClick={() => pick('error')}
              data-testid="inspect-worst"
            >
              Next by error
            </button>
            <button
              type="button"
              disabled={busy || !r || !canInspect}
              onClick={() => pick('sensitivity')}
              data-testid="inspect-sensitive"
            >
              Next by sensitivity
            </button>
            <button
              type="button"
              disabled={busy || !r || !canInspect}
              onClick={() => {
                pick('random');
              }}
              data-testid="inspect-random"
            >
              At random
            </button>
          </form>
          <p
            className="muted small"
            data-testid="inspect-status"
            data-status={ins.status}
            data-sample={r?.sample ?? ''}
            aria-live="off"
          >
            {busy
              ? 'computing in the worker…'
              : ins.status === 'error'
                ? ins.error
                : r
                  ? `computed in the worker in ${Math.round(r.ms)} ms (shown ${Math.round(ins.waitedMs ?? 0)} ms after the request)${stale ? ' · from an earlier run: press Show for the latest' : ''}`
                  : ''}
          </p>
          {r ? (
            <>
              <div role="tablist" aria-label="Views" className="tabs">
                {TABS.map((t) => (
                  <button
                    key={t.id}
                    type="button"
                    role="tab"
                    aria-selected={tab === t.id}
                    aria-controls={`look-inside-${t.id}`}
                    id={`look-inside-tab-${t.id}`}
                    className={tab === t.id ? 'tab tab-on' : 'tab'}
                    onClick={() => setTab(t.id)}
                    data-testid={`tab-${t.id}`}
                  >
                    {t.label}
                  </button>
                ))}
              </div>
              <div role="tabpanel" id={`look-inside-${tab}`} aria-labelledby={`look-inside-tab-${tab}`}>
                {tab === 'recon' ? <ReconstructionView r={r} /> : null}
                {tab === 'hub' ? <HubAttentionView r={r} /> : null}
                {tab === 'sample' ? <SampleInspector r={r} onPick={(i) => go(i)} /> : null}
              </div>
            </>
          ) : null}
        </>
      )}
    </Panel>
  );
}
