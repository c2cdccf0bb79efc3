/** `gridgate/points`: the point record, its mappings from each protocol, the sinks, the delivery pipeline and read-back. */
export * from './apps/points/record.js';
export { iec104Records, iec104QualityBits, iec104Cause, cp24ToMs } from './apps/points/iec104.js';
export { dnp3Records, dnp3QualityFlags, type Dnp3Origin } from './apps/points/dnp3.js';
export { iec61850Records, iec61850Quality, iec61850Value } from './apps/points/iec61850.js';
export type { Sink, SinkCounters, SinkHealth } from './apps/sinks/sink.js';
export { SqliteSink, openPointsDatabase, type SqliteSinkOptions } from './apps/sinks/sqlite.js';
export { PostgresSink, POSTGRES_SCHEMA, type PostgresSinkOptions } from './apps/sinks/postgres.js';
export { NatsSink, natsSubject, type NatsSinkOptions } from './apps/sinks/nats.js';
export { consumeInto, type ConsumeOptions } from './apps/sinks/nats-consumer.js';
export { MqttSink, mqttTopic, type MqttSinkOptions } from './apps/sinks/mqtt.js';
export { JsonlSink, type JsonlSinkOptions } from './apps/sinks/jsonl.js';
export { KafkaSink, kafkaMessage, type KafkaSinkOptions } from './apps/sinks/kafka.js';
export { MongoSink, mongoDocument, type MongoSinkOptions } from './apps/sinks/mongodb.js';
export { createSink, SinkConfigSchema, type SinkConfig } from './apps/sinks/config.js';
export { Pipeline, type PipelineOptions, type SinkStatus } from './apps/sinks/pipeline.js';
export { latestValues, rangeValues, type QueryFilter, type Store, type StoredValue } from './apps/sinks/query.js';
export { Gateway } from './apps/gateway/gateway.js';
export { loadGatewayConfig, GatewayConfigSchema, type GatewayConfig, type SourceConfig } from './apps/gateway/config.js';
