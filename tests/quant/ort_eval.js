// ort_eval.js: top-1 of an ONNX classifier in ONNX Runtime (onnxruntime-node,
// CPU), on images and labels given as .npy files (float32 [N, ...] already
// normalised, and integer labels [N]).  Prints "ort top-1: P% (C/N)".
// usage: node ort_eval.js MODEL.onnx IMAGES.npy LABELS.npy [BATCH]
// NODE_PATH must reach the node_modules holding onnxruntime-node.
'use strict';
const ort = require('onnxruntime-node');
const {readNpy} = require('./npy.js');


async function main() {
  const [model, imgs, labs, batchArg = '100'] = process.argv.slice(2);
  const x = readNpy(imgs), y = readNpy(labs);
  const sess = await ort.InferenceSession.create(model, {executionProviders: ['cpu']});
  const meta = sess.inputMetadata ? sess.inputMetadata[0] : null;
  const fixed = meta && meta.shape && typeof meta.shape[0] === 'number' ? meta.shape[0] : 0;
  const B = fixed || Number(batchArg);
  const n = x.shape[0], per = x.data.length / n;
  let correct = 0, total = 0;
  for (let s = 0; s + B <= n; s += B) {
    const t = new ort.Tensor('float32', x.data.subarray(s * per, (s + B) * per), [B, ...x.shape.slice(1)]);
    const out = (await sess.run({[sess.inputNames[0]]: t}))[sess.outputNames[0]];
    const k = out.data.length / B;
    for (let i = 0; i < B; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (out.data[i * k + j] > out.data[i * k + best]) best = j;
      if (BigInt(best) === BigInt(y.data[s + i])) correct++;
      total++;
    }
  }
  console.log('ort top-1: ' + (100 * correct / total).toFixed(2) + '% (' + correct + '/' + total + ')');
}
main().catch((e) => { console.error('ort_eval: ' + e.message); process.exit(1); });
