#!/usr/bin/env node
// What docker-compose's principals may do on a broker secured as infra/compose/kafka-node.sh
// secures it, with the ACLs of infra/kafka/acls.mjs (no topic prefix, as the kafka-acls service
// grants them). check-kafka-node.sh runs it against three nodes started on this host. Plain
// JavaScript, like acls.mjs: it needs kafkajs only.
//
//   node infra/compose/check-principals.mjs --brokers host:port,... --passwords DIR
//
// DIR holds <principal>/password, as make-kafka-passwords writes it. Prints one line per check;
// exit 0 when every check held, 1 otherwise.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;
const args = process.argv.slice(2);
const opt = {};
for (let i = 0; i < args.length; i += 2) opt[args[i].replace(/^--/, '')] = args[i + 1];
if (!opt.brokers || !opt.passwords) {
  console.error('usage: node check-principals.mjs --brokers host:port,... --passwords DIR');
  process.exit(64);
}
const brokers = opt.brokers.split(',');
const passwordOf = (principal) => readFileSync(join(opt.passwords, principal, 'password'), 'utf8').replace(/\r?\n$/, '');

/** A client that gives up at once: a refusal is the answer here, not a reason to retry. */
const client = (username, password = passwordOf(username)) =>
  new Kafka({
    clientId: `check-${username}`,
    brokers,
    sasl: { mechanism: 'scram-sha-512', username, password },
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5_000,
    retry: { retries: 0 },
  });

async function produce(kafka, topic) {
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [{ key: 'check', value: new Date().toISOString() }] });
  } finally {
    await producer.disconnect();
  }
}

let failed = 0;
async function check(what, expectation, action) {
  const started = Date.now();
  let outcome;
  try {
    await action();
    outcome = 'allowed';
  } catch (error) {
    outcome = `refused (${error.name}: ${error.message})`;
  }
  const held = expectation === 'allowed' ? outcome === 'allowed' : outcome !== 'allowed' && expectation.test(outcome);
  if (!held) failed++;
  console.log(`${held ? 'ok  ' : 'FAIL'} ${what}: ${outcome} [${Date.now() - started} ms]`);
}

const STOCK = 'stockmesh.stock.v1';
const COMMANDS = 'stockmesh.commands.v1';

// A region makes its topics at start (as the regions of docker-compose do): its principal may.
await check(`region-us-east creates ${STOCK} and ${COMMANDS}`, 'allowed', async () => {
  const admin = client('region-us-east').admin({ retry: { retries: 5 } });
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    const topics = [STOCK, COMMANDS].filter((t) => !existing.includes(t)).map((topic) => ({ topic, numPartitions: 1 }));
    if (topics.length > 0) await admin.createTopics({ topics, waitForLeaders: false });
    // kafkajs' own waitForLeaders gives up while the other nodes still learn of the new topics
    for (let deadline = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 250))) {
      const metadata = await admin.fetchTopicMetadata({ topics: [STOCK, COMMANDS] }).catch(() => undefined);
      if (metadata?.topics.every((t) => t.partitions.every((p) => p.leader >= 0))) break;
      if (Date.now() > deadline) throw new Error('the new topics have no leaders after 30 s');
    }
  } finally {
    await admin.disconnect();
  }
});
await check(`region-us-east produces to ${STOCK}`, 'allowed', () => produce(client('region-us-east'), STOCK));
await check(`region-eu-west produces to ${STOCK}`, 'allowed', () => produce(client('region-eu-west'), STOCK));
await check(`external produces to ${STOCK}`, /authoriz/i, () => produce(client('external'), STOCK));
await check(`external produces to ${COMMANDS}`, 'allowed', () => produce(client('external'), COMMANDS));
await check('a client without credentials connects', /./, async () => {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING, connectionTimeout: 5_000, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
});
await check('region-us-east with a wrong password connects', /SASL|authenticat/i, async () => {
  const admin = client('region-us-east', 'not-the-password-of-region-us-east').admin();
  try {
    await admin.connect();
  } finally {
    await admin.disconnect();
  }
});
await check(`external, with region-us-east's password, produces to ${STOCK}`, /SASL|authenticat/i, () =>
  produce(client('external', passwordOf('region-us-east')), STOCK),
);

console.log(failed === 0 ? 'check-principals: every check held' : `check-principals: ${failed} check(s) failed`);
process.exitCode = failed === 0 ? 0 : 1;
