import { useMemo, useState } from 'react';
import { TABLE5_SETTINGS } from '../../core/config/config.ts';
import { METRIC_KEYS, type MetricKey } from '../../core/eval/metrics.ts';
import { PAPER_FIGURES, PAPER_SOURCE } from '../../core/eval/paperFigures.ts';
import {
  ABLATION_COLUMNS,
  auilcCell,
  defaultRowLabel,
  formatMetric,
  isRawScale,
  NULL_MARK,
} from '../../core/eval/tables.ts';
import { useCompareSeries, type CurveSeries } from '../derive.ts';
import { colorAt, niceAxis, sameBranches } from '../format.ts';
import { AblationCanvas, type AblationBar } from './AblationCanvas.tsx';
import { ChartCard, extent } from './ChartCard.tsx';
import type { LegendItem } from './exportPng.ts';
import { METRIC_LABELS, scaleMetric } from './metricInfo.ts';
import { PartialToggle } from './AuilcView.tsx';

const PAPER_LABEL = 'paper (MOSI, BERT fine-tuned) — not this app’s results';
const PAPER_COLOR = '#9aa5b1';
const SHORT: Record<string, string> = {
  'MFMB-Net (all)': 'all branches',
  'w/o F-1 (macro off)': 'w/o F-1 (macro)',
  'w/o F-2 (micro off)': 'w/o F-2 (micro)',
  'w/o Recon': 'w/o Recon',
};

// Paper's Table 5 column order: Corr and Acc-7 first (the two it reports), then the rest.

interface Group {
  name: string;
  setting: string;
  rows: CurveSeries[];
  paper: (typeof PAPER_FIGURES.table5)[number] | null;
}

export function AblationView() {
  const { series, jobs } = useCompareSeries();
  const [metric, setMetric] = useState<MetricKey>('corr');

  const groups = useMemo(() => {
    const out: Group[] = [];
    const used = new Set<CurveSeries>();
    for (const s of TABLE5_SETTINGS) {
      const rows = series.filter((x) => x.row.arch === 'mfmb' && sameBranches(x.row.branches, s.branches));
      rows.forEach((r) => used.add(r));
      out.push({
        name: SHORT[s.label] ?? s.label,
        setting: s.label,
        rows,
        paper: PAPER_FIGURES.table5.find((p) => sameBranches(p.branches, s.branches)) ?? null,
      });
    }
    for (const x of series) {
      if (used.has(x)) continue;
      const label = defaultRowLabel(x.row);
      let g = out.find((o) => o.setting === label);
      if (!g) out.push((g = { name: label, setting: label, rows: [], paper: null }));
      g.rows.push(x);
    }
    return out;
  }, [series]);

  const paperHas = PAPER_FIGURES.table5.some((p) => p.auilc[metric] !== null);
  // The bars: per setting, one per compared job (its AUILC, ± std over several seeds), then the
  // paper's figure when it reports this metric.
  const bars = useMemo(() => {
    const out: AblationBar[] = [];
    groups.forEach((g, c) => {
      jobs.forEach((j, k) => {
        // Several rows of one job in one group (a training-rate sweep): the first is plotted; the table lists all.
        const r = g.rows.find((x) => x.jobId === j.id);
        if (!r) return;
        out.push({
          category: c,
          key: `j${k}`,
          label: `this app: ${j.name}`,
          color: colorAt(k),
          value: scaleMetric(metric, r.row.auilc[metric].mean),
          std: r.row.seeds.length > 1 ? scaleMetric(metric, r.row.auilc[metric].std) : null,
          paper: false,
        });
      });
      if (paperHas)
        out.push({
          category: c,
          key: 'paper',
          label: PAPER_LABEL,
          color: PAPER_COLOR,
          value: g.paper ? scaleMetric(metric, g.paper.auilc[metric]) : null,
          std: null,
          paper: true,
        });
    });
    return out;
  }, [groups, jobs, metric, paperHas]);
  const legend: LegendItem[] = jobs.map((j, k) => ({ label: `this app: ${j.name}`, color: colorAt(k) }));
  if (paperHas) legend.push({ label: PAPER_LABEL, color: PAPER_COLOR, band: true });
  const ran = series.length > 0;
  const yAxis = useMemo(() => {
    const vals: number[] = [];
    for (const b of bars) {
      if (b.value === null || !Number.isFinite(b.value)) continue;
      vals.push(b.value, ...(b.std !== null && Number.isFinite(b.std) ? [b.value - b.std, b.value + b.std] : []));
    }
    // Bars start at 0, so the axis always includes it.
    const range = extent(vals);
    return range ? niceAxis(range[0], range[1], true) : niceAxis(0, 1, true);
  }, [bars]);

  return (
    <ChartCard
      id="ablation"
      testId="ablation-view"
      title="Ablation: AUILC per branch setting (Table 5)"
      subtitle="Bars: this app’s AUILC for each setting that was run. Grey bars are the paper’s published figures, for reference only."
      pngSubtitle={`AUILC of ${METRIC_LABELS[metric]}${isRawScale(metric) ? '' : ' (×100)'}; grey = ${PAPER_LABEL}`}
      empty={ran ? undefined : 'Run “Ablation (Table 5)” to fill this view.'}
      legend={legend}
      controls={
        <>
          <label className="inline-select">
            <span>metric</span>
            <select
              data-testid="ablation-metric"
              value={metric}
              onChange={(e) => setMetric(e.target.value as MetricKey)}
            >
              {METRIC_KEYS.map((k) => (
                <option key={k} value={k}>
                  AUILC {METRIC_LABELS[k]}
                  {PAPER_FIGURES.table5.some((p) => p.auilc[k] !== null) ? ' (paper reports it)' : ''}
                </option>
              ))}
            </select>
          </label>
          <PartialToggle testId="ablation-include-partial" />
        </>
      }
      aside={<AblationTable groups={groups} />}
    >
      <AblationCanvas
        categories={groups.map((g) => g.name)}
        slots={[...jobs.map((_, k) => `j${k}`), ...(paperHas ? ['paper'] : [])]}
        bars={bars}
        y={yAxis}
        metric={metric}
      />
    </ChartCard>
  );
}

