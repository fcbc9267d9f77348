/**
 * Accounts benchmark: log-in, profiles, user search and follows against a seeded database of
 * 100,000 users and ~2M follow edges, on the full Aperture server (HTTP_TRANSPORT=uws).
 *
 *   1. Seed `aperture_bench_accounts` once (see seed.ts); later runs reuse it when the marker
 *      matches. BENCH_RESEED=1 drops and rebuilds it.
 *   2. Start one server, warm it up, then per round measure:
 *        GET  /users/:username   max throughput (50 connections), at a fixed 1,000 req/s (the goal)
 *                                and at 500 req/s (diagnostic: below saturation)
 *        GET  /search/users      at a fixed 200 req/s (the goal), at 25 req/s (diagnostic), max throughput
 *        POST /auth/login        throughput with 8 connections (scrypt-bound by design)
 *        POST /users/:u/follow   max throughput, 200 distinct followers → random targets
 *      Reads carry a bearer token, so viewer flags and follow state are computed as for a real user.
 *   3. Print the medians over rounds against the goals; write bench/accounts/results.json; undo the
 *      run's writes in the database; delete the run's NATS streams and Redis keys.
 *
 * Each line reports the cores used meanwhile by the server, PostgreSQL (this database's backends
 * + processes that exited, i.e. parallel workers), this process (the load generator) and the rest
 * of the machine; a large "other" means something else was running and the numbers are suspect.
 *
 * Env: BENCH_DURATION seconds per measurement (default 10), BENCH_ROUNDS (default 3),
 * BENCH_USERS (default 100000), BENCH_RESEED=1, BENCH_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/aperture_bench_accounts), BENCH_SERVER_ROOT (run the server
 * from another checkout, e.g. a `git archive HEAD` export with node_modules linked, while this
 * tree is mid-edit).
 * Run: `npx tsx bench/accounts/run.ts`.
 */
import { randomBytes } from "node:crypto"
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import { failures, type LoadResult, type Next, paced, saturate, withCpu } from "./load.ts"
import { pick, prng, searchTerms } from "./names.ts"
import { describeLoad, fmtInt, fmtMs, machineInfo, type Measurement, type Medians, mediansOf, printTable, type Row, writeJson } from "./report.ts"
import * as Seed from "./seed.ts"
import { assertAlive, REPO_ROOT, request, type Server, sleep, startServer, stopServer } from "./server.ts"
import { baseServerEnv, benchDatabaseUrl, envInt, NO_RATE_LIMITS, SERVER_ROOT, serverSource } from "../support/env.ts"
import { cleanupPrefixes, prefixesOf, runBenchmark } from "../support/lifecycle.ts"
import { backendPids, databaseName, dropDatabase, reseedRequested, reuseOrRebuild, type SeedInfo } from "../support/pgdb.ts"
import { createSessions } from "../support/sessions.ts"

// ---------------------------------------------------------------------------------------------
// Settings

const settings = {
  durationSeconds: envInt("BENCH_DURATION", 10),
  rounds: envInt("BENCH_ROUNDS", 3),
  warmupSeconds: 2,
  pauseBetweenMillis: 1_000,
  connections: 50,
  loginConnections: 8,
  profileRate: 1_000,
  searchRate: 200,
  // diagnostic rates without goals: how the endpoints behave when they are not overloaded
  profileLowRate: 500,
  searchLowRate: 25,
  // enough sockets that a slow answer never holds up the next due request
  pacedMaxSockets: 64,
  // an overloaded server's backlog is abandoned this long after the last request was due
  pacedDrainMillis: 5_000,
  followers: 200,
  // log-ins rotate over this many accounts, as a real login burst comes from many people
  loginAccounts: 50,
  searchTermCount: 3_000,
  goals: { profileP99Ms: 10, searchP99Ms: 25 },
  // cores used outside the server, its database backends and autocannon; NATS, Redis and
  // PostgreSQL's background work stay well under this
  otherCpuWarning: 0.3
} as const

const seedSettings: Seed.SeedSettings = {
  users: envInt("BENCH_USERS", 100_000),
  // exponential draws with this mean; collapsing the duplicates (mostly of the top accounts) leaves ~20 distinct
  followDrawsPerUser: 24,
  zipfExponent: 1.1,
  privateShare: 0.1,
  password: "bench-accounts correct horse 42"
}

const DATABASE_URL = benchDatabaseUrl("aperture_bench_accounts")
const RESULTS_PATH = fileURLToPath(new URL("./results.json", import.meta.url))
const API = "/api/v1"

