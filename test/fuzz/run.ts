/**
 * Runs every class against one server: signs the fuzz accounts up and makes the fixture post,
 * plays each class's cases (sequentially, so a crash is pinned on the case that caused it; slow
 * classes all at once), judges each exchange, restarts the server after a crash, and reports a table
 * of classes and statuses plus the failures, each with its smallest reproduction.
 */
import fc from "fast-check"
import * as fs from "node:fs"
import * as path from "node:path"
import { type FuzzClass, httpClasses } from "./classes-http.ts"
import { protocolClasses } from "./classes-protocol.ts"
import { rawClasses } from "./classes-raw.ts"
import { BOUNDARY, formParts, multipart, OTHER, PASSWORD, SELF } from "./requests.ts"
import { endpoints } from "./contract.ts"
import type { ServerUnderFuzz } from "./server.ts"
import { classSeed, settings } from "./settings.ts"
import { caseWire, describeSpec, expectedMethods, type Fixtures, sendingMs, type Spec, steps } from "./spec.ts"
import { exchange, type Exchange, fetchRaw, header, type Reply } from "./wire.ts"

export const allClasses: ReadonlyArray<FuzzClass> = [...httpClasses, ...protocolClasses, ...rawClasses]

/** Cases of a class in flight at once. */
const WAVE = 10

export interface Failure {
  readonly kind: "5xx" | "crash" | "deadline" | "no answer" | "accepted" | "head mismatch" | "not run" | "unhealthy"
  readonly class: string
  readonly endpoint: string
  readonly status: string
  readonly spec?: Spec
  readonly detail: string
}

interface ClassStats {
  cases: number
  notRun: number
  statuses: Map<string, number>
  failures: number
  ms: number
}

export interface FuzzReport {
  readonly text: string
  readonly failures: ReadonlyArray<Failure>
  readonly cases: number
}

