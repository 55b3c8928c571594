import { ApiProperty } from '@nestjs/swagger';

/** What a rebuild of replicas did. */
export class ReplicasRebuiltView {
  @ApiProperty({ example: 'us-east', description: 'The region whose replicas were rebuilt.' }) readonly region!: string;
  @ApiProperty({ type: [String], example: ['eu-west', 'ap-south'], description: 'The owners whose rows were rebuilt.' })
  readonly sources!: string[];
  @ApiProperty({ example: 16, description: 'Shards rebuilt (every one).' }) readonly shards!: number;
  @ApiProperty({ description: 'The owners’ rows read from the state topic.' }) readonly rowsRead!: number;
  @ApiProperty({ description: 'Replica rows inserted, replaced or deleted to match them.' }) readonly rowsRepaired!: number;
  @ApiProperty({ description: 'How long it took, in milliseconds.' }) readonly ms!: number;
}
