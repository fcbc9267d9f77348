/**
 * The fan-out benchmark's data set, written straight into PostgreSQL after the server migrated
 * the database: one author and `followers` accounts that each follow them (edges spread over the
 * last year, so the follower index's keyset order is not the insertion order), the author's
 * follower count set to match. A JSON marker in the database's comment records what was seeded,
 * so later runs reuse it; `restore` removes what a run wrote (the author's posts, outbox rows).
 */
import { readSeedMarker, withClient, writeSeedMarker } from "../support/pgdb.ts"

const SEED_VERSION = 1
export const AUTHOR_USERNAME = "fanout_author"

export interface Marker {
  readonly version: number
  readonly followers: number
  readonly authorId: string
  readonly seededAt: string
  readonly seedSeconds: number
}

export const readMarker = (url: string) => readSeedMarker<Marker>(url, (m) => m.version === SEED_VERSION)

/** Seeds an empty, migrated database. */
export const seed = (url: string, followers: number): Promise<Marker> =>
  withClient(url, async (c) => {
    const started = performance.now()
    const author = await c.query<{ id: string }>(
      `INSERT INTO users (username, email, password_hash, display_name)
       VALUES ($1, $1 || '@bench.aperture.test', 'not-a-login', 'Fan-out author') RETURNING id::text`,
      [AUTHOR_USERNAME]
    )
    const authorId = author.rows[0]!.id
    await c.query(
      `INSERT INTO users (username, email, password_hash, display_name, following_count)
       SELECT 'fan' || lpad(i::text, 6, '0'), 'fan' || i || '@bench.aperture.test', 'not-a-login', 'Follower ' || i, 1
       FROM generate_series(1, $1::int) AS i`,
      [followers]
    )
    await c.query(
      `INSERT INTO follows (follower_id, followee_id, created_at)
       SELECT id, $1::uuid, now() - random() * interval '365 days' FROM users WHERE id <> $1::uuid`,
      [authorId]
    )
    await c.query("UPDATE users SET follower_count = $2 WHERE id = $1", [authorId, followers])
    await c.query("VACUUM (ANALYZE) users, follows")
    const marker: Marker = {
      version: SEED_VERSION,
      followers,
      authorId,
      seededAt: new Date().toISOString(),
      seedSeconds: Number(((performance.now() - started) / 1000).toFixed(1))
    }
    await writeSeedMarker(c, url, marker)
    return marker
  })

export const followerIds = (url: string, authorId: string): Promise<ReadonlyArray<string>> =>
  withClient(url, async (c) => {
    const rows = await c.query<{ id: string }>("SELECT follower_id::text AS id FROM follows WHERE followee_id = $1 ORDER BY 1", [authorId])
    return rows.rows.map((r) => r.id)
  })

/** Removes the posts and outbox rows of earlier runs (server stopped: the relay must not be reading them). */
export const restore = (url: string, authorId: string) =>
  withClient(url, async (c) => {
    const posts = await c.query("DELETE FROM posts WHERE author_id = $1", [authorId])
    await c.query("DELETE FROM outbox")
    await c.query("VACUUM (ANALYZE) posts, outbox")
    return posts.rowCount ?? 0
  })
