import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { RepeatingTask } from '@stockmesh/config';
import { ShardDatabases } from '../shard-databases.service.js';
import { ShardMover } from './shard-mover.js';

/** How often each instance looks for a shard move that stopped half-way. */
const RECOVERY_MS = 30_000;

/**
 * Finishes or undoes, every 30 s, a shard move that stopped half-way (its process died, or its
 * undo failed): otherwise its shards could stay fenced, refusing writes, until an operator moved
 * shards again. One query on the home database when there is none; one instance at a time acts
 * (the moves' advisory lock), never while a move runs.
 */
@Injectable()
export class ShardMoveRecovery implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ShardMoveRecovery.name);
  private readonly task: RepeatingTask;

  constructor(databases: ShardDatabases) {
    const mover = new ShardMover(databases);
    this.task = new RepeatingTask(
      async () => {
        if (await mover.recover()) this.logger.warn({ msg: 'finished or undid a shard move that had stopped' });
      },
      RECOVERY_MS,
      (error) => this.logger.warn({ msg: 'could not recover a stopped shard move; retrying', err: error.message }),
    );
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }
}
