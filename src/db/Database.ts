/**
 * PostgreSQL through `@effect/sql-pg`. The database named in DATABASE_URL is created when missing,
 * so `npm start` works against a bare server; then migrations run (idempotent, and serialised by
 * the Migrator's table lock when several nodes start together).
 */
import { NodeContext } from "@effect/platform-node"
import { PgClient, PgMigrator } from "@effect/sql-pg"
import { Migrator } from "@effect/sql"
import { Data, Effect, Layer, Redacted } from "effect"
import pg from "pg"
import { AppConfig } from "../config/AppConfig.ts"
import { migrations } from "./migrations/index.ts"

export class DatabaseSetupError extends Data.TaggedError("DatabaseSetupError")<{ readonly cause: unknown }> {
  override get message() {
    return `cannot prepare the database: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

const quoteIdent = (name: string) => `"${name.replaceAll("\"", "\"\"")}"`

/** Creates the database of `url` from the server's `postgres` database when it does not exist. */
export const ensureDatabase = (url: Redacted.Redacted) =>
  Effect.tryPromise({
    try: async () => {
      const target = new URL(Redacted.value(url))
      const name = decodeURIComponent(target.pathname.replace(/^\//, ""))
      if (name === "") return
      const admin = new URL(target)
      admin.pathname = "/postgres"
      const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 })
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

export const PgLive = Layer.unwrapEffect(
  Effect.gen(function*() {
    const config = yield* AppConfig
    yield* ensureDatabase(config.databaseUrl)
    return PgClient.layer({
      url: config.databaseUrl,
      maxConnections: 20,
      connectTimeout: "5 seconds",
      idleTimeout: "60 seconds",
      applicationName: `aperture-${config.nodeId}`,
      transformResultNames: (s) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
    })
  })
)

export const MigrationsLive = PgMigrator.layer({
  loader: Migrator.fromRecord(migrations),
  table: "aperture_migrations"
}).pipe(Layer.provide(NodeContext.layer))

/** PostgreSQL with every migration applied. */
export const layer = MigrationsLive.pipe(Layer.provideMerge(PgLive))
