/**
 * One WebSocket as the gateway sees it, whichever transport holds it. Sending reports
 * backpressure; a socket whose buffer passes the limit is closed with 1013 (try again later: the
 * client reconnects and resumes) instead of buffering without bound.
 */
export type SendResult = "sent" | "buffered" | "closed"

export interface WsConnection {
  readonly id: string
  /** The signed-in user this socket belongs to (authenticated at upgrade). */
  readonly userId: string
  /** The session that opened it (a log-out closes its sockets). */
  readonly sessionKey: string
  readonly remoteAddress: string
  readonly send: (text: string) => SendResult
  readonly bufferedAmount: () => number
  readonly close: (code: number, reason: string) => void
  readonly isOpen: () => boolean
}
