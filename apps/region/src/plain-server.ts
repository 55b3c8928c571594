import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Binds `server` to `port` on `host`; rejects if the port is taken (instead of an unhandled 'error'). */
export async function bind(server: Server, port: number, host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The base URL a bound server answers at (the port actually bound, loopback for a wildcard address). */
export function baseUrlOf(server: Server | undefined, what: string): string {
  const address = server?.address() as AddressInfo | null | undefined;
  if (!address) throw new Error(`${what} is not listening`);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
}
