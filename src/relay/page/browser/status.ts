import { byId } from "./dom.ts";

export type ConnectionState = "idle" | "connecting" | "live" | "reconnecting" | "error";

const badge = () => byId("status", HTMLElement);
const notice = () => byId("notice", HTMLParagraphElement);

/** The header badge: where the stream stands, in words. */
export function setStatus(state: ConnectionState, text: string): void {
  const element = badge();
  element.dataset.state = state;
  element.textContent = text;
  // The title's dot shows the same state (page.css): neutral while idle, green while live.
  document.documentElement.dataset.connection = state;
}

/** A page-wide problem (bad token, relay unreachable); empty text hides it. */
export function setNotice(text: string): void {
  const element = notice();
  element.textContent = text;
  element.hidden = text.length === 0;
}
