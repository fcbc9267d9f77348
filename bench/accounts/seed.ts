/**
 * The benchmark's data set, written straight into PostgreSQL (the API would take hours: every
 * sign-up costs a ~200 ms scrypt hash). The server creates the database and its tables on its
 * first start; this module fills them:
 *   - users from `names.ts`, all with one precomputed scrypt hash of a known password;
 *   - a power-law follow graph: each user draws an exponentially distributed number of followees,
 *     each with probability ∝ 1/rank^s over a random popularity ranking, as real graphs have a few
 *     accounts with tens of thousands of followers and a long tail with a handful;
 *   - counters recomputed from the edges in one UPDATE, then VACUUM ANALYZE so the planner and
 *     index-only scans see the real data.
 * A JSON marker in the database's comment records what was seeded, so later runs reuse it.
 */
import { randomBytes, scrypt } from "node:crypto"
import type pg from "pg"
import { readSeedMarker, withClient, writeSeedMarker } from "../support/pgdb.ts"
import { people, type Person } from "./names.ts"

/** Bump when the generator changes, so existing seeds are rebuilt rather than silently reused. */
const SEED_VERSION = 1
const NAME_SEED = 20_240_601

export interface SeedSettings {
  readonly users: number
  /** Followees drawn per user on average; duplicate draws collapse, leaving fewer distinct edges. */
  readonly followDrawsPerUser: number
  readonly zipfExponent: number
  readonly privateShare: number
  readonly password: string
}

export interface Marker {
  readonly version: number
  readonly users: number
  readonly followDrawsPerUser: number
  readonly zipfExponent: number
  readonly privateShare: number
  readonly password: string
  readonly edges: number
  readonly maxFollowers: number
  readonly seededAt: string
  readonly seedSeconds: number
  /** The accounts tables' indexes when seeded (absent in markers written before it was recorded). */
  readonly indexes?: ReadonlyArray<string>
}

/** The marker of a finished seed of this version; undefined when the database, its tables or the marker are missing. */
export const readMarker = (url: string) => readSeedMarker<Marker>(url, (m) => m.version === SEED_VERSION)

/** Whether an existing seed matches what this run asks for. */
export const markerMatches = (marker: Marker, s: SeedSettings) =>
  marker.users === s.users && marker.followDrawsPerUser === s.followDrawsPerUser &&
  marker.zipfExponent === s.zipfExponent && marker.privateShare === s.privateShare && marker.password === s.password

// ---------------------------------------------------------------------------------------------
// Password hash

/**
 * The exact format of src/social/PasswordHasher.ts with its OWASP parameters (N=2^15, r=8, p=3,
 * 16-byte salt, 32-byte key, NFKC): anything else would make every login also rehash and write.
 */
