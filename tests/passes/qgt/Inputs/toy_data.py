#!/usr/bin/python3
"""toy_data.py DIR: the qgt pass tests' labelled data, as NPY pairs in DIR:
96 4x4 uint8 images in 3 classes, the class setting which half is bright
(none, the top, the bottom); seeded, so every run writes the same files."""
import os
import sys

import numpy as np

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
r = np.random.default_rng(0)
y = r.integers(0, 3, 96)
x = (r.random((96, 4, 4)) * 60).astype(np.uint8)
x[y == 1, :2] += 150
x[y == 2, 2:] += 150
np.save(os.path.join(d, "train_x.npy"), x)
np.save(os.path.join(d, "train_y.npy"), y.astype(np.int64))
