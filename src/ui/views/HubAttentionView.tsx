import { useMemo } from 'react';
import type { InspectResult } from '../../worker/protocol.ts';
import { Heatmap } from './Heatmap.tsx';
import { headMean, MODALITY_NAME } from './names.ts';

/** The macro branch: where the hub tokens look in each modality, per hub-transformer layer. */
export function HubAttentionView({ r }: { r: InspectResult }) {
  const a = r.attention;
  const maps = useMemo(
    () =>
      (a?.maps ?? []).map((map) => {
        const cols = map.L + map.k;
        const marks = new Uint8Array(cols);
        if (!a!.mapped[map.modality]) marks.set(a!.dropped[map.modality].subarray(0, map.L));
        return { map, cols, values: headMean(map.probs, map.heads, map.hubTokens.length, cols), marks };
      }),
    [a],
  );
  if (!a) return <p data-testid="view-hub">This model has no macro stream (w/o F-1): there is no hub to look at.</p>;
  return (
    <div className="view" data-testid="view-hub">
      <p className="view-note">
        Test sample {a.index} at missing rate {a.rate}. Rows: hub tokens (queries); columns: the modality's time steps,
        then (after the line) the hub tokens themselves; darker = more attention (each map scaled to its own largest
        weight), averaged over heads; each row sums to 1. Red ticks mark dropped time steps. Waterfall order{' '}
        {a.order.map((m) => MODALITY_NAME[m]).join(' → ')}.
      </p>
      <div className="hub-grid">
        {maps.map(({ map, cols, values, marks }) => (
          <div key={map.name} className="hub-cell">
            <Heatmap
              values={values}
              rows={map.hubTokens.length}
              cols={cols}
              label={`stage ${map.stage + 1} (${MODALITY_NAME[map.modality]}), layer ${map.layer + 1}: hub token${map.hubTokens.length > 1 ? 's' : ''} ${map.hubTokens.map((t) => t + 1).join(', ')}`}
              testId={`hub-${map.modality}-layer${map.layer}`}
              scale="sequential"
              marks={marks}
              splitAt={map.L}
              height={Math.max(24, 14 * map.hubTokens.length)}
            />
            {a.mapped[map.modality] ? (
              <p className="muted small">
                {MODALITY_NAME[map.modality]} reaches the hub through a learned map onto {map.L} steps (unequal
                lengths), so its columns are mixtures of frames, not frames.
              </p>
            ) : null}
          </div>
        ))}
      </div>
    </div>
  );
}
