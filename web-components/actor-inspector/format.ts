/** How the inspector writes durations, times, node colours and tail filters. */
import type { ObserveFilter } from "../sdk/admin.ts"

/** `840 ms`, `4.2 s`, `3 min`, `2 h`. */
export const duration = (ms: number): string => {
  const a = Math.abs(ms)
  if (a < 1000) return `${Math.round(ms)} ms`
  if (a < 60_000) return `${(ms / 1000).toFixed(1)} s`
  if (a < 3_600_000) return `${Math.round(ms / 60_000)} min`
  return `${Math.round(ms / 3_600_000)} h`
}

/** How long before `now` (both server times, so the reader's clock does not matter): `4.2 s ago`. */
export const ago = (iso: string | null, now: string): string => (iso === null ? "—" : `${duration(Date.parse(now) - Date.parse(iso))} ago`)

/** When a lease runs out, seen from `now`: `in 4.2 s`, or `4.2 s ago` once it has. */
export const until = (iso: string | null, now: string): string => {
  if (iso === null) return "—"
  const ms = Date.parse(iso) - Date.parse(now)
  return ms >= 0 ? `in ${duration(ms)}` : `${duration(-ms)} ago`
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0")

/** A tap's time of day with milliseconds, in the reader's zone (cheap: hundreds of rows a second). */
export const clock = (at: number): string => {
  const d = new Date(at)
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
}

/** One formatter for every figure: `toLocaleString` builds one per call, which shows at 1,024 cells a poll. */
const numbers = new Intl.NumberFormat()
export const count = (n: number | null): string => (n === null ? "—" : numbers.format(n))

/**
 * A stable colour per node: the same name is the same hue in every poll and on every page (a hash,
 * not an index, so nodes joining or leaving do not repaint the others).
 */
export const nodeColor = (node: string): string => {
  let h = 2166136261
  for (let i = 0; i < node.length; i++) h = Math.imul(h ^ node.charCodeAt(i), 16777619)
  // FNV alone leaves names that differ in their last character (node-1, node-2) 179° apart, in
  // two hues: murmur3's finalizer mixes every bit in
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  h = (h ^ (h >>> 16)) >>> 0
  return `hsl(${h % 360} 65% ${38 + ((h >>> 12) % 3) * 10}%)`
}

/** `a, b c` → `["a", "b", "c"]`. */
export const words = (s: string): Array<string> => s.split(/[\s,]+/).filter((w) => w !== "")

/** The server's patterns and limits for a filter (`ObserveFilter`), checked before sending: it counts a frame it cannot decode as a bad one. */
const FIELDS = [
  ["kinds", /^[a-z][a-z0-9_-]{0,31}$/, 16, "lower-case names like timeline"],
  ["keys", /^[A-Za-z0-9_-]{1,128}$/, 64, "letters, digits, '-' and '_'"],
  ["events", /^[a-z*>][a-z0-9_.*>]{0,63}$/, 16, "types like post.created, post.* or story.>"]
] as const

export interface FilterFields {
  readonly kinds: string
  readonly keys: string
  readonly events: string
  readonly sample: string
}

/** The filter the tail form describes (empty fields left out: everything), or what is wrong with it. */
export const filterOf = (fields: FilterFields): ObserveFilter | string => {
  const filter: { -readonly [K in keyof ObserveFilter]: ObserveFilter[K] } = {}
  for (const [name, pattern, max, hint] of FIELDS) {
    const list = words(fields[name])
    const bad = list.find((w) => !pattern.test(w))
    if (bad !== undefined) return `${name[0]!.toUpperCase()}${name.slice(1)}: "${bad}" is not one (${hint}).`
    if (list.length > max) return `At most ${max} ${name}.`
    if (list.length > 0) filter[name] = list
  }
  if (fields.sample.trim() !== "") {
    const sample = Number(fields.sample)
    if (!(sample > 0 && sample <= 1)) return "Sample: a share above 0 and at most 1 (0.1 sends one in ten)."
    if (sample < 1) filter.sample = sample
  }
  return filter
}

/** What a filter tails, in a few words. */
export const describeFilter = (f: ObserveFilter): string => {
  const parts = [
    f.kinds?.length ? `kinds ${f.kinds.join(", ")}` : "",
    f.keys?.length ? `keys ${f.keys.join(", ")}` : "",
    f.events?.length ? `events ${f.events.join(", ")}` : "",
    f.sample !== undefined && f.sample < 1 ? `${Math.round(f.sample * 100)}% sampled` : ""
  ].filter((p) => p !== "")
  return parts.length === 0 ? "everything" : parts.join("; ")
}