// One prefix for the run, so cleanup has a single prefix to delete.
const prefixes = prefixesOf(`benchacc${randomBytes(4).toString("hex")}`)
const serverEnv: Readonly<Record<string, string>> = { ...baseServerEnv("uws", DATABASE_URL, prefixes), ...NO_RATE_LIMITS }

// ---------------------------------------------------------------------------------------------
// Seed

/** Reuses a matching seed; otherwise lets the server create and migrate the database, then fills it. */
const ensureSeed = async (): Promise<SeedInfo<Seed.Marker>> => {
  const name = databaseName(DATABASE_URL)
  if (reseedRequested()) {
    console.log(`BENCH_RESEED=1: dropping ${name}`)
    await dropDatabase(DATABASE_URL)
  }
  const existing = await Seed.readMarker(DATABASE_URL)
  return reuseOrRebuild(DATABASE_URL, existing, (m) => Seed.markerMatches(m, seedSettings), async () => {
    console.log(`seeding ${name}: ${fmtInt(seedSettings.users)} users, a power-law follow graph (starting the server once to migrate)`)
    await stopServer(await startServer(SERVER_ROOT, serverEnv))
    const marker = await Seed.seed(DATABASE_URL, seedSettings, (line) => console.log(line))
    console.log(`seeded in ${marker.seedSeconds} s: ${fmtInt(marker.users)} users, ${fmtInt(marker.edges)} follow edges, ` +
      `top account ${fmtInt(marker.maxFollowers)} followers\n`)
    return marker
  })
}

/** A reused seed may have gained or lost indexes since it was made; the plans measured follow them. */
const warnOnDrift = (drift: { readonly added: ReadonlyArray<string>; readonly removed: ReadonlyArray<string> }) => {
  if (drift.added.length + drift.removed.length === 0) return
  console.log("WARNING: the indexes of the measured tables differ from the seed's (a newer migration, or a manual change):")
  for (const d of drift.added) console.log(`  + ${d}`)
  for (const d of drift.removed) console.log(`  - ${d}`)
  console.log("  BENCH_RESEED=1 rebuilds the database from the server's migrations\n")
}

// ---------------------------------------------------------------------------------------------
// Fixtures: who logs in, who follows, what is looked up

interface Fixtures {
  readonly viewerToken: string
  readonly viewer: string
  readonly usernames: ReadonlyArray<string>
  readonly loginNames: ReadonlyArray<string>
  readonly followers: ReadonlyArray<{ readonly username: string; readonly token: string }>
  readonly searches: ReturnType<typeof searchTerms>
}

const random = prng(7)

/** One real login through the API: it proves the seeded hash verifies and yields the viewer's token. */
const login = async (server: Server, username: string): Promise<string> => {
  const r = await request(`${server.baseUrl}${API}/auth/login`, { method: "POST", json: { login: username, password: seedSettings.password } })
  if (r.status !== 200) throw new Error(`login as ${username} answered ${r.status}: ${r.body.slice(0, 300)}`)
  return (JSON.parse(r.body) as { token: string }).token
}

const makeFixtures = async (server: Server): Promise<Fixtures> => {
  const users = await Seed.loadUsers(DATABASE_URL)
  const publicUsers = users.filter((u) => !u.isPrivate)
  const viewer = pick(random, publicUsers).username
  const followers = [...new Set(Array.from({ length: settings.followers }, () => pick(random, users)))]
  const tokens = await createSessions(DATABASE_URL, followers.map((u) => u.id), "bench/accounts")
  return {
    viewer,
    viewerToken: await login(server, viewer),
    usernames: users.map((u) => u.username),
    loginNames: Array.from({ length: settings.loginAccounts }, () => pick(random, publicUsers).username),
    followers: followers.map((u, i) => ({ username: u.username, token: tokens[i]! })),
    searches: searchTerms(users, settings.searchTermCount, 11)
  }
}

// ---------------------------------------------------------------------------------------------
// Requests

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

const profileRequest = (f: Fixtures) => (): Next => ({
  method: "GET",
  path: `${API}/users/${pick(random, f.usernames)}`,
  headers: bearer(f.viewerToken)
})

const searchRequest = (f: Fixtures) => (): Next => {
  const term = pick(random, f.searches)
  return { method: "GET", path: `${API}/search/users?q=${encodeURIComponent(term.q)}&limit=20`, headers: bearer(f.viewerToken), tag: term.kind }
}

