/**
 * Deno smoke check (`deno task smoke`): boots src/main.ts under Deno on the standard transport
 * against the services named by the environment, expects 200 from /healthz and /readyz, then
 * sends SIGTERM and expects a clean exit. Exits non-zero with the server's output otherwise.
 */
declare const Deno: any

const port = Number(Deno.env.get("SMOKE_PORT") ?? 18000 + Math.floor(Math.random() * 2000))
const child = new Deno.Command(Deno.execPath(), {
  args: ["run", "--allow-all", "src/main.ts"],
  env: { HTTP_TRANSPORT: "node", PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warning" },
  stdout: "piped",
  stderr: "piped"
}).spawn()
const output: Array<string> = []
const collect = async (stream: ReadableStream<Uint8Array>) => {
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) output.push(chunk)
}
const collecting = Promise.all([collect(child.stdout), collect(child.stderr)])

const fail = async (why: string) => {
  console.error(`deno smoke failed: ${why}`)
  try {
    child.kill("SIGKILL")
  } catch {
    // already gone
  }
  await collecting
  console.error(output.join(""))
  Deno.exit(1)
}

const waitFor = async (path: string, deadline: number) => {
  let last = "no answer"
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`)
      const body = await res.text()
      if (res.status === 200) return body
      last = `${res.status} ${body}`
    } catch (e) {
      last = String(e)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  await fail(`${path}: ${last}`)
}

const deadline = Date.now() + 60_000
const health = await waitFor("/healthz", deadline)
const ready = await waitFor("/readyz", deadline)
child.kill("SIGTERM")
const status = await child.status
await collecting
if (status.code !== 0) await fail(`exit code ${status.code} after SIGTERM`)
console.log(`deno smoke ok on port ${port}\n  /healthz ${health}\n  /readyz ${ready}`)
