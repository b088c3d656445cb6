/** Where the shipped default rules are, whether running from dist/ or from the sources. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const beside = resolve(import.meta.dirname, 'default-rules.yaml');
export const DEFAULT_RULES_FILE = existsSync(beside) ? beside : resolve(import.meta.dirname, '..', '..', 'alerting', 'default-rules.yaml');
