import { useMemo, useState } from 'react';
import { METRIC_KEYS, type MetricKey } from '../../core/eval/metrics.ts';
import { auilcCell, COLUMNS, formatRate, isRawScale } from '../../core/eval/tables.ts';
import { useCompareSeries, type CurveSeries } from '../derive.ts';
import type { LegendItem } from './exportPng.ts';
import { niceAxis } from '../format.ts';
import { ChartCard, extent } from './ChartCard.tsx';
import { AuilcCanvas, type AuilcPoint } from './AuilcCanvas.tsx';
import { METRIC_LABELS, scaleMetric } from './metricInfo.ts';
import { useViewOptions } from '../runs/viewOptions.ts';

/** The shared "include partial runs" switch, beside each view that summarises over seeds. */
export function PartialToggle({ testId }: { testId: string }) {
  const { includePartial, setIncludePartial } = useViewOptions();
  return (
    <label
      className="inline-check"
      title="Count runs that did not finish (stopped, interrupted, failed) in the mean ± std; rows that do are marked"
    >
      <input
        type="checkbox"
        checked={includePartial}
        data-testid={testId}
        onChange={(e) => setIncludePartial(e.target.checked)}
      />{' '}
      include partial runs
    </label>
  );
}

export function AuilcView() {
  const { series } = useCompareSeries();
  const [metric, setMetric] = useState<MetricKey>('corr');
  const [fromZero, setFromZero] = useState(true);

  const rates = useMemo(
    () => [...new Set(series.flatMap((s) => s.row.perRate.map((p) => p.rate)))].sort((a, b) => a - b),
    [series],
  );
  // Per series, per rate: the mean and, over several seeds, the ± std band (null where not tested).
  const data = useMemo(
    () =>
      series.map((s): AuilcPoint[] =>
        rates.map((rate) => {
          const p = s.row.perRate.find((q) => Math.abs(q.rate - rate) < 1e-9);
          const mean = p ? scaleMetric(metric, p.mean[metric]) : null;
          const std = p ? scaleMetric(metric, p.std[metric]) : null;
          return {
            mean,
            band: mean !== null && std !== null && s.row.seeds.length > 1 ? [mean - std, mean + std] : null,
          };
        }),
      ),
    [series, rates, metric],
  );

  const yDomain = useMemo(() => {
    const vals: number[] = [];
    for (const points of data)
      for (const p of points) {
        if (p.mean !== null) vals.push(p.mean);
        if (p.band) vals.push(p.band[0], p.band[1]);
      }
    const range = extent(vals);
    if (!range) return { domain: [0, 1] as [number, number], ticks: [0, 0.25, 0.5, 0.75, 1] };
    return niceAxis(range[0], range[1], fromZero);
  }, [data, fromZero]);

  const legend: LegendItem[] = series.map((s) => ({
    label: `${s.label} (${s.protocol})${s.live ? ' — so far' : ''}`,
    color: s.color,
  }));
  if (series.some((s) => s.row.seeds.length > 1))
    legend.push({ label: 'mean ± std over seeds (dashed edges)', color: '#7b8794', band: true, dashed: true });
  if (fromZero && series.length)
    legend.push({ label: 'light fill down to 0: the area = AUILC', color: '#c9d1da', band: true });
  const anySeries = series.length > 0 && rates.length > 0;

  return (
    <ChartCard
      id="auilc"
      testId="auilc-view"
      title="Robustness: metric vs missing rate (AUILC)"
      subtitle="One curve per job and branch setting; the shaded area under a curve is its AUILC. Tick jobs in the runs list to compare them."
      pngSubtitle={`${METRIC_LABELS[metric]}${isRawScale(metric) ? '' : ' (×100)'} vs test missing rate`}
      empty={
        anySeries ? undefined : 'Curves appear when a run has been tested across missing rates (try “Quick demo”).'
      }
      legend={legend}
      controls={
        <>
          <label className="inline-select">
            <span>metric</span>
            <select data-testid="auilc-metric" value={metric} onChange={(e) => setMetric(e.target.value as MetricKey)}>
              {METRIC_KEYS.map((k) => (
                <option key={k} value={k}>
                  {METRIC_LABELS[k]}
                </option>
              ))}
            </select>
          </label>
          <label
            className="inline-check"
            title="Start the y axis at 0 and shade the area between each curve and 0: that area is the AUILC"
          >
            <input
              type="checkbox"
              checked={fromZero}
              onChange={(e) => setFromZero(e.target.checked)}
              data-testid="auilc-from-zero"
            />{' '}
            y from 0, shade AUILC
          </label>
          <PartialToggle testId="auilc-include-partial" />
        </>
      }
      aside={anySeries ? <AuilcTable series={series} /> : undefined}
    >
      <AuilcCanvas series={series} rates={rates} data={data} y={yDomain} metric={metric} fromZero={fromZero} />
    </ChartCard>
  );
}

function AuilcTable({ series }: { series: CurveSeries[] }) {
  if (!series.length) return <div className="chart-empty small">No AUILC yet.</div>;
  const protocols = [...new Set(series.map((s) => s.protocol))];
  const oneProtocol = protocols.length === 1;
  const anyStd = series.some((s) => s.row.seeds.length > 1);
  const anyNull = series.some((s) => Object.values(s.row.auilc).some((a) => a.nullsAsZero > 0));
  const rateRange = extent(series.flatMap((s) => s.row.perRate.map((p) => p.rate)));
  return (
    <div className="table-wrap">
      <table className="data-table" data-testid="auilc-table">
        <caption>
          AUILC in the shape of the paper’s Table 4
          {oneProtocol ? (
            <>
              {' '}
              — protocol: <b data-testid="auilc-protocol">{protocols[0]}</b>
            </>
          ) : null}
        </caption>
        <thead>
          <tr>
            <th scope="col">Setting</th>
            {oneProtocol ? null : <th scope="col">Protocol</th>}
            {COLUMNS.map((c) => (
              <th scope="col" key={c.title}>
                {c.title}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {series.map((s) => (
            <tr key={s.key}>
              <th scope="row">
                <span className="swatch" style={{ background: s.color }} aria-hidden="true" />
                {s.label}
                {s.live ? <span className="tag">so far</span> : null}
                {s.note ? (
                  <span className={`tag${s.row.partial ? ' tag-warn' : ''}`} data-testid="auilc-row-status">
                    {s.note}
                  </span>
                ) : null}
              </th>
              {oneProtocol ? null : <td>{s.protocol}</td>}
              {COLUMNS.map((c) => (
                <td key={c.title} className="num">
                  {auilcCell(s.row, c.keys)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="table-note">
        Accuracies and F1 ×100; MAE lower is better, the rest higher. Area over test rates{' '}
        {formatRate(rateRange?.[0] ?? 0)}…{formatRate(rateRange?.[1] ?? 1)}.
        {anyStd ? ' Mean ± std over seeds (population std).' : ''}
        {series.some((s) => s.note)
          ? series.some((s) => s.row.partial)
            ? ' Runs that did not finish are counted where marked “incl.”.'
            : ' Runs that did not finish (stopped, interrupted, failed) are left out: n counts finished seeds.'
          : ''}
        {anyNull ? ' * undefined points (e.g. Corr of a constant prediction) counted as 0.' : ''}
      </p>
    </div>
  );
}
