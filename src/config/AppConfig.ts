/**
 * Every setting Aperture reads, with its default and validation, in one place.
 * Nothing else in `src/` reads the environment: services depend on `AppConfig`.
 * A bad value stops start-up with a ConfigError naming the variable.
 */
import { randomBytes } from "node:crypto"
import * as os from "node:os"
import { Config, ConfigError, Context, Effect, Either, Layer, Redacted } from "effect"

export type Role = "api" | "actors" | "media"
export type Transport = "uws" | "node" | "auto"
export type MediaStoreKind = "fs" | "s3"

export interface AppConfigShape {
  readonly nodeId: string
  readonly host: string
  readonly port: number
  readonly roles: ReadonlySet<Role>
  readonly transport: Transport
  readonly databaseUrl: Redacted.Redacted
  readonly redisUrl: Redacted.Redacted
  readonly redisKeyPrefix: string
  readonly natsUrl: string
  /** Prefix for stream names, subjects and KV buckets, so several deployments (or test runs) share one NATS. */
  readonly natsPrefix: string
  readonly dataDir: string
  readonly mediaStore: MediaStoreKind
  readonly s3: {
    readonly endpoint: string
    readonly accessKey: Redacted.Redacted
    readonly secretKey: Redacted.Redacted
    readonly bucket: string
  }
  readonly limits: {
    readonly jsonBodyBytes: number
    readonly uploadBytes: number
    readonly wsMaxFrameBytes: number
    readonly wsMaxBufferedBytes: number
    readonly wsIdleTimeoutSeconds: number
    /** Request target (path and query) longer than this is refused with 414. */
    readonly urlBytes: number
    /** Request headers larger than this in all are refused with 431. */
    readonly headerBytes: number
    /** JSON bodies nested deeper than this are refused with 400 before they are parsed. */
    readonly jsonDepth: number
    /** A connection that has not sent its whole request head within this long is closed. */
    readonly headersTimeoutSeconds: number
  }
  readonly celebrityThreshold: number
  /** Deliveries of an EVENTS event before a failing consumer dead-letters it (EVENTS_MAX_DELIVER). */
  readonly eventsMaxDeliver: number
  readonly actorPartitions: number
  readonly actors: {
    /** An actor with nothing to do for this long is passivated (its state dropped, rehydrated later). */
    readonly idleMillis: number
    readonly mailboxCapacity: number
    /** Deliveries of a command before it is dead-lettered; also the MAILBOX consumers' max_deliver. */
    readonly maxDeliver: number
    /** How often a node renews its partition leases and rebalances; leases expire after ACTOR_LEASE_TTL_MS. */
    readonly leaseTickMillis: number
    readonly askTimeoutMillis: number
  }
  readonly actorRuntime: {
    /** A lease not renewed for this long expires (the shards/nodes buckets' max-age); its holder stops earlier. */
    readonly leaseTtlMillis: number
    /** The MAILBOX partition consumers' ack_wait; held commands are kept alive with `working()`. */
    readonly ackWaitMillis: number
    /** Commands of one partition pulled and not yet acknowledged, at most (the consumer's max_ack_pending). */
    readonly maxAckPending: number
    /** Commands waiting in MAILBOX, at most: beyond it `send` fails at once with `MailboxFull` (503). */
    readonly mailboxMaxMessages: number
    /** Time limit of one hydrate, one command, one batch (each). */
    readonly handlerTimeoutMillis: number
    /** Commands queued for one key beyond which it parks (moves its backlog to PARKED). */
    readonly parkAfter: number
  }
  readonly feed: {
    /** Entries kept per home timeline in Redis. */
    readonly timelineCap: number
    /** Entries kept per celebrity author outbox in Redis. */
    readonly authorOutboxCap: number
  }
  readonly outbox: { readonly pollMillis: number; readonly batchSize: number }
  /** Bounds on every call to a dependency: a stalled one costs a request this long, never the whole stall. */
  readonly timeouts: {
    /** A Redis command without a reply by then fails (readers with a fallback take it). */
    readonly redisCommandMillis: number
    /** PostgreSQL cancels a statement running longer (the client gives up a little later if the server is silent). */
    readonly pgStatementMillis: number
    /** Opening a PostgreSQL connection, or waiting for a free one in the pool. */
    readonly pgConnectMillis: number
    /** A JetStream request (a PubAck, a direct get, a management call) without a reply by then fails. */
    readonly natsRequestMillis: number
  }
  readonly readyTimeoutMillis: number
  readonly shutdownGraceMillis: number
  /** Share of requests given an in-process span when OpenTelemetry tracing is off (ignored when it is on). */
  readonly traceSampleRate: number
  /** OpenTelemetry traces: off (no SDK loaded, no trace headers written) unless an OTLP endpoint is set. */
  readonly tracing: {
    /** The OTLP/HTTP traces URL spans are exported to (JSON); undefined: tracing is off. */
    readonly endpoint: string | undefined
    /** Share of new traces kept; a caller's decision (a sampled `traceparent`) is followed either way. */
    readonly sampleRatio: number
    /** How long finished spans wait before they are exported in one batch. */
    readonly exportDelayMillis: number
    readonly serviceName: string
  }
  readonly logLevel: "debug" | "info" | "warning" | "error"
  readonly corsOrigins: ReadonlyArray<string>
  /** Take the client address from X-Forwarded-For (only behind a proxy that sets it). */
  readonly trustProxy: boolean
  readonly sessions: {
    readonly ttlSeconds: number
    /** `auto`: Secure when the request came over https (directly or per X-Forwarded-Proto). */
    readonly cookieSecure: "auto" | "always" | "never"
    /** How long a node trusts a resolved session before asking the database again (log-outs reach every node at once). */
    readonly cacheMillis: number
  }
  readonly sockets: {
    /** How often a node asks whether its sockets' sessions still stand; a socket whose session is gone closes with 4401. */
    readonly sessionRecheckSeconds: number
    /** Sockets one user may hold on one node (0: no cap); the next closes with 4429. */
    readonly maxPerUser: number
    /** Sockets one client address may hold on one node (0: no cap); the next closes with 4429. */
    readonly maxPerAddress: number
  }
  /** log2 of scrypt's N; 15 is OWASP's setting (with r=8, p=3). Lower only for tests. */
  readonly scryptLogN: number
  readonly media: {
    /** Jobs one media process works on at once. */
    readonly concurrency: number
    readonly maxPixels: number
    readonly uploadTtlSeconds: number
    /** Key that signs direct-upload URLs in fs mode; every API node must share it. */
    readonly uploadSigningKey: Redacted.Redacted
    /** S3 mode: serve media by proxying it, or by redirecting to a short presigned GET. */
    readonly s3Delivery: "proxy" | "redirect"
    /** How long a job may run unacknowledged before JetStream redelivers it (a worker died). */
    readonly ackWaitSeconds: number
    /** Delays before each retry of a failed job; a job is delivered this many times plus one. */
    readonly retryDelaysMillis: ReadonlyArray<number>
  }
  /** Media of restricted posts (private authors): signed, short-lived URLs instead of plain ones. */
  readonly mediaUrls: {
    /** Signs the URLs (HMAC-SHA256); every node must share it. */
    readonly secret: Redacted.Redacted
    /** Lifetime of a signed URL: how long a viewer who lost access can still load what they were given. */
    readonly ttlSeconds: number
    /** How long a node trusts a post's audience for plain URLs (changes are also broadcast to every node). */
    readonly audienceCacheMillis: number
  }
  /** Base URL clients reach this server at (for upload URLs); derived from the request when unset. */
  readonly publicUrl: string | undefined
  /** Accounts allowed to use the admin endpoints. */
  readonly adminUsernames: ReadonlyArray<string>
  /** Who may see the operations endpoints (`/metrics`, the full `/system/info`) and the benchmark fixtures. */
  readonly ops: {
    /** NODE_ENV=production: without `token` or `metricsPort`, `/metrics` is a 404 and `/system/info` is trimmed. */
    readonly production: boolean
    /** `Authorization: Bearer <token>` opens `/metrics` and the full `/system/info` on the main listener. */
    readonly token: Redacted.Redacted | undefined
    /** A separate listener (on HOST) serving only `/metrics`, to expose on a private network. */
    readonly metricsPort: number | undefined
    /** `/api/v1/system/sample` and `/system/echo` exist only when this is on (benchmarks, fuzzing, tests). */
    readonly benchFixtures: boolean
  }
  readonly rateLimits: {
    readonly signupsPerIpPerHour: number
    readonly loginFailuresPerAccountPer15Min: number
    readonly loginFailuresPerIpPer15Min: number
    readonly followsPerUserPerHour: number
    readonly writesPerUserPerMinute: number
    /** Direct messages a user may send per minute, and threads they may start per hour. */
    readonly dmSendsPerUserPerMinute: number
    readonly dmThreadsPerUserPerHour: number
  }
  /** Direct messages: how long a write waits for its conversation actor's answer before a 503 (resend with the same clientId). */
  readonly dm: { readonly replyTimeoutMillis: number }
  /** `Idempotency-Key`: how long a key answers its first response, and the lease of one in flight. */
  readonly idempotency: { readonly ttlHours: number; readonly leaseSeconds: number }
  /** The admins' live tail and inspector (see `streams/Taps.ts`, `actors/runtime/Inspector.ts`). */
  readonly observe: {
    /** An observer's interest is forgotten this long after its last announcement. */
    readonly interestMillis: number
    /** Taps sent to one observer per second at most; the rest are counted as dropped. */
    readonly maxPerSecond: number
    /** How long the inspector waits for every node's answer. */
    readonly inspectTimeoutMillis: number
    /** Handled commands each live actor remembers for its detail page. */
    readonly recentCommands: number
  }
  readonly stories: {
    /** Live (or processing) stories one author may have. */
    readonly maxActive: number
    /** Views are gathered this long (or until `viewBatchSize`) and go to JetStream as one event. */
    readonly viewBatchMillis: number
    readonly viewBatchSize: number
    /** Expired stories stay in their author's archive this many days (0: removed once expired). */
    readonly archiveDays: number
    /** Who viewed an expired story is kept this many hours after it expired (its count stays). */
    readonly viewersRetentionHours: number
    /** How often the sweeper (one node at a time, by lease) looks for work. */
    readonly sweepIntervalMillis: number
  }
}

