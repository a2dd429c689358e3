import type { ColumnType, Generated, Insertable, Selectable } from 'kysely'

/** Kysely schema: mirrors migrations/*.sql (a test compares the two through introspection). */
export interface Database {
  tenant: TenantTable
  resource: ResourceTable
  resource_history: ResourceHistoryTable
  oauth_client: OAuthClientTable
  signing_key: SigningKeyTable
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
  secret_hash: string
  scope: string
  created_at: Generated<Timestamp>
}

export interface SigningKeyTable {
  kid: string
  alg: string
  private_jwk: string
  public_jwk: string
  created_at: Generated<Timestamp>
}

export type TenantRow = Selectable<TenantTable>
export type ResourceRow = Selectable<ResourceTable>
export type NewResourceRow = Insertable<ResourceTable>
export type ResourceHistoryRow = Selectable<ResourceHistoryTable>
export type OAuthClientRow = Selectable<OAuthClientTable>
export type NewOAuthClientRow = Insertable<OAuthClientTable>
export type SigningKeyRow = Selectable<SigningKeyTable>
