/** What the API needs from the running pipeline when it serves live (`fabricscope up`). */
export interface LiveState {
  /** True once the collectors and pipeline are running and caught up enough to serve. */
  ready(): boolean;
  /** Prometheus text of the running parts' own metrics, appended to /metrics. */
  metrics(): string | Promise<string>;
}
