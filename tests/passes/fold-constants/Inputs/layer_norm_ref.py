#!/usr/bin/python3
"""Reference for fold-constants/layer_norm.qir: each output of the graph
from numpy's LayerNorm formula (float64), in output order; prints
'formulas match' when all agree to float rounding.
usage: layer_norm_ref.py X.npy OUTDIR"""
import sys
import numpy as np

x = np.load(sys.argv[1]).astype(np.float64)


def norm(axes, eps, p=2):
    d = x - x.mean(axis=axes, keepdims=True)
    return d / np.sqrt((d ** p).mean(axis=axes, keepdims=True) + eps)


g5 = np.array([0.5, 1.0, 1.5, 2.0, -1.0])
b5 = np.array([0.1, -0.2, 0.3, 0.0, 1.0])
g45 = np.linspace(1.0, 0.1, 10).tolist() + np.linspace(-0.1, -1.0, 10).tolist()
g45 = np.array(g45).reshape(4, 5)
b145 = (np.arange(20) / 10).reshape(1, 4, 5)
g311 = np.array([0.5, 1.0, 2.0]).reshape(3, 1, 1)
d = x - x.mean(axis=-1, keepdims=True)
ref = [norm(-1, 1e-5) * g5 + b5,
       norm((2, 3), 1e-3) * g45 + b145,
       norm(-1, 1e-5) * g311 + b5,
       norm(-1, 1e-5),
       norm(-1, 1e-5) * 1.5 + b5,
       norm(-1, 1e-5),
       (d ** 2).mean(axis=-1, keepdims=True),
       norm(-2, 1e-5),
       norm(-1, 1e-5, 4),
       d / np.sqrt((d ** 2).mean(axis=(-2, -1), keepdims=True) + 1e-5)]
for k, r in enumerate(ref):
    got = np.load('%s/output_%d.npy' % (sys.argv[2], k))
    np.testing.assert_allclose(got, r, rtol=1e-5, atol=1e-5, err_msg='output %d' % k)
print('formulas match')
