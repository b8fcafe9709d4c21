import type { ReactNode } from 'react';
import { ErrorBoundary } from './ErrorBoundary.tsx';

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
