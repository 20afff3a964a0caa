// Protocol Buffers wire format, writing side only: the ONNX export needs a handful of message types
// and no reading, so a few dozen lines replace a code generator and a runtime dependency.
// Repeated scalars are written unpacked (one tag each), which every proto2 and proto3 reader accepts.

const enum Wire {
  Varint = 0,
  Fixed32 = 5,
  Bytes = 2,
}

export class Message {
  /** Written bytes: tensors kept as the caller's arrays, small fields gathered in `pending`. */
  private readonly parts: Uint8Array[] = [];
  private pending: number[] = [];

  /** A non-negative integer field (int32, int64, enum); exact up to 2^53. */
  int(field: number, value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`protobuf field ${field}: ${value} is not a non-negative integer`);
    this.tag(field, Wire.Varint);
    this.varint(value);
    return this;
  }

  ints(field: number, values: readonly number[]): this {
    for (const v of values) this.int(field, v);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, Wire.Fixed32);
    this.pending.push(...new Uint8Array(new Float32Array([value]).buffer));
    return this;
  }

  string(field: number, value: string): this {
    return this.raw(field, new TextEncoder().encode(value));
  }

  strings(field: number, values: readonly string[]): this {
    for (const v of values) this.string(field, v);
    return this;
  }

  message(field: number, value: Message): this {
    return this.raw(field, value.finish());
  }

  messages(field: number, values: readonly Message[]): this {
    for (const v of values) this.message(field, v);
    return this;
  }

  raw(field: number, value: Uint8Array): this {
    this.tag(field, Wire.Bytes);
    this.varint(value.length);
    this.flush();
    this.parts.push(value);
    return this;
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  private flush(): void {
    if (this.pending.length) this.parts.push(Uint8Array.from(this.pending));
    this.pending = [];
  }

  private tag(field: number, wire: Wire): void {
    this.varint(field * 8 + wire);
  }

  private varint(value: number): void {
    let v = value;
    while (v >= 0x80) {
      this.pending.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.pending.push(v);
  }
}
