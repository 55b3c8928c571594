import type { Command } from 'commander';
import { answer, type StockmeshApi } from '../api-client.js';
import { printTable, show, type Output } from '../output.js';
import { integer } from './arguments.js';

/** `dead-letters list|replay`: the records the region asked refused, and running one again once its cause is fixed. */
export function deadLettersCommand(program: Command, api: () => StockmeshApi, output: () => Output): void {
  const deadLetters = program.command('dead-letters').description('records the region’s consumers refused (the dead-letter topic)');
  deadLetters
    .command('list')
    .description('the dead letters the region asked wrote, newest first')
    .option('--limit <n>', 'at most this many (1-200)', integer, 50)
    .action(async (options: { limit: number }) => {
      const { data } = await answer(api().GET('/v1/dead-letters', { params: { query: { limit: options.limit } } }));
      show(output(), data, (page) => {
        printTable(
          ['id', 'consumer', 'from', 'type', 'dead-lettered', 'replay', 'reason'],
          page.items.map((l) => [
            l.id,
            l.consumer,
            `${l.topic}/${l.partition}@${l.offset}`,
            l.type ?? null,
            l.deadLetteredAt,
            l.replayed ? 'replayed' : !l.replayable ? 'not replayable' : (l.lastReplay?.outcome ?? 'replayable'),
            l.reason,
          ]),
        );
        if (page.truncated) process.stderr.write(`only the newest ${page.scanned} records of the dead-letter topic were read\n`);
      });
    });
  deadLetters
    .command('replay')
    .description('runs a dead letter again through the consumer that refused it (once; 422 when it is refused again)')
    .argument('<id>', '<partition>:<offset>, as listed')
    .action(async (id: string) => {
      const { data } = await answer(api().POST('/v1/dead-letters/{id}/replay', { params: { path: { id } } }));
      show(output(), data, (r) => process.stdout.write(`dead letter ${r.id} ${r.outcome}: ${r.detail}\n`));
    });
}
