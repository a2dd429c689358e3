/**
 * Synthea-like synthetic data for the search bench, deterministic for a seed: Patients (Spanish
 * names with accents, DNI and record-number identifiers, birth dates, genders, addresses),
 * their Encounters spread over 2012-2024, and at each Encounter the Observations a clinic records
 * (LOINC vital signs with UCUM units, blood pressure as components, some laboratory results and a
 * smoking status), referencing their Patient and Encounter. Patients come first, then each
 * Encounter before its Observations, so any prefix of the stream has valid references.
 */
import type { Encounter, Observation, Patient, Resource } from '@medplum/fhirtypes'

/** A small fast PRNG (mulberry32): same seed, same data, so a reload reproduces the dataset. */
export class Random {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  /** Roughly normal (sum of three uniforms), for vital-sign values. */
  around(mean: number, spread: number): number {
    return mean + ((this.next() + this.next() + this.next()) / 1.5 - 1) * spread
  }
  /** A random UUID (v4 layout) from this generator. */
  uuid(): string {
    const hex = (n: number) => Math.floor(this.next() * 16 ** n).toString(16).padStart(n, '0')
    return `${hex(8)}-${hex(4)}-4${hex(3)}-${(8 + this.int(0, 3)).toString(16)}${hex(3)}-${hex(6)}${hex(6)}`
  }
}

export const MALE_GIVEN = ['José', 'Juan', 'Luis', 'Martín', 'Héctor', 'Ramón', 'Andrés', 'Raúl', 'Nicolás', 'Ángel', 'Agustín', 'Joaquín', 'Julián', 'Tomás', 'Matías', 'Germán', 'Sebastián', 'Iván', 'Rubén', 'Óscar', 'Diego', 'Pablo', 'Carlos', 'Jorge', 'Miguel', 'Facundo', 'Santiago', 'Gonzalo', 'Lautaro', 'Benjamín'] as const
export const FEMALE_GIVEN = ['María', 'Ana', 'Lucía', 'Sofía', 'Inés', 'Mónica', 'Valentina', 'Camila', 'Belén', 'Florencia', 'Gabriela', 'Verónica', 'Mariana', 'Julieta', 'Agustina', 'Natalia', 'Silvia', 'Rocío', 'Débora', 'Noemí', 'Carolina', 'Paula', 'Laura', 'Jimena', 'Ximena', 'Pilar', 'Zoé', 'Abril', 'Milagros', 'Luciana'] as const
export const FAMILY = [
  'Pérez', 'González', 'Rodríguez', 'Fernández', 'López', 'Martínez', 'Sánchez', 'Gómez', 'Díaz', 'Álvarez', 'Romero', 'Suárez', 'Benítez', 'Acuña', 'Núñez', 'Giménez',
  'Domínguez', 'Ibáñez', 'Muñoz', 'Castro', 'Ortiz', 'Silva', 'Rojas', 'Molina', 'Sosa', 'Torres', 'Ramírez', 'Flores', 'Herrera', 'Medina', 'Aguirre', 'Pereyra',
  'Gutiérrez', 'Giménez', 'Vázquez', 'Cabrera', 'Ríos', 'Morales', 'Ruiz', 'Peña', 'Ledesma', 'Quiroga', 'Ojeda', 'Vega', 'Cáceres', 'Ponce', 'Villalba', 'Chávez',
  'Méndez', 'Figueroa', 'Correa', 'Cardozo', 'Paz', 'Luna', 'Juárez', 'Báez', 'Rivero', 'Maldonado', 'Ferreyra', 'Córdoba', 'Ávila', 'Godoy', 'Toledo', 'Ortega',
] as const
const CITIES = [['Córdoba', 'Córdoba', '5000'], ['Rosario', 'Santa Fe', '2000'], ['San Miguel de Tucumán', 'Tucumán', '4000'], ['Mendoza', 'Mendoza', '5500'], ['La Plata', 'Buenos Aires', '1900'], ['Neuquén', 'Neuquén', '8300']] as const
const STREETS = ['Av. Colón', 'San Martín', 'Belgrano', 'Rivadavia', 'Sarmiento', '9 de Julio', 'Av. Vélez Sársfield', 'Mitre', 'Entre Ríos', 'Perú'] as const

const LOINC = 'http://loinc.org'
const UCUM = 'http://unitsofmeasure.org'
const SNOMED = 'http://snomed.info/sct'
const CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category'

/** A numeric Observation kind: its LOINC code, display, UCUM unit and value distribution. */
interface Measure {
  code: string
  display: string
  unit: string
  mean: number
  spread: number
  decimals: number
  category: 'vital-signs' | 'laboratory'
}

