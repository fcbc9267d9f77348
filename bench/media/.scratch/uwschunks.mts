import uWS from "uWebSockets.js"
import * as http from "node:http"
const sizes: number[] = []
const app = uWS.App().post("/*", (res) => {
  res.onAborted(() => {})
  res.onData((chunk, last) => { sizes.push(chunk.byteLength); if (last) res.cork(() => res.end("ok")) })
})
app.listen("127.0.0.1", 39123, async () => {
  const body = Buffer.alloc(5_000_000, 1)
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => { const req = http.request("http://127.0.0.1:39123/x", { method: "POST", headers: { "content-length": String(body.length) } }, (res) => { res.resume(); res.on("end", r) }); req.end(body) })
  const s = [...sizes].sort((a, b) => a - b)
  console.log("chunks", s.length, "per 5MB:", s.length / 5, "median", s[s.length >> 1], "max", s[s.length - 1], "min", s[0])
  process.exit(0)
})
