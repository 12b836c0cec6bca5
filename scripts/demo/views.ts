/**
 * What Kafka itself says about the system, read with an admin client: the leader, replicas
 * and in-sync replicas of each partition, and which group member owns which partitions.
 * These are the facts `npm run kafka -- topics --describe` and `consumer-groups --describe`
 * print; the demos read them directly because they poll several times a second.
 */
import { AssignerProtocol, type Admin } from 'kafkajs';
import { withAdmin as withKafkaAdmin } from '../kafka/admin';

export interface PartitionState {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface GroupMember {
  clientId: string;
  partitions: number[];
}

export interface GroupState {
  state: string;
  members: GroupMember[];
}

/** The demos' observer: an admin client with few retries (the views poll on their own). */
export function withAdmin<T>(
  brokers: readonly string[],
  use: (admin: Admin) => Promise<T>,
): Promise<T> {
  return withKafkaAdmin(brokers, use, { clientId: 'demo-observer' });
}

export async function partitionStates(
  brokers: readonly string[],
  topic: string,
): Promise<PartitionState[]> {
  return withAdmin(brokers, async (admin) => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return (topics[0]?.partitions ?? [])
      .map((p) => ({
        partition: p.partitionId,
        leader: p.leader,
        replicas: p.replicas,
        isr: p.isr,
      }))
      .sort((a, b) => a.partition - b.partition);
  });
}

export async function groupState(
  brokers: readonly string[],
  groupId: string,
  topic: string,
): Promise<GroupState> {
  return withAdmin(brokers, async (admin) => {
    const { groups } = await admin.describeGroups([groupId]);
    const group = groups[0];
    const members = (group?.members ?? []).map((member) => {
      const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
      return {
        clientId: member.clientId,
        partitions: [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b),
      };
    });
    members.sort((a, b) => a.clientId.localeCompare(b.clientId));
    return { state: group?.state ?? 'Unknown', members };
  });
}

/** Stable, with exactly these members, and every partition owned by exactly one of them. */
export function settled(
  group: GroupState,
  clientIds: readonly string[],
  partitions: number,
): boolean {
  const owned = group.members.flatMap((m) => m.partitions);
  return (
    group.state === 'Stable' &&
    group.members.length === clientIds.length &&
    clientIds.every((id) => group.members.some((m) => m.clientId === id)) &&
    owned.length === partitions &&
    new Set(owned).size === partitions
  );
}

export const list = (numbers: readonly number[]): string =>
  numbers.length > 0 ? numbers.join(',') : '-';

export function samePartitionState(
  a: PartitionState | undefined,
  b: PartitionState | undefined,
): boolean {
  return (
    a !== undefined &&
    b !== undefined &&
    a.leader === b.leader &&
    list(a.isr) === list(b.isr) &&
    list(a.replicas) === list(b.replicas)
  );
}
