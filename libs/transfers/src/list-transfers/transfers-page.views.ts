import { ApiProperty } from '@nestjs/swagger';
import { TransferView } from '../transfer.views.js';

/** One page of the transfers a region recorded as their source, newest first. */
export class TransfersPageView {
  @ApiProperty({ example: 'us-east', description: 'The region that answered: its transfers are those whose source warehouse it owns.' })
  readonly servedBy!: string;
  @ApiProperty({ type: [TransferView], description: 'Newest first (by creation time, then id).' }) readonly items!: TransferView[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page.' })
  readonly nextCursor!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The path and query of the next page; null on the last page.' })
  readonly next!: string | null;
}
