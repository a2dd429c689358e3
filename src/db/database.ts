import type { ColumnType, Generated, Insertable, Selectable } from 'kysely'
import type {
  AccountTable,
  AuthorizationCodeTable,
  ClientType,
  LaunchContextTable,
  LoginLockoutTable,
  MembershipTable,
  OneTimeCodeTable,
  PasswordResetTable,
  RefreshTokenTable,
  RevokedTokenTable,
  UsedJtiTable,
} from './auth-tables.js'
import type { AsyncJobTable } from './job-tables.js'

/** Kysely schema: mirrors migrations/*.sql (a test compares the two through introspection). */
export interface Database {
  tenant: TenantTable
  resource: ResourceTable
  resource_history: ResourceHistoryTable
  resource_live_count: ResourceLiveCountTable
  oauth_client: OAuthClientTable
  signing_key: SigningKeyTable
  account: AccountTable
  membership: MembershipTable
  authorization_code: AuthorizationCodeTable
  refresh_token: RefreshTokenTable
  launch_context: LaunchContextTable
  login_lockout: LoginLockoutTable
  one_time_code: OneTimeCodeTable
  password_reset: PasswordResetTable
  used_jti: UsedJtiTable
  revoked_token: RevokedTokenTable
  search_string: SearchStringTable
  search_token: SearchTokenTable
  search_reference: SearchReferenceTable
  search_date: SearchDateTable
  search_date_span: SearchDateSpanTable
  search_number: SearchNumberTable
  search_quantity: SearchQuantityTable
  search_uri: SearchUriTable
  search_sort: SearchSortTable
  search_text: SearchTextTable
  async_job: AsyncJobTable
}

type Timestamp = ColumnType<Date, Date | string, Date | string>

export interface TenantTable {
  tenant_id: string
  name: string
  organization_id: string
  created_at: Generated<Timestamp>
}

export interface ResourceTable {
  tenant_id: string
  resource_type: string
  id: string
  version_id: number
  last_updated: Timestamp
  deleted: Generated<boolean>
  content: string
}

/** Changes of each type's live count, added by triggers; the sum is the count (migrations/0015_live_count_deltas.sql; resources/search/live-count.ts). */
export interface ResourceLiveCountTable {
  tenant_id: string
  resource_type: string
  /** bigint: pg returns it as a string. */
  n: ColumnType<string, string | number, never>
}

export interface ResourceHistoryTable {
  tenant_id: string
  resource_type: string
  id: string
  version_id: number
  last_updated: Timestamp
  deleted: Generated<boolean>
  method: string
  content: string
  seq: ColumnType<string, never, never>
}

export interface OAuthClientTable {
  tenant_id: string
  client_id: string
  name: string
  /** Null for public and JWKS (confidential-asymmetric) clients. */
  secret_hash: string | null
  scope: string
  created_at: Generated<Timestamp>
  client_type: Generated<ClientType>
  redirect_uris: Generated<string[]>
  jwks: string | null
  jwks_uri: string | null
  launch_uri: string | null
  all_tenants: Generated<boolean>
}

export interface SigningKeyTable {
  kid: string
  alg: string
  private_jwk: string
  public_jwk: string
  created_at: Generated<Timestamp>
}

/** Columns every search index table starts with (migrations/0002_search_indexes.sql). */
interface SearchIndexKey {
  tenant_id: string
  resource_type: string
  id: string
  param: string
  ord: Generated<number>
  /** search_key(tenant_id, resource_type, param), which leads the lookup indexes (migrations/0019_lookup_key.sql); int8 as text. */
  pkey: string
}

export interface SearchStringTable extends SearchIndexKey {
  value: string
  exact: string
}

export interface SearchTokenTable extends SearchIndexKey {
  system: string | null
  code: string | null
  display: string | null
  type_system: string | null
  type_code: string | null
}

export interface SearchReferenceTable extends SearchIndexKey {
  ref_type: string | null
  ref_id: string
}

export interface SearchDateTable extends SearchIndexKey {
  low: Timestamp
  high: Timestamp
}

/** Spans of each date parameter's rows, added as they grow; the longest is the max (migrations/0014_date_span.sql; resources/date-span-sql.ts). */
export interface SearchDateSpanTable {
  tenant_id: string
  resource_type: string
  param: string
  /** Seconds; Infinity for a range with an open end. */
  max_span: number
}

/** numeric columns arrive as strings (exact decimals). */
export interface SearchNumberTable extends SearchIndexKey {
  low: string
  high: string
}

export interface SearchQuantityTable extends SearchIndexKey {
  low: string
  high: string
  system: string | null
  code: string | null
  unit: string | null
}

export interface SearchUriTable extends SearchIndexKey {
  value: string
}

export interface SearchSortTable {
  tenant_id: string
  resource_type: string
  id: string
  param: string
  lo: string
  hi: string
}

/** Full-text words of `_text` / `_content`, one row per resource and parameter (migrations/0009_search_text.sql). */
export interface SearchTextTable {
  tenant_id: string
  resource_type: string
  id: string
  param: string
  words: string
}

export type TenantRow = Selectable<TenantTable>
export type ResourceRow = Selectable<ResourceTable>
export type NewResourceRow = Insertable<ResourceTable>
export type ResourceHistoryRow = Selectable<ResourceHistoryTable>
export type OAuthClientRow = Selectable<OAuthClientTable>
export type NewOAuthClientRow = Insertable<OAuthClientTable>
export type SigningKeyRow = Selectable<SigningKeyTable>
