/**
 * PostgreSQL for the benchmarks: one client per call, the benchmark's own database (dropped to
 * rebuild it), and the JSON marker in the database's COMMENT that records what was seeded, so a
 * later run can reuse the seed instead of rebuilding it.
 */
import pg from "pg"

const quoteIdent = (name: string) => `"${name.replaceAll("\"", "\"\"")}"`

/** Runs `use` with a fresh connection to `url`, closed afterwards whatever happens. */
export const withClient = async <A>(url: string, use: (client: pg.Client) => Promise<A>): Promise<A> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await use(client)
  } finally {
    await client.end()
  }
}

/** The same server's `postgres` database: where a database is dropped or its comment read. */
const adminUrl = (url: string) => {
  const admin = new URL(url)
  admin.pathname = "/postgres"
  return admin.toString()
}

export const databaseName = (url: string) => decodeURIComponent(new URL(url).pathname.replace(/^\//, ""))

export const dropDatabase = (url: string) =>
  withClient(adminUrl(url), (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(databaseName(url))} WITH (FORCE)`)).then(() => undefined)

/** Process ids of the PostgreSQL backends connected to the database (for CPU accounting). */
export const backendPids = (url: string): Promise<ReadonlyArray<number>> =>
  withClient(url, async (c) => {
    const rows = await c.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    return rows.rows.map((r) => r.pid)
  })

// ---------------------------------------------------------------------------------------------
// Seed marker

/**
 * The marker of a finished seed, when `isCurrent` accepts it (its version, its benchmark);
 * undefined when the database, its comment or valid JSON is missing.
 */
export const readSeedMarker = <M>(url: string, isCurrent: (parsed: Partial<M>) => boolean): Promise<M | undefined> =>
  withClient(adminUrl(url), async (c) => {
    const rows = await c.query<{ comment: string | null }>(
      "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
      [databaseName(url)]
    )
    const comment = rows.rows[0]?.comment
    if (comment === undefined || comment === null) return undefined
    try {
      const parsed = JSON.parse(comment) as Partial<M>
      return isCurrent(parsed) ? (parsed as M) : undefined
    } catch {
      return undefined
    }
  })

/** Records a finished seed; written last, so a partial seed has no marker. */
export const writeSeedMarker = (c: pg.Client, url: string, marker: unknown) =>
  // COMMENT takes no parameters; the JSON is quoted as a string literal instead
  c.query(`COMMENT ON DATABASE ${quoteIdent(databaseName(url))} IS ${c.escapeLiteral(JSON.stringify(marker))}`)

/** BENCH_RESEED=1: the seed is to be rebuilt even when it matches. */
export const reseedRequested = () => process.env["BENCH_RESEED"] === "1"

export interface SeedInfo<M> {
  readonly marker: M
  readonly reused: boolean
}

/**
 * Reuses the seed when its marker `matches`; otherwise drops the database (a partial seed or one
 * of another size) and lets `rebuild` create, migrate and fill it again.
 */
export const reuseOrRebuild = async <M>(
  url: string,
  existing: M | undefined,
  matches: (marker: M) => boolean,
  rebuild: () => Promise<M>
): Promise<SeedInfo<M>> => {
  if (existing !== undefined && matches(existing)) return { marker: existing, reused: true }
  await dropDatabase(url)
  return { marker: await rebuild(), reused: false }
}