export class AppConfig extends Context.Tag("AppConfig")<AppConfig, AppConfigShape>() {}

const between = (name: string, min: number, max: number) => (config: Config.Config<number>) =>
  Config.validate(config, {
    message: `${name} must be between ${min} and ${max}`,
    validation: (n) => n >= min && n <= max
  })

const positiveInt = (name: string, fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  Config.integer(name).pipe(Config.withDefault(fallback), between(name, 1, max))

const list = <A extends string>(name: string, allowed: ReadonlyArray<A>, fallback: string) =>
  Config.string(name).pipe(
    Config.withDefault(fallback),
    Config.mapOrFail((raw) => {
      const items = raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0)
      const bad = items.filter((s) => !allowed.includes(s as A))
      return bad.length > 0 || items.length === 0
        ? Either.left(
          ConfigError.InvalidData([name], `${name} must be a comma-separated subset of ${allowed.join(", ")}; got "${raw}"`)
        )
        : Either.right(items as Array<A>)
    })
  )

const url = (name: string, protocols: ReadonlyArray<string>, fallback: string) =>
  Config.string(name).pipe(
    Config.withDefault(fallback),
    Config.validate({
      message: `${name} must be a URL with protocol ${protocols.join(" or ")}`,
      validation: (raw) => {
        try {
          return protocols.includes(new URL(raw).protocol)
        } catch {
          return false
        }
      }
    })
  )

