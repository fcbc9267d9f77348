/**
 * The feed benchmark's data set, written straight into PostgreSQL after the server migrated the
 * database (as bench/accounts/seed.ts does, at a tenth of its size):
 *   - 10,000 users from bench/accounts/names.ts (no private accounts: every follow is approved);
 *   - a power-law follow graph: each user draws an exponentially distributed number of followees,
 *     each with probability ∝ 1/rank^s over a random popularity ranking (Zipf), duplicates
 *     collapsed — a few accounts followed by most people, a long tail followed by a handful;
 *   - 200,000 published posts by uniformly drawn authors, published over the last 30 days (to the
 *     millisecond, as the feed score requires), with plausible captions, four variant URLs, size,
 *     a ~300-byte placeholder and a dominant colour;
 *   - some likes (so counts and the viewer's flags are not all zero);
 *   - counters recomputed, VACUUM ANALYZE.
 * The celebrity threshold is derived from the graph so that `celebrities` accounts reach it (the
 * server is started with CELEBRITY_THRESHOLD set to it). A JSON marker in the database's comment
 * records what was seeded, so later runs reuse it.
 */
import { randomBytes } from "node:crypto"
import { people } from "../accounts/names.ts"
import { createRankTable, zipfPick } from "../accounts/seed.ts"
import { readSeedMarker, withClient, writeSeedMarker } from "../support/pgdb.ts"

const SEED_VERSION = 1
const NAME_SEED = 20_240_715

export interface SeedSettings {
  readonly users: number
  readonly posts: number
  readonly followDrawsPerUser: number
  readonly zipfExponent: number
  readonly likes: number
  /** How many accounts should be at or above the celebrity threshold. */
  readonly celebrities: number
}

export interface Marker extends SeedSettings {
  readonly version: number
  readonly edges: number
  readonly celebrityThreshold: number
  /** Follower counts of the accounts at or above the threshold. */
  readonly celebrityFollowers: ReadonlyArray<number>
  readonly seededAt: string
  readonly seedSeconds: number
}

export const readMarker = (url: string) => readSeedMarker<Marker>(url, (m) => m.version === SEED_VERSION)

export const markerMatches = (m: Marker, s: SeedSettings) =>
  m.users === s.users && m.posts === s.posts && m.followDrawsPerUser === s.followDrawsPerUser &&
  m.zipfExponent === s.zipfExponent && m.likes === s.likes && m.celebrities === s.celebrities

// a tiny blurred WebP as a data URI, the size of the worker's real placeholders (~300 bytes)
const PLACEHOLDER = `data:image/webp;base64,${randomBytes(220).toString("base64")}`

type Log = (line: string) => void