function AblationTable({ groups }: { groups: Group[] }) {
  const manyJobs = new Set(groups.flatMap((g) => g.rows.map((r) => r.jobId))).size > 1;
  return (
    <div className="table-wrap">
      <table className="data-table" data-testid="ablation-table">
        <caption>AUILC in the shape of the paper’s Table 5</caption>
        <thead>
          <tr>
            <th scope="col">Setting</th>
            {ABLATION_COLUMNS.map((c) => (
              <th scope="col" key={c.title}>
                {c.title}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {groups.flatMap((g) =>
            g.rows.length === 0
              ? [
                  <tr key={g.setting} className="row-missing">
                    <th scope="row">
                      {g.setting} <span className="muted">(not run)</span>
                    </th>
                    {ABLATION_COLUMNS.map((c) => (
                      <td key={c.title} className="num muted">
                        {NULL_MARK}
                      </td>
                    ))}
                  </tr>,
                ]
              : g.rows.map((r) => (
                  <tr key={r.key}>
                    <th scope="row">
                      {r.setting}
                      {manyJobs ? <span className="muted"> · {r.jobName}</span> : null}
                      <span className="muted small"> ({r.protocol})</span>
                      {r.live ? <span className="tag">so far</span> : null}
                      {r.note ? (
                        <span className={`tag${r.row.partial ? ' tag-warn' : ''}`} data-testid="ablation-row-status">
                          {r.note}
                        </span>
                      ) : null}
                    </th>
                    {ABLATION_COLUMNS.map((c) => (
                      <td key={c.title} className="num">
                        {auilcCell(r.row, c.keys)}
                      </td>
                    ))}
                  </tr>
                )),
          )}
        </tbody>
        <tbody className="paper-rows" data-testid="paper-rows">
          <tr>
            <th colSpan={ABLATION_COLUMNS.length + 1} className="paper-head">
              Reference only: {PAPER_LABEL}
            </th>
          </tr>
          {TABLE5_SETTINGS.map((s) => {
            const p = PAPER_FIGURES.table5.find((q) => sameBranches(q.branches, s.branches));
            if (!p) return null;
            return (
              <tr key={s.label} className="paper-row">
                <th scope="row">paper (MOSI, BERT fine-tuned): {p.paperLabel}</th>
                {ABLATION_COLUMNS.map((c) => (
                  <td key={c.title} className="num">
                    {c.keys.map((k) => formatMetric(k, p.auilc[k])).join('/')}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="table-note">
        Paper rows: {PAPER_SOURCE}, Table 5 (Corr and Acc-7 only). They come from BERT fine-tuned on MOSI token ids and
        are not this app’s results; runs on synthetic or pre-extracted features are expected to land elsewhere.
      </p>
    </div>
  );
}
