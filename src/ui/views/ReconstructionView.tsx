import { useMemo } from 'react';
import type { InspectResult } from '../../worker/protocol.ts';
import { Heatmap, stats } from './Heatmap.tsx';
import { MiniChart } from './MiniChart.tsx';
import { MODALITY_COLOR, MODALITY_NAME, MODS, timeAlongX } from './names.ts';

/** The L_gen branch made visible: clean, masked and reconstructed features (feature × time) per modality. */
export function ReconstructionView({ r }: { r: InspectResult }) {
  const rec = r.reconstruction;
  const maps = useMemo(
    () =>
      MODS.map((m) => {
        const s = rec.modalities[m];
        const clean = timeAlongX(s.clean, s.L, s.D);
        const cs = stats(clean);
        return {
          m,
          s,
          clean,
          masked: timeAlongX(s.masked, s.L, s.D),
          recon: s.recon ? timeAlongX(s.recon, s.L, s.D) : null,
          range: Math.max(Math.abs(cs.min), Math.abs(cs.max)),
        };
      }),
    [rec],
  );
  const curve = r.curve;
  return (
    <div className="view" data-testid="view-recon">
      <p className="view-note">
        Test sample {rec.index} at missing rate {rec.rate}: features run down, time runs across; red ticks under a map
        mark the time steps the simulation dropped, grey columns are padding. One colour scale per modality (the clean
        features' largest |value|).{' '}
        {rec.modalities.t.recon ? '' : 'This model has no reconstruction branch (w/o Recon).'}
      </p>
      {maps.map(({ m, s, clean, masked, recon, range }) => (
        <div className="heatmap-row" key={m}>
          <h3 className="view-h">
            {MODALITY_NAME[m]}{' '}
            <span className="muted">
              ({s.D} features × {s.L} steps, {s.len} valid)
            </span>
          </h3>
          <div className="heatmap-triple">
            <Heatmap
              values={clean}
              rows={s.D}
              cols={s.L}
              label={`${MODALITY_NAME[m]}: clean features`}
              testId={`recon-${m}-clean`}
              scale="diverging"
              range={range}
              marks={s.dropped}
              pad={s.len}
            />
            <Heatmap
              values={masked}
              rows={s.D}
              cols={s.L}
              label={`${MODALITY_NAME[m]}: masked input`}
              testId={`recon-${m}-masked`}
              scale="diverging"
              range={range}
              marks={s.dropped}
              pad={s.len}
            />
            {recon ? (
              <Heatmap
                values={recon}
                rows={s.D}
                cols={s.L}
                label={`${MODALITY_NAME[m]}: reconstruction X̂`}
                testId={`recon-${m}-recon`}
                scale="diverging"
                range={range}
                marks={s.dropped}
                pad={s.len}
              />
            ) : null}
          </div>
        </div>
      ))}
      {curve ? (
        <MiniChart
          testId="recon-curve"
          label={`Reconstruction error (mean squared, dropped positions only) against the missing rate, over the first ${curve.samples} test samples`}
          yLabel="MSE on dropped"
          x={curve.rates}
          series={MODS.map((m) => ({ name: MODALITY_NAME[m], color: MODALITY_COLOR[m], values: curve.mse[m] }))}
        />
      ) : null}
    </div>
  );
}
