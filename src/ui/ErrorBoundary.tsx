import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  where: string;
  children: ReactNode;
  /** What to show instead of the default message (e.g. a broken run's row that can still be deleted). */
  fallback?(error: Error, reset: () => void): ReactNode;
}

interface State {
  error: Error | null;
}

/** Catches a render error in one part of the page and offers to try again instead of a blank app. */
export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error(`[ui] ${this.props.where} failed to render`, error, info.componentStack);
  }

  override render(): ReactNode {
    if (!this.state.error) return this.props.children;
    if (this.props.fallback) return this.props.fallback(this.state.error, () => this.setState({ error: null }));
    return (
      <div className="boundary" role="alert" data-testid="error-boundary">
        <strong>Something went wrong in {this.props.where}.</strong>
        <div className="boundary-message">{this.state.error.message}</div>
        <button type="button" className="btn btn-small" onClick={() => this.setState({ error: null })}>
          Try again
        </button>
      </div>
    );
  }
}
