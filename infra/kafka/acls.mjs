#!/usr/bin/env node
// Grants stockmesh's principals their ACLs on the local broker (kafka.sh runs it after every
// start; creating an ACL that exists changes nothing). Plain JavaScript: it runs before a build.
//
//   node infra/kafka/acls.mjs --brokers host:port --credentials FILE --regions a,b,c [--topic-prefix P] [--regions-only]
//   node infra/kafka/acls.mjs --brokers host:port --admin-password-file FILE --regions a,b,c [--topic-prefix P] [--regions-only]
//
// - region-<id> (one per region): everything on the cluster's topics and consumer groups (every
//   topic and group, or those starting with --topic-prefix), and idempotent writes: only regions
//   write stockmesh's topics.
// - external (other systems): WRITE on the commands topic only; READ on the event topics, and
//   READ on its own consumer groups, whose ids start with `<prefix>external.`.
// - admin is a super user (server.properties) and needs no ACL.
// --regions-only grants the regions' ACLs and not external's (kafka.sh add-region: a region added
// to a running cluster gets its own ACLs, nobody else's change).
// Authenticates as admin, with the password from the credentials file kafka.sh wrote or from a file
// holding that password alone (docker-compose's kafka-acls service, see infra/compose/kafka-node.sh).
// Exit codes: 0 done, 1 failed, 64 bad arguments.

const args = process.argv.slice(2);
const opt = {
  brokers: undefined,
  credentials: undefined,
  adminPasswordFile: undefined,
  regions: undefined,
  prefix: '',
  regionsOnly: false,
};
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const next = () => {
    if (i + 1 >= args.length) usage(`missing value after ${a}`);
    return args[++i];
  };
  if (a === '--brokers') opt.brokers = next();
  else if (a === '--credentials') opt.credentials = next();
  else if (a === '--admin-password-file') opt.adminPasswordFile = next();
  else if (a === '--regions') opt.regions = next();
  else if (a === '--topic-prefix') opt.prefix = next();
  else if (a === '--regions-only') opt.regionsOnly = true;
  else usage(`unknown argument ${a}`);
}
if (!opt.brokers || !opt.regions) usage('--brokers and --regions are required');
if (!opt.credentials === !opt.adminPasswordFile) usage('give exactly one of --credentials and --admin-password-file');

function usage(msg) {
  console.error(`acls: ${msg}`);
  console.error(
    'usage: node acls.mjs --brokers host:port (--credentials FILE | --admin-password-file FILE) --regions a,b,c [--topic-prefix P] [--regions-only]',
  );
  process.exit(64);
}

/** The topics other systems may read: every event topic (docs/events.md). */
const EVENT_TOPICS = [
  'stockmesh.stock.v1',
  'stockmesh.stock-state.v1',
  'stockmesh.catalog.v1',
  'stockmesh.transfers.v1',
  'stockmesh.command-results.v1',
  'stockmesh.stock-alerts.v1',
];
const COMMANDS_TOPIC = 'stockmesh.commands.v1';

const { readFileSync } = await import('node:fs');
// kafkajs is CommonJS: its ACL enums are on the default export only.
const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = (await import('kafkajs'))
  .default;
// The file's trailing newline is not part of the password (make-kafka-passwords writes one).
const adminPassword = opt.credentials
  ? JSON.parse(readFileSync(opt.credentials, 'utf8')).users?.admin
  : readFileSync(opt.adminPasswordFile, 'utf8').replace(/\r?\n$/, '');
if (typeof adminPassword !== 'string' || adminPassword === '') usage(`${opt.credentials ?? opt.adminPasswordFile} has no admin password`);

const regions = opt.regions
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const acl = (principal, resourceType, resourceName, pattern, operation) => ({
  principal: `User:${principal}`,
  host: '*',
  resourceType,
  resourceName,
  resourcePatternType: pattern,
  operation,
  permissionType: AclPermissionTypes.ALLOW,
});
const all = opt.prefix ? [opt.prefix, ResourcePatternTypes.PREFIXED] : ['*', ResourcePatternTypes.LITERAL];
const literal = ResourcePatternTypes.LITERAL;
const entries = [];
for (const region of regions) {
  const principal = `region-${region}`;
  entries.push(
    acl(principal, AclResourceTypes.TOPIC, ...all, AclOperationTypes.ALL),
    acl(principal, AclResourceTypes.GROUP, ...all, AclOperationTypes.ALL),
    acl(principal, AclResourceTypes.CLUSTER, 'kafka-cluster', literal, AclOperationTypes.IDEMPOTENT_WRITE),
  );
}
if (!opt.regionsOnly) {
  entries.push(
    acl('external', AclResourceTypes.TOPIC, opt.prefix + COMMANDS_TOPIC, literal, AclOperationTypes.WRITE),
    acl('external', AclResourceTypes.TOPIC, opt.prefix + COMMANDS_TOPIC, literal, AclOperationTypes.DESCRIBE),
    ...EVENT_TOPICS.flatMap((topic) => [
      acl('external', AclResourceTypes.TOPIC, opt.prefix + topic, literal, AclOperationTypes.READ),
      acl('external', AclResourceTypes.TOPIC, opt.prefix + topic, literal, AclOperationTypes.DESCRIBE),
    ]),
    acl('external', AclResourceTypes.GROUP, `${opt.prefix}external.`, ResourcePatternTypes.PREFIXED, AclOperationTypes.READ),
    acl('external', AclResourceTypes.CLUSTER, 'kafka-cluster', literal, AclOperationTypes.IDEMPOTENT_WRITE),
  );
}

const kafka = new Kafka({
  clientId: 'stockmesh-acls',
  brokers: opt.brokers.split(','),
  sasl: { mechanism: 'scram-sha-512', username: 'admin', password: adminPassword },
  logLevel: logLevel.NOTHING,
});
const admin = kafka.admin();
try {
  await admin.connect();
  await admin.createAcls({ acl: entries });
  const principals = regions.map((r) => `region-${r}`).concat(opt.regionsOnly ? [] : ['external']);
  console.log(`acls: ${entries.length} ACLs granted to ${principals.join(', ')}`);
} catch (err) {
  console.error(`acls: could not create the ACLs: ${err.name}: ${err.message}`);
  process.exitCode = 1;
} finally {
  await admin.disconnect().catch(() => {});
}
