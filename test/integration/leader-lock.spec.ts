import { describe, expect, it } from '@jest/globals';
import { LeaderLock } from '@stockmesh/persistence';
import { testDatabaseUrl } from '@stockmesh/testing';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

// Leadership of a periodic job among a region's instances, on the real PostgreSQL: one leader at
// a time, and a leader whose session ends (its process was killed) hands over at the next ask.
describe('LeaderLock', () => {
  it('lets one instance lead, and another take over once the leader’s session ends', async () => {
    const job = `test ${randomUUID()}`;
    const first = new LeaderLock(testDatabaseUrl(), job);
    const second = new LeaderLock(testDatabaseUrl(), job);
    const admin = new pg.Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    try {
      expect(await first.lead()).toBe(true);
      expect(await second.lead()).toBe(false);
      // Asking again while leading keeps the lead.
      expect(await first.lead()).toBe(true);
      expect(await second.lead()).toBe(false);

      // What PostgreSQL sees when the leading process is SIGKILLed: its session ends.
      const ended = await admin.query(`SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = $1`, [
        `stockmesh leader ${job}`,
      ]);
      expect(ended.rows).toEqual([{ ended: true }]);
      await waitForSessionEnd(admin, job);
      expect(await second.lead()).toBe(true);
      // The old leader notices it lost its session, and now competes like any other instance.
      expect(await first.lead()).toBe(false);

      await second.release();
      expect(await first.lead()).toBe(true);
    } finally {
      await first.release();
      await second.release();
      await admin.end();
    }
  });
});

/** The terminated backend may take a moment to go: wait until no session of the job's application remains but the new ones. */
async function waitForSessionEnd(admin: pg.Client, job: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1`, [
      `stockmesh leader ${job}`,
    ]);
    if (rows[0].n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the terminated session did not end');
}
