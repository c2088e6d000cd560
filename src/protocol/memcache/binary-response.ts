/**
 * Resumable framer for binary-protocol responses (magic 0x81, protocol-binary.txt "Response
 * header"): header fields and byte ranges only, the body is never decoded.
 */
import { HEADER_LENGTH, MAGIC_RESPONSE } from "./binary-const.js";
import { ByteQueue, ParseStatus } from "./input.js";

export class BinaryResponse {
  opcode = 0;
  status = 0;
  keyLen = 0;
  extrasLen = 0;
  datatype = 0;
  bodyLen = 0;
  opaque = 0;
  casHi = 0;
  casLo = 0;
  frameStart = 0;
  frameEnd = 0;
  extrasStart = 0;
  keyStart = 0;
  keyEnd = 0;
  valueStart = 0;
  valueEnd = 0;
  error = "";
}

export interface BinaryResponseOptions {
  maxBodyBytes?: number;
}

export class BinaryResponseParser {
  private readonly q = new ByteQueue();
  private readonly maxBody: number;
  private broken = false;

  constructor(opts: BinaryResponseOptions = {}) {
    this.maxBody = opts.maxBodyBytes ?? 1 << 30;
  }

  get buffer(): Buffer {
    return this.q.buf;
  }

  get buffered(): number {
    return this.q.length;
  }

  feed(chunk: Buffer): void {
    if (!this.broken) this.q.feed(chunk);
  }

  next(res: BinaryResponse): ParseStatus {
    const q = this.q;
    if (this.broken || q.length < HEADER_LENGTH) return ParseStatus.NeedMore;
    const b = q.buf;
    const s = q.start;
    const body = b.readUInt32BE(s + 8);
    const keyLen = b.readUInt16BE(s + 2);
    const ext = b[s + 4];
    if (b[s] !== MAGIC_RESPONSE || body > this.maxBody || keyLen + ext > body) {
      this.broken = true;
      res.error = b[s] !== MAGIC_RESPONSE ? "bad response magic" : "bad response body length";
      q.consume(q.end);
      return ParseStatus.Error;
    }
    if (q.end - s < HEADER_LENGTH + body) return ParseStatus.NeedMore;
    res.opcode = b[s + 1];
    res.keyLen = keyLen;
    res.extrasLen = ext;
    res.datatype = b[s + 5];
    res.status = b.readUInt16BE(s + 6);
    res.bodyLen = body;
    res.opaque = b.readUInt32BE(s + 12);
    res.casHi = b.readUInt32BE(s + 16);
    res.casLo = b.readUInt32BE(s + 20);
    res.frameStart = s;
    res.extrasStart = s + HEADER_LENGTH;
    res.keyStart = res.extrasStart + ext;
    res.keyEnd = res.keyStart + keyLen;
    res.valueStart = res.keyEnd;
    res.valueEnd = res.frameEnd = res.extrasStart + body;
    res.error = "";
    q.consume(res.frameEnd);
    return ParseStatus.Ok;
  }
}
