import type { AppConfig } from '@stockmesh/config';
import { CatalogErrorCode, CatalogException } from './catalog.exception.js';

/**
 * Refuses a catalog entry (warehouse or channel) that names a region other than this one: the
 * request was routed here by that field, so another value means a region outside the cluster.
 */
export function checkOwnRegion(config: AppConfig, region: string): void {
  if (region === config.region.id) return;
  throw new CatalogException(CatalogErrorCode.UnknownRegion, `region ${region} is not in this cluster`, {
    errors: [
      {
        field: 'region',
        constraint: 'isIn',
        message: `region must be one of ${config.cluster.regions.map((r) => r.id).join(', ')}`,
      },
    ],
  });
}
