import { assert, describe, it } from "@effect/vitest"
import { SqlError } from "@effect/sql/SqlError"
import { Cause, Data, Effect, Logger } from "effect"
import { isDependencyFailure } from "./DependencyFailure.ts"
import { fromCause } from "./ErrorResponse.ts"

/** A pg DatabaseError as node-postgres builds it from the server's ErrorResponse. */
const pgError = (code: string, message = "boom") => Object.assign(new Error(message), { severity: "ERROR", code })
const errno = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, errno: -111, syscall: "connect" })
/** Shaped like the errors of src/streams and src/media (classified by tag; http imports neither). */
class NatsError extends Data.TaggedError("NatsError")<{ readonly op: string; readonly cause: unknown }> {}
class BlobError extends Data.TaggedError("BlobError")<{ readonly op: string; readonly key: string; readonly cause: unknown }> {}
const executing = (cause: unknown) => new SqlError({ cause, message: "Failed to execute statement" })

describe("dependency failures", () => {
  it("an unreachable or exhausted PostgreSQL is a dependency failure", () => {
    for (const code of ["08006", "08001", "08P01", "57P01", "57P02", "57P03", "53300", "53100", "57014", "55P03", "25P03", "40P01", "40001"]) {
      assert.isTrue(isDependencyFailure(executing(pgError(code))), code)
    }
    for (const code of ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE"]) {
      assert.isTrue(isDependencyFailure(new SqlError({ cause: errno(code), message: "Failed to acquire connection" })), code)
    }
    assert.isTrue(isDependencyFailure(executing(new Error("Connection terminated unexpectedly"))))
    assert.isTrue(isDependencyFailure(executing(new Error("Query read timeout"))), "the client's query_timeout")
    assert.isTrue(isDependencyFailure(new SqlError({ cause: new Error("Connection terminated due to connection timeout"), message: "Failed to acquire connection" })))
    assert.isTrue(isDependencyFailure(new SqlError({ cause: new Error("timeout exceeded when trying to connect"), message: "Failed to acquire connection" })))
    assert.isTrue(isDependencyFailure(new SqlError({ cause: new Error("Connection timed out"), message: "PgClient: Failed to connect" })))
  })

  it("a statement PostgreSQL refuses is a bug, not an outage", () => {
    for (const code of ["22021", "22P05", "22001", "23505", "23503", "42601", "42P01", "XX000", "P0001"]) {
      assert.isFalse(isDependencyFailure(executing(pgError(code))), code)
    }
    assert.isFalse(isDependencyFailure(executing(new TypeError("Cannot read properties of undefined"))))
    assert.isFalse(isDependencyFailure(new SqlError({ message: "Failed to execute statement" })))
  })

  it("NATS errors stay dependency failures; other tags and values are not", () => {
    assert.isTrue(isDependencyFailure(new NatsError({ op: "publish", cause: new Error("TIMEOUT") })))
    assert.isFalse(isDependencyFailure(new Error("ECONNREFUSED")))
    assert.isFalse(isDependencyFailure({ _tag: "ResultLengthMismatch" }))
    assert.isFalse(isDependencyFailure(null))
    assert.isFalse(isDependencyFailure("SqlError"))
  })

  it("a full disk or an unreachable object store is a dependency failure; a permission is a bug", () => {
    const fsError = (code: string) => Object.assign(new Error(code), { code })
    assert.isTrue(isDependencyFailure(new BlobError({ op: "put", key: "k", cause: fsError("ENOSPC") })))
    assert.isTrue(isDependencyFailure(new BlobError({ op: "put", key: "k", cause: fsError("ECONNREFUSED") })))
    assert.isTrue(isDependencyFailure(new BlobError({ op: "put", key: "k", cause: fsError("SlowDown") })))
    assert.isFalse(isDependencyFailure(new BlobError({ op: "put", key: "k", cause: fsError("EACCES") })))
    assert.isFalse(isDependencyFailure(new BlobError({ op: "put", key: "k", cause: fsError("EROFS") })))
  })

  it.effect("the error mapping answers 503 for an unreachable database and 500 for a refused statement", () =>
    Effect.gen(function*() {
      const down = yield* fromCause(Cause.die(executing(pgError("08006"))))
      assert.strictEqual(down.status, 503)
      assert.strictEqual(JSON.parse(down.body).error.code, "ServiceUnavailable")
      const refused = yield* fromCause(Cause.die(executing(pgError("22021", "invalid byte sequence for encoding \"UTF8\": 0x00"))))
      assert.strictEqual(refused.status, 500)
      assert.strictEqual(JSON.parse(refused.body).error.code, "InternalError")
      assert.notInclude(refused.body, "0x00", "the 500 reveals nothing of the cause")
      // an SqlError that reached the mapping as a failure rather than a defect is classified the same way
      assert.strictEqual((yield* fromCause(Cause.fail(executing(pgError("57P01"))))).status, 503)
      assert.strictEqual((yield* fromCause(Cause.fail(executing(pgError("23505"))))).status, 500)
    }).pipe(Effect.provide(Logger.remove(Logger.defaultLogger))))
})
