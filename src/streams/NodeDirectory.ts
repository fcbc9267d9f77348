/**
 * Every node answers the inspector on core NATS, whatever its roles: `inspect.nodes` (a
 * scatter-gather: each node replies once) with what it is and what the services running on it
 * registered — the actor host its partitions and hottest actors, the gateway its sockets. The
 * inspector (`actors/runtime/Inspector.ts`) asks, waits for the nodes with a live heartbeat, and
 * says which did not answer.
 */
import { Context, Effect, Layer, Runtime } from "effect"
import { APP_VERSION, AppConfig } from "../config/AppConfig.ts"
import { Nats } from "./Nats.ts"

/** What a service of this node adds to its answer; `limit` bounds any list in it. */
export type Contribution = (request: { readonly limit: number }) => Effect.Effect<unknown>

export interface NodeAnswer {
  readonly node: string
  readonly roles: ReadonlyArray<string>
  readonly version: string
  readonly startedAt: string
  readonly parts: Readonly<Record<string, unknown>>
}

export interface NodeDirectoryShape {
  /**
   * Adds (or replaces) the `name` part of node `nodeId` (this process's NODE_ID; tests host
   * several nodes in one process, each answering as itself), until the returned function is called.
   */
  readonly register: (nodeId: string, name: string, contribution: Contribution) => () => void
  /** This process's answers, one per node it hosts, as the others get them. */
  readonly answers: (limit: number) => Effect.Effect<ReadonlyArray<NodeAnswer>>
}

export class NodeDirectory extends Context.Tag("NodeDirectory")<NodeDirectory, NodeDirectoryShape>() {}

export const inspectNodesSubject = "inspect.nodes"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export const make = Effect.gen(function*() {
  const nats = yield* Nats
  const config = yield* AppConfig
  const runPromise = Runtime.runPromise(yield* Effect.runtime<never>())
  const startedAt = new Date().toISOString()
  const nodes = new Map<string, Map<string, Contribution>>([[config.nodeId, new Map()]])

  const answerOf = (nodeId: string, parts: ReadonlyMap<string, Contribution>, limit: number) =>
    Effect.gen(function*() {
      const entries = yield* Effect.forEach([...parts], ([name, f]) =>
        f({ limit }).pipe(
          Effect.map((v) => [name, v] as const),
          Effect.catchAllCause(() => Effect.succeed([name, null] as const))
        ), { concurrency: "unbounded" })
      const roles = nodeId === config.nodeId ? [...config.roles] : [...parts.keys()]
      return { node: nodeId, roles, version: APP_VERSION, startedAt, parts: Object.fromEntries(entries) }
    })
  const answers = (limit: number) =>
    Effect.forEach([...nodes], ([nodeId, parts]) => answerOf(nodeId, parts, limit), { concurrency: "unbounded" })

  const sub = nats.connection.subscribe(nats.subject(inspectNodesSubject), {
    callback: (_e, msg) => {
      let limit = 20
      try {
        const body = JSON.parse(decoder.decode(msg.data)) as { limit?: unknown }
        if (typeof body.limit === "number" && body.limit >= 1 && body.limit <= 100) limit = Math.floor(body.limit)
      } catch {
        // the defaults
      }
      void runPromise(answers(limit)).then((all) => {
        for (const a of all) {
          try {
            msg.respond(encoder.encode(JSON.stringify(a)))
          } catch {
            // the asker is gone
          }
        }
      }, () => undefined)
    }
  })
  yield* Effect.addFinalizer(() => Effect.sync(() => sub.unsubscribe()))

  return NodeDirectory.of({
    register: (nodeId, name, contribution) => {
      const parts = nodes.get(nodeId) ?? new Map<string, Contribution>()
      nodes.set(nodeId, parts)
      parts.set(name, contribution)
      return () => {
        if (parts.get(name) === contribution) parts.delete(name)
        if (parts.size === 0 && nodeId !== config.nodeId) nodes.delete(nodeId)
      }
    },
    answers
  })
})

export const layer = Layer.scoped(NodeDirectory, make)