const loginRequest = (f: Fixtures) => (): Next => ({
  method: "POST",
  path: `${API}/auth/login`,
  body: JSON.stringify({ login: pick(random, f.loginNames), password: seedSettings.password })
})

const followRequest = (f: Fixtures) => (): Next => {
  const follower = pick(random, f.followers)
  let target = pick(random, f.usernames)
  // following yourself is a 422, which would read as a failure
  while (target === follower.username) target = pick(random, f.usernames)
  return { method: "POST", path: `${API}/users/${target}/follow`, headers: bearer(follower.token) }
}

/** One request of each kind, with cheap checks of the answer: a benchmark of 4xx answers measures nothing. */
const preflight = async (server: Server, f: Fixtures) => {
  const expect = async (label: string, next: Next, check: (body: string) => boolean) => {
    const r = await request(`${server.baseUrl}${next.path}`, {
      method: next.method,
      headers: next.headers ?? {},
      ...(next.body === undefined ? {} : { json: JSON.parse(next.body) as unknown })
    })
    if (r.status !== 200 || !check(r.body)) throw new Error(`preflight ${label}: ${r.status} ${r.body.slice(0, 300)}`)
  }
  await expect("profile", profileRequest(f)(), (b) => {
    const profile = JSON.parse(b) as { counts?: unknown; viewer?: unknown }
    return typeof profile.counts === "object" && typeof profile.viewer === "object"
  })
  await expect("search", { method: "GET", path: `${API}/search/users?q=${f.viewer.slice(0, 4)}`, headers: bearer(f.viewerToken) }, (b) =>
    (JSON.parse(b) as { items: Array<unknown> }).items.length > 0)
  await expect("follow", followRequest(f)(), (b) => ["following", "requested"].includes((JSON.parse(b) as { status: string }).status))
}

// ---------------------------------------------------------------------------------------------
// Scenarios

type ScenarioId = "profileMax" | "profileFixed" | "profileLow" | "searchFixed" | "searchLow" | "searchMax" | "login" | "follow"

interface Scenario {
  readonly id: ScenarioId
  readonly label: string
  readonly run: (server: Server, f: Fixtures, durationSeconds: number) => Promise<LoadResult>
}

const closed = (next: (f: Fixtures) => () => Next, connections: number) =>
  (server: Server, f: Fixtures, durationSeconds: number) => saturate(server.baseUrl, next(f), { connections, durationSeconds })

const open = (next: (f: Fixtures) => () => Next, rate: number) =>
  (server: Server, f: Fixtures, durationSeconds: number) =>
    paced(server.baseUrl, next(f), { rate, durationSeconds, maxSockets: settings.pacedMaxSockets, drainMillis: settings.pacedDrainMillis })

// reads first, so they see the seeded graph; then the CPU-bound logins; writes last
const SCENARIOS: ReadonlyArray<Scenario> = [
  { id: "profileMax", label: `GET profile, ${settings.connections} conns`, run: closed(profileRequest, settings.connections) },
  { id: "profileFixed", label: `GET profile @ ${fmtInt(settings.profileRate)}/s`, run: open(profileRequest, settings.profileRate) },
  { id: "profileLow", label: `GET profile @ ${settings.profileLowRate}/s`, run: open(profileRequest, settings.profileLowRate) },
  { id: "searchFixed", label: `search @ ${settings.searchRate}/s`, run: open(searchRequest, settings.searchRate) },
  { id: "searchLow", label: `search @ ${settings.searchLowRate}/s`, run: open(searchRequest, settings.searchLowRate) },
  { id: "searchMax", label: `search, ${settings.connections} conns`, run: closed(searchRequest, settings.connections) },
  { id: "login", label: `login, ${settings.loginConnections} conns`, run: closed(loginRequest, settings.loginConnections) },
  { id: "follow", label: `follow, ${settings.connections} conns`, run: closed(followRequest, settings.connections) }
]

/** JIT, connection pools and PostgreSQL's caches, before anything counts. */
const warmUp = async (server: Server, f: Fixtures) => {
  for (const next of [profileRequest, searchRequest, followRequest]) {
    await saturate(server.baseUrl, next(f), { connections: settings.connections, durationSeconds: settings.warmupSeconds })
  }
  assertAlive(server, "the warm-up")
}

