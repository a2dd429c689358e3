import type { ElementValue } from './element-value.js'
import { isJsonObject, type JsonObject } from './locate.js'

/*
 * In-place edits of one property of a JSON object. A primitive keeps its id and extensions
 * in a `_name` sibling (an index-aligned array for lists, http://hl7.org/fhir/R4/json.html#primitive),
 * so every edit applies to both.
 */

/** Sets `object[key]` (or `object[key][index]`), value and extension sibling together. */
export function setElement(object: JsonObject, key: string, index: number | undefined, value: ElementValue): void {
  const sibling = `_${key}`
  if (index === undefined) {
    if (value.value === null) delete object[key]
    else object[key] = value.value
    if (value.extension === undefined) delete object[sibling]
    else object[sibling] = value.extension
    return
  }
  const list = object[key]
  if (Array.isArray(list)) list[index] = value.value
  const extensions = object[sibling]
  if (Array.isArray(extensions)) extensions[index] = value.extension ?? null
  else if (value.extension !== undefined) object[sibling] = alignedList(index + 1, index, value.extension)
}

/** Inserts into the list `object[key]` at `index` (0 ≤ index ≤ length). */
export function insertElement(object: JsonObject, key: string, index: number, value: ElementValue): void {
  const current = object[key]
  const list: unknown[] = Array.isArray(current) ? current : current === undefined ? [] : [current]
  const length = list.length
  list.splice(index, 0, value.value)
  object[key] = list
  const sibling = `_${key}`
  const extensions = object[sibling]
  if (Array.isArray(extensions)) extensions.splice(index, 0, value.extension ?? null)
  else if (value.extension !== undefined) object[sibling] = alignedList(length + 1, index, value.extension)
}

/** Removes `object[key]` (or one item of it), dropping a property left empty. */
export function removeElement(object: JsonObject, key: string, index: number | undefined): void {
  const sibling = `_${key}`
  if (index === undefined) {
    delete object[key]
    delete object[sibling]
    return
  }
  const list = object[key]
  if (Array.isArray(list)) {
    list.splice(index, 1)
    if (list.length === 0) delete object[key]
  }
  const extensions = object[sibling]
  if (Array.isArray(extensions)) {
    extensions.splice(index, 1)
    if (extensions.every((item) => item === null)) delete object[sibling]
  }
}

/** Moves one item of the list `object[key]` from `source` to `destination`. */
export function moveElement(object: JsonObject, key: string, source: number, destination: number): void {
  for (const name of [key, `_${key}`]) {
    const list = object[name]
    if (!Array.isArray(list)) continue
    // A sibling list may stop short of its values: pad it so its items move with theirs.
    while (list.length <= Math.max(source, destination)) list.push(null)
    const [item] = list.splice(source, 1)
    list.splice(destination, 0, item)
  }
}

/**
 * FHIR JSON has no empty objects or arrays (http://hl7.org/fhir/R4/json.html), so a delete
 * that empties `contact[0].name` removes the name, then the contact, then `contact`.
 * In `_name` sibling lists an emptied item becomes null, keeping the alignment.
 */
export function pruneEmpty(object: JsonObject): void {
  for (const [key, value] of Object.entries(object)) {
    if (isJsonObject(value)) {
      pruneEmpty(value)
      if (Object.keys(value).length === 0) delete object[key]
    } else if (Array.isArray(value)) {
      const isSibling = key.startsWith('_')
      const items = value.flatMap((item: unknown) => {
        if (!isJsonObject(item)) return [item]
        pruneEmpty(item)
        if (Object.keys(item).length > 0) return [item]
        return isSibling ? [null] : []
      })
      if (items.length === 0 || (isSibling && items.every((item) => item === null))) delete object[key]
      else object[key] = items
    }
  }
}

function alignedList(length: number, index: number, item: unknown): unknown[] {
  const list: unknown[] = new Array<unknown>(length).fill(null)
  list[index] = item
  return list
}
