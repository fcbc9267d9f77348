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
import { createHash, randomBytes } from "node:crypto"
import pg from "pg"
import { people } from "../accounts/names.ts"
import { databaseName } from "../accounts/seed.ts"

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

const quoteIdent = (name: string) => `"${name.replaceAll("\"", "\"\"")}"`

export const withClient = async <A>(url: string, use: (client: pg.Client) => Promise<A>): Promise<A> => {
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
      return parsed.version === SEED_VERSION ? (parsed as Marker) : undefined
    } catch {
      return undefined
    }
  })

export const markerMatches = (m: Marker, s: SeedSettings) =>
  m.users === s.users && m.posts === s.posts && m.followDrawsPerUser === s.followDrawsPerUser &&
  m.zipfExponent === s.zipfExponent && m.likes === s.likes && m.celebrities === s.celebrities

/** Continuous inverse-CDF of p(x) ∝ x^-s on [1, N+1) (see bench/accounts/seed.ts). */
const zipfPick = (users: number, s: number) =>
  `least(${users}, floor(power(1 - random() * ${1 - (users + 1) ** (1 - s)}, ${1 / (1 - s)})))::int`

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

    await c.query(`
      CREATE TEMP TABLE bench_rank AS
      SELECT id, row_number() OVER (ORDER BY md5(id::text))::int AS rank,
             least(1000, floor(-ln(1 - random()) * ${s.followDrawsPerUser}))::int AS draws
      FROM users`)
    await c.query("CREATE UNIQUE INDEX ON bench_rank (rank)")
    await c.query("ANALYZE bench_rank")
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
    await c.query(`COMMENT ON DATABASE ${quoteIdent(databaseName(url))} IS ${c.escapeLiteral(JSON.stringify(marker))}`)
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

/** Bearer sessions written directly, in src/social/Sessions.ts's shape (see bench/accounts/seed.ts). */
export const createSessions = (url: string, userIds: ReadonlyArray<string>): Promise<ReadonlyArray<string>> =>
  withClient(url, async (c) => {
    const tokens = userIds.map(() => randomBytes(32).toString("base64url"))
    await c.query(
      `INSERT INTO sessions (token_hash, user_id, expires_at, user_agent)
       SELECT h, u, now() + interval '1 day', 'bench/feed' FROM unnest($1::bytea[], $2::uuid[]) AS x(h, u)`,
      [tokens.map((t) => createHash("sha256").update(t).digest()), userIds]
    )
    return tokens
  })

/** What a run leaves behind: sessions and outbox rows (server stopped). */
export const restore = (url: string) =>
  withClient(url, async (c) => {
    await c.query("DELETE FROM sessions")
    await c.query("DELETE FROM outbox")
    await c.query("VACUUM (ANALYZE) sessions, outbox")
  })
