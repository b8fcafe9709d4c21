import type { ReactNode } from 'react';
import { ErrorBoundary } from './ErrorBoundary.tsx';
import { useBusy } from './hooks.ts';

/** A titled card. Each one sits inside its own error boundary, so one bad panel never blanks the app. */
export function Panel(props: {
  title: ReactNode;
  subtitle?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  testId?: string;
  className?: string;
  id?: string;
}) {
  return (
    <section
      className={`panel ${props.className ?? ''}`}
      data-testid={props.testId}
      id={props.id}
      aria-label={typeof props.title === 'string' ? props.title : undefined}
    >
      <header className="panel-head">
        <div>
          <h2 className="panel-title">{props.title}</h2>
          {props.subtitle ? <p className="panel-subtitle">{props.subtitle}</p> : null}
        </div>
        {props.actions ? <div className="panel-actions">{props.actions}</div> : null}
      </header>
      <ErrorBoundary where={typeof props.title === 'string' ? props.title : 'this panel'}>
        <div className="panel-body">{props.children}</div>
      </ErrorBoundary>
    </section>
  );
}

/**
 * The config fields of a panel, locked while a job runs. It alone follows the job's status, so a
 * job's start re-renders this fieldset and not the panel's fields (they keep their elements).
 */
export function LockedFieldset({ children }: { children: ReactNode }) {
  const busy = useBusy();
  return (
    <fieldset disabled={busy} className="fieldset">
      {children}
    </fieldset>
  );
}
