/**
 * The ceiling: uWebSockets.js serving a JSON string computed once at start, so each request costs
 * only routing and the socket write. Usage: `node --import tsx bench/http/bare-uws.ts <port>`.
 */
import uWS from "uWebSockets.js"
import { SAMPLE_PATH, sampleList } from "./sample.ts"

const port = Number(process.argv[2])
if (!Number.isInteger(port) || port <= 0) throw new Error(`usage: bare-uws.ts <port>; got ${process.argv[2]}`)

const body = JSON.stringify(sampleList(20))

const app = uWS.App()
  .get(SAMPLE_PATH, (res) => {
    res.writeHeader("content-type", "application/json").end(body)
  })
  // readiness probe for run.ts, same path as Aperture's
  .get("/healthz", (res) => {
    res.end("ok")
  })

app.listen("127.0.0.1", port, (socket) => {
  if (!socket) {
    console.error(`bare-uws: cannot listen on 127.0.0.1:${port}`)
    process.exit(1)
  }
  // uWS keeps the process alive on its own; close the listen socket on SIGTERM so it exits cleanly
  process.once("SIGTERM", () => uWS.us_listen_socket_close(socket))
})
