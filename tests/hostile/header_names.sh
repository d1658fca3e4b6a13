#!/bin/bash
# header_names.sh: graph, input and output names from the model reach the
# generated C header only inside its comments, rendered so that they can
# neither close a comment nor open one: a model whose names hold '*/',
# '/*' and newlines followed by '#define' compiles to a header that
# declares exactly what a harmless one does.
#
# usage: header_names.sh PATH_TO_QGTC SCRATCH_DIR
set -u
QGTC=${1:?usage: header_names.sh QGTC SCRATCH}
T=${2:?scratch dir}
PY=/usr/bin/python3
CC=${CC:-cc}
rm -rf "$T"
mkdir -p "$T" || exit 2
T=$(cd "$T" && pwd)
nfail=0
check() {
	local desc=$1
	shift
	if "$@"; then echo "PASS: $desc"; else echo "FAIL: $desc"; nfail=$((nfail + 1)); fi
}

"$PY" - "$T/names.onnx" <<'PYEOF' || exit 2
import sys
from onnx import TensorProto, helper
x = "x */\n#define INJECTED_INPUT 1\nint injected_input(void); /*"
y = "y */ int injected_output(void); /* \r\n#define INJECTED_OUTPUT 2"
g = helper.make_graph([helper.make_node("Relu", [x], [y], name="relu */ /* \n")],
                      "g */\n#define INJECTED_GRAPH 3\n/* \x01\x7f",
                      [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 4])],
                      [helper.make_tensor_value_info(y, TensorProto.FLOAT, [1, 4])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
open(sys.argv[1], "wb").write(m.SerializeToString())
PYEOF

"$QGTC" "$T/names.onnx" -o "$T/m.o" --name m >"$T/out" 2>"$T/err"
rc=$?
check "a model with hostile names compiles (status $rc)" [ $rc -eq 0 ]
check "no injected text survives outside a comment" \
	eval '! grep -qE "^[[:space:]]*#[[:space:]]*define[[:space:]]+INJECTED|^int injected" "$T/m.h"'

# The header compiles cleanly (no '/*' within a comment either) ...
printf '#include "m.h"\n#include "m.h"\nint main(void) { return 0; }\n' >"$T/use.c"
check "the header compiles with -Wall -Wextra -Werror" \
	"$CC" -std=c11 -Wall -Wextra -Werror -c "$T/use.c" -o "$T/use.o" -I"$T"
# ... defines only M_* macros ...
printf '#include "m.h"\n' >"$T/only.c"
"$CC" -std=c11 -dM -E "$T/only.c" -I"$T" | sort >"$T/with.macros"
"$CC" -std=c11 -dM -E -x c /dev/null | sort >"$T/without.macros"
comm -13 "$T/without.macros" "$T/with.macros" | awk '{print $2}' >"$T/new.macros"
check "every macro the header defines is M_*" eval '! grep -qv "^M_" "$T/new.macros"'
check "the header defines M_ARENA_SIZE" grep -qx 'M_ARENA_SIZE' "$T/new.macros"
# ... and declares m_run only.
"$CC" -std=c11 -E -P "$T/only.c" -I"$T" | tr -s ' \n' ' ' >"$T/decls"
check "the header declares m_run and nothing else" \
	eval '[ "$(sed "s/ *$//" "$T/decls")" = "int m_run(const float *const inputs[], float *const outputs[], void *arena);" ]'

[ $nfail -eq 0 ]
