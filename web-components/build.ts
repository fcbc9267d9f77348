/**
 * Builds the client into `dist/web/`: one minified ES module per entry of `entries.ts` (the whole
 * bundle `aperture.js`, the app's `app.js`, and one per widget such as `post.js`), each also as
 * `<name>.<hash>.js` for immutable caching, sharing hashed `chunk-<hash>.js` files (esbuild's code
 * splitting: Lit and the SDK are downloaded once whichever widgets a page loads). Every file has a
 * `.gz` and a `.br` twin. `index.html` points at the app's hashed entry and preloads its chunks.
 * Prints each entry's size with the chunks it imports and fails when one passes its budget.
 *
 *   npm run build:web            build
 *   tsx web-components/build.ts --if-stale   build only when a source is newer than the output
 */
import * as esbuild from "esbuild"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { brotliCompressSync, constants as zlib, gzipSync } from "node:zlib"
import { ENTRIES, type EntryName } from "./entries.ts"

const here = path.dirname(fileURLToPath(import.meta.url))
export const OUT_DIR = path.resolve(here, "..", "dist", "web")
/** The whole bundle, every element with Lit and the SDK, gzipped: what an embedder of `aperture.js` downloads. */
export const BUDGET_GZIP_BYTES = 60 * 1024
/** Gzipped budgets of an entry with every chunk it imports; `<ap-post>` alone is the embed most pages want. */
export const BUDGETS: Partial<Record<EntryName, number>> = { aperture: BUDGET_GZIP_BYTES, app: BUDGET_GZIP_BYTES, post: 15 * 1024 }

export interface EntrySize {
  /** `post.js`: the stable name. */
  readonly file: string
  /** `post.<hash>.js`: the immutable name. */
  readonly hashedFile: string
  /** The chunks the entry imports, directly or through another chunk (dynamic imports left out). */
  readonly chunks: ReadonlyArray<string>
  /** The entry with its chunks: minified, and each file compressed on its own as served. */
  readonly bytes: number
  readonly gzipBytes: number
  readonly brotliBytes: number
  /** The source files compiled into the entry and its chunks, relative to the repository. */
  readonly sources: ReadonlyArray<string>
}

export interface BuildResult {
  readonly outDir: string
  readonly file: string
  readonly hashedFile: string
  /** The whole bundle (`aperture`) with its chunks. */
  readonly bytes: number
  readonly gzipBytes: number
  readonly entries: Readonly<Record<EntryName, EntrySize>>
}

/** Writes through a temporary name and a rename, so a server (or a parallel test) never reads half a file. */
const writeAtomic = (file: string, data: string | Uint8Array) => {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  fs.writeFileSync(tmp, data)
  fs.renameSync(tmp, file)
}

const gzip = (code: Uint8Array) => gzipSync(code, { level: 9 })
const brotli = (code: Uint8Array) =>
  brotliCompressSync(code, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: code.byteLength, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT } })

/** Hashed names this build writes or removes: entries and chunks, with their twins. */
const HASHED = /^(?:[a-z][a-z-]*\.[0-9a-f]{10}|chunk-[A-Z0-9]{8})\.js(?:\.gz|\.br)?$/

/** The chunks `file` imports statically, transitively, from esbuild's metafile. */
const chunksOf = (metafile: esbuild.Metafile, outKey: (name: string) => string, file: string): Array<string> => {
  const seen = new Set<string>()
  const visit = (name: string) => {
    for (const imp of metafile.outputs[outKey(name)]?.imports ?? []) {
      if (imp.kind !== "import-statement" || imp.external) continue
      const chunk = path.basename(imp.path)
      if (!seen.has(chunk)) {
        seen.add(chunk)
        visit(chunk)
      }
    }
  }
  visit(file)
  return [...seen].sort()
}

/**
 * Three builds, each split into chunks of its own: the whole bundle (one file: a page embedding
 * everything gets it in one piece, not in the app's many small chunks that compress worse apart),
 * the app (what the home page needs, and a chunk per screen it does not show, fetched when first
 * opened), and the widgets, which share Lit, the SDK and the elements they show inside each other.
 */
const GROUPS: ReadonlyArray<ReadonlyArray<EntryName>> = [
  ["aperture"],
  ["app"],
  (Object.keys(ENTRIES) as Array<EntryName>).filter((n) => n !== "aperture" && n !== "app")
]

const bundle = (outDir: string, names: ReadonlyArray<EntryName>) =>
  esbuild.build({
    entryPoints: names.map((out) => ({ in: path.join(here, ENTRIES[out]), out })),
    bundle: true,
    splitting: true,
    format: "esm",
    outdir: outDir,
    entryNames: "[name]",
    chunkNames: "chunk-[hash]",
    target: ["es2022", "chrome110", "firefox115", "safari16"],
    minify: true,
    legalComments: "none",
    metafile: true,
    write: false,
    absWorkingDir: path.resolve(here, ".."),
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: true, verbatimModuleSyntax: true } },
    logLevel: "warning"
  })

