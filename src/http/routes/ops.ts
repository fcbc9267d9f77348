import { Effect } from "effect"
import { AppConfig } from "../../config/AppConfig.ts"
import { ServiceUnavailable } from "../../domain/ApiError.ts"
import { Health, Readiness } from "../../domain/System.ts"
import { Metrics } from "../../observability/Metrics.ts"
import { Probes } from "../../observability/Probes.ts"
import type { GroupHandlers } from "../Handlers.ts"

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
  metrics: () => Effect.flatMap(Metrics, (m) => m.render)
} satisfies GroupHandlers<"ops", AppConfig | Probes | Metrics>
