// Arrays for use outside the project: NumPy .npy (format 1.0) and safetensors with F32 and I32
// tensors (the checkpoint writer is F32-only and carries run metadata these files do not need).
export interface Array32 {
  shape: number[];
  data: Float32Array | Int32Array;
}

const dtypeOf = (a: Array32) => (a.data instanceof Float32Array ? { npy: '<f4', st: 'F32' } : { npy: '<i4', st: 'I32' });

export function encodeNpy(a: Array32): Uint8Array {
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  const dict = `{'descr': '${dtypeOf(a).npy}', 'fortran_order': False, 'shape': ${shape}, }`;
  // The header (magic, version, length, dict, newline) is padded to a multiple of 64 bytes.
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat(Math.ceil(unpadded / 64) * 64 - unpadded) + '\n';
  const out = new Uint8Array(10 + header.length + a.data.byteLength);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), 10 + header.length);
  return out;
}

export function encodeSafetensors(tensors: Record<string, Array32>, metadata: Record<string, string> = {}): Uint8Array {
  const entries: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    entries[name] = { dtype: dtypeOf(t).st, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const json = JSON.stringify({ __metadata__: metadata, ...entries });
  const headerLength = Math.ceil(Buffer.byteLength(json) / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset).fill(0x20, 8, 8 + headerLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(Buffer.from(json), 8);
  let at = 8 + headerLength;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}
