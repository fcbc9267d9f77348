/**
 * Structured JSON logs. Every line logged while a request is being served carries its request id,
 * read from the fiber's RequestContext — so the hot path pays nothing to annotate its logs.
 */
import { Context, FiberRef, FiberRefs, HashMap, Logger, Option } from "effect"
import { RequestContext } from "./RequestContext.ts"

export const jsonLogger = Logger.mapInputOptions(Logger.jsonLogger, (options) => {
  const request = Context.getOption(FiberRefs.getOrDefault(options.context, FiberRef.currentContext), RequestContext)
  return Option.isNone(request)
    ? options
    : { ...options, annotations: HashMap.set(options.annotations, "requestId", request.value.requestId as unknown) }
})

export const layer = Logger.replace(Logger.defaultLogger, Logger.withConsoleLog(jsonLogger))
