import { Effect } from "effect"
import { AppConfig } from "../../config/AppConfig.ts"
import { NotFound, ServiceUnavailable, Unauthorized } from "../../domain/ApiError.ts"
import { Health, Readiness } from "../../domain/System.ts"
import { Metrics } from "../../observability/Metrics.ts"
import { Probes } from "../../observability/Probes.ts"
import { addResponseHeader, RequestContext } from "../../observability/RequestContext.ts"
import type { GroupHandlers } from "../Handlers.ts"
import { metricsAccess } from "../OpsAccess.ts"

export const opsHandlers = {
  healthz: () =>
    Effect.gen(function*() {
      const config = yield* AppConfig
      const probes = yield* Probes
      return new Health({ status: "ok", nodeId: config.nodeId, uptimeSeconds: (Date.now() - probes.startedAt) / 1000 })
    }),
  readyz: () =>
    Effect.gen(function*() {
      const checks = yield* (yield* Probes).check
      const down = Object.entries(checks).filter(([, state]) => state === "down").map(([name]) => name)
      if (down.length > 0) {
        return yield* new ServiceUnavailable({ message: `not ready: ${down.join(", ")} down`, details: { checks } })
      }
      return new Readiness({ status: "ready", checks })
    }),
  metrics: () =>
    Effect.gen(function*() {
      const config = yield* AppConfig
      const request = yield* RequestContext
      switch (metricsAccess(config.ops, request.headers.authorization)) {
        case "granted":
          return yield* (yield* Metrics).render
        case "unauthorized":
          yield* addResponseHeader("www-authenticate", "Bearer realm=\"metrics\"")
          return yield* new Unauthorized({ message: "send the operations token: Authorization: Bearer <OPS_TOKEN>" })
        case "closed":
          // not served here at all: the same answer as a path that does not exist
          return yield* new NotFound({ message: `no route for ${request.method} ${request.path}` })
      }
    })
} satisfies GroupHandlers<"ops", AppConfig | Probes | Metrics | RequestContext>
