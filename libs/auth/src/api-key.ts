import { ApiProperty } from '@nestjs/swagger';
import { API_SCOPES, type ApiScope } from '@stockmesh/contracts';

/** An API key as the API lists it: never its secret. */
export class ApiKeyView {
  @ApiProperty({ example: '3f9a0c1e2b4d5e6f' }) readonly id!: string;
  @ApiProperty({ example: 'storefront' }) readonly name!: string;
  @ApiProperty({ enum: API_SCOPES, isArray: true, example: ['stock:read', 'reservations:write'] }) readonly scopes!: ApiScope[];
  @ApiProperty({ example: 'us-east', description: 'The region where the key was made; it works in every region.' })
  readonly region!: string;
  @ApiProperty({ format: 'date-time' }) readonly createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When it was revoked; null while it is valid.' })
  readonly revokedAt!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'The sales channel the key is bound to: its availability and reservations are that channel’s. null: not bound.',
  })
  readonly channel!: string | null;
}

/** The answer to making a key: the only time its secret is shown. */
export class CreatedApiKeyView extends ApiKeyView {
  @ApiProperty({
    example: 'smk_3f9a0c1e2b4d5e6f_q3Jm2d0cKx7VvX9hYt1oQeWm8LkR4sTzA6uNfB5gP2c',
    description: 'The key to send as `Authorization: Bearer <key>`. Shown only in this answer; stockmesh keeps only its hash.',
  })
  readonly key!: string;
}

export class ApiKeyListView {
  @ApiProperty({ type: [ApiKeyView] }) readonly items!: ApiKeyView[];
}

/** A stored key: the view plus what the auth check needs. */
export interface ApiKeyRecord extends ApiKeyView {
  readonly secretHash: string;
  readonly version: number;
}
