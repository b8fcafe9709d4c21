import { useMemo } from 'react';
import type { InspectResult } from '../../worker/protocol.ts';
import { Heatmap } from './Heatmap.tsx';
import { MiniChart } from './MiniChart.tsx';
import { MODALITY_NAME, MODS } from './names.ts';

/** One test sample: label, prediction against the missing rate over several masks, what was dropped, transcript. */
export function SampleInspector({ r, onPick }: { r: InspectResult; onPick(sample: number): void }) {
  const rob = r.robustness;
  const R = rob.rates.length;
  const seed0 = useMemo(() => Array.from(rob.preds.subarray(0, R)), [rob, R]);
  const mean = Array.from(rob.mean);
  const std = Array.from(rob.std);
  const rk = r.ranking;
  const fmt = (v: number) => (v >= 0 ? '+' : '') + v.toFixed(2);
  return (
    <div className="view" data-testid="view-sample">
      <dl className="sample-facts">
        <div>
          <dt>Test sample</dt>
          <dd data-testid="sample-index">
            {rob.index} of {r.n}
          </dd>
        </div>
        <div>
          <dt>Label</dt>
          <dd data-testid="sample-label">{fmt(rob.label)}</dd>
        </div>
        <div>
          <dt>Prediction at r = {r.rate}</dt>
          <dd data-testid="sample-pred">{fmt(r.reconstruction.pred)}</dd>
        </div>
        {rk ? (
          <div>
            <dt>|error| at r = 0 · shift at r = {rk.rateHigh}</dt>
            <dd>
              {rk.absError[rob.index].toFixed(2)} · {rk.sensitivity[rob.index].toFixed(2)}
            </dd>
          </div>
        ) : null}
      </dl>
      {r.transcript !== null ? (
        <blockquote className="transcript" data-testid="sample-transcript">
          “{r.transcript}”
        </blockquote>
      ) : (
        <p className="muted small">No transcript: the data has no raw_text (synthetic data never has one).</p>
      )}
      <MiniChart
        testId="sample-curve"
        label={`Prediction of test sample ${rob.index} against the missing rate: mean and ±1 σ over ${rob.seeds} masks, the protocol's mask, and the label`}
        yLabel="prediction"
        x={rob.rates}
        series={[
          {
            name: `mean ± σ over ${rob.seeds} masks`,
            color: '#7c3aed',
            values: mean,
            band: { lo: mean.map((m, i) => m - std[i]), hi: mean.map((m, i) => m + std[i]) },
          },
          { name: "protocol's mask (seed 0)", color: '#0f766e', values: seed0 },
        ]}
        reference={{ value: rob.label, name: 'label' }}
      />
      <table className="data-table small" data-testid="sample-table">
        <caption>Prediction by missing rate ({rob.seeds} mask seeds)</caption>
        <thead>
          <tr>
            <th scope="col">rate</th>
            <th scope="col" className="num">
              seed 0
            </th>
            <th scope="col" className="num">
              mean
            </th>
            <th scope="col" className="num">
              σ
            </th>
          </tr>
        </thead>
        <tbody>
          {rob.rates.map((rate, i) => (
            <tr key={rate}>
              <td>{rate}</td>
              <td className="num">{seed0[i].toFixed(3)}</td>
              <td className="num">{mean[i].toFixed(3)}</td>
              <td className="num">{std[i].toFixed(3)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3 className="view-h">
        Dropped time steps by rate (protocol&apos;s mask; rows: rates {rob.rates[0]} to {rob.rates[R - 1]})
      </h3>
      <div className="heatmap-triple">
        {MODS.map((m) => {
          const L = rob.dropped[m].length / R;
          const whole = rob.rates.filter((_, i) => {
            const row = rob.dropped[m].subarray(i * L, i * L + rob.len[m]);
            return rob.len[m] > 0 && row.every((x) => x === 1);
          }).length;
          return (
            <div key={m}>
              <Heatmap
                values={rob.dropped[m]}
                rows={R}
                cols={L}
                label={`${MODALITY_NAME[m]}: dropped steps (${rob.len[m]} valid)`}
                testId={`drops-${m}`}
                scale="sequential"
                range={1}
                pad={rob.len[m]}
                height={Math.max(40, 8 * R)}
              />
              {whole ? (
                <p className="muted small">
                  the whole modality is dropped at {whole} of {R} rates
                </p>
              ) : null}
            </div>
          );
        })}
      </div>
      {rk ? (
        <div className="rank-lists">
          <RankList
            title="Largest error at r = 0"
            order={rk.byError}
            value={rk.absError}
            onPick={onPick}
            testId="rank-error"
          />
          <RankList
            title={`Most sensitive to missing data (|pred(${rk.rateHigh}) − pred(0)|)`}
            order={rk.bySensitivity}
            value={rk.sensitivity}
            onPick={onPick}
            testId="rank-sensitivity"
          />
        </div>
      ) : null}
    </div>
  );
}

function RankList(p: {
  title: string;
  order: Int32Array;
  value: Float32Array;
  onPick(i: number): void;
  testId: string;
}) {
  return (
    <div data-testid={p.testId}>
      <h3 className="view-h">{p.title}</h3>
      <ol className="rank-list">
        {Array.from(p.order.subarray(0, 5)).map((i) => (
          <li key={i}>
            <button type="button" className="linkish" onClick={() => p.onPick(i)} data-sample={i}>
              sample {i}
            </button>{' '}
            <span className="muted">{p.value[i].toFixed(3)}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}
