/**
 * The filesystem blob store (the embedded default): one file per key under DATA_DIR/media.
 * Writes go to a temporary file that is renamed into place only when complete, so a reader never
 * sees half an object and a failed upload leaves nothing behind.
 */
import { Chunk, Effect, Layer, Option, Stream } from "effect"
import { createReadStream } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Readable } from "node:stream"
import { AppConfig } from "../config/AppConfig.ts"
import { BlobError, type BlobInfo, BlobStore, contentTypeOf, isValidKey, limitBytes } from "./BlobStore.ts"

/** Writes every byte of `chunks` at the handle's position: one write for a batch, resumed after a short one. */
const writeAll = async (handle: fs.FileHandle, chunks: ReadonlyArray<Uint8Array>) => {
  const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
  let offset = 0
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset)
    if (bytesWritten === 0) throw new Error("the file accepted no bytes")
    offset += bytesWritten
  }
}

export const make = (root: string) =>
  Effect.gen(function*() {
    yield* Effect.tryPromise({
      try: () => fs.mkdir(root, { recursive: true }),
      catch: (cause) => new BlobError({ op: "mkdir", key: root, cause })
    })
    const fileOf = (op: string, key: string) =>
      isValidKey(key)
        ? Effect.succeed(path.join(root, key))
        : Effect.fail(new BlobError({ op, key, cause: new Error("invalid key") }))
    const attempt = <A>(op: string, key: string, f: () => Promise<A>) =>
      Effect.tryPromise({ try: f, catch: (cause) => new BlobError({ op, key, cause }) })

    const stat = (key: string) =>
      Effect.flatMap(fileOf("stat", key), (file) =>
        attempt("stat", key, async (): Promise<Option.Option<BlobInfo>> => {
          try {
            const s = await fs.stat(file)
            return Option.some({
              size: s.size,
              contentType: contentTypeOf(key),
              etag: `"${s.size.toString(16)}-${Math.floor(s.mtimeMs).toString(16)}"`,
              lastModified: s.mtime
            })
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "ENOENT") return Option.none()
            throw e
          }
        }))

    return BlobStore.of({
      kind: "fs",
      put: (key, body, options) =>
        Effect.gen(function*() {
          const file = yield* fileOf("put", key)
          const temp = `${file}.part-${crypto.randomUUID()}`
          let size = 0
          // a file handle, not a write stream: every write is a promise that settles with its error
          // (ENOSPC, EIO, a handle closed under it), so no failure can escape as an 'error' event
          // nobody listens to; each write is awaited, so the disk sets the pace
          const write = Effect.acquireUseRelease(
            attempt("put", key, () => fs.open(temp, "wx")),
            (handle) =>
              limitBytes(body, options.maxBytes, (n) => {
                size = n
              }).pipe(
                Stream.runForEachChunk((chunk) => attempt("put", key, () => writeAll(handle, Chunk.toReadonlyArray(chunk)))),
                Effect.zipRight(attempt("put", key, () => handle.close())),
                Effect.zipRight(attempt("put", key, () => fs.rename(temp, file)))
              ),
            // closing waits for a write still in flight (an interrupted request); closing twice is harmless
            (handle) => Effect.promise(() => handle.close().catch(() => undefined))
          )
          yield* write.pipe(Effect.onError(() => Effect.promise(() => fs.rm(temp, { force: true }).catch(() => undefined))))
          return { size }
        }),
      putBytes: (key, bytes) =>
        Effect.flatMap(fileOf("put", key), (file) =>
          attempt("put", key, async () => {
            const temp = `${file}.part-${crypto.randomUUID()}`
            await fs.writeFile(temp, bytes)
            await fs.rename(temp, file)
          })),
      stat,
      read: (key, range) =>
        Effect.gen(function*() {
          const file = yield* fileOf("read", key)
          const info = yield* stat(key)
          if (Option.isNone(info)) return Option.none()
          // toWeb listens for the file stream's 'error' (a file removed since the stat): the body fails
          const body = Stream.fromReadableStream({
            evaluate: () =>
              Readable.toWeb(createReadStream(file, range ? { start: range.start, end: range.end } : {})) as ReadableStream<
                Uint8Array
              >,
            onError: (cause) => new BlobError({ op: "read", key, cause })
          })
          return Option.some({ info: info.value, body })
        }),
      head: (key, n) =>
        Effect.flatMap(fileOf("head", key), (file) =>
          attempt("head", key, async () => {
            try {
              const handle = await fs.open(file, "r")
              try {
                const buffer = Buffer.alloc(n)
                const { bytesRead } = await handle.read(buffer, 0, n, 0)
                return Option.some(new Uint8Array(buffer.subarray(0, bytesRead)))
              } finally {
                await handle.close()
              }
            } catch (e) {
              if ((e as NodeJS.ErrnoException).code === "ENOENT") return Option.none()
              throw e
            }
          })),
      readAll: (key) =>
        Effect.flatMap(fileOf("read", key), (file) =>
          attempt("read", key, async () => {
            try {
              return Option.some(new Uint8Array(await fs.readFile(file)))
            } catch (e) {
              if ((e as NodeJS.ErrnoException).code === "ENOENT") return Option.none()
              throw e
            }
          })),
      remove: (keys) =>
        Effect.forEach(keys, (key) => Effect.flatMap(fileOf("remove", key), (file) => attempt("remove", key, () => fs.rm(file, { force: true }))), {
          concurrency: 8,
          discard: true
        }),
      presignPut: () => Effect.succeed(Option.none()),
      presignGet: () => Effect.succeed(Option.none())
    })
  })

export const layer = Layer.effect(BlobStore, Effect.flatMap(AppConfig, (c) => make(path.resolve(c.dataDir, "media"))))
