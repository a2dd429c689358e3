import type { Resource } from '@medplum/fhirtypes'
import type { Criteria, PatchDocument, StoredResource } from '../resources/index.js'
import type { EntryResult } from './types.js'

/**
 * Which resource a POST/PUT/PATCH entry writes, decided before anything is written. `recheck`:
 * the entry is conditional and was resolved outside a transaction (a batch), so its conditional
 * locks were not held; the write re-runs the conditional interaction under them (targets.ts).
 */
export type WriteTarget =
  /** A new resource with this server-chosen id (POST, or a conditional PUT that matched nothing). */
  | { readonly mode: 'create'; readonly resourceType: string; readonly id: string; readonly recheck?: Criteria }
  /** An update or patch of this id (PUT may create it: update-as-create). */
  | { readonly mode: 'update'; readonly resourceType: string; readonly id: string; readonly recheck?: Criteria }
  /** ifNoneExist found this resource: nothing is written. */
  | { readonly mode: 'matched'; readonly stored: StoredResource }
  /** The same conditional create as an earlier entry of this Bundle: answered by that entry's resource. */
  | { readonly mode: 'same-as'; readonly index: number; readonly resourceType: string; readonly id: string }

/** The body as it will be written, references already rewritten. */
export type PreparedWrite = { readonly resource: Resource } | { readonly patch: PatchDocument }

/**
 * Everything one run (one attempt of a transaction, or a batch) learns as it goes. Built afresh
 * per attempt: a retried transaction assigns new ids and searches again.
 */
export class RunState {
  /** Entry fullUrl → `Type/id`. */
  readonly fullUrls = new Map<string, string>()
  /** Conditional reference → `Type/id` of its one match. */
  readonly conditional = new Map<string, string>()
  /** `Type?ifNoneExist` → index of the entry that creates it (two equal conditional creates make one resource). */
  readonly conditionalCreates = new Map<string, number>()
  readonly targets = new Map<number, WriteTarget>()
  readonly prepared = new Map<number, PreparedWrite>()
  readonly results: (EntryResult | undefined)[]

  constructor(entryCount: number) {
    this.results = new Array<EntryResult | undefined>(entryCount).fill(undefined)
  }

  failed(index: number): boolean {
    return this.results[index]?.kind === 'failed'
  }
}
