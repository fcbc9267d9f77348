/**
 * The observability metrics, end to end. On the whole application: a post fanned out to a
 * follower, a photo that cannot be decoded (dead-lettered by the media worker) and an open socket
 * show up in `/metrics` as fan-out lag, media job durations by outcome, dead letters by stream,
 * lease events, sockets, and JetStream pending / ack-pending for exactly the durables JetStream
 * has. The Grafana dashboard queries only metrics that exist, and compose.yaml runs Prometheus and
 * Grafana on the files of `ops/`. On a private NATS: the JetStream gauges cost one read per
 * scrape, shared for 2 s, and a frozen server costs a scrape 2 s instead of hanging it.
 */
import { AckPolicy, type ConsumerInfo } from "@nats-io/jetstream"
import { assert, describe, it, layer } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { AppConfigShape } from "../src/config/AppConfig.ts"
import * as Metrics from "../src/observability/Metrics.ts"
import { LEASE_EVENTS } from "../src/actors/runtime/Shards.ts"
import * as Nats from "../src/streams/Nats.ts"
import * as StreamMetrics from "../src/streams/StreamMetrics.ts"
import { StreamNames } from "../src/streams/Topology.ts"
import { type Account, openSocketAs, publishPost, request, signup, TestApp } from "./support/app.ts"
import { eventually } from "./support/harness.ts"
import { multipart, truncatedJpeg } from "./support/images.ts"
import { privateNats } from "./support/servers.ts"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8")

// --- the Prometheus text format, as far as these tests need it

interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

interface Exposition {
  /** Metric name → its `# TYPE` (counter, gauge, histogram, summary). */
  readonly types: ReadonlyMap<string, string>
  readonly samples: ReadonlyArray<Sample>
}

const parseExposition = (text: string): Exposition => {
  const types = new Map<string, string>()
  const samples: Array<Sample> = []
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type !== null) types.set(type[1]!, type[2]!)
    if (line === "" || line.startsWith("#")) continue
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (m === null) throw new Error(`not a sample: ${line}`)
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!
    samples.push({ name: m[1]!, labels, value: Number(m[3]) })
  }
  return { types, samples }
}

/** The samples named `name` whose labels include `labels`. */
const series = (e: Exposition, name: string, labels: Record<string, string> = {}) =>
  e.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))

const valueOf = (e: Exposition, name: string, labels: Record<string, string> = {}) =>
  series(e, name, labels).reduce((sum, s) => sum + s.value, 0)

const scrape = Effect.map(request("/metrics"), (r) => {
  assert.strictEqual(r.status, 200, r.text)
  return parseExposition(r.text)
})

// --- a small YAML reader: block maps and sequences, flow sequences and maps of scalars, quotes,
// comments, anchors and merge keys read as plain values. Enough for compose.yaml and ops/; a
// construct it does not know fails the test rather than passing unread.

type Yaml = string | ReadonlyArray<Yaml> | { readonly [key: string]: Yaml }

const splitFlow = (body: string) => {
  const parts: Array<string> = []
  let depth = 0
  let quote: string | undefined
  let current = ""
  for (const ch of body) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined
    } else if (ch === "\"" || ch === "'") quote = ch
    else if (ch === "[" || ch === "{") depth++
    else if (ch === "]" || ch === "}") depth--
    else if (ch === "," && depth === 0) {
      parts.push(current.trim())
      current = ""
      continue
    }
    current += ch
  }
  if (current.trim() !== "") parts.push(current.trim())
  return parts
}

