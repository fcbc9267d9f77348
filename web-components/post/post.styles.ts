import { css } from "lit"

export const styles = css`
  article {
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    overflow: hidden;
  }
  header {
    display: flex;
    align-items: center;
    gap: 0.6em;
    padding: 0.6em 0.8em;
  }
  header a {
    color: inherit;
    font-weight: 600;
    text-decoration: none;
  }
  .avatar {
    width: 32px;
    height: 32px;
    border-radius: 50%;
    background: var(--_surface);
    object-fit: cover;
  }
  .media {
    position: relative;
    background-size: cover;
    background-position: center;
    background-color: var(--_surface);
  }
  .media img {
    display: block;
    width: 100%;
    height: 100%;
    object-fit: cover;
    opacity: 0;
    transition: opacity 0.25s;
  }
  .media img.loaded {
    opacity: 1;
  }
  .processing {
    padding: 3em 1em;
    text-align: center;
    color: var(--_muted);
  }
  .actions {
    display: flex;
    gap: 0.4em;
    padding: 0.5em 0.6em 0;
  }
  .actions button {
    display: inline-flex;
    align-items: center;
    gap: 0.35em;
    background: none;
    border-color: transparent;
  }
  .actions button[aria-pressed="true"].like {
    color: var(--_like);
  }
  .actions button[aria-pressed="true"].save {
    color: var(--_accent);
  }
  .actions .spacer {
    flex: 1;
  }
  .body {
    padding: 0.3em 0.9em 0.8em;
  }
  .caption {
    white-space: pre-wrap;
    overflow-wrap: anywhere;
  }
  time,
  .muted {
    color: var(--_muted);
    font-size: 0.85em;
  }
  header .more {
    margin-left: auto;
    background: none;
    border-color: transparent;
    min-width: 44px;
  }
  .carousel {
    position: relative;
  }
  .track {
    display: flex;
    overflow-x: auto;
    scroll-snap-type: x mandatory;
    scrollbar-width: none;
  }
  .track > .media {
    flex: 0 0 100%;
    scroll-snap-align: start;
  }
  .carousel > button {
    position: absolute;
    top: 50%;
    transform: translateY(-50%);
    width: 44px;
    height: 44px;
    border-radius: 50%;
    background: rgb(255 255 255 / 0.85);
    color: #111;
    font-size: 1.4em;
  }
  .carousel > [hidden] {
    display: none;
  }
  .prev {
    left: 0.4em;
  }
  .next {
    right: 0.4em;
  }
  .dots {
    position: absolute;
    bottom: 0.6em;
    width: 100%;
    display: flex;
    justify-content: center;
    gap: 4px;
  }
  .dots i {
    width: 6px;
    height: 6px;
    border-radius: 50%;
    background: rgb(255 255 255 / 0.55);
  }
  .dots i.on {
    background: #fff;
  }
  [role="alert"]:empty {
    display: none;
  }
`
