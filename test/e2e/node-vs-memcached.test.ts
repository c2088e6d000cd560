/**
 * Differential test: the same byte scripts go to real memcached 1.6 and to `keepcache node`,
 * and the replies must be identical (CAS numbers, which legitimately differ, are normalised).
 * Covers good input and bad input alike, since "indistinguishable from memcached" includes
 * its error answers.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { freePort } from "../../tools/ports.js";
import { startMemcached, stopAll } from "../../tools/procs.js";
import { startNode } from "../helpers/keepcache.js";

/** Sends a script and collects the reply until the peer is quiet for `quietMs` or closes. */
function exchange(port: number, script: Buffer, quietMs = 150): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    let out = "";
    let timer: NodeJS.Timeout;
    const done = (suffix = "") => {
      clearTimeout(timer);
      s.destroy();
      resolve(out + suffix);
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => done(), quietMs);
    };
    s.on("connect", () => {
      s.write(script);
      arm();
    });
    s.on("data", (d) => {
      out += d.toString("latin1");
      arm();
    });
    s.on("close", () => done("<closed>"));
    s.on("error", () => {});
  });
}

const normalise = (s: string) =>
  s.replace(/^(VALUE \S+ \d+ \d+) \d+\r\n/gm, "$1 <cas>\r\n").replace(/ c\d+/g, " c<cas>");

