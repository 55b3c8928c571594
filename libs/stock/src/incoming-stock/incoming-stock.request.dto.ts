import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EXPECTED_DATE_PATTERN, IDENTIFIER_PATTERN, MAX_QUANTITY } from '@stockmesh/contracts';
import { IsBoolean, IsInt, IsISO8601, IsOptional, Matches, Max, Min } from 'class-validator';
import { StockKeyParams } from '../stock-key.params.js';

/** `{warehouseId}`, `{sku}` and `{receiptId}` of the incoming-stock routes. */
export class IncomingReceiptParams extends StockKeyParams {
  @ApiProperty({ pattern: IDENTIFIER_PATTERN.source, example: 'po-4471', description: 'The purchase order or shipping notice.' })
  @Matches(IDENTIFIER_PATTERN, { message: `receiptId must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit` })
  readonly receiptId!: string;
}

/** `PUT /v1/warehouses/{warehouseId}/stock/{sku}/incoming/{receiptId}`. */
export class ExpectIncomingRequest {
  @ApiProperty({ minimum: 1, maximum: MAX_QUANTITY, example: 120, description: 'Units still expected on this receipt.' })
  @IsInt()
  @Min(1)
  @Max(MAX_QUANTITY)
  readonly quantity!: number;

  @ApiProperty({
    format: 'date',
    pattern: EXPECTED_DATE_PATTERN.source,
    example: '2026-12-24',
    description: 'The expected day of arrival.',
  })
  @Matches(EXPECTED_DATE_PATTERN, { message: 'expectedAt must be a day, YYYY-MM-DD' })
  @IsISO8601({ strict: true }, { message: 'expectedAt must be a real day' })
  readonly expectedAt!: string;
}

/** `POST /v1/warehouses/{warehouseId}/stock/{sku}/incoming/{receiptId}/receive`. */
export class ReceiveIncomingRequest {
  @ApiProperty({
    minimum: 1,
    maximum: MAX_QUANTITY,
    example: 60,
    description: 'Units received: they go on hand. More than the receipt expects is taken all the same (and closes it).',
  })
  @IsInt()
  @Min(1)
  @Max(MAX_QUANTITY)
  readonly quantity!: number;

  @ApiPropertyOptional({
    default: false,
    description: 'Close the receipt whatever it still expects: the rest will not come (a short delivery).',
  })
  @IsOptional()
  @IsBoolean()
  readonly close?: boolean;
}