export const VITALS = {
  height: { code: '8302-2', display: 'Body height', unit: 'cm', mean: 168, spread: 14, decimals: 1, category: 'vital-signs' },
  weight: { code: '29463-7', display: 'Body weight', unit: 'kg', mean: 74, spread: 16, decimals: 1, category: 'vital-signs' },
  bmi: { code: '39156-5', display: 'Body mass index (BMI) [Ratio]', unit: 'kg/m2', mean: 26, spread: 5, decimals: 1, category: 'vital-signs' },
  heartRate: { code: '8867-4', display: 'Heart rate', unit: '/min', mean: 76, spread: 14, decimals: 0, category: 'vital-signs' },
  respiratoryRate: { code: '9279-1', display: 'Respiratory rate', unit: '/min', mean: 15, spread: 3, decimals: 0, category: 'vital-signs' },
  temperature: { code: '8310-5', display: 'Body temperature', unit: 'Cel', mean: 36.8, spread: 0.7, decimals: 1, category: 'vital-signs' },
  oxygen: { code: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry', unit: '%', mean: 97, spread: 2, decimals: 0, category: 'vital-signs' },
} as const satisfies Record<string, Measure>

export const LABS = {
  glucose: { code: '2339-0', display: 'Glucose [Mass/volume] in Blood', unit: 'mg/dL', mean: 98, spread: 25, decimals: 0, category: 'laboratory' },
  cholesterol: { code: '2093-3', display: 'Cholesterol [Mass/volume] in Serum or Plasma', unit: 'mg/dL', mean: 190, spread: 40, decimals: 0, category: 'laboratory' },
  triglycerides: { code: '2571-8', display: 'Triglycerides', unit: 'mg/dL', mean: 140, spread: 50, decimals: 0, category: 'laboratory' },
  hdl: { code: '2085-9', display: 'Cholesterol in HDL [Mass/volume] in Serum or Plasma', unit: 'mg/dL', mean: 52, spread: 12, decimals: 0, category: 'laboratory' },
  hba1c: { code: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood', unit: '%', mean: 7.2, spread: 1.2, decimals: 1, category: 'laboratory' },
} as const satisfies Record<string, Measure>

export const BLOOD_PRESSURE = { code: '85354-9', systolic: '8480-6', diastolic: '8462-4' } as const
export const SMOKING_STATUS = '72166-2'

/** Every Observation code the generator writes, with roughly how common it is. */
export const OBSERVATION_CODES: readonly string[] = [...[...Object.values(VITALS), ...Object.values(LABS)].map((m): string => m.code), BLOOD_PRESSURE.code, SMOKING_STATUS]

const ENCOUNTER_TYPES = [
  { code: '410620009', display: 'Well child visit (procedure)', weight: 0 },
  { code: '162673000', display: 'General examination of patient (procedure)', weight: 0.4 },
  { code: '185345009', display: 'Encounter for symptom (procedure)', weight: 0.45 },
  { code: '50849002', display: 'Emergency room admission (procedure)', weight: 0.15 },
] as const

/** The data window: encounters happen between these instants. */
export const FIRST_YEAR = 2012
export const LAST_YEAR = 2024
const WINDOW_START = Date.UTC(FIRST_YEAR, 0, 1)
const WINDOW_END = Date.UTC(LAST_YEAR + 1, 0, 1)

/** An instant as FHIR dateTime in Argentina's time zone (UTC-3), as a clinic would record it. */
function localDateTime(ms: number): string {
  return new Date(ms - 3 * 3600_000).toISOString().slice(0, 19) + '-03:00'
}

function round(value: number, decimals: number): number {
  const f = 10 ** decimals
  return Math.round(value * f) / f
}

/** Synthetic resources of one tenant, in reference order. */
export function* generateTenant(seed: number): Generator<Resource> {
  const random = new Random(seed)
  let patientNumber = 0
  for (;;) {
    patientNumber++
    const patient = makePatient(random, seed, patientNumber)
    yield patient
    yield* encountersOf(random, patient)
  }
}

function makePatient(random: Random, seed: number, n: number): Patient & { id: string } {
  const gender = random.chance(0.5) ? 'female' : 'male'
  const given = gender === 'female' ? FEMALE_GIVEN : MALE_GIVEN
  const first = random.pick(given)
  const middle = random.chance(0.4) ? [random.pick(given)] : []
  const family = random.pick(FAMILY)
  const birth = new Date(Date.UTC(random.int(1935, 2020), random.int(0, 11), random.int(1, 28)))
  const [city, state, postalCode] = random.pick(CITIES)
  const dni = String(random.int(10_000_000, 45_000_000))
  return {
    resourceType: 'Patient',
    id: random.uuid(),
    identifier: [
      { system: 'https://github.com/synthetichealth/synthea', value: random.uuid() },
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR', display: 'Medical Record Number' }], text: 'Medical Record Number' },
        system: `https://segimed.example/clinic-${seed}/mrn`,
        value: `HC-${String(n).padStart(7, '0')}`,
      },
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'NI', display: 'National unique individual identifier' }], text: 'DNI' },
        system: 'http://www.renaper.gob.ar/dni',
        value: dni,
      },
    ],
    name: [{ use: 'official', family, given: [first, ...middle], prefix: [gender === 'female' ? 'Sra.' : 'Sr.'] }],
    telecom: [{ system: 'phone', value: `+54 9 351 ${random.int(400, 699)}-${String(random.int(0, 9999)).padStart(4, '0')}`, use: 'mobile' }],
    gender,
    birthDate: birth.toISOString().slice(0, 10),
    address: [{ line: [`${random.pick(STREETS)} ${random.int(1, 4999)}`], city, state, postalCode, country: 'AR' }],
    maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: random.pick(['M', 'S', 'W', 'D']) }] },
    communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'es-AR', display: 'Spanish (Argentina)' }], text: 'Español' } }],
  }
}

