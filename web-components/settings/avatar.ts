/**
 * The settings page's avatar: choose a photo, crop it square in the browser (zoom with the slider,
 * move it by dragging or with the arrow keys), and send the crop — drawn onto a canvas, as a JPEG
 * blob — to `PUT /users/me/avatar`. Nothing leaves the browser before Save.
 */
import { html, nothing, type ReactiveController, type ReactiveControllerHost } from "lit"
import { uploadAvatar } from "../sdk/account.ts"
import { ApiError, describeError } from "../sdk/rest.ts"
import type { ApElement } from "../shared/base.ts"

type Host = ReactiveControllerHost & ApElement

/** The preview's side and the uploaded square's side, in pixels. */
const PREVIEW = 240
export const OUTPUT = 512
const MAX_BYTES = 10 * 1024 * 1024

/** Where the image's top-left lands in a square of `side` for a zoom and a pan (clamped so the square stays covered). */
export const placement = (w: number, h: number, side: number, zoom: number, panX: number, panY: number) => {
  const scale = Math.max(side / w, side / h) * zoom
  const dw = w * scale
  const dh = h * scale
  const clamp = (v: number, min: number) => Math.min(0, Math.max(min, v))
  return { x: clamp((side - dw) / 2 + panX * side, side - dw), y: clamp((side - dh) / 2 + panY * side, side - dh), w: dw, h: dh }
}

export class AvatarController implements ReactiveController {
  image: HTMLImageElement | undefined
  zoom = 1
  /** The pan, as a share of the square's side. */
  panX = 0
  panY = 0
  error = ""
  status = ""
  busy = false
  #url: string | undefined
  #drag: { x: number; y: number } | undefined

  constructor(private readonly host: Host) {
    host.addController(this)
  }

  hostDisconnected(): void {
    if (this.#url) URL.revokeObjectURL(this.#url)
  }

  #update() {
    this.host.requestUpdate()
    void this.host.updateComplete.then(() => this.#draw())
  }

  #draw(canvas = this.host.renderRoot.querySelector<HTMLCanvasElement>("#avatar-crop"), side = PREVIEW) {
    const ctx = canvas?.getContext("2d")
    if (!canvas || !ctx || !this.image) return
    const p = placement(this.image.naturalWidth, this.image.naturalHeight, side, this.zoom, this.panX, this.panY)
    ctx.clearRect(0, 0, side, side)
    ctx.drawImage(this.image, p.x, p.y, p.w, p.h)
  }

  async #choose(event: Event) {
    const input = event.target as HTMLInputElement
    const file = input.files?.[0]
    this.error = ""
    this.status = ""
    if (!file) return
    if (!file.type.startsWith("image/")) {
      this.error = "That file is not a photo. Choose a JPEG, PNG, WebP, AVIF or GIF."
      return this.#update()
    }
    if (file.size > MAX_BYTES) {
      this.error = "That photo is larger than 10 MB. Choose a smaller one."
      return this.#update()
    }
    if (this.#url) URL.revokeObjectURL(this.#url)
    this.#url = URL.createObjectURL(file)
    const image = new Image()
    image.src = this.#url
    try {
      await image.decode()
    } catch {
      this.error = "That photo could not be read. Try another one."
      return this.#update()
    }
    this.image = image
    this.zoom = 1
    this.panX = 0
    this.panY = 0
    this.#update()
  }

