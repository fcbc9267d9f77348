import { css } from "lit"

export const styles = css`
  :host([variant="badge"]) {
    display: inline-block;
  }
  .bell {
    position: relative;
    display: inline-flex;
    align-items: center;
    gap: 0.3em;
    text-decoration: none;
    color: inherit;
    padding: 0.3em 0.5em;
    border-radius: 8px;
  }
  .badge {
    display: inline-block;
    min-width: 1.4em;
    padding: 0 0.4em;
    border-radius: 999px;
    background: var(--_like);
    color: #fff;
    font-size: 0.8em;
    font-weight: 700;
    text-align: center;
  }
  ul {
    list-style: none;
    padding: 0;
    margin: 0;
  }
  li {
    display: flex;
    gap: 0.8em;
    align-items: center;
    padding: 0.7em 0.4em;
    border-bottom: 1px solid var(--_border);
  }
  li.unread {
    background: color-mix(in srgb, var(--_accent) 8%, transparent);
  }
  li .text {
    flex: 1;
    overflow-wrap: anywhere;
  }
  li img {
    width: 44px;
    height: 44px;
    object-fit: cover;
    border-radius: 4px;
  }
  .bar {
    display: flex;
    justify-content: space-between;
    align-items: center;
    gap: 1em;
    margin-bottom: 0.5em;
  }
  time,
  .muted {
    color: var(--_muted);
    font-size: 0.85em;
  }
  .bell {
    min-height: 44px;
    min-width: 44px;
    justify-content: center;
  }
  .requests {
    display: flex;
    flex-direction: column;
    gap: 0.3em;
    margin-top: 0.4em;
  }
  .request {
    display: flex;
    flex-wrap: wrap;
    gap: 0.4em;
    align-items: center;
  }
  .request button,
  .bar button {
    min-height: 44px;
  }
  .requests a {
    display: inline-flex;
    align-items: center;
    min-height: 44px;
  }
  .error {
    color: var(--_danger);
  }
  @media (max-width: 639px) {
    :host([variant="badge"][label]) {
      display: block;
    }
    :host([label]) .bell {
      flex-direction: column;
      gap: 0;
      width: 100%;
      min-height: 52px;
      font-size: 0.72em;
    }
    :host([label]) .badge {
      position: absolute;
      top: 4px;
      left: calc(50% + 4px);
    }
  }
`
