import { css } from "lit"

export const styles = css`
  :host {
    display: contents;
  }
  .dialog {
    position: fixed;
    inset: 0;
    z-index: 2147483000;
    display: flex;
    flex-direction: column;
    background: #000;
    color: #fff;
    font-family: var(--_font);
    outline: none;
    touch-action: none;
    user-select: none;
    -webkit-user-select: none;
  }
  .bars {
    display: flex;
    gap: 4px;
    padding: 8px 10px 0;
    max-width: 540px;
    width: 100%;
    margin: 0 auto;
  }
  .bar {
    flex: 1;
    height: 3px;
    border-radius: 2px;
    background: rgb(255 255 255 / 35%);
    overflow: hidden;
  }
  .fill {
    display: block;
    height: 100%;
    background: #fff;
  }
  header {
    display: flex;
    align-items: center;
    gap: 0.5em;
    padding: 8px 10px;
    max-width: 540px;
    width: 100%;
    margin: 0 auto;
  }
  .who {
    color: #fff;
    font-weight: 600;
    text-decoration: none;
  }
  time,
  .cf {
    color: rgb(255 255 255 / 80%);
    font-size: 0.85em;
  }
  .cf {
    background: #1a8f3c;
    color: #fff;
    border-radius: 999px;
    padding: 0 0.6em;
  }
  .spacer {
    flex: 1;
  }
  .avatar {
    width: 32px;
    height: 32px;
    border-radius: 50%;
    background: #555;
    flex: none;
    object-fit: cover;
  }
  button {
    min-height: 44px;
    min-width: 44px;
    color: #fff;
    background: rgb(255 255 255 / 12%);
    border-color: rgb(255 255 255 / 30%);
  }
  button:focus-visible,
  a:focus-visible,
  input:focus-visible {
    outline: 3px solid #fff;
    outline-offset: 2px;
    box-shadow: 0 0 0 5px #000;
  }
  .stage {
    position: relative;
    flex: 1;
    min-height: 0;
    width: 100%;
    max-width: 540px;
    margin: 0 auto;
    border-radius: 8px;
    overflow: hidden;
    display: grid;
    place-items: center;
  }
  .stage img {
    width: 100%;
    height: 100%;
    object-fit: contain;
    pointer-events: none;
  }
  .nav {
    position: absolute;
    top: 50%;
    transform: translateY(-50%);
    border-radius: 50%;
    font-size: 1.6em;
    line-height: 1;
    padding: 0;
    opacity: 0.75;
  }
  .nav.prev {
    left: 6px;
  }
  .nav.next {
    right: 6px;
  }
  .pending {
    margin: auto;
    color: rgb(255 255 255 / 85%);
  }
  .lone-close {
    position: absolute;
    top: 10px;
    right: 10px;
  }
  .reply,
  .owner {
    display: flex;
    flex-wrap: wrap;
    gap: 6px;
    align-items: center;
    padding: 8px 10px calc(8px + env(safe-area-inset-bottom));
    max-width: 540px;
    width: 100%;
    margin: 0 auto;
  }
  .reply input {
    flex: 1 1 12em;
    min-height: 44px;
    background: transparent;
    color: #fff;
    border-color: rgb(255 255 255 / 60%);
    border-radius: 999px;
  }
  .reply input::placeholder {
    color: rgb(255 255 255 / 75%);
  }
  .reactions {
    display: flex;
    gap: 4px;
    flex-wrap: wrap;
  }
  .reactions button {
    background: none;
    border: none;
    font-size: 1.3em;
    padding: 0 4px;
  }
  .danger {
    margin-left: auto;
  }
  .sheet {
    position: absolute;
    left: 0;
    right: 0;
    bottom: 0;
    max-height: 65%;
    overflow: auto;
    max-width: 540px;
    margin: 0 auto;
    background: var(--_bg);
    color: var(--_fg);
    border-radius: 14px 14px 0 0;
    padding: 12px 16px;
  }
  .sheet h2 {
    font-size: 1.05em;
    margin: 0 0 8px;
    outline: none;
  }
  .sheet button {
    color: var(--_fg);
    background: var(--_surface);
    border-color: var(--_border);
  }
  .sheet-close {
    position: absolute;
    top: 6px;
    right: 10px;
  }
  .sheet ul {
    list-style: none;
    margin: 0;
    padding: 0;
  }
  .sheet li {
    display: flex;
    align-items: center;
    gap: 0.6em;
    padding: 6px 0;
  }
  .sheet li a {
    color: var(--_fg);
    font-weight: 600;
  }
  .sheet li time {
    color: var(--_muted);
    margin-left: auto;
  }
  .sheet .muted {
    color: var(--_muted);
  }
  .toast {
    position: absolute;
    left: 50%;
    bottom: 84px;
    transform: translateX(-50%);
    margin: 0;
    background: rgb(0 0 0 / 70%);
    border-radius: 999px;
    padding: 0 0.9em;
    line-height: 2;
  }
  .toast:empty {
    display: none;
  }
  .error {
    text-align: center;
    color: #ffb4ab;
    margin: 4px;
  }
  @media (prefers-reduced-motion: reduce) {
    .fill {
      transition: none;
    }
  }
  @media (forced-colors: active) {
    .fill {
      background: CanvasText;
    }
    button:focus-visible {
      outline-color: Highlight;
    }
  }
`
