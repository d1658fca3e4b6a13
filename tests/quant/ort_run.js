// ort_run.js: run an ONNX model once in ONNX Runtime (onnxruntime-node,
// CPU) on one float32 input given as .npy and write its first output as a
// float32 .npy.
// usage: node ort_run.js MODEL.onnx X.npy OUT.npy
// NODE_PATH must reach the node_modules holding onnxruntime-node.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');
const {readNpy} = require('./npy.js');

function writeNpy(path, shape, data) {
  let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape.join(', ') +
          (shape.length === 1 ? ',' : '') + '), }';
  while ((10 + h.length + 1) % 64) h += ' ';
  h += '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(h.length, 8);
  fs.writeFileSync(path, Buffer.concat([head, Buffer.from(h, 'latin1'), Buffer.from(new Float32Array(data).buffer)]));
}

async function main() {
  const [model, xp, outp] = process.argv.slice(2);
  const x = readNpy(xp);
  if (!(x.data instanceof Float32Array)) throw new Error(xp + ': not float32');
  const sess = await ort.InferenceSession.create(model, {executionProviders: ['cpu']});
  const out = (await sess.run({[sess.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape)}))[sess.outputNames[0]];
  writeNpy(outp, out.dims, Array.from(out.data, Number));
}

main().catch((e) => { console.error(e.message || e); process.exit(1); });
