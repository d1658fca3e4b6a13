#!/usr/bin/env bash
# patch_check.sh: patch-based execution under --ram-budget (passes/patch.c)
# and in-place depthwise convs (passes/memplan.c).
#
#   patch_check.sh QGTC SCRATCH
#
# The models of make_patch_models.py, float and integer (-a 8, 8- and
# 4-bit weights, float and integer inputs).  For each case the arena of
# the whole-layer plan is measured, and the patch pass runs at a fraction
# of it (the fractions make it tile convs, depthwise convs, pools, a
# dilated conv, asymmetric pads and the float input's quantize).  Each
# case checks that:
#   - the pass tiled (its --report memory line) and the arena fits the
#     budget;
#   - the interpreter gives the same bytes on the patched graph as on the
#     whole one (cmp of every output .npy): tiles compute exactly the
#     rows of the layers they stand for;
#   - the patched graph's native code is bit-exact with the interpreter
#     (`qgtc validate`, 4 seeded inputs) on x86-64, AArch64 and Cortex-M4,
#     or within validate's float tolerance for float models.
# In-place depthwise: invres's expanded depthwise convs are its peak;
# memplan runs them in place, and the code is bit-exact on x86-64, AArch64,
# Cortex-M4 and Cortex-M0 (whose portable loops read the operand where
# they write, with no plane copy).
# Then --ram-budget on a compile: the header's arena is within the budget;
# a budget no tiling reaches fails with exit 1, naming the least arena,
# and writes no object or header; a malformed budget is a usage error.
set -u
here=$(cd "$(dirname "$0")" && pwd)
qgtc=${1:?usage: patch_check.sh QGTC SCRATCH}
scratch=${2:?scratch dir}
py=/usr/bin/python3
qgtc=$(cd "$(dirname "$qgtc")" && pwd)/$(basename "$qgtc")
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)
cd "$scratch" || exit 1
rm -rf ./*

$py "$here/make_patch_models.py" models || { echo "FAIL: make_patch_models.py"; exit 1; }
$py - <<'PY' || { echo "FAIL: cannot write the integer inputs"; exit 1; }
import numpy as np
for m, s in (("pools", (1, 2, 33, 17)), ("mbnet", (1, 3, 40, 40))):
    np.save("models/%s_in_i8.npy" % m, np.random.default_rng(7).integers(-128, 128, s).astype(np.int8))
PY

fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}

# check NAME MODEL PERCENT TARGETS [FLAGS...]: patch at PERCENT of the
# whole-layer arena; validate on each of the comma-separated TARGETS.
check() {
	local name=$1 m=$2 pct=$3 targets=$4
	shift 4
	local d=$name cal=() before=$fail
	fail=0
	mkdir -p "$d"
	case " $* " in *" -a "*) cal=(--calib-data "models/${m}_calib.npy") ;; esac
	if ! "$qgtc" "models/$m.onnx" "$@" "${cal[@]}" --emit ir --ir-weights full -o "$d/full.qir" \
	     2> "$d/compile.err"; then
		bad "$name: compile"; cat "$d/compile.err"; return
	fi
	local a0
	a0=$("$qgtc" opt "$d/full.qir" --passes=memplan --report memory -o /dev/null 2>&1 |
	     awk '/^arena:/ { print $2 }')
	[ -n "$a0" ] || { bad "$name: no arena in --report memory"; return; }
	local b=$((a0 * pct / 100))
	if ! "$qgtc" opt "$d/full.qir" --passes=patch --ram-budget "$b" --ir-weights full --report memory \
	     -o "$d/patched.qir" > "$d/report.txt" 2>&1; then
		bad "$name: patch at $b bytes"; cat "$d/report.txt"; return
	fi
	grep -q "run in [0-9]* patches of rows" "$d/report.txt" || { bad "$name: the pass did not tile"; return; }
	local a1
	a1=$(awk '/^arena:/ { print $2 }' "$d/report.txt")
	if [ -z "$a1" ] || [ "$a1" -gt "$b" ] || [ "$a1" -ge "$a0" ]; then
		bad "$name: arena $a1 for a budget of $b (whole layers: $a0)"
	fi
	grep -q "slice(" "$d/patched.qir" && grep -q "concat(" "$d/patched.qir" ||
		bad "$name: no slice/concat in the patched graph"
	local in="models/${m}_in.npy"
	grep -q "^  input %[^:]*: i8" "$d/full.qir" && in="models/${m}_in_i8.npy"
	"$qgtc" run "$d/full.qir" "$in" --output-dir "$d/whole" > /dev/null 2>&1 &&
		"$qgtc" run "$d/patched.qir" "$in" --output-dir "$d/tiles" > /dev/null 2>&1 ||
		{ bad "$name: qgtc run"; return; }
	local n=0 f
	for f in "$d"/whole/*.npy; do
		n=$((n + 1))
		cmp -s "$f" "$d/tiles/$(basename "$f")" || bad "$name: the patched graph computes other bytes ($(basename "$f"))"
	done
	[ "$n" -gt 0 ] || bad "$name: no outputs"
	local int=0 t
	case " $* " in *" -a "*) int=1 ;; esac
	IFS=, read -r -a ts <<< "$targets"
	for t in "${ts[@]}"; do
		if ! "$qgtc" validate "$d/patched.qir" --target "$t" > "$d/validate_$t.txt" 2>&1; then
			bad "$name: validate on $t"; cat "$d/validate_$t.txt"; continue
		fi
		# integer code: every output exact on every input
		if [ $int = 1 ] && { ! grep -q "^  output 0 .*: max |error| 0, bit-exact on 4/4 inputs" \
		                       "$d/validate_$t.txt" ||
		                     grep "^  output " "$d/validate_$t.txt" | grep -vq "max |error| 0, bit-exact on 4/4"; }; then
			bad "$name: not bit-exact on $t"; cat "$d/validate_$t.txt"
		fi
	done
	[ $fail = 0 ] && echo "ok: $name: $(grep -o 'run in .*' "$d/report.txt" | head -1)"
	[ "$before" = 0 ] || fail=1
}

check mbnet-f32 mbnet 50 host,armv7em
check mbnet-int8 mbnet 50 host,aarch64,armv7em -a 8 --io int
check mbnet-w4 mbnet 60 host,aarch64,armv7em -b 4 -a 8 --io int
check pools-f32 pools 60 host,armv7em
# (every layer of pools is integer at -a 8, its leaky relu, sigmoid and
# average pools included, so its whole-layer arena is small already)
check pools-int8 pools 60 host,aarch64,armv7em -a 8 --io int
check pools-quantize pools 50 host,armv7em -a 8

# In-place depthwise convs.  invres's first depthwise conv reads and writes
# 48x24x24 int8 (27,648 B each): apart, the two take 55,296 B; in place,
# the operand's buffer and one output plane (576 B) more.
mkdir -p invres
if "$qgtc" models/invres.onnx -a 8 --io int --calib-data models/invres_calib.npy --emit ir --ir-weights full \
     -o invres/m.qir 2> invres/err && "$qgtc" opt invres/m.qir --passes=memplan --report memory -o /dev/null \
     > invres/report.txt 2>&1; then
	a=$(awk '/^arena:/ { print $2 }' invres/report.txt)
	[ -n "$a" ] && [ "$a" -lt 55296 ] || bad "invres: arena '$a', not below the depthwise conv's 55,296 B"
	grep -q "^ *0 *27648 .* (in place of " invres/report.txt ||
		bad "invres: no depthwise output in place at offset 0"
	for t in host aarch64 armv7em "thumbv6m-none-eabi -mcpu=cortex-m0"; do
		# shellcheck disable=SC2086
		"$qgtc" validate invres/m.qir --target $t > invres/v.txt 2>&1 &&
			grep -q "^  output 0 .*: max |error| 0, bit-exact on 4/4 inputs" invres/v.txt ||
			{ bad "invres: not bit-exact on $t"; cat invres/v.txt; }
	done
	[ $fail = 0 ] && echo "ok: invres: arena $a B with its depthwise convs in place"
else
	bad "invres: compile"; cat invres/err invres/report.txt
fi

# --ram-budget on a compile: the header's arena is within it.
if "$qgtc" models/mbnet.onnx -a 8 --io int --calib-data models/mbnet_calib.npy --ram-budget 5000 \
     --target armv7em -o m.o 2> m.err; then
	arena=$(awk '/_ARENA_SIZE/ { print $3; exit }' m.h)
	[ -n "$arena" ] && [ "$arena" -le 5000 ] || bad "compile --ram-budget 5000: header arena '$arena'"
else
	bad "compile --ram-budget 5000"; cat m.err
fi
# A budget below every tiling: exit 1, the least arena named, nothing written.
"$qgtc" models/mbnet.onnx -a 8 --io int --calib-data models/mbnet_calib.npy --ram-budget 2K \
	--target armv7em -o small.o 2> small.err
rc=$?
[ $rc = 1 ] || bad "a budget no tiling meets: exit $rc, not 1"
grep -q "error: --ram-budget 2048: no patch-based schedule fits; the plan needs [0-9]* bytes without patches, and every tiling of its first layers at least [0-9]*" small.err ||
	{ bad "a budget no tiling meets: message"; cat small.err; }
[ ! -e small.o ] && [ ! -e small.h ] || bad "a budget no tiling meets: an output was written"
# Malformed budgets are usage errors; a --passes list without patch warns.
for v in 0 -4K 12Q ''; do
	"$qgtc" models/mbnet.onnx --ram-budget "$v" --emit ir -o /dev/null 2> v.err
	rc=$?
	[ $rc = 2 ] && grep -q "error: --ram-budget needs a positive byte count" v.err ||
		{ bad "--ram-budget '$v': exit $rc"; cat v.err; }
done
"$qgtc" models/mbnet.onnx --passes=shapes --ram-budget 4K --emit ir -o /dev/null 2> w.err ||
	bad "--passes without patch: failed"
grep -q "warning: --ram-budget: the pipeline (--passes) has no 'patch' pass" w.err || bad "--passes without patch: no warning"
"$qgtc" run models/mbnet.onnx models/mbnet_in.npy --ram-budget 4K > /dev/null 2> r.err
rc=$?
[ $rc = 2 ] && grep -q "option '--ram-budget' applies only to compiling (not to 'qgtc run')" r.err ||
	{ bad "run --ram-budget: exit $rc"; cat r.err; }

[ $fail = 0 ] && echo "patch_check: all passed"
exit $fail
