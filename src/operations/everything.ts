import { forbidden } from '../errors.js'
import { R4_RESOURCE_TYPES, type EverythingCompartment, type EverythingPage, type StoredResource } from '../resources/index.js'
import { parseEverythingParams, type EverythingParams } from './everything-params.js'
import type { OperationCaller, OperationContext, OperationDescriptor, OperationResult } from './types.js'

/**
 * Patient/$everything — https://hl7.org/fhir/R4/patient-operation-everything.html (instance and type
 * level) and Encounter/$everything (instance; R5's Encounter-everything on the R4 Encounter
 * compartment): the compartment's resources as `match` entries, and the resources outside it they
 * refer to (Practitioner, Organization, Location, Medication…) as `include` entries, a keyset page
 * at a time (`start`, `end`, `_since`, `_type`, `_count`, `next` links).
 *
 * Access: another patient's Patient (or an Encounter outside the compartment) is the same 404 as an
 * unknown one; a patient token at type level gets its own patient only; only types the token may
 * read or search are returned. Throws `invalid` (bad parameter, named), `not-found`, `forbidden`.
 */
export const patientEverythingOperation: OperationDescriptor = {
  code: 'everything',
  levels: ['type', 'instance'],
  resourceTypes: ['Patient'],
  affectsState: false,
  checksScopes: true,
  definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything',
  run: (ctx) => everything(ctx, 'Patient'),
}

export const encounterEverythingOperation: OperationDescriptor = {
  code: 'everything',
  levels: ['instance'],
  resourceTypes: ['Encounter'],
  affectsState: false,
  checksScopes: true,
  definition: 'http://hl7.org/fhir/OperationDefinition/Encounter-everything',
  run: (ctx) => everything(ctx, 'Encounter'),
}

async function everything(ctx: OperationContext, compartment: EverythingCompartment): Promise<OperationResult> {
  const caller = ctx.caller
  const mayRead = (type: string) => !caller || caller.allowsType(type, 'read') || caller.allowsType(type, 'search')
  if (!mayRead(compartment)) throw forbidden(`Scope does not allow reading ${compartment}: $everything needs read access to it`)
  const params = parseEverythingParams(ctx.query, ctx.body)
  // Reading the owner first: an unknown one, or one the caller may not see, is a 404.
  if (ctx.id) await ctx.repo.read(ctx.scope, compartment, ctx.id)
  const ids = ctx.id ? [ctx.id] : ownersOf(caller)
  const page = await ctx.repo.everything(ctx.scope, {
    compartment,
    ids,
    types: allowedTypes(params, caller),
    since: params.since,
    start: params.start,
    end: params.end,
    count: params.count,
    cursor: params.cursor,
    supporting: true,
  })
  const base = ctx.baseUrl ?? ''
  const path = `${base}/${compartment}${ctx.id ? `/${ctx.id}` : ''}/$everything`
  return { status: 200, resource: { resourceType: 'Bundle', type: 'searchset' }, json: everythingBundle(base, path, params, page) }
}

/** Type level: every patient, or only its own for a patient token. */
function ownersOf(caller: OperationCaller | undefined): string[] | undefined {
  return caller?.patient ? [caller.patient] : undefined
}

/** `_type` narrowed to what the token may read; undefined = everything. Pushed into the query so pages stay full. */
function allowedTypes(params: EverythingParams, caller: OperationCaller | undefined): readonly string[] | undefined {
  if (!caller) return params.types
  const candidates = params.types ?? R4_RESOURCE_TYPES
  const allowed = candidates.filter((t) => caller.allowsType(t, 'read') || caller.allowsType(t, 'search'))
  return allowed.length === candidates.length ? params.types : allowed
}

/** The searchset, built from the stored JSON text (no parse and re-serialize of each resource). */
export function everythingBundle(base: string, path: string, params: EverythingParams, page: EverythingPage): string {
  const url = (cursor?: string) => {
    const q = new URLSearchParams(params.echo.map(([k, v]) => [k, v]))
    if (cursor) q.append('_cursor', cursor)
    return `${path}?${q.toString()}`
  }
  const links = [
    { relation: 'self', url: url(params.cursor) },
    { relation: 'first', url: url() },
    ...(page.next ? [{ relation: 'next', url: url(page.next) }] : []),
  ]
  const entry = (e: StoredResource, mode: 'match' | 'include') =>
    `{"fullUrl":${JSON.stringify(`${base}/${e.resourceType}/${e.id}`)},"resource":${e.json},"search":{"mode":"${mode}"}}`
  const entries = [...page.entries.map((e) => entry(e, 'match')), ...page.included.map((e) => entry(e, 'include'))]
  const head = `{"resourceType":"Bundle","type":"searchset","link":${JSON.stringify(links)}`
  return entries.length ? `${head},"entry":[${entries.join(',')}]}` : `${head}}`
}
