/** Tiny DOM helpers for the page. Everything user- or network-supplied goes through textContent, never innerHTML. */

type ElementClass<T extends HTMLElement> = { new (): T; prototype: T };

/** The element with this id, checked to be of the expected class (the HTML and the script ship together). */
export function byId<T extends HTMLElement>(id: string, type: ElementClass<T>): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`page markup is missing #${id} (${type.name})`);
  return element;
}

/** Creates an element with a class and text content. */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Shows an outcome next to a form: `ok`, `error`, plain `info`, or `busy` while a call runs. */
export function showResult(
  output: HTMLOutputElement,
  text: string,
  kind: "ok" | "error" | "info" | "busy" = "info",
): void {
  output.textContent = text;
  output.dataset.kind = kind;
}

/** Splits "a, b c" into ["a", "b", "c"]. */
export function splitList(value: string): string[] {
  return value.split(/[\s,]+/).filter((item) => item.length > 0);
}

/** Local wall-clock time with milliseconds, for the feed. */
export function clock(ms: number): string {
  const date = new Date(ms);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}
