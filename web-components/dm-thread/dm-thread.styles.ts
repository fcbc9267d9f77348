import { css } from "lit"

export const styles = css`
  :host {
    display: flex;
    flex-direction: column;
    height: var(--ap-dm-height, 560px);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    overflow: hidden;
    --_mine: var(--ap-dm-mine, var(--_accent));
    --_mine-fg: var(--ap-dm-mine-fg, var(--_accent-fg));
    --_theirs: var(--ap-dm-theirs, var(--_surface));
  }
  header {
    padding: 0.6em 1em;
    border-bottom: 1px solid var(--_border);
  }
  .request {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5em;
    align-items: center;
    padding: 0.6em 1em;
    background: var(--_surface);
    border-bottom: 1px solid var(--_border);
  }
  .request p {
    flex-basis: 100%;
    margin: 0;
  }
  h2 {
    margin: 0;
    font-size: 1.05em;
  }
  .log {
    flex: 1;
    overflow-y: auto;
    padding: 0.8em 1em;
    display: flex;
    flex-direction: column;
    gap: 0.5em;
  }
  .msg {
    display: flex;
    flex-direction: column;
    align-items: flex-start;
    max-width: 80%;
  }
  .msg.mine {
    align-self: flex-end;
    align-items: flex-end;
  }
  .bubble {
    padding: 0.45em 0.8em;
    border-radius: 16px;
    background: var(--_theirs);
    overflow-wrap: anywhere;
  }
  .text {
    white-space: pre-wrap;
  }
  .mine .bubble {
    background: var(--_mine);
    color: var(--_mine-fg);
  }
  .pending .bubble {
    opacity: 0.65;
  }
  .tombstone {
    color: var(--_muted);
  }
  .mine .tombstone {
    color: inherit;
  }
  .quote {
    margin: 0 0 0.2em;
    padding: 0.2em 0.6em;
    border-left: 3px solid var(--_border);
    color: var(--_muted);
    font-size: 0.85em;
  }
  .photo {
    display: block;
    max-width: 240px;
    border-radius: 10px;
  }
  .photo.processing {
    width: 200px;
    height: 150px;
    display: grid;
    place-items: center;
    background: var(--_surface) center / cover;
    color: var(--_muted);
  }
  .story-quote {
    display: flex;
    gap: 0.5em;
    align-items: center;
    font-size: 0.9em;
  }
  .story-quote img,
  .story-gone {
    width: 45px;
    height: 80px;
    object-fit: cover;
    border-radius: 6px;
    flex: none;
  }
  .story-gone {
    background: var(--_border);
  }
  .shared-post {
    display: flex;
    gap: 0.5em;
    align-items: center;
    color: inherit;
  }
  .shared-post img {
    width: 48px;
    height: 48px;
    object-fit: cover;
    border-radius: 4px;
  }
  .meta {
    display: flex;
    gap: 0.5em;
    align-items: center;
    flex-wrap: wrap;
    font-size: 0.8em;
    color: var(--_muted);
  }
  button.link {
    border: none;
    background: none;
    padding: 0.1em 0.2em;
    color: var(--_accent);
    font-size: inherit;
  }
  .actions {
    opacity: 0.75;
  }
  .reactions {
    list-style: none;
    display: flex;
    gap: 0.3em;
    margin: 0.2em 0 0;
    padding: 0;
  }
  .reactions button,
  .picker button {
    padding: 0.05em 0.45em;
    border-radius: 999px;
  }
  .reactions button[aria-pressed="true"] {
    border-color: var(--_accent);
  }
  .picker {
    display: flex;
    gap: 0.3em;
    margin-top: 0.2em;
  }
  .seen,
  .state {
    margin: 0.1em 0 0;
    font-size: 0.8em;
    color: var(--_muted);
  }
  .typing {
    min-height: 1.4em;
    margin: 0;
    padding: 0 1em;
    font-size: 0.85em;
    color: var(--_muted);
  }
  .older,
  .newer {
    align-self: center;
  }
  .muted,
  .start {
    color: var(--_muted);
    align-self: center;
    font-size: 0.85em;
  }
  form {
    border-top: 1px solid var(--_border);
    padding: 0.6em;
    display: grid;
    gap: 0.4em;
  }
  .row {
    display: flex;
    gap: 0.4em;
    align-items: flex-end;
  }
  textarea {
    resize: none;
    flex: 1;
    min-height: 2.4em;
    max-height: 8em;
  }
  .attach {
    position: relative;
    display: inline-grid;
    place-items: center;
    width: 2.4em;
    height: 2.4em;
    border: 1px solid var(--_border);
    border-radius: 8px;
    cursor: pointer;
  }
  .attach:focus-within {
    box-shadow: var(--_focus);
  }
  .attach input {
    position: absolute;
    opacity: 0;
    width: 1px;
    height: 1px;
  }
  .replying {
    display: flex;
    justify-content: space-between;
    gap: 0.5em;
    font-size: 0.85em;
    color: var(--_muted);
  }
  progress {
    width: 100%;
    height: 8px;
    accent-color: var(--_accent);
  }
`
