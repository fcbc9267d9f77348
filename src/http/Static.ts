/**
 * The web client's files, built by `npm run build:web` into `dist/web/`: the app's `index.html`
 * at `/` and at every client-side route, and each entry of `web-components/entries.ts` (the whole
 * bundle `aperture`, the app's `app`, one per widget such as `post`) at `/widgets/<name>.js` (short
 * cache) and `/widgets/<name>.<hash>.js` (immutable), with the chunks they import at
 * `/widgets/chunk-<hash>.js` (immutable). Paths the API owns are never answered here.
 * `resolveStatic` decides from the path alone; `webAsset` reads the file (cached, re-read when the
 * build changes it) and picks the brotli or gzipped twin the client accepts.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { ENTRY_NAMES } from "../../web-components/entries.ts"

const here = path.dirname(fileURLToPath(import.meta.url))
/** `dist/web/` of this checkout: found from `src/http/` when run from source, from `dist/` when run compiled (`dist/main.js`). */
export const WEB_DIR = path.basename(here) === "dist" ? path.join(here, "web") : path.resolve(here, "..", "..", "dist", "web")

/** Prefixes of the server's own paths: a client route never starts with one of them. */
const SERVER_PREFIXES = ["/api", "/media", "/docs", "/ws", "/healthz", "/readyz", "/metrics", "/widgets"]

const IMMUTABLE = "public, max-age=31536000, immutable"
/** The stable widget name may change with any deploy: embedders get a new build within minutes. */
const SHORT = "public, max-age=300"
const ENTRY = new RegExp(`^/widgets/(${ENTRY_NAMES.join("|")})(\\.[0-9a-f]{10})?\\.js$`)
/** esbuild's content hash: a changed chunk gets a new name, so it is cached for good. */
const CHUNK = /^\/widgets\/(chunk-[A-Z0-9]{8}\.js)$/
const JS = "text/javascript; charset=utf-8"

export interface StaticFile {
  /** The file's name inside the build directory. */
  readonly file: string
  readonly contentType: string
  readonly cacheControl: string
  /** Widgets load as cross-origin module scripts, which browsers fetch with CORS. */
  readonly crossOrigin: boolean
}

/** What to serve for a GET of `pathname`, or undefined when the path is not the client's. */
export const resolveStatic = (pathname: string): StaticFile | undefined => {
  const entry = ENTRY.exec(pathname)
  if (entry) return { file: pathname.slice("/widgets/".length), contentType: JS, cacheControl: entry[2] ? IMMUTABLE : SHORT, crossOrigin: true }
  const chunk = CHUNK.exec(pathname)
  if (chunk) return { file: chunk[1]!, contentType: JS, cacheControl: IMMUTABLE, crossOrigin: true }
  if (SERVER_PREFIXES.some((p) => pathname === p || pathname.startsWith(`${p}/`))) return undefined
  // a client route is a path of plain segments: `/`, `/u/alice`, `/p/<id>`; `/favicon.ico` is not one
  const last = pathname.slice(pathname.lastIndexOf("/") + 1)
  if (!pathname.startsWith("/") || last.includes(".") || pathname.includes("//")) return undefined
  return { file: "index.html", contentType: "text/html; charset=utf-8", cacheControl: "no-cache", crossOrigin: false }
}

export interface WebResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
}

interface Cached {
  readonly mtimeMs: number
  readonly body: Uint8Array
}
const cache = new Map<string, Cached>()

const read = (file: string): Uint8Array | undefined => {
  let stat: fs.Stats
  try {
    stat = fs.statSync(file)
  } catch {
    return undefined
  }
  const hit = cache.get(file)
  if (hit && hit.mtimeMs === stat.mtimeMs) return hit.body
  const body = new Uint8Array(fs.readFileSync(file))
  cache.set(file, { mtimeMs: stat.mtimeMs, body })
  return body
}

const NOT_BUILT = new TextEncoder().encode(
  "<!doctype html><meta charset=utf-8><title>Aperture</title><p>The web client is not built yet: run <code>npm run build:web</code>.</p>"
)

/** The compressed twins the build writes, best first: brotli is some 12% smaller than gzip on these files. */
const TWINS = [["br", ".br"], ["gzip", ".gz"]] as const

/** Whether an `Accept-Encoding` value allows `coding` (listed, or `*`, without `q=0`). */
export const accepts = (acceptEncoding: string, coding: string): boolean => {
  let wildcard = false
  for (const part of acceptEncoding.toLowerCase().split(",")) {
    const [name = "", ...params] = part.split(";").map((s) => s.trim())
    const q = params.find((p) => p.startsWith("q="))
    const allowed = q === undefined || Number(q.slice(2)) > 0
    if (name === coding) return allowed
    if (name === "*") wildcard = allowed
  }
  return wildcard
}

/** The response for a GET of `pathname`, or undefined to let the API answer (404 and friends). */
export const webAsset = (pathname: string, acceptEncoding = "", dir = WEB_DIR): WebResponse | undefined => {
  const target = resolveStatic(pathname)
  if (target === undefined) return undefined
  const headers: Record<string, string> = {
    "content-type": target.contentType,
    "cache-control": target.cacheControl,
    "x-content-type-options": "nosniff",
    vary: "accept-encoding"
  }
  if (target.crossOrigin) headers["access-control-allow-origin"] = "*"
  for (const [coding, suffix] of TWINS) {
    const twin = accepts(acceptEncoding, coding) ? read(path.join(dir, `${target.file}${suffix}`)) : undefined
    if (twin) return { status: 200, headers: { ...headers, "content-encoding": coding }, body: twin }
  }
  const body = read(path.join(dir, target.file))
  if (body) return { status: 200, headers, body }
  if (target.file === "index.html") {
    return { status: 503, headers: { ...headers, "cache-control": "no-store" }, body: NOT_BUILT }
  }
  return undefined
}
