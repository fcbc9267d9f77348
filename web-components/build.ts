/**
 * Builds the client: one minified ES module (`aperture.js`, plus `aperture.<hash>.js` for
 * immutable caching, each with a `.gz` twin), and `index.html` for the app, into `dist/web/`.
 * Prints the gzipped size and fails when it passes the 60 KB budget.
 *
 *   npm run build:web            build
 *   tsx web-components/build.ts --if-stale   build only when a source is newer than the output
 */
import * as esbuild from "esbuild"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { gzipSync } from "node:zlib"

const here = path.dirname(fileURLToPath(import.meta.url))
export const OUT_DIR = path.resolve(here, "..", "dist", "web")
export const BUDGET_GZIP_BYTES = 60 * 1024

export interface BuildResult {
  readonly outDir: string
  readonly file: string
  readonly hashedFile: string
  readonly bytes: number
  readonly gzipBytes: number
}

/** Writes through a temporary name and a rename, so a server (or a parallel test) never reads half a file. */
const writeAtomic = (file: string, data: string | Uint8Array) => {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  fs.writeFileSync(tmp, data)
  fs.renameSync(tmp, file)
}

export const build = async (outDir = OUT_DIR): Promise<BuildResult> => {
  const result = await esbuild.build({
    entryPoints: [path.join(here, "index.ts")],
    bundle: true,
    format: "esm",
    target: ["es2022", "chrome110", "firefox115", "safari16"],
    minify: true,
    legalComments: "none",
    write: false,
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: true, verbatimModuleSyntax: true } },
    logLevel: "warning"
  })
  const code = result.outputFiles[0]!.contents
  const hash = createHash("sha256").update(code).digest("hex").slice(0, 10)
  const hashedFile = `aperture.${hash}.js`
  const gz = gzipSync(code, { level: 9 })
  fs.mkdirSync(outDir, { recursive: true })
  for (const name of fs.readdirSync(outDir)) {
    // drop older hashed builds, keeping the one being written
    if (/^aperture\.[0-9a-f]{10}\.js(\.gz)?$/.test(name) && !name.startsWith(hashedFile)) fs.rmSync(path.join(outDir, name), { force: true })
  }
  writeAtomic(path.join(outDir, hashedFile), code)
  writeAtomic(path.join(outDir, `${hashedFile}.gz`), gz)
  writeAtomic(path.join(outDir, "aperture.js"), code)
  writeAtomic(path.join(outDir, "aperture.js.gz"), gz)
  const page = fs.readFileSync(path.join(here, "index.html"), "utf8").replace("%BUNDLE%", hashedFile)
  writeAtomic(path.join(outDir, "index.html"), page)
  writeAtomic(path.join(outDir, "manifest.json"), JSON.stringify({ bundle: hashedFile, bytes: code.byteLength, gzipBytes: gz.byteLength }))
  return { outDir, file: "aperture.js", hashedFile, bytes: code.byteLength, gzipBytes: gz.byteLength }
}

/** The newest modification time of the files below `dir`, tests left out. */
export const newestSource = (dir: string): number => {
  let newest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p))
    else if (!entry.name.endsWith(".test.ts")) newest = Math.max(newest, fs.statSync(p).mtimeMs)
  }
  return newest
}

/** Builds unless `dist/web` is already newer than every source file (tests and `npm start` call this). */
export const ensureBuilt = async (outDir = OUT_DIR): Promise<void> => {
  const manifest = path.join(outDir, "manifest.json")
  const sources = Math.max(newestSource(here), newestSource(path.resolve(here, "..", "src", "domain")))
  if (fs.existsSync(manifest) && fs.statSync(manifest).mtimeMs >= sources) return
  await build(outDir)
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--if-stale")) {
    await ensureBuilt()
  } else {
    const r = await build()
    const within = r.gzipBytes <= BUDGET_GZIP_BYTES
    console.log(`dist/web/${r.hashedFile}  ${kb(r.bytes)} minified, ${kb(r.gzipBytes)} gzipped (budget ${kb(BUDGET_GZIP_BYTES)}: ${within ? "within" : "OVER"})`)
    if (!within) process.exit(1)
  }
}
