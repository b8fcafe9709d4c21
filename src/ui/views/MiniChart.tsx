/** A small SVG line chart over the rate grid (a few series, an optional ±σ band and reference line). */
export interface Series {
  name: string;
  color: string;
  values: (number | null)[];
  band?: { lo: number[]; hi: number[] };
}

export function MiniChart(p: {
  x: number[];
  series: Series[];
  label: string;
  testId: string;
  yLabel: string;
  reference?: { value: number; name: string };
}) {
  const W = 320,
    H = 160,
    L = 44,
    R = 8,
    T = 10,
    B = 28;
  const ys: number[] = [];
  for (const s of p.series) {
    for (const v of s.values) if (v !== null && Number.isFinite(v)) ys.push(v);
    if (s.band) ys.push(...s.band.lo, ...s.band.hi);
  }
  if (p.reference) ys.push(p.reference.value);
  let lo = ys.length ? Math.min(...ys) : 0;
  let hi = ys.length ? Math.max(...ys) : 1;
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const x0 = p.x[0] ?? 0,
    x1 = p.x[p.x.length - 1] ?? 1;
  const sx = (x: number) => L + ((x - x0) / (x1 - x0 || 1)) * (W - L - R);
  const sy = (y: number) => T + (1 - (y - lo) / (hi - lo)) * (H - T - B);
  const path = (vals: (number | null)[]) =>
    vals
      .map((v, i) => (v === null ? null : `${sx(p.x[i]).toFixed(1)},${sy(v).toFixed(1)}`))
      .filter(Boolean)
      .join(' ');
  return (
    <figure className="mini-chart" data-testid={p.testId}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={p.label} width="100%">
        <line x1={L} y1={H - B} x2={W - R} y2={H - B} stroke="#888" />
        <line x1={L} y1={T} x2={L} y2={H - B} stroke="#888" />
        {[lo, (lo + hi) / 2, hi].map((v) => (
          <text key={v} x={L - 4} y={sy(v) + 3} fontSize="9" textAnchor="end" fill="#444">
            {v.toFixed(2)}
          </text>
        ))}
        {p.x.map((x) => (
          <text key={x} x={sx(x)} y={H - B + 12} fontSize="9" textAnchor="middle" fill="#444">
            {x}
          </text>
        ))}
        <text x={(L + W - R) / 2} y={H - 3} fontSize="9" textAnchor="middle" fill="#444">
          missing rate
        </text>
        <text
          x={10}
          y={T + (H - T - B) / 2}
          fontSize="9"
          textAnchor="middle"
          fill="#444"
          transform={`rotate(-90 10 ${T + (H - T - B) / 2})`}
        >
          {p.yLabel}
        </text>
        {p.reference ? (
          <line
            x1={L}
            x2={W - R}
            y1={sy(p.reference.value)}
            y2={sy(p.reference.value)}
            stroke="#555"
            strokeDasharray="4 3"
          />
        ) : null}
        {p.series.map((s) =>
          s.band ? (
            <polygon
              key={`${s.name}-band`}
              fill={s.color}
              opacity={0.18}
              points={[
                ...p.x.map((x, i) => `${sx(x)},${sy(s.band!.hi[i])}`),
                ...p.x.map((x, i) => `${sx(x)},${sy(s.band!.lo[i])}`).reverse(),
              ].join(' ')}
            />
          ) : null,
        )}
        {p.series.map((s) => (
          <polyline key={s.name} fill="none" stroke={s.color} strokeWidth={2} points={path(s.values)} />
        ))}
      </svg>
      <figcaption className="mini-legend">
        {p.series.map((s) => (
          <span key={s.name}>
            <i style={{ background: s.color }} aria-hidden="true" /> {s.name}
          </span>
        ))}
        {p.reference ? <span>- - {p.reference.name}</span> : null}
      </figcaption>
    </figure>
  );
}
