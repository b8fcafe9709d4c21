/** Form controls that keep a local draft and commit only valid values to the store. */
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { formatNumberList, parseNumberList } from './format.ts';
import { NUMBER_LIST_EXPECTED, parseDecimal } from '../core/config/validateConfig.ts';

/** Ids of a field's message and hint, for the input's aria-describedby (the error when there is one, else the hint). */
export function describedBy(id: string, error: string | null | undefined, hint: ReactNode): string | undefined {
  return error ? `${id}-error` : hint ? `${id}-hint` : undefined;
}

/**
 * A labelled control with its hint or error below. The error's id is `${htmlFor}-error`, the hint's
 * `${htmlFor}-hint`: the input names them in aria-describedby (see describedBy). The error sits in a
 * polite live region that is always present, so a screen reader hears it when it appears or changes.
 */
export function Field(props: {
  label: ReactNode;
  htmlFor?: string;
  hint?: ReactNode;
  error?: string | null;
  children: ReactNode;
  wide?: boolean;
}) {
  const id = props.htmlFor;
  return (
    <div className={`field${props.wide ? ' field-wide' : ''}`}>
      <label className="field-label" htmlFor={id}>
        {props.label}
      </label>
      <div className="field-control">{props.children}</div>
      <div className="field-message" aria-live="polite">
        {props.error ? (
          <div className="field-error" id={id ? `${id}-error` : undefined}>
            {props.error}
          </div>
        ) : null}
      </div>
      {!props.error && props.hint ? (
        <div className="field-hint" id={id ? `${id}-hint` : undefined}>
          {props.hint}
        </div>
      ) : null}
    </div>
  );
}

interface NumberFieldProps {
  label: ReactNode;
  value: number;
  onCommit(v: number): void;
  min?: number;
  max?: number;
  step?: number;
  integer?: boolean;
  hint?: ReactNode;
  testId?: string;
  disabled?: boolean;
}

/** A number input that commits on blur / Enter, and only a value within [min, max]. */
export function NumberField({
  label,
  value,
  onCommit,
  min,
  max,
  step,
  integer,
  hint,
  testId,
  disabled,
}: NumberFieldProps) {
  const id = useId();
  const check = (text: string): number | string => {
    if (text.trim() === '') return 'enter a number';
    // The CLI's rule: plain decimals only (no 0x10, no 1_000, no Infinity).
    const n = parseDecimal(text);
    if (n === null) return 'not a number';
    if (integer && !Number.isInteger(n)) return 'must be a whole number';
    if (min !== undefined && n < min) return `must be ≥ ${min}`;
    if (max !== undefined && n > max) return `must be ≤ ${max}`;
    return n;
  };
  const d = useDraft(value, String, String(value), check, onCommit);
  return (
    <Field label={label} htmlFor={id} hint={hint} error={d.error}>
      <input
        id={id}
        type="number"
        inputMode="decimal"
        value={d.draft}
        min={min}
        max={max}
        step={step ?? (integer ? 1 : 'any')}
        disabled={disabled}
        data-testid={testId}
        aria-describedby={describedBy(id, d.error, hint)}
        {...d.inputProps}
      />
    </Field>
  );
}

interface SliderProps {
  label: ReactNode;
  value: number;
  onCommit(v: number): void;
  min: number;
  max: number;
  step: number;
  hint?: ReactNode;
  testId?: string;
  disabled?: boolean;
}

/** A range slider: moves freely, commits after the hand rests (regenerating data is not free). */
export function Slider({ label, value, onCommit, min, max, step, hint, testId, disabled }: SliderProps) {
  const id = useId();
  const [draft, setDraft] = useState(value);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => setDraft(value), [value]);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  const schedule = (v: number) => {
    setDraft(v);
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      timer.current = null;
      if (v !== value) onCommit(v);
    }, 350);
  };
  return (
    <Field
      label={
        <>
          {label} <output className="slider-value">{draft.toFixed(2)}</output>
        </>
      }
      htmlFor={id}
      hint={hint}
    >
      <input
        id={id}
        type="range"
        min={min}
        max={max}
        step={step}
        value={draft}
        disabled={disabled}
        data-testid={testId}
        aria-describedby={describedBy(id, null, hint)}
        onChange={(e) => schedule(Number(e.target.value))}
      />
    </Field>
  );
}

