"""calib_npy.py MODEL.onnx OUT.npy: 16 seeded standard-normal inputs shaped
like MODEL's first graph input (batch 16), for `qgtc -a 8 --calib-data`
in the instruction-count benchmarks: the counts do not depend on the data,
only the scales do."""
import sys

import numpy as np
import onnx

g = onnx.load(sys.argv[1]).graph
init = {t.name for t in g.initializer}
x = [i for i in g.input if i.name not in init][0]
shape = [d.dim_value or 1 for d in x.type.tensor_type.shape.dim]
shape[0] = 16
np.save(sys.argv[2], np.random.default_rng(0).standard_normal(shape).astype(np.float32))
