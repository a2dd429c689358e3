import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sql } from 'kysely'
import type { Db } from '../../src/db/connect.js'
import { openTestDb } from '../setup/db.js'
import { searchKey } from '../../src/resources/indexing/search-key.js'

/** The Kysely `Database` interface must describe what the migrations built. */
const EXPECTED: Record<string, string[]> = {
  tenant: ['tenant_id', 'name', 'organization_id', 'created_at'],
  resource: ['tenant_id', 'resource_type', 'id', 'version_id', 'last_updated', 'deleted', 'content'],
  resource_live_count: ['tenant_id', 'resource_type', 'n'],
  resource_history: ['tenant_id', 'resource_type', 'id', 'version_id', 'last_updated', 'deleted', 'method', 'content', 'seq'],
  oauth_client: ['tenant_id', 'client_id', 'name', 'secret_hash', 'scope', 'created_at', 'client_type', 'redirect_uris', 'jwks', 'jwks_uri', 'launch_uri', 'all_tenants'],
  account: ['account_id', 'email', 'phone', 'password_hash', 'email_verified_at', 'phone_verified_at', 'otp_required', 'disabled', 'created_at'],
  membership: ['tenant_id', 'account_id', 'role', 'fhir_user', 'created_at'],
  authorization_code: ['tenant_id', 'code_hash', 'client_id', 'account_id', 'redirect_uri', 'scope', 'code_challenge', 'patient', 'encounter', 'fhir_user', 'role', 'nonce', 'auth_time', 'expires_at', 'used_at', 'created_at'],
  refresh_token: ['tenant_id', 'token_hash', 'family_id', 'client_id', 'account_id', 'scope', 'patient', 'encounter', 'fhir_user', 'role', 'offline', 'expires_at', 'rotated_at', 'revoked_at', 'created_at'],
  launch_context: ['tenant_id', 'launch_id', 'client_id', 'patient', 'encounter', 'created_by', 'expires_at', 'created_at'],
  login_lockout: ['subject', 'failures', 'window_started_at', 'locked_until'],
  one_time_code: ['code_id', 'account_id', 'purpose', 'channel', 'destination', 'code_hash', 'attempts', 'expires_at', 'consumed_at', 'created_at'],
  password_reset: ['token_hash', 'account_id', 'expires_at', 'used_at', 'created_at'],
  used_jti: ['tenant_id', 'client_id', 'jti', 'expires_at'],
  revoked_token: ['tenant_id', 'jti', 'expires_at', 'revoked_at'],
  signing_key: ['kid', 'alg', 'private_jwk', 'public_jwk', 'created_at'],
  search_string: ['tenant_id', 'resource_type', 'id', 'param', 'ord', 'value', 'exact', 'pkey'],
  search_token: ['tenant_id', 'resource_type', 'id', 'param', 'ord', 'system', 'code', 'display', 'type_system', 'type_code', 'pkey'],
  search_reference: ['tenant_id', 'resource_type', 'id', 'param', 'ord', 'ref_type', 'ref_id', 'pkey'],
  search_date: ['tenant_id', 'resource_type', 'id', 'param', 'ord', 'low', 'high', 'pkey'],
  search_date_span: ['tenant_id', 'resource_type', 'param', 'max_span'],
  search_number: ['tenant_id', 'resource_type', 'id', 'param', 'ord', 'low', 'high', 'pkey'],
  search_quantity: ['tenant_id', 'resource_type', 'id', 'param', 'ord', 'low', 'high', 'system', 'code', 'unit', 'pkey'],
  search_uri: ['tenant_id', 'resource_type', 'id', 'param', 'ord', 'value', 'pkey'],
  search_sort: ['tenant_id', 'resource_type', 'id', 'param', 'lo', 'hi'],
  search_text: ['tenant_id', 'resource_type', 'id', 'param', 'words'],
  async_job: ['tenant_id', 'job_id', 'kind', 'status', 'owner', 'request_url', 'progress_done', 'progress_total', 'progress_message', 'result', 'error', 'created_at', 'started_at', 'heartbeat_at', 'finished_at', 'last_polled_at'],
}

