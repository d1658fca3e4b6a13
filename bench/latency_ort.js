// latency_ort.js: batch-1 latency of an ONNX model in ONNX Runtime
// (onnxruntime-node, CPU provider, one thread, all graph optimisations).
// Warms up, then times many single run() calls and prints
//     ort: median_us min_us iterations
// usage: node latency_ort.js MODEL.onnx [MIN_SECONDS] [MAX_ITERS]
// NODE_PATH must reach the node_modules holding onnxruntime-node.
'use strict';
const ort = require('onnxruntime-node');

async function main() {
  const [path, minS = '1.0', maxIt = '20000'] = process.argv.slice(2);
  const sess = await ort.InferenceSession.create(path, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const name = sess.inputNames[0];
  const meta = sess.inputMetadata ? sess.inputMetadata[0] : null;
  let dims = meta && meta.shape ? meta.shape.map((d) => (typeof d === 'number' ? d : 1)) : null;
  if (!dims) throw new Error('cannot read the input shape of ' + path);
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = ((s >>> 8) & 0xffff) / 32768 - 1;
  }
  const feeds = { [name]: new ort.Tensor('float32', data, dims) };
  const t0w = process.hrtime.bigint();
  for (let i = 0; i < 1000; i++) {
    await sess.run(feeds);
    if (i >= 10 && Number(process.hrtime.bigint() - t0w) > 0.2e9) break;
  }
  const times = [];
  const limit = Number(maxIt), minNs = Number(minS) * 1e9;
  const t0 = process.hrtime.bigint();
  while (times.length < limit &&
         (times.length < 20 || Number(process.hrtime.bigint() - t0) < minNs)) {
    const a = process.hrtime.bigint();
    await sess.run(feeds);
    times.push(Number(process.hrtime.bigint() - a) / 1e3);
  }
  times.sort((a, b) => a - b);
  console.log(`ort: ${times[times.length >> 1].toFixed(3)} ${times[0].toFixed(3)} ${times.length}`);
}

main().catch((e) => {
  console.error('latency_ort.js: ' + (e && e.message ? e.message : e));
  process.exit(1);
});
