import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';

export class DeadLetterIdParams {
  @ApiProperty({ example: '0:42', description: '`<partition>:<offset>` in the dead-letter topic, as listed.' })
  @Matches(/^\d{1,5}:\d{1,18}$/, { message: 'id must be <partition>:<offset>' })
  readonly id!: string;
}
