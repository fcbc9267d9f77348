/**
 * Preloaded into the benchmarked server (`NODE_OPTIONS=--import <this file>`) when
 * BENCH_WS_MEMORY_FILE is set: on SIGUSR2 it runs two full garbage collections and writes
 * `process.memoryUsage()` to that file, so run.ts reads the server's RSS once garbage is gone
 * rather than whenever V8 last collected. Plain JavaScript: it loads before tsx does.
 */
import { writeFileSync } from "node:fs"
import v8 from "node:v8"
import vm from "node:vm"

const out = process.env.BENCH_WS_MEMORY_FILE
if (out) {
  v8.setFlagsFromString("--expose-gc")
  const gc = vm.runInNewContext("gc")
  process.on("SIGUSR2", () => {
    gc()
    gc()
    writeFileSync(out, JSON.stringify({ at: Date.now(), ...process.memoryUsage() }))
  })
}
