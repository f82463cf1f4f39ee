/**
 * Minimal protobuf wire-format reader (https://protobuf.dev/programming-guides/encoding/).
 * Every read is bounds-checked and throws ProtobufDecodeError, so truncated or garbage input
 * fails fast instead of reading past the end or looping.
 */

export class ProtobufDecodeError extends Error {
  override name = 'ProtobufDecodeError';
}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

const TWO_32 = 4294967296;

export class Reader {
  pos: number;
  /** Low and high 32 bits of the last varint read by varint64(). */
  lo = 0;
  hi = 0;

  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  private fail(what: string): never {
    throw new ProtobufDecodeError(`truncated or malformed protobuf data: ${what} at offset ${this.pos}`);
  }

  /** Reads a varint of up to 10 bytes into lo/hi (two's complement 64-bit). */
  varint64(): void {
    let lo = 0;
    let hi = 0;
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < 10; i++) {
      if (p >= this.end) this.fail('varint runs past the end');
      const b = buf[p++];
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) {
        this.pos = p;
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    this.fail('varint longer than 10 bytes');
  }

  /** A varint as an unsigned 32-bit number (tags, lengths). */
  uint32(): number {
    this.varint64();
    return this.lo;
  }

  /** A length prefix, checked against the remaining bytes. */
  length(): number {
    this.varint64();
    if (this.hi !== 0 || this.lo > this.end - this.pos) this.fail(`length ${this.hi ? '>4GiB' : this.lo} exceeds the remaining ${this.end - this.pos} bytes`);
    return this.lo;
  }

  int32(): number {
    this.varint64();
    return this.lo | 0;
  }

  /** int64 as a JS number (exact up to 2^53, like any JSON number the API server would parse). */
  int64(): number {
    this.varint64();
    return toInt64(this.lo, this.hi);
  }

  /** int64 exactly, for values that must not lose precision (Go durations in nanoseconds). */
  int64Big(): bigint {
    this.varint64();
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo));
  }

  uint64(): number {
    this.varint64();
    return this.hi * TWO_32 + this.lo;
  }

  sint32(): number {
    this.varint64();
    return (this.lo >>> 1) ^ -(this.lo & 1);
  }

  sint64(): number {
    this.varint64();
    // zigzag: (n >>> 1) ^ -(n & 1) on 64 bits
    const neg = this.lo & 1;
    let lo = ((this.lo >>> 1) | (this.hi << 31)) >>> 0;
    let hi = this.hi >>> 1;
    if (neg) {
      lo = ~lo >>> 0;
      hi = ~hi >>> 0;
    }
    return toInt64(lo, hi);
  }

  bool(): boolean {
    this.varint64();
    return this.lo !== 0 || this.hi !== 0;
  }

  fixed32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  sfixed32(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  fixed64(): number {
    this.need(8);
    const v = this.buf.readUInt32LE(this.pos + 4) * TWO_32 + this.buf.readUInt32LE(this.pos);
    this.pos += 8;
    return v;
  }

  sfixed64(): number {
    this.need(8);
    const v = toInt64(this.buf.readUInt32LE(this.pos), this.buf.readUInt32LE(this.pos + 4));
    this.pos += 8;
    return v;
  }

  float(): number {
    this.need(4);
    const v = this.buf.readFloatLE(this.pos);
    this.pos += 4;
    return v;
  }

  double(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A length-delimited payload as a view (no copy). */
  bytes(): Buffer {
    const n = this.length();
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  string(): string {
    const n = this.length();
    const v = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A sub-reader over a length-delimited payload; advances past it. */
  sub(): Reader {
    const n = this.length();
    const r = new Reader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  private need(n: number): void {
    if (this.end - this.pos < n) this.fail(`${n}-byte value runs past the end`);
  }

  /** Skips one field's value of the given wire type (unknown fields are ignored, as upstream does). */
  skip(wireType: number, fieldNo: number, depth = 0): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint64();
        return;
      case WIRE_FIXED64:
        this.need(8);
        this.pos += 8;
        return;
      case WIRE_LEN: {
        const n = this.length(); // read first: `this.pos += this.length()` would add to the old pos
        this.pos += n;
        return;
      }
      case WIRE_FIXED32:
        this.need(4);
        this.pos += 4;
        return;
      case WIRE_START_GROUP: {
        // Deprecated groups never occur in Kubernetes messages; skip them correctly anyway.
        if (depth > 100) this.fail('groups nested too deeply');
        for (;;) {
          if (this.done()) this.fail('unterminated group');
          const tag = this.uint32();
          if ((tag & 7) === WIRE_END_GROUP) {
            if (tag >>> 3 !== fieldNo) this.fail('mismatched end group');
            return;
          }
          this.skip(tag & 7, tag >>> 3, depth + 1);
        }
      }
      default:
        this.fail(`invalid wire type ${wireType}`);
    }
  }
}

/** Two's complement 64-bit (lo, hi) as a JS number. */
function toInt64(lo: number, hi: number): number {
  if (hi & 0x80000000) {
    // negate: ~x + 1
    let nlo = ~lo >>> 0;
    let nhi = ~hi >>> 0;
    nlo = nlo + 1;
    if (nlo > 0xffffffff) {
      nlo = 0;
      nhi = (nhi + 1) >>> 0;
    }
    return -(nhi * TWO_32 + nlo);
  }
  return hi * TWO_32 + lo;
}
