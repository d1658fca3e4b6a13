#!/usr/bin/python3
"""seeds.py [SHARED]: (re)write the fuzz seed corpora in tests/fuzz/corpus/
from the ONNX conformance models in SHARED (default ../shared, beside the
checkout), the .qir tests, the DSL examples, and small .npy and IDX files
made here; and the libFuzzer dictionaries tests/fuzz/{onnx,qir,dsl}.dict
from the identifiers quoted in the parsers' sources (op, attribute and
keyword spellings).  Deterministic; seeds only, so crashers kept in the
corpus (regress-*) are left alone.  Run by hand, not by ctest."""
import glob
import gzip
import io
import os
import re
import shutil
import struct
import sys

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared")
CORPUS = os.path.join(HERE, "corpus")

# One or two of each op family the frontend knows, small files only.
ONNX_NODE = """add_bcast add_int8 averagepool_2d_pads averagepool_2d_ceil basic_conv_with_padding
batchnorm_example clip_default_int8_min concat_3d_axis_negative_2 constant_pad constant_pad_axes
conv_with_autopad_same conv_with_strides_and_asymmetric_padding convinteger_with_padding
convtranspose_group_2 convtranspose_output_shape dequantizelinear_axis dequantizelinear_int4
div_int32_trunc dropout_default_mask edge_pad flatten_negative_axis2 gather_negative_indices
gemm_all_attributes gemm_transposeA globalaveragepool globalmaxpool hardsigmoid hardswish
leakyrelu logsoftmax_axis_0 matmul_4d_1d matmulinteger maxpool_2d_dilations maxpool_2d_uint8
maxpool_3d_default mul_uint8 prelu_broadcast qlinearconv qlinearmatmul_3D_uint8_float32
quantizelinear_axis quantizelinear_int2 quantizelinear_uint4 reduce_mean_negative_axes_keepdims_example
reflect_pad reshape_negative_extended_dims reshape_zero_and_negative_dim
resize_downsample_scales_cubic_antialias resize_tf_crop_and_resize_axes_3_2
resize_upsample_sizes_nearest_floor_align_corners shape_start_1_end_negative_1 softmax_axis_0
squeeze_negative_axes sub_bcast tanh transpose_all_permutations_4 unsqueeze_unsorted_axes
upsample_nearest wrap_pad""".split()
ONNX_TORCH = """test_AvgPool2d_stride test_BatchNorm2d_eval test_Conv1d_groups
test_Conv2d_depthwise_with_multiplier test_ConvTranspose2d test_Linear test_PixelShuffle
test_PReLU_2d_multiparam test_ReflectionPad2d test_Softmax""".split()

DSL_EXTRA = {
    "residual.qgm": """# a residual block used twice
input x: f32[N, 8, 4, 4]
const C = 8
block res(c, k=3) {
    skip = relu
    conv2d(c, kernel=k, pad=(k - 1) / 2)
    batchnorm
    add(skip)
}
repeat 2 { res(C) }
y = res(x, C, k=1) -> last
z = concat(y, x, axis=1)
output z as out
""",
    "hints.qgm": """model m(bits=4, seed=3, init=xavier)
input x: f32[N, 3, 8, 8]
conv2d(8, kernel=[3, 1], bits=2, gran=per_channel, stride=2, pad=same) -> c1
dwconv2d(kernel=3, multiplier=2, pad=[1, 1, 1, 1], dilation=1) -> dw
relu6
avgpool(2, ceil=true, count_pad=true)
conv2d(8, kernel=1, groups=2, bias=false) -> c2
hardswish
flatten
dense(10, gran=per_tensor) -> fc
dropout(p=0.25)
reshape([0, 2, -1])
softmax(axis=-1)
output as probs
""",
    "two_inputs.qgm": """/* two inputs, elementwise and a weight file */
input a: f32[2, 4]
input b: f32[1, 4]
s = add(a, b)
m = mul(s, a) -> prod
sigmoid
tanh
dense(3, weight="w.npy", bias="b.npy")
output
output m as m_out
""",
}


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def npy_bytes(a, version=None):
    buf = io.BytesIO()
    if version is None:
        np.save(buf, a)
    else:
        np.lib.format.write_array(buf, a, version=version)
    return buf.getvalue()


def idx_bytes(a):
    return struct.pack(">BBBB", 0, 0, 8, a.ndim) + b"".join(
        struct.pack(">I", n) for n in a.shape) + a.astype(np.uint8).tobytes()


