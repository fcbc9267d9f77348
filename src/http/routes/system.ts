import { Effect } from "effect"
import { APP_VERSION, AppConfig } from "../../config/AppConfig.ts"
import { NodeInfo, SampleItem, SampleList } from "../../domain/System.ts"
import { RequestContext } from "../../observability/RequestContext.ts"
import type { GroupHandlers } from "../Handlers.ts"
import { opsAccess } from "../OpsAccess.ts"
import { CurrentTransport } from "../Transport.ts"

const epoch = Date.UTC(2026, 0, 1)

/** A fixed, deterministic list: the full JSON path (query decoding, encoding, metrics) without I/O. */
const sampleItems = Array.from({ length: 50 }, (_, i) =>
  new SampleItem({
    id: `item_${(i + 1).toString(36).padStart(6, "0")}`,
    title: `Sample item ${i + 1}`,
    rank: i + 1,
    createdAt: new Date(epoch + i * 60_000).toISOString(),
    tags: ["sample", i % 2 === 0 ? "even" : "odd"]
  }))

export const systemHandlers = {
  info: () =>
    Effect.gen(function*() {
      const config = yield* AppConfig
      const request = yield* RequestContext
      // the public learns only what it is talking to; versions, node ids and roles are for operators
      if (opsAccess(config.ops, request.headers.authorization) !== "granted") return new NodeInfo({ name: "aperture" })
      const transport = yield* CurrentTransport
      return new NodeInfo({
        name: "aperture",
        version: APP_VERSION,
        nodeId: config.nodeId,
        roles: [...config.roles],
        transport,
        runtime: "Deno" in globalThis ? "deno" : `node ${process.versions.node}`
      })
    }),
  sample: ({ urlParams }) =>
    Effect.succeed(
      // the items were validated when built; skip re-validating them on every request
      new SampleList(
        { items: sampleItems.slice(0, urlParams.limit), nextCursor: null, hasMore: urlParams.limit < sampleItems.length },
        true
      )
    ),
  echo: ({ payload }) => Effect.succeed(payload)
} satisfies GroupHandlers<"system", AppConfig | CurrentTransport | RequestContext>