export function Select<T extends string>(props: {
  label: ReactNode;
  value: T;
  options: readonly { value: T; label: string; disabled?: boolean }[];
  onChange(v: T): void;
  hint?: ReactNode;
  testId?: string;
  disabled?: boolean;
}) {
  const id = useId();
  return (
    <Field label={props.label} htmlFor={id} hint={props.hint}>
      <select
        id={id}
        value={props.value}
        disabled={props.disabled}
        data-testid={props.testId}
        aria-describedby={describedBy(id, null, props.hint)}
        onChange={(e) => props.onChange(e.target.value as T)}
      >
        {props.options.map((o) => (
          <option key={o.value} value={o.value} disabled={o.disabled}>
            {o.label}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** A row of exclusive choices rendered as a segmented button group (radio semantics). */
export function Segmented<T extends string>(props: {
  label: ReactNode;
  value: T;
  options: readonly { value: T; label: string; title?: string }[];
  onChange(v: T): void;
  hint?: ReactNode;
  testId?: string;
  disabled?: boolean;
}) {
  const name = useId();
  return (
    <div className="field">
      <span className="field-label" id={`${name}-l`}>
        {props.label}
      </span>
      <div className="segmented" role="radiogroup" aria-labelledby={`${name}-l`} data-testid={props.testId}>
        {props.options.map((o) => (
          <label
            key={o.value}
            className={`seg${props.value === o.value ? ' seg-on' : ''}${props.disabled ? ' seg-disabled' : ''}`}
            title={o.title}
          >
            <input
              type="radio"
              name={name}
              value={o.value}
              checked={props.value === o.value}
              disabled={props.disabled}
              data-testid={props.testId ? `${props.testId}-${o.value}` : undefined}
              onChange={() => props.onChange(o.value)}
            />
            {o.label}
          </label>
        ))}
      </div>
      {props.hint ? <div className="field-hint">{props.hint}</div> : null}
    </div>
  );
}

export function Toggle(props: {
  label: ReactNode;
  checked: boolean;
  onChange(v: boolean): void;
  testId?: string;
  disabled?: boolean;
  title?: string;
}) {
  return (
    <label
      className={`toggle${props.checked ? ' toggle-on' : ''}${props.disabled ? ' toggle-disabled' : ''}`}
      title={props.title}
    >
      <input
        type="checkbox"
        checked={props.checked}
        disabled={props.disabled}
        data-testid={props.testId}
        onChange={(e) => props.onChange(e.target.checked)}
      />
      <span className="toggle-track" aria-hidden="true">
        <span className="toggle-thumb" />
      </span>
      <span className="toggle-label">{props.label}</span>
    </label>
  );
}

/** A comma-separated list of numbers (seeds, missing rates) with a validator. */
export function NumberListField(props: {
  label: ReactNode;
  value: number[];
  onCommit(v: number[]): void;
  validate?(v: number[]): string | null;
  hint?: ReactNode;
  testId?: string;
  disabled?: boolean;
}) {
  const id = useId();
  const check = (text: string): number[] | string => {
    const list = parseNumberList(text);
    if (!list) return `expected ${NUMBER_LIST_EXPECTED}`;
    return props.validate?.(list) ?? list;
  };
  const d = useDraft(props.value, (v) => v.join(','), formatNumberList(props.value), check, props.onCommit);
  return (
    <Field label={props.label} htmlFor={id} hint={props.hint} error={d.error} wide>
      <input
        id={id}
        type="text"
        value={d.draft}
        disabled={props.disabled}
        data-testid={props.testId}
        spellCheck={false}
        aria-describedby={describedBy(id, d.error, props.hint)}
        {...d.inputProps}
      />
    </Field>
  );
}

/**
 * The text a user is typing into a field bound to a committed value: checked on every keystroke,
 * committed on blur / Enter only when valid, reset by Escape, and replaced when the committed value
 * changes from elsewhere while the field is not focused. `key` says when two values are the same.
 */
function useDraft<T>(
  value: T,
  key: (v: T) => string,
  text: string,
  check: (t: string) => T | string,
  onCommit: (v: T) => void,
) {
  const [draft, setDraft] = useState(text);
  const [error, setError] = useState<string | null>(null);
  const focused = useRef(false);
  const k = key(value);
  useEffect(() => {
    if (!focused.current) {
      setDraft(text);
      setError(null);
    }
  }, [k]);
  const commit = () => {
    const r = check(draft);
    if (typeof r === 'string') {
      setError(r);
      return;
    }
    setError(null);
    if (key(r) !== k) onCommit(r);
  };
  const inputProps = {
    'aria-invalid': error ? true : undefined,
    onFocus: () => (focused.current = true),
    onChange: (e: { target: { value: string } }) => {
      setDraft(e.target.value);
      const r = check(e.target.value);
      setError(typeof r === 'string' ? r : null);
    },
    onBlur: () => {
      focused.current = false;
      commit();
    },
    onKeyDown: (e: { key: string }) => {
      if (e.key === 'Enter') commit();
      if (e.key === 'Escape') {
        setDraft(text);
        setError(null);
      }
    },
  };
  return { draft, error, inputProps };
}
