/**
 * Helpers of the consumer's integration tests: start the built consumer with a test
 * topic and group, see what it handled, read its metrics, and swap in a handler module.
 *
 * What was handled is read from the consumer's own logs: at LOG_LEVEL=debug the default
 * handler logs every message ("message handled", with topic, partition, offset, key).
 * Test handlers (HANDLER_MODULE) delegate to it, so the same lines appear.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Message } from 'kafkajs';
import { createTopic, testKafka, uniqueTopic } from '../support/kafka';
import { startOnFreePorts, type RunningService } from '../../scripts/lib/services';
import { repoRoot } from '../../scripts/lib/root';

const ROOT = repoRoot();
const HANDLER_DIR = join(ROOT, 'reports', 'consumer-test-handlers');
export const DEFAULT_HANDLER = join(ROOT, 'dist', 'services', 'consumer', 'handler.js');

export interface ConsumerSetup {
  topic: string;
  groupId: string;
  deadLetterTopic: string;
}

/**
 * A fresh topic (`name` plus a unique suffix) with its group and dead-letter topic (one
 * partition); with `deadLetterTopic: false` the dead-letter topic is named but not created.
 */
export async function newConsumerSetup(
  name: string,
  partitions: number,
  options: { deadLetterTopic?: boolean } = {},
): Promise<ConsumerSetup> {
  const topic = uniqueTopic(name);
  const setup = { topic, groupId: `${topic}-group`, deadLetterTopic: `${topic}-dlq` };
  await createTopic(topic, partitions);
  if (options.deadLetterTopic ?? true) await createTopic(setup.deadLetterTopic, 1);
  return setup;
}

/**
 * Starts the consumer (on a free management port) with short group timeouts and debug logs,
 * and waits until it is ready.
 */
export async function startConsumer(
  setup: ConsumerSetup,
  label: string,
  env: Record<string, string> = {},
): Promise<RunningService> {
  const { service } = await startOnFreePorts('consumer', {
    env: {
      TOPICS: setup.topic,
      CONSUMER_GROUP_ID: setup.groupId,
      DLQ_TOPIC: setup.deadLetterTopic,
      LOG_LEVEL: 'debug',
      SESSION_TIMEOUT_MS: '6000',
      HEARTBEAT_INTERVAL_MS: '1000',
      LAG_REFRESH_INTERVAL_MS: '1000',
      HANDLER_RETRY_BACKOFF_MS: '20',
      HANDLER_RETRY_BACKOFF_MAX_MS: '200',
      SHUTDOWN_TIMEOUT_MS: '15000',
      ...env,
    },
    label,
  });
  return service;
}

export interface Handled {
  key: string;
  partition: number;
  offset: string;
  /** Epoch ms of the log line. */
  at: number;
}

export function handled(service: RunningService): Handled[] {
  return service
    .logs()
    .filter((line) => line['msg'] === 'message handled')
    .map((line) => ({
      key: String(line['key']),
      partition: Number(line['partition']),
      offset: String(line['offset']),
      at: Date.parse(String(line['time'])),
    }));
}

export function logLines(service: RunningService, msg: string): Array<Record<string, unknown>> {
  return service.logs().filter((line) => line['msg'] === msg);
}

/** Sum of the series of `name` whose labels include `labels`; undefined if there is none. */
export async function metric(
  service: RunningService,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const response = await fetch(`${service.managementUrl}/metrics`);
  const text = await response.text();
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const seriesLabels = Object.fromEntries(
      [...(match[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => seriesLabels[k] === v)) {
      sum = (sum ?? 0) + Number(match[4]);
    }
  }
  return sum;
}

export async function produce(topic: string, messages: Message[]): Promise<void> {
  const producer = testKafka().producer({ idempotent: true });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 1000) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1000) });
    }
  } finally {
    await producer.disconnect();
  }
}

export function jsonMessages(prefix: string, count: number, from = 0): Message[] {
  return Array.from({ length: count }, (_, i) => {
    const key = `${prefix}-${from + i}`;
    return { key, value: JSON.stringify({ id: key }) };
  });
}

/** Offsets committed by `groupId` on `topic`, by partition (-1: none). */
export async function committedOffsets(
  groupId: string,
  topic: string,
): Promise<Map<number, number>> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((result?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Writes a CommonJS handler module for HANDLER_MODULE. `body` is the inside of
 * `async function handle(message, context)`; the built-in handler's `defaultHandle(message,
 * context)` and `parseJsonValue(message)` are in scope.
 */
export function writeHandlerModule(name: string, body: string): string {
  mkdirSync(HANDLER_DIR, { recursive: true });
  const file = join(HANDLER_DIR, `${name}-${process.pid}.js`);
  writeFileSync(
    file,
    [
      `'use strict';`,
      `const { handle: defaultHandle, parseJsonValue } = require(${JSON.stringify(DEFAULT_HANDLER)});`,
      `exports.handle = async function handle(message, context) {`,
      body,
      `};`,
      '',
    ].join('\n'),
  );
  return file;
}

/** Keys seen more than once, with how often. */
export function duplicates(keys: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return new Map([...counts].filter(([, n]) => n > 1));
}
