// `node dist/infra/compose/make-kafka-passwords.js <root> <region,...>`: makes the password of each
// of docker-compose's Kafka principals (admin, region-<id> per region, external) in
// <root>/<principal>/password unless it is there (docker-compose runs it once before the Kafka
// nodes start). Prints no password.
import { composeKafkaPrincipals, ensureKafkaPasswords, kafkaPasswordFile } from './kafka-passwords.js';

const [root, regions] = process.argv.slice(2);
if (!root || !regions) {
  console.error('usage: make-kafka-passwords <root> <region,...>');
  process.exit(2);
}
try {
  const principals = composeKafkaPrincipals(regions.split(',').filter(Boolean));
  for (const { principal, created } of ensureKafkaPasswords(root, principals)) {
    console.log(`stockmesh: Kafka password of ${principal} ${created ? 'created' : 'kept'} at ${kafkaPasswordFile(root, principal)}`);
  }
} catch (error) {
  console.error(`stockmesh: cannot make the Kafka passwords in ${root}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
