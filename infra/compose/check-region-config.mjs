#!/usr/bin/env node
// A region's Kafka settings as docker-compose gives them (KAFKA_SASL_USERNAME, and
// KAFKA_SASL_PASSWORD_FILE naming the file make-kafka-passwords wrote), read by the region's own
// configuration code and turned into kafkajs options by its own bus code, then used to write
// stockmesh's stock topic. check-kafka-node.sh runs it once the principals are checked; it needs
// a build (dist/).
//
//   node infra/compose/check-region-config.mjs --brokers host:port,... --passwords DIR --region us-east
import 'reflect-metadata';
import kafkajs from 'kafkajs';
import { loadAppConfig } from '../../dist/libs/config/src/index.js';
import { kafkajsSasl } from '../../dist/libs/messaging/src/index.js';

const args = process.argv.slice(2);
const opt = {};
for (let i = 0; i < args.length; i += 2) opt[args[i].replace(/^--/, '')] = args[i + 1];
if (!opt.brokers || !opt.passwords || !opt.region) {
  console.error('usage: node check-region-config.mjs --brokers host:port,... --passwords DIR --region ID');
  process.exit(64);
}
const principal = `region-${opt.region}`;
const config = loadAppConfig({
  STOCKMESH_REGION: opt.region,
  KAFKA_BROKERS: opt.brokers,
  KAFKA_SASL_USERNAME: principal,
  KAFKA_SASL_PASSWORD_FILE: `${opt.passwords}/${principal}/password`,
});
const kafka = new kafkajs.Kafka({
  clientId: config.kafka.clientId,
  brokers: [...config.kafka.brokers],
  sasl: kafkajsSasl(config.kafka.sasl),
  logLevel: kafkajs.logLevel.NOTHING,
  retry: { retries: 2 },
});
const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true });
try {
  await producer.connect();
  await producer.send({ topic: 'stockmesh.stock.v1', acks: -1, messages: [{ key: 'check', value: 'region-config' }] });
  console.log(`ok   ${principal}, configured as docker-compose configures it, writes stockmesh.stock.v1 (idempotent producer)`);
} catch (error) {
  console.log(`FAIL ${principal}, configured as docker-compose configures it: ${error.name}: ${error.message}`);
  process.exitCode = 1;
} finally {
  await producer.disconnect();
}
