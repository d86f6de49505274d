import { EntitySchema, type EntitySchemaColumnOptions } from 'typeorm';
import { epochMillis, jsonText } from '../columns.js';

type Column = EntitySchemaColumnOptions;

/**
 * One sign-in attempt kept by the stored tracer, its attribute values already redacted: the raw
 * values the identity provider sent are never written.
 */
export interface JitSignInTrace {
  /** UUIDv7 of the attempt's time: orders attempts of one millisecond. */
  id: string;
  connectionId: string;
  tenantId: string | null;
  at: Date;
  subject: string | null;
  outcome: string;
  ok: boolean;
  hint: string | null;
  roles: string[] | null;
  test: boolean;
  /** Attribute names with their values as the redaction policy shows them. */
  attributes: Record<string, string[]>;
  /** The profile's protocol, issuer, subject format and `email_verified`, when one was read. */
  profile: {
    protocol: string;
    issuer: string;
    subjectFormat: string | null;
    emailVerified: boolean | null;
  } | null;
}

export const signInTraceColumns = {
  id: { type: 'varchar', length: 36, primary: true },
  connectionId: { name: 'connection_id', type: 'varchar', length: 128 },
  tenantId: { name: 'tenant_id', type: 'varchar', length: 128, nullable: true },
  at: { name: 'at', type: 'bigint', transformer: epochMillis },
  subject: { name: 'subject', type: 'varchar', length: 512, nullable: true },
  outcome: { name: 'outcome', type: 'varchar', length: 64 },
  ok: { name: 'ok', type: 'boolean' },
  hint: { name: 'hint', type: 'text', nullable: true },
  roles: { name: 'roles', type: 'text', nullable: true, transformer: jsonText },
  test: { name: 'test', type: 'boolean' },
  attributes: { name: 'attributes', type: 'text', transformer: jsonText },
  profile: { name: 'profile', type: 'text', nullable: true, transformer: jsonText },
} as const satisfies Record<string, Column>;

export const JitSignInTraceEntity = new EntitySchema<JitSignInTrace>({
  name: 'JitSignInTrace',
  tableName: 'jit_sign_in_traces',
  columns: signInTraceColumns,
  indices: [
    // A connection's attempts newest first, and its rows past the cap.
    { name: 'IDX_jit_sign_in_traces_connection_at', columns: ['connectionId', 'at', 'id'] },
    // Attempts past the retention, whatever their connection.
    { name: 'IDX_jit_sign_in_traces_at', columns: ['at'] },
  ],
});

export const signInTraceEntities: EntitySchema[] = [JitSignInTraceEntity] as EntitySchema[];
