/**
 * Types for the two kafkajs 2.2.4 modules outside its public API that services/common uses:
 * its table of Kafka protocol errors (which ones kafkajs retries) and its default socket
 * factory (wrapped to notice a broker's answers). 2.2.4 is kafkajs' last release.
 */
declare module 'kafkajs/src/protocol/error' {
  export interface KafkaProtocolErrorCode {
    type: string;
    code: number;
    retriable: boolean;
    message: string;
  }
  export const errorCodes: readonly KafkaProtocolErrorCode[];
}

declare module 'kafkajs/src/network/socketFactory' {
  import type { ISocketFactory } from 'kafkajs';
  const createSocketFactory: () => ISocketFactory;
  export = createSocketFactory;
}
