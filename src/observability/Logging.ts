/**
 * Structured JSON logs. Every line logged while a request is being served carries its request id,
 * read from the fiber's RequestContext — so the hot path pays nothing to annotate its logs. With
 * tracing on, a line logged inside a recorded span carries its `traceId` and `spanId`, so the
 * trace of a request or job leads to its log lines and back.
 */
import { Context, FiberRef, FiberRefs, HashMap, Logger, Option, Tracer } from "effect"
import { RequestContext } from "./RequestContext.ts"
import { Tracing } from "./Tracing.ts"

export const jsonLogger = Logger.mapInputOptions(Logger.jsonLogger, (options) => {
  const context = FiberRefs.getOrDefault(options.context, FiberRef.currentContext)
  let annotations = options.annotations
  const request = Context.getOption(context, RequestContext)
  if (Option.isSome(request)) annotations = HashMap.set(annotations, "requestId", request.value.requestId as unknown)
  // off, Effect's own spans (Effect.fn, SQL) have ids that lead nowhere: they are left out
  const span = Context.get(context, Tracing).enabled ? Context.getOption(context, Tracer.ParentSpan) : Option.none()
  if (Option.isSome(span) && span.value.sampled) {
    annotations = HashMap.set(HashMap.set(annotations, "traceId", span.value.traceId as unknown), "spanId", span.value.spanId as unknown)
  }
  return annotations === options.annotations ? options : { ...options, annotations }
})

export const layer = Logger.replace(Logger.defaultLogger, Logger.withConsoleLog(jsonLogger))
