/**
 * Which unexpected failures mean "a dependency is unreachable or out of capacity" (503: try again
 * shortly) rather than "this code has a bug" (500, logged with the request id). A database error is
 * an outage only when the database cannot be talked to; a statement it refuses (bad data, a
 * constraint, bad SQL) is our bug. Classified by `_tag` so this module needs none of the clients;
 * a new dependency adds one entry to `byTag`.
 */

type Classifier = (error: { readonly _tag: string }) => boolean

/** Node's socket errors: the peer is down, unreachable or gone. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN"
])

/**
 * PostgreSQL SQLSTATEs that say the server cannot serve us right now: a timeout is a dependency
 * problem too (statement_timeout, lock_timeout, idle-in-transaction timeout).
 */
const isUnavailableSqlState = (code: string) =>
  code.startsWith("08") || // connection exception
  code.startsWith("53") || // insufficient resources: too many connections, out of memory or disk
  code === "57P01" || // admin_shutdown
  code === "57P02" || // crash_shutdown
  code === "57P03" || // cannot_connect_now (starting up, recovering)
  code === "57014" || // query_canceled: statement_timeout
  code === "55P03" || // lock_not_available: lock_timeout
  code === "25P03" || // idle_in_transaction_session_timeout
  // a transaction still losing a deadlock or serialization conflict after its retries (db/Retry.ts):
  // contention, to be tried again shortly, not a fault in the request
  code === "40P01" ||
  code === "40001"

/** Five characters; no SQLSTATE class starts with "E", so Node's errnos (EPIPE, EPERM) are never taken for one. */
const SQLSTATE = /^[0-9A-DF-Z][0-9A-Z]{4}$/

/**
 * What node-postgres and its pool say when there is no usable connection or an answer took longer
 * than `query_timeout`; they carry no code.
 */
const PG_CONNECTION_MESSAGE =
  /connection terminated|timeout exceeded when trying to connect|timeout expired|query read timeout|connection timed out|connection error|failed to acquire connection|failed to connect|not queryable|cannot use a pool after calling end/i

/** The error itself and its `cause`s, outermost first (bounded: causes can be cyclic). */
const causeChain = (u: unknown): ReadonlyArray<Record<string, unknown>> => {
  const chain: Array<Record<string, unknown>> = []
  let current = u
  while (typeof current === "object" && current !== null && chain.length < 8 && !chain.includes(current as never)) {
    chain.push(current as Record<string, unknown>)
    current = (current as { cause?: unknown }).cause
  }
  return chain
}

const codeOf = (e: Record<string, unknown>) => (typeof e.code === "string" ? e.code : undefined)
const messageOf = (e: Record<string, unknown>) => (typeof e.message === "string" ? e.message : "")

/**
 * An `SqlError` (from @effect/sql-pg: `cause` is the pg error with its SQLSTATE in `code`). The
 * SQLSTATE decides when there is one; otherwise a socket error code or node-postgres' connection
 * messages mean unreachable; anything else (22xxx data, 23xxx constraints, 42xxx syntax) is a bug.
 */
export const isSqlUnavailable = (error: unknown): boolean => {
  const chain = causeChain(error)
  const sqlState = chain.map(codeOf).find((c) => c !== undefined && SQLSTATE.test(c))
  if (sqlState !== undefined) return isUnavailableSqlState(sqlState)
  if (chain.some((e) => NETWORK_CODES.has(codeOf(e) ?? ""))) return true
  return chain.some((e) => PG_CONNECTION_MESSAGE.test(messageOf(e)))
}

/** The store is full or out of handles (try again later), as opposed to misconfigured or broken. */
const STORE_CAPACITY_CODES = new Set(["ENOSPC", "EDQUOT", "EMFILE", "ENFILE", "ENOMEM"])
/** What S3/MinIO answers when it is overloaded or down. */
const S3_UNAVAILABLE_CODES = new Set(["ServiceUnavailable", "SlowDown", "RequestTimeout", "InternalError"])

/**
 * A `BlobError` (src/media): a full disk or an unreachable or overloaded object store is an outage;
 * a permission, a read-only mount or an I/O error is a fault an operator must fix (500).
 */
export const isBlobUnavailable = (error: unknown): boolean =>
  causeChain(error).some((e) => {
    const code = codeOf(e) ?? ""
    return STORE_CAPACITY_CODES.has(code) || NETWORK_CODES.has(code) || S3_UNAVAILABLE_CODES.has(code)
  })

const byTag: Readonly<Record<string, Classifier>> = {
  SqlError: isSqlUnavailable,
  NatsError: () => true,
  // MAILBOX full (ACTOR_MAILBOX_MAX_MESSAGES): refused at once, the caller may retry shortly
  MailboxFull: () => true,
  // src/redis: a command that failed or timed out (Redis.call, and the Timelines store's own error)
  RedisError: () => true,
  RedisUnavailable: () => true,
  BlobError: isBlobUnavailable
}

/** Whether an unexpected failure or defect is a dependency being unavailable (503), not a bug (500). */
export const isDependencyFailure = (u: unknown): boolean => {
  if (typeof u !== "object" || u === null || !("_tag" in u) || typeof u._tag !== "string") return false
  const classify = byTag[u._tag]
  return classify !== undefined && classify(u as { readonly _tag: string })
}