const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n)}…`)

const signUp = async (port: number, username: string) => {
  const body = JSON.stringify({ username, email: `${username}@example.com`, password: PASSWORD })
  const r = await fetchRaw(port, "POST", "/api/v1/auth/signup", 30_000, [["content-type", "application/json"]], body)
  if (r?.status !== 201) throw new Error(`fuzz fixtures: sign-up of ${username} answered ${r?.status}: ${r?.body.toString()}`)
  const token = JSON.parse(r.body.toString()).token as string
  const cookie = (header(r, "set-cookie") ?? "").split(";")[0]!
  return { token, cookie }
}

/** The fuzz account (whose session a share of the cases carries), a second account, and a post. */
export const makeFixtures = async (port: number): Promise<Fixtures> => {
  const self = await signUp(port, SELF)
  await signUp(port, OTHER)
  const create = endpoints.find((e) => e.id === "posts.create")!
  const body = multipart(BOUNDARY, formParts(create, { caption: "fuzz fixture #fuzz" }))
  const r = await fetchRaw(port, "POST", "/api/v1/posts", 30_000, [
    ["authorization", `Bearer ${self.token}`],
    ["content-type", `multipart/form-data; boundary=${BOUNDARY}`]
  ], body)
  if (r?.status !== 202) throw new Error(`fuzz fixtures: the fixture post answered ${r?.status}: ${r?.body.toString()}`)
  return { ...self, postId: JSON.parse(r.body.toString()).postId as string }
}

const statusLabel = (x: Exchange, expected: number) => {
  const parts = x.replies.map((r) => String(r.status))
  if (x.timedOut) parts.push("open")
  else if (x.closed && x.replies.length < expected) parts.push("closed")
  return parts.length === 0 ? "aborted" : parts.join("+")
}

const replyDetail = (server: ServerUnderFuzz, r: Reply) => {
  const id = header(r, "x-request-id")
  const logs = id === undefined ? "" : server.logsFor(id)
  return `${r.status} ${clip(r.body.toString("utf8"), 300)}${logs ? `\n        server log: ${clip(logs, 1200)}` : ""}`
}

type Judged = { readonly label: string; readonly failure?: Omit<Failure, "class" | "endpoint" | "spec"> }

const deadlineOf = (spec: Spec, bytes: number) =>
  spec.expect === "close-in-time" || spec.malformed
    ? settings.headerTimeoutMs + settings.marginMs + sendingMs(bytes, spec.delivery)
    : settings.deadlineMs + sendingMs(bytes, spec.delivery)

/** What HTTP prescribes for input it does not implement: not a server fault (see Spec.malformed). */
const refusalOfMalformed = (spec: Spec, status: number) => spec.malformed === true && (status === 501 || status === 505)

/**
 * The one 5xx tolerated, on uWS only and counted in the report: the 505 page uWS's own C++ parser
 * writes when a request line arrives split across reads or longer than its buffer — upstream bug
 * uNetworking/uWebSockets#1776, fixed in later uWS releases than the pinned `uwebsockets@3.0.6`.
 * No JavaScript runs before it (nothing of Aperture can answer instead); see the README.
 */
const UWS_NATIVE_505 = "This server does not support HTTP/1.0."
let uwsNative505 = 0
const upstreamParserRefusal = (server: ServerUnderFuzz, status: number, body: Buffer) => {
  const native = server.transport === "uws" && status === 505 && body.toString("latin1").includes(UWS_NATIVE_505)
  if (native) uwsNative505++
  return native
}

const play = (server: ServerUnderFuzz, spec: Spec, fixtures: Fixtures) => {
  const bytes = caseWire(spec, fixtures)
  return exchange(server.port, steps(bytes, spec.delivery), {
    methods: expectedMethods(spec),
    deadlineMs: deadlineOf(spec, bytes.length),
    minReplies: spec.minReplies ?? spec.requests.length
  })
}

const judge = (server: ServerUnderFuzz, spec: Spec, x: Exchange): Judged => {
  const methods = expectedMethods(spec)
  const label = statusLabel(x, methods.length)
  const serverError = x.replies.find((r) =>
    r.status >= 500 && !refusalOfMalformed(spec, r.status) && !upstreamParserRefusal(server, r.status, r.body)
  )
  if (serverError) return { label, failure: { kind: "5xx", status: String(serverError.status), detail: replyDetail(server, serverError) } }
  const min = spec.minReplies ?? spec.requests.length
  const late = (what: string) => ({ label, failure: { kind: "deadline" as const, status: label, detail: what } })
  switch (spec.expect) {
    case "survive":
      return { label }
    case "answer":
      if (x.replies.length >= min) return { label }
      return x.timedOut
        ? late(`${x.replies.length} of ${min} responses within ${x.ms} ms; the connection was still open`)
        : { label, failure: { kind: "no answer", status: label, detail: `the server closed the connection after ${x.replies.length} of ${min} responses` } }
    case "answer-or-close":
      return x.timedOut && x.replies.length < min ? late(`neither answered nor closed within ${x.ms} ms`) : { label }
    case "refuse": {
      const served = x.replies.find((r) => r.status < 300)
      if (served) return { label, failure: { kind: "accepted", status: String(served.status), detail: `served: ${replyDetail(server, served)}` } }
      return x.timedOut && x.replies.length === 0 ? late(`neither refused nor closed within ${x.ms} ms`) : { label }
    }
    case "close-in-time":
      return x.timedOut ? late(`the connection was still open after ${x.ms} ms (header timeout ${settings.headerTimeoutMs} ms + ${settings.marginMs} ms)`) : { label }
    case "same-as-get":
      return { label }
  }
}

/** HEAD on a GET route: the status GET gives, and no body. */
const playHead = async (server: ServerUnderFuzz, spec: Spec, fixtures: Fixtures): Promise<Judged> => {
  const [get, head] = spec.requests
  const one = (r: typeof get) => ({ ...spec, requests: [r!], expect: "answer" as const })
  const g = await play(server, one(get), fixtures)
  const gj = judge(server, one(get), g)
  if (gj.failure) return { label: `GET ${gj.label}`, failure: gj.failure }
  const h = await play(server, one(head), fixtures)
  const hj = judge(server, one(head), h)
  const label = `${g.replies[0]?.status}/${h.replies[0]?.status ?? hj.label}`
  if (hj.failure) return { label, failure: hj.failure }
  const hs = h.replies[0]!.status
  const gs = g.replies[0]!.status
  if (hs !== gs) return { label, failure: { kind: "head mismatch", status: `${hs}`, detail: `HEAD answered ${hs} where GET answered ${gs}` } }
  if (h.leftover > 0) return { label, failure: { kind: "head mismatch", status: `${hs}`, detail: `HEAD's response carried ${h.leftover} body bytes` } }
  return { label }
}

