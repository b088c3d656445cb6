/** What the API needs from the running pipeline when it serves live (`fabricscope up`). */
export interface LiveState {
  /** True once the collectors and pipeline are running and caught up enough to serve. */
  ready(): boolean;
  /** Prometheus text of the pipeline's own metrics, appended to /metrics. */
  metrics(): string;
}
