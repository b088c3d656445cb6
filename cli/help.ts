/** `--help` texts, one per command. */

const COMMON_INFRA = `
Infrastructure (default: everything embedded in this process):
  --data DIR              chDB data directory (default: data)
  --clickhouse URL        use a ClickHouse server instead of embedded chDB
  --sink-linger-ms N      embedded sink: gather telemetry rows up to N ms into one insert
                          (default 3000; stalls, episodes and alerts are written at once)
  --clickhouse-cluster C  cluster mode on that server: DDL ON CLUSTER C; with
                          --clickhouse-replicated (Keeper path --clickhouse-zookeeper-path)
                          and --clickhouse-distributed (docs/deployment.md)
  --kafka BROKERS         use Kafka (comma-separated brokers) instead of the in-process bus
  --role ROLE,...         with --kafka: run only these of collect, correlate, sink, api
  --kafka-partitions N    partitions per topic when creating topics (default 12); also
                          --kafka-replication-factor, --kafka-topic-prefix, --kafka-client-id,
                          --kafka-replay-s, --kafka-session-timeout-s,
                          --kafka-stalled-after-ms (docs/deployment.md)
  --alertmanager URL      push firing alerts to this Alertmanager
  --webhooks URL,...      also send alerts as Alertmanager webhook (v4) payloads to these URLs
  --alert-rules FILE      alert rules (default: the shipped rules, docs/alerting.md; none = off)
  --config FILE           read settings from a YAML/JSON file (keys as below, snake_case)
  --log-level LEVEL       debug | info | warn | error | silent (default: info)
Every flag also reads from the environment as FABRICSCOPE_<NAME>, e.g. FABRICSCOPE_PORT=9090.`;

const COLLECTORS = `
Collectors:
  --otlp-http-port N      OTLP/HTTP receiver port (default 4318; 0 = any free port)
  --otlp-grpc-port N      OTLP/gRPC receiver port (default 4317; 0 = any free port)
  --scrape URL,...        dcgm-exporter /metrics targets to scrape
  --scrape-file FILE      dcgm targets file: one URL per line, or Prometheus file_sd JSON/YAML;
                          re-read when it changes (a bad edit is logged, the old targets kept)
  --scrape-file-check-ms N  how often the targets file is checked without a change event (default 5000)
  --scrape-interval-ms N  scrape interval (default: the scenario's gpu interval, else 1000)
  --nccl-dir DIR          tail NCCL Inspector JSON lines under DIR
  --flight-recorder-dir DIR  read PyTorch Flight Recorder JSON dumps (…_rank_<n>[.json]) under DIR
                          (also POST /v1/flight-recorder?rank=N on the OTLP/HTTP port)
  --nccl-scrape URL,...   scrape NCCL Inspector Prometheus-mode metrics (e.g. node-exporter's textfile collector)
  --nccl-scrape-interval-ms N  their scrape interval and comparison window (default 30000)
  --topology FILE         topology file (JSON, as the simulator writes it) for real devices`;

export const HELP: Record<string, string> = {
  main: `fabricscope — telemetry and root causes for AI-cluster fabrics

Usage: fabricscope <command> [flags]

Commands:
  up       run the whole platform: emulated fabric, collectors, pipeline, storage, API and UI
  run      play a scenario to its end as fast as possible and print a JSON summary
  serve    serve the API and UI over a data directory
  eval     play a suite of scenarios and score root causes against their ground truth
  collect, correlate, sink, api
           one role of the platform as its own process, over Kafka (--kafka BROKERS);
           start as many of each as needed: each is a consumer group (docs/deployment.md)
  help     show this help, or \`fabricscope <command> --help\`
`,
  up: `Usage: fabricscope up [flags]

Runs everything in one process: the simulator plays a scenario (the bundled demo, with
recurring faults, until stopped), collectors take its telemetry, the pipeline finds stalls and
their root causes, chDB stores them and the API serves them at http://HOST:PORT.

  --scenario FILE         scenario to play (default: examples/demo.yaml)
  --speed X|max           simulation speed as a factor of real time (default 1)
  --no-simulator          do not run the simulator: collect from real devices only
  --host HOST             API/UI address (default 127.0.0.1)
  --port N                API/UI port (default 8080)
${COLLECTORS}
${COMMON_INFRA}
`,
  run: `Usage: fabricscope run --scenario FILE [--speed max] [--data DIR] [flags]

Plays a scenario to its end (duration_s must be > 0), leaves the data in DIR and the ground
truth in DIR/ground-truth.json, and prints a JSON summary: records ingested per kind, stalls,
root causes and throughput.

  --scenario FILE         scenario to play (required)
  --speed X|max           default max
${COLLECTORS}
${COMMON_INFRA}
`,
  eval: `Usage: fabricscope eval --suite DIR [--json FILE] [--parallel N] [flags]

Plays every scenario (*.yaml, *.yml, *.json) in DIR at full speed through the whole platform,
each in its own process with a fresh temporary data directory, and scores the stored stalls'
root causes against each scenario's ground truth: per fault kind and overall, precision, recall
and detection delay (event time from fault start to the first correct root cause), as a table
and, with --json, as JSON. Exits 1 when issue 6's bar is not met (precision and recall >= 0.95,
every kind's recall >= 0.9, median delay <= 2 switch intervals). The scoring rules are printed
with the table; recall counts only faults that made some job wait.

  --suite DIR             scenarios to play (e.g. examples/suite)
  --json FILE             also write the report as JSON
  --parallel N            scenarios played at once (default: 2 x CPUs)
  --scenario FILE         instead of --suite: play one scenario and print its outcome as JSON
  --capture FILE          with --scenario: also write the telemetry as received (JSON lines)
  --kafka, --clickhouse   score the platform on that infrastructure (passed to every scenario;
                          on Kafka each scenario plays on topics of its own, named
                          <--kafka-topic-prefix>eval-<run>-<scenario>.)
${COMMON_INFRA}
`,
  collect: `Usage: fabricscope collect --kafka BROKERS [flags]

Runs the collectors (and, unless --no-simulator, the simulator) and publishes to Kafka.
${COLLECTORS}
${COMMON_INFRA}
`,
  correlate: `Usage: fabricscope correlate --kafka BROKERS (--scenario FILE | --topology FILE) [flags]

Finds congestion episodes, stalls and their root causes. Correlators share the jobs' collective
events (consumer group "stalls"); each reads every port and GPU sample. Start more to scale out.
${COMMON_INFRA}
`,
  sink: `Usage: fabricscope sink --kafka BROKERS [--clickhouse URL | --data DIR] [flags]

Writes every topic to storage exactly once (consumer group "sink", insert deduplication tokens).
Several sinks may share a ClickHouse server; embedded chDB belongs to one process.
${COMMON_INFRA}
`,
  api: `Usage: fabricscope api --kafka BROKERS [--clickhouse URL | --data DIR] [--host H] [--port N]

Serves the API and UI over storage, with the live stream fed from Kafka.
${COMMON_INFRA}
`,
  serve: `Usage: fabricscope serve --data DIR [--port N] [--host HOST]

Serves the API (and UI) over the data a previous \`run\` or \`up\` left in DIR.
${COMMON_INFRA}
`,
};
