import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { parse } from 'yaml';
import { composeKafkaPrincipals } from './kafka-passwords.js';

// No Docker engine runs the compose file here, and `docker-compose config` checks only its syntax:
// these checks hold its wiring to itself and to the files it names, the secured Kafka cluster's
// above all. infra/compose/check-kafka-node.sh runs that cluster itself, without Docker.
const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

interface Service {
  readonly image?: string;
  readonly command?: readonly string[];
  readonly environment?: Readonly<Record<string, string | number>>;
  readonly volumes?: readonly string[];
  readonly depends_on?: Readonly<Record<string, { readonly condition: string }>> | readonly string[];
}
// `merge`: the services share settings through YAML merge keys (`<<: *stockmesh`), as compose reads them.
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Readonly<Record<string, Service>>;
  volumes: Readonly<Record<string, unknown>>;
};
const services = compose.services;
const regions = Object.entries(services).filter(([, s]) => s.environment?.STOCKMESH_REGION !== undefined && s.command === undefined);
const kafkaNodes = ['kafka-1', 'kafka-2', 'kafka-3'].map((name) => [name, services[name]] as const);

/** `source:target[:mode]` of a service's volumes. */
const mounts = (service: Service): { source: string; target: string }[] =>
  (service.volumes ?? []).map((v) => v.split(':')).map(([source, target]) => ({ source, target }));
/** Where a named volume or bind mount `source` lands in the service's container. */
const mountOf = (service: Service, source: string): string | undefined => mounts(service).find((m) => m.source === source)?.target;
const isBindMount = (source: string): boolean => source.startsWith('.') || source.startsWith('/');
/** The condition a service waits for on `dependency` (long form of depends_on only). */
const dependencyOf = (service: Service, dependency: string): unknown =>
  Array.isArray(service.depends_on) ? undefined : (service.depends_on as Readonly<Record<string, unknown>> | undefined)?.[dependency];
/** The value after `flag` in a command. */
const argOf = (service: Service, flag: string): string | undefined => service.command?.[service.command.indexOf(flag) + 1];

describe('docker-compose.yml', () => {
  it('depends only on services it defines, mounts only volumes it declares and files that exist', () => {
    for (const [name, service] of Object.entries(services)) {
      const dependencies = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      for (const dependency of dependencies)
        expect({ name, dependency, defined: dependency in services }).toEqual({ name, dependency, defined: true });
      for (const { source } of mounts(service)) {
        const found = isBindMount(source) ? existsSync(new URL(posix.normalize(source), root)) : source in compose.volumes;
        expect({ name, source, found }).toEqual({ name, source, found: true });
      }
    }
  });

  it('puts no Kafka password in an environment variable', () => {
    for (const [name, service] of Object.entries(services)) {
      const passwords = Object.keys(service.environment ?? {}).filter((key) => /^KAFKA_.*PASSWORD$/.test(key));
      expect({ name, passwords }).toEqual({ name, passwords: [] });
    }
  });
});

describe("docker-compose.yml's secured Kafka", () => {
  const regionIds = regions.map(([, s]) => String(s.environment?.STOCKMESH_REGION));
  const principals = composeKafkaPrincipals(regionIds);
  const volumeOf = (principal: string): string => `kafka-password-${principal}`;
  const makePasswords = services['kafka-passwords'];
  const acls = services['kafka-acls'];

  it('makes a password for every principal, each in a volume of its own', () => {
    const [node, script, passwordsRoot, regionList] = makePasswords.command?.[2].split(' ') ?? [];
    expect([node, script, regionList]).toEqual(['node', 'dist/infra/compose/make-kafka-passwords.js', regionIds.join(',')]);
    expect(existsSync(new URL('infra/compose/make-kafka-passwords.ts', root))).toBe(true);
    expect(read('.dockerignore').split('\n')).toContain('!infra/compose/*.ts');
    for (const principal of principals) expect(mountOf(makePasswords, volumeOf(principal))).toBe(`${passwordsRoot}/${principal}`);
  });

  it('runs every node with kafka-node.sh, every principal created from the password in its volume', () => {
    for (const [name, node] of kafkaNodes) {
      const env = node.environment ?? {};
      expect({ name, command: node.command }).toEqual({ name, command: ['bash', '/etc/stockmesh/kafka-node.sh', 'start'] });
      expect(mountOf(node, './infra/compose/kafka-node.sh')).toBe('/etc/stockmesh/kafka-node.sh');
      expect(mountOf(node, './infra/kafka/server-properties.sh')).toBe('/etc/stockmesh/server-properties.sh');
      expect(mountOf(node, './infra/kafka/log4j.properties')).toBe(env.KAFKA_LOG4J);
      expect(env.STOCKMESH_REGIONS).toBe(regionIds.join(','));
      for (const principal of principals) expect(mountOf(node, volumeOf(principal))).toBe(`${env.KAFKA_PASSWORDS_DIR}/${principal}`);
      expect(env.KAFKA_ADVERTISED_HOST).toBe(name);
      expect(String(env.KAFKA_CONTROLLER_QUORUM_VOTERS)).toContain(`${env.KAFKA_NODE_ID}@${name}:9093`);
      expect(dependencyOf(node, 'kafka-passwords')).toEqual({ condition: 'service_completed_successfully' });
    }
  });

  it('grants the ACLs as admin once every node is healthy, with acls.mjs from the image', () => {
    expect(acls.command?.slice(0, 2)).toEqual(['node', 'infra/kafka/acls.mjs']);
    expect(read('.dockerignore').split('\n')).toContain('!infra/kafka/acls.mjs');
    expect(read('Dockerfile')).toMatch(/^COPY --from=build \/app\/infra\/kafka\/acls\.mjs \.\/infra\/kafka\/acls\.mjs$/m);
    expect(argOf(acls, '--brokers')?.split(',')).toEqual(kafkaNodes.map(([name]) => `${name}:9092`));
    expect(argOf(acls, '--regions')).toBe(regionIds.join(','));
    expect(argOf(acls, '--admin-password-file')).toBe(`${mountOf(acls, volumeOf('admin'))}/password`);
    expect(mounts(acls).map((m) => m.source)).toEqual([volumeOf('admin')]);
    for (const [name] of kafkaNodes) expect(dependencyOf(acls, name)).toEqual({ condition: 'service_healthy' });
  });

  it('lets each region in as its own principal, with the one password volume it mounts, after the ACLs', () => {
    expect([...regionIds].sort()).toEqual(['ap-south', 'eu-west', 'us-east']);
    for (const [name, region] of regions) {
      const id = String(region.environment?.STOCKMESH_REGION);
      const principal = `region-${id}`;
      expect(region.environment?.KAFKA_SASL_USERNAME).toBe(principal);
      expect(region.environment?.KAFKA_SASL_PASSWORD_FILE).toBe(`${mountOf(region, volumeOf(principal))}/password`);
      const passwordVolumes = mounts(region).filter((m) => m.source.startsWith('kafka-password-'));
      expect({ name, passwordVolumes: passwordVolumes.map((m) => m.source) }).toEqual({ name, passwordVolumes: [volumeOf(principal)] });
      expect(dependencyOf(region, 'kafka-acls')).toEqual({ condition: 'service_completed_successfully' });
    }
  });
});
