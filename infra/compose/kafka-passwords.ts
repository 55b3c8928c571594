import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureSecretFile } from '../cluster/cluster-secret.js';

/** A Kafka principal's name as docker-compose uses it: `admin`, `external`, `region-<id>`. */
const PRINCIPAL = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * The SCRAM principals of docker-compose's broker, in the order infra/kafka/kafka.sh creates them
 * for the local one: admin, region-<id> for each region, external.
 */
export function composeKafkaPrincipals(regionIds: readonly string[]): readonly string[] {
  return ['admin', ...regionIds.map((id) => `region-${id}`), 'external'];
}

/** Where a principal's password lives below the passwords root: `<root>/<principal>/password`. */
export function kafkaPasswordFile(root: string, principal: string): string {
  return join(root, principal, 'password');
}

/**
 * Makes a password (192 random bits, base64url, the strength of kafka.sh's) for every principal
 * that has none, in `<root>/<principal>/password`; keeps those that exist, since the brokers
 * created their SCRAM users with them. Each `<root>/<principal>` must exist already: in
 * docker-compose it is the mount point of that principal's own volume, which only the Kafka nodes
 * and that principal's containers mount; a missing one means a missing mount, and a password
 * written there would be lost with the container.
 */
export function ensureKafkaPasswords(
  root: string,
  principals: readonly string[],
): readonly { readonly principal: string; readonly created: boolean }[] {
  for (const principal of principals) {
    if (!PRINCIPAL.test(principal)) throw new Error(`'${principal}' is not a principal name (lowercase letters, digits, single dashes)`);
    const dir = join(root, principal);
    let isDirectory = false;
    try {
      isDirectory = statSync(dir).isDirectory();
    } catch {
      // reported below, with what to do about it
    }
    if (!isDirectory) throw new Error(`${dir} is not a directory: mount the volume of ${principal}'s password there`);
  }
  return principals.map((principal) => ({ principal, ...ensureSecretFile(kafkaPasswordFile(root, principal), 24) }));
}
