// What the main area shows when a view's code cannot be loaded (views are loaded when first
// opened: a console left open while Ferry was rebuilt and restarted asks for files that are
// gone). Without it, React would unmount the whole console.
import { Component, type ReactNode } from 'react';
import { errorText } from '../format';

interface Props {
  /** The view shown: another one clears the error. */
  view: string;
  children: ReactNode;
}

export class ViewBoundary extends Component<Props, { error: string | null; view: string }> {
  override state = { error: null as string | null, view: this.props.view };

  static getDerivedStateFromError(e: unknown): { error: string } {
    return { error: errorText(e) };
  }

  static getDerivedStateFromProps(props: Props, state: { error: string | null; view: string }) {
    return props.view === state.view ? null : { error: null, view: props.view };
  }

  override render(): ReactNode {
    if (this.state.error === null) return this.props.children;
    return (
      <div className="notice bad" role="alert">
        Could not show this view: {this.state.error}{' '}
        <button type="button" className="btn small" onClick={() => location.reload()}>
          Reload
        </button>
      </div>
    );
  }
}
