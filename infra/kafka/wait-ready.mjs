#!/usr/bin/env node
// Waits until a Kafka cluster answers a metadata request (kafkajs admin().describeCluster()).
//
//   node infra/kafka/wait-ready.mjs [--brokers host:port,...] [--timeout-ms N] [--pid N] [--quiet] [--credentials FILE]
//
// --brokers    defaults to $KAFKA_BROKERS, else 127.0.0.1:${KAFKA_PORT:-9092}
// --timeout-ms overall deadline (default 60000)
// --pid        give up at once when this process is gone (the broker kafka.sh just started)
// --credentials kafka.sh's credentials.json: authenticate as its admin (SCRAM-SHA-512)
//
// Exit codes: 0 ready, 1 deadline passed, 2 kafkajs cannot be loaded (kafka.sh then falls
// back to a JVM probe), 3 the --pid process died, 64 bad arguments.
// kafkajs is resolved like any import from this file: infra/kafka/node_modules, then the repo's node_modules.

const args = process.argv.slice(2);
const opt = { brokers: undefined, timeoutMs: 60000, pid: undefined, quiet: false, credentials: undefined };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const next = () => {
    if (i + 1 >= args.length) usage(`missing value after ${a}`);
    return args[++i];
  };
  if (a === '--brokers') opt.brokers = next();
  else if (a === '--timeout-ms') opt.timeoutMs = Number(next());
  else if (a === '--pid') opt.pid = Number(next());
  else if (a === '--quiet') opt.quiet = true;
  else if (a === '--credentials') opt.credentials = next();
  else usage(`unknown argument ${a}`);
}
if (!Number.isFinite(opt.timeoutMs) || opt.timeoutMs <= 0) usage('--timeout-ms must be a positive number');
if (opt.pid !== undefined && !(Number.isInteger(opt.pid) && opt.pid > 0)) usage('--pid must be a positive integer');

function usage(msg) {
  console.error(`wait-ready: ${msg}`);
  console.error('usage: node wait-ready.mjs [--brokers host:port,...] [--timeout-ms N] [--pid N] [--quiet] [--credentials FILE]');
  process.exit(64);
}

const brokers = (opt.brokers ?? process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.KAFKA_PORT || 9092}`)
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
if (brokers.length === 0) usage('no brokers given');

let sasl;
if (opt.credentials !== undefined) {
  const { readFileSync } = await import('node:fs');
  const password = JSON.parse(readFileSync(opt.credentials, 'utf8')).users?.admin;
  if (typeof password !== 'string') usage(`${opt.credentials} has no admin password`);
  sasl = { mechanism: 'scram-sha-512', username: 'admin', password };
}

let Kafka, logLevel;
try {
  ({ Kafka, logLevel } = await import('kafkajs'));
} catch (err) {
  console.error(`wait-ready: cannot load kafkajs (${err.code || err.message}); run npm ci first`);
  process.exit(2);
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const started = Date.now();
const deadline = started + opt.timeoutMs;
let lastError = 'no attempt made';
let attempts = 0;

while (Date.now() < deadline) {
  if (opt.pid !== undefined && !alive(opt.pid)) {
    console.error(`wait-ready: process ${opt.pid} exited before ${brokers.join(',')} became ready`);
    process.exit(3);
  }
  attempts++;
  const remaining = Math.max(500, deadline - Date.now());
  const kafka = new Kafka({
    clientId: 'stockmesh-wait-ready',
    brokers,
    sasl,
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(2000, remaining),
    requestTimeout: Math.min(5000, remaining),
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (!cluster.brokers || cluster.brokers.length === 0) throw new Error('metadata lists no brokers yet');
    if (!opt.quiet) {
      const list = cluster.brokers.map((b) => `${b.nodeId}@${b.host}:${b.port}`).join(',');
      console.log(
        `wait-ready: ready after ${Date.now() - started} ms (${attempts} attempt(s)): ` +
          `clusterId=${cluster.clusterId} controller=${cluster.controller} brokers=${list}`,
      );
    }
    await admin.disconnect().catch(() => {});
    process.exit(0);
  } catch (err) {
    lastError = `${err.name || 'Error'}: ${err.message}`;
    await admin.disconnect().catch(() => {});
  }
  await sleep(Math.min(250, Math.max(0, deadline - Date.now())));
}

console.error(`wait-ready: ${brokers.join(',')} not ready after ${opt.timeoutMs} ms (${attempts} attempt(s)); last error: ${lastError}`);
process.exit(1);
