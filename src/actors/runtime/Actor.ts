/**
 * What an actor is, independent of where it runs. An `ActorKind` names a kind and the schemas of
 * its commands (and, optionally, of partition-wide batches and of `ask` queries): senders need only
 * this. A `Behaviour` is how a host runs the kind: it hydrates state for a key, handles one command
 * at a time, answers queries, and may apply a batch that addresses many keys of one partition.
 */
import type { Effect, Schema } from "effect"

export interface ActorKind<C, CI = unknown, B = unknown, BI = unknown, Q = unknown, QI = unknown> {
  readonly name: string
  readonly command: Schema.Schema<C, CI>
  readonly batch?: Schema.Schema<B, BI> | undefined
  readonly query?: Schema.Schema<Q, QI> | undefined
}

export type AnyKind = ActorKind<any, any, any, any, any, any>
export type CommandOf<K> = K extends ActorKind<infer C, any, any, any, any, any> ? C : never
export type BatchOf<K> = K extends ActorKind<any, any, infer B, any, any, any> ? B : never
export type QueryOf<K> = K extends ActorKind<any, any, any, any, infer Q, any> ? Q : never

export const kind = <C, CI, B = unknown, BI = unknown, Q = unknown, QI = unknown>(spec: ActorKind<C, CI, B, BI, Q, QI>) => {
  if (!/^[a-z][a-z0-9_-]{0,31}$/.test(spec.name)) throw new Error(`bad actor kind name ${spec.name}`)
  return spec
}

/** What a handler knows about the message it is handling. */
export interface Envelope {
  readonly kind: string
  readonly key: string
  readonly partition: number
  /** The MAILBOX stream sequence (0 for asks). */
  readonly seq: number
  readonly deliveryCount: number
}

/**
 * A kind's behaviour. Failures and defects are treated alike: the actor restarts (its state is
 * dropped and rehydrated) and JetStream redelivers the command. Handlers must therefore be
 * idempotent for a command seen twice — the runtime guarantees order per key and one message at a
 * time, not exactly-once effects across a crash.
 */
export interface Behaviour<K extends AnyKind, S> {
  readonly kind: K
  readonly hydrate: (key: string) => Effect.Effect<S, unknown>
  readonly receive: (state: S, command: CommandOf<K>, envelope: Envelope) => Effect.Effect<S, unknown>
  /**
   * A command addressed to many keys of one partition at once (fan-out), applied as one unit by
   * the partition's owner. Only for commutative, idempotent commands: it does not wait for the
   * addressed actors' mailboxes.
   */
  readonly receiveBatch?: (batch: BatchOf<K>, envelope: Envelope) => Effect.Effect<void, unknown>
  /** Answers an `ask`, in mailbox order, seeing the state after every earlier command. */
  readonly answer?: (state: S, query: QueryOf<K>) => Effect.Effect<unknown, unknown>
  /** A JSON-safe view of the state for the inspector. */
  readonly describe?: (state: S) => unknown
}

export type AnyBehaviour = Behaviour<AnyKind, any>

export const behaviour = <K extends AnyKind, S>(b: Behaviour<K, S>): AnyBehaviour => b as unknown as AnyBehaviour

/** FNV-1a over the key's UTF-16 code units: stable across nodes and languages that do the same. */
export const partitionOf = (key: string, partitions: number) => {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0) % partitions
}

/** Keys travel in subjects: no dots, wildcards or spaces. */
export const isValidKey = (key: string) => /^[A-Za-z0-9_-]{1,128}$/.test(key)

/** The reserved key of partition-wide batches. */
export const BatchKey = "_batch"

export const mailboxSubject = (kindName: string, partition: number, key: string) => `mbox.${kindName}.${partition}.${key}`
export const askSubject = (partition: number) => `actors.ask.${partition}`
