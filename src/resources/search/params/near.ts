import { sql } from 'kysely'
import { isDecimal } from './decimal.js'
import type { ParamValue } from '../types.js'
import { badValue, type ParamType } from './param-type.js'

type NearValue = Extract<ParamValue, { kind: 'near' }>

/** Mean Earth radius (IUGG), km. */
const EARTH_RADIUS_KM = 6371.0088
const KM_PER_DEGREE = (Math.PI * EARTH_RADIUS_KM) / 180
/** Without a distance the spec leaves "near" to the server: this many km. */
export const DEFAULT_NEAR_KM = 10
/** UCUM length units a distance may be given in; km when omitted (location.html#positional). */
const KM_PER_UNIT: ReadonlyMap<string, number> = new Map([
  ['km', 1],
  ['m', 0.001],
  ['[mi_i]', 1.609344],
  ['[nmi_i]', 1.852],
])

/**
 * Location `near` (https://hl7.org/fhir/R4/location.html#positional): `lat|long[|distance[|units]]`.
 * Rows are one point each, latitude in `low` and longitude in `high` (indexing/near.ts). The
 * condition is a bounding box on the index (a latitude range, a longitude range unless the box
 * crosses the antimeridian or a pole), then the exact great-circle (haversine) distance.
 */
export const nearParam: ParamType<NearValue> = {
  table: 'search_number',
  modifiers: [],
  parse(raw, ctx) {
    const expected = 'lat|long|distance|units: latitude -90..90 and longitude -180..180 in decimal degrees, an optional non-negative distance and a unit of km, m, [mi_i] or [nmi_i]'
    const parts = raw.split('|')
    const [lat, long, distance, units] = parts
    if (parts.length < 2 || parts.length > 4 || !isDecimal(lat!) || !isDecimal(long!)) throw badValue(ctx, raw, expected)
    const latitude = Number(lat)
    const longitude = Number(long)
    if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) throw badValue(ctx, raw, expected)
    const perUnit = KM_PER_UNIT.get(units || 'km')
    if (perUnit === undefined) throw badValue(ctx, raw, expected)
    if (!distance) return { kind: 'near', lat: latitude, long: longitude, km: DEFAULT_NEAR_KM }
    if (!isDecimal(distance) || Number(distance) < 0) throw badValue(ctx, raw, expected)
    return { kind: 'near', lat: latitude, long: longitude, km: Number(distance) * perUnit }
  },
  where(x, v) {
    const lat = sql.ref(`${x}.low`)
    const long = sql.ref(`${x}.high`)
    const dLat = v.km / KM_PER_DEGREE
    const box = [sql`${lat} BETWEEN ${String(v.lat - dLat)}::numeric AND ${String(v.lat + dLat)}::numeric`]
    const cosLat = Math.min(Math.cos(((v.lat + dLat) * Math.PI) / 180), Math.cos(((v.lat - dLat) * Math.PI) / 180))
    // At the poles, or when the box crosses ±180°, a longitude range would wrongly cut it: skip it.
    const dLong = cosLat > 0 ? v.km / (KM_PER_DEGREE * cosLat) : Infinity
    if (Math.abs(v.lat) + dLat < 90 && v.long - dLong >= -180 && v.long + dLong <= 180) {
      box.push(sql`${long} BETWEEN ${String(v.long - dLong)}::numeric AND ${String(v.long + dLong)}::numeric`)
    }
    const φ1 = (v.lat * Math.PI) / 180
    const haversine = sql`2 * ${EARTH_RADIUS_KM}::float8 * asin(least(1, sqrt(
      power(sin((radians(${lat}::float8) - ${φ1}::float8) / 2), 2)
      + ${Math.cos(φ1)}::float8 * cos(radians(${lat}::float8)) * power(sin((radians(${long}::float8) - radians(${v.long}::float8)) / 2), 2))))`
    return sql`(${sql.join(box, sql` AND `)} AND ${haversine} <= ${v.km}::float8)`
  },
}
