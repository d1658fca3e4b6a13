#!/usr/bin/env bash
# Install every Debian package qgtc needs to build, test and run its demo,
# then ONNX Runtime for Node (npm's onnxruntime-node, for the quant/ort-qdq
# interoperability test) under $QGTC_NODE_PREFIX (default
# /usr/local/lib/qgtc-node), where that test looks first.
# Idempotent: prints nothing and exits 0 when everything is already present.
set -euo pipefail

NODE_PREFIX=${QGTC_NODE_PREFIX:-/usr/local/lib/qgtc-node}
ORT_NODE_VERSION=1.30.0

PKGS=(
  # build
  build-essential cmake ninja-build pkg-config
  llvm-19-dev llvm-19-tools clang-19 lld-19 libclang-rt-19-dev
  libprotobuf-c-dev protobuf-c-compiler libonnx-dev
  lemon libcmocka-dev libopenblas-dev zlib1g-dev
  # cross targets and emulators
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-none-eabi
  libnewlib-arm-none-eabi qemu-user qemu-system-arm
  # real data and independent references (tests and benchmarks only)
  dataset-fashion-mnist python3-numpy python3-onnx python3-torch python3-torchvision
  # headless browser: the HTML report's rendering test
  chromium
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# node and npm (quant/ort-qdq): Debian's nodejs and npm, unless both
# commands are already there (a Node.js from elsewhere bundles its own npm,
# and Debian's npm package would conflict with it)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  for p in nodejs npm; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
fi
ort=$NODE_PREFIX/node_modules/onnxruntime-node
[ ${#missing[@]} -eq 0 ] && [ -f "$ort/package.json" ] && exit 0

SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} package(s): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -f "$ort/package.json" ]; then
  echo "setup: installing onnxruntime-node $ORT_NODE_VERSION from npm into $NODE_PREFIX"
  $SUDO mkdir -p "$NODE_PREFIX"
  # --ignore-scripts: the install script fetches CUDA add-ons; the CPU
  # library ships inside the package.
  $SUDO npm install --prefix "$NODE_PREFIX" --ignore-scripts --no-audit --no-fund --loglevel=error \
    "onnxruntime-node@$ORT_NODE_VERSION" >/dev/null
fi
echo "setup: done"
