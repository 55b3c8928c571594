import { ApiProperty } from '@nestjs/swagger';
import { TRANSFER_ID_PATTERN } from '@stockmesh/contracts';
import { Matches } from 'class-validator';

export class TransferIdParams {
  @ApiProperty({ example: 'us-east.0f8fad5b-d9cb-469f-a165-70867728950e' })
  @Matches(TRANSFER_ID_PATTERN, { message: 'id must be <region>.<uuid>' })
  readonly id!: string;
}
