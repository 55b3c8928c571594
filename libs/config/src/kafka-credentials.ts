import { readFileSync } from 'node:fs';

/**
 * The credentials file infra/kafka/kafka.sh writes for the local broker
 * (`$STOCKMESH_HOME/kafka/credentials.json`, mode 0600): one password per SCRAM user. Read by the
 * tools that start regions and tests against that broker, never by a region itself (a region
 * gets its own principal only, through KAFKA_SASL_*).
 */
export interface KafkaCredentials {
  readonly mechanism: 'scram-sha-512';
  /** Password by user name: `admin`, `region-<id>` for each region, `external`. */
  readonly users: Readonly<Record<string, string>>;
}

/** The Kafka principal of a region: `region-<id>`, e.g. `region-us-east`. */
export function kafkaPrincipalOfRegion(regionId: string): string {
  return `region-${regionId}`;
}

export function readKafkaCredentials(path: string): KafkaCredentials {
  const plain = JSON.parse(readFileSync(path, 'utf8')) as Partial<KafkaCredentials>;
  const users = plain.users;
  if (plain.mechanism !== 'scram-sha-512' || typeof users !== 'object' || users === null) {
    throw new Error(`${path} is not a stockmesh Kafka credentials file (mechanism scram-sha-512 and users expected)`);
  }
  for (const [name, password] of Object.entries(users)) {
    if (typeof password !== 'string' || password.length === 0) throw new Error(`${path}: the password of ${name} is not a string`);
  }
  return { mechanism: 'scram-sha-512', users };
}
