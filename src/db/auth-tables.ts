import type { ColumnType, Generated, Insertable, Selectable } from 'kysely'

/**
 * Kysely tables of migrations/0003_smart_auth.sql (the SMART authorization server), kept apart
 * from database.ts so the auth schema reads in one place; `Database` lists them.
 */

type Timestamp = ColumnType<Date, Date | string, Date | string>
/** A timestamp column with a database default (Kysely's Generated<> does not nest a ColumnType). */
type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>

export type MembershipRole = 'super-admin' | 'tenant-admin' | 'physician' | 'secretary' | 'patient'
export type ClientType = 'public' | 'confidential-symmetric' | 'confidential-asymmetric'

export interface AccountTable {
  account_id: string
  email: string | null
  phone: string | null
  password_hash: string | null
  email_verified_at: NullableTimestamp
  phone_verified_at: NullableTimestamp
  otp_required: Generated<boolean>
  disabled: Generated<boolean>
  created_at: DefaultTimestamp
}

export interface MembershipTable {
  tenant_id: string
  account_id: string
  role: MembershipRole
  fhir_user: string | null
  created_at: DefaultTimestamp
}

export interface AuthorizationCodeTable {
  tenant_id: string
  code_hash: string
  client_id: string
  account_id: string
  redirect_uri: string
  scope: string
  code_challenge: string
  patient: string | null
  encounter: string | null
  fhir_user: string | null
  role: string | null
  nonce: string | null
  auth_time: Timestamp
  expires_at: Timestamp
  used_at: NullableTimestamp
  created_at: DefaultTimestamp
}

export interface RefreshTokenTable {
  tenant_id: string
  token_hash: string
  family_id: string
  client_id: string
  account_id: string | null
  scope: string
  patient: string | null
  encounter: string | null
  fhir_user: string | null
  role: string | null
  offline: boolean
  expires_at: Timestamp
  rotated_at: NullableTimestamp
  revoked_at: NullableTimestamp
  created_at: DefaultTimestamp
}

export interface LaunchContextTable {
  tenant_id: string
  launch_id: string
  client_id: string | null
  patient: string | null
  encounter: string | null
  created_by: string
  expires_at: Timestamp
  created_at: DefaultTimestamp
}

export interface LoginLockoutTable {
  subject: string
  failures: number
  window_started_at: Timestamp
  locked_until: NullableTimestamp
}

export interface OneTimeCodeTable {
  code_id: string
  account_id: string
  purpose: string
  channel: string
  destination: string
  code_hash: string
  attempts: Generated<number>
  expires_at: Timestamp
  consumed_at: NullableTimestamp
  created_at: DefaultTimestamp
}

export interface PasswordResetTable {
  token_hash: string
  account_id: string
  expires_at: Timestamp
  used_at: NullableTimestamp
  created_at: DefaultTimestamp
}

export interface UsedJtiTable {
  tenant_id: string
  client_id: string
  jti: string
  expires_at: Timestamp
}

export interface RevokedTokenTable {
  tenant_id: string
  jti: string
  expires_at: Timestamp
  revoked_at: DefaultTimestamp
}

export type AccountRow = Selectable<AccountTable>
export type NewAccountRow = Insertable<AccountTable>
export type MembershipRow = Selectable<MembershipTable>
export type AuthorizationCodeRow = Selectable<AuthorizationCodeTable>
export type NewAuthorizationCodeRow = Insertable<AuthorizationCodeTable>
export type RefreshTokenRow = Selectable<RefreshTokenTable>
export type NewRefreshTokenRow = Insertable<RefreshTokenTable>
export type LaunchContextRow = Selectable<LaunchContextTable>
export type OneTimeCodeRow = Selectable<OneTimeCodeTable>
