# fashion_lib.sh: sourced by the Fashion-MNIST fine-tune tests
# (qgt_fashion.sh, ste_fashion.sh): their arguments, the data check, a
# scratch folder, and the top-1 of `qgtc eval` runs.
# usage, from a test taking QGTC [SOURCE_DIR] [DATA_DIR]:
#   . "$(dirname "$0")/fashion_lib.sh" NAME "$@"
# sets QGTC, SRC, DATA, LIMIT (2000 test images), MODEL (the bundled CNN)
# and tmp (removed on exit); skips (skip.sh) when the data set is missing.

QGTC=${2:?usage: $1.sh QGTC [SOURCE_DIR] [DATA_DIR]}
SRC=${3:-$(cd "$(dirname "$0")/../.." && pwd)}
DATA=${4:-/usr/share/datasets/fashion-mnist}
LIMIT=2000
MODEL=$SRC/examples/fashion_cnn/fashion_cnn.onnx
if [ ! -r "$DATA/train-images-idx3-ubyte.gz" ] && [ ! -r "$DATA/train-images-idx3-ubyte" ]; then
	. "$(dirname "${BASH_SOURCE[0]}")/../skip.sh"
	skip_test "$1: $DATA not found"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

acc() { # name args...: top-1 of $MODEL into $tmp/name, the log in $tmp/name.log
	local n=$1
	shift
	"$QGTC" eval "$MODEL" --data "$DATA" --limit $LIMIT --engine native "$@" >"$tmp/$n.log" 2>&1 ||
		{ cat "$tmp/$n.log" >&2; echo ERR >"$tmp/$n"; return; }
	sed -n 's/^top-1: \([0-9.]*\)%.*/\1/p' "$tmp/$n.log" | tail -1 >"$tmp/$n"
}

# table TITLE NAME...: print the runs' top-1 under TITLE and keep them in
# A[NAME]; exit 1 when one printed no accuracy.
declare -A A
table() {
	local title=$1 k bad=0
	shift
	printf '%-32s %8s\n' "$title" "top-1 %"
	for k in "$@"; do
		A[$k]=$(cat "$tmp/$k")
		printf '%-32s %8s\n' "$k" "${A[$k]}"
		[[ "${A[$k]}" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "FAIL: $k printed no accuracy"; bad=1; }
	done
	[ $bad = 0 ] || exit 1
}
