/**
 * `npm start`. Plain JavaScript, because a production install has no TypeScript runner.
 *
 * NODE_ENV=production: runs the compiled server, `dist/main.js`, in this process. Where the
 * sources and the build tools are present (a checkout, not the image), what is older than its
 * sources is rebuilt first; without a build it stops with a message saying how to make one.
 *
 * Otherwise (development): builds the web client when its sources changed, then runs
 * `src/main.ts` through tsx in this process.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const has = (pkg) => {
  try {
    createRequire(path.join(root, "package.json")).resolve(pkg)
    return true
  } catch {
    return false
  }
}
const tsx = (script, ...args) =>
  execFileSync(process.execPath, ["--import", "tsx", path.join(root, script), ...args], { cwd: root, stdio: "inherit" })

if (process.env.NODE_ENV === "production") {
  const main = path.join(root, "dist", "main.js")
  if (fs.existsSync(path.join(root, "src", "main.ts")) && has("tsx") && has("esbuild")) tsx("scripts/build.ts", "--if-stale")
  if (!fs.existsSync(main)) {
    console.error("npm start: dist/main.js is missing; run `npm run build` first (it needs the dev dependencies)")
    process.exit(1)
  }
  await import(pathToFileURL(main).href)
} else {
  tsx("web-components/build.ts", "--if-stale")
  const { register } = await import("tsx/esm/api")
  register()
  await import(pathToFileURL(path.join(root, "src", "main.ts")).href)
}
