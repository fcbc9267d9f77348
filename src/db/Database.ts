/**
 * PostgreSQL through `@effect/sql-pg`. The database named in DATABASE_URL is created when missing,
 * so `npm start` works against a bare server; then migrations run (idempotent, and serialised by
 * the Migrator's table lock when several nodes start together).
 *
 * Every statement the application runs is bounded: PostgreSQL cancels one that runs longer than
 * PG_STATEMENT_TIMEOUT_MS (lock waits included), the client gives up shortly after when the server
 * does not answer at all (stopped, cut off), and opening a connection or waiting for a free one
 * takes at most PG_CONNECT_TIMEOUT_MS. Migrations run on a short-lived client of their own without
 * a statement timeout: DDL and waiting for another node's migrations may take longer.
 */
import { NodeContext } from "@effect/platform-node"
import { PgClient, PgMigrator } from "@effect/sql-pg"
import { Migrator } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Data, Effect, Layer, Redacted } from "effect"
import pg from "pg"
import { AppConfig, type AppConfigShape } from "../config/AppConfig.ts"
import { migrations } from "./migrations/index.ts"

export class DatabaseSetupError extends Data.TaggedError("DatabaseSetupError")<{ readonly cause: unknown }> {
  override get message() {
    return `cannot prepare the database: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

const quoteIdent = (name: string) => `"${name.replaceAll("\"", "\"\"")}"`

/** Creates the database of `url` from the server's `postgres` database when it does not exist. */
export const ensureDatabase = (url: Redacted.Redacted, connectTimeoutMillis = 5000) =>
  Effect.tryPromise({
    try: async () => {
      const target = new URL(Redacted.value(url))
      const name = decodeURIComponent(target.pathname.replace(/^\//, ""))
      if (name === "") return
      const admin = new URL(target)
      admin.pathname = "/postgres"
      const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: connectTimeoutMillis })
      await client.connect()
      try {
        const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])
        if (found.rowCount === 0) {
          await client.query(`CREATE DATABASE ${quoteIdent(name)}`).catch((e: { code?: string }) => {
            if (e.code !== "42P04") throw e // created meanwhile by another node
          })
        }
      } finally {
        await client.end()
      }
    },
    catch: (cause) => new DatabaseSetupError({ cause })
  })

/** Drops a database (tests use one database per file). */
export const dropDatabase = (url: Redacted.Redacted) =>
  Effect.tryPromise({
    try: async () => {
      const target = new URL(Redacted.value(url))
      const name = decodeURIComponent(target.pathname.replace(/^\//, ""))
      const admin = new URL(target)
      admin.pathname = "/postgres"
      const client = new pg.Client({ connectionString: admin.toString() })
      await client.connect()
      try {
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)
      } finally {
        await client.end()
      }
    },
    catch: (cause) => new DatabaseSetupError({ cause })
  })

const transformResultNames = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())

/** How much longer than the statement timeout the client waits for a server that says nothing. */
const CLIENT_GRACE_MILLIS = 2000

/** The application's pool: statements, connects and waits for a free connection all bounded. */
const boundedPool = (config: AppConfigShape) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const pool = new pg.Pool({
          connectionString: Redacted.value(config.databaseUrl),
          max: 20,
          idleTimeoutMillis: 60_000,
          // pg-pool applies this to a connect and to a wait for a free connection alike
          connectionTimeoutMillis: config.timeouts.pgConnectMillis,
          // sent at connect: the server cancels a statement (or lock wait) running longer
          statement_timeout: config.timeouts.pgStatementMillis,
          // the client's own bound, for a server that cannot even cancel (stopped, partitioned)
          query_timeout: config.timeouts.pgStatementMillis + CLIENT_GRACE_MILLIS,
          application_name: `aperture-${config.nodeId}`
        })
        // an idle connection that breaks is dropped by the pool; without a listener it would throw
        pool.on("error", () => undefined)
        try {
          await pool.query("SELECT 1")
        } catch (cause) {
          await pool.end().catch(() => undefined)
          throw cause
        }
        return pool
      },
      catch: (cause) => new SqlError({ cause, message: "PgClient: Failed to connect" })
    }),
    (pool) => Effect.promise(() => pool.end()).pipe(Effect.interruptible, Effect.timeoutOption(1000))
  )

/** Applies every migration on a client of its own (no statement timeout), closed when done. */
const migrate = (config: AppConfigShape) =>
  PgMigrator.run({ loader: Migrator.fromRecord(migrations), table: "aperture_migrations" }).pipe(
    Effect.provide(PgClient.layer({
      url: config.databaseUrl,
      maxConnections: 1,
      connectTimeout: config.timeouts.pgConnectMillis,
      applicationName: `aperture-${config.nodeId}-migrate`,
      transformResultNames
    })),
    Effect.provide(NodeContext.layer)
  )

/** PostgreSQL with every migration applied, on a pool whose every call is bounded in time. */
export const layer = Layer.unwrapEffect(
  Effect.gen(function*() {
    const config = yield* AppConfig
    yield* ensureDatabase(config.databaseUrl, config.timeouts.pgConnectMillis)
    yield* migrate(config)
    return PgClient.layerFromPool({
      acquire: boundedPool(config),
      applicationName: `aperture-${config.nodeId}`,
      transformResultNames
    })
  })
)
