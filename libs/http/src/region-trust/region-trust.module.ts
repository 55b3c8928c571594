import { Global, Module } from '@nestjs/common';
import { RegionCaller } from './region-caller.js';
import { RegionRequestVerifier } from './region-request-verifier.js';
import { RegionSigner } from './region-signer.js';

/** Signing (and making) this region's calls to others, and checking theirs (one replay cache per process). */
@Global()
@Module({ providers: [RegionSigner, RegionCaller, RegionRequestVerifier], exports: [RegionSigner, RegionCaller, RegionRequestVerifier] })
export class RegionTrustModule {}
