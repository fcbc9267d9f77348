/**
 * Real headless Chromium for the browser tests and the client benchmark: Debian's `chromium`
 * driven by playwright-core (which brings no browser of its own). scripts/test.sh installs it.
 */
import * as fs from "node:fs"
import * as http from "node:http"
import { createRequire } from "node:module"
import * as path from "node:path"
import { chromium, type Browser, type Page } from "playwright-core"

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"

export const launchChromium = (): Promise<Browser> => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (scripts/test.sh does)`)
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
  })
}

export const ARTIFACTS = path.resolve(import.meta.dirname, "..", "artifacts")

/** Saves a screenshot under test/e2e/artifacts (kept out of git). */
export const screenshot = async (page: Page, name: string) => {
  fs.mkdirSync(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) })
}

/** A tiny HTTP server standing in for somebody else's site (another origin) that embeds widgets. */
export const servePage = (port: number, html: string): Promise<http.Server> =>
  new Promise((resolve, reject) => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" })
      res.end(html)
    })
    server.once("error", reject)
    server.listen(port, "127.0.0.1", () => resolve(server))
  })

/** Records page errors and failed console lines, to explain a failure. */
export const watch = (page: Page, label: string) => {
  const lines: Array<string> = []
  page.on("pageerror", (e) => lines.push(`[${label}] pageerror: ${e.message}`))
  page.on("console", (m) => {
    if (m.type() === "error") lines.push(`[${label}] console: ${m.text()}`)
  })
  return lines
}

/**
 * Serious and critical axe-core findings, as `id (impact, nodes)`: on the whole document (axe walks
 * into the shadow roots), or inside `path` — hosts from the document down through shadow roots.
 */
export const axe = async (page: Page, path?: ReadonlyArray<string>): Promise<Array<string>> => {
  const source = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8")
  await page.addScriptTag({ content: source })
  return page.evaluate(async (hosts) => {
    const w = window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: unknown }> }> }> } }
    const r = await w.axe.run(hosts === null ? document : { include: [{ fromShadowDom: hosts }] }, { resultTypes: ["violations"] })
    // the first offending node's selector (through shadow roots) says where to look
    return r.violations.filter((v) => v.impact === "critical" || v.impact === "serious").map((v) => `${v.id} (${v.impact}, ${v.nodes.length}) at ${JSON.stringify(v.nodes[0]?.target)}`)
  }, path === undefined ? null : [...path])
}

/** Signs a new person up through the app's form and waits for their home page. */
export const signUp = async (page: Page, base: string, username: string, password = "correct horse battery staple") => {
  await page.goto(`${base}/signup`)
  await page.getByLabel("Username", { exact: true }).fill(username)
  await page.getByLabel("Email").fill(`${username}@example.com`)
  await page.getByLabel("Password").fill(password)
  await page.getByRole("button", { name: "Sign up" }).click()
  await page.getByRole("heading", { name: "Home" }).waitFor()
}
