import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ClusterSecretReloader } from '@stockmesh/config';
import { call, signedCall, startTestRegion, waitFor, type TestRegion } from '@stockmesh/testing';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Rotating the cluster secret without a restart (docs/security.md): one region in-process on the
// real PostgreSQL reads its secret from a file; the test rewrites the file the way an operator
// does, one step at a time, and checks which signatures the region's internal listener accepts
// after each, and which key the region itself signs with. Calls are signed as eu-west would.
const OLD = randomBytes(32).toString('base64url');
const NEW = randomBytes(32).toString('base64url');
const W = 'rot-1';
const dir = mkdtempSync(join(tmpdir(), 'stockmesh-rotation-'));
const file = join(dir, 'cluster-secret');
let region: TestRegion;

const fingerprint = (secret: string): string => createHash('sha256').update(secret).digest('hex').slice(0, 12);

/** Replaces the file at once, as a mounted secret is replaced (never a half-written file read). */
function writeSecretFile(text: string): void {
  writeFileSync(`${file}.next`, text, { mode: 0o600 });
  renameSync(`${file}.next`, file);
}

/** The status of a signed read of a stock row made with `secret`: 200, or 401 when refused. */
async function signedWith(secret: string): Promise<number> {
  return (await signedCall(region, 'GET', `/v1/warehouses/${W}/stock/SKU-ROT`, { secret })).status;
}

/** Waits until the region signs with `signing` (the file was re-read), without calling it. */
async function signsWith(signing: string): Promise<void> {
  await waitFor(async () => (region.config.regionTrust.secret?.fingerprints()[0] === fingerprint(signing) ? true : undefined), {
    timeoutMs: 20_000,
    what: 'the region to re-read its cluster secret file',
  });
}

beforeAll(async () => {
  writeSecretFile(`${OLD}\n`);
  region = await startTestRegion('secretrot', { STOCKMESH_CLUSTER_SECRET_FILE: file });
  expect((await call(region, 'PUT', `/v1/warehouses/${W}`, { body: { region: 'us-east', name: W } })).status).toBe(201);
  expect((await call(region, 'PUT', `/v1/warehouses/${W}/stock/SKU-ROT`, { body: { onHand: 5 } })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await region?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('rotating the cluster secret while the region runs', () => {
  it('accepts the new secret before signing with it, signs with it next, and refuses the old one once it is retired', async () => {
    expect([await signedWith(OLD), await signedWith(NEW)]).toEqual([200, 401]);

    // Step 1: every region learns the new secret, still signing with the old one.
    writeSecretFile(`# step 1 of ${randomUUID()}\n${OLD}\n${NEW}\n`);
    await waitFor(async () => ((await signedWith(NEW)) === 200 ? true : undefined), {
      timeoutMs: 20_000,
      what: 'a call signed with the new secret to be accepted',
    });
    expect(region.config.regionTrust.secret?.fingerprints()).toEqual([fingerprint(OLD), fingerprint(NEW)]);
    expect(await signedWith(OLD)).toBe(200);

    // Step 2: every region signs with the new secret and still accepts the old one (the regions
    // that have not switched yet sign with it).
    writeSecretFile(`${NEW}\n${OLD}\n`);
    await signsWith(NEW);
    expect([await signedWith(OLD), await signedWith(NEW)]).toEqual([200, 200]);

    // Step 3: the old secret is retired.
    writeSecretFile(`${NEW}\n`);
    await waitFor(async () => ((await signedWith(OLD)) === 401 ? true : undefined), {
      timeoutMs: 20_000,
      what: 'a call signed with the retired secret to be refused',
    });
    expect(await signedWith(NEW)).toBe(200);
  });

  it('keeps its keys when the file becomes unreadable or invalid', async () => {
    const reloader = region.app.get(ClusterSecretReloader);
    writeSecretFile(`${NEW}\n`);
    await reloader.reload();
    for (const broken of ['', 'too-short-to-be-a-secret\n', `${NEW} with spaces\n`]) {
      writeSecretFile(broken);
      await reloader.reload();
      expect(region.config.regionTrust.secret?.fingerprints()).toEqual([fingerprint(NEW)]);
      expect(await signedWith(NEW)).toBe(200);
    }
    rmSync(file);
    await reloader.reload();
    expect(await signedWith(NEW)).toBe(200);
    expect(region.config.regionTrust.secret?.fingerprints()).toEqual([fingerprint(NEW)]);
  });
});
