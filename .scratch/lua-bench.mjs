import { Redis } from "ioredis"
const r = new Redis("redis://127.0.0.1:6379")
const P = "luabench:"
const INSERT_B = `local cap = tonumber(ARGV[4])
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], ARGV[2], ARGV[3])
  if redis.call('ZCARD', KEYS[i]) > cap + 51 then redis.call('ZREMRANGEBYRANK', KEYS[i], 1, -(cap + 1)) end
end
return #KEYS - 1`
const INSERT = `local cap = tonumber(ARGV[4])
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], ARGV[2], ARGV[3])
  redis.call('ZREMRANGEBYRANK', KEYS[i], 1, -(cap + 1))
end
return #KEYS - 1`
const uuid = () => crypto.randomUUID()
const N = 5000
for (let u = 0; u < N; u += 100) {
  const p = r.pipeline()
  for (let j = u; j < u + 100; j++) { const args = [-1, "~"]; for (let k = 0; k < 800; k++) args.push(1e12 + k * 1000, uuid()); p.zadd(P + "tl:" + j, ...args) }
  await p.exec()
}
const sha = await r.script("LOAD", process.env.V === "b" ? INSERT_B : INSERT)
const keys = Array.from({ length: N }, (_, i) => P + "tl:" + i)
const t0 = performance.now()
const posts = 100
for (let x = 0; x < posts; x++) {
  const ps = []
  for (let b = 0; b < 64; b++) { const ks = keys.filter((_, i) => i % 64 === b); ps.push(r.evalsha(sha, 1 + ks.length, P + "fence", ...ks, 1, 2e12 + x, uuid(), 800)) }
  await Promise.all(ps)
}
const ms = performance.now() - t0
console.log(`${posts * N} inserts in ${ms.toFixed(0)} ms = ${(posts * N / ms * 1000).toFixed(0)}/s`)
let cursor = "0"; do { const [c, ks] = await r.scan(cursor, "MATCH", P + "*", "COUNT", 1000); cursor = c; if (ks.length) await r.del(...ks) } while (cursor !== "0")
r.disconnect()