/** An http(s) URL, or undefined when unset or empty (so `VAR: ${VAR:-}` in a compose file leaves it unset). */
const optionalHttpUrl = (name: string) =>
  Config.string(name).pipe(
    Config.withDefault(""),
    Config.validate({
      message: `${name} must be an http or https URL`,
      validation: (raw) => {
        if (raw === "") return true
        try {
          return ["http:", "https:"].includes(new URL(raw).protocol)
        } catch {
          return false
        }
      }
    }),
    Config.map((raw) => (raw === "" ? undefined : raw))
  )

/**
 * Where traces go, by the OpenTelemetry rule: a traces endpoint is used as given; the base
 * endpoint gets `/v1/traces` appended. None set: tracing is off.
 */
const tracesEndpoint = Config.all([
  optionalHttpUrl("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
  optionalHttpUrl("OTEL_TRACES_ENDPOINT"),
  optionalHttpUrl("OTEL_EXPORTER_OTLP_ENDPOINT")
]).pipe(
  Config.map(([traces, short, base]) => traces ?? short ?? (base === undefined ? undefined : `${base.replace(/\/+$/, "")}/v1/traces`))
)

const prefix = (name: string, fallback: string, pattern: RegExp) =>
  Config.string(name).pipe(
    Config.withDefault(fallback),
    Config.validate({ message: `${name} must match ${pattern}`, validation: (s) => pattern.test(s) })
  )

/**
 * MEDIA_URL_SECRET: required when NODE_ENV=production (nodes must share it, and a restart must not
 * void every URL handed out); elsewhere a random one per process, which suits one dev/test node.
 */
const mediaUrlSecret = Config.all([
  Config.option(Config.redacted("MEDIA_URL_SECRET")),
  Config.string("NODE_ENV").pipe(Config.withDefault(""))
]).pipe(
  Config.mapOrFail(([secret, env]) => {
    if (secret._tag === "Some") {
      return Redacted.value(secret.value).length >= 32
        ? Either.right(secret.value)
        : Either.left(ConfigError.InvalidData(["MEDIA_URL_SECRET"], "MEDIA_URL_SECRET must be at least 32 characters"))
    }
    return env === "production"
      ? Either.left(ConfigError.MissingData(["MEDIA_URL_SECRET"], "MEDIA_URL_SECRET must be set in production (32+ random characters, the same on every node)"))
      : Either.right(Redacted.make(randomBytes(32).toString("base64url")))
  })
)

/** This build's version, as operators see it (`/api/v1/system/info`, the inspector). */
export const APP_VERSION = "0.1.0"

export const appConfig: Config.Config<AppConfigShape> = Config.all({
  nodeId: prefix("NODE_ID", `${os.hostname()}-${process.pid}`, /^[A-Za-z0-9_.-]{1,64}$/),
  host: Config.string("HOST").pipe(Config.withDefault("0.0.0.0")),
  port: Config.port("PORT").pipe(Config.withDefault(8080)),
  roles: list<Role>("ROLES", ["api", "actors", "media"], "api,actors,media").pipe(Config.map((r) => new Set(r))),
  transport: Config.literal("uws", "node", "auto")("HTTP_TRANSPORT").pipe(Config.withDefault("auto" as const)),
  databaseUrl: url("DATABASE_URL", ["postgres:", "postgresql:"], "postgres://postgres@127.0.0.1:5432/aperture").pipe(
    Config.map(Redacted.make)
  ),
  redisUrl: url("REDIS_URL", ["redis:", "rediss:"], "redis://127.0.0.1:6379").pipe(Config.map(Redacted.make)),
  redisKeyPrefix: prefix("REDIS_KEY_PREFIX", "ap:", /^[A-Za-z0-9_:.-]{0,64}$/),
  natsUrl: url("NATS_URL", ["nats:", "tls:"], "nats://127.0.0.1:4222"),
  natsPrefix: prefix("NATS_PREFIX", "", /^([A-Za-z0-9_-]{1,32})?$/),
  dataDir: Config.string("DATA_DIR").pipe(Config.withDefault("./data")),
  mediaStore: Config.literal("fs", "s3")("MEDIA_STORE").pipe(Config.withDefault("fs" as const)),
  s3: Config.all({
    endpoint: url("S3_ENDPOINT", ["http:", "https:"], "http://127.0.0.1:9000"),
    accessKey: Config.redacted("S3_ACCESS_KEY").pipe(Config.withDefault(Redacted.make("minioadmin"))),
    secretKey: Config.redacted("S3_SECRET_KEY").pipe(Config.withDefault(Redacted.make("minioadmin"))),
    bucket: prefix("S3_BUCKET", "aperture", /^[a-z0-9][a-z0-9.-]{2,62}$/)
  }),
  limits: Config.all({
    jsonBodyBytes: positiveInt("MAX_JSON_BODY_BYTES", 64 * 1024, 16 * 1024 * 1024),
    uploadBytes: positiveInt("MAX_UPLOAD_BYTES", 10 * 1024 * 1024, 1024 * 1024 * 1024),
    wsMaxFrameBytes: positiveInt("WS_MAX_FRAME_BYTES", 16 * 1024, 16 * 1024 * 1024),
    wsMaxBufferedBytes: positiveInt("WS_MAX_BUFFERED_BYTES", 1024 * 1024, 256 * 1024 * 1024),
    wsIdleTimeoutSeconds: positiveInt("WS_IDLE_TIMEOUT_SECONDS", 60, 960).pipe(between("WS_IDLE_TIMEOUT_SECONDS", 8, 960)),
    urlBytes: positiveInt("MAX_URL_BYTES", 8 * 1024, 1024 * 1024),
    headerBytes: positiveInt("MAX_HEADER_BYTES", 16 * 1024, 1024 * 1024),
    jsonDepth: positiveInt("MAX_JSON_DEPTH", 32, 1000),
    headersTimeoutSeconds: positiveInt("HTTP_HEADERS_TIMEOUT_SECONDS", 10, 300)
  }),
  celebrityThreshold: positiveInt("CELEBRITY_THRESHOLD", 10_000),
  eventsMaxDeliver: positiveInt("EVENTS_MAX_DELIVER", 10, 100),
  actorPartitions: positiveInt("ACTOR_PARTITIONS", 64, 1024),
  actors: Config.all({
    idleMillis: positiveInt("ACTOR_IDLE_MS", 120_000, 24 * 60 * 60 * 1000),
    mailboxCapacity: positiveInt("ACTOR_MAILBOX_CAPACITY", 64, 100_000),
    maxDeliver: positiveInt("ACTOR_MAX_DELIVER", 5, 100),
    leaseTickMillis: positiveInt("ACTOR_LEASE_TICK_MS", 2000, 5000),
    askTimeoutMillis: positiveInt("ACTOR_ASK_TIMEOUT_MS", 2000, 60_000)
  }),
  actorRuntime: Config.all({
    leaseTtlMillis: positiveInt("ACTOR_LEASE_TTL_MS", 15_000, 600_000),
    ackWaitMillis: positiveInt("ACTOR_ACK_WAIT_MS", 30_000, 600_000),
    maxAckPending: positiveInt("ACTOR_MAX_ACK_PENDING", 1024, 100_000),
    mailboxMaxMessages: positiveInt("ACTOR_MAILBOX_MAX_MESSAGES", 1_000_000, 100_000_000),
    handlerTimeoutMillis: positiveInt("ACTOR_HANDLER_TIMEOUT_MS", 30_000, 600_000),
    parkAfter: positiveInt("ACTOR_PARK_AFTER", 64, 100_000)
  }),
  feed: Config.all({
    timelineCap: positiveInt("TIMELINE_CAP", 800, 10_000),
    authorOutboxCap: positiveInt("AUTHOR_OUTBOX_CAP", 200, 10_000)
  }),
  outbox: Config.all({
    pollMillis: positiveInt("OUTBOX_POLL_MS", 250, 60_000),
    batchSize: positiveInt("OUTBOX_BATCH", 200, 10_000)
  }),
  timeouts: Config.all({
    redisCommandMillis: positiveInt("REDIS_COMMAND_TIMEOUT_MS", 1500, 60_000),
    pgStatementMillis: positiveInt("PG_STATEMENT_TIMEOUT_MS", 5000, 600_000),
    pgConnectMillis: positiveInt("PG_CONNECT_TIMEOUT_MS", 5000, 60_000),
    natsRequestMillis: positiveInt("NATS_REQUEST_TIMEOUT_MS", 3000, 60_000)
  }),
  readyTimeoutMillis: positiveInt("READY_TIMEOUT_MS", 1000, 30_000),
  shutdownGraceMillis: positiveInt("SHUTDOWN_GRACE_MS", 10_000, 600_000),
  traceSampleRate: Config.number("TRACE_SAMPLE_RATE").pipe(Config.withDefault(0), between("TRACE_SAMPLE_RATE", 0, 1)),
  tracing: Config.all({
    endpoint: tracesEndpoint,
    sampleRatio: Config.number("OTEL_TRACES_SAMPLE_RATIO").pipe(Config.withDefault(1), between("OTEL_TRACES_SAMPLE_RATIO", 0, 1)),
    exportDelayMillis: positiveInt("OTEL_BSP_SCHEDULE_DELAY", 5000, 60_000),
    serviceName: prefix("OTEL_SERVICE_NAME", "aperture", /^[A-Za-z0-9_.-]{1,64}$/)
  }),
  logLevel: Config.literal("debug", "info", "warning", "error")("LOG_LEVEL").pipe(Config.withDefault("info" as const)),
  corsOrigins: Config.string("CORS_ORIGINS").pipe(
    Config.withDefault(""),
    Config.map((s) => s.split(",").map((o) => o.trim().replace(/\/$/, "")).filter((o) => o.length > 0)),
    Config.validate({
      message: "CORS_ORIGINS must be a comma-separated list of origins such as https://example.com",
      validation: (origins) => origins.every((o) => /^https?:\/\/[^/\s]+$/.test(o))
    })
  ),
  trustProxy: Config.boolean("TRUST_PROXY").pipe(Config.withDefault(false)),
  sessions: Config.all({
    ttlSeconds: positiveInt("SESSION_TTL_SECONDS", 30 * 24 * 60 * 60, 365 * 24 * 60 * 60),
    cookieSecure: Config.literal("auto", "always", "never")("COOKIE_SECURE").pipe(Config.withDefault("auto" as const)),
    cacheMillis: Config.integer("SESSION_CACHE_MS").pipe(Config.withDefault(30_000), between("SESSION_CACHE_MS", 0, 300_000))
  }),
  sockets: Config.all({
    sessionRecheckSeconds: Config.integer("WS_SESSION_RECHECK_SECONDS").pipe(Config.withDefault(60), between("WS_SESSION_RECHECK_SECONDS", 1, 3600)),
    maxPerUser: Config.integer("WS_MAX_SOCKETS_PER_USER").pipe(Config.withDefault(0), between("WS_MAX_SOCKETS_PER_USER", 0, 100_000)),
    maxPerAddress: Config.integer("WS_MAX_SOCKETS_PER_ADDRESS").pipe(Config.withDefault(0), between("WS_MAX_SOCKETS_PER_ADDRESS", 0, 1_000_000))
  }),
  scryptLogN: Config.integer("PASSWORD_SCRYPT_LOG_N").pipe(Config.withDefault(15), between("PASSWORD_SCRYPT_LOG_N", 10, 20)),
  media: Config.all({
    concurrency: positiveInt("MEDIA_CONCURRENCY", 2, 64),
    maxPixels: positiveInt("MEDIA_MAX_PIXELS", 40_000_000, 500_000_000),
    uploadTtlSeconds: positiveInt("UPLOAD_TTL_SECONDS", 900, 900),
    uploadSigningKey: Config.redacted("UPLOAD_SIGNING_KEY").pipe(
      Config.withDefault(Redacted.make(randomBytes(32).toString("base64url")))
    ),
    s3Delivery: Config.literal("proxy", "redirect")("MEDIA_S3_DELIVERY").pipe(Config.withDefault("proxy" as const)),
    ackWaitSeconds: positiveInt("MEDIA_ACK_WAIT_SECONDS", 60, 3600),
    retryDelaysMillis: Config.string("MEDIA_RETRY_DELAYS_MS").pipe(
      Config.withDefault("1000,5000,30000,120000"),
      Config.mapOrFail((raw) => {
        const delays = raw.split(",").map((d) => Number(d.trim()))
        return delays.length >= 1 && delays.length <= 10 && delays.every((d) => Number.isInteger(d) && d >= 0 && d <= 3_600_000)
          ? Either.right(delays)
          : Either.left(ConfigError.InvalidData(["MEDIA_RETRY_DELAYS_MS"], "MEDIA_RETRY_DELAYS_MS must be 1–10 comma-separated millisecond delays"))
      })
    )
  }),
  mediaUrls: Config.all({
    secret: mediaUrlSecret,
    ttlSeconds: Config.integer("MEDIA_URL_TTL_SECONDS").pipe(Config.withDefault(600), between("MEDIA_URL_TTL_SECONDS", 2, 86_400)),
    audienceCacheMillis: Config.integer("MEDIA_AUDIENCE_CACHE_MS").pipe(Config.withDefault(2000), between("MEDIA_AUDIENCE_CACHE_MS", 0, 60_000))
  }),
  publicUrl: Config.option(
    Config.string("PUBLIC_URL").pipe(
      Config.validate({ message: "PUBLIC_URL must be an http(s) URL", validation: (u) => /^https?:\/\/[^\s]+$/.test(u) })
    )
  ).pipe(
    Config.map((o) => (o._tag === "Some" ? o.value.replace(/\/$/, "") : undefined))
  ),
  adminUsernames: Config.string("ADMIN_USERNAMES").pipe(
    Config.withDefault(""),
    Config.map((s) => s.split(",").map((u) => u.trim().toLowerCase()).filter((u) => u.length > 0))
  ),
  ops: Config.all({
    production: Config.string("NODE_ENV").pipe(Config.withDefault("development"), Config.map((env) => env === "production")),
    // empty is unset, so `OPS_TOKEN: ${OPS_TOKEN:-}` in a compose file leaves the door closed
    token: Config.redacted("OPS_TOKEN").pipe(
      Config.withDefault(Redacted.make("")),
      Config.validate({
        message: "OPS_TOKEN must be at least 16 characters (or empty for none)",
        validation: (t) => Redacted.value(t).length === 0 || Redacted.value(t).length >= 16
      }),
      Config.map((t) => (Redacted.value(t).length === 0 ? undefined : t))
    ),
    metricsPort: Config.option(Config.port("METRICS_PORT")).pipe(Config.map((o) => (o._tag === "Some" ? o.value : undefined))),
    benchFixtures: Config.boolean("BENCH_FIXTURES").pipe(Config.withDefault(false))
  }),
  rateLimits: Config.all({
    signupsPerIpPerHour: positiveInt("RATE_SIGNUPS_PER_IP_PER_HOUR", 20),
    loginFailuresPerAccountPer15Min: positiveInt("RATE_LOGIN_FAILURES_PER_ACCOUNT", 5),
    loginFailuresPerIpPer15Min: positiveInt("RATE_LOGIN_FAILURES_PER_IP", 50),
    followsPerUserPerHour: positiveInt("RATE_FOLLOWS_PER_HOUR", 200),
    writesPerUserPerMinute: positiveInt("RATE_WRITES_PER_MINUTE", 120),
    dmSendsPerUserPerMinute: positiveInt("RATE_DM_SENDS_PER_MINUTE", 300),
    dmThreadsPerUserPerHour: positiveInt("RATE_DM_THREADS_PER_HOUR", 50)
  }),
  dm: Config.all({
    replyTimeoutMillis: positiveInt("DM_REPLY_TIMEOUT_MS", 10_000, 120_000)
  }),
  stories: Config.all({
    maxActive: positiveInt("STORIES_MAX_ACTIVE", 100, 10_000),
    viewBatchMillis: positiveInt("STORY_VIEW_BATCH_MS", 20, 1000),
    viewBatchSize: positiveInt("STORY_VIEW_BATCH_SIZE", 500, 5000),
    archiveDays: Config.integer("STORY_ARCHIVE_DAYS").pipe(Config.withDefault(365), between("STORY_ARCHIVE_DAYS", 0, 36_500)),
    viewersRetentionHours: Config.integer("STORY_VIEWERS_RETENTION_HOURS").pipe(Config.withDefault(48), between("STORY_VIEWERS_RETENTION_HOURS", 0, 24 * 365)),
    sweepIntervalMillis: positiveInt("STORY_SWEEP_INTERVAL_MS", 60_000, 86_400_000)
  }),
  observe: Config.all({
    interestMillis: positiveInt("OBSERVE_INTEREST_MS", 6000, 600_000),
    maxPerSecond: positiveInt("OBSERVE_MAX_PER_SECOND", 200, 100_000),
    inspectTimeoutMillis: positiveInt("INSPECT_TIMEOUT_MS", 1000, 30_000),
    recentCommands: positiveInt("ACTOR_RECENT_COMMANDS", 20, 1000)
  }),
  idempotency: Config.all({
    ttlHours: Config.number("IDEMPOTENCY_TTL_HOURS").pipe(Config.withDefault(24), between("IDEMPOTENCY_TTL_HOURS", 0.001, 24 * 30)),
    leaseSeconds: positiveInt("IDEMPOTENCY_LEASE_SECONDS", 60, 3600)
  })
})

/** Reads the configuration from the environment (through Effect's ConfigProvider). */
export const layer = Layer.effect(AppConfig, appConfig)

/** The configuration with some settings replaced; used by tests and benchmarks. */
export const layerWith = (overrides: Partial<AppConfigShape>) =>
  Layer.effect(AppConfig, Effect.map(appConfig, (c) => ({ ...c, ...overrides })))

/** Settings that are safe to print: secrets stay redacted. */
export const describe = (c: AppConfigShape): Record<string, unknown> => ({
  ...c,
  roles: [...c.roles],
  databaseUrl: String(c.databaseUrl),
  redisUrl: String(c.redisUrl),
  s3: { ...c.s3, accessKey: String(c.s3.accessKey), secretKey: String(c.s3.secretKey) },
  media: { ...c.media, uploadSigningKey: String(c.media.uploadSigningKey) },
  ops: { ...c.ops, token: c.ops.token === undefined ? undefined : String(c.ops.token) },
  mediaUrls: { ...c.mediaUrls, secret: String(c.mediaUrls.secret) }
})
