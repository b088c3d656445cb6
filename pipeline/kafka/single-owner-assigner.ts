/**
 * A partition assigner for single-process stages (stage-placement.ts: `alerting`): one member
 * of the group gets every partition, the others none and stand by. So any number of
 * correlators may run alert rules, yet exactly one rule engine holds alert state; when its
 * process dies, the group rebalances and a standby takes every partition and replays the
 * window to rebuild the state (group-consumer.ts).
 *
 * The stage reads three topics, each through its own Kafka group, and all three must pick the
 * same process. Each member therefore advertises its process (instance id and start time) in
 * the subscription's user data, and every group picks the longest-running process: a process
 * that joins later never takes over from a running owner, and after the owner dies every
 * group picks the same next-oldest survivor.
 */
import { AssignerProtocol, type Assigner, type PartitionAssigner } from 'kafkajs';

export const SINGLE_OWNER_ASSIGNER = 'FabricscopeSingleOwner';

interface ProcessIdentity {
  instance: string;
  started_ms: number;
}

export function singleOwnerAssigner(self: ProcessIdentity): PartitionAssigner {
  return ({ cluster }): Assigner => ({
    name: SINGLE_OWNER_ASSIGNER,
    version: 1,
    async assign({ members, topics }) {
      const owner = members
        .map((m) => ({ memberId: m.memberId, who: identityOf(m.memberMetadata) }))
        .sort((a, b) => a.who.started_ms - b.who.started_ms || a.who.instance.localeCompare(b.who.instance) || a.memberId.localeCompare(b.memberId))[0];
      if (!owner) return [];
      const assignment = Object.fromEntries(topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).map((p) => p.partitionId)]));
      return members.map((m) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: m.memberId === owner.memberId ? assignment : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: SINGLE_OWNER_ASSIGNER,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.from(JSON.stringify(self)) }),
      };
    },
  });
}

function identityOf(metadata: Buffer): ProcessIdentity {
  try {
    const parsed = JSON.parse(AssignerProtocol.MemberMetadata.decode(metadata)?.userData.toString() ?? '') as Partial<ProcessIdentity>;
    // A member that says nothing (another assigner version) ranks last.
    return { instance: String(parsed.instance ?? ''), started_ms: Number(parsed.started_ms ?? Number.MAX_SAFE_INTEGER) };
  } catch {
    return { instance: '', started_ms: Number.MAX_SAFE_INTEGER };
  }
}
