import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeKafkaPrincipals, ensureKafkaPasswords, kafkaPasswordFile } from './kafka-passwords.js';

describe("docker-compose's Kafka passwords", () => {
  const principals = composeKafkaPrincipals(['us-east', 'eu-west']);
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kafka-passwords-'));
    // the mount points of the principals' volumes
    for (const principal of principals) mkdirSync(join(root, principal));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('names the principals kafka.sh names: admin, one per region, external', () => {
    expect(principals).toEqual(['admin', 'region-us-east', 'region-eu-west', 'external']);
  });

  it('makes one private password each, of the characters kafka.sh accepts, and keeps them on a second run', () => {
    expect(ensureKafkaPasswords(root, principals).map((p) => p.created)).toEqual([true, true, true, true]);
    const passwords = principals.map((p) => readFileSync(kafkaPasswordFile(root, p), 'utf8'));
    for (const password of passwords) expect(password).toMatch(/^[A-Za-z0-9_-]{32}\n$/);
    expect(new Set(passwords).size).toBe(principals.length);
    for (const p of principals) expect(statSync(kafkaPasswordFile(root, p)).mode & 0o777).toBe(0o600);

    expect(ensureKafkaPasswords(root, principals).map((p) => p.created)).toEqual([false, false, false, false]);
    expect(principals.map((p) => readFileSync(kafkaPasswordFile(root, p), 'utf8'))).toEqual(passwords);
  });

  it("refuses a principal whose volume is not mounted, before writing anyone's password", () => {
    rmSync(join(root, 'external'), { recursive: true });
    expect(() => ensureKafkaPasswords(root, principals)).toThrow(/external is not a directory: mount the volume of external's password/);
    expect(() => statSync(kafkaPasswordFile(root, 'admin'))).toThrow();
  });

  it('refuses a name that is not a principal', () => {
    expect(() => ensureKafkaPasswords(root, ['../admin'])).toThrow(/not a principal name/);
  });
});