const runOne = async (server: ServerUnderFuzz, spec: Spec, fixtures: Fixtures): Promise<Judged> =>
  spec.expect === "same-as-get" ? playHead(server, spec, fixtures) : judge(server, spec, await play(server, spec, fixtures))

/**
 * How long to give the process to die before deciding it did not: a dying server closes its
 * connections a moment before its exit is seen, and some crashes follow their request (a stream's
 * late 'error'), so cases that ended in a close wait a little.
 */
const settleFor = (cls: FuzzClass, judged: ReadonlyArray<Judged>) =>
  Math.max(cls.settleMs ?? 0, judged.some((j) => /closed|aborted/.test(j.label)) ? 300 : 0)

/** Runs every selected class against the server; never throws for what the server does. */
export const fuzz = async (server: ServerUnderFuzz): Promise<FuzzReport> => {
  const started = performance.now()
  // first, so a long run that is stopped can still be replayed
  console.log(`fuzz ${server.transport}: seed ${settings.seed}, FUZZ_RUNS ${settings.runs}`)
  const fixtures = await makeFixtures(server.port)
  const failures: Array<Failure> = []
  const stats = new Map<string, ClassStats>()
  const classes = allClasses.filter((c) => settings.classes.length === 0 || settings.classes.includes(c.name))

  for (const cls of classes) {
    const t0 = performance.now()
    const numRuns = Math.max(3, Math.round(settings.runs * cls.weight))
    const specs = fc.sample(cls.cases(settings.limits), { seed: classSeed(settings.seed, cls.name), numRuns })
    const s: ClassStats = { cases: 0, notRun: 0, statuses: new Map(), failures: 0, ms: 0 }
    stats.set(cls.name, s)
    let fatal = 0
    const record = (spec: Spec, j: Judged) => {
      s.cases++
      s.statuses.set(j.label, (s.statuses.get(j.label) ?? 0) + 1)
      if (j.failure) {
        s.failures++
        failures.push({ ...j.failure, class: cls.name, endpoint: spec.endpoint, spec })
        if (j.failure.kind === "deadline") fatal++
      }
    }
    /** Whether the server died since the last check; the death is pinned on `spec`. */
    const crashed = async (spec: Spec, settleMs: number) => {
      const crash = await server.checkCrashed(settleMs)
      if (crash === undefined) return false
      fatal++
      s.failures++
      failures.push({
        kind: "crash",
        class: cls.name,
        endpoint: spec.endpoint,
        status: crash.signal ?? `exit ${crash.code}`,
        spec,
        detail: `the ${server.transport} server died (${crash.signal ?? `exit code ${crash.code}`}); its last output:\n${crash.output}`
      })
      return true
    }
    // cases run in waves (slow classes in one wave): a wave that kills the server is replayed one
    // case at a time, so the crash is pinned on the case that causes it
    const wave = cls.concurrent ? specs.length : WAVE
    for (let at = 0; at < specs.length; at += wave) {
      const batch = specs.slice(at, at + wave)
      if (fatal >= settings.maxCrashes) {
        s.notRun += batch.length
        continue
      }
      const judged = await Promise.all(batch.map((spec) => runOne(server, spec, fixtures)))
      const died = await server.checkCrashed(settleFor(cls, judged))
      if (died === undefined) {
        judged.forEach((j, i) => record(batch[i]!, j))
        continue
      }
      let pinned = false
      for (const spec of batch) {
        if (fatal >= settings.maxCrashes) {
          s.notRun++
          continue
        }
        const j = await runOne(server, spec, fixtures)
        const killed = await crashed(spec, settleFor(cls, [j]))
        // the crash explains the missing answer: one failure, not two
        record(spec, killed ? { label: "crash" } : j)
        pinned = killed || pinned
      }
      if (!pinned) {
        fatal++
        s.failures++
        failures.push({
          kind: "crash",
          class: cls.name,
          endpoint: "(cases run together)",
          status: died.signal ?? `exit ${died.code}`,
          detail: `the ${server.transport} server died (${died.signal ?? `exit code ${died.code}`}) under these ${batch.length} cases run together, and none did it again alone:\n${batch.map(describeSpec).join("\n")}\nits last output:\n${died.output}`
        })
      }
    }
    if (s.notRun > 0) {
      failures.push({
        kind: "not run",
        class: cls.name,
        endpoint: "-",
        status: "-",
        detail: `${s.notRun} cases not run: the class stopped after ${fatal} crashes or missed deadlines (FUZZ_MAX_CRASHES=${settings.maxCrashes})`
      })
    }
    s.ms = performance.now() - t0
  }

  // the server that took all of this still answers
  const health = await fetchRaw(server.port, "GET", "/healthz", settings.deadlineMs)
  if (health?.status !== 200 || !server.alive) {
    failures.push({ kind: "unhealthy", class: "-", endpoint: "ops.healthz", status: String(health?.status ?? "none"), detail: `GET /healthz answered ${health?.status ?? "nothing"} after the run` })
  }
  const text = report(server, stats, failures, performance.now() - started)
  if (settings.reportDir) {
    fs.mkdirSync(settings.reportDir, { recursive: true })
    fs.writeFileSync(path.join(settings.reportDir, `fuzz-${server.transport}.txt`), text)
  }
  return { text, failures, cases: [...stats.values()].reduce((n, s) => n + s.cases, 0) }
}

