import { CodedException } from '@stockmesh/contracts';

export enum CatalogErrorCode {
  RegionConflict = 'warehouse-region-conflict',
  UnknownRegion = 'validation-failed',
}

export class CatalogException extends CodedException<`${CatalogErrorCode}`> {
  constructor(code: CatalogErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, extensions);
  }
}
