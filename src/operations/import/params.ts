import type { Parameters, ParametersParameter } from '@medplum/fhirtypes'
import { FhirError, invalid } from '../../errors.js'
import { isResourceType } from '../../resources/index.js'

/** One NDJSON input of a Parameters kick-off: a file of this server's bulk file store. */
export interface ImportInput {
  /** The resource type the file declares (`input.type`); lines of another type fail. */
  readonly type?: string
  readonly url: string
}

const FORMATS = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson'])

/**
 * The kick-off Parameters of `$import`, in the shape of the Bulk Data import drafts (and Azure's
 * and HAPI's $import): `inputFormat` (optional, NDJSON only) and one or more `input` parts, each
 * with `url` (valueUri/valueUrl/valueString) and optional `type` (valueCode/valueString).
 * `invalid` names the part that is wrong.
 */
export function parseImportParameters(body: unknown): ImportInput[] {
  if (typeof body !== 'object' || body === null || (body as { resourceType?: unknown }).resourceType !== 'Parameters') {
    throw new FhirError(
      'unsupported-media-type',
      '$import takes a Parameters resource naming NDJSON files (input.type, input.url) as application/fhir+json, or the NDJSON itself as application/fhir+ndjson',
    )
  }
  const parameters = (body as Parameters).parameter ?? []
  const inputs: ImportInput[] = []
  for (const [i, part] of parameters.entries()) {
    const where = `Parameters.parameter[${i}]`
    switch (part.name) {
      case 'inputFormat': {
        const format = textOf(part)
        if (format === undefined || !FORMATS.has(format.trim())) {
          throw invalid(`inputFormat '${String(format ?? '').slice(0, 100)}' is not supported: $import reads application/fhir+ndjson`, { expression: [where] })
        }
        break
      }
      case 'input':
        inputs.push(inputOf(part, where))
        break
      case 'inputSource':
      case 'storageDetail':
      case 'mode':
        break // informational in the drafts; the file store is this server's own
      default:
        throw invalid(`$import parameter '${String(part.name).slice(0, 64)}' is not known: use input (type, url) and inputFormat`, { expression: [where] })
    }
  }
  if (inputs.length === 0) throw invalid('$import needs at least one input part with a url (a file of this server: [base]/$job/<id>/file/<name>)', { code: 'required' })
  return inputs
}

function inputOf(part: ParametersParameter, where: string): ImportInput {
  let type: string | undefined
  let url: string | undefined
  for (const [j, sub] of (part.part ?? []).entries()) {
    if (sub.name === 'type') type = textOf(sub)
    else if (sub.name === 'url') url = textOf(sub)
    else throw invalid(`input part '${String(sub.name).slice(0, 64)}' is not known: an input has type and url`, { expression: [`${where}.part[${j}]`] })
  }
  if (!url) throw invalid('Each input needs a url (a file of this server: [base]/$job/<id>/file/<name>)', { code: 'required', expression: [where] })
  if (type !== undefined && !isResourceType(type)) throw invalid(`input type '${type.slice(0, 64)}' is not an R4 resource type`, { expression: [where] })
  return { url, ...(type ? { type } : {}) }
}

function textOf(part: ParametersParameter): string | undefined {
  return part.valueUri ?? part.valueUrl ?? part.valueCode ?? part.valueString
}
