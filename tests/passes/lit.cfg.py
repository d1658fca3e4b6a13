# lit.cfg.py: LLVM's lit runs the file-driven pass tests (tests/passes/*/*.qir).
# Each '# RUN:' line runs in lit's internal shell with pipefail; ctest runs
# one lit per file (tests/CMakeLists.txt), which passes the paths as
# --param qgtc=... exec_root=... llvm_bin=... python=...
#
# Substitutions: %qgtc (the driver), %python (the Python with numpy),
# FileCheck and not (LLVM's, by absolute path), and lit's own %s, %S, %t.
#
# A command expected to fail is written 'not %qgtc ...'.  The substituted
# 'not' is LLVM's binary, which fails when its command is killed by a
# signal; lit's built-in 'not' (the bare word) and the shell's '!' invert
# any non-zero status, a crash included, so strict_shtest.py fails a RUN
# line that begins a command with '!'.  It fails UNSUPPORTED and XFAIL
# outcomes too: a test that did not run, or failed as expected, is not a
# pass.

import os
import re
import sys

config.name = "qgtc-passes"
config.suffixes = [".qir"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, config.test_source_root)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import strict_shtest  # noqa: E402


def param(name):
    value = lit_config.params.get(name)
    if not value:
        lit_config.fatal("tests/passes: give --param %s=... (ctest does)" % name)
    return value


def executable(path, what):
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        lit_config.fatal("%s '%s' not found (tools/setup.sh installs llvm-19-tools)" % (what, path))
    return path


config.test_exec_root = param("exec_root")
qgtc = executable(param("qgtc"), "qgtc")
python = executable(param("python"), "Python")
llvm_bin = param("llvm_bin")


def word(name):
    """A tool name as a whole word of a RUN line (not part of a path,
    an option or another name)."""
    return r"(?<![\w./%-])" + re.escape(name) + r"(?![\w./-])"


config.substitutions.append(("%qgtc", qgtc))
config.substitutions.append(("%python", python))
for tool in ("FileCheck", "not"):
    config.substitutions.append((word(tool), executable(os.path.join(llvm_bin, tool), tool)))

config.test_format = strict_shtest.StrictShTest(execute_external=False)
