/**
 * The production build: the server compiled by esbuild into one ES module, `dist/main.js` (our
 * own code bundled; every package in node_modules stays an import, so native ones — uWebSockets.js,
 * sharp — load as they do from source), and the web client into `dist/web/`.
 *
 *   npm run build                       server and web client
 *   tsx scripts/build.ts --if-stale     only what is older than its sources (`npm start` in production)
 *
 * Not minified: stack traces and Effect's span names stay readable. A source map is written
 * beside it (`node --enable-source-maps dist/main.js` to use it).
 */
import * as esbuild from "esbuild"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { build as buildWeb, ensureBuilt as ensureWebBuilt, newestSource } from "../web-components/build.ts"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
export const SERVER_ENTRY = path.join(root, "src", "main.ts")
export const SERVER_OUT = path.join(root, "dist", "main.js")

export const buildServer = async (outfile = SERVER_OUT): Promise<{ readonly outfile: string; readonly bytes: number }> => {
  await esbuild.build({
    entryPoints: [SERVER_ENTRY],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    // the oldest Node that `engines` admits
    target: "node20.11",
    packages: "external",
    sourcemap: "linked",
    legalComments: "none",
    logLevel: "warning"
  })
  return { outfile, bytes: fs.statSync(outfile).size }
}

/** Whether `dist/main.js` is missing or older than a source file of the server or the lock file. */
export const serverStale = (outfile = SERVER_OUT): boolean => {
  if (!fs.existsSync(outfile)) return true
  const sources = Math.max(newestSource(path.join(root, "src")), fs.statSync(path.join(root, "package-lock.json")).mtimeMs)
  return fs.statSync(outfile).mtimeMs < sources
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--if-stale")) {
    if (serverStale()) console.log(`${path.relative(root, SERVER_OUT)}  ${kb((await buildServer()).bytes)} (rebuilt: sources changed)`)
    await ensureWebBuilt()
  } else {
    const server = await buildServer()
    console.log(`${path.relative(root, server.outfile)}  ${kb(server.bytes)}`)
    const web = await buildWeb()
    console.log(`dist/web/${web.hashedFile}  ${kb(web.bytes)} minified, ${kb(web.gzipBytes)} gzipped`)
  }
}