const report = (server: ServerUnderFuzz, stats: Map<string, ClassStats>, failures: ReadonlyArray<Failure>, ms: number) => {
  const total = [...stats.values()].reduce((n, s) => n + s.cases, 0)
  const lines = [
    `fuzz ${server.transport}: seed ${settings.seed}, FUZZ_RUNS ${settings.runs}, ${total} cases in ${(ms / 1000).toFixed(1)} s, ` +
    `${server.crashes.length} crashes, ${failures.length} failures (replay: FUZZ_SEED=${settings.seed} FUZZ_RUNS=${settings.runs})`,
    `${"class".padEnd(20)} ${"cases".padStart(6)} ${"failed".padStart(6)} ${"s".padStart(6)}  statuses seen`
  ]
  for (const [name, s] of stats) {
    const seen = [...s.statuses].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}×${n}`).join(" ")
    lines.push(
      `${name.padEnd(20)} ${String(s.cases).padStart(6)} ${String(s.failures).padStart(6)} ${(s.ms / 1000).toFixed(1).padStart(6)}  ${seen}${s.notRun ? `  (${s.notRun} not run)` : ""}`
    )
  }
  if (uwsNative505 > 0) {
    lines.push(`(${uwsNative505} replies were uWS's native 505 to a request line split across reads or over its buffer: upstream #1776, not counted as failures)`)
  }
  if (failures.length > 0) {
    lines.push("", `failures on ${server.transport}, grouped (count, then the shortest reproduction):`)
    const groups = new Map<string, Array<Failure>>()
    for (const f of failures) {
      const key = `${f.kind} | ${f.class} | ${f.endpoint} | ${f.status}`
      groups.set(key, [...(groups.get(key) ?? []), f])
    }
    for (const [key, group] of groups) {
      const shortest = group.reduce((a, b) => (a.spec && b.spec && describeSpec(b.spec).length < describeSpec(a.spec).length ? b : a))
      lines.push(`  [${group.length}×] ${key}`)
      if (shortest.spec) lines.push(`      ${describeSpec(shortest.spec)}`)
      // a crash's telling part is the end of its output (the stack it died with)
      const detail = shortest.kind === "crash" && shortest.detail.length > 3000
        ? `${shortest.detail.slice(0, 200)}\n…\n${shortest.detail.slice(-2800)}`
        : clip(shortest.detail, 3000)
      lines.push(`      → ${detail.replaceAll("\n", "\n        ")}`)
    }
  }
  return lines.join("\n")
}
