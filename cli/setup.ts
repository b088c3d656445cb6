/**
 * Installs what fabricscope needs beyond npm when it is absent (Debian packages for the
 * real peers the tests and benchmarks talk to). Idempotent: present tools are left alone.
 *   node dist/cli/setup.js --for test|bench|up
 */
import { execFileSync, spawnSync } from 'node:child_process';

interface Requirement {
  command: string;
  debianPackage: string;
  neededFor: Array<'test' | 'bench' | 'up'>;
}

/** Grows as parts land (kcat for the Kafka mock cluster, alertmanager, chromium, prometheus). */
export const REQUIREMENTS: Requirement[] = [
  // Debian names the Alertmanager binary prometheus-alertmanager (test/harness/alertmanager.ts).
  { command: 'prometheus-alertmanager', debianPackage: 'prometheus-alertmanager', neededFor: ['test', 'bench'] },
  // The UI's browser tests drive Debian's Chromium (playwright-core downloads no browser).
  { command: 'chromium', debianPackage: 'chromium', neededFor: ['test'] },
  // librdkafka's mock cluster (`kcat -X test.mock.num.brokers=3`): the Kafka broker of the tests.
  { command: 'kcat', debianPackage: 'kcat', neededFor: ['test', 'bench'] },
  // The bench's peer for CPU per million samples and query latency (Debian's Prometheus 2.42).
  { command: 'prometheus', debianPackage: 'prometheus', neededFor: ['bench'] },
];

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export function ensureInstalled(purpose: 'test' | 'bench' | 'up'): void {
  const missing = REQUIREMENTS.filter((r) => r.neededFor.includes(purpose) && !has(r.command));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((r) => r.debianPackage))];
  process.stderr.write(`fabricscope setup: installing ${packages.join(', ')}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
}

const forIndex = process.argv.indexOf('--for');
if (forIndex > 0) {
  const purpose = process.argv[forIndex + 1] as 'test' | 'bench' | 'up';
  ensureInstalled(purpose);
}
