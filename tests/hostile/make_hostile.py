#!/usr/bin/python3
"""make_hostile.py OUTDIR: write malformed ONNX models for the loader's
hostile-input test (tests/unit/test_hostile.c).  Each file has a line in
expected.txt (copied next to them) naming what its diagnostic must say.
Deterministic: the same bytes on every run."""
import os
import random
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

OPSET = [helper.make_opsetid("", 13)]


def model(nodes, inputs, outputs, inits=(), opset=OPSET):
    g = helper.make_graph(nodes, "hostile", inputs, outputs, list(inits))
    return helper.make_model(g, opset_imports=opset, producer_name="make_hostile")


def vi(name, shape, dt=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dt, shape)


def relu_model():
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu0")],
                 [vi("x", [1, 4])], [vi("y", [1, 4])])


def raw_init(name, dims, nbytes, dt=TensorProto.FLOAT):
    t = TensorProto()
    t.name = name
    t.data_type = dt
    t.dims.extend(dims)
    t.raw_data = bytes(nbytes)
    return t


def with_init(init):
    """y = Add(x, w) with initializer w."""
    return model([helper.make_node("Add", ["x", init.name], ["y"], name="add0")],
                 [vi("x", [4])], [vi("y", [4])], [init])


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, payload):  # length-delimited field
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def deep_nesting(depth):
    # ModelProto.graph=7, GraphProto.node=1, NodeProto.attribute=5,
    # AttributeProto.g=6: graph{node{attribute{g{graph...}}}}
    g = b""
    for _ in range(depth):
        g = field(1, field(5, field(6, g)))
    return field(7, g)


