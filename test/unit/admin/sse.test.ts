import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { AdminServer } from "../../../src/admin/http.js";
import type { NodeStatus } from "../../../src/admin/status.js";

interface Frame {
  event: string;
  id?: string;
  data: unknown;
}

/** Opens /api/v1/stream and collects parsed SSE frames (WHATWG "event stream interpretation"). */
function openStream(port: number, path = "/api/v1/stream", headers: Record<string, string> = {}) {
  const frames: Frame[] = [];
  const waiters: (() => void)[] = [];
  let ended = false;
  let status = 0;
  let contentType = "";
  const req = http.get({ host: "127.0.0.1", port, path, headers }, (res) => {
    status = res.statusCode ?? 0;
    contentType = String(res.headers["content-type"]);
    let buf = "";
    res.setEncoding("utf8");
    res.on("data", (d: string) => {
      buf += d;
      for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const f: Frame = { event: "message", data: undefined };
        let data: string | undefined;
        for (const line of block.split("\n")) {
          const c = line.indexOf(":");
          const field = c < 0 ? line : line.slice(0, c);
          const value = c < 0 ? "" : line.slice(c + 1).replace(/^ /, "");
          if (field === "event") f.event = value;
          else if (field === "id") f.id = value;
          else if (field === "data") data = data === undefined ? value : `${data}\n${value}`;
        }
        if (data === undefined) continue; // e.g. the retry-only block
        f.data = JSON.parse(data);
        frames.push(f);
        for (const w of waiters.splice(0)) w();
      }
    });
    res.on("end", () => {
      ended = true;
      for (const w of waiters.splice(0)) w();
    });
  });
  req.on("error", () => {
    ended = true;
  });
  return {
    frames,
    get status() {
      return status;
    },
    get contentType() {
      return contentType;
    },
    get ended() {
      return ended;
    },
    /** Waits (bounded) until pred holds. */
    async until(pred: () => boolean, timeoutMs = 3000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!pred()) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`stream condition not met in ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, Math.min(left, 200));
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
    close: () => req.destroy(),
  };
}

describe("SSE status stream", () => {
  const log = pino({ level: "silent" });
  const admin = new AdminServer({
    log,
    listen: { kind: "tcp", host: "127.0.0.1", port: 0 },
    processMetrics: false,
    streamIntervalMs: 100,
  });
  let items = 0;
  let port = 0;
  before(async () => {
    admin.status.register({
      kind: "node",
      name: "n1",
      snapshot: (): NodeStatus => ({
        name: "n1",
        address: "127.0.0.1:1",
        up: true,
        uptimeSec: 1,
        memory: { usedBytes: 0, limitBytes: 1 },
        items,
        hitRatio: null,
        opsPerSec: 0,
        connections: 0,
        evictions: 0,
        peers: [],
      }),
    });
    await admin.listen();
    const a = admin.address();
    assert.ok(a.kind === "tcp");
    port = a.port;
  });
  after(() => admin.close());

  test("sends status at once, then on every tick, with changes reflected", async () => {
    const s = openStream(port);
    await s.until(() => s.frames.length >= 1);
    assert.equal(s.status, 200);
    assert.match(s.contentType, /^text\/event-stream/);
    assert.equal(s.frames[0].event, "status");
    assert.equal((s.frames[0].data as { nodes: NodeStatus[] }).nodes[0].items, 0);
    items = 42;
    const t0 = Date.now();
    await s.until(() =>
      s.frames.some(
        (f) => f.event === "status" && (f.data as { nodes: NodeStatus[] }).nodes[0].items === 42,
      ),
    );
    assert.ok(Date.now() - t0 < 1000, "a change shows within a few ticks");
    s.close();
  });

  test("events are pushed immediately with their seq as the SSE id; Last-Event-ID replays", async () => {
    const s = openStream(port);
    await s.until(() => s.frames.length >= 1);
    const e = admin.events.push({
      kind: "eject",
      subject: "web/s1",
      message: "3 errors",
      level: "warn",
    });
    await s.until(() => s.frames.some((f) => f.event === "event"));
    const got = s.frames.find((f) => f.event === "event");
    assert.equal(got?.id, String(e.seq));
    assert.deepEqual(got?.data, JSON.parse(JSON.stringify(e)));
    s.close();
    admin.events.push({ kind: "restore", subject: "web/s1", message: "back" });
    // A reconnecting browser sends Last-Event-ID and gets what it missed, before the status.
    const again = openStream(port, "/api/v1/stream", { "Last-Event-ID": String(e.seq) });
    await again.until(() => again.frames.some((f) => f.event === "status"));
    assert.equal(again.frames[0].event, "event");
    assert.equal((again.frames[0].data as { kind: string }).kind, "restore");
    assert.equal(again.frames.filter((f) => f.event === "event").length, 1);
    again.close();
  });

  test("closing the server ends open streams", async () => {
    const s = openStream(port);
    await s.until(() => s.frames.length >= 1);
    await admin.close();
    await s.until(() => s.ended);
  });
});
