import {Kafka} from 'kafkajs';
import {EventBody, OrderedReceiver} from '../fixtures/ordered-receiver';

/** The event keys a subscriber subscribes to. */
export const SUBSCRIBED_KEYS = [
  'task-created',
  'user-task-completed',
  'task-completed',
] as const;

/**
 * What a task of the sample review workflow announces, in this order:
 * created, its two user tasks completed one after the other, completed.
 */
export const TASK_EVENTS = [
  'task-created',
  'user-task-completed:Review',
  'user-task-completed:Approve',
  'task-completed',
] as const;

/** Something that happens once, which others wait for. */
export class Milestone {
  readonly reached: Promise<void>;
  reach: () => void = () => {};

  constructor() {
    this.reached = new Promise(resolve => (this.reach = resolve));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/** An outgoing event's name in a task's story (user tasks by their name). */
export function labelOf(event: EventBody): string {
  if (event.key !== 'user-task-completed') return event.key;
  const userTask = event.payload.userTask as {name?: string} | undefined;
  return `${event.key}:${userTask?.name ?? '?'}`;
}

/** The tasks an outgoing event concerns. */
export function tasksConcerned(event: EventBody): string[] {
  const {payload} = event;
  const ids = (payload.createdTasks ?? []).map(t => t.id);
  if (payload.task?.id) ids.push(payload.task.id);
  if (payload.taskId) ids.push(payload.taskId);
  return ids;
}

/**
 * What a receiver saw of each task, as a receiver that drops repeats of a
 * delivery id it acknowledged sees it (delivery is at least once): the
 * events that concern the task in arrival order, tries of one event in a
 * row as one entry, marked ✓ once answered 2xx. A task whose events came
 * one at a time, in order, reads `['task-created✓', ...]`; an event tried
 * before the one ahead of it was delivered shows as an extra entry.
 */
export function storiesAt(
  receiver: OrderedReceiver,
): (taskId: string) => string[] {
  const acknowledged = new Set(receiver.acknowledged());
  const stories = new Map<string, {name: string; ok: boolean}[]>();
  const seen = new Set<string>();
  for (const hook of receiver.received) {
    if (seen.has(hook.deliveryId)) continue;
    const ok = acknowledged.has(hook);
    if (ok) seen.add(hook.deliveryId);
    const event = JSON.parse(hook.body) as EventBody;
    for (const taskId of tasksConcerned(event)) {
      const story = stories.get(taskId) ?? [];
      const name = labelOf(event);
      const last = story[story.length - 1];
      if (last?.name === name && !last.ok) last.ok = ok;
      else story.push({name, ok});
      stories.set(taskId, story);
    }
  }
  return taskId =>
    (stories.get(taskId) ?? []).map(e => (e.ok ? `${e.name}✓` : e.name));
}

/** Tasks whose story is not exactly their four events, each delivered before the next was tried. */
export function orderViolations(
  taskIds: string[],
  storyOf: (taskId: string) => string[],
): string[] {
  const expected = TASK_EVENTS.map(label => `${label}✓`).join(' → ');
  const violations: string[] = [];
  for (const taskId of taskIds) {
    const story = storyOf(taskId).join(' → ');
    if (story !== expected) violations.push(`task ${taskId}: ${story}`);
  }
  return violations;
}

export interface KafkaRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string;
}

/**
 * Every message of a topic, partition by partition in offset order: up to
 * the high watermarks the topic has when the reading begins.
 */
export async function readWholeTopic(
  kafka: Kafka,
  topic: string,
  timeoutMs = 60000,
): Promise<KafkaRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(offsets.map(o => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
  const total = [...ends.values()].reduce((a, b) => a + b, 0n);
  const records: KafkaRecord[] = [];
  if (total === 0n) return records;
  const consumer = kafka.consumer({
    groupId: `faults-reader-${Date.now()}-${Math.random().toString(16).slice(2)}`,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({topics: [topic], fromBeginning: true});
    await consumer.run({
      eachMessage: async ({partition, message}) => {
        if (BigInt(message.offset) >= (ends.get(partition) ?? 0n)) return;
        records.push({
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? '',
        });
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (BigInt(records.length) < total) {
      if (Date.now() > deadline)
        throw new Error(
          `Timed out reading ${topic}: ${records.length} of ${total} messages`,
        );
      await sleep(100);
    }
  } finally {
    await consumer.disconnect();
  }
  return records.sort(
    (a, b) =>
      a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
  );
}

export type Figure = number | string;

/** A table of figures: one row per measure, one column per deployment. */
export class Figures {
  private readonly rows = new Map<string, Map<string, Figure>>();

  constructor(readonly columns: string[]) {}

  set(row: string, values: Record<string, Figure>): void {
    const cells = this.rows.get(row) ?? new Map<string, Figure>();
    for (const [column, value] of Object.entries(values))
      cells.set(column, value);
    this.rows.set(row, cells);
  }

  get(row: string, column: string): Figure | undefined {
    return this.rows.get(row)?.get(column);
  }

  /** The table as text, columns padded. */
  render(): string {
    const header = ['', ...this.columns];
    const lines = [...this.rows].map(([row, cells]) => [
      row,
      ...this.columns.map(c => String(cells.get(c) ?? '')),
    ]);
    const widths = header.map((h, i) =>
      Math.max(h.length, ...lines.map(l => l[i].length)),
    );
    const format = (cells: string[]) =>
      cells
        .map((cell, i) =>
          i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]),
        )
        .join('  ');
    return [
      format(header),
      widths.map(w => '-'.repeat(w)).join('  '),
      ...lines.map(format),
    ].join('\n');
  }
}
