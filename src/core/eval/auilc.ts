/**
 * Area under the indicator–missing-rate curve, the paper's eq. 20: the trapezoid rule over the rate
 * grid, so one number summarises how a metric degrades as data goes missing.
 */

export interface AuilcResult {
  value: number;
  /** How many null points (e.g. Corr of a constant prediction at r = 1.0) were counted as 0. */
  nullsAsZero: number;
}

/**
 * `includeOne = false` drops a final r = 1.0 point (TFR-Net's author allows this, because at r = 1.0
 * every input is replaced and several metrics become degenerate). A grid that does not end at 1.0
 * is used as is.
 */
export function auilc(rates: number[], values: (number | null)[], includeOne = true): AuilcResult {
  if (rates.length !== values.length) {
    throw new Error(`auilc: ${rates.length} rates but ${values.length} values; they must pair up`);
  }
  let n = rates.length;
  if (!includeOne && n > 0 && rates[n - 1] === 1) n--;
  if (n < 2) {
    throw new Error(
      `auilc: needs at least 2 rates to integrate over, got ${n}` + (n < rates.length ? ' after dropping r = 1.0' : ''),
    );
  }
  let value = 0;
  let nullsAsZero = 0;
  const at = (i: number): number => {
    const v = values[i];
    if (v === null) return 0;
    if (!Number.isFinite(v))
      throw new Error(`auilc: value at r = ${rates[i]} is ${v}; use null for an undefined metric`);
    return v;
  };
  for (let i = 0; i < n; i++) {
    const r = rates[i];
    if (!Number.isFinite(r)) throw new Error(`auilc: rate ${i} is ${r}`);
    if (i > 0 && !(r > rates[i - 1])) {
      throw new Error(
        `auilc: rates must be strictly ascending, but r[${i}] = ${r} follows r[${i - 1}] = ${rates[i - 1]}`,
      );
    }
    if (values[i] === null) nullsAsZero++;
  }
  for (let i = 0; i + 1 < n; i++) value += 0.5 * (at(i) + at(i + 1)) * (rates[i + 1] - rates[i]);
  return { value, nullsAsZero };
}