const scripts: Record<string, string | Buffer> = {
  "unknown command": "bogus\r\n",
  "empty line": "\r\n",
  "set/get/gets": "set a 5 0 3\r\nxyz\r\nget a\r\ngets a\r\nget a b a\r\n",
  "add/replace":
    "add a 0 0 1\r\n1\r\nadd a 0 0 1\r\n2\r\nreplace a 0 0 1\r\n3\r\nreplace zz 0 0 1\r\n4\r\nget a\r\n",
  "append/prepend":
    "set a 0 0 1\r\nb\r\nappend a 0 0 1\r\nc\r\nprepend a 0 0 1\r\na\r\nappend zz 0 0 1\r\nx\r\nget a\r\n",
  "cas missing": "cas nope 0 0 1 1\r\nx\r\n",
  delete: "set d 0 0 1\r\nx\r\ndelete d\r\ndelete d\r\ndelete d 0\r\ndelete d noreply\r\nget d\r\n",
  "incr/decr":
    "set n 0 0 2\r\n99\r\nincr n 1\r\ndecr n 1000\r\nincr n 18446744073709551615\r\nincr n 1\r\nincr n abc\r\nincr nope 1\r\nset s 0 0 1\r\nx\r\nincr s 1\r\n",
  "incr wraps at 2^64": "set w 0 0 20\r\n18446744073709551615\r\nincr w 2\r\n",
  // do_add_delta writes a result that fits in place, padded with spaces to the old length.
  "incr/decr keep the value's width":
    "set w 0 0 20\r\n18446744073709551615\r\nincr w 1\r\nget w\r\nincr w 5\r\nget w\r\n" +
    "set a 0 0 3\r\n100\r\ndecr a 95\r\nget a\r\nincr a 1000\r\nget a\r\n" +
    "ma w v\r\nmg w v\r\n",
  // safe_strtoull: leading whitespace, a sign, digits ending at whitespace or the value's end.
  "incr reads the value as strtoull":
    "set c 0 0 3\r\n 12\r\nincr c 1\r\nget c\r\nset d 0 0 5\r\n12 34\r\nincr d 1\r\nget d\r\n" +
    "set e 0 0 3\r\n\t\r7\r\nincr e 1\r\nget e\r\nset f 0 0 2\r\n-0\r\nincr f 1\r\n" +
    "set g 0 0 2\r\n+5\r\nincr g 1\r\nset h 0 0 2\r\n  \r\nincr h 1\r\nset i 0 0 2\r\n-1\r\nincr i 1\r\n" +
    "set j 0 0 5\r\n12abc\r\nincr j 1\r\nset k 0 0 21\r\n-18446744073709551615\r\nincr k 1\r\n" +
    "set l 0 0 20\r\n-9223372036854775808\r\nincr l 1\r\nset m 0 0 20\r\n-9223372036854775809\r\ndecr m 1\r\n" +
    "set n 0 0 4\r\n7\u0000xy\r\nincr n 1\r\nset o 0 0 3\r\n 12\r\nma o v\r\n",
  // memcached reads the command line as a C string: it ends at the first NUL.
  "NUL and control characters in a command line":
    "get \u0000\r\nset a 0 0 1\r\nx\r\nget a\u0000b\r\nset a\u0000b 0 0 1\r\nx\r\n" +
    "delete \u0000\r\nincr \u0000 1\r\ntouch \u0000 1\r\ngets \u0000\r\nmg \u0000 v\r\n" +
    "get ok \u0000\r\n\u0000\r\nget\u0000\r\nset \u0001 0 0 1\r\ny\r\nget \u0001\r\nget a\u007fb a\tb\r\n" +
    "verbosity 1\u0000junk\r\nmn\r\n",
  noreply: "set q 0 0 1 noreply\r\nx\r\nadd q 0 0 1 noreply\r\ny\r\nincr q 1 noreply\r\nget q\r\n",
  "touch and gat":
    "set t 0 0 1\r\nx\r\ntouch t 100\r\ntouch nope 1\r\ngat 100 t nope\r\ngats 0 t\r\n",
  "negative exptime": "set e 0 -1 1\r\nx\r\nget e\r\n",
  flush_all: "set f 0 0 1\r\nx\r\nflush_all\r\nget f\r\nflush_all 0\r\nflush_all noreply\r\n",
  verbosity: "verbosity 1\r\nverbosity\r\nverbosity 1 noreply\r\n",
  "bad data chunk": "set k 0 0 5\r\nhelloXX\r\nget k\r\n",
  "bad command line": "set k 0 0 abc\r\nset k\r\nget\r\ntouch n\r\n",
  "key too long": `get ${"k".repeat(251)}\r\nset ${"k".repeat(251)} 0 0 1\r\nx\r\n`,
  "key of 250 bytes": `set ${"k".repeat(250)} 0 0 1\r\nx\r\nget ${"k".repeat(250)}\r\n`,
  "object too large": Buffer.concat([
    Buffer.from("set big 0 0 2000000\r\n"),
    Buffer.alloc(2_000_000, 0x61),
    Buffer.from("\r\nget big\r\n"),
  ]),
  "meta basics":
    "mn\r\nmg foo v\r\nms foo 2\r\nhi\r\nmg foo v f\r\nma foo\r\nmd foo q\r\nmg foo\r\nmn\r\n",
  "meta flags":
    "ms m 2 T0 F5\r\nab\r\nmg m s v f k\r\nmg m O123 q\r\nmg missing O9 q\r\nmn\r\nma cnt N0 J13 v\r\nma cnt v D5 MD\r\n",
  "meta modes":
    "ms x 1 MA\r\ny\r\nms x 1 ME\r\na\r\nms x 1 MA\r\nb\r\nms x 1 MP\r\nc\r\nmg x v\r\nms x 1 MR\r\nd\r\nmg x v\r\n",
  quit: "set z 0 0 1\r\nx\r\nquit\r\nget z\r\n",
};

describe("keepcache node answers exactly as memcached 1.6", () => {
  let mcPort: number;
  let kcPort: number;
  before(async () => {
    mcPort = await freePort();
    await startMemcached(mcPort);
    kcPort = (await startNode()).port;
  });
  after(stopAll);

  for (const [name, script] of Object.entries(scripts)) {
    test(name, async () => {
      const buf = typeof script === "string" ? Buffer.from(script, "latin1") : script;
      // Start both from an empty cache so earlier scripts cannot leak into this one.
      await exchange(mcPort, Buffer.from("flush_all\r\n"));
      await exchange(kcPort, Buffer.from("flush_all\r\n"));
      const [want, got] = await Promise.all([exchange(mcPort, buf), exchange(kcPort, buf)]);
      assert.equal(normalise(got), normalise(want));
    });
  }
});
