/** One HTTP/1.1 response as the long-poll loops need it: status, body text, and whether the server closes. */
export interface ParsedResponse {
  status: number;
  text: string;
  /** `Connection: close`, or a body delimited by the end of the connection: the socket cannot be reused. */
  close: boolean;
}

/** A response head (or chunk line) longer than this is not what the relay sends: refuse it, do not buffer on. */
const MAX_LINE_BYTES = 64 * 1024;
const CRLF = Buffer.from("\r\n");
const HEAD_END = Buffer.from("\r\n\r\n");

type State =
  | "head"
  | "length"
  | "chunk-size"
  | "chunk-data"
  | "chunk-end"
  | "trailers"
  | "until-close"
  | "done";

/**
 * An incremental parser of the responses on one HTTP/1.1 connection that never pipelines (each request waits
 * for its answer): bytes go in as they arrive, split anywhere; `push` returns the response once it is complete.
 * It reads the status line, `Content-Length`, `Transfer-Encoding: chunked` (extensions and trailers skipped)
 * and `Connection: close`; a body with neither ends with the connection (`end`). 1xx interim heads are
 * skipped; 204 and 304 have no body. Bytes after a complete response are an error: nothing asked for them.
 */
export class HttpResponseParser {
  private state: State = "head";
  /** Bytes of an unfinished head or chunk line, kept until the rest arrives. */
  private partial: Buffer | undefined;
  private status = 0;
  private close = false;
  private remaining = 0;
  private body: Buffer[] = [];
  /** Whether any byte of the current response has arrived (a stale keep-alive socket closes before any). */
  started = false;

  push(chunk: Buffer): ParsedResponse | undefined {
    if (chunk.length === 0) return undefined;
    this.started = true;
    const data = this.partial ? Buffer.concat([this.partial, chunk]) : chunk;
    this.partial = undefined;
    let offset = 0;
    while (offset < data.length || this.state === "done") {
      if (this.state === "done") {
        if (offset < data.length) throw new Error("HTTP bytes after the response, which nothing asked for");
        return this.take();
      }
      if (this.state === "length" || this.state === "chunk-data") {
        const take = Math.min(this.remaining, data.length - offset);
        this.body.push(data.subarray(offset, offset + take));
        offset += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = this.state === "length" ? "done" : "chunk-end";
      } else if (this.state === "until-close") {
        this.body.push(data.subarray(offset));
        offset = data.length;
      } else {
        const delimiter = this.state === "head" ? HEAD_END : CRLF;
        const end = data.indexOf(delimiter, offset);
        if (end === -1) {
          if (data.length - offset > MAX_LINE_BYTES) throw new Error(`HTTP ${this.state} line too long`);
          this.partial = data.subarray(offset);
          return undefined;
        }
        const text = data.toString("latin1", offset, end);
        offset = end + delimiter.length;
        if (this.state === "head") this.readHead(text);
        else this.readLine(text);
      }
    }
    return undefined;
  }

  /** The connection ended: the response the close delimited, undefined if none had begun; throws if cut short. */
  end(): ParsedResponse | undefined {
    if (this.state === "until-close") {
      this.close = true;
      return this.take();
    }
    if (!this.started) return undefined;
    throw new Error("the connection closed in the middle of an HTTP response");
  }

  private readHead(head: string): void {
    const lines = head.split("\r\n");
    const match = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? "");
    if (!match) throw new Error(`not an HTTP/1.x status line: ${JSON.stringify(lines[0]?.slice(0, 100))}`);
    const status = Number(match[1]);
    let length: number | undefined;
    let chunked = false;
    let close = false;
    for (let index = 1; index < lines.length; index++) {
      const line = lines[index] as string;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new Error(`malformed HTTP header line: ${JSON.stringify(line.slice(0, 100))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") {
        if (!/^\d+$/.test(value) || (length !== undefined && length !== Number(value)))
          throw new Error(`bad Content-Length: ${value}`);
        length = Number(value);
      } else if (name === "transfer-encoding") {
        chunked = value.toLowerCase().split(",").at(-1)?.trim() === "chunked";
      } else if (name === "connection") {
        close = value
          .toLowerCase()
          .split(",")
          .some((token) => token.trim() === "close");
      }
    }
    if (status < 200) return; // an interim head (100 Continue, 103 Early Hints): the real one follows
    this.status = status;
    this.close = close;
    if (status === 204 || status === 304) this.state = "done";
    else if (chunked) this.state = "chunk-size";
    else if (length !== undefined) {
      this.remaining = length;
      this.state = length === 0 ? "done" : "length";
    } else this.state = "until-close";
  }

  private readLine(line: string): void {
    if (this.state === "chunk-size") {
      const size = line.split(";", 1)[0]?.trim() ?? "";
      if (!/^[0-9a-fA-F]{1,12}$/.test(size)) throw new Error(`bad chunk size line: ${JSON.stringify(line)}`);
      this.remaining = Number.parseInt(size, 16);
      this.state = this.remaining === 0 ? "trailers" : "chunk-data";
    } else if (this.state === "chunk-end") {
      if (line !== "") throw new Error("a chunk's data is not followed by CRLF");
      this.state = "chunk-size";
    } else if (line === "") {
      this.state = "done"; // the blank line after the trailers (if any)
    }
  }

  private take(): ParsedResponse {
    const text =
      this.body.length === 1
        ? (this.body[0] as Buffer).toString("utf8")
        : Buffer.concat(this.body).toString("utf8");
    const answer = { status: this.status, text, close: this.close };
    this.state = "head";
    this.status = 0;
    this.close = false;
    this.remaining = 0;
    this.body = [];
    this.started = false;
    return answer;
  }
}
