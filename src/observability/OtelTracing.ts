/**
 * `Tracing` on: `@effect/opentelemetry` puts an OpenTelemetry tracer behind every Effect span, a
 * batch span processor exports them over OTLP/HTTP (JSON) to AppConfig's endpoint, and the W3C
 * propagator reads and writes `traceparent`/`tracestate`.
 *
 * Sampling is parent-based: a span with a parent (local, or remote from a header) follows its
 * decision. A new trace starts only where work enters the process — a request (`server`) or a
 * message (`consumer`) — kept at OTEL_TRACES_SAMPLE_RATIO; other root spans (a background loop's
 * SQL statements, the relay's poll) are not recorded, so they never become traces of their own.
 *
 * The packages are loaded here, with `import()`, only when tracing is on: statically imported
 * they cost every start-up over 100 ms (and the bundle would hoist them to its top).
 */
import { type Clock, Context, Effect, Layer, Option, type Tracer } from "effect"
import { type OpenSpan, type SpanOptions, type TraceContext, Tracing, type TracingShape, headersOf } from "./Tracing.ts"

type Api = typeof import("@opentelemetry/api")
type SpanContext = import("@opentelemetry/api").SpanContext
type Sampler = import("@opentelemetry/sdk-trace-base").Sampler

const load = Effect.promise(async () => {
  const [api, core, base, exporter, effectTracer, effectSdk, effectResource] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/core"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@effect/opentelemetry/Tracer"),
    import("@effect/opentelemetry/NodeSdk"),
    import("@effect/opentelemetry/Resource")
  ])
  return { api, core, base, exporter, effectTracer, effectSdk, effectResource }
})

type Modules = Effect.Effect.Success<typeof load>

const kinds = (api: Api) => ({
  internal: api.SpanKind.INTERNAL,
  server: api.SpanKind.SERVER,
  client: api.SpanKind.CLIENT,
  producer: api.SpanKind.PRODUCER,
  consumer: api.SpanKind.CONSUMER
}) satisfies Record<Tracer.SpanKind, number>

/** New traces start only at requests and messages; everything else needs a parent to be recorded. */
const entryPoints = (m: Modules, ratio: Sampler): Sampler => ({
  shouldSample: (context, traceId, name, kind, attributes, links) =>
    kind === m.api.SpanKind.SERVER || kind === m.api.SpanKind.CONSUMER
      ? ratio.shouldSample(context, traceId, name, kind, attributes, links)
      : { decision: m.base.SamplingDecision.NOT_RECORD },
  toString: () => `EntryPoints{${ratio.toString()}}`
})

const primitive = (value: unknown): string | number | boolean =>
  typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? value : String(value)