export const build = async (outDir = OUT_DIR): Promise<BuildResult> => {
  const results = await Promise.all(GROUPS.map((names) => bundle(outDir, names)))
  const result = {
    outputFiles: results.flatMap((r) => r.outputFiles),
    metafile: { inputs: {}, outputs: Object.assign({}, ...results.map((r) => r.metafile.outputs)) } as esbuild.Metafile
  }
  const metafile = result.metafile
  const outputs = new Map(result.outputFiles.map((f) => [path.basename(f.path), f.contents]))
  const keyOf = new Map(Object.keys(metafile.outputs).map((k) => [path.basename(k), k]))
  const outKey = (name: string) => keyOf.get(name) ?? name

  interface Written { readonly bytes: number; readonly gzipBytes: number; readonly brotliBytes: number }
  const files = new Map<string, Written>()
  const pending: Array<[string, Uint8Array]> = []
  const add = (name: string, code: Uint8Array, names: ReadonlyArray<string>) => {
    const gz = gzip(code)
    const br = brotli(code)
    files.set(name, { bytes: code.byteLength, gzipBytes: gz.byteLength, brotliBytes: br.byteLength })
    for (const n of names) pending.push([n, code], [`${n}.gz`, gz], [`${n}.br`, br])
  }
  for (const [name, code] of outputs) if (name.startsWith("chunk-")) add(name, code, [name])

  const entries = {} as Record<EntryName, EntrySize>
  for (const name of Object.keys(ENTRIES) as Array<EntryName>) {
    const file = `${name}.js`
    const code = outputs.get(file)!
    const hashedFile = `${name}.${createHash("sha256").update(code).digest("hex").slice(0, 10)}.js`
    add(file, code, [file, hashedFile])
    const chunks = chunksOf(metafile, outKey, file)
    const sum = (k: keyof Written) => [file, ...chunks].reduce((n, f) => n + files.get(f)![k], 0)
    const sources = [...new Set([file, ...chunks].flatMap((f) => Object.keys(metafile.outputs[outKey(f)]?.inputs ?? {})))].sort()
    entries[name] = { file, hashedFile, chunks, bytes: sum("bytes"), gzipBytes: sum("gzipBytes"), brotliBytes: sum("brotliBytes"), sources }
  }

  fs.mkdirSync(outDir, { recursive: true })
  // Chunks and hashed entries of the previous build stay: a page or a stable-named entry fetched
  // from it a moment ago may still import them. Older ones go.
  const manifestPath = path.join(outDir, "manifest.json")
  const previous = readManifest(manifestPath)?.files ?? []
  const keep = new Set([...pending.map(([n]) => n), ...previous.flatMap((n) => [n, `${n}.gz`, `${n}.br`])])
  for (const name of fs.readdirSync(outDir)) {
    if (HASHED.test(name) && !keep.has(name)) fs.rmSync(path.join(outDir, name), { force: true })
  }
  for (const [name, data] of pending) writeAtomic(path.join(outDir, name), data)

  const app = entries.app
  const preload = app.chunks.map((c) => `    <link rel="modulepreload" href="/widgets/${c}" />\n`).join("")
  // the boot script runs inline before the app's modules arrive (see app/boot.ts)
  const boot = await esbuild.build({
    entryPoints: [path.join(here, "app", "boot.ts")],
    bundle: true,
    write: false,
    minify: true,
    format: "iife",
    target: ["es2022", "chrome110", "firefox115", "safari16"]
  })
  const bootScript = `    <script>${boot.outputFiles[0]!.text.trim().replaceAll("</", "<\\/")}</script>\n`
  const page = fs.readFileSync(path.join(here, "index.html"), "utf8")
    .replace("%BUNDLE%", app.hashedFile)
    .replace("  </head>", `${preload}${bootScript}  </head>`)
  writeAtomic(path.join(outDir, "index.html"), page)
  const whole = entries.aperture
  const sizes = Object.fromEntries(Object.entries(entries).map(([name, { sources: _, ...size }]) => [name, size]))
  const current = [...files.keys(), ...Object.values(entries).map((e) => e.hashedFile)].filter((n) => HASHED.test(n))
  writeAtomic(manifestPath, JSON.stringify({ bundle: whole.hashedFile, bytes: whole.bytes, gzipBytes: whole.gzipBytes, entries: sizes, files: current }, null, 2))
  return { outDir, file: whole.file, hashedFile: whole.hashedFile, bytes: whole.bytes, gzipBytes: whole.gzipBytes, entries }
}

const readManifest = (file: string): { readonly files?: ReadonlyArray<string> } | undefined => {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"))
  } catch {
    return undefined
  }
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
  if (fs.existsSync(manifest) && fs.statSync(manifest).mtimeMs >= sources && readManifest(manifest)?.files) return
  await build(outDir)
}

export const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`

/** One line per entry: its size with its chunks, minified, gzipped and brotli, and its budget. */
export const sizeTable = (entries: Readonly<Record<EntryName, EntrySize>>): Array<string> => [
  "| entry | chunks | minified | gzip | brotli | budget (gzip) |",
  "| --- | ---: | ---: | ---: | ---: | --- |",
  ...(Object.entries(entries) as Array<[EntryName, EntrySize]>).map(([name, e]) => {
    const budget = BUDGETS[name]
    const verdict = budget === undefined ? "—" : `≤ ${kb(budget)}: ${e.gzipBytes <= budget ? "within" : "OVER"}`
    return `| \`/widgets/${e.file}\` | ${e.chunks.length} | ${kb(e.bytes)} | ${kb(e.gzipBytes)} | ${kb(e.brotliBytes)} | ${verdict} |`
  })
]

/** The entries over their budget. */
export const overBudget = (entries: Readonly<Record<EntryName, EntrySize>>): Array<EntryName> =>
  (Object.keys(BUDGETS) as Array<EntryName>).filter((name) => entries[name].gzipBytes > BUDGETS[name]!)

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--if-stale")) {
    await ensureBuilt()
  } else {
    const r = await build()
    for (const line of sizeTable(r.entries)) console.log(line)
    const over = overBudget(r.entries)
    if (over.length > 0) {
      console.log(`over budget: ${over.join(", ")}`)
      process.exit(1)
    }
  }
}
