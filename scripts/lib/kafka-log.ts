/** kafkajs' log for the dev tools: nothing (its retries are noisy and expected); KAFKAJS_TEST_LOG=1 shows warnings. */
import { logLevel, type logCreator } from 'kafkajs';

export const silentLogCreator: logCreator = () => (entry) => {
  if (process.env.KAFKAJS_TEST_LOG === '1' && entry.level <= logLevel.WARN) {
    process.stderr.write(`[kafkajs ${entry.namespace}] ${entry.log.message}\n`);
  }
};
