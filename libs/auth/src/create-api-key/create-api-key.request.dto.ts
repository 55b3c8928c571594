import { ApiProperty } from '@nestjs/swagger';
import { API_KEY_NAME_PATTERN, API_SCOPES, type ApiScope } from '@stockmesh/contracts';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsString, Matches } from 'class-validator';

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
}
