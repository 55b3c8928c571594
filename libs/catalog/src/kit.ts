import { ApiProperty } from '@nestjs/swagger';
import { MAX_KIT_COMPONENT_QUANTITY } from '@stockmesh/contracts';

export class KitComponentView {
  @ApiProperty({ example: 'LENS-50' }) readonly sku!: string;
  @ApiProperty({ minimum: 1, maximum: MAX_KIT_COMPONENT_QUANTITY, example: 1, description: 'Units of the component one kit takes.' })
  readonly quantity!: number;
}

/** A kit (bundle) as the API shows it: a SKU whose units are its components. */
export class KitView {
  @ApiProperty({ example: 'CAMERA-KIT' }) readonly sku!: string;
  @ApiProperty({ example: 'eu-west', description: 'The region that defines the kit and is the only one that changes it.' })
  readonly region!: string;
  @ApiProperty({ type: [KitComponentView], description: 'What one unit of the kit takes, in the order it was defined.' })
  readonly components!: KitComponentView[];
  @ApiProperty({ description: 'Bumped by the owning region on every change.' }) readonly version!: number;
  @ApiProperty({ format: 'date-time' }) readonly createdAt!: string;
  @ApiProperty({ format: 'date-time' }) readonly updatedAt!: string;
}

export class KitListView {
  @ApiProperty({ type: [KitView] }) readonly items!: KitView[];
}
