/**
 * The client's entry points as an embedder meets them: each entry with the chunks it imports
 * stays within its gzipped budget (counted from the files themselves, not only from esbuild's
 * metafile), the app's first load leaves the admin-only inspector out, and `/widgets/post.js`,
 * served by `webAsset` as the server serves it, loads in Chromium with only its own chunks,
 * defines `ap-post` and nothing else, and renders a post.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as http from "node:http"
import { createRequire } from "node:module"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { gzipSync } from "node:zlib"
import type { Browser } from "playwright-core"
import { webAsset } from "../../src/http/Static.ts"
import { type BuildResult, BUDGETS, build, OUT_DIR } from "../../web-components/build.ts"
import { ENTRY_NAMES, type EntryName } from "../../web-components/entries.ts"
import { launchChromium, screenshot } from "../e2e/support/browser.ts"

let built: BuildResult
beforeAll(async () => {
  built = await build()
}, 60_000)

/** The chunks a file imports statically, read from the minified code itself. */
const importsOf = (file: string): Array<string> => {
  const code = fs.readFileSync(path.join(OUT_DIR, file), "utf8")
  // esbuild writes `import{a as b}from"./chunk-X.js"` and `import"./chunk-X.js"`; a dynamic import is `import("./chunk-X.js")`
  return [...code.matchAll(/(?:from|import)\s*"\.\/(chunk-[A-Z0-9]{8}\.js)"/g)].map((m) => m[1]!)
}

const closure = (file: string): Set<string> => {
  const seen = new Set<string>()
  const visit = (f: string) => {
    for (const c of importsOf(f)) if (!seen.has(c)) visit((seen.add(c), c))
  }
  visit(file)
  return seen
}

const gzipOf = (files: Iterable<string>) => [...files].reduce((n, f) => n + gzipSync(fs.readFileSync(path.join(OUT_DIR, f)), { level: 9 }).byteLength, 0)

describe("entry sizes", () => {
  it("counts every chunk an entry imports, transitively, as the browser fetches them", () => {
    for (const name of ENTRY_NAMES) {
      const entry = built.entries[name]
      assert.deepStrictEqual([...closure(entry.file)].sort(), [...entry.chunks], name)
      assert.strictEqual(entry.gzipBytes, gzipOf([entry.file, ...entry.chunks]), name)
      assert.strictEqual(fs.readFileSync(path.join(OUT_DIR, entry.hashedFile), "utf8"), fs.readFileSync(path.join(OUT_DIR, entry.file), "utf8"), name)
      assert.isBelow(entry.brotliBytes, entry.gzipBytes, name)
    }
  })

  it("keeps <ap-post> alone within 15 KB gzipped with Lit, and the whole bundle and the app within 60 KB", () => {
    assert.strictEqual(BUDGETS.post, 15 * 1024)
    for (const [name, budget] of Object.entries(BUDGETS) as Array<[EntryName, number]>) {
      assert.isAtMost(built.entries[name].gzipBytes, budget, `${name}: ${built.entries[name].gzipBytes} bytes gzipped`)
    }
    assert.isBelow(built.entries.post.gzipBytes, built.entries.aperture.gzipBytes / 3)
  })

  it("leaves the actor inspector and settings out of the app's first load and the widget bundle; each has its own entry", () => {
    const inspector = (name: EntryName) => built.entries[name].sources.filter((s) => s.startsWith("web-components/actor-inspector/"))
    const settings = (name: EntryName) => built.entries[name].sources.filter((s) => s.startsWith("web-components/settings/"))
    assert.deepStrictEqual(inspector("app"), [])
    assert.deepStrictEqual(settings("app"), [])
    assert.deepStrictEqual(inspector("aperture"), [])
    assert.deepStrictEqual(settings("aperture"), [])
    assert.include(inspector("actor-inspector"), "web-components/actor-inspector/actor-inspector.component.ts")
    assert.include(settings("settings"), "web-components/settings/settings.component.ts")
    assert.include(built.entries.app.sources, "web-components/app/app.component.ts")
    // the app reaches it by a dynamic import of a chunk of its own
    const app = fs.readFileSync(path.join(OUT_DIR, "app.js"), "utf8") + [...closure("app.js")].map((c) => fs.readFileSync(path.join(OUT_DIR, c), "utf8")).join("")
    const lazy = [...app.matchAll(/import\("\.\/(chunk-[A-Z0-9]{8}\.js)"\)/g)].map((m) => m[1]!)
    assert.isNotEmpty(lazy)
    const read = (c: string) => [c, ...closure(c)].map((f) => fs.readFileSync(path.join(OUT_DIR, f), "utf8")).join("")
    assert.isTrue(lazy.some((c) => read(c).includes('"ap-actor-inspector"')))
    assert.notInclude(app, '"ap-actor-inspector",')
    const page = fs.readFileSync(path.join(OUT_DIR, "index.html"), "utf8")
    assert.include(page, `src="/widgets/${built.entries.app.hashedFile}"`)
    for (const c of built.entries.app.chunks) assert.include(page, `<link rel="modulepreload" href="/widgets/${c}" />`)
  })

  it("names only post.js' chunks in post.js, none of the other widgets' code", () => {
    const sources = built.entries.post.sources
    for (const other of ["feed", "profile", "composer", "story-tray", "dm-thread", "actor-inspector", "app"]) {
      assert.isFalse(sources.some((s) => s.startsWith(`web-components/${other}/`)), other)
    }
    assert.include(sources, "node_modules/lit-element/lit-element.js")
  })
})

