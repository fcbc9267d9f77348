/**
 * Start-up time and idle memory of the server, from source through tsx (what production ran
 * before: `node --import tsx src/main.ts`) and compiled (`node dist/main.js`), in one session so
 * both see the same machine. When the Node LTS of the image is in .services/ (test/build.test.ts
 * or `tsx scripts/lts-node.ts` fetch it) the compiled server is measured on it too, on the
 * standard transport where uWS cannot load.
 *
 * A run: spawn → `/readyz` answers 200 (start-up, polled every 10 ms), then 2 s idle, then the
 * resident set size from /proc (idle RSS), then SIGTERM. Runs of the variants alternate, after
 * one warm-up run that applies the migrations, so every measured start finds a migrated database
 * and declared JetStream topology, as a restart in production does.
 *
 *   npm run bench:startup          BENCH_RUNS (default 7) runs per variant
 *
 * Prints a table of medians and writes bench/startup/results.json.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"
import { freePort, REPO_ROOT, sleep } from "../accounts/server.ts"
import { benchDatabaseUrl, envInt, serverSource } from "../support/env.ts"
import { cleanupPrefixes, prefixesOf, runBenchmark } from "../support/lifecycle.ts"
import { buildServer } from "../../scripts/build.ts"
import { LTS_NODE_VERSION, ltsNodePath, uwsLoadsOnLts } from "../../scripts/lts-node.ts"
import { ensureBuilt as ensureWebBuilt } from "../../web-components/build.ts"

const RESULTS_PATH = fileURLToPath(new URL("./results.json", import.meta.url))
const settings = {
  runs: envInt("BENCH_RUNS", 7),
  idleMillis: envInt("BENCH_IDLE_MS", 2000),
  pollMillis: 10
}
const databaseUrl = benchDatabaseUrl("aperture_bench_startup")
const prefixes = prefixesOf(`benchstart${Date.now().toString(36)}`)

interface Variant {
  readonly id: string
  readonly label: string
  readonly node: string
  readonly argv: ReadonlyArray<string>
  readonly transport: "uws" | "node"
}

const variants = (): ReadonlyArray<Variant> => {
  const list: Array<Variant> = [
    { id: "tsx", label: `tsx src/main.ts (node ${process.versions.node})`, node: process.execPath, argv: ["--import", "tsx", "src/main.ts"], transport: "uws" },
    { id: "dist", label: `node dist/main.js (node ${process.versions.node})`, node: process.execPath, argv: ["dist/main.js"], transport: "uws" }
  ]
  const lts = ltsNodePath()
  if (fs.existsSync(lts)) {
    const transport = uwsLoadsOnLts() ? "uws" : "node"
    list.push({ id: "distLts", label: `node dist/main.js (node ${LTS_NODE_VERSION}, ${transport})`, node: lts, argv: ["dist/main.js"], transport })
  }
  return list
}

interface Run {
  readonly startupMillis: number
  readonly idleRssBytes: number
}


const rssBytes = (pid: number) => {
  const line = fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))
  return Number(line?.replace(/\D+/g, "") ?? Number.NaN) * 1024
}

const ready = async (url: string) => {
  try {
    return (await fetch(url)).status === 200
  } catch {
    return false
  }
}

const measure = async (v: Variant): Promise<Run> => {
  const port = await freePort()
  const started = performance.now()
  const child = spawn(v.node, v.argv, {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      HTTP_TRANSPORT: v.transport,
      LOG_LEVEL: "warning",
      DATABASE_URL: databaseUrl,
      NATS_PREFIX: prefixes.nats,
      REDIS_KEY_PREFIX: prefixes.redis
    },
    stdio: ["ignore", "ignore", "pipe"]
  })
  let stderr = ""
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-8000)))
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  try {
    const deadline = Date.now() + 60_000
    while (!(await ready(`http://127.0.0.1:${port}/readyz`))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${v.label} did not become ready:\n${stderr}`)
      await sleep(settings.pollMillis)
    }
    const startupMillis = performance.now() - started
    await sleep(settings.idleMillis)
    return { startupMillis, idleRssBytes: rssBytes(child.pid!) }
  } finally {
    child.kill("SIGTERM")
    await Promise.race([exited, sleep(15_000)])
    child.kill("SIGKILL")
  }
}

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const main = async () => {
  await Promise.all([buildServer(), ensureWebBuilt()])
  const list = variants()
  console.log(`warm-up run (migrations, topology) on ${databaseUrl.replace(/\/\/.*@/, "//")} …`)
  await measure(list[1]!)
  const runs = new Map<string, Array<Run>>(list.map((v) => [v.id, []]))
  for (let i = 0; i < settings.runs; i++) {
    for (const v of i % 2 === 0 ? list : [...list].reverse()) runs.get(v.id)!.push(await measure(v))
    process.stdout.write(`run ${i + 1}/${settings.runs} done\n`)
  }
  const summary = list.map((v) => {
    const rs = runs.get(v.id)!
    return {
      id: v.id,
      label: v.label,
      transport: v.transport,
      startupMillisMedian: Math.round(median(rs.map((r) => r.startupMillis))),
      startupMillisRange: [Math.round(Math.min(...rs.map((r) => r.startupMillis))), Math.round(Math.max(...rs.map((r) => r.startupMillis)))],
      idleRssMiBMedian: Number((median(rs.map((r) => r.idleRssBytes)) / 2 ** 20).toFixed(1)),
      runs: rs
    }
  })
  const rows = [
    ["server", "start-up to /readyz (median, min–max)", "idle RSS (median)"],
    ...summary.map((s) => [s.label, `${s.startupMillisMedian} ms (${s.startupMillisRange[0]}–${s.startupMillisRange[1]})`, `${s.idleRssMiBMedian} MiB`])
  ]
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  console.log(`\nStart-up and idle memory, ${settings.runs} runs each, ${settings.idleMillis} ms idle before RSS`)
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join("  "))
  fs.writeFileSync(
    RESULTS_PATH,
    JSON.stringify({ at: new Date().toISOString(), settings, source: serverSource(), node: process.versions.node, variants: summary }, null, 2)
  )
  console.log(`\nwrote ${RESULTS_PATH}`)
  await cleanupPrefixes(prefixes)
}

runBenchmark(main, { stopMessage: "stopping the server", cleanup: () => cleanupPrefixes(prefixes) })
