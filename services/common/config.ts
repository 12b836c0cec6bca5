/**
 * Configuration: every setting of both services is declared here, read from the
 * environment once at start-up, and validated. A bad value stops the process with a
 * message that names the variable and what is allowed. The README's tables of
 * variables are checked against these declarations by a unit test.
 */
import { hostname } from 'node:os';

export class ConfigError extends Error {
  readonly code = 'invalid_configuration';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** One environment variable: how to parse it, its default and its documentation. */
export interface Setting<T> {
  readonly doc: string;
  /** Shown in the README; also used when the variable is unset or empty. */
  readonly defaultValue: T | undefined;
  readonly secret: boolean;
  /** Returns the value or throws an Error whose message says what is allowed. */
  parse(raw: string): T;
  /** Text of the default for documentation, e.g. `8080` or `(unset)`. */
  readonly defaultText: string;
}

interface SettingOptions<T> {
  doc: string;
  default?: T;
  secret?: boolean;
  defaultText?: string;
}

function setting<T>(
  options: SettingOptions<T>,
  parse: (raw: string) => T,
  show: (value: T) => string,
): Setting<T> {
  return {
    doc: options.doc,
    defaultValue: options.default,
    secret: options.secret ?? false,
    parse,
    defaultText:
      options.defaultText ?? (options.default === undefined ? '(unset)' : show(options.default)),
  };
}

export function integer(
  options: SettingOptions<number> & { min?: number; max?: number },
): Setting<number> {
  const min = options.min ?? Number.MIN_SAFE_INTEGER;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  return setting(
    options,
    (raw) => {
      if (!/^-?\d+$/.test(raw)) throw new Error(`must be an integer, got "${raw}"`);
      const value = Number(raw);
      if (value < min || value > max) {
        throw new Error(`must be between ${min} and ${max}, got ${value}`);
      }
      return value;
    },
    String,
  );
}

export function port(options: SettingOptions<number>): Setting<number> {
  return integer({ ...options, min: 1, max: 65535 });
}

export function text(options: SettingOptions<string> & { pattern?: RegExp }): Setting<string> {
  return setting(
    options,
    (raw) => {
      if (options.pattern && !options.pattern.test(raw)) {
        throw new Error(`must match ${options.pattern}, got "${raw}"`);
      }
      return raw;
    },
    (value) => value,
  );
}

export function boolean(options: SettingOptions<boolean>): Setting<boolean> {
  return setting(
    options,
    (raw) => {
      const lower = raw.toLowerCase();
      if (['true', '1', 'yes'].includes(lower)) return true;
      if (['false', '0', 'no'].includes(lower)) return false;
      throw new Error(`must be true or false, got "${raw}"`);
    },
    String,
  );
}

export function oneOf<const T extends string>(
  allowed: readonly T[],
  options: SettingOptions<T>,
): Setting<T> {
  return setting(
    options,
    (raw) => {
      const value = raw.toLowerCase();
      if (!(allowed as readonly string[]).includes(value)) {
        throw new Error(`must be one of ${allowed.join(', ')}, got "${raw}"`);
      }
      return value as T;
    },
    (value) => value,
  );
}

/** Comma-separated list; each item is trimmed, empty items are rejected. */
export function list(
  options: SettingOptions<string[]> & { item?: RegExp; itemName?: string },
): Setting<string[]> {
  return setting(
    options,
    (raw) => {
      const items = raw.split(',').map((item) => item.trim());
      items.forEach((item) => {
        if (item === '') throw new Error(`must be a comma-separated list without empty items`);
        if (options.item && !options.item.test(item)) {
          throw new Error(`"${item}" is not a valid ${options.itemName ?? 'item'}`);
        }
      });
      return items;
    },
    (value) => value.join(','),
  );
}

export type Spec = Record<string, Setting<unknown>>;
type ValueOf<S> = S extends Setting<infer T> ? T : never;
export type ConfigOf<S extends Spec> = { readonly [K in keyof S]: ValueOf<S[K]> };

/** Reads every variable of `spec`, collecting all problems before failing. */
export function readConfig<S extends Spec>(spec: S, env: Env = process.env): ConfigOf<S> {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(spec)) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') {
      values[name] = item.defaultValue;
      continue;
    }
    try {
      values[name] = item.parse(raw);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      // A secret's value must not reach the log, even when it is malformed.
      problems.push(`${name} ${item.secret ? 'is invalid' : reason}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return values as ConfigOf<S>;
}

const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$/;
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/** Settings both services share: Kafka connection, logging, management port, shutdown. */
export function commonSpec(service: 'producer' | 'consumer', managementPort: number) {
  return {
    KAFKA_BROKERS: list({
      doc: 'Kafka bootstrap servers, comma-separated host:port',
      default: ['127.0.0.1:9092'],
      item: HOST_PORT,
      itemName: 'host:port',
    }),
    KAFKA_CLIENT_ID: text({
      doc: 'Kafka client id; defaults to the service name and the host (pod) name',
      default: `event-pipeline-${service}-${hostname()}`,
      defaultText: 'event-pipeline-<service>-<hostname>',
      pattern: /^[A-Za-z0-9._-]{1,200}$/,
    }),
    KAFKA_SSL: boolean({ doc: 'Connect to Kafka with TLS', default: false }),
    KAFKA_SASL_MECHANISM: oneOf(['none', 'scram-sha-512', 'scram-sha-256', 'plain'] as const, {
      doc: 'SASL mechanism; KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required unless none',
      default: 'none',
    }),
    KAFKA_SASL_USERNAME: text({ doc: 'SASL user name' }),
    KAFKA_SASL_PASSWORD: text({ doc: 'SASL password (never logged)', secret: true }),
    KAFKA_CONNECTION_TIMEOUT_MS: integer({
      doc: 'Time to wait for a TCP connection to a broker',
      default: 3000,
      min: 100,
      max: 60_000,
    }),
    KAFKA_REQUEST_TIMEOUT_MS: integer({
      doc: 'Time to wait for a broker to answer a request',
      default: 30_000,
      min: 1000,
      max: 300_000,
    }),
    LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
      doc: 'pino log level; message values are logged only at debug',
      default: 'info',
    }),
    MANAGEMENT_PORT: port({
      doc: 'Port of /livez, /readyz and /metrics',
      default: managementPort,
      defaultText: '8081 (producer), 8082 (consumer)',
    }),
    SHUTDOWN_TIMEOUT_MS: integer({
      doc: 'Deadline for a graceful shutdown after SIGTERM; keep it below the pod grace period',
      default: 20_000,
      min: 1000,
      max: 600_000,
    }),
  };
}

export const producerSpec = {
  ...commonSpec('producer', 8081),
  HTTP_PORT: port({ doc: 'Port of the producer API', default: 8080 }),
  TOPICS: list({
    doc: 'Topics clients may produce to (allow-list)',
    default: ['events'],
    item: TOPIC_NAME,
    itemName: 'topic name',
  }),
  API_KEYS: list({
    doc: 'API keys accepted as `Authorization: Bearer <key>`; unset with API_KEYS_FILE unset means no auth',
    secret: true,
  }),
  API_KEYS_FILE: text({
    doc: 'File with one API key per line (e.g. a mounted Secret; blank lines and # comments are skipped); combined with API_KEYS',
  }),
  MAX_BODY_BYTES: integer({
    doc: 'Largest request body accepted (413 above)',
    default: 1_048_576,
    min: 1024,
    max: 64 * 1_048_576,
  }),
  MAX_MESSAGES_PER_REQUEST: integer({
    doc: 'Most messages in one request (413 above)',
    default: 1000,
    min: 1,
    max: 100_000,
  }),
  PRODUCER_COMPRESSION: oneOf(['none', 'gzip'] as const, {
    doc: 'Compression of record batches sent to Kafka',
    default: 'none',
  }),
  BATCH_LINGER_MS: integer({
    doc: 'How long the oldest waiting message waits for more before a batch is sent (batches also form while a send is in flight)',
    default: 2,
    min: 0,
    max: 1000,
  }),
  BATCH_MAX_MESSAGES: integer({
    doc: 'Most messages in one Kafka request',
    default: 2000,
    min: 1,
    max: 100_000,
  }),
  BATCH_MAX_BYTES: integer({
    doc: "Largest Kafka request the batcher builds, in bytes of keys, values and headers (each partition also stays within the topic's max.message.bytes)",
    default: 1_048_576,
    min: 1024,
    max: 64 * 1_048_576,
  }),
  BUFFER_MAX_MESSAGES: integer({
    doc: 'Most messages waiting for Kafka (queued or in flight); requests beyond it get 503 with Retry-After',
    default: 20_000,
    min: 1,
    max: 10_000_000,
  }),
  BUFFER_MAX_BYTES: integer({
    doc: 'Most bytes (keys, values, headers) waiting for Kafka; requests beyond it get 503 with Retry-After',
    default: 64 * 1_048_576,
    min: 1024,
    max: 4096 * 1_048_576,
  }),
  PRODUCE_TIMEOUT_MS: integer({
    doc: 'Longest a request waits for Kafka to acknowledge it before it gets 503 (its messages may still be written)',
    default: 10_000,
    min: 100,
    max: 300_000,
  }),
  HTTP_REQUEST_TIMEOUT_MS: integer({
    doc: 'Longest time to receive a whole request (slow clients are cut off)',
    default: 30_000,
    min: 1000,
    max: 600_000,
  }),
  HTTP_HEADERS_TIMEOUT_MS: integer({
    doc: 'Longest time to receive the request headers; at most HTTP_REQUEST_TIMEOUT_MS',
    default: 10_000,
    min: 1000,
    max: 600_000,
  }),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: integer({
    doc: 'How long an idle keep-alive connection stays open',
    default: 65_000,
    min: 1000,
    max: 600_000,
  }),
};

export const consumerSpec = {
  ...commonSpec('consumer', 8082),
  TOPICS: list({
    doc: 'Topics the consumer group reads',
    default: ['events'],
    item: TOPIC_NAME,
    itemName: 'topic name',
  }),
  CONSUMER_GROUP_ID: text({
    doc: 'Consumer group id',
    default: 'event-consumer',
    pattern: /^[A-Za-z0-9._-]{1,249}$/,
  }),
  DLQ_TOPIC: text({
    doc: 'Dead-letter topic for messages the handler cannot process',
    default: 'events-dlq',
    pattern: TOPIC_NAME,
  }),
  PARTITIONS_CONSUMED_CONCURRENTLY: integer({
    doc: 'Partitions handled in parallel (each one sequentially)',
    default: 3,
    min: 1,
    max: 1000,
  }),
  HANDLER_MAX_RETRIES: integer({
    doc: 'Retries of a failing message before it is dead-lettered (a value that is not JSON is dead-lettered at once)',
    default: 3,
    min: 0,
    max: 100,
  }),
  HANDLER_RETRY_BACKOFF_MS: integer({
    doc: 'First retry delay; doubles on each retry',
    default: 100,
    min: 0,
    max: 60_000,
  }),
  HANDLER_RETRY_BACKOFF_MAX_MS: integer({
    doc: 'Longest retry delay',
    default: 5000,
    min: 0,
    max: 600_000,
  }),
  SESSION_TIMEOUT_MS: integer({
    doc: 'Consumer group session timeout: an instance that stops heartbeating (e.g. killed) keeps its partitions this long',
    default: 30_000,
    min: 6000,
    max: 300_000,
  }),
  HEARTBEAT_INTERVAL_MS: integer({
    doc: 'Consumer group heartbeat interval (heartbeats continue while a slow handler runs)',
    default: 1000,
    min: 100,
    max: 60_000,
  }),
  COMMIT_INTERVAL_MS: integer({
    doc: 'Longest time a handled offset waits to be committed; every handled offset is also committed before a rebalance and on shutdown, so a crash (SIGKILL, lost node) handles at most this much again',
    default: 1000,
    min: 100,
    max: 60_000,
  }),
  LAG_REFRESH_INTERVAL_MS: integer({
    doc: 'How often consumer lag is read from the log-end and committed offsets (and sooner after each offset commit)',
    default: 5000,
    min: 100,
    max: 300_000,
  }),
  DLQ_WRITE_TIMEOUT_MS: integer({
    doc: 'Longest wait for the dead-letter topic to acknowledge a message; then the partition pauses (1 s, doubling up to HANDLER_RETRY_BACKOFF_MAX_MS) and the write is retried; nothing behind it is committed',
    default: 10_000,
    min: 100,
    max: 300_000,
  }),
  HANDLER_MODULE: text({
    doc: 'Path of a JavaScript module exporting `handle(message, context)` to use instead of the built-in JSON handler',
  }),
};

export type ProducerConfig = ConfigOf<typeof producerSpec>;
export type ConsumerConfig = ConfigOf<typeof consumerSpec>;
export type CommonConfig = ConfigOf<ReturnType<typeof commonSpec>>;

function checkSasl(config: CommonConfig): string[] {
  if (config.KAFKA_SASL_MECHANISM === 'none') return [];
  const missing = (['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const).filter(
    (name) => config[name] === undefined,
  );
  return missing.map((name) => `${name} is required when KAFKA_SASL_MECHANISM is not none`);
}

function checkCrossSettings(problems: string[]): void {
  if (problems.length > 0) throw new ConfigError(problems);
}

export function loadProducerConfig(env: Env = process.env): ProducerConfig {
  const config = readConfig(producerSpec, env);
  const problems = checkSasl(config);
  if (config.HTTP_PORT === config.MANAGEMENT_PORT) {
    problems.push('HTTP_PORT and MANAGEMENT_PORT must differ');
  }
  if (config.HTTP_HEADERS_TIMEOUT_MS > config.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push('HTTP_HEADERS_TIMEOUT_MS must be at most HTTP_REQUEST_TIMEOUT_MS');
  }
  if (config.BUFFER_MAX_MESSAGES < config.MAX_MESSAGES_PER_REQUEST) {
    problems.push('BUFFER_MAX_MESSAGES must be at least MAX_MESSAGES_PER_REQUEST');
  }
  if (config.BUFFER_MAX_BYTES < config.MAX_BODY_BYTES) {
    problems.push('BUFFER_MAX_BYTES must be at least MAX_BODY_BYTES');
  }
  if (config.PRODUCE_TIMEOUT_MS >= config.SHUTDOWN_TIMEOUT_MS) {
    problems.push(
      'PRODUCE_TIMEOUT_MS must be below SHUTDOWN_TIMEOUT_MS (requests in flight finish during shutdown)',
    );
  }
  checkCrossSettings(problems);
  return config;
}

export function loadConsumerConfig(env: Env = process.env): ConsumerConfig {
  const config = readConfig(consumerSpec, env);
  const problems = checkSasl(config);
  if (config.TOPICS.includes(config.DLQ_TOPIC)) {
    problems.push('DLQ_TOPIC must not be one of TOPICS (dead letters would be consumed again)');
  }
  if (config.HEARTBEAT_INTERVAL_MS * 3 > config.SESSION_TIMEOUT_MS) {
    problems.push('HEARTBEAT_INTERVAL_MS must be at most a third of SESSION_TIMEOUT_MS');
  }
  if (config.HANDLER_RETRY_BACKOFF_MAX_MS < config.HANDLER_RETRY_BACKOFF_MS) {
    problems.push('HANDLER_RETRY_BACKOFF_MAX_MS must be at least HANDLER_RETRY_BACKOFF_MS');
  }
  checkCrossSettings(problems);
  return config;
}