const make = (m: Modules) =>
  Effect.gen(function*() {
    const otelTracer = yield* m.effectTracer.OtelTracer
    const { ROOT_CONTEXT, defaultTextMapGetter, defaultTextMapSetter, trace } = m.api
    const propagator = new m.core.W3CTraceContextPropagator()
    const kindOf = kinds(m.api)

    /** The span context in `context`, when it is a valid W3C one. */
    const parse = (context: TraceContext): SpanContext | undefined =>
      trace.getSpanContext(propagator.extract(ROOT_CONTEXT, headersOf(context), defaultTextMapGetter))

    const external = (context: TraceContext | undefined): Tracer.ExternalSpan | undefined => {
      const span = context === undefined ? undefined : parse(context)
      return span === undefined
        ? undefined
        : m.effectTracer.makeExternalSpan({ traceId: span.traceId, spanId: span.spanId, traceFlags: span.traceFlags, traceState: span.traceState })
    }

    const serialize = (span: SpanContext): TraceContext | undefined => {
      const carrier: Record<string, string> = {}
      propagator.inject(trace.setSpanContext(ROOT_CONTEXT, span), carrier, defaultTextMapSetter)
      return carrier.traceparent === undefined ? undefined : { traceparent: carrier.traceparent, tracestate: carrier.tracestate }
    }

    /** A remote parent made current by `withParent` (not a span of ours): its context as it came. */
    const ofExternal = (span: Tracer.ExternalSpan): TraceContext => {
      const state = Context.getOption(span.context, m.effectTracer.OtelTraceState)
      return {
        traceparent: `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`,
        tracestate: Option.isSome(state) ? state.value.serialize() : undefined
      }
    }

    const current: TracingShape["current"] = Effect.flatMap(Effect.option(Effect.currentParentSpan), (parent) => {
      if (Option.isNone(parent)) return Effect.succeed(undefined)
      if (parent.value._tag === "ExternalSpan") return Effect.succeed(ofExternal(parent.value))
      return Effect.map(Effect.option(m.effectTracer.currentOtelSpan), (span) => (Option.isNone(span) ? undefined : serialize(span.value.spanContext())))
    })

    const start = (name: string, parent: TraceContext, options?: SpanOptions): Effect.Effect<OpenSpan | undefined> => {
      const remote = external(parent)
      if (remote === undefined) return Effect.succeed(undefined)
      return Effect.map(
        Effect.makeSpan(name, { parent: remote, kind: options?.kind ?? "internal", attributes: options?.attributes, captureStackTrace: false }),
        (span): OpenSpan => ({
          context: { traceparent: `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`, tracestate: parent.tracestate },
          attribute: (key, value) => span.attribute(key, value),
          end: (exit) => Effect.clockWith((clock: Clock.Clock) => Effect.sync(() => span.end(clock.unsafeCurrentTimeNanos(), exit)))
        })
      )
    }

    const record = (name: string, parent: TraceContext, startedAt: number, options?: SpanOptions) => {
      const context = propagator.extract(ROOT_CONTEXT, headersOf(parent), defaultTextMapGetter)
      if (trace.getSpanContext(context) === undefined) return
      const attributes: Record<string, string | number | boolean> = {}
      for (const key in options?.attributes) attributes[key] = primitive(options.attributes[key])
      otelTracer.startSpan(name, { kind: kindOf[options?.kind ?? "internal"], startTime: startedAt, attributes }, context).end()
    }

    return Tracing.of({
      enabled: true,
      current,
      fromHeaders: (get) => {
        const traceparent = get("traceparent")
        if (traceparent === null || traceparent === undefined || traceparent === "") return undefined
        const tracestate = get("tracestate")
        return tracestate === null || tracestate === undefined || tracestate === "" ? { traceparent } : { traceparent, tracestate }
      },
      span: (effect, name, options) =>
        Effect.withSpan(effect, name, { kind: options?.kind, attributes: options?.attributes, captureStackTrace: false }),
      continueFrom: (effect, name, parent, options) => {
        const remote = external(parent)
        const links: Array<Tracer.SpanLink> = []
        for (const link of options?.links ?? []) {
          const span = external(link)
          if (span !== undefined) links.push({ _tag: "SpanLink", span, attributes: {} })
        }
        return Effect.withSpan(effect, name, {
          kind: options?.kind ?? "consumer",
          attributes: options?.attributes,
          links,
          captureStackTrace: false,
          ...(remote === undefined ? { root: true } : { parent: remote })
        })
      },
      withParent: (effect, parent) => {
        const remote = external(parent)
        return remote === undefined ? effect : Effect.withParentSpan(effect, remote)
      },
      start,
      record,
      annotate: (attributes) => Effect.annotateCurrentSpan(attributes)
    })
  })

/** The OpenTelemetry SDK as Effect's tracer, exporting to `config.endpoint`, and `Tracing` over it. */
export const layer = (
  config: { readonly endpoint: string; readonly sampleRatio: number; readonly exportDelayMillis: number; readonly serviceName: string },
  nodeId: string
) =>
  Layer.unwrapEffect(
    Effect.map(load, (m) => {
      const exporter = new m.exporter.OTLPTraceExporter({ url: config.endpoint })
      const processor = new m.base.BatchSpanProcessor(exporter, { scheduledDelayMillis: config.exportDelayMillis })
      const sampler = new m.base.ParentBasedSampler({ root: entryPoints(m, new m.base.TraceIdRatioBasedSampler(config.sampleRatio)) })
      const TracerLive = m.effectTracer.layer.pipe(
        Layer.provide(m.effectSdk.layerTracerProvider(processor, { sampler, shutdownTimeout: "5 seconds" })),
        Layer.provide(m.effectResource.layer({ serviceName: config.serviceName, attributes: { "service.instance.id": nodeId } }))
      )
      return Layer.effect(Tracing, make(m)).pipe(Layer.provideMerge(TracerLive))
    })
  )