def frozen(test_dir):
    """The test's model with inputs 1.. turned into initializers holding
    their test data (pads, shapes, scales: most reach the backend only as
    constants); input 0 stays an input."""
    m = onnx.load(os.path.join(test_dir, "model.onnx"))
    g = m.graph
    inits = {i.name for i in g.initializer}
    real = [i for i in g.input if i.name not in inits]
    keep = real[:1]
    for k, vi in enumerate(real[1:], 1):
        pb = os.path.join(test_dir, "test_data_set_0", "input_%d.pb" % k)
        if not os.path.exists(pb):
            keep.append(vi)
            continue
        t = onnx.TensorProto()
        with open(pb, "rb") as f:
            t.ParseFromString(f.read())
        t.name = vi.name
        g.initializer.append(t)
    del g.input[:]
    g.input.extend(keep)
    return m.SerializeToString()


def write_dict(name, sources):
    """Every quoted identifier of the sources, one libFuzzer dict entry each."""
    words = set()
    for src in sources:
        with open(os.path.join(ROOT, src)) as f:
            text = f.read()
        words.update(re.findall(r'"([A-Za-z_][A-Za-z0-9_.]{1,31})[":= (]', text))
        if src.endswith("ops.def"):  # op spellings and attribute names
            words.update(re.findall(r'^OP\(\s*\w+,\s*(\w+),', text, re.M))
            words.update(re.findall(r'[" ](\w+):\w+', text))
        if src.endswith("ir.h"):  # dtype spellings
            words.update(re.findall(r'X\(\w+, "(\w+)"', text))
    with open(os.path.join(HERE, name + ".dict"), "w") as f:
        f.write("# %s.dict: written by seeds.py from %s\n" % (name, " ".join(sources)))
        for w in sorted(words):
            f.write('"%s"\n' % w)


def functions_model():
    """Model-local functions: nested calls, an attribute by reference with a
    default (FunctionProto field 11, IR 9) and an overload (field 13; the
    node's 8), written raw: Debian's onnx predates them."""
    from onnx import helper
    def field(num, payload):
        n, out = len(payload), bytes([num << 3 | 2])
        while True:
            out += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
            n >>= 7
            if not n:
                return out + payload
    def raw(msg, *fields):
        out = type(msg)()
        out.ParseFromString(msg.SerializeToString() + b"".join(fields))
        return out
    lk = helper.make_node("LeakyRelu", ["x"], ["y"])
    a = onnx.AttributeProto()
    a.name, a.ref_attr_name, a.type = "alpha", "alpha", onnx.AttributeProto.FLOAT
    lk.attribute.append(a)
    inner = raw(helper.make_function("f", "Act", ["x"], ["y"], [lk], [helper.make_opsetid("", 13)], []),
                field(11, helper.make_attribute("alpha", 0.2).SerializeToString()), field(13, b"v1"))
    call = raw(helper.make_node("Act", ["x"], ["t"], domain="f"), field(8, b"v1"))
    outer = helper.make_function("f", "Block", ["x"], ["y"], [
        call, helper.make_node("Add", ["t", "x"], ["y"])], [helper.make_opsetid("", 13)], [])
    g = helper.make_graph([helper.make_node("Block", ["x"], ["y"], domain="f")], "g",
                          [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("f", 1)],
                          functions=[inner, outer])
    return m.SerializeToString()


