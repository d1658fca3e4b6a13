#!/usr/bin/env bash
# Install every Debian package qgtc needs to build, test and run its demo.
# Idempotent: prints nothing and exits 0 when everything is already present.
set -euo pipefail

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
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "setup: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