  #pan(dx: number, dy: number) {
    if (!this.image) return
    const p = placement(this.image.naturalWidth, this.image.naturalHeight, 1, this.zoom, 0, 0)
    // keep the pan within what the zoom leaves to show
    const limX = Math.max(0, (p.w - 1) / 2)
    const limY = Math.max(0, (p.h - 1) / 2)
    this.panX = Math.min(limX, Math.max(-limX, this.panX + dx))
    this.panY = Math.min(limY, Math.max(-limY, this.panY + dy))
    this.#update()
  }

  #key(event: KeyboardEvent) {
    const step = 0.05
    const moves: Record<string, [number, number]> = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] }
    const move = moves[event.key]
    if (!move) return
    event.preventDefault()
    this.#pan(move[0], move[1])
  }

  #pointer(event: PointerEvent) {
    if (event.type === "pointerdown") {
      this.#drag = { x: event.clientX, y: event.clientY }
      ;(event.target as Element).setPointerCapture?.(event.pointerId)
    } else if (event.type === "pointermove" && this.#drag) {
      this.#pan((event.clientX - this.#drag.x) / PREVIEW, (event.clientY - this.#drag.y) / PREVIEW)
      this.#drag = { x: event.clientX, y: event.clientY }
    } else this.#drag = undefined
  }

  /** The crop as a JPEG blob of OUTPUT × OUTPUT. */
  async crop(): Promise<Blob> {
    const canvas = document.createElement("canvas")
    canvas.width = OUTPUT
    canvas.height = OUTPUT
    this.#draw(canvas, OUTPUT)
    return await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("the crop could not be drawn"))), "image/jpeg", 0.9))
  }

  async #save() {
    this.busy = true
    this.error = ""
    this.#update()
    try {
      await uploadAvatar(this.host.client.rest, await this.crop())
      this.status = "Avatar saved. It shows everywhere in a moment."
      this.image = undefined
      const input = this.host.renderRoot.querySelector<HTMLInputElement>("#avatar-file")
      if (input) input.value = ""
    } catch (error) {
      this.error = error instanceof ApiError ? describeError(error) : "The crop could not be made in this browser."
      this.host.dispatchEvent(
        new CustomEvent("ap-error", { detail: { message: this.error, status: error instanceof ApiError ? error.status : undefined }, bubbles: true, composed: true })
      )
    } finally {
      this.busy = false
      this.#update()
    }
  }

  render() {
    const avatar = this.host.client.me?.avatar
    return html`<section part="section" aria-labelledby="avatar-heading">
      <h2 id="avatar-heading">Avatar</h2>
      <div class="avatar-row">
        ${avatar && !this.image ? html`<img class="avatar-now" src=${this.host.client.rest.url(avatar.small)} alt="Your avatar now" width="96" height="96" />` : nothing}
        <div>
          <label for="avatar-file">Choose a photo</label>
          <input id="avatar-file" type="file" accept="image/*" aria-describedby="avatar-error" aria-invalid=${this.error ? "true" : "false"} @change=${(e: Event) => this.#choose(e)} />
        </div>
      </div>
      ${this.image
        ? html`<div class="crop">
          <canvas id="avatar-crop" part="avatar-crop" width=${PREVIEW} height=${PREVIEW} tabindex="0" role="img"
            aria-label="Crop preview: drag the photo or use the arrow keys to move it"
            @keydown=${(e: KeyboardEvent) => this.#key(e)} @pointerdown=${(e: PointerEvent) => this.#pointer(e)}
            @pointermove=${(e: PointerEvent) => this.#pointer(e)} @pointerup=${(e: PointerEvent) => this.#pointer(e)}
            @pointercancel=${(e: PointerEvent) => this.#pointer(e)}></canvas>
          <label for="avatar-zoom">Zoom</label>
          <input id="avatar-zoom" type="range" min="1" max="3" step="0.05" .value=${String(this.zoom)}
            @input=${(e: Event) => ((this.zoom = Number((e.target as HTMLInputElement).value)), this.#pan(0, 0))} />
          <div class="row">
            <button class="primary" part="save-avatar" ?disabled=${this.busy} @click=${() => this.#save()}>Save avatar</button>
            <button @click=${() => ((this.image = undefined), this.#update())}>Cancel</button>
          </div>
        </div>`
        : nothing}
      <p id="avatar-error" role="alert" class="error">${this.error}</p>
      <p role="status" class="muted">${this.status}</p>
    </section>`
  }
}
