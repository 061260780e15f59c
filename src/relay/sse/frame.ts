/** One Server-Sent Events frame. `data` may span lines; `id` and `event` must not. */
export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
}

const LINE_BREAK = /\r\n|\r|\n/;

/** Serialises a frame. Throws when `id` or `event` contain a line break (they would forge fields). */
export function formatFrame(frame: SseFrame): string {
  let text = "";
  if (frame.id !== undefined) text += `id: ${singleLine("id", frame.id)}\n`;
  if (frame.event !== undefined && frame.event !== "message")
    text += `event: ${singleLine("event", frame.event)}\n`;
  if (frame.retry !== undefined) text += `retry: ${Math.max(0, Math.trunc(frame.retry))}\n`;
  if (frame.data !== undefined) {
    for (const line of frame.data.split(LINE_BREAK)) text += `data: ${line}\n`;
  }
  return `${text}\n`;
}

function singleLine(field: string, value: string): string {
  if (LINE_BREAK.test(value))
    throw new Error(`SSE ${field} must not contain CR or LF: ${JSON.stringify(value)}`);
  return value;
}