def if_model():
    """An If taken at compile time (frontend/onnx.c take_if): torch's shape
    guard, its then-branch holding a nested If on a constant and an
    initializer of its own."""
    from onnx import helper, numpy_helper
    F = onnx.TensorProto.FLOAT
    def const(name, arr):
        return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(arr), name + "_t"))
    def branch(name, nodes, out, inits=()):
        return helper.make_graph(nodes, name, [], [helper.make_tensor_value_info(out, F, None)], list(inits))
    inner = helper.make_node("If", ["t"], ["in_y"],
                             then_branch=branch("it", [helper.make_node("Add", ["r", "bb"], ["p"])], "p",
                                                [numpy_helper.from_array(np.float32([0.5, -1, 2]), "bb")]),
                             else_branch=branch("ie", [helper.make_node("Neg", ["r"], ["q"])], "q"))
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Shape", ["r"], ["s"]),
             const("k", np.int64(1)), helper.make_node("Gather", ["s", "k"], ["d"], axis=0),
             const("one", np.int64(1)), helper.make_node("Equal", ["d", "one"], ["c"]), const("t", np.bool_(True)),
             helper.make_node("If", ["c"], ["y"],
                              then_branch=branch("then", [const("ax", np.int64([1])),
                                                          helper.make_node("Squeeze", ["r", "ax"], ["y1"])], "y1"),
                              else_branch=branch("else", [inner, helper.make_node("Abs", ["in_y"], ["y2"])], "y2"))]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, [2, 4, 3])],
                          [helper.make_tensor_value_info("y", F, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return m.SerializeToString()


def main():
    write_dict("onnx", ["frontend/onnx.c", "frontend/onnx_ops.c"])
    write_dict("qir", ["ir/ops.def", "ir/parse.c", "ir/types.c", "ir/ir.h"])
    write_dict("dsl", ["frontend/dsl.c", "frontend/dsl_lex.c"])
    for t in ("onnx", "qir", "dsl", "npy", "idx"):
        d = os.path.join(CORPUS, t)
        for f in glob.glob(os.path.join(d, "seed-*")):
            os.remove(f)
    for n in ONNX_NODE:
        put("onnx", "seed-" + n + ".onnx", frozen(os.path.join(SHARED, "onnx-node-tests", "test_" + n)))
    for n in ONNX_TORCH:
        with open(os.path.join(SHARED, "onnx-pytorch-converted-tests", n, "model.onnx"), "rb") as f:
            put("onnx", "seed-" + n[5:] + ".onnx", f.read())

    put("onnx", "seed-local-functions.onnx", functions_model())
    put("onnx", "seed-if.onnx", if_model())

    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "**", "*.qir"), recursive=True)):
        rel = os.path.relpath(p, os.path.join(ROOT, "tests")).replace("/", "-")
        with open(p, "rb") as f:
            put("qir", "seed-" + rel, f.read())

    for p in sorted(glob.glob(os.path.join(ROOT, "examples", "*.qgm"))):
        with open(p) as f:  # no trained weights file in the harness's folder
            text = "".join(l for l in f if not l.startswith("weights "))
        put("dsl", "seed-" + os.path.basename(p), text.encode())
    for n, text in DSL_EXTRA.items():
        put("dsl", "seed-" + n, text.encode())

    rng = np.random.default_rng(14)
    arrays = {
        "f4": rng.standard_normal((2, 3)).astype("<f4"),
        "f8": rng.standard_normal((3,)).astype("<f8"),
        "i1": np.arange(-4, 4, dtype="i1").reshape(2, 2, 2),
        "u1": np.arange(6, dtype="u1"),
        "i2": np.array([-300, 7], dtype="<i2"),
        "u2": np.array([[65535]], dtype="<u2"),
        "i4": np.arange(4, dtype="<i4").reshape(1, 1, 4),
        "i8": np.array([1 << 40, -1], dtype="<i8"),
        "b1": np.array([True, False, True]),
        "scalar": np.array(2.5, dtype="<f4"),
        "empty": np.zeros((0, 3), dtype="<f4"),
        "rank8": np.zeros((1,) * 8, dtype="u1"),
    }
    for n, a in arrays.items():
        put("npy", "seed-" + n + ".npy", npy_bytes(a))
    put("npy", "seed-v2.npy", npy_bytes(arrays["f4"], (2, 0)))
    put("npy", "seed-v3.npy", npy_bytes(arrays["i4"], (3, 0)))

    # IDX: 4-byte little-endian images length, images, labels (fuzz_idx.c)
    img = rng.integers(0, 256, size=(3, 4, 5))
    lab = np.array([0, 9, 3])
    pairs = {
        "plain": (idx_bytes(img), idx_bytes(lab)),
        "gzip": (gzip.compress(idx_bytes(img), mtime=0), gzip.compress(idx_bytes(lab), mtime=0)),
        "mixed": (gzip.compress(idx_bytes(img), mtime=0), idx_bytes(lab)),
        "members": (gzip.compress(idx_bytes(img)[:9], mtime=0) + gzip.compress(idx_bytes(img)[9:], mtime=0),
                    idx_bytes(lab)),
        "one": (idx_bytes(np.array([[[255]]])), idx_bytes(np.array([1]))),
    }
    for n, (a, b) in pairs.items():
        put("idx", "seed-" + n, struct.pack("<I", len(a)) + a + b)


if __name__ == "__main__":
    main()