const KEY = /^([^\s"'{[#-][^:]*?|"[^"]*"|'[^']*'):(?:\s+(.*))?$/

const scalar = (text: string): Yaml => {
  if (text.startsWith("[")) {
    if (!text.endsWith("]")) throw new Error(`unterminated flow sequence: ${text}`)
    return splitFlow(text.slice(1, -1)).map(scalar)
  }
  if (text.startsWith("{")) {
    if (!text.endsWith("}")) throw new Error(`unterminated flow mapping: ${text}`)
    return Object.fromEntries(splitFlow(text.slice(1, -1)).map((entry) => {
      const m = KEY.exec(entry)
      if (m === null) throw new Error(`not a flow entry: ${entry}`)
      return [unquote(m[1]!), scalar(m[2] ?? "")]
    }))
  }
  if (text === "|" || text === ">" || text.startsWith("|") || text.startsWith(">")) throw new Error(`block scalars are not read here: ${text}`)
  return unquote(text)
}

const unquote = (text: string) =>
  (text.startsWith("\"") && text.endsWith("\"") && text.length >= 2) || (text.startsWith("'") && text.endsWith("'") && text.length >= 2)
    ? text.slice(1, -1)
    : text

const stripComment = (line: string) => {
  let quote: string | undefined
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!
    if (quote !== undefined) {
      if (ch === quote) quote = undefined
    } else if (ch === "\"" || ch === "'") quote = ch
    else if (ch === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i)
  }
  return line
}

const parseYaml = (text: string): Yaml => {
  const lines = text.split("\n").map(stripComment).filter((l) => l.trim() !== "").map((l) => {
    if (l.includes("\t")) throw new Error(`a tab in YAML indentation: ${l}`)
    return { indent: l.length - l.trimStart().length, text: l.trim() }
  })
  let i = 0
  const block = (indent: number): Yaml => {
    const first = lines[i]!
    if (first.text === "-" || first.text.startsWith("- ")) {
      const items: Array<Yaml> = []
      while (i < lines.length && lines[i]!.indent === indent && (lines[i]!.text === "-" || lines[i]!.text.startsWith("- "))) {
        const rest = lines[i]!.text.slice(1).trim()
        if (rest === "") {
          i++
          items.push(block(lines[i]!.indent))
        } else if (KEY.test(rest)) {
          // "- key: value" opens a mapping whose keys sit two columns in
          lines[i] = { indent: indent + 2, text: rest }
          items.push(block(indent + 2))
        } else {
          items.push(scalar(rest))
          i++
        }
      }
      return items
    }
    const map: Record<string, Yaml> = {}
    while (i < lines.length && lines[i]!.indent === indent) {
      const m = KEY.exec(lines[i]!.text)
      if (m === null) throw new Error(`line ${i + 1}: not a key: ${lines[i]!.text}`)
      const key = unquote(m[1]!)
      const value = m[2]?.trim() ?? ""
      i++
      const nested = i < lines.length && (lines[i]!.indent > indent || (lines[i]!.indent === indent && lines[i]!.text.startsWith("- ") && value === ""))
      // `key: &anchor` followed by a block: the anchor is a name, the block the value
      map[key] = nested && (value === "" || value.startsWith("&")) ? block(lines[i]!.indent) : value === "" ? "" : scalar(value)
    }
    if (i < lines.length && lines[i]!.indent > indent) throw new Error(`line ${i + 1}: unexpected indentation: ${lines[i]!.text}`)
    return map
  }
  const doc = block(0)
  if (i !== lines.length) throw new Error(`line ${i + 1} not read: ${lines[i]!.text}`)
  return doc
}

const mapAt = (y: Yaml | undefined, what: string): { readonly [key: string]: Yaml } => {
  if (y === undefined || typeof y === "string" || Array.isArray(y)) throw new Error(`${what} is not a mapping`)
  return y as { readonly [key: string]: Yaml }
}
const listAt = (y: Yaml | undefined, what: string): ReadonlyArray<Yaml> => {
  if (!Array.isArray(y)) throw new Error(`${what} is not a sequence`)
  return y
}

// --- the dashboard

interface Panel {
  readonly type: string
  readonly title: string
  readonly targets?: ReadonlyArray<{ readonly expr: string; readonly refId: string }>
  readonly panels?: ReadonlyArray<Panel>
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number }
}

const dashboard = () => JSON.parse(read("ops/grafana/dashboards/aperture.json")) as {
  readonly uid: string
  readonly panels: ReadonlyArray<Panel>
  readonly templating: { readonly list: ReadonlyArray<{ readonly name: string; readonly query: { readonly query: string } }> }
}

/** Every PromQL expression of the dashboard: its panels' (rows' nested ones too) and its variables'. */
const expressions = () => {
  const d = dashboard()
  const all: Array<{ readonly where: string; readonly expr: string }> = []
  const visit = (p: Panel) => {
    for (const t of p.targets ?? []) all.push({ where: `${p.title} ${t.refId}`, expr: t.expr })
    for (const nested of p.panels ?? []) visit(nested)
  }
  d.panels.forEach(visit)
  for (const v of d.templating.list) all.push({ where: `variable ${v.name}`, expr: v.query.query })
  return all
}

const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/

// ---

const settings: Partial<AppConfigShape> = {
  actorPartitions: 4,
  media: {
    concurrency: 2,
    maxPixels: 40_000_000,
    uploadTtlSeconds: 900,
    uploadSigningKey: Redacted.make("metrics-test-key"),
    s3Delivery: "proxy",
    ackWaitSeconds: 30,
    retryDelaysMillis: [50, 50, 50, 50]
  }
}

