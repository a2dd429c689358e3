import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { assertAllowed } from '../../auth/index.js'
import { invalid } from '../../errors.js'
import { parseDateRange, type HistoryQuery } from '../../resources/index.js'
import { historyBundle, pageUrl, type BundleLink } from '../bundle.js'
import { sendJson } from '../content-type.js'
import { authOf, fhirContext } from '../context.js'
import { sendResource } from '../headers.js'
import type { FhirPluginOptions } from '../options.js'
import { knownType } from '../resource-type.js'
import { notFound } from '../../errors.js'
import { rejectOtherMethods } from './method-not-allowed.js'
import { parseCount } from './search.js'

type Params = { type: string; id: string; vid: string }

/** history (instance, type, system) and vread — https://hl7.org/fhir/R4/http.html#history, #vread */
export function registerHistoryRoutes(app: FastifyInstance, { repo }: FhirPluginOptions) {
  app.get<{ Params: Params }>('/_history', (request, reply) => history(request, reply, {}))
  app.get<{ Params: Params }>('/:type/_history', (request, reply) => history(request, reply, { type: knownType(request.params.type) }))
  app.get<{ Params: Params }>('/:type/:id/_history', (request, reply) =>
    history(request, reply, { type: knownType(request.params.type), id: request.params.id }),
  )
  app.get<{ Params: Params }>('/:type/:id/_history/:vid', async (request, reply) => {
    const type = knownType(request.params.type)
    assertAllowed(authOf(request), type, 'vread')
    const stored = await repo.vread(fhirContext(request).scope, type, request.params.id, request.params.vid)
    return sendResource(request, reply, stored)
  })
  for (const url of ['/_history', '/:type/_history', '/:type/:id/_history', '/:type/:id/_history/:vid']) rejectOtherMethods(app, url, ['GET'])

  async function history(request: FastifyRequest, reply: FastifyReply, target: { type?: string; id?: string }) {
    const auth = authOf(request)
    if (target.type) assertAllowed(auth, target.type, 'history')
    else assertAllowed(auth, '*', 'history')
    const { scope, baseUrl } = fhirContext(request)
    const q = request.query as Record<string, unknown>
    const since = single(q, '_since')
    const at = single(q, '_at')
    const cursor = single(q, '_cursor')
    if (cursor !== undefined && !/^\d{1,19}$/.test(cursor)) throw invalid(`_cursor '${cursor}' is not a paging cursor of this server`, { expression: ['_cursor'] })
    const count = parseCount(q._count)
    const query: HistoryQuery = {
      resourceType: target.type,
      id: target.id,
      since: since !== undefined ? parseDateRange(since, '_since').start : undefined,
      at: at !== undefined ? parseDateRange(at, '_at') : undefined,
      count,
      before: cursor,
    }
    const page = await repo.history(scope, query)
    if (target.id && page.total === 0) {
      // An instance that exists but has no version in the _since/_at window is an empty Bundle, not a 404.
      const unfiltered = since !== undefined || at !== undefined ? await repo.history(scope, { resourceType: target.type, id: target.id, count: 0 }) : page
      if (unfiltered.total === 0) throw notFound(`Resource ${target.type}/${target.id} is not known`)
    }
    const path = [target.type, target.id, '_history'].filter(Boolean).join('/')
    const params = { _since: since, _at: at, _count: String(count) }
    const links: BundleLink[] = [
      { relation: 'self', url: pageUrl(baseUrl, path, { ...params, _cursor: cursor }) },
      { relation: 'first', url: pageUrl(baseUrl, path, params) },
    ]
    if (page.next) links.push({ relation: 'next', url: pageUrl(baseUrl, path, { ...params, _cursor: page.next }) })
    return sendJson(request, reply, historyBundle(baseUrl, page.entries, page.total, links))
  }
}

function single(q: Record<string, unknown>, name: string): string | undefined {
  const v = q[name]
  if (v === undefined) return undefined
  if (Array.isArray(v)) throw invalid(`${name} may be given only once`, { expression: [name] })
  return String(v)
}
