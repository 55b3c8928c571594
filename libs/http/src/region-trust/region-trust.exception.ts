import { CodedException } from '@stockmesh/contracts';

type RegionTrustCode = 'region-unauthenticated' | 'not-found';

/** A region-to-region call that is not authentic, or an internal route asked for on the public port. */
export class RegionTrustException extends CodedException<RegionTrustCode> {
  constructor(code: RegionTrustCode, message: string) {
    super(code, message);
  }
}
