import pg from 'pg';

/**
 * Leadership of one periodic job among the instances of a region: a PostgreSQL session advisory
 * lock, held on a connection of its own (outside the pools) for as long as this process leads.
 * Only the leader runs the job's passes; the others ask again before each of theirs. A leader
 * that dies (SIGKILL, a lost host) loses its session and with it the lock, so the next instance
 * to ask takes over; no lease to wait out.
 *
 * For jobs whose passes are correct but wasteful when several run at once (each instance would
 * otherwise ask every coordinator about the same holds, or publish the same digests). Jobs whose
 * rows can be claimed one by one use FOR UPDATE SKIP LOCKED instead, which shares their work.
 * Between a leader's check and its pass, its session could end and another instance take the
 * lock, so for one pass two may run: the jobs that use this must stay correct if that happens.
 */
export class LeaderLock {
  private client?: pg.Client;

  /**
   * @param url the database whose lock space holds the lock (the region's home database)
   * @param job the job's name: instances asking for the same name compete for one lock
   */
  constructor(
    private readonly url: string,
    private readonly job: string,
  ) {}

  /** Whether this process leads the job now: it held the lock and its session is alive, or it took the lock just now. */
  async lead(): Promise<boolean> {
    const held = this.client;
    if (held) {
      try {
        await held.query('SELECT 1');
        return true;
      } catch {
        // The session is gone, and its lock with it: compete again like any other instance.
        await this.release();
      }
    }
    const client = new pg.Client({ connectionString: this.url, application_name: `stockmesh leader ${this.job}` });
    // A connection that breaks while idle is noticed by the next lead(); no unhandled 'error'.
    client.on('error', () => undefined);
    await client.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>(
        `SELECT pg_try_advisory_lock(hashtext('stockmesh leader'), hashtext($1)) AS locked`,
        [this.job],
      );
      if (rows[0]?.locked) {
        this.client = client;
        return true;
      }
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    await client.end();
    return false;
  }

  /** Gives the leadership up (ending the session releases the lock). */
  async release(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
