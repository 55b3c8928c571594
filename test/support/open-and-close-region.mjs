// Starts one region app in this process from the build (dist/), optionally makes a write that
// the relay publishes, closes the app, drops its databases, and then does nothing more: the
// process must end by itself. If something the app started outlives close() (a Kafka client, a
// retry loop, a relay's timer), the process stays alive and the test that spawned it fails.
//
//   node test/support/open-and-close-region.mjs   (environment: the region's settings, and
//   WRITE=1 to write first, or CLOSE_WHEN=commands-connected to close the moment the command
//   consumer has connected: while it is still subscribing and joining its group)
import { loadAppConfig } from '../../dist/libs/config/src/index.js';
import { dropDatabases, provisionDatabases } from '../../dist/libs/persistence/src/index.js';
import { createRegionApp } from '../../dist/apps/region/src/region-app.js';
import { InternalListener } from '../../dist/apps/region/src/internal/internal-listener.js';

const config = loadAppConfig(process.env);
const databases = config.region.databases.map((d) => d.url);
await provisionDatabases(config.region.databases);
const app = await createRegionApp(config, { swaggerUi: false });
const commandsConnected =
  process.env.CLOSE_WHEN === 'commands-connected'
    ? new Promise((resolve) => {
        const [commands] = app.getMicroservices();
        if (!commands) throw new Error('the app has no command consumer (is replication on?)');
        commands.status.subscribe((status) => status === 'connected' && resolve());
      })
    : undefined;
try {
  await app.listen(0, '127.0.0.1');
  // The internal listener too: its server must not outlive close() either.
  await app.get(InternalListener).listen(0, '127.0.0.1');
  if (process.env.WRITE === '1') {
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const headers = {
      'content-type': 'application/json',
      ...(process.env.AUTHORIZATION ? { authorization: process.env.AUTHORIZATION } : {}),
    };
    const put = await fetch(`${url}/v1/warehouses/nyc-1`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ region: 'us-east', name: 'New York 1' }),
    });
    if (put.status !== 201) throw new Error(`the write answered ${put.status}: ${await put.text()}`);
    // Published once the outbox is empty: the producer and the relay are in use.
    const deadline = Date.now() + 60_000;
    for (let pending = -1; pending !== 0;) {
      if (Date.now() > deadline) throw new Error(`the outbox was not published within 60 s (${pending} pending)`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      pending = (await (await fetch(`${url}/v1/cluster`, { headers })).json()).outboxPending;
    }
  }
  await commandsConnected;
  console.log('closing');
} finally {
  await app.close();
  await dropDatabases(databases);
}
console.log('closed');
