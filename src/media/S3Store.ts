/**
 * The S3 blob store on the `minio` client (MinIO in production, any S3-compatible server in tests).
 * The bucket is created when missing. An upload is checked (type, size) as it arrives and only a
 * complete, accepted body is written, so a refused upload leaves nothing in the bucket.
 */
import { Effect, Layer, Option, Redacted, Stream } from "effect"
import * as Minio from "minio"
import { AppConfig } from "../config/AppConfig.ts"
import { BlobError, BlobStore, contentTypeOf, isValidKey, limitBytes } from "./BlobStore.ts"

export interface S3Options {
  readonly endpoint: string
  readonly accessKey: Redacted.Redacted
  readonly secretKey: Redacted.Redacted
  readonly bucket: string
}

const isMissing = (e: unknown) => {
  const code = (e as { code?: string }).code
  return code === "NotFound" || code === "NoSuchKey" || code === "NoSuchBucket"
}

export const make = (options: S3Options) =>
  Effect.gen(function*() {
    const url = new URL(options.endpoint)
    const client = new Minio.Client({
      endPoint: url.hostname,
      port: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
      useSSL: url.protocol === "https:",
      accessKey: Redacted.value(options.accessKey),
      secretKey: Redacted.value(options.secretKey),
      pathStyle: true,
      region: "us-east-1"
    })
    const bucket = options.bucket
    const attempt = <A>(op: string, key: string, f: () => Promise<A>) =>
      Effect.tryPromise({ try: f, catch: (cause) => new BlobError({ op, key, cause }) })
    const valid = (op: string, key: string) =>
      isValidKey(key) ? Effect.void : Effect.fail(new BlobError({ op, key, cause: new Error("invalid key") }))

    yield* attempt("bucket", bucket, async () => {
      if (!(await client.bucketExists(bucket))) {
        await client.makeBucket(bucket, "us-east-1").catch((e: { code?: string }) => {
          if (e.code !== "BucketAlreadyOwnedByYou" && e.code !== "BucketAlreadyExists") throw e
        })
      }
    })

    const stat = (key: string) =>
      Effect.zipRight(
        valid("stat", key),
        attempt("stat", key, async () => {
          try {
            const s = await client.statObject(bucket, key)
            return Option.some({
              size: s.size,
              contentType: (s.metaData?.["content-type"] as string | undefined) ?? contentTypeOf(key),
              etag: `"${s.etag}"`,
              lastModified: s.lastModified
            })
          } catch (e) {
            if (isMissing(e)) return Option.none()
            throw e
          }
        })
      )

    const readAll = (key: string, offset?: number, length?: number) =>
      attempt("read", key, async () => {
        try {
          const stream = offset === undefined
            ? await client.getObject(bucket, key)
            : await client.getPartialObject(bucket, key, offset, length)
          const chunks: Array<Buffer> = []
          for await (const chunk of stream) chunks.push(chunk as Buffer)
          return Option.some(new Uint8Array(Buffer.concat(chunks)))
        } catch (e) {
          if (isMissing(e)) return Option.none()
          throw e
        }
      })

    return BlobStore.of({
      kind: "s3",
      put: (key, body, putOptions) =>
        Effect.gen(function*() {
          yield* valid("put", key)
          // collected up to the limit (10 MB by default), then sent with its length: the minio client
          // buffers a part of this size anyway when the length is unknown, and a known length lets
          // S3 reject a short body instead of storing it
          const chunks: Array<Uint8Array> = []
          let size = 0
          yield* Stream.runForEach(limitBytes(body, putOptions.maxBytes, (n) => {
            size = n
          }), (chunk) => Effect.sync(() => void chunks.push(chunk)))
          yield* attempt("put", key, () =>
            client.putObject(bucket, key, Buffer.concat(chunks, size), size, { "Content-Type": putOptions.contentType }))
          return { size }
        }),
      putBytes: (key, bytes, contentType) =>
        Effect.zipRight(
          valid("put", key),
          attempt("put", key, () => client.putObject(bucket, key, Buffer.from(bytes), bytes.byteLength, { "Content-Type": contentType }))
        ).pipe(Effect.asVoid),
      stat,
      read: (key, range) =>
        Effect.gen(function*() {
          const info = yield* stat(key)
          if (Option.isNone(info)) return Option.none()
          const body = Stream.unwrap(
            attempt("read", key, () =>
              range
                ? client.getPartialObject(bucket, key, range.start, range.end - range.start + 1)
                : client.getObject(bucket, key)).pipe(
              Effect.map((readable) =>
                Stream.fromAsyncIterable(readable as AsyncIterable<Buffer>, (cause) => new BlobError({ op: "read", key, cause })).pipe(
                  Stream.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength))
                )
              )
            )
          )
          return Option.some({ info: info.value, body })
        }),
      head: (key, n) => Effect.zipRight(valid("head", key), readAll(key, 0, n)),
      readAll: (key) => Effect.zipRight(valid("read", key), readAll(key)),
      remove: (keys) =>
        keys.length === 0 ? Effect.void : attempt("remove", keys.join(","), () => client.removeObjects(bucket, [...keys])).pipe(Effect.asVoid),
      presignPut: (key, expiresSeconds) =>
        Effect.zipRight(
          valid("presign", key),
          attempt("presign", key, () => client.presignedPutObject(bucket, key, expiresSeconds)).pipe(
            Effect.map((url) => Option.some({ url, headers: {} }))
          )
        ),
      presignGet: (key, expiresSeconds) =>
        attempt("presign", key, () => client.presignedGetObject(bucket, key, expiresSeconds)).pipe(Effect.map(Option.some))
    })
  })

export const layer = Layer.effect(BlobStore, Effect.flatMap(AppConfig, (c) => make(c.s3)))
