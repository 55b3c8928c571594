import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { REGION_ID_PATTERN } from '@stockmesh/config';
import { IsDefined, IsLatitude, IsLongitude, IsNumber, IsString, Length, Matches, ValidateIf } from 'class-validator';

/** `PUT /v1/warehouses/{warehouseId}`. */
export class RegisterWarehouseRequest {
  @ApiProperty({ example: 'eu-west', description: 'The owning region; the request is forwarded there.' })
  @IsString()
  @Matches(REGION_ID_PATTERN, { message: 'region must be a region id such as eu-west' })
  readonly region!: string;

  @ApiProperty({ example: 'Frankfurt DC 1', minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  @Matches(/^[^\p{Cc}]*\S[^\p{Cc}]*$/u, { message: 'name must have a visible character and no control characters' })
  readonly name!: string;

  @ApiPropertyOptional({ minimum: -90, maximum: 90, description: 'Given together with longitude.' })
  @ValidateIf((o: RegisterWarehouseRequest) => o.latitude !== undefined || o.longitude !== undefined)
  @IsDefined({ message: 'latitude and longitude go together' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsLatitude()
  readonly latitude?: number;

  @ApiPropertyOptional({ minimum: -180, maximum: 180, description: 'Given together with latitude.' })
  @ValidateIf((o: RegisterWarehouseRequest) => o.latitude !== undefined || o.longitude !== undefined)
  @IsDefined({ message: 'latitude and longitude go together' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @IsLongitude()
  readonly longitude?: number;
}
