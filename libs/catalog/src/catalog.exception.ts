import { CodedException } from '@stockmesh/contracts';

export enum CatalogErrorCode {
  RegionConflict = 'warehouse-region-conflict',
  UnknownRegion = 'validation-failed',
  ChannelRegionConflict = 'channel-region-conflict',
  ChannelNotFound = 'channel-not-found',
  UnknownChannel = 'unknown-channel',
  UnknownWarehouse = 'unknown-warehouse',
  ChannelForbidden = 'channel-forbidden',
  KitRegionConflict = 'kit-region-conflict',
  KitNotFound = 'kit-not-found',
  KitComponentIsKit = 'kit-component-is-kit',
  KitNotStocked = 'kit-not-stocked',
}

export class CatalogException extends CodedException<`${CatalogErrorCode}`> {
  constructor(code: CatalogErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, extensions);
  }
}
