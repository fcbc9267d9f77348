import { Data } from "effect"

/** The configured port is taken: start-up stops with one line that says so. */
export class PortInUse extends Data.TaggedError("PortInUse")<{ readonly host: string; readonly port: number }> {
  override get message() {
    return `PORT ${this.port} is already in use on ${this.host}: another process listens there; stop it or set PORT to a free port`
  }
}
