import { OptionalChannelField } from '@stockmesh/catalog';

/** What `?channel=` (and a query's `channel`) means for availability. */
export const AVAILABILITY_CHANNEL = 'Only the warehouses this sales channel sells from count, listed in its order.';

/** `?channel=`: availability limited to a sales channel's warehouses. */
export class AvailabilityChannelQuery {
  @OptionalChannelField(AVAILABILITY_CHANNEL)
  readonly channel?: string;
}