export const seed = (url: string, s: SeedSettings, log: Log): Promise<Marker> =>
  withClient(url, async (c) => {
    const started = performance.now()
    const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`
    const persons = people(s.users, NAME_SEED, 0)
    await c.query(
      `INSERT INTO users (username, email, password_hash, display_name, bio, created_at)
       SELECT u, u || '@bench.aperture.test', 'not-a-login', d, b, now() - random() * interval '3 years'
       FROM unnest($1::text[], $2::text[], $3::text[]) AS x(u, d, b)`,
      [persons.map((p) => p.username), persons.map((p) => p.displayName), persons.map((p) => p.bio)]
    )
    log(`  ${s.users.toLocaleString("en-US")} users (${elapsed()})`)

    await createRankTable(c, s.followDrawsPerUser, 1000)
    await c.query("SET session_replication_role = replica")
    await c.query(`
      WITH draws AS MATERIALIZED (
        SELECT f.id AS follower_id, ${zipfPick(s.users, s.zipfExponent)} AS rank
        FROM bench_rank f CROSS JOIN LATERAL generate_series(1, f.draws)
      )
      INSERT INTO follows (follower_id, followee_id, created_at)
      SELECT d.follower_id, t.id, now() - random() * interval '365 days'
      FROM draws d JOIN bench_rank t ON t.rank = d.rank
      WHERE t.id <> d.follower_id
      ON CONFLICT DO NOTHING`)
    log(`  follows (${elapsed()})`)

    // posts: uniformly drawn authors, published over the last 30 days to the millisecond
    await c.query(
      `WITH ids AS (SELECT array_agg(id ORDER BY id) AS a, count(*)::int AS n FROM users),
       drawn AS (
         SELECT gen_random_uuid() AS id, ids.a[1 + floor(random() * ids.n)::int] AS author_id, i,
                date_trunc('milliseconds', now() - random() * interval '30 days') AS published_at
         FROM ids, generate_series(1, $1::int) AS i
       )
       INSERT INTO posts (id, author_id, status, caption, alt_text, location, original_key, original_type, original_bytes,
                          width, height, variants, placeholder, dominant_color, created_at, published_at)
       SELECT id, author_id, 'published',
              (ARRAY['golden hour', 'morning coffee', 'street corner', 'weekend hike', 'city lights', 'by the sea',
                     'film roll #', 'new lens test', 'market day', 'rainy window'])[1 + i % 10] || ' ' || left(md5(i::text), 6) ||
                ' — shot on a walk, more soon',
              'a photo', CASE WHEN i % 4 = 0 THEN 'Lisbon' END,
              'originals/' || id || '.jpg', 'image/jpeg', 2400000 + i % 100000,
              1080, 1350,
              jsonb_build_object('thumbnail', '/media/posts/' || id || '/150.webp', 'small', '/media/posts/' || id || '/320.webp',
                                 'medium', '/media/posts/' || id || '/640.webp', 'large', '/media/posts/' || id || '/1080.webp'),
              $2, '#' || left(md5(id::text), 6), published_at - interval '20 seconds', published_at
       FROM drawn`,
      [s.posts, PLACEHOLDER]
    )
    log(`  ${s.posts.toLocaleString("en-US")} posts (${elapsed()})`)

    await c.query(
      `WITH u AS (SELECT array_agg(id) AS a, count(*)::int AS n FROM users),
            p AS (SELECT array_agg(id) AS a, count(*)::int AS n FROM posts)
       INSERT INTO likes (post_id, user_id)
       SELECT p.a[1 + floor(random() * p.n)::int], u.a[1 + floor(random() * u.n)::int]
       FROM u, p, generate_series(1, $1::int)
       ON CONFLICT DO NOTHING`,
      [s.likes]
    )
    await c.query("RESET session_replication_role")
    await c.query(`UPDATE posts p SET like_count = l.n FROM (SELECT post_id, count(*)::int AS n FROM likes GROUP BY post_id) l WHERE l.post_id = p.id`)
    await c.query(`
      UPDATE users u
      SET follower_count = coalesce(fr.n, 0), following_count = coalesce(fg.n, 0), post_count = coalesce(pc.n, 0)
      FROM users x
      LEFT JOIN (SELECT followee_id, count(*)::int AS n FROM follows GROUP BY followee_id) fr ON fr.followee_id = x.id
      LEFT JOIN (SELECT follower_id, count(*)::int AS n FROM follows GROUP BY follower_id) fg ON fg.follower_id = x.id
      LEFT JOIN (SELECT author_id, count(*)::int AS n FROM posts GROUP BY author_id) pc ON pc.author_id = x.id
      WHERE u.id = x.id`)
    log(`  likes and counters (${elapsed()})`)
    await c.query("VACUUM (ANALYZE) users, follows, posts, likes")
    log(`  vacuumed and analysed (${elapsed()})`)

    const top = await c.query<{ follower_count: number }>(
      "SELECT follower_count FROM users ORDER BY follower_count DESC LIMIT $1",
      [s.celebrities]
    )
    const celebrityThreshold = top.rows[top.rows.length - 1]!.follower_count
    const celebs = await c.query<{ follower_count: number }>(
      "SELECT follower_count FROM users WHERE follower_count >= $1 ORDER BY follower_count DESC",
      [celebrityThreshold]
    )
    const edges = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM follows")
    const marker: Marker = {
      version: SEED_VERSION,
      ...s,
      edges: edges.rows[0]!.n,
      celebrityThreshold,
      celebrityFollowers: celebs.rows.map((r) => r.follower_count),
      seededAt: new Date().toISOString(),
      seedSeconds: Number(((performance.now() - started) / 1000).toFixed(1))
    }
    await writeSeedMarker(c, url, marker)
    return marker
  })

/** `count` viewers drawn at random among users who follow someone. */
export const viewers = (url: string, count: number): Promise<ReadonlyArray<string>> =>
  withClient(url, async (c) => {
    const rows = await c.query<{ id: string }>(
      `SELECT id::text FROM users WHERE following_count > 0 ORDER BY md5(id::text || 'viewers') LIMIT $1`,
      [count]
    )
    return rows.rows.map((r) => r.id)
  })

/** What a run leaves behind: sessions and outbox rows (server stopped). */
export const restore = (url: string) =>
  withClient(url, async (c) => {
    await c.query("DELETE FROM sessions")
    await c.query("DELETE FROM outbox")
    await c.query("VACUUM (ANALYZE) sessions, outbox")
  })
