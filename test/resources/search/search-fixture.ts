import { expect } from 'vitest'
import type { Resource } from '@medplum/fhirtypes'
import type { Db } from '../../../src/db/connect.js'
import { createPgRepository, createTenantStore, loadFhirDefinitions, type Repository, type RequestScope, type SearchPage } from '../../../src/resources/index.js'
import { freshTenantId, openTestDb } from '../../setup/db.js'

export const SERVER_URL = 'http://fhir.test'

export interface SearchFixture {
  db: Db
  repo: Repository
  /** SQL text of every statement run since the last reset. */
  statements: string[]
  /** A fresh tenant (isolation) for one test. */
  newTenant(): Promise<RequestScope>
  close(): Promise<void>
}

/** A repository on the run's test database, as the server builds it (base URL http://fhir.test). */
export async function openSearchFixture(): Promise<SearchFixture> {
  loadFhirDefinitions()
  const statements: string[] = []
  const db = await openTestDb({ onQuery: (e) => void statements.push(e.query.sql) })
  const repo = createPgRepository({ db: db.db, serverUrl: SERVER_URL })
  return {
    db,
    repo,
    statements,
    newTenant: async () => {
      const tenantId = freshTenantId()
      await createTenantStore(db.db, repo).ensure(tenantId, 'Search clinic')
      return { tenantId }
    },
    close: () => db.close(),
  }
}

/** Creates the resources in order; returns their ids in the same order. */
export async function seed(repo: Repository, scope: RequestScope, resources: readonly Resource[]): Promise<string[]> {
  const ids: string[] = []
  for (const r of resources) ids.push((await repo.create(scope, r)).stored.id)
  return ids
}

/** Runs `Type?query` and returns the page. */
export function search(repo: Repository, scope: RequestScope, resourceType: string, query: string, options: { strict?: boolean } = {}): Promise<SearchPage> {
  return repo.search(scope, { resourceType, params: [...new URLSearchParams(query)], strict: options.strict })
}

/** The ids matching `Type?query` (up to 1000), sorted, for set comparisons. */
export async function matchIds(repo: Repository, scope: RequestScope, resourceType: string, query: string): Promise<string[]> {
  const page = await search(repo, scope, resourceType, query ? `${query}&_count=1000` : '_count=1000')
  return page.entries.map((e) => e.id).sort()
}

/** `ids` picked by position, sorted: the expected side of a set comparison. */
export const pick = (ids: readonly string[], ...positions: number[]) => positions.map((i) => ids[i]!).sort()

/** Follows `next` to the last page of `Type?query`, then `previous` back: every page must come back the same. */
export async function expectWalksBack(repo: Repository, scope: RequestScope, resourceType: string, query: string): Promise<void> {
  const idsOf = (page: SearchPage) => page.entries.map((e) => e.id)
  const forward: SearchPage[] = [await search(repo, scope, resourceType, query)]
  while (forward[forward.length - 1]!.next) forward.push(await search(repo, scope, resourceType, `${query}&_cursor=${forward[forward.length - 1]!.next}`))
  expect(forward[0]!.previous, query).toBeUndefined()
  let back = forward[forward.length - 1]!
  for (let i = forward.length - 2; i >= 0; i--) {
    back = await search(repo, scope, resourceType, `${query}&_cursor=${back.previous}`)
    expect(idsOf(back), `${query} page ${i}`).toEqual(idsOf(forward[i]!))
  }
  expect(back.previous, query).toBeUndefined()
}

/** Follows `next` cursors of `Type?query` to the end (at most 100 pages); returns each page's ids. */
export async function walkPages(repo: Repository, scope: RequestScope, resourceType: string, query: string, between?: (page: number) => Promise<void>): Promise<string[][]> {
  const pages: string[][] = []
  let page = await search(repo, scope, resourceType, query)
  for (let n = 0; n < 100; n++) {
    pages.push(page.entries.map((e) => e.id))
    if (!page.next) break
    await between?.(n)
    page = await search(repo, scope, resourceType, `${query}&_cursor=${page.next}`)
  }
  return pages
}
