import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { API_KEY_NAME_PATTERN, API_SCOPES, IDENTIFIER_PATTERN, type ApiScope } from '@stockmesh/contracts';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsOptional, IsString, Matches } from 'class-validator';

/** `POST /v1/api-keys`. */
export class CreateApiKeyRequest {
  @ApiProperty({ example: 'storefront', minLength: 1, maxLength: 64, description: 'Recorded with the key id as the actor of its changes.' })
  @IsString()
  @Matches(API_KEY_NAME_PATTERN, { message: 'name must be 1-64 printable ASCII characters with a visible one' })
  readonly name!: string;

  @ApiProperty({ enum: API_SCOPES, isArray: true, minItems: 1, example: ['stock:read', 'reservations:write'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(API_SCOPES.length)
  @ArrayUnique()
  @IsIn(API_SCOPES, { each: true, message: `each scope must be one of ${API_SCOPES.join(', ')}` })
  readonly scopes!: ApiScope[];

  // Not the catalog's OptionalChannelField: the catalog's controllers depend on this library.
  @ApiPropertyOptional({
    pattern: IDENTIFIER_PATTERN.source,
    example: 'web-eu',
    description: 'Binds the key to a sales channel: its availability and reservations are that channel’s, and it may name no other.',
  })
  @IsOptional()
  @Matches(IDENTIFIER_PATTERN, {
    message: `channel must be a channel id: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
  })
  readonly channel?: string;
}