export const hashPassword = (password: string) =>
  new Promise<string>((resolve, reject) => {
    const salt = randomBytes(16)
    scrypt(password.normalize("NFKC"), salt, 32, { N: 2 ** 15, r: 8, p: 3, maxmem: 64 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(`scrypt$15$8$3$${salt.toString("base64url")}$${key.toString("base64url")}`))
  })

// ---------------------------------------------------------------------------------------------
// Seeding

const USER_BATCH = 5_000
const FOLLOWER_BATCH = 10_000
const YEAR_MILLIS = 365 * 24 * 3600 * 1000

type Log = (line: string) => void

const insertUsers = async (c: pg.Client, persons: ReadonlyArray<Person>, passwordHash: string, log: Log) => {
  const now = Date.now()
  for (let at = 0; at < persons.length; at += USER_BATCH) {
    const batch = persons.slice(at, at + USER_BATCH)
    // accounts created over the last three years, so created_at orderings look like real ones
    const createdAt = batch.map((_, i) => new Date(now - ((at + i) * 7919 % persons.length) / persons.length * 3 * YEAR_MILLIS))
    // one statement per batch through unnest: far fewer round trips than row-by-row INSERTs
    await c.query(
      `INSERT INTO users (username, email, password_hash, display_name, bio, is_private, created_at)
       SELECT u, u || '@bench.aperture.test', $1, d, b, p, t
       FROM unnest($2::text[], $3::text[], $4::text[], $5::bool[], $6::timestamptz[]) AS x(u, d, b, p, t)`,
      [
        passwordHash,
        batch.map((p) => p.username),
        batch.map((p) => p.displayName),
        batch.map((p) => p.bio),
        batch.map((p) => p.isPrivate),
        createdAt
      ]
    )
    if ((at + batch.length) % 25_000 === 0 || at + batch.length === persons.length) {
      log(`  users ${(at + batch.length).toLocaleString("en-US")}/${persons.length.toLocaleString("en-US")}`)
    }
  }
}

/**
 * Continuous inverse-CDF of p(x) ∝ x^-s on [1, N+1): rank = ⌊(1 − u·(1 − (N+1)^(1−s)))^(1/(1−s))⌋.
 * With s = 1.1 and N = 100k the top account is drawn ~10% of the time, so nearly everyone follows it.
 */
export const zipfPick = (users: number, s: number) =>
  `least(${users}, floor(power(1 - random() * ${1 - (users + 1) ** (1 - s)}, ${1 / (1 - s)})))::int`

/**
 * `bench_rank`, what the follow draws read: each user's popularity rank, independent of creation
 * order, and how many followees they draw — exponentially distributed with mean `meanDraws` (most
 * follow a few dozen, some hundreds), capped at `maxDraws`.
 */
export const createRankTable = async (c: pg.Client, meanDraws: number, maxDraws: number) => {
  await c.query(`
    CREATE TEMP TABLE bench_rank AS
    SELECT id, row_number() OVER (ORDER BY md5(id::text))::int AS rank,
           least(${maxDraws}, floor(-ln(1 - random()) * ${meanDraws}))::int AS draws
    FROM users`)
  await c.query("CREATE UNIQUE INDEX ON bench_rank (rank)")
  await c.query("ANALYZE bench_rank")
}

const insertFollows = async (c: pg.Client, s: SeedSettings, log: Log) => {
  // capped so no one follows a fifth of the site
  await createRankTable(c, s.followDrawsPerUser, 2000)
  // the edges reference users by construction: skipping the FK triggers saves two lookups per edge
  await c.query("SET session_replication_role = replica")
  for (let from = 1; from <= s.users; from += FOLLOWER_BATCH) {
    const to = Math.min(s.users, from + FOLLOWER_BATCH - 1)
    await c.query(
      `WITH draws AS MATERIALIZED (
         SELECT f.id AS follower_id, ${zipfPick(s.users, s.zipfExponent)} AS rank
         FROM bench_rank f CROSS JOIN LATERAL generate_series(1, f.draws)
         WHERE f.rank BETWEEN $1 AND $2
       )
       INSERT INTO follows (follower_id, followee_id, created_at)
       SELECT d.follower_id, t.id, now() - random() * interval '365 days'
       FROM draws d JOIN bench_rank t ON t.rank = d.rank
       WHERE t.id <> d.follower_id
       ON CONFLICT DO NOTHING`,
      [from, to]
    )
    if (to % 25_000 === 0 || to === s.users) log(`  follow edges drawn for ${to.toLocaleString("en-US")} users`)
  }
  await c.query("RESET session_replication_role")
}

/** Tables whose indexes decide what the measured queries cost. */
const MEASURED_TABLES = ["users", "follows", "follow_requests", "blocks", "sessions"]

const indexesOf = async (c: pg.Client): Promise<ReadonlyArray<string>> => {
  const rows = await c.query<{ indexdef: string }>(
    "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY($1) ORDER BY indexdef",
    [MEASURED_TABLES]
  )
  return rows.rows.map((r) => r.indexdef)
}

/**
 * The measured tables' indexes now, and how they differ from the seed's: an index added by a newer
 * migration — or by hand — can change every plan (a reused seed carries whatever was done to it).
 */
export const indexDrift = (url: string, marker: Marker) =>
  withClient(url, async (c) => {
    const now = await indexesOf(c)
    const then = marker.indexes
    return {
      indexes: now,
      added: then === undefined ? [] : now.filter((d) => !then.includes(d)),
      removed: then === undefined ? [] : then.filter((d) => !now.includes(d))
    }
  })

const updateCounters = (c: pg.Client) =>
  c.query(`
    UPDATE users u
    SET follower_count = coalesce(fr.n, 0), following_count = coalesce(fg.n, 0)
    FROM users x
    LEFT JOIN (SELECT followee_id, count(*)::int AS n FROM follows GROUP BY followee_id) fr ON fr.followee_id = x.id
    LEFT JOIN (SELECT follower_id, count(*)::int AS n FROM follows GROUP BY follower_id) fg ON fg.follower_id = x.id
    WHERE u.id = x.id`)

/** Seeds an empty, migrated database; returns the marker it wrote. */
export const seed = (url: string, s: SeedSettings, log: Log): Promise<Marker> =>
  withClient(url, async (c) => {
    const started = performance.now()
    const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`
    const passwordHash = await hashPassword(s.password)
    const persons = people(s.users, NAME_SEED, s.privateShare)
    log(`  generated ${persons.length.toLocaleString("en-US")} people (${elapsed()})`)
    await insertUsers(c, persons, passwordHash, log)
    log(`  users inserted (${elapsed()})`)
    await insertFollows(c, s, log)
    log(`  follows inserted (${elapsed()})`)
    await updateCounters(c)
    log(`  counters updated (${elapsed()})`)
    await c.query("VACUUM (ANALYZE) users")
    await c.query("VACUUM (ANALYZE) follows")
    log(`  vacuumed and analysed (${elapsed()})`)
    const stats = await c.query<{ edges: number; max_followers: number }>(
      "SELECT (SELECT count(*)::int FROM follows) AS edges, (SELECT max(follower_count) FROM users) AS max_followers"
    )
    const marker: Marker = {
      version: SEED_VERSION,
      ...s,
      edges: stats.rows[0]!.edges,
      maxFollowers: stats.rows[0]!.max_followers,
      seededAt: new Date().toISOString(),
      seedSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      indexes: await indexesOf(c)
    }
    await writeSeedMarker(c, url, marker)
    return marker
  })

// ---------------------------------------------------------------------------------------------
// Run-time helpers

export interface SeededUser {
  readonly id: string
  readonly username: string
  readonly displayName: string
  readonly isPrivate: boolean
}

export const loadUsers = (url: string): Promise<ReadonlyArray<SeededUser>> =>
  withClient(url, async (c) => {
    const rows = await c.query<{ id: string; username: string; display_name: string; is_private: boolean }>(
      "SELECT id::text, username, display_name, is_private FROM users ORDER BY username"
    )
    return rows.rows.map((r) => ({ id: r.id, username: r.username, displayName: r.display_name, isPrivate: r.is_private }))
  })

/**
 * Undoes what a run wrote — its follows (newer than the seed), follow requests, sessions and outbox
 * events — and recomputes the counters it touched, so every run measures the same data set. Then
 * VACUUM: without it (or with autovacuum off, as on some development servers) the dead rows of
 * every run pile up in the tables and indexes the next run reads.
 * Run with the server stopped: the outbox relay must not be reading the rows removed here.
 */
export const restore = (url: string, marker: Marker) =>
  withClient(url, async (c) => {
    await c.query("BEGIN")
    await c.query(
      `CREATE TEMP TABLE touched ON COMMIT DROP AS
       SELECT follower_id AS id FROM follows WHERE created_at > $1
       UNION SELECT followee_id FROM follows WHERE created_at > $1`,
      [marker.seededAt]
    )
    const removed = await c.query("DELETE FROM follows WHERE created_at > $1", [marker.seededAt])
    await c.query(`
      UPDATE users u SET
        follower_count = (SELECT count(*) FROM follows WHERE followee_id = u.id),
        following_count = (SELECT count(*) FROM follows WHERE follower_id = u.id)
      WHERE u.id IN (SELECT id FROM touched)`)
    await c.query("DELETE FROM follow_requests")
    await c.query("DELETE FROM sessions")
    await c.query("DELETE FROM outbox")
    await c.query("COMMIT")
    await c.query("VACUUM (ANALYZE) users, follows, follow_requests, sessions, outbox")
    return removed.rowCount ?? 0
  })
