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
  /** The MAILBOX stream sequence (0 for asks): grows per key in send order. */
  readonly seq: number
  readonly deliveryCount: number
  /** The partition's epoch (fencing token) this command is handled under; see `Fence.ts`. */
  readonly epoch: number
  /** 1 on the first try, then 2, 3… while the command is retried in place. */
  readonly attempt: number
}

/**
 * A kind's behaviour. A failing command is retried in place with a growing backoff (its actor
 * takes no next command meanwhile, so per-key order holds) until it succeeds or, after
 * ACTOR_MAX_DELIVER attempts, is dead-lettered; its state is dropped and rehydrated between
 * attempts. After a failover a command whose effects were committed but not acknowledged is
 * delivered again: a handler records the sequence it applied with its effects
 * (`Fences.transaction` does) or is idempotent. Every store write checks the envelope's epoch.
 */
export interface Behaviour<K extends AnyKind, S> {
  readonly kind: K
  /** Builds the actor's state; `envelope` is the command or ask that woke it (for fenced repairs). */
  readonly hydrate: (key: string, envelope: Envelope) => Effect.Effect<S, unknown>
  readonly receive: (state: S, command: CommandOf<K>, envelope: Envelope) => Effect.Effect<S, unknown>
  /**
   * A command addressed to many keys of one partition at once (fan-out), applied as one unit by
   * the partition's owner alongside (not after) the addressed actors' own commands. Only for
   * commands that commute with every other command of the kind, which the behaviour declares with
   * `commutative: true` — the only value the type allows.
   */
  readonly batch?: {
    readonly commutative: true
    readonly receive: (batch: BatchOf<K>, envelope: Envelope) => Effect.Effect<void, unknown>
    /**
     * Applies batches that queued up behind each other in one go (in their order; `envelopes[i]`
     * is that of `batches[i]`), to the same effect as `receive` on each in turn. When it fails,
     * the runtime falls back to `receive` one by one, so a bad batch is retried and
     * dead-lettered alone.
     */
    readonly receiveMany?: (batches: ReadonlyArray<BatchOf<K>>, envelopes: ReadonlyArray<Envelope>) => Effect.Effect<void, unknown>
  }
  /** Answers an `ask`, in mailbox order, seeing the state after every earlier command. */
  readonly answer?: (state: S, query: QueryOf<K>) => Effect.Effect<unknown, unknown>
  /** Answers an `ask` for an actor that is not alive without hydrating it (read-only queries). */
  readonly answerCold?: (key: string, query: QueryOf<K>) => Effect.Effect<unknown, unknown>
  /** The keys a batch addresses, for the inspector's live tail (asked only while someone observes). */
  readonly batchKeys?: (batch: BatchOf<K>) => ReadonlyArray<string>
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
