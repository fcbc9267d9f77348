/**
 * The WebSocket benchmark's data set, written straight into PostgreSQL: N users (nothing else —
 * the gateway reads only sessions, blocks and the INBOX stream) and, per run, one session each.
 * The server creates the database and its tables on its first start; a JSON marker in the
 * database's comment records the seed, so later runs reuse it. Sessions have the shape of
 * src/social/Sessions.ts (32 random bytes as base64url, stored as their SHA-256) and are tagged
 * with the user agent `bench/ws`, so a run removes exactly its own (and those of interrupted runs).
 */
import { readSeedMarker, withClient, writeSeedMarker } from "../support/pgdb.ts"
import { createSessions as createSessionsAs } from "../support/sessions.ts"

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

/** The marker of a finished seed of this version; undefined when the database or the marker is missing. */
export const readMarker = (url: string) => readSeedMarker<Marker>(url, (m) => m.bench === "ws" && m.version === SEED_VERSION)

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
    await writeSeedMarker(c, url, marker)
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

/** One fresh session per user, tagged as this benchmark's; returns the tokens in the same order. */
export const createSessions = (url: string, userIds: ReadonlyArray<string>) => createSessionsAs(url, userIds, USER_AGENT)

/** Removes every session this benchmark made (this run's and any an interrupted run left). */
export const deleteSessions = (url: string): Promise<number> =>
  withClient(url, async (c) => (await c.query("DELETE FROM sessions WHERE user_agent = $1", [USER_AGENT])).rowCount ?? 0)
