import { CodedException } from '@stockmesh/contracts';

export enum CatalogErrorCode {
  RegionConflict = 'warehouse-region-conflict',
  UnknownRegion = 'validation-failed',
  ChannelRegionConflict = 'channel-region-conflict',
  ChannelNotFound = 'channel-not-found',
  UnknownChannel = 'unknown-channel',
  UnknownWarehouse = 'unknown-warehouse',
  ChannelForbidden = 'channel-forbidden',
}

export class CatalogException extends CodedException<`${CatalogErrorCode}`> {
  constructor(code: CatalogErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, extensions);
  }
}
