# strict_shtest.py: lit's ShTest for qgtc's pass tests (lit.cfg.py), where
# only a run of every RUN line that passes is a pass.  A module of its own
# because lit sends the format to its worker processes by name.

import re

import lit.formats
import lit.Test

# '!' at the start of a command: at the start of the line or after &&, ||,
# ; or |.
BANG = re.compile(r"(?:^|&&|\|\||;|\|)\s*!(?:\s|$)")
RUN = re.compile(r"RUN:(.*)$")


class StrictShTest(lit.formats.ShTest):
    """A RUN line starting a command with '!' is a failure: the shell's '!'
    (like lit's built-in 'not') inverts any non-zero status, a crash
    included.  UNSUPPORTED (REQUIRES/UNSUPPORTED lines) and XFAIL are
    failures too: a test that did not run, or failed as expected, is not
    a pass."""

    def execute(self, test, lit_config):
        with open(test.getSourcePath(), encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                m = RUN.search(line)
                if m and BANG.search(m.group(1)):
                    return lit.Test.Result(
                        lit.Test.FAIL,
                        "line %d: '!' passes when the command crashes: write 'not'\n" % n)
        result = super().execute(test, lit_config)
        if result.code is lit.Test.UNSUPPORTED:
            return lit.Test.Result(
                lit.Test.FAIL, "UNSUPPORTED is a failure in qgtc's pass tests\n" + result.output)
        # lit turns a FAIL into XFAIL (and a PASS into XPASS) after this
        # returns, from the XFAIL lines parsed above or --xfail/LIT_XFAIL:
        # xfail_not stops that.
        if test.xfails:
            test.xfail_not = True
            return lit.Test.Result(
                lit.Test.FAIL, "XFAIL is a failure in qgtc's pass tests\n" + result.output)
        return result
