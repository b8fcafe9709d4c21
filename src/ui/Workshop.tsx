import { useEffect, useRef } from 'react';
import { LESSONS, urlWithLesson } from '../state/lessons.ts';
import { useAppStore } from './bindings.ts';
import { useBusy } from './hooks.ts';
import { useUiStore } from './uiStore.ts';

/** How long the pointed-at control keeps its highlight ring. */
const HIGHLIGHT_MS = 4000;

/** Keeps `?lesson=N` in the address bar in step with the card, so the current URL is the lesson's link. */
function useLessonUrl(n: number | null) {
  useEffect(() => {
    const next = urlWithLesson(location.href, n);
    if (next !== location.href) history.replaceState(history.state, '', next);
  }, [n]);
}

/** Scrolls to the element a lesson points at and rings it for a few seconds. */
function pointAt(testId: string): boolean {
  const el = document.querySelector<HTMLElement>(`[data-testid="${CSS.escape(testId)}"]`);
  if (!el) return false;
  el.scrollIntoView({ behavior: 'smooth', block: 'center' });
  el.classList.add('lesson-target');
  setTimeout(() => el.classList.remove('lesson-target'), HIGHLIGHT_MS);
  return true;
}

export function WorkshopButton() {
  const lesson = useUiStore((s) => s.lesson);
  const setLesson = useUiStore((s) => s.setLesson);
  return (
    <button
      type="button"
      className="btn btn-preset btn-workshop"
      data-testid="workshop-open"
      aria-pressed={lesson !== null}
      onClick={() => setLesson(lesson === null ? 1 : null)}
    >
      <span className="btn-preset-title">Workshop</span>
      <span className="btn-preset-hint">
        {LESSONS.length} short lessons that walk through the paper; each has a link to hand out.
      </span>
    </button>
  );
}

export function Workshop() {
  const n = useUiStore((s) => s.lesson);
  const setLesson = useUiStore((s) => s.setLesson);
  const api = useAppStore.getState;
  const busy = useBusy();
  const headRef = useRef<HTMLHeadingElement>(null);
  useLessonUrl(n);
  // Move focus to the new card's title, so keyboard and screen-reader users follow the lesson.
  useEffect(() => {
    if (n !== null) headRef.current?.focus();
  }, [n]);
  const i = LESSONS.findIndex((l) => l.n === n);
  if (n === null || i < 0) return null;
  const lesson = LESSONS[i];
  const link = urlWithLesson(location.href.split('#')[0], lesson.n);
  return (
    <section className="workshop" aria-label="Workshop lesson" data-testid="lesson-card" data-lesson={lesson.n}>
      <div className="workshop-head">
        <span className="workshop-count">
          Lesson {lesson.n} of {LESSONS.length}
        </span>
        <h2 className="workshop-title" tabIndex={-1} ref={headRef} data-testid="lesson-title">
          {lesson.title}
        </h2>
        <button
          type="button"
          className="notice-close"
          aria-label="Close the workshop"
          data-testid="lesson-close"
          onClick={() => setLesson(null)}
        >
          ×
        </button>
      </div>
      <ul className="workshop-points">
        {lesson.points.map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ul>
      <div className="workshop-actions">
        {lesson.step ? (
          <button
            type="button"
            className="btn btn-primary"
            data-testid="lesson-run"
            disabled={busy}
            title={busy ? 'a job is running: stop it first' : undefined}
            onClick={() => {
              lesson.step!.run(api());
              pointAt(lesson.target.testId);
            }}
          >
            {lesson.step.label}
          </button>
        ) : null}
        <button type="button" className="btn" data-testid="lesson-show" onClick={() => pointAt(lesson.target.testId)}>
          Show me {lesson.target.label}
        </button>
        <span className="workshop-nav">
          <button
            type="button"
            className="btn btn-small"
            data-testid="lesson-prev"
            disabled={i === 0}
            onClick={() => setLesson(LESSONS[i - 1].n)}
          >
            ← Back
          </button>
          <button
            type="button"
            className="btn btn-small"
            data-testid="lesson-next"
            disabled={i === LESSONS.length - 1}
            onClick={() => setLesson(LESSONS[i + 1].n)}
          >
            Next →
          </button>
        </span>
      </div>
      <p className="muted small workshop-link">
        Link to this lesson: <code data-testid="lesson-link">{link}</code>
      </p>
    </section>
  );
}
