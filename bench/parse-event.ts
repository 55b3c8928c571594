// `npm run bench:parse`: CPU per `stock.changed` record in `parseEvent` (what the replicator does
// with every record), with the fast path, beside the class-validator path it replaces (the same
// records through plainToInstance + validateSync). One process, no cluster; prints, asserts nothing.
//   BENCH_EVENTS  records parsed per round (default 20,000); three rounds each, the first a warm-up
import { EVENT_TYPES, newEvent, parseEvent, StockChangedData, toKafkaRecord } from '@stockmesh/contracts';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { machine, positiveInt, say, sayLoad, table } from './bench-support.js';

const count = positiveInt('BENCH_EVENTS', 20_000);
const records = Array.from({ length: count }, (_, i) => {
  const data: StockChangedData = {
    warehouseId: `bench-${i % 6}`,
    sku: `C-${String(i % 2000).padStart(4, '0')}`,
    region: 'us-east',
    shard: i % 16,
    onHand: 100_000,
    reserved: i % 50,
    version: i + 1,
    updatedAt: new Date(1_765_000_000_000 + i).toISOString(),
    cause: { kind: 'hold', delta: 0, reason: 'reservation', movementId: randomUUID(), actor: `reservation:us-east.${randomUUID()}` },
  };
  const event = newEvent({ source: 'us-east', type: EVENT_TYPES.stockChanged, time: data.updatedAt, subject: `x/${data.sku}`, data });
  return toKafkaRecord(event, data.sku);
});

/** CPU microseconds per record of `work` over every record, the best of two rounds after a warm-up. */
function perRecord(work: (record: (typeof records)[number]) => void): number {
  const rounds: number[] = [];
  for (let round = 0; round < 3; round++) {
    const start = process.cpuUsage();
    for (const record of records) work(record);
    const used = process.cpuUsage(start);
    rounds.push((used.user + used.system) / count);
  }
  return Math.min(rounds[1], rounds[2]);
}

const fast = perRecord((record) => void parseEvent(record, [EVENT_TYPES.stockChanged]));
const validated = perRecord((record) => {
  const plain: unknown = JSON.parse(String(record.value));
  if (validateSync(plainToInstance(StockChangedData, plain) as object, { forbidUnknownValues: true }).length > 0)
    throw new Error('invalid');
});
sayLoad();
say(`${count} stock.changed records, CPU per record (best of rounds 2 and 3):`);
console.log(
  table([
    [
      'parseEvent (headers, JSON, fast path)',
      `${fast.toFixed(1)} µs (${Math.round(1e6 / fast).toLocaleString('en')} records/s on one core)`,
    ],
    [
      'JSON + plainToInstance + validateSync (the path it replaces)',
      `${validated.toFixed(1)} µs (${Math.round(1e6 / validated).toLocaleString('en')} records/s on one core)`,
    ],
  ]),
);
console.log(table(machine('not used').filter(([name]) => name !== 'kafka' && name !== 'postgresql')));
