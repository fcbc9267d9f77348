/**
 * Request input checks that run before any decoding: percent-decoding that never throws, and a
 * JSON reader that refuses nesting deeper than a limit before `JSON.parse` (and the error
 * formatting after it) can recurse on it.
 */

/** `decodeURIComponent` that answers undefined for malformed escapes or encoded lone surrogates. */
export const decodePercent = (raw: string): string | undefined => {
  if (!raw.includes("%")) return raw
  try {
    return decodeURIComponent(raw)
  } catch {
    return undefined
  }
}

export type JsonRead =
  | { readonly _tag: "Json"; readonly value: unknown }
  | { readonly _tag: "Invalid"; readonly message: string }

const OPEN_BRACE = 0x7b
const OPEN_BRACKET = 0x5b
const CLOSE_BRACE = 0x7d
const CLOSE_BRACKET = 0x5d
const QUOTE = 0x22
const BACKSLASH = 0x5c

/** The deepest nesting of arrays and objects in JSON text (strings skipped); stops past `limit`. */
export const jsonDepth = (text: string, limit: number): number => {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
      continue
    }
    if (c === QUOTE) inString = true
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++
      if (depth > max) {
        max = depth
        if (max > limit) return max
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--
  }
  return max
}

/** Parses a JSON body; empty means no body (undefined). */
export const readJson = (text: string, maxDepth: number): JsonRead => {
  if (text.length === 0) return { _tag: "Json", value: undefined }
  if (jsonDepth(text, maxDepth) > maxDepth) {
    return { _tag: "Invalid", message: `body is nested deeper than ${maxDepth} levels` }
  }
  try {
    return { _tag: "Json", value: JSON.parse(text) }
  } catch {
    return { _tag: "Invalid", message: "body is not valid JSON" }
  }
}

/** Unread request bodies up to this size (or chunked ones) are drained rather than cut off (see Exchange.canDrain). */
const DRAIN_BYTES = 16 * 1024 * 1024
export const drainable = (declaredLength: string | undefined) => declaredLength === undefined || Number(declaredLength) <= DRAIN_BYTES

const DECIMAL = /^\d{1,15}$/

/**
 * Collects request headers as a transport reads them: lower-case names, the first value of a
 * repeated header, the size of the whole head, and whether Content-Length is ambiguous (repeated
 * with different values, or not a decimal number) — the request-smuggling case.
 */
export const headCollector = () => {
  const headers: Record<string, string> = {}
  let headerBytes = 0
  let length: string | undefined
  let badLength = false
  return {
    add: (name: string, value: string) => {
      headerBytes += name.length + value.length + 4
      if (name === "content-length") {
        if (!DECIMAL.test(value) || (length !== undefined && length !== value)) badLength = true
        length = value
      }
      if (headers[name] === undefined) headers[name] = value
    },
    done: () => ({ headers, headerBytes, badLength })
  }
}
