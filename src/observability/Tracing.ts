/**
 * Distributed traces, opt-in. With an OTLP endpoint configured (AppConfig `tracing`) one upload is
 * one trace: the request, its outbox row (which stores the W3C context), the relay's publish, the
 * media job, the event's consumers, the fan-out, the actor commands and the socket frames — the
 * context travels in `traceparent`/`tracestate` NATS headers between them.
 *
 * Off (the default) no SDK is loaded (`OtelTracing.ts` is imported only when on), `enabled` is
 * false, every method is a constant no-op that the hot paths branch around, and no header is
 * written. `Tracing` is a `Context.Reference`, so code built without the app's layers (unit tests,
 * tools) sees it off rather than missing.
 */
import { Context, Effect, Exit, Layer, type Tracer } from "effect"
import { AppConfig } from "../config/AppConfig.ts"

/** A W3C trace context as it travels: header values, validated where they are used. */
export interface TraceContext {
  readonly traceparent: string
  readonly tracestate?: string | undefined
}

/** The context a stored frame arrived with, and when this node received it (epoch ms). */
export interface FrameTrace {
  readonly parent: TraceContext
  readonly receivedAt: number
}

export interface SpanOptions {
  readonly kind?: Tracer.SpanKind | undefined
  readonly attributes?: Record<string, unknown> | undefined
}

/** A span its caller ends (work that is not one effect: each row of a batch published together). */
export interface OpenSpan {
  /** The span's own context, for the message it sends. */
  readonly context: TraceContext
  readonly attribute: (key: string, value: unknown) => void
  readonly end: (exit: Exit.Exit<unknown, unknown>) => Effect.Effect<void>
}

export interface TracingShape {
  readonly enabled: boolean
  /** The current span's context, to send with a message; undefined without one (always, when off). */
  readonly current: Effect.Effect<TraceContext | undefined>
  /** The context in message or request headers (`get` by lower-case name); undefined when absent or off. */
  readonly fromHeaders: (get: (name: string) => string | null | undefined) => TraceContext | undefined
  /** `effect` in a child span of the current one (just `effect` when off). */
  readonly span: <A, E, R>(effect: Effect.Effect<A, E, R>, name: string, options?: SpanOptions) => Effect.Effect<A, E, R>
  /**
   * `effect` in a span that continues `parent` (a message's or a request's context), or starts a
   * trace when there is none or it is malformed; `links` name other contexts it also serves (the
   * other batches of a `receiveMany`). Kind `consumer` unless given.
   */
  readonly continueFrom: <A, E, R>(
    effect: Effect.Effect<A, E, R>,
    name: string,
    parent: TraceContext | undefined,
    options?: SpanOptions & { readonly links?: ReadonlyArray<TraceContext> | undefined }
  ) => Effect.Effect<A, E, R>
  /** `effect` with `parent` as its current span, without a span of its own (a send on behalf of another trace). */
  readonly withParent: <A, E, R>(effect: Effect.Effect<A, E, R>, parent: TraceContext | undefined) => Effect.Effect<A, E, R>
  /** Starts a span under `parent` that the caller ends; undefined when off or `parent` is malformed. */
  readonly start: (name: string, parent: TraceContext, options?: SpanOptions) => Effect.Effect<OpenSpan | undefined>
  /** Records a span that began at `startedAt` (epoch ms) and ends now, from synchronous code (a socket send). */
  readonly record: (name: string, parent: TraceContext, startedAt: number, options?: SpanOptions) => void
  /** Adds attributes to the current span. */
  readonly annotate: (attributes: Record<string, unknown>) => Effect.Effect<void>
}

const noCurrent = Effect.succeed(undefined)

export const disabled: TracingShape = {
  enabled: false,
  current: noCurrent,
  fromHeaders: () => undefined,
  span: (effect) => effect,
  continueFrom: (effect) => effect,
  withParent: (effect) => effect,
  start: () => noCurrent,
  record: () => undefined,
  annotate: () => Effect.void
}

export class Tracing extends Context.Reference<Tracing>()("Tracing", { defaultValue: () => disabled }) {}

/** The headers that carry `context` (for NATS messages). */
export const headersOf = (context: TraceContext): Record<string, string> =>
  context.tracestate === undefined || context.tracestate === ""
    ? { traceparent: context.traceparent }
    : { traceparent: context.traceparent, tracestate: context.tracestate }

/**
 * `Tracing` as configured, and — when on — the OpenTelemetry tracer behind every Effect span
 * (`Effect.fn`, SQL statements, the spans above). Spans are flushed when the layer is released.
 */
export const layer = Layer.unwrapEffect(
  Effect.gen(function*() {
    const config = yield* AppConfig
    if (config.tracing.endpoint === undefined) return Layer.succeed(Tracing, disabled)
    const otel = yield* Effect.promise(() => import("./OtelTracing.ts"))
    return otel.layer({ ...config.tracing, endpoint: config.tracing.endpoint }, config.nodeId)
  })
)
