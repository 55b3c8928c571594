import { ApiProperty } from '@nestjs/swagger';
import { IDENTIFIER_PATTERN, MAX_QUANTITY } from '@stockmesh/contracts';
import { IsInt, Matches, Max, Min, ValidateBy, type ValidationArguments } from 'class-validator';

const ID_RULE = `1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`;

/** `toWarehouseId` must name another warehouse than `fromWarehouseId`. */
function DiffersFrom(property: string): PropertyDecorator {
  return ValidateBy({
    name: 'differsFrom',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) => value !== (args?.object as Record<string, unknown> | undefined)?.[property],
      defaultMessage: (args?: ValidationArguments) => `${args?.property ?? 'the value'} must differ from ${property}`,
    },
  });
}

/** `POST /v1/transfers`. */
export class CreateTransferRequest {
  @ApiProperty({ example: 'SKU-1' })
  @Matches(IDENTIFIER_PATTERN, { message: `sku must be ${ID_RULE}` })
  readonly sku!: string;

  @ApiProperty({ example: 'nyc-1', description: 'Where the units leave; its owning region serves the request.' })
  @Matches(IDENTIFIER_PATTERN, { message: `fromWarehouseId must be ${ID_RULE}` })
  readonly fromWarehouseId!: string;

  @ApiProperty({ example: 'fra-1', description: 'Where the units arrive: another warehouse, in any region.' })
  @Matches(IDENTIFIER_PATTERN, { message: `toWarehouseId must be ${ID_RULE}` })
  @DiffersFrom('fromWarehouseId')
  readonly toWarehouseId!: string;

  @ApiProperty({ minimum: 1, maximum: MAX_QUANTITY, example: 12 })
  @IsInt()
  @Min(1)
  @Max(MAX_QUANTITY)
  readonly quantity!: number;
}
