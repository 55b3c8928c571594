import { Global, Module } from '@nestjs/common';
import { RegionRequestVerifier } from './region-request-verifier.js';
import { RegionSigner } from './region-signer.js';

/** Signing this region's calls to others, and checking theirs (one replay cache per process). */
@Global()
@Module({ providers: [RegionSigner, RegionRequestVerifier], exports: [RegionSigner, RegionRequestVerifier] })
export class RegionTrustModule {}
