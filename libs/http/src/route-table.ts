/**
 * The methods each route answers, learned from Fastify's `onRoute` hook. Fastify answers a method
 * that no route of a known path takes with a 404; this table lets the edge answer 405 with an
 * `Allow` header instead.
 */
export class RouteTable {
  private readonly routes = new Map<string, { readonly pattern: RegExp; readonly methods: Set<string> }>();

  /** Records that `url` (Fastify's route syntax) answers `method`. */
  add(method: string | readonly string[], url: string): void {
    let route = this.routes.get(url);
    if (!route) {
      route = { pattern: patternOf(url), methods: new Set() };
      this.routes.set(url, route);
    }
    for (const m of typeof method === 'string' ? [method] : method) route.methods.add(m.toUpperCase());
  }

  /** The methods some route answers at `path` (without its query string), sorted; empty when none. */
  methodsAt(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.routes.values()) if (route.pattern.test(path)) for (const m of route.methods) methods.add(m);
    return [...methods].sort();
  }
}

/**
 * A route's path as a regular expression: `:name` is one path segment, `*` anything. A route
 * with a regular-expression parameter (`:id(^\d+)`, which no stockmesh route uses) only matches
 * its own literal text, so it keeps answering 404.
 */
function patternOf(url: string): RegExp {
  const source = url
    .split(/(:[A-Za-z0-9_]+|\*)/)
    .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}
