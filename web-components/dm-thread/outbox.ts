/**
 * The outbox of direct messages: a message is written here (with its `clientId`) before it is
 * sent, and leaves only when the server confirmed it, so one written offline or just before a
 * reload goes out later under the same `clientId` — which the server answers with the original
 * message, so a resend never makes a second one. Kept in IndexedDB where the browser has it;
 * the in-memory store is for tests and for browsers that refuse IndexedDB (private modes).
 */
import type { Message } from "../sdk/dm.ts"
import { ApiError } from "../sdk/rest.ts"
import { backoffDelay } from "../sdk/socket.ts"

export interface OutboxEntry {
  readonly clientId: string
  /** Whose message: one browser may hold several accounts' outboxes. */
  readonly userId: string
  readonly conversationId: string
  readonly text: string | null
  readonly replyToSeq: number | null
  readonly mediaUploadId: string | null
  /** Milliseconds since the epoch: the order the entries are sent in. */
  readonly writtenAt: number
}

export interface OutboxStore {
  /** The entries of one person's thread, oldest first. */
  readonly list: (userId: string, conversationId: string) => Promise<ReadonlyArray<OutboxEntry>>
  readonly put: (entry: OutboxEntry) => Promise<void>
  readonly remove: (clientId: string) => Promise<void>
}

const byWritten = (a: OutboxEntry, b: OutboxEntry) => a.writtenAt - b.writtenAt

export const memoryOutbox = (): OutboxStore => {
  const entries = new Map<string, OutboxEntry>()
  return {
    list: async (userId, conversationId) => [...entries.values()].filter((e) => e.userId === userId && e.conversationId === conversationId).sort(byWritten),
    put: async (entry) => void entries.set(entry.clientId, entry),
    remove: async (clientId) => void entries.delete(clientId)
  }
}

const request = <T>(r: IDBRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    r.onsuccess = () => resolve(r.result)
    r.onerror = () => reject(r.error)
  })

const STORE = "outbox"

export const indexedDbOutbox = (name = "aperture-dm"): OutboxStore => {
  let db: Promise<IDBDatabase> | undefined
  const open = () =>
    (db ??= new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open(name, 1)
      r.onupgradeneeded = () => {
        const store = r.result.createObjectStore(STORE, { keyPath: "clientId" })
        store.createIndex("thread", ["userId", "conversationId"])
      }
      r.onsuccess = () => resolve(r.result)
      r.onerror = () => {
        db = undefined
        reject(r.error)
      }
    }))
  /** Resolves when the transaction committed: a write the caller awaited survives a reload. */
  const write = async (f: (store: IDBObjectStore) => void) => {
    const tx = (await open()).transaction(STORE, "readwrite")
    f(tx.objectStore(STORE))
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error)
      tx.onabort = () => reject(tx.error)
    })
  }
  return {
    list: async (userId, conversationId) => {
      const store = (await open()).transaction(STORE).objectStore(STORE)
      const all = await request(store.index("thread").getAll(IDBKeyRange.only([userId, conversationId])) as IDBRequest<Array<OutboxEntry>>)
      return all.sort(byWritten)
    },
    put: (entry) => write((s) => s.put(entry)),
    remove: (clientId) => write((s) => s.delete(clientId))
  }
}

let shared: OutboxStore | undefined
/** The page's outbox: IndexedDB when there is one, memory otherwise. */
export const defaultOutbox = (): OutboxStore => (shared ??= typeof indexedDB === "undefined" ? memoryOutbox() : indexedDbOutbox())

export type SendState = "sending" | "waiting" | "failed"

/** A failure worth trying again later: no answer at all, "could not confirm in time" (503), overload. */
export const retryable = (error: unknown) =>
  !(error instanceof ApiError) || error.status === 0 || error.status === 408 || error.status === 429 || error.status >= 500

export interface SenderOptions {
  readonly store: OutboxStore
  readonly send: (entry: OutboxEntry) => Promise<Message>
  readonly sent: (entry: OutboxEntry, message: Message) => void
  readonly state: (clientId: string, state: SendState, error?: unknown) => void
  readonly baseDelayMs?: number
  readonly maxDelayMs?: number
}

/**
 * Sends a thread's entries one at a time, in the order written (so they get their seqs in that
 * order). A retryable failure stops the round and schedules the next after a backoff; `kick`
 * (reconnected, back online, a new entry) starts one at once. A refusal (4xx) marks that entry
 * failed and goes on with the next; it stays in the store until retried or discarded.
 */
export class OutboxSender {
  #entries: () => Promise<ReadonlyArray<OutboxEntry>>
  #running = false
  #again = false
  #stopped = false
  #attempt = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  readonly #failed = new Set<string>()

  constructor(
    private readonly options: SenderOptions,
    entries: () => Promise<ReadonlyArray<OutboxEntry>>
  ) {
    this.#entries = entries
  }

  kick(): void {
    if (this.#stopped) return
    clearTimeout(this.#timer)
    this.#attempt = 0
    if (this.#running) {
      this.#again = true
      return
    }
    void this.#round()
  }

  /** A failed entry goes back into the rounds. */
  retry(clientId: string): void {
    this.#failed.delete(clientId)
    this.kick()
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }

  async #round(): Promise<void> {
    this.#running = true
    this.#again = false
    let wait = false
    try {
      const entries = (await this.#entries()).filter((e) => !this.#failed.has(e.clientId))
      for (const [i, entry] of entries.entries()) {
        if (this.#stopped) return
        this.options.state(entry.clientId, "sending")
        try {
          const message = await this.options.send(entry)
          await this.options.store.remove(entry.clientId)
          this.options.sent(entry, message)
        } catch (error) {
          if (!retryable(error)) {
            this.#failed.add(entry.clientId)
            this.options.state(entry.clientId, "failed", error)
            continue
          }
          for (const rest of entries.slice(i)) this.options.state(rest.clientId, "waiting", error)
          wait = true
          break
        }
      }
    } finally {
      this.#running = false
    }
    if (this.#stopped) return
    if (this.#again) return this.#round()
    if (wait) {
      const delay = backoffDelay(this.#attempt++, this.options.baseDelayMs ?? 1_000, this.options.maxDelayMs ?? 30_000)
      this.#timer = setTimeout(() => void this.#round(), delay)
    } else {
      this.#attempt = 0
    }
  }
}
