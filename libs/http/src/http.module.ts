import { Module } from '@nestjs/common';
import { OwnerRoutingInterceptor, RegionForwarder } from './owner-routing.js';

/** Routing of requests to the owning region. The importer must provide an `OwnerDirectory`. */
@Module({ providers: [RegionForwarder, OwnerRoutingInterceptor], exports: [RegionForwarder, OwnerRoutingInterceptor] })
export class HttpRoutingModule {}
