import { describe, expect, it } from 'vitest'
import { FhirError } from '../../src/errors.js'
import { conditionalReferences, isConditionalReference, rewriteReferences, type ResolvedReferences } from '../../src/bundles/references.js'

/** Reference resolution inside Bundles — https://hl7.org/fhir/R4/http.html#trules, bundle.html#references */
const resolved = (fullUrls: Record<string, string>, conditional: Record<string, string> = {}): ResolvedReferences => ({
  fullUrls: new Map(Object.entries(fullUrls)),
  conditional: new Map(Object.entries(conditional)),
})

const PATIENT = 'urn:uuid:6a1c4f3e-0000-4000-8000-000000000001'
const ENCOUNTER = 'urn:uuid:6a1c4f3e-0000-4000-8000-000000000002'
const map = resolved({ [PATIENT]: 'Patient/p1', [ENCOUNTER]: 'Encounter/e1', 'urn:oid:1.2.3.4': 'Organization/o1', 'http://other.example/fhir/Practitioner/9': 'Practitioner/x9' })

describe('rewriteReferences', () => {
  it('rewrites a top-level Reference.reference that equals a fullUrl', () => {
    const out = rewriteReferences({ resourceType: 'Observation', subject: { reference: PATIENT, display: 'Ana' } }, map, 'Observation')
    expect(out.subject).toEqual({ reference: 'Patient/p1', display: 'Ana' })
  })

  it('rewrites references nested in arrays, in extensions and in contained resources', () => {
    const claim = {
      resourceType: 'Claim',
      item: [{ encounter: [{ reference: ENCOUNTER }] }],
      extension: [{ url: 'http://example.org/ext', valueReference: { reference: PATIENT } }],
      contained: [{ resourceType: 'ServiceRequest', id: 'referral', subject: { reference: PATIENT }, requester: { reference: 'urn:oid:1.2.3.4' } }],
      modifierExtension: [{ url: 'http://example.org/m', extension: [{ url: 'inner', valueReference: { reference: ENCOUNTER } }] }],
    }
    const out = rewriteReferences(claim, map, 'Claim')
    expect(out.item[0]!.encounter[0]!.reference).toBe('Encounter/e1')
    expect(out.extension[0]!.valueReference.reference).toBe('Patient/p1')
    expect(out.contained[0]!.subject.reference).toBe('Patient/p1')
    expect(out.contained[0]!.requester.reference).toBe('Organization/o1')
    expect(out.modifierExtension[0]!.extension[0]!.valueReference.reference).toBe('Encounter/e1')
  })

  it('rewrites uri, url and canonical values that are exactly a urn fullUrl, and leaves a urn:oid identifier system that is no fullUrl', () => {
    const doc = {
      resourceType: 'DocumentReference',
      content: [{ attachment: { url: PATIENT } }],
      extension: [{ url: 'http://example.org/source', valueUri: ENCOUNTER }, { url: 'http://example.org/c', valueCanonical: 'urn:oid:1.2.3.4' }],
      identifier: [{ system: 'urn:oid:2.16.840.1.113883.4.3.25', value: 'S99942380' }],
    }
    const out = rewriteReferences(doc, map, 'DocumentReference')
    expect(out.content[0]!.attachment.url).toBe('Patient/p1')
    expect(out.extension[0]).toEqual({ url: 'http://example.org/source', valueUri: 'Encounter/e1' })
    expect(out.extension[1]!.valueCanonical).toBe('Organization/o1')
    expect(out.identifier[0]!.system).toBe('urn:oid:2.16.840.1.113883.4.3.25')
  })

  it('rewrites href and src urn links in the narrative and keeps other links', () => {
    const div = `<div xmlns="http://www.w3.org/1999/xhtml">See <a href="${PATIENT}">the patient</a>, <img src="${ENCOUNTER}"/> and <a href="https://synthea.example">Synthea</a></div>`
    const out = rewriteReferences({ resourceType: 'Observation', text: { status: 'generated', div } }, map, 'Observation')
    expect(out.text.div).toBe(
      '<div xmlns="http://www.w3.org/1999/xhtml">See <a href="Patient/p1">the patient</a>, <img src="Encounter/e1"/> and <a href="https://synthea.example">Synthea</a></div>',
    )
  })

  it('rewrites a reference equal to an absolute (non-urn) fullUrl, but not a plain url string equal to it', () => {
    const abs = 'http://other.example/fhir/Practitioner/9'
    const out = rewriteReferences({ resourceType: 'Encounter', participant: [{ individual: { reference: abs } }], extension: [{ url: 'x', valueUrl: abs }] }, map, 'Encounter')
    expect(out.participant[0]!.individual.reference).toBe('Practitioner/x9')
    expect(out.extension[0]!.valueUrl).toBe(abs)
  })

  it('replaces a conditional reference with its resolved target and keeps relative and contained references', () => {
    const conditional = 'Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999963991'
    const both = resolved({}, { [conditional]: 'Practitioner/npi1' })
    const out = rewriteReferences(
      { resourceType: 'Encounter', participant: [{ individual: { reference: conditional } }], subject: { reference: 'Patient/123' }, basedOn: [{ reference: '#sr' }] },
      both,
      'Encounter',
    )
    expect(out.participant[0]!.individual.reference).toBe('Practitioner/npi1')
    expect(out.subject.reference).toBe('Patient/123')
    expect(out.basedOn[0]!.reference).toBe('#sr')
  })

  it('throws invalid naming the element path when a urn:uuid reference matches no fullUrl', () => {
    const missing = 'urn:uuid:00000000-0000-4000-8000-00000000dead'
    let error: unknown
    try {
      rewriteReferences({ resourceType: 'Observation', hasMember: [{ reference: PATIENT }, { reference: missing }] }, map, 'Observation')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(FhirError)
    expect((error as FhirError).kind).toBe('invalid')
    expect((error as FhirError).issues[0]?.expression).toEqual(['Observation.hasMember[1].reference'])
    expect((error as FhirError).message).toContain(missing)
  })

  it('returns a copy and leaves the input untouched (a retried transaction starts from the request as sent)', () => {
    const input = { resourceType: 'Observation', subject: { reference: PATIENT } }
    const before = structuredClone(input)
    rewriteReferences(input, map, 'Observation')
    expect(input).toEqual(before)
  })
})

describe('conditional references', () => {
  it('recognises Type?search with a resource type, including values that contain slashes', () => {
    expect(isConditionalReference('Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1')).toBe(true)
    expect(isConditionalReference('Patient/1')).toBe(false)
    expect(isConditionalReference('#contained')).toBe(false)
    expect(isConditionalReference('http://example.org/fhir/Patient?name=x')).toBe(false)
    expect(isConditionalReference('Unknown?name=x')).toBe(false)
  })

  it('collects each distinct conditional reference once, from nested places', () => {
    const a = 'Organization?identifier=https://github.com/synthetichealth/synthea|1'
    const b = 'Location?identifier=https://github.com/synthetichealth/synthea|2'
    const found = conditionalReferences({
      resourceType: 'Encounter',
      serviceProvider: { reference: a },
      location: [{ location: { reference: b } }, { location: { reference: b } }],
      contained: [{ resourceType: 'Provenance', agent: [{ who: { reference: a } }] }],
      subject: { reference: 'urn:uuid:1' },
    })
    expect(found).toEqual([a, b])
  })
})
