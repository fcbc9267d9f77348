import { css } from "lit"

export const styles = css`
  :host {
    --_ring: var(--ap-story-ring, conic-gradient(from 200deg, #f9a825, #e91e63, #9c27b0, #f9a825));
    --_ring-close: var(--ap-story-close-friends, #1a8f3c);
    background: transparent;
  }
  ul {
    display: flex;
    gap: 12px;
    list-style: none;
    margin: 0;
    padding: 6px 2px 10px;
    overflow-x: auto;
    scroll-snap-type: x proximity;
    scrollbar-width: thin;
  }
  li {
    position: relative;
    flex: none;
    scroll-snap-align: start;
  }
  .ring,
  .add:not(.small) {
    display: flex;
    flex-direction: column;
    align-items: center;
    gap: 4px;
    width: 76px;
    padding: 0;
    border: none;
    background: none;
    border-radius: 12px;
  }
  .disc {
    display: grid;
    place-items: center;
    width: 68px;
    height: 68px;
    border-radius: 50%;
    padding: 3px;
    background: var(--_border);
  }
  .ring.unseen .disc {
    background: var(--_ring);
  }
  .ring.unseen.close .disc {
    background: var(--_ring-close);
  }
  .disc img,
  .initial {
    width: 100%;
    height: 100%;
    border-radius: 50%;
    border: 3px solid var(--_bg);
    object-fit: cover;
    background: var(--_surface);
  }
  .initial {
    display: grid;
    place-items: center;
    font-weight: 700;
    font-size: 1.3em;
    color: var(--_muted);
  }
  .plus {
    background: var(--_surface);
    border: 2px dashed var(--_border);
    font-size: 1.8em;
    color: var(--_accent);
  }
  .name {
    max-width: 76px;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
    font-size: 0.8em;
  }
  .ring.seen .name {
    color: var(--_muted);
  }
  .add.small {
    position: absolute;
    top: 46px;
    right: 2px;
    width: 26px;
    height: 26px;
    min-width: 0;
    padding: 0;
    border-radius: 50%;
    background: var(--_accent);
    color: var(--_accent-fg);
    border: 2px solid var(--_bg);
    font-weight: 700;
    line-height: 1;
  }
  .add.small::after {
    /* a 44 px target around the small badge */
    content: "";
    position: absolute;
    inset: -9px;
  }
  .composer {
    position: fixed;
    inset: 0;
    z-index: 2147482000;
    margin: auto;
    width: min(92vw, 380px);
    height: fit-content;
    max-height: 96vh;
    overflow: auto;
    background: var(--_bg);
    color: var(--_fg);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    box-shadow: 0 10px 40px rgb(0 0 0 / 35%);
    padding: 14px;
    display: grid;
    gap: 10px;
  }
  .composer h2 {
    margin: 0;
    font-size: 1.1em;
    outline: none;
  }
  .frame {
    aspect-ratio: 9 / 16;
    max-height: 56vh;
    margin: 0 auto;
    border-radius: 10px;
    overflow: hidden;
    background: #000;
  }
  .frame img {
    width: 100%;
    height: 100%;
    object-fit: cover;
    display: block;
  }
  fieldset {
    border: 1px solid var(--_border);
    border-radius: 8px;
    display: flex;
    gap: 1em;
    flex-wrap: wrap;
  }
  fieldset input {
    width: auto;
  }
  .actions {
    display: flex;
    gap: 8px;
    justify-content: flex-end;
  }
  .actions button {
    min-height: 44px;
  }
  progress {
    width: 100%;
  }
  @media (forced-colors: active) {
    .ring.unseen .disc {
      background: Highlight;
    }
  }
`
