/**
 * The WebSocket benchmark's data set, written straight into PostgreSQL: N users (nothing else —
 * the gateway reads only sessions, blocks and the INBOX stream) and, per run, one session each.
 * The server creates the database and its tables on its first start; a JSON marker in the
 * database's comment records the seed, so later runs reuse it. Sessions have the shape of
 * src/social/Sessions.ts (32 random bytes as base64url, stored as their SHA-256) and are tagged
 * with the user agent `bench/ws`, so a run removes exactly its own (and those of interrupted runs).
 */
import { createHash, randomBytes } from "node:crypto"
import pg from "pg"
import { databaseName } from "../accounts/seed.ts"

export { databaseName, dropDatabase } from "../accounts/seed.ts"

/** Bump when the generator changes, so existing seeds are rebuilt rather than silently reused. */
const SEED_VERSION = 1
const USER_AGENT = "bench/ws"
const BATCH = 5_000

export interface Marker {
  readonly bench: "ws"
  readonly version: number
  readonly users: number
  readonly seededAt: string
}

export interface BenchUser {
  readonly id: string
  readonly username: string
}

const quoteIdent = (name: string) => `"${name.replaceAll("\"", "\"\"")}"`

const withClient = async <A>(url: string, use: (client: pg.Client) => Promise<A>): Promise<A> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await use(client)
  } finally {
    await client.end()
  }
}

const adminUrl = (url: string) => {
  const admin = new URL(url)
  admin.pathname = "/postgres"
  return admin.toString()
}

/** The marker of a finished seed of this version; undefined when the database or the marker is missing. */
export const readMarker = (url: string): Promise<Marker | undefined> =>
  withClient(adminUrl(url), async (c) => {
    const rows = await c.query<{ comment: string | null }>(
      "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
      [databaseName(url)]
    )
    const comment = rows.rows[0]?.comment
    if (comment === undefined || comment === null) return undefined
    try {
      const parsed = JSON.parse(comment) as Partial<Marker>
      return parsed.bench === "ws" && parsed.version === SEED_VERSION ? (parsed as Marker) : undefined
    } catch {
      return undefined
    }
  })

/** Fills an empty, migrated database with `users` accounts (`wsb000001`, …); nobody logs in as them. */
export const seed = (url: string, users: number): Promise<Marker> =>
  withClient(url, async (c) => {
    for (let at = 0; at < users; at += BATCH) {
      const names = Array.from({ length: Math.min(BATCH, users - at) }, (_, i) => `wsb${String(at + i + 1).padStart(6, "0")}`)
      // no usable password: these accounts are only ever used through sessions made below
      await c.query(
        `INSERT INTO users (username, email, password_hash, display_name)
         SELECT u, u || '@bench-ws.aperture.test', '!', u FROM unnest($1::text[]) AS x(u)`,
        [names]
      )
    }
    await c.query("VACUUM (ANALYZE) users")
    const marker: Marker = { bench: "ws", version: SEED_VERSION, users, seededAt: new Date().toISOString() }
    await c.query(`COMMENT ON DATABASE ${quoteIdent(databaseName(url))} IS ${c.escapeLiteral(JSON.stringify(marker))}`)
    return marker
  })

export const loadUsers = (url: string, limit: number): Promise<ReadonlyArray<BenchUser>> =>
  withClient(url, async (c) => {
    const rows = await c.query<{ id: string; username: string }>(
      "SELECT id::text, username FROM users WHERE username LIKE 'wsb%' ORDER BY username LIMIT $1",
      [limit]
    )
    return rows.rows
  })

/** One fresh session per user; returns the tokens in the same order. */
export const createSessions = (url: string, userIds: ReadonlyArray<string>): Promise<ReadonlyArray<string>> =>
  withClient(url, async (c) => {
    const tokens = userIds.map(() => randomBytes(32).toString("base64url"))
    for (let at = 0; at < userIds.length; at += BATCH) {
      await c.query(
        `INSERT INTO sessions (token_hash, user_id, expires_at, user_agent)
         SELECT h, u, now() + interval '1 day', $3 FROM unnest($1::bytea[], $2::uuid[]) AS x(h, u)`,
        [
          tokens.slice(at, at + BATCH).map((t) => createHash("sha256").update(t).digest()),
          userIds.slice(at, at + BATCH),
          USER_AGENT
        ]
      )
    }
    return tokens
  })

/** Removes every session this benchmark made (this run's and any an interrupted run left). */
export const deleteSessions = (url: string): Promise<number> =>
  withClient(url, async (c) => (await c.query("DELETE FROM sessions WHERE user_agent = $1", [USER_AGENT])).rowCount ?? 0)
