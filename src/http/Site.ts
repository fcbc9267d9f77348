/**
 * The site's own files and its shared-link pages: the favicon and the web-app manifest (served
 * like the documentation assets), and the app's `index.html` with a page's head filled in — its
 * `<title>`, description, Open Graph and Twitter tags and the oEmbed discovery link — for the
 * server-rendered post and profile pages (`routes/pages.ts`).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { StaticAsset } from "./Docs.ts"
import { WEB_DIR } from "./Static.ts"

const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">` +
  `<rect width="64" height="64" rx="14" fill="#1b1f24"/>` +
  `<circle cx="32" cy="32" r="19" fill="none" stroke="#fff" stroke-width="5"/>` +
  `<circle cx="32" cy="32" r="8" fill="#f5a623"/></svg>`

const MANIFEST = JSON.stringify({
  name: "Aperture",
  short_name: "Aperture",
  description: "Share photos, follow friends, see their stories.",
  start_url: "/",
  scope: "/",
  display: "standalone",
  background_color: "#ffffff",
  theme_color: "#1b1f24",
  icons: [{ src: "/favicon.svg", sizes: "any", type: "image/svg+xml", purpose: "any maskable" }]
})

export const siteAssets: Readonly<Record<string, StaticAsset>> = {
  "/favicon.svg": { contentType: "image/svg+xml", cacheControl: "public, max-age=86400", body: () => FAVICON },
  // browsers ask for /favicon.ico before reading the page: the same picture
  "/favicon.ico": { contentType: "image/svg+xml", cacheControl: "public, max-age=86400", body: () => FAVICON },
  "/manifest.webmanifest": { contentType: "application/manifest+json", cacheControl: "public, max-age=3600", body: () => MANIFEST }
}

/** What a page's head says about it. */
export interface PageMeta {
  readonly title: string
  readonly description?: string | undefined
  readonly url?: string | undefined
  readonly image?: string | undefined
  readonly imageAlt?: string | undefined
  readonly type?: "article" | "profile" | "website" | undefined
  /** The oEmbed URL of the page (discovery link). */
  readonly oembed?: string | undefined
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&${({ "&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "#39" } as const)[c as "&"]};`)

/** At most `n` characters, cut at a word and marked with an ellipsis. */
export const clip = (s: string, n: number) => {
  const flat = s.replace(/\s+/g, " ").trim()
  if ([...flat].length <= n) return flat
  const cut = [...flat].slice(0, n - 1).join("")
  const at = cut.lastIndexOf(" ")
  return `${at > n / 2 ? cut.slice(0, at) : cut}…`
}

const NOT_BUILT = "<!doctype html><html><head><meta charset=utf-8><title>Aperture</title></head><body><p>The web client is not built yet: run <code>npm run build:web</code>.</p></body></html>"

let shell: { mtimeMs: number; html: string } | undefined
/** The app's `index.html` (re-read when the build changes it), or undefined before `npm run build:web`. */
const appShell = (dir: string): string | undefined => {
  const file = path.join(dir, "index.html")
  try {
    const stat = fs.statSync(file)
    if (shell === undefined || shell.mtimeMs !== stat.mtimeMs) shell = { mtimeMs: stat.mtimeMs, html: fs.readFileSync(file, "utf8") }
    return shell.html
  } catch {
    return undefined
  }
}

/** The app's page with `meta` in its head (the title replaced, the tags added before `</head>`). */
export const renderPage = (meta: PageMeta, dir = WEB_DIR): string => {
  const html = appShell(dir) ?? NOT_BUILT
  const tags: Array<string> = []
  const prop = (p: string, v: string | undefined) => {
    if (v !== undefined && v !== "") tags.push(`<meta property="${p}" content="${escape(v)}" />`)
  }
  const name = (n: string, v: string | undefined) => {
    if (v !== undefined && v !== "") tags.push(`<meta name="${n}" content="${escape(v)}" />`)
  }
  name("description", meta.description)
  prop("og:site_name", "Aperture")
  prop("og:title", meta.title)
  prop("og:description", meta.description)
  prop("og:type", meta.type ?? "website")
  prop("og:url", meta.url)
  prop("og:image", meta.image)
  prop("og:image:alt", meta.imageAlt)
  name("twitter:card", meta.image === undefined ? "summary" : "summary_large_image")
  if (meta.url !== undefined) tags.push(`<link rel="canonical" href="${escape(meta.url)}" />`)
  if (meta.oembed !== undefined) {
    tags.push(`<link rel="alternate" type="application/json+oembed" href="${escape(meta.oembed)}" title="${escape(meta.title)}" />`)
  }
  const titled = html.replace(/<title>[^<]*<\/title>/, `<title>${escape(meta.title)}</title>`)
  return titled.includes("</head>") ? titled.replace("</head>", `    ${tags.join("\n    ")}\n  </head>`) : titled
}
