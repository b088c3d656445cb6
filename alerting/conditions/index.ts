/** The rule kinds a rule file may use, and the factory from a validated spec to its evaluator. */
import { z } from 'zod';
import { CollectiveJitter, collectiveJitterSchema } from './collective-jitter.js';
import { CollectiveLatencyBudget, collectiveLatencyBudgetSchema } from './collective-latency-budget.js';
import type { Condition } from './condition.js';
import { CreditStallFraction, creditStallFractionSchema } from './credit-stall-fraction.js';
import { PfcPauseFraction, pfcPauseFractionSchema } from './pfc-pause-fraction.js';
import { PortQueueingDelay, portQueueingDelaySchema } from './port-queueing-delay.js';
import { StragglerGpu, stragglerGpuSchema } from './straggler-gpu.js';

export type { Condition, Series } from './condition.js';

export const conditionSchema = z.discriminatedUnion('kind', [
  collectiveJitterSchema,
  collectiveLatencyBudgetSchema,
  portQueueingDelaySchema,
  pfcPauseFractionSchema,
  creditStallFractionSchema,
  stragglerGpuSchema,
]);

export type ConditionSpec = z.infer<typeof conditionSchema>;
export type ConditionKind = ConditionSpec['kind'];

/** A fresh evaluator; conditions that learn keep their state in it, so each rule has its own. */
export function createCondition(spec: ConditionSpec): Condition {
  switch (spec.kind) {
    case 'collective_jitter':
      return new CollectiveJitter(spec);
    case 'collective_latency_budget':
      return new CollectiveLatencyBudget(spec);
    case 'port_queueing_delay':
      return new PortQueueingDelay(spec);
    case 'pfc_pause_fraction':
      return new PfcPauseFraction(spec);
    case 'credit_stall_fraction':
      return new CreditStallFraction(spec);
    case 'straggler_gpu':
      return new StragglerGpu(spec);
  }
}