function* encountersOf(random: Random, patient: Patient & { id: string }): Generator<Resource> {
  const diabetic = random.chance(0.1)
  const smoker = random.chance(0.2)
  const adultFrom = Math.max(WINDOW_START, Date.parse(patient.birthDate!) + 18 * 365.25 * 86400_000)
  const count = random.int(4, 16)
  const subject = { reference: `Patient/${patient.id}`, display: `${patient.name![0]!.given![0]} ${patient.name![0]!.family}` }
  for (let i = 0; i < count; i++) {
    const start = Math.floor(WINDOW_START + random.next() * (WINDOW_END - WINDOW_START - 86400_000))
    const end = start + random.int(15, 90) * 60_000
    const roll = random.next()
    const type = roll < 0.4 ? ENCOUNTER_TYPES[1] : roll < 0.85 ? ENCOUNTER_TYPES[2] : ENCOUNTER_TYPES[3]
    const encounter: Encounter & { id: string } = {
      resourceType: 'Encounter',
      id: random.uuid(),
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: type === ENCOUNTER_TYPES[3] ? 'EMER' : 'AMB' },
      type: [{ coding: [{ system: SNOMED, code: type.code, display: type.display }], text: type.display }],
      subject,
      period: { start: localDateTime(start), end: localDateTime(end) },
    }
    yield encounter
    const at = localDateTime(start + 10 * 60_000)
    const ctx = { random, subject, encounter: { reference: `Encounter/${encounter.id}` }, at }
    const measured: Measure[] =
      type === ENCOUNTER_TYPES[1]
        ? [VITALS.height, VITALS.weight, VITALS.bmi, VITALS.heartRate, VITALS.respiratoryRate, VITALS.temperature, VITALS.oxygen]
        : type === ENCOUNTER_TYPES[2]
          ? [VITALS.weight, VITALS.heartRate]
          : [VITALS.heartRate, VITALS.respiratoryRate, VITALS.temperature, VITALS.oxygen]
    for (const m of measured) yield quantityObservation(ctx, m)
    yield bloodPressure(ctx)
    if (type === ENCOUNTER_TYPES[1] && start >= adultFrom && random.chance(0.3)) {
      for (const m of [LABS.glucose, LABS.cholesterol, LABS.triglycerides, LABS.hdl]) yield quantityObservation(ctx, m)
      if (diabetic) yield quantityObservation(ctx, LABS.hba1c)
    }
    if (type === ENCOUNTER_TYPES[1] && start >= adultFrom && random.chance(0.5)) yield smokingStatus(ctx, smoker)
  }
}

interface ObservationContext {
  random: Random
  subject: { reference: string; display: string }
  encounter: { reference: string }
  at: string
}

function base(ctx: ObservationContext, category: string, code: string, display: string): Observation & { id: string } {
  return {
    resourceType: 'Observation',
    id: ctx.random.uuid(),
    status: 'final',
    category: [{ coding: [{ system: CATEGORY, code: category, display: category === 'vital-signs' ? 'Vital Signs' : category === 'laboratory' ? 'Laboratory' : 'Social History' }] }],
    code: { coding: [{ system: LOINC, code, display }], text: display },
    subject: ctx.subject,
    encounter: ctx.encounter,
    effectiveDateTime: ctx.at,
    issued: ctx.at.replace('-03:00', '.000-03:00'),
  }
}

function quantityObservation(ctx: ObservationContext, m: Measure): Observation {
  const value = round(Math.max(0, ctx.random.around(m.mean, m.spread)), m.decimals)
  return { ...base(ctx, m.category, m.code, m.display), valueQuantity: { value, unit: m.unit, system: UCUM, code: m.unit } }
}

function bloodPressure(ctx: ObservationContext): Observation {
  const systolic = Math.round(ctx.random.around(124, 18))
  const diastolic = Math.round(ctx.random.around(78, 10))
  const component = (code: string, display: string, value: number) => ({
    code: { coding: [{ system: LOINC, code, display }], text: display },
    valueQuantity: { value, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' },
  })
  return {
    ...base(ctx, 'vital-signs', BLOOD_PRESSURE.code, 'Blood pressure panel with all children optional'),
    component: [component(BLOOD_PRESSURE.systolic, 'Systolic blood pressure', systolic), component(BLOOD_PRESSURE.diastolic, 'Diastolic blood pressure', diastolic)],
  }
}

function smokingStatus(ctx: ObservationContext, smoker: boolean): Observation {
  const [code, display] = smoker ? ['449868002', 'Smokes tobacco daily (finding)'] : ['266919005', 'Never smoked tobacco (finding)']
  return {
    ...base(ctx, 'social-history', SMOKING_STATUS, 'Tobacco smoking status'),
    valueCodeableConcept: { coding: [{ system: SNOMED, code, display }], text: display },
  }
}