const follow = (a: Account, b: Account) => request(`/api/v1/users/${b.username}/follow`, { method: "POST", headers: a.bearer })

/** The durable consumers JetStream has for each stream of the layout, as `stream consumer`. */
const durablesInJetStream = Effect.gen(function*() {
  const nats = yield* Nats.Nats
  const names: Array<string> = []
  for (const logical of Object.values(StreamNames)) {
    const listed = yield* Effect.promise(async () => {
      const all: Array<ConsumerInfo> = []
      for await (const c of nats.jsm.consumers.list(nats.name(logical))) all.push(c)
      return all
    }).pipe(Effect.catchAllDefect(() => Effect.succeed([] as Array<ConsumerInfo>)))
    for (const c of listed) if (c.config.durable_name !== undefined) names.push(`${logical} ${c.name}`)
  }
  return names.sort()
})

const durablesInGauge = (e: Exposition, name: string) => series(e, name).map((s) => `${s.labels.stream} ${s.labels.consumer}`).sort()

describe("metrics", () => {
  layer(TestApp(settings), { timeout: "180 seconds", excludeTestServices: true })((it) => {
    it.scoped("a fanned-out post, a photo that cannot be decoded and an open socket show in /metrics", () =>
      Effect.gen(function*() {
        const [author, follower] = yield* Effect.all([signup(), signup()])
        assert.strictEqual((yield* follow(follower, author)).status, 200)
        const socket = yield* openSocketAs(follower)
        yield* socket.next("hello")

        yield* publishPost(author, "for the metrics")
        const broken = yield* request("/api/v1/posts", { method: "POST", headers: author.bearer, body: multipart(yield* Effect.promise(() => truncatedJpeg())) })
        assert.strictEqual(broken.status, 202, broken.text)

        const m = yield* eventually(
          scrape,
          (e) =>
            valueOf(e, "aperture_fanout_lag_seconds_count") >= 1 &&
            valueOf(e, "aperture_media_job_duration_seconds_count", { kind: "post", outcome: "failed" }) >= 1 &&
            valueOf(e, "aperture_dead_letters_total", { stream: "MEDIA", consumer: "media-worker" }) >= 1,
          "fan-out lag, a failed media job and its dead letter in /metrics"
        )

        // fan-out lag: one observation per post and partition batch (the author's own timeline and
        // the follower's: one or two partitions), each from the post's publication, so well under 30 s
        const lagCount = valueOf(m, "aperture_fanout_lag_seconds_count")
        assert.isAtLeast(lagCount, 1)
        assert.isAtMost(lagCount, 2, "one post, two timelines: at most two partition batches")
        assert.strictEqual(valueOf(m, "aperture_fanout_lag_seconds_bucket", { le: "+Inf" }), lagCount)
        const lagSum = valueOf(m, "aperture_fanout_lag_seconds_sum")
        assert.isAtLeast(lagSum, 0)
        assert.isBelow(lagSum / lagCount, 30)

        // media: the good photo published, the broken one failed at once (not retried) and dead-lettered
        assert.isAtLeast(valueOf(m, "aperture_media_job_duration_seconds_count", { kind: "post", outcome: "published" }), 1)
        assert.isAbove(valueOf(m, "aperture_media_job_duration_seconds_sum", { kind: "post", outcome: "published" }), 0)
        assert.strictEqual(valueOf(m, "aperture_media_job_duration_seconds_count", { kind: "post", outcome: "failed" }), 1)
        assert.strictEqual(valueOf(m, "aperture_media_job_duration_seconds_count", { kind: "post", outcome: "retried" }), 0)
        assert.strictEqual(valueOf(m, "aperture_dead_letters_total", { stream: "MEDIA", consumer: "media-worker" }), 1)
        assert.deepStrictEqual(series(m, "aperture_dead_letters_total").map((s) => Object.keys(s.labels).sort()), [["consumer", "stream"]])

        // leases: this node took the 4 partitions; every event has its series from the start
        assert.isAtLeast(valueOf(m, "aperture_actor_lease_events_total", { event: "acquired" }), 4)
        assert.deepStrictEqual(series(m, "aperture_actor_lease_events_total").map((s) => s.labels.event).sort(), [...LEASE_EVENTS].sort())

        assert.isAtLeast(valueOf(m, "aperture_ws_connections"), 1)

        // JetStream: the gauges list exactly the durables JetStream has (the MEDIA worker's, the
        // EVENTS consumers, one MAILBOX consumer per partition), each with a value
        const expected = yield* durablesInJetStream
        assert.includeMembers(expected, ["MEDIA media-worker", "EVENTS timeline-fanout"])
        assert.strictEqual(expected.filter((d) => /^MAILBOX mbox-\d+-\d+$/.test(d)).length, 4)
        const current = yield* eventually(
          scrape,
          (e) =>
            durablesInGauge(e, "aperture_jetstream_consumer_pending").join() === expected.join() &&
            // the media job's dead letter reaches MEDIA_DLQ through the outbox relay
            valueOf(e, "aperture_jetstream_stream_messages", { stream: "MEDIA_DLQ" }) >= 1,
          "the pending gauge lists JetStream's durables, and MEDIA_DLQ has the dead letter"
        )
        for (const name of ["aperture_jetstream_consumer_pending", "aperture_jetstream_consumer_ack_pending", "aperture_jetstream_consumer_redelivered"]) {
          assert.deepStrictEqual(durablesInGauge(current, name), expected, name)
          for (const s of series(current, name)) assert.isTrue(Number.isInteger(s.value) && s.value >= 0, `${name} ${JSON.stringify(s.labels)} = ${s.value}`)
        }
        // everything was handled: nothing left undelivered for the media worker
        assert.strictEqual(valueOf(current, "aperture_jetstream_consumer_pending", { stream: "MEDIA", consumer: "media-worker" }), 0)
        assert.deepStrictEqual(series(current, "aperture_jetstream_stream_messages").map((s) => s.labels.stream).sort(), Object.values(StreamNames).sort())
        // post.published, user.followed and more were stored; the media jobs left their work queue
        assert.isAtLeast(valueOf(current, "aperture_jetstream_stream_messages", { stream: "EVENTS" }), 2)
        assert.isAbove(valueOf(current, "aperture_jetstream_stream_bytes", { stream: "EVENTS" }), 0)
        assert.isAtLeast(valueOf(current, "aperture_jetstream_stream_messages", { stream: "MEDIA_DLQ" }), 1)
      }))

    // after the workload above (tests of a file run in order), though every name is registered as its layer starts
    it.effect("every metric the Grafana dashboard queries is in /metrics, with the type its query takes", () =>
      Effect.gen(function*() {
        const m = yield* scrape
        const exprs = expressions()
        assert.isAtLeast(exprs.length, 20)
        const used = new Set<string>()
        for (const { where, expr } of exprs) {
          const names = [...expr.matchAll(/\baperture_[a-z0-9_]+/g)].map((x) => x[0])
          assert.isNotEmpty(names, `${where} queries no aperture metric: ${expr}`)
          for (const name of names) {
            used.add(name)
            const direct = m.types.get(name)
            if (direct !== undefined) {
              assert.notStrictEqual(direct, "histogram", `${where}: ${name} is a histogram; query its _bucket, _sum or _count`)
              continue
            }
            const base = name.replace(HISTOGRAM_SUFFIX, "")
            assert.strictEqual(m.types.get(base), "histogram", `${where}: ${name} is in no metric of /metrics`)
            if (expr.includes("histogram_quantile")) assert.match(expr, new RegExp(`${base}_bucket`), `${where}: a quantile of buckets`)
          }
        }
        // the metrics of the observability issue all have a panel
        for (
          const name of [
            "aperture_http_request_duration_seconds_bucket",
            "aperture_actor_mailbox_depth",
            "aperture_actors_active",
            "aperture_actor_messages_total",
            "aperture_fanout_lag_seconds_bucket",
            "aperture_jetstream_consumer_pending",
            "aperture_jetstream_consumer_ack_pending",
            "aperture_media_job_duration_seconds_bucket",
            "aperture_dead_letters_total",
            "aperture_ws_connections",
            "aperture_actor_lease_events_total",
            "aperture_nodejs_eventloop_lag_p99_seconds"
          ]
        ) assert.isTrue(used.has(name), `no panel shows ${name}`)
      }))
  })

  it("the dashboard is a Grafana dashboard on the provisioned datasource, with panels that do not overlap", () => {
    const d = dashboard()
    assert.strictEqual(d.uid, "aperture-overview")
    const datasource = mapAt(listAt(mapAt(parseYaml(read("ops/grafana/provisioning/datasources/prometheus.yml")), "datasources file").datasources, "datasources")[0], "datasource")
    assert.deepInclude(datasource, { type: "prometheus", url: "http://prometheus:9090" })
    const cells = new Set<string>()
    for (const p of d.panels) {
      if (p.type !== "row") {
        for (const t of p.targets ?? []) assert.deepStrictEqual((t as any).datasource, { type: "prometheus", uid: datasource.uid }, p.title)
        assert.isNotEmpty(p.targets ?? [], p.title)
      }
      assert.isAtMost(p.gridPos.x + p.gridPos.w, 24, p.title)
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          assert.isFalse(cells.has(`${x},${y}`), `${p.title} overlaps another panel`)
          cells.add(`${x},${y}`)
        }
      }
    }
    const provider = mapAt(listAt(mapAt(parseYaml(read("ops/grafana/provisioning/dashboards/aperture.yml")), "dashboards file").providers, "providers")[0], "provider")
    assert.strictEqual(mapAt(provider.options, "options").path, "/etc/grafana/dashboards")
  })

  it("Prometheus scrapes every Aperture process of compose.yaml on METRICS_PORT, and compose runs Prometheus and Grafana on ops/", () => {
    const compose = mapAt(parseYaml(read("compose.yaml")), "compose.yaml")
    const services = mapAt(compose.services, "services")
    const appEnv = mapAt(mapAt(compose["x-app"], "x-app").environment, "x-app environment")
    const port = appEnv.METRICS_PORT as string
    assert.strictEqual(port, "9464")
    // the services built from the app's image (`<<: *app`)
    const apps = Object.entries(services).filter(([, s]) => mapAt(s, "service")["<<"] === "*app").map(([name]) => name).sort()
    assert.deepStrictEqual(apps, ["app1", "app2", "media"])

    const prometheusConfig = mapAt(parseYaml(read("ops/prometheus/prometheus.yml")), "prometheus.yml")
    const job = listAt(prometheusConfig.scrape_configs, "scrape_configs").map((j) => mapAt(j, "job")).find((j) => j.job_name === "aperture")!
    assert.strictEqual(job.metrics_path, "/metrics")
    const targets = listAt(job.static_configs, "static_configs").map((c) => mapAt(c, "static config"))
    assert.deepStrictEqual(targets.flatMap((t) => listAt(t.targets, "targets")).sort(), apps.map((a) => `${a}:${port}`))
    // `node` is each process's NODE_ID, which the dashboard's panels group by
    for (const t of targets) {
      const [target] = listAt(t.targets, "targets") as ReadonlyArray<string>
      const service = mapAt(services[target!.split(":")[0]!], "service")
      assert.strictEqual(mapAt(t.labels, "labels").node, mapAt(service.environment, "environment").NODE_ID, target)
    }

    const prometheus = mapAt(services.prometheus, "prometheus service")
    assert.match(prometheus.image as string, /^prom\/prometheus:/)
    assert.include(listAt(prometheus.volumes, "volumes"), "./ops/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro")
    assert.include(listAt(prometheus.command, "command"), "--config.file=/etc/prometheus/prometheus.yml")
    assert.deepStrictEqual(prometheus.ports, ["127.0.0.1:9090:9090"])

    const grafana = mapAt(services.grafana, "grafana service")
    assert.match(grafana.image as string, /^grafana\/grafana:/)
    assert.deepStrictEqual(grafana.ports, ["127.0.0.1:3000:3000"])
    assert.deepInclude(mapAt(grafana.environment, "grafana environment"), { GF_AUTH_ANONYMOUS_ENABLED: "true", GF_AUTH_ANONYMOUS_ORG_ROLE: "Viewer" })
    const mounts = listAt(grafana.volumes, "grafana volumes") as ReadonlyArray<string>
    for (const mount of mounts) assert.match(mount, /:ro$/, "read-only")
    const mounted = (host: string) => mounts.find((m) => m.startsWith(`./${host}:`))
    assert.isDefined(mounted("ops/grafana/provisioning/datasources/prometheus.yml"))
    assert.isDefined(mounted("ops/grafana/provisioning/dashboards/aperture.yml"))
    // the provider's path is where the dashboards folder is mounted, and each mounted file exists
    assert.strictEqual(mounted("ops/grafana/dashboards")?.split(":")[1], "/etc/grafana/dashboards")
    for (const mount of [...mounts, ...(listAt(prometheus.volumes, "volumes") as ReadonlyArray<string>)]) {
      if (mount.startsWith("./")) assert.isTrue(fs.existsSync(path.join(ROOT, mount.split(":")[0]!)), mount)
    }
  })

  it.scopedLive("JetStream gauges: one read per scrape, shared for 2 s; a frozen NATS costs a scrape 2 s, not a hang", () =>
    Effect.gen(function*() {
      const server = yield* privateNats
      const nats = yield* Nats.make({ url: server.url, prefix: "", name: "metrics-test", requestTimeoutMillis: 10_000 })
      yield* Effect.promise(async () => {
        await nats.jsm.streams.add({ name: StreamNames.events, subjects: ["ev.>"] })
        await nats.jsm.consumers.add(StreamNames.events, { durable_name: "probe", ack_policy: AckPolicy.Explicit, filter_subject: "ev.>" })
        // an ephemeral consumer: a random name, which must not become a series
        await nats.jsm.consumers.add(StreamNames.events, { ack_policy: AckPolicy.Explicit, inactive_threshold: 60_000_000_000 })
        for (let n = 0; n < 3; n++) await nats.js.publish(`ev.test.${n}`, "{}")
        // one delivered and never acknowledged
        const consumer = await nats.js.consumers.get(StreamNames.events, "probe")
        const held = await consumer.next({ expires: 5000 })
        if (held === null) throw new Error("nothing delivered")
      })
      const calls = { info: 0, list: 0 }
      const info = nats.jsm.streams.info.bind(nats.jsm.streams)
      const list = nats.jsm.consumers.list.bind(nats.jsm.consumers)
      nats.jsm.streams.info = (...args: Parameters<typeof info>) => {
        calls.info++
        return info(...args)
      }
      nats.jsm.consumers.list = (...args: Parameters<typeof list>) => {
        calls.list++
        return list(...args)
      }
      const context = yield* Layer.build(StreamMetrics.layer.pipe(Layer.provideMerge(Metrics.layer), Layer.provide(Layer.succeed(Nats.Nats, nats))))
      const { registry } = Context.get(context, Metrics.Metrics)
      const timed = Effect.promise(async () => {
        const started = performance.now()
        const text = await registry.metrics()
        return { e: parseExposition(text), ms: performance.now() - started }
      })
      const streams = Object.values(StreamNames).length

      const first = (yield* timed).e
      assert.deepStrictEqual(series(first, "aperture_jetstream_consumer_pending").map((s) => [s.labels, s.value]), [[{ stream: "EVENTS", consumer: "probe" }, 2]])
      assert.strictEqual(valueOf(first, "aperture_jetstream_consumer_ack_pending", { consumer: "probe" }), 1)
      assert.strictEqual(valueOf(first, "aperture_jetstream_consumer_redelivered", { consumer: "probe" }), 0)
      assert.deepStrictEqual(series(first, "aperture_jetstream_stream_messages").map((s) => [s.labels, s.value]), [[{ stream: "EVENTS" }, 3]])
      // five gauges, one read: a `stream info` per stream of the layout, one listing for the one with consumers
      assert.deepStrictEqual(calls, { info: streams, list: 1 })

      yield* timed
      assert.deepStrictEqual(calls, { info: streams, list: 1 }, "a second scrape within 2 s reads nothing")
      yield* Effect.sleep("2100 millis")
      yield* timed
      assert.deepStrictEqual(calls, { info: 2 * streams, list: 2 }, "read again once 2 s passed")

      yield* server.signal("SIGSTOP")
      yield* Effect.addFinalizer(() => server.signal("SIGCONT"))
      yield* Effect.sleep("2100 millis")
      const frozen = yield* timed
      assert.isBelow(frozen.ms, 3500, "given up after 2 s")
      assert.isAtLeast(frozen.ms, 1500, "it did wait for the server")
      assert.lengthOf(series(frozen.e, "aperture_jetstream_consumer_pending"), 0, "no stale values")
      assert.isAbove(valueOf(frozen.e, "aperture_process_start_time_seconds"), 0, "the rest of /metrics is served")
      const again = yield* timed
      assert.isBelow(again.ms, 500, "the failure is kept for 2 s too: the next scrape does not wait again")

      yield* server.signal("SIGCONT")
      const thawed = yield* eventually(
        Effect.map(timed, (t) => t.e),
        (e) => series(e, "aperture_jetstream_consumer_pending").length === 1,
        "the gauges back after the server thawed"
      )
      assert.strictEqual(valueOf(thawed, "aperture_jetstream_consumer_pending", { consumer: "probe" }), 2)
    }), { timeout: 60_000 })
})
