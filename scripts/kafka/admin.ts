/**
 * A short-lived kafkajs admin client for tools and tests: connect, use, always disconnect.
 * Quiet (kafkajs logs nothing) and with few retries by default, because its callers poll
 * and retry on their own.
 */
import { Kafka, logLevel, type Admin, type RetryOptions } from 'kafkajs';

export interface AdminOptions {
  clientId?: string;
  /** kafkajs retries of each request; default: 2 retries, 100 ms doubling up to 500 ms. */
  retry?: RetryOptions;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export async function withAdmin<T>(
  brokers: readonly string[],
  use: (admin: Admin) => Promise<T>,
  options: AdminOptions = {},
): Promise<T> {
  const kafka = new Kafka({
    clientId: options.clientId ?? 'event-pipeline-admin',
    brokers: [...brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 1_000,
    requestTimeout: options.requestTimeoutMs ?? 5_000,
    retry: options.retry ?? { retries: 2, initialRetryTime: 100, maxRetryTime: 500 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    return await use(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