const runRounds = async (server: Server, f: Fixtures): Promise<Record<ScenarioId, Array<Measurement>>> => {
  const results = Object.fromEntries(SCENARIOS.map((s) => [s.id, []])) as unknown as Record<ScenarioId, Array<Measurement>>
  for (let round = 1; round <= settings.rounds; round++) {
    for (const scenario of SCENARIOS) {
      const { result, cpu } = await withCpu(
        server.child.pid ?? -1,
        () => backendPids(DATABASE_URL),
        () => scenario.run(server, f, settings.durationSeconds)
      )
      assertAlive(server, scenario.label)
      results[scenario.id].push({ round, result, cpu })
      const at = new Date().toISOString().slice(11, 19)
      console.log(`${at} [round ${round}/${settings.rounds}] ${scenario.label.padEnd(24)} ${describeLoad(result, cpu, settings.otherCpuWarning)}`)
      await sleep(settings.pauseBetweenMillis)
    }
  }
  return results
}

// ---------------------------------------------------------------------------------------------
// Summary

/** The rows of one fixed-rate measurement: the rate answered, p50, and p99 against its goal if any. */
const fixedRows = (label: string, x: Medians, rate: number, p99GoalMs?: number): ReadonlyArray<Row> => {
  // with requests abandoned unanswered, a percentile is only a lower bound
  const atLeast = (ms: number) => `${x.unfinished > 0 ? "≥ " : ""}${fmtMs(ms)} ms`
  const p99: Row = p99GoalMs === undefined
    ? { metric: `${label}: p99`, value: atLeast(x.p99Ms), goal: "—" }
    : {
      metric: `${label}: p99`,
      value: atLeast(x.p99Ms),
      goal: `< ${p99GoalMs} ms`,
      // the goal counts only when the rate was actually delivered and nothing failed
      met: x.p99Ms < p99GoalMs && x.failures === 0 && x.reqPerSec >= rate * 0.95
    }
  return [
    { metric: `${label}: answered`, value: `${fmtInt(x.reqPerSec)} req/s`, goal: "—" },
    { metric: `${label}: p50`, value: atLeast(x.p50Ms), goal: "—" },
    p99
  ]
}

const tableRows = (m: Record<ScenarioId, Medians>): ReadonlyArray<Row> => {
  const lat = (x: Medians) => `${fmtMs(x.p50Ms)} / ${fmtMs(x.p99Ms)} ms`
  const profile = (rate: number) => `GET /users/:username @ ${fmtInt(rate)} req/s`
  const search = (rate: number) => `GET /search/users @ ${fmtInt(rate)} req/s`
  const { goals, connections } = settings
  return [
    { metric: `login throughput (${settings.loginConnections} conns, scrypt N=2^15 r=8 p=3)`, value: `${m.login.reqPerSec.toFixed(1)} /s`, goal: "—" },
    { metric: "login latency p50 / p99", value: lat(m.login), goal: "—" },
    { metric: `GET /users/:username max (${connections} conns)`, value: `${fmtInt(m.profileMax.reqPerSec)} req/s`, goal: "—" },
    { metric: "  … latency p50 / p99 at max", value: lat(m.profileMax), goal: "—" },
    ...fixedRows(profile(settings.profileRate), m.profileFixed, settings.profileRate, goals.profileP99Ms),
    ...fixedRows(profile(settings.profileLowRate), m.profileLow, settings.profileLowRate),
    ...fixedRows(search(settings.searchRate), m.searchFixed, settings.searchRate, goals.searchP99Ms),
    ...fixedRows(search(settings.searchLowRate), m.searchLow, settings.searchLowRate),
    { metric: `GET /search/users max (${connections} conns)`, value: `${fmtInt(m.searchMax.reqPerSec)} req/s`, goal: "—" },
    { metric: "  … latency p50 / p99 at max", value: lat(m.searchMax), goal: "—" },
    {
      metric: `POST /users/:username/follow max (${connections} conns, ${settings.followers} followers)`,
      value: `${fmtInt(m.follow.reqPerSec)} req/s`,
      goal: "—"
    },
    { metric: "  … latency p50 / p99 at max", value: lat(m.follow), goal: "—" }
  ]
}

/** Search latency per kind of term, from the fixed-rate rounds: which kind costs what. */
const searchByKind = (rounds: ReadonlyArray<Measurement>) => {
  const kinds = ["exact", "prefix", "fuzzy"]
  return Object.fromEntries(kinds.map((kind) => {
    const per = rounds.map((m) => m.result.byTag?.[kind]).filter((x) => x !== undefined)
    const med = (f: (x: (typeof per)[number]) => number) => {
      const v = per.map(f).sort((a, b) => a - b)
      return v.length === 0 ? NaN : v[Math.floor(v.length / 2)]!
    }
    return [kind, { p50Ms: med((x) => x.p50Ms), p99Ms: med((x) => x.p99Ms) }]
  }))
}

