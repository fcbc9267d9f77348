/** Formatting shared by the components. */
import type { Variants } from "../../src/domain/Posts.ts"

/** The widths of the four variants (API: thumbnail 150, small 320, medium 640, large 1080). */
export const VARIANT_WIDTHS = { thumbnail: 150, small: 320, medium: 640, large: 1080 } as const

export const srcset = (variants: Variants, url: (path: string) => string): string =>
  (Object.keys(VARIANT_WIDTHS) as Array<keyof typeof VARIANT_WIDTHS>)
    .map((k) => `${url(variants[k])} ${VARIANT_WIDTHS[k]}w`)
    .join(", ")

const units: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ["year", 31_536_000],
  ["month", 2_592_000],
  ["week", 604_800],
  ["day", 86_400],
  ["hour", 3_600],
  ["minute", 60]
]

export const timeAgo = (iso: string, now = Date.now()): string => {
  const seconds = Math.round((now - Date.parse(iso)) / 1000)
  if (!Number.isFinite(seconds) || seconds < 45) return "just now"
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" })
  for (const [unit, size] of units) if (seconds >= size) return rtf.format(-Math.floor(seconds / size), unit)
  return "just now"
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString()} ${n === 1 ? one : many}`