def build(out):
    files = {}

    good = relu_model().SerializeToString()

    # a valid model cut inside an initializer's raw_data
    m = with_init(raw_init("w", [4], 16))
    b = m.SerializeToString()
    files["truncated.onnx"] = b[: len(b) // 2]

    rng = random.Random(1234)
    files["random.onnx"] = bytes([0xFF]) + bytes(rng.getrandbits(8) for _ in range(4096))

    files["empty.onnx"] = b""

    files["absurd_dims.onnx"] = with_init(raw_init("w", [4, -3], 0)).SerializeToString()

    files["numel_overflow.onnx"] = with_init(
        raw_init("w", [1 << 31, 1 << 31, 1 << 31], 0)).SerializeToString()

    files["raw_len.onnx"] = with_init(raw_init("w", [4], 10)).SerializeToString()

    files["unknown_name.onnx"] = model(
        [helper.make_node("Add", ["x", "ghost"], ["y"], name="add0")],
        [vi("x", [4])], [vi("y", [4])]).SerializeToString()

    files["unknown_output.onnx"] = model(
        [helper.make_node("Relu", ["x"], ["y"], name="relu0")],
        [vi("x", [4])], [vi("nowhere", [4])]).SerializeToString()

    files["cycle.onnx"] = model(
        [helper.make_node("Add", ["x", "b"], ["a"], name="add0"),
         helper.make_node("Relu", ["a"], ["b"], name="relu1")],
        [vi("x", [4])], [vi("b", [4])]).SerializeToString()

    files["unsupported.onnx"] = model(
        [helper.make_node("FooBar", ["x"], ["a"], name="foo0"),
         helper.make_node("Relu", ["a"], ["y"], name="relu1", bogus=3)],
        [vi("x", [4])], [vi("y", [4])]).SerializeToString()

    ext = TensorProto()
    ext.name = "w"
    ext.data_type = TensorProto.FLOAT
    ext.dims.append(4)
    ext.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "../../etc/passwd"), ("offset", "0"), ("length", "16")):
        e = ext.external_data.add()
        e.key, e.value = k, v
    files["external_escape.onnx"] = with_init(ext).SerializeToString()

    ext.ClearField("external_data")
    e = ext.external_data.add()
    e.key, e.value = "location", "/etc/passwd"
    files["external_absolute.onnx"] = with_init(ext).SerializeToString()

    files["rank9.onnx"] = model(
        [helper.make_node("Relu", ["x"], ["y"])],
        [vi("x", [1] * 9)], [vi("y", [1] * 9)]).SerializeToString()

    files["no_outputs.onnx"] = model(
        [helper.make_node("Relu", ["x"], ["y"])], [vi("x", [4])], []).SerializeToString()

    files["arity.onnx"] = model(
        [helper.make_node("Relu", ["x", "x"], ["y"], name="relu0")],
        [vi("x", [4])], [vi("y", [4])]).SerializeToString()

    files["duplicate.onnx"] = model(
        [helper.make_node("Relu", ["x"], ["y"], name="relu0"),
         helper.make_node("Sigmoid", ["x"], ["y"], name="sig1")],
        [vi("x", [4])], [vi("y", [4])]).SerializeToString()

    files["symbolic.onnx"] = model(
        [helper.make_node("Relu", ["x"], ["y"])],
        [vi("x", ["N", 3, "H", 8])], [vi("y", ["N", 3, "H", 8])]).SerializeToString()

    files["old_opset.onnx"] = model(
        [helper.make_node("Relu", ["x"], ["y"])], [vi("x", [4])], [vi("y", [4])],
        opset=[helper.make_opsetid("", 3)]).SerializeToString()

    files["bad_dtype.onnx"] = with_init(raw_init("w", [4], 32, TensorProto.COMPLEX64)).SerializeToString()
    # doubles are read as f32; one f32 cannot hold is refused
    big = raw_init("w", [4], 32, TensorProto.DOUBLE)
    big.raw_data = np.array([1.0, 2.0, 1e300, 3.0]).astype("<f8").tobytes()
    files["double_range.onnx"] = with_init(big).SerializeToString()

    files["deep.onnx"] = deep_nesting(5000)

    # 12M empty NodeProtos (2 bytes each) would unpack to ~1.5 GB of structs,
    # far past FE_ONNX_MAX_UNPACK_BYTES for 24 MB
    files["message_bomb.onnx"] = field(7, field(1, b"") * 12_000_000)

    kbad = helper.make_node("Conv", ["x", "W"], ["y"], name="conv0", kernel_shape=[3, 3])
    files["kernel_shape.onnx"] = model(
        [kbad], [vi("x", [1, 2, 8, 8])], [vi("y", [1, 4, 4, 4])],
        [raw_init("W", [4, 2, 5, 5], 4 * 2 * 5 * 5 * 4)]).SerializeToString()

    # ONNX's int4 (TensorProto.DataType 22, newer than some onnx
    # packages): two elements to a byte, 5 elements need 3 bytes
    files["int4_raw_len.onnx"] = with_init(raw_init("w", [5], 2, dt=22)).SerializeToString()
    w4 = TensorProto()
    w4.name = "w"
    w4.data_type = 22
    w4.dims.append(5)
    w4.int32_data.extend([300, 1, 0])  # one packed byte per entry
    files["int4_word.onnx"] = with_init(w4).SerializeToString()
    zp8 = TensorProto()
    zp8.name = "zp"
    zp8.data_type = TensorProto.INT8
    zp8.int32_data.append(9)
    sc = helper.make_tensor("s", TensorProto.FLOAT, [], [0.5])
    files["int4_output_dtype.onnx"] = model(
        [helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["y"], name="q0", output_dtype=22)],
        [vi("x", [4])], [vi("y", [4], 22)], [sc, zp8],
        opset=[helper.make_opsetid("", 21)]).SerializeToString()

    # opset-6 legacy broadcast: an axis far below -rank must not grow B's
    # shape past the maximum rank
    bc = helper.make_node("Add", ["x", "b"], ["y"], name="add0", broadcast=1, axis=-100)
    files["broadcast_axis.onnx"] = model(
        [bc], [vi("x", [2, 3]), vi("b", [3])], [vi("y", [2, 3])],
        opset=[helper.make_opsetid("", 6)]).SerializeToString()

    # a zero dim beside two of 2^36: their product overflows int64 in
    # shape inference (a flatten's inner size), so such a tensor is refused
    files["zero_dim_input.onnx"] = model(
        [helper.make_node("Flatten", ["x"], ["y"], name="flat0", axis=1)],
        [vi("x", [0, 1 << 36, 1 << 36])], [vi("y", [0, 0])]).SerializeToString()
    files["zero_dim_init.onnx"] = with_init(raw_init("w", [0, 1 << 36, 1 << 36], 0)).SerializeToString()

    # recurrent layers with what qgtc does not run: clip, other activations
    lw = raw_init("W", [1, 16, 3], 16 * 3 * 4)
    lr = raw_init("R", [1, 16, 4], 16 * 4 * 4)
    files["lstm_clip.onnx"] = model(
        [helper.make_node("LSTM", ["x", "W", "R"], ["y"], name="lstm0", hidden_size=4, clip=3.0)],
        [vi("x", [5, 1, 3])], [vi("y", [5, 1, 1, 4])], [lw, lr]).SerializeToString()
    files["gru_relu.onnx"] = model(
        [helper.make_node("GRU", ["x", "W", "R"], ["y"], name="gru0", hidden_size=4,
                          activations=["Relu", "Tanh"])],
        [vi("x", [5, 1, 3])], [vi("y", [5, 1, 1, 4])],
        [raw_init("W", [1, 12, 3], 12 * 3 * 4), raw_init("R", [1, 12, 4], 12 * 4 * 4)]).SerializeToString()
    # ONNX Runtime's contrib domain: an op qgtc does not take, and a
    # QLinear op without its output zero point
    ms = [helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)]
    files["ms_unknown.onnx"] = model(
        [helper.make_node("FusedConv", ["x", "x"], ["y"], name="fc0", domain="com.microsoft")],
        [vi("x", [1, 4])], [vi("y", [1, 4])], opset=ms).SerializeToString()
    s1 = helper.make_tensor("s", TensorProto.FLOAT, [], [0.1])
    z1 = helper.make_tensor("z", TensorProto.UINT8, [], [0])
    files["qlinear_no_zp.onnx"] = model(
        [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], name="q0"),
         helper.make_node("QLinearSigmoid", ["q", "s", "z", "s"], ["q2"], name="sig0", domain="com.microsoft"),
         helper.make_node("DequantizeLinear", ["q2", "s", "z"], ["y"], name="dq0")],
        [vi("x", [1, 4])], [vi("y", [1, 4])], [s1, z1], opset=ms).SerializeToString()

    assert good
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    here = os.path.dirname(os.path.abspath(__file__))
    shutil.copyfile(os.path.join(here, "expected.txt"), os.path.join(out, "expected.txt"))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_hostile.py OUTDIR")
    os.makedirs(sys.argv[1], exist_ok=True)
    build(sys.argv[1])
