/** `--help` texts, one per command. */

const COMMON_INFRA = `
Infrastructure (default: everything embedded in this process):
  --data DIR              chDB data directory (default: data)
  --clickhouse URL        use a ClickHouse server instead of embedded chDB
  --kafka BROKERS         use Kafka (comma-separated brokers) instead of the in-process bus
  --alertmanager URL      push firing alerts to this Alertmanager
  --config FILE           read settings from a YAML/JSON file (keys as below, snake_case)
  --log-level LEVEL       debug | info | warn | error | silent (default: info)
Every flag also reads from the environment as FABRICSCOPE_<NAME>, e.g. FABRICSCOPE_PORT=9090.`;

const COLLECTORS = `
Collectors:
  --otlp-http-port N      OTLP/HTTP receiver port (default 4318; 0 = any free port)
  --otlp-grpc-port N      OTLP/gRPC receiver port (default 4317; 0 = any free port)
  --scrape URL,...        dcgm-exporter /metrics targets to scrape
  --scrape-file FILE      file with one target URL per line
  --scrape-interval-ms N  scrape interval (default: the scenario's gpu interval, else 1000)
  --nccl-dir DIR          tail NCCL Inspector JSON lines under DIR
  --topology FILE         topology file (JSON, as the simulator writes it) for real devices`;

export const HELP: Record<string, string> = {
  main: `fabricscope — telemetry and root causes for AI-cluster fabrics

Usage: fabricscope <command> [flags]

Commands:
  up       run the whole platform: emulated fabric, collectors, pipeline, storage, API and UI
  run      play a scenario to its end as fast as possible and print a JSON summary
  serve    serve the API and UI over a data directory
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
  serve: `Usage: fabricscope serve --data DIR [--port N] [--host HOST]

Serves the API (and UI) over the data a previous \`run\` or \`up\` left in DIR.
${COMMON_INFRA}
`,
};
