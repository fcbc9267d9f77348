/**
 * Prometheus metrics (prom-client): request durations by route and status, process metrics and
 * event-loop lag from prom-client's default collectors, and gauges that other services register
 * (outbox backlog, sockets). One registry per process, so test runs in one process do not collide.
 */
import { Context, Effect, Layer, Runtime } from "effect"
import * as Prom from "prom-client"

export interface MetricsShape {
  readonly registry: Prom.Registry
  /** Records one finished HTTP request. Kept synchronous: it runs on every request. */
  readonly observeRequest: (route: string, method: string, status: number, seconds: number) => void
  readonly gauge: (name: string, help: string, collect: Effect.Effect<number>) => void
  readonly counter: (name: string, help: string, labelNames?: ReadonlyArray<string>) => Prom.Counter<string>
  readonly render: Effect.Effect<string>
}

export class Metrics extends Context.Tag("Metrics")<Metrics, MetricsShape>() {}

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
  const counter = (name: string, help: string, labelNames: ReadonlyArray<string> = []) => {
    const existing = registry.getSingleMetric(name)
    return (existing as Prom.Counter<string> | undefined) ??
      new Prom.Counter({ name, help, labelNames: [...labelNames], registers: [registry] })
  }
  return Metrics.of({
    registry,
    observeRequest,
    gauge,
    counter,
    render: Effect.promise(() => registry.metrics())
  })
})

export const layer = Layer.effect(Metrics, make)
