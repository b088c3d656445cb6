/**
 * Alerting is single-writer on Kafka: its groups give every partition to one process, the
 * same one in each of its three groups, and a process joining later never takes over.
 */
import { AssignerProtocol, type Cluster, type GroupMember } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { singleOwnerAssigner } from '../../pipeline/kafka/single-owner-assigner.js';

const cluster = { findTopicPartitionMetadata: () => [0, 1, 2, 3].map((partitionId) => ({ partitionId })) } as unknown as Cluster;
const processes = [
  { instance: 'late0001', started_ms: 3_000 },
  { instance: 'first001', started_ms: 1_000 },
  { instance: 'second01', started_ms: 2_000 },
];

async function owners(topic: string, memberIds: (i: number) => string, who = processes): Promise<Record<string, number[]>> {
  const members: GroupMember[] = who.map((p, i) => ({
    memberId: memberIds(i),
    memberMetadata: singleOwnerAssigner(p)({ cluster, groupId: 'g', logger: undefined as never }).protocol({ topics: [topic] }).metadata,
  }));
  const assigner = singleOwnerAssigner(who[0]!)({ cluster, groupId: 'g', logger: undefined as never });
  const result = await assigner.assign({ members, topics: [topic] });
  const byProcess: Record<string, number[]> = {};
  result.forEach((r) => {
    const i = members.findIndex((m) => m.memberId === r.memberId);
    byProcess[who[i]!.instance] = AssignerProtocol.MemberAssignment.decode(r.memberAssignment)!.assignment[topic] ?? [];
  });
  return byProcess;
}

describe('the single-owner assigner', () => {
  it('gives every partition of every group to the longest-running process', async () => {
    // Member ids differ per group and sort differently: the choice must not depend on them.
    const a = await owners('port_samples', (i) => `m-${i}`);
    const b = await owners('stalls', (i) => `m-${9 - i}`);
    for (const byProcess of [a, b]) {
      expect(byProcess.first001).toEqual([0, 1, 2, 3]);
      expect(byProcess.second01).toEqual([]);
      expect(byProcess.late0001).toEqual([]);
    }
  });

  it('hands everything to the next-oldest survivor when the owner is gone', async () => {
    const survivors = processes.filter((p) => p.instance !== 'first001');
    const byProcess = await owners('collective_events', (i) => `m-${i}`, survivors);
    expect(byProcess.second01).toEqual([0, 1, 2, 3]);
    expect(byProcess.late0001).toEqual([]);
  });
});
