/** The producer API's Kafka writer: what the HTTP layer may use of this folder. */
export { KafkaWriter, type KafkaWriterOptions } from './kafka-writer';
export type {
  KafkaWriterPort,
  PartitionInfo,
  RecordResult,
  TopicInfo,
  WriteOptions,
  WriteRecord,
  WriterLoad,
  WriterStatus,
} from './port';
export { isWriteError, WriteError, type WriteErrorCode } from './write-error';
