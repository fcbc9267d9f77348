/**
 * Password hashing with scrypt from node:crypto. The async form runs on libuv's threadpool, so a
 * login costs the event loop nothing while tens of milliseconds of memory-hard work happen.
 *
 * Stored as `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64url), so the parameters travel with
 * each hash: they can be raised later, old hashes still verify, and `needsRehash` says when to
 * upgrade one at the next successful login.
 */
import * as crypto from "node:crypto"
import { Context, Effect, Layer } from "effect"

export interface ScryptParams {
  readonly logN: number
  readonly r: number
  readonly p: number
}

/**
 * One of the equivalent scrypt settings in the OWASP Password Storage Cheat Sheet: N=2^15, r=8,
 * p=3 — 32 MiB per hash (128·N·r), with p trading CPU time for that memory bound.
 */
export const owaspParams: ScryptParams = { logN: 15, r: 8, p: 3 }

const KEY_LENGTH = 32
const SALT_LENGTH = 16
// node refuses when 128·N·r reaches maxmem (default 32 MiB, exactly the OWASP setting's need)
const MAX_MEMORY = 64 * 1024 * 1024
const B64URL = /^[A-Za-z0-9_-]+$/

export interface PasswordHasherShape {
  readonly hash: (password: string) => Effect.Effect<string>
  /** False for a wrong password and for a stored value that is not one of ours; never fails. */
  readonly verify: (password: string, stored: string) => Effect.Effect<boolean>
  /**
   * Costs what `verify` costs and answers false: called when there is no such user, so that an
   * unknown name cannot be told from a wrong password by the response time.
   */
  readonly verifyDummy: (password: string) => Effect.Effect<boolean>
  /** True when `stored` was made with other parameters than the current ones (or is unreadable). */
  readonly needsRehash: (stored: string) => boolean
}

export class PasswordHasher extends Context.Tag("PasswordHasher")<PasswordHasher, PasswordHasherShape>() {}

const memoryOf = (params: ScryptParams) => 128 * 2 ** params.logN * params.r

const withinBounds = (params: ScryptParams) =>
  Number.isInteger(params.logN) && params.logN >= 1 && params.logN <= 24 &&
  Number.isInteger(params.r) && params.r >= 1 && params.r <= 64 &&
  Number.isInteger(params.p) && params.p >= 1 && params.p <= 16 &&
  memoryOf(params) < MAX_MEMORY

interface Parsed {
  readonly params: ScryptParams
  readonly salt: Buffer
  readonly hash: Buffer
}

const parse = (stored: string): Parsed | undefined => {
  const parts = stored.split("$")
  if (parts.length !== 6 || parts[0] !== "scrypt") return undefined
  const [, logN, r, p, salt, hash] = parts as [string, string, string, string, string, string]
  const params = { logN: Number(logN), r: Number(r), p: Number(p) }
  // bounds keep a tampered row from making verification allocate or spin without limit
  if (![logN, r, p].every((n) => /^[0-9]{1,3}$/.test(n)) || !withinBounds(params)) return undefined
  if (!B64URL.test(salt) || !B64URL.test(hash)) return undefined
  const parsed = { params, salt: Buffer.from(salt, "base64url"), hash: Buffer.from(hash, "base64url") }
  return parsed.salt.length >= SALT_LENGTH && parsed.hash.length >= 16 && parsed.hash.length <= 64 ? parsed : undefined
}

const format = (params: ScryptParams, salt: Buffer, hash: Buffer) =>
  `scrypt$${params.logN}$${params.r}$${params.p}$${salt.toString("base64url")}$${hash.toString("base64url")}`

// NFKC: the same password typed on another device or keyboard layout must give the same bytes
const derive = (password: string, salt: Buffer, params: ScryptParams, keyLength: number) =>
  Effect.async<Buffer, Error>((resume) => {
    crypto.scrypt(
      password.normalize("NFKC"),
      salt,
      keyLength,
      { N: 2 ** params.logN, r: params.r, p: params.p, maxmem: MAX_MEMORY },
      (error, key) => resume(error ? Effect.fail(error) : Effect.succeed(key))
    )
  })

export const make = (params: ScryptParams = owaspParams) =>
  Effect.gen(function*() {
    if (!withinBounds(params)) {
      return yield* Effect.dieMessage(`scrypt parameters out of bounds: ${JSON.stringify(params)}`)
    }

    const hash = Effect.fn("PasswordHasher.hash")(function*(password: string) {
      const salt = crypto.randomBytes(SALT_LENGTH)
      const key = yield* derive(password, salt, params, KEY_LENGTH).pipe(Effect.orDie)
      return format(params, salt, key)
    })

    const check = (password: string, parsed: Parsed) =>
      derive(password, parsed.salt, parsed.params, parsed.hash.length).pipe(
        Effect.map((key) => crypto.timingSafeEqual(key, parsed.hash)),
        Effect.orElseSucceed(() => false)
      )

    const verify = Effect.fn("PasswordHasher.verify")(function*(password: string, stored: string) {
      const parsed = parse(stored)
      return parsed === undefined ? false : yield* check(password, parsed)
    })

    // a random target per process: nothing can match it, and it costs exactly a current-params verify
    const dummy: Parsed = { params, salt: crypto.randomBytes(SALT_LENGTH), hash: crypto.randomBytes(KEY_LENGTH) }
    const verifyDummy = Effect.fn("PasswordHasher.verifyDummy")(function*(password: string) {
      yield* check(password, dummy)
      return false
    })

    const needsRehash = (stored: string) => {
      const parsed = parse(stored)
      return parsed === undefined ||
        parsed.params.logN !== params.logN || parsed.params.r !== params.r || parsed.params.p !== params.p ||
        parsed.hash.length !== KEY_LENGTH || parsed.salt.length !== SALT_LENGTH
    }

    return PasswordHasher.of({ hash, verify, verifyDummy, needsRehash })
  })

/** OWASP parameters. */
export const layer = Layer.effect(PasswordHasher, make())

/** Other parameters, e.g. cheap ones (logN 10) for tests that hash a lot. */
export const layerWith = (params: ScryptParams) => Layer.effect(PasswordHasher, make(params))