const summarise = (
  results: Record<ScenarioId, Array<Measurement>>,
  seedInfo: SeedInfo<Seed.Marker>,
  f: Fixtures,
  schema: Awaited<ReturnType<typeof Seed.indexDrift>>,
  startedAt: Date
) => {
  const medians = Object.fromEntries(SCENARIOS.map((s) => [s.id, mediansOf(results[s.id], failures)])) as Record<ScenarioId, Medians>
  const rows = tableRows(medians)
  const byKind = { [settings.searchRate]: searchByKind(results.searchFixed), [settings.searchLowRate]: searchByKind(results.searchLow) }
  printTable(rows)
  console.log("")
  for (const [rate, kinds] of Object.entries(byKind)) {
    console.log(`search @ ${rate}/s by kind of term (median of rounds), p50 / p99 ms: ` +
      Object.entries(kinds).map(([k, v]) => `${k} ${fmtMs(v.p50Ms)} / ${fmtMs(v.p99Ms)}`).join(", "))
  }
  const busy = SCENARIOS.flatMap((s) =>
    results[s.id].filter((m) => (m.cpu.other ?? 0) > settings.otherCpuWarning).map((m) => `${s.label} (round ${m.round})`))
  if (busy.length > 0) {
    console.log(`WARNING: other processes used > ${settings.otherCpuWarning} cores during ${busy.join(", ")}; rerun on a quiet machine`)
  }
  const failed = SCENARIOS.filter((s) => medians[s.id].failures > 0)
  if (failed.length > 0) console.log(`WARNING: failed requests in ${failed.map((s) => s.label).join(", ")} (see results.json)`)
  console.log("(medians over rounds; fixed-rate latencies are measured from each request's due time)")
  writeJson(RESULTS_PATH, {
    date: startedAt.toISOString(),
    machine: machineInfo(),
    settings: { ...settings, seed: seedSettings, transport: "uws", viewer: f.viewer },
    server: serverSource(),
    seed: { ...seedInfo.marker, reused: seedInfo.reused },
    schema,
    table: rows,
    medians,
    searchByKindPerRate: byKind,
    scenarios: Object.fromEntries(SCENARIOS.map((s) => [s.id, { label: s.label, rounds: results[s.id] }]))
  })
}

// ---------------------------------------------------------------------------------------------

const measure = async (seedInfo: SeedInfo<Seed.Marker>, startedAt: Date) => {
  // a run that was interrupted may have left follows and sessions behind
  await Seed.restore(DATABASE_URL, seedInfo.marker)
  const server = await startServer(SERVER_ROOT, serverEnv)
  let results: Record<ScenarioId, Array<Measurement>>
  let fixtures: Fixtures
  let schema: Awaited<ReturnType<typeof Seed.indexDrift>>
  try {
    schema = await Seed.indexDrift(DATABASE_URL, seedInfo.marker)
    warnOnDrift(schema)
    fixtures = await makeFixtures(server)
    await preflight(server, fixtures)
    console.log(`warming up (${settings.warmupSeconds} s per endpoint) as @${fixtures.viewer}`)
    await warmUp(server, fixtures)
    results = await runRounds(server, fixtures)
  } finally {
    await stopServer(server)
    const removed = await Seed.restore(DATABASE_URL, seedInfo.marker)
    console.log(`\nrestored the seed (${fmtInt(removed)} follow edges of this run removed)`)
  }
  summarise(results, seedInfo, fixtures, schema, startedAt)
}

const main = async () => {
  const startedAt = new Date()
  console.log(
    `Accounts benchmark: ${settings.durationSeconds} s × ${settings.rounds} rounds per measurement ` +
      `(${os.cpus().length} CPUs, node ${process.version}, prefix ${prefixes.nats})` +
      (SERVER_ROOT === REPO_ROOT ? "" : `\nserver from ${SERVER_ROOT}`)
  )
  try {
    const seedInfo = await ensureSeed()
    if (seedInfo.reused) {
      console.log(`reusing the seed of ${seedInfo.marker.seededAt}: ${fmtInt(seedInfo.marker.users)} users, ` +
        `${fmtInt(seedInfo.marker.edges)} follow edges (BENCH_RESEED=1 rebuilds it)\n`)
    }
    await measure(seedInfo, startedAt)
  } finally {
    await cleanupPrefixes(prefixes)
  }
}

runBenchmark(main, { stopMessage: "stopping the server", cleanup: () => cleanupPrefixes(prefixes) })
