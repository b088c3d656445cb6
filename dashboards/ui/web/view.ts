/** What a view gets from the shell, and what it gives back. */
import type { ChartSet } from './charts.js';
import type { PortEntry } from './api.js';

export interface ViewContext {
  /** Route parameters after the view's name: `#/stall/<id>` gives `[id]`. */
  params: string[];
  /** The resolved time range and the newest data time it was resolved against. */
  range: { from_ms: number; to_ms: number };
  head_ms: number;
  charts: ChartSet;
  signal: AbortSignal;
  /** The fabric's ports (cached per refresh); empty when the server has no topology. */
  ports(): Promise<PortEntry[]>;
}

export interface MountedView {
  /** Reads the data for the context's range and redraws. Called on every refresh. */
  update(ctx: ViewContext): Promise<void>;
}

export interface ViewDefinition {
  name: string;
  title: string;
  mount(root: HTMLElement, ctx: ViewContext): MountedView;
}
