import { useEffect, useState } from 'react';
import { TABLE5_SETTINGS, type Architecture, type Branches, type ModelPresetName } from '../../core/config/config.ts';
import { useAppStore } from '../bindings.ts';
import { Segmented, Select, Toggle } from '../controls.tsx';
import { branchSlug, fmtInt, sameBranches } from '../format.ts';
import { ModelDiagram } from '../ModelDiagram.tsx';
import { useStoreValue } from '../hooks.ts';
import { LockedFieldset, Panel } from '../Panel.tsx';

const ARCHS: { value: Architecture; label: string }[] = [
  { value: 'mfmb', label: 'MFMB-Net' },
  { value: 'concat', label: 'Baseline: Concat (Table 2)' },
  { value: 'fc-t', label: 'Baseline: FC text only' },
  { value: 'fc-a', label: 'Baseline: FC audio only' },
  { value: 'fc-v', label: 'Baseline: FC vision only' },
];

const BRANCH_INFO: { key: keyof Branches; label: string; title: string }[] = [
  { key: 'macro', label: 'Macro (F-1)', title: 'Coarse hub stream, eqs. 3–7' },
  { key: 'micro', label: 'Micro (F-2)', title: 'Pseudo-Siamese local fusion, eqs. 8–13' },
  { key: 'recon', label: 'Recon', title: 'Reconstruction branch and L_gen, eqs. 14–15, 18' },
];

export function ModelPanel() {
  const model = useStoreValue((s) => s.config.model);
  const setBranches = useAppStore((s) => s.setBranches);
  const setModelPreset = useAppStore((s) => s.setModelPreset);
  const setConfig = useAppStore((s) => s.setConfig);
  const paramCounts = useAppStore((s) => s.paramCounts);
  const [reject, setReject] = useState<string | null>(null);
  const isMfmb = model.arch === 'mfmb';

  // Counts are computed by the worker for the four Table-5 settings and for the config's own one.
  const current = paramCounts.find(
    (p) => (p.arch ?? 'mfmb') === model.arch && (model.arch !== 'mfmb' || sameBranches(p.branches, model.branches)),
  );
  // A refusal is about the switches as they were: once the branches change (by hand, a preset or a
  // lesson), its cause is gone.
  useEffect(() => setReject(null), [model.arch, model.branches.macro, model.branches.micro, model.branches.recon]);

  const toggle = (key: keyof Branches, on: boolean) => {
    const next = { ...model.branches, [key]: on };
    if (!next.macro && !next.micro) {
      setReject(
        'MFMB-Net needs at least one fusion stream: macro and micro cannot both be off (recon alone does not feed the prediction).',
      );
      return;
    }
    setReject(null);
    setBranches(next);
  };

  return (
    <Panel
      title="Model"
      subtitle="MFMB-Net: hybrid attention, then a coarse (macro) and a fine (micro) fusion stream."
      testId="panel-model"
    >
      <LockedFieldset>
        <Select
          label="Architecture"
          value={model.arch}
          options={ARCHS}
          testId="model-arch"
          onChange={(v) => setConfig((c) => void (c.model.arch = v))}
        />
        <div className={`branch-row${isMfmb ? '' : ' is-off'}`} role="group" aria-label="Branches">
          {BRANCH_INFO.map((b) => (
            <Toggle
              key={b.key}
              label={b.label}
              title={b.title}
              checked={model.branches[b.key]}
              disabled={!isMfmb}
              testId={`branch-${b.key}`}
              onChange={(on) => toggle(b.key, on)}
            />
          ))}
        </div>
        {reject ? (
          <div className="inline-error" role="alert" data-testid="branch-reject">
            {reject}
          </div>
        ) : null}

        <div className="param-live" data-testid="param-count">
          <span className="param-live-num">{fmtInt(current?.total)}</span>
          <span className="muted"> trainable parameters{current ? '' : ' (counting…)'}</span>
        </div>

        <ModelDiagram branches={model.branches} arch={model.arch} />

        <div className="grid-2">
          <Segmented<ModelPresetName>
            label="Size preset"
            value={(model.preset === 'custom' ? 'small' : model.preset) as ModelPresetName}
            options={[
              { value: 'tiny', label: 'tiny' },
              { value: 'small', label: 'small' },
              { value: 'base', label: 'base', title: 'The paper’s sizes' },
            ]}
            testId="model-preset"
            hint={
              model.preset === 'custom'
                ? 'custom sizes (from a loaded config)'
                : model.preset === 'base'
                  ? 'the paper’s sizes'
                  : undefined
            }
            onChange={(p) => setModelPreset(p)}
          />
          <Segmented<'gru' | 'lstm'>
            label="Recurrent cell"
            value={model.cell}
            options={[
              { value: 'gru', label: 'GRU', title: 'Released code' },
              { value: 'lstm', label: 'LSTM', title: 'Paper text' },
            ]}
            testId="model-cell"
            hint="micro stream: the code uses GRU, the paper says LSTM"
            onChange={(v) => setConfig((c) => void (c.model.cell = v))}
          />
        </div>
      </LockedFieldset>

      <h3 className="subhead">Parameters per Table-5 setting</h3>
      <table className="mini-table" data-testid="param-counts">
        <tbody>
          {TABLE5_SETTINGS.map((s) => {
            const p = paramCounts.find((q) => (q.arch ?? 'mfmb') === 'mfmb' && sameBranches(q.branches, s.branches));
            const on = isMfmb && sameBranches(s.branches, model.branches);
            return (
              <tr key={s.label} className={on ? 'row-current' : undefined}>
                <th>{s.label}</th>
                <td className="num" data-testid={`param-count-${branchSlug(s.branches)}`}>
                  {fmtInt(p?.total)}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Panel>
  );
}