const POST_ID = "0b7f1f6e-1111-4c1c-9a1a-2b2b2b2b2b2b"
const samplePost = {
  id: POST_ID,
  status: "published",
  caption: "a lighthouse at dusk",
  altText: "a lighthouse",
  location: null,
  variants: { thumbnail: `/media/${POST_ID}-w150.webp`, small: `/media/${POST_ID}-w320.webp`, medium: `/media/${POST_ID}-w640.webp`, large: `/media/${POST_ID}-w1080.webp` },
  width: 1080,
  height: 1350,
  placeholder: "data:image/webp;base64,AAAA",
  dominantColor: "#336699",
  hashtags: [],
  mentions: [],
  counts: { likes: 3, comments: 0 },
  author: { id: "id-bob", username: "bob", displayName: "Bob", avatar: null, isPrivate: false },
  viewer: { isLiked: false, isSaved: false },
  createdAt: "2026-01-01T00:00:00Z",
  publishedAt: "2026-01-01T00:00:00Z"
}

const TAGS = ["ap-app", "ap-actor-inspector", "ap-composer", "ap-dm-inbox", "ap-dm-thread", "ap-feed", "ap-notifications", "ap-post", "ap-profile", "ap-story-tray", "ap-story-viewer", "ap-user-search"]

describe("/widgets/post.js in Chromium", () => {
  let browser: Browser
  let server: http.Server
  let base = ""
  const encodings = new Map<string, string>()

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x")
      if (url.pathname === "/") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" })
        return res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A blog</title>
<script type="module" src="/widgets/post.js"></script></head>
<body><ap-post post-id="${POST_ID}" api="${base}"></ap-post></body></html>`)
      }
      if (url.pathname === `/api/v1/posts/${POST_ID}`) {
        res.writeHead(200, { "content-type": "application/json", "access-control-allow-origin": "*" })
        return res.end(JSON.stringify(samplePost))
      }
      const asset = webAsset(url.pathname, String(req.headers["accept-encoding"] ?? ""))
      if (asset === undefined) {
        res.writeHead(404)
        return res.end()
      }
      encodings.set(url.pathname, asset.headers["content-encoding"] ?? "identity")
      res.writeHead(asset.status, asset.headers)
      res.end(asset.body)
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await launchChromium()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await new Promise((resolve) => server?.close(resolve))
  })

  it("loads its own chunks only (brotli), defines only ap-post, renders the post, and axe finds nothing serious", async () => {
    const page = await browser.newPage()
    const errors: Array<string> = []
    page.on("pageerror", (e) => errors.push(e.message))
    const scripts: Array<string> = []
    page.on("request", (r) => {
      if (r.resourceType() === "script") scripts.push(new URL(r.url()).pathname)
    })
    await page.goto(`${base}/`)
    await page.locator("ap-post .caption").filter({ hasText: "a lighthouse at dusk" }).waitFor({ timeout: 20_000 }).catch((e: Error) => {
      throw new Error(`${e.message}\npage errors: ${errors.join("; ")}`)
    })
    await screenshot(page, "widget-post-entry")
    const defined = await page.evaluate((tags) => tags.filter((t) => customElements.get(t) !== undefined), TAGS)
    assert.deepStrictEqual(defined, ["ap-post"])
    const expected = ["/widgets/post.js", ...built.entries.post.chunks.map((c) => `/widgets/${c}`)]
    assert.deepStrictEqual([...scripts].sort(), expected.sort())
    for (const p of expected) assert.strictEqual(encodings.get(p), "br", p)
    assert.deepStrictEqual(errors, [])
    await page.addScriptTag({ content: fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8") })
    const violations = await page.evaluate(async () => {
      const w = window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: Array<{ id: string; impact: string }> }> } }
      const r = await w.axe.run(document, { resultTypes: ["violations"] })
      return r.violations.filter((v) => v.impact === "critical" || v.impact === "serious").map((v) => `${v.id} (${v.impact})`)
    })
    assert.deepStrictEqual(violations, [])
    await page.close()
  }, 60_000)
})
