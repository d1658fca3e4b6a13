// npy.js: read a .npy file (float32, int64, int32 or uint8) for the ONNX
// Runtime scripts here: {shape, data} with data a typed array.
'use strict';
const fs = require('fs');

function readNpy(path) {
  const b = fs.readFileSync(path);
  if (b.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(path + ': not a .npy file');
  const hlen = b[6] === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const off = b[6] === 1 ? 10 + hlen : 12 + hlen;
  const h = b.toString('latin1', off - hlen, off);
  const descr = /'descr': *'([^']*)'/.exec(h)[1];
  const shape = /'shape': *\(([^)]*)\)/.exec(h)[1].split(',').filter((s) => s.trim()).map(Number);
  const raw = b.buffer.slice(b.byteOffset + off, b.byteOffset + b.length);
  const kinds = {'<f4': Float32Array, '<i8': BigInt64Array, '<i4': Int32Array, '|u1': Uint8Array};
  if (!kinds[descr]) throw new Error(path + ': unsupported dtype ' + descr);
  return {shape, data: new kinds[descr](raw)};
}

module.exports = {readNpy};