describe('migrations', () => {
  let db: Db
  beforeAll(async () => {
    db = await openTestDb({ poolSize: 1 })
  })
  afterAll(() => db.close())

  it('create exactly the tables and columns of db/database.ts', async () => {
    const tables = await db.db.introspection.getTables()
    const actual = Object.fromEntries(
      tables.filter((t) => !t.name.startsWith('kysely_')).map((t) => [t.name, t.columns.map((c) => c.name).sort()]),
    )
    expect(actual).toEqual(Object.fromEntries(Object.entries(EXPECTED).map(([k, v]) => [k, [...v].sort()])))
  })

  it('key every tenant table on tenant_id first', async () => {
    const { rows } = await sql<{ table_name: string; first: string }>`
      SELECT c.relname AS table_name, a.attname AS first
      FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
      WHERE i.indisprimary AND c.relname IN ('resource', 'resource_history', 'oauth_client')`.execute(db.db)
    expect(rows.map((r) => r.first)).toEqual(['tenant_id', 'tenant_id', 'tenant_id'])
  })

  it('lead every search lookup index with its key (tenant, type, param), and key every per-resource index on id', async () => {
    const { rows } = await sql<{ index_name: string; columns: string[]; keys: number; options: string[] | null }>`
      SELECT ic.relname AS index_name, ic.reloptions AS options, i.indnkeyatts AS keys,
        ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n) JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum ORDER BY k.n) AS columns
      FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
      WHERE c.relname LIKE 'search\\_%' AND i.indkey[0] <> 0`.execute(db.db)
    expect(rows.length).toBeGreaterThanOrEqual(17)
    const keyed = new Set(['search_string', 'search_token', 'search_reference', 'search_date', 'search_number', 'search_quantity', 'search_uri'])
    const tableOf = (name: string) => name.replace(/_(lookup|resource|high|asc|desc)$/, '')
    // Per-resource indexes lead with the (time-ordered) id: new rows go to the right edge (0017);
    // the value tables' end with the key (0020), deduplicated. search_text's keeps the tenant
    // first: besides it, that table has only the GIN over its words.
    const perResource = rows.filter((r) => r.index_name.endsWith('_resource') && r.index_name !== 'search_text_resource')
    expect(perResource.length).toBe(8)
    for (const r of perResource) {
      const expected = ['id', 'resource_type', 'tenant_id', 'param', ...(keyed.has(tableOf(r.index_name)) ? ['pkey'] : [])]
      expect(r.columns.slice(0, r.keys), r.index_name).toEqual(expected)
      expect(r.options ?? [], r.index_name).not.toContain('deduplicate_items=off')
    }
    // The value tables' lookup indexes lead with the int8 key and carry tenant, type and param for
    // an exact check (0019); the others lead with the tenant.
    const others = rows.filter((r) => !perResource.includes(r))
    const lookups = others.filter((r) => keyed.has(tableOf(r.index_name)))
    expect(lookups.map((r) => r.index_name).sort()).toEqual([
      'search_date_high', 'search_date_lookup', 'search_number_lookup', 'search_quantity_lookup', 'search_reference_lookup', 'search_string_lookup', 'search_token_lookup', 'search_uri_lookup',
    ])
    for (const r of lookups) {
      expect(r.columns[0], r.index_name).toBe('pkey')
      expect(r.columns.slice(r.keys), r.index_name).toEqual(['tenant_id', 'resource_type', 'param'])
    }
    expect(others.filter((r) => !lookups.includes(r) && r.columns[0] !== 'tenant_id')).toEqual([])
    // Lookup keys end with the id, so they are unique in practice: no deduplication pass on a full
    // page (an index with INCLUDE columns never deduplicates).
    const sortLookups = others.filter((r) => r.index_name.startsWith('search_sort_'))
    expect(sortLookups.length).toBe(2)
    expect(sortLookups.filter((r) => !(r.options ?? []).includes('deduplicate_items=off')).map((r) => r.index_name)).toEqual([])
  })

  it('compute the same lookup key in SQL (search_key) as the server does (search-key.ts)', async () => {
    const cases = [['t', 'Patient', 'name'], ['clinic-ñandú', 'Observation', 'code'], ['x', 'Patient', 'Patient#given'], ['a|b', 'c', 'd']]
    const { rows } = await sql<{ key: string }>`SELECT search_key(t, y, p)::text AS key FROM unnest(${cases.map((c) => c[0])}::text[], ${cases.map((c) => c[1])}::text[], ${cases.map((c) => c[2])}::text[]) WITH ORDINALITY AS u(t, y, p, n) ORDER BY n`.execute(db.db)
    expect(rows.map((r) => r.key)).toEqual(cases.map(([t, y, p]) => searchKey(t!, y!, p!)))
    expect(new Set(rows.map((r) => r.key)).size).toBe(cases.length)
  })

  it('compare every key text column of the resource and search tables bytewise (COLLATE "C", 0018)', async () => {
    const { rows } = await sql<{ table_name: string; column_name: string; collation: string | null }>`
      SELECT c.relname AS table_name, a.attname AS column_name, co.collname AS collation
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_collation co ON co.oid = a.attcollation
      WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
        AND a.atttypid = 'text'::regtype
        AND (c.relname IN ('tenant', 'resource', 'resource_history', 'resource_live_count') OR c.relname LIKE 'search\_%')`.execute(db.db)
    // Stored text that is no key: the JSON, the history's method, a string's display form, the words.
    const notKeys = new Set(['resource.content', 'resource_history.content', 'resource_history.method', 'search_string.exact', 'search_text.words', 'tenant.name', 'tenant.organization_id'])
    const keys = rows.filter((r) => !notKeys.has(`${r.table_name}.${r.column_name}`))
    expect(keys.length).toBeGreaterThan(50)
    expect(keys.filter((r) => r.collation !== 'C').map((r) => `${r.table_name}.${r.column_name} (${r.collation})`)).toEqual([])
  })
})
