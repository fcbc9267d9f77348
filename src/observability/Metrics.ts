/**
 * Prometheus metrics (prom-client): request durations by route and status, process metrics and
 * event-loop lag from prom-client's default collectors, dead letters by stream, and the counters,
 * histograms and gauges that other services register (outbox backlog, sockets, JetStream backlog).
 * One registry per process, so test runs in one process do not collide.
 */
import { Context, Effect, Layer, Runtime } from "effect"
import * as Prom from "prom-client"

export interface MetricsShape {
  readonly registry: Prom.Registry
  /** Records one finished HTTP request. Kept synchronous: it runs on every request. */
  readonly observeRequest: (route: string, method: string, status: number, seconds: number) => void
  readonly gauge: (name: string, help: string, collect: Effect.Effect<number>) => void
  /**
   * A gauge with labels, read at scrape time: every label set `collect` returns is set and the
   * others are dropped, so a consumer that went away leaves no stale series. A failing `collect`
   * leaves the gauge empty for that scrape.
   */
  readonly labelledGauge: (
    name: string,
    help: string,
    labelNames: ReadonlyArray<string>,
    collect: Effect.Effect<ReadonlyArray<readonly [Readonly<Record<string, string>>, number]>, unknown>
  ) => void
  readonly counter: (name: string, help: string, labelNames?: ReadonlyArray<string>) => Prom.Counter<string>
  readonly histogram: (
    name: string,
    help: string,
    labelNames: ReadonlyArray<string>,
    buckets: ReadonlyArray<number>
  ) => Prom.Histogram<string>
  /** Counts one message given up on (`aperture_dead_letters_total`), from its logical stream and consumer. */
  readonly deadLetter: (stream: string, consumer: string) => void
  readonly render: Effect.Effect<string>
}

export class Metrics extends Context.Tag("Metrics")<Metrics, MetricsShape>() {}

export const DEAD_LETTERS_METRIC = "aperture_dead_letters_total"

export const make = Effect.gen(function*() {
  const runPromise = Runtime.runPromise(yield* Effect.runtime<never>())
  const registry = new Prom.Registry()
  Prom.collectDefaultMetrics({ register: registry, prefix: "aperture_", eventLoopMonitoringPrecision: 20 })
  const requests = new Prom.Histogram({
    name: "aperture_http_request_duration_seconds",
    help: "HTTP request duration by route template, method and status",
    labelNames: ["route", "method", "status"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry]
  })
  // label objects are cached per (route, method, status) so the hot path allocates nothing new
  const children = new Map<string, Prom.Histogram.Internal<string>>()
  const observeRequest = (route: string, method: string, status: number, seconds: number) => {
    const key = `${method} ${status} ${route}`
    let child = children.get(key)
    if (child === undefined) {
      child = requests.labels({ route, method, status: String(status) })
      children.set(key, child)
    }
    child.observe(seconds)
  }
  const gauge = (name: string, help: string, collect: Effect.Effect<number>) => {
    registry.removeSingleMetric(name)
    new Prom.Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        try {
          this.set(await runPromise(collect))
        } catch {
          this.set(Number.NaN)
        }
      }
    })
  }
  const labelledGauge: MetricsShape["labelledGauge"] = (name, help, labelNames, collect) => {
    registry.removeSingleMetric(name)
    new Prom.Gauge({
      name,
      help,
      labelNames: [...labelNames],
      registers: [registry],
      async collect() {
        const values = await runPromise(Effect.exit(collect))
        this.reset()
        if (values._tag === "Failure") return
        for (const [labels, value] of values.value) this.set(labels, value)
      }
    })
  }
  const counter = (name: string, help: string, labelNames: ReadonlyArray<string> = []) => {
    const existing = registry.getSingleMetric(name)
    return (existing as Prom.Counter<string> | undefined) ??
      new Prom.Counter({ name, help, labelNames: [...labelNames], registers: [registry] })
  }
  const histogram = (name: string, help: string, labelNames: ReadonlyArray<string>, buckets: ReadonlyArray<number>) => {
    const existing = registry.getSingleMetric(name)
    return (existing as Prom.Histogram<string> | undefined) ??
      new Prom.Histogram({ name, help, labelNames: [...labelNames], buckets: [...buckets], registers: [registry] })
  }
  // defined here, not by each of the three places that dead-letter (events, media, actor commands)
  const deadLetters = counter(
    DEAD_LETTERS_METRIC,
    "Messages given up on after their last delivery, by the stream they were read from (logical name) and consumer",
    ["stream", "consumer"]
  )
  const deadLetterChildren = new Map<string, Prom.Counter.Internal>()
  const deadLetter = (stream: string, consumer: string) => {
    const key = `${stream} ${consumer}`
    let child = deadLetterChildren.get(key)
    if (child === undefined) {
      child = deadLetters.labels({ stream, consumer })
      deadLetterChildren.set(key, child)
    }
    child.inc()
  }
  return Metrics.of({
    registry,
    observeRequest,
    gauge,
    labelledGauge,
    counter,
    histogram,
    deadLetter,
    render: Effect.promise(() => registry.metrics())
  })
})

export const layer = Layer.effect(Metrics, make)
