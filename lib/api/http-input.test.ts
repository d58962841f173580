import { describe, expect, it } from "vitest";

import { MAX_JSON_BODY_BYTES, readJsonBody } from "./http-input";

function streamed(text: string, headers: Record<string, string> = { "content-type": "application/json" }) {
  const bytes = new TextEncoder().encode(text);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.slice(i, i + 8192));
      controller.close();
    },
  });
  return new Request("http://localhost/api/admin/x", { method: "POST", headers, body, duplex: "half" } as RequestInit);
}

const status = (promise: Promise<unknown>) =>
  promise.then(
    () => 200,
    (error: { status?: number }) => error.status,
  );

describe("readJsonBody", () => {
  it("reads a JSON object", async () => {
    expect(await readJsonBody(streamed('{"reason":"ok"}'))).toEqual({ reason: "ok" });
  });

  it("refuses a body over the limit while it streams in, with no Content-Length", async () => {
    const big = JSON.stringify({ reason: "x".repeat(MAX_JSON_BODY_BYTES) });
    expect(await status(readJsonBody(streamed(big)))).toBe(413);
  });

  it("refuses a declared Content-Length over the limit before reading", async () => {
    const request = new Request("http://localhost/x", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(MAX_JSON_BODY_BYTES + 1) },
      body: "{}",
    });
    expect(await status(readJsonBody(request))).toBe(413);
  });

  it("answers 415 for another content type, 400 for bad JSON or an empty body, {} when optional", async () => {
    expect(await status(readJsonBody(streamed('{"a":1}', { "content-type": "text/plain" })))).toBe(415);
    expect(await status(readJsonBody(streamed("{nope")))).toBe(400);
    expect(await status(readJsonBody(streamed("")))).toBe(400);
    expect(await readJsonBody(streamed(""), { optional: true })).toEqual({});
  });
});
