#!/bin/bash
# report_html.sh: `qgtc eval --report-html` renders in headless Chromium
# (Debian's chromium) and the rendered DOM holds what the page promises:
# the runs table (this run, FP32, PTQ 8/4/2), the accuracy-vs-bytes plot
# with a point per run, the frontier and a legend, the per-layer
# sensitivity table with a bottleneck (with --flash-budget, each layer's
# bits and bytes as the budget chose them), non-empty weight histograms
# before and after; with --lambda-sweep the sweep curve; no console errors, no
# script and no external resource; a failed write leaves nothing behind.
# usage: report_html.sh QGTC [SOURCE_DIR] [DATA_DIR]
set -u
QGTC=${1:?usage: report_html.sh QGTC [SOURCE_DIR] [DATA_DIR]}
SRC=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
DATA=${3:-/usr/share/datasets/fashion-mnist}
MODEL=$SRC/examples/fashion_cnn/fashion_cnn.onnx
. "$(dirname "$0")/../skip.sh"
[ -r "$DATA/train-images-idx3-ubyte.gz" ] || [ -r "$DATA/train-images-idx3-ubyte" ] ||
	skip_test "report_html: $DATA not found"
CHROMIUM=$(command -v chromium || command -v chromium-browser) || skip_test "report_html: no chromium"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
render() { # page -> $tmp/dom.html, console lines in $tmp/console.log
	HOME=$tmp timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
		--user-data-dir="$tmp/profile" --dump-dom "file://$1" >"$tmp/dom.html" 2>"$tmp/chromium.err"
	local rc=$?
	grep -E "CONSOLE|Uncaught" "$tmp/chromium.err" >"$tmp/console.log"
	return $rc
}

"$QGTC" eval "$MODEL" --data "$DATA" --limit 500 --engine native -b 2 --qgt --max-steps 60 \
	--report-html "$tmp/report.html" >"$tmp/eval.log" 2>&1 || { cat "$tmp/eval.log"; bad "eval --report-html"; }
render "$tmp/report.html" || bad "chromium could not render the page (rc $?)"
[ -s "$tmp/console.log" ] && { cat "$tmp/console.log"; bad "console messages while rendering"; }
/usr/bin/python3 - "$tmp/dom.html" "$tmp/report.html" <<'PY' || bad "the rendered page"
import sys
from html.parser import HTMLParser

class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.stack = []; s.svgs = []; s.tables = {}; s.cur = None; s.rows = None
        s.text = []; s.tags = set()
    def handle_starttag(s, tag, attrs):
        a = dict(attrs); s.tags.add(tag)
        if tag == "svg":
            s.cur = {"id": a.get("id"), "cls": a.get("class"), "circles": 0, "bars": 0, "legend": 0,
                     "lines": 0, "texts": 0, "frontier": 0}; s.svgs.append(s.cur)
        elif s.cur is not None:
            if tag == "circle" and a.get("class") == "pt": s.cur["circles"] += 1
            if tag == "rect" and a.get("class") == "bar": s.cur["bars"] += 1
            if tag == "g" and a.get("class") == "legend": s.cur["legend"] += 1
            if tag == "polyline": s.cur["frontier"] += 1
            if tag == "text": s.cur["texts"] += 1
        if tag == "table": s.rows = s.tables.setdefault(a.get("id"), [])
        if tag == "tr" and s.rows is not None: s.rows.append(a.get("class") or "")
    def handle_endtag(s, tag):
        if tag == "svg": s.cur = None
        if tag == "table": s.rows = None

dom = P(); dom.feed(open(sys.argv[1]).read())
src = open(sys.argv[2]).read()
pareto = [v for v in dom.svgs if v["id"] == "pareto"]
assert len(pareto) == 1, "no accuracy-vs-bytes plot"
p = pareto[0]
assert p["circles"] == 5 and p["frontier"] == 1 and p["legend"] >= 3 and p["texts"] > 10, p
hists = [v for v in dom.svgs if v["cls"] == "hist"]
assert len(hists) == 8 and all(h["bars"] > 0 for h in hists), hists
assert len(dom.tables.get("runs", [])) == 6, dom.tables          # header + 5 runs
layers = dom.tables.get("layers", [])
assert len(layers) == 5 and layers.count("bottleneck") >= 1, layers
for bad in ("<script", "<link", "<img", "src=", "@import", "url("):
    assert bad not in src, "external resource or script: " + bad
PY

"$QGTC" eval "$MODEL" --data "$DATA" --limit 300 --engine native -b 2 --lambda-sweep 0.5:5:2 --max-steps 20 \
	--report-html "$tmp/sweep.html" >"$tmp/sweep.log" 2>&1 || { cat "$tmp/sweep.log"; bad "--lambda-sweep --report-html"; }
render "$tmp/sweep.html" || bad "chromium could not render the sweep page"
/usr/bin/python3 - "$tmp/dom.html" <<'PY' || bad "the sweep page has no sweep curve of 2 points"
import re, sys
dom = open(sys.argv[1]).read()
m = re.search(r'<svg id="sweep".*?</svg>', dom, re.S)
assert m and m.group(0).count('class="pt"') == 2 and "<polyline" in m.group(0)
PY

# With --flash-budget the sensitivity table's bits and bytes are each
# layer's as the budget chose them (the widths differ; one bit is binary),
# and their bytes are the size report's for the same run.
"$QGTC" eval "$MODEL" --data "$DATA" --limit 200 --engine native --flash-budget 6K --qgt --max-steps 20 \
	--report-html "$tmp/budget.html" --report-json "$tmp/budget.json" >"$tmp/budget.log" 2>&1 ||
	{ cat "$tmp/budget.log"; bad "--flash-budget --report-html"; }
render "$tmp/budget.html" || bad "chromium could not render the budget page"
/usr/bin/python3 - "$tmp/dom.html" "$tmp/budget.json" <<'PY' || bad "the budget page's per-layer bits and bytes"
import json, re, sys
dom = open(sys.argv[1]).read()
t = re.search(r'<table id="layers">(.*?)</table>', dom, re.S).group(1)
assert "bits chosen" in t, t
rows = [re.findall(r"<td>(.*?)</td>", r) for r in re.findall(r"<tr[^>]*>(.*?)</tr>", t, re.S)[1:]]
rep = {l["weight"]: l for l in json.load(open(sys.argv[2]))["layers"]}
print("budget page:", [(r[0], r[3], r[4]) for r in rows])
assert len(rows) == 4 and len({r[3] for r in rows}) > 1, rows
for r in rows:
    l = rep[r[0]]
    want = str(l["bits"]) + ("" if l["scheme"] == "affine" else " " + l["scheme"])
    assert r[3] == want and int(r[4]) == l["packed_bytes"] + l["qparam_bytes"], (r, l)
PY

# --report-points: the runs shown beside this one; a malformed file fails
# before any work and writes nothing.
printf 'FP32\tfp32\t97576\t90.33\nPTQ 2-bit\tptq\t6731\t50.63\nQGT 4-bit\tqgt\t12713\t90.10\n' >"$tmp/good.tsv"
"$QGTC" eval "$MODEL" --data "$DATA" --limit 200 -b 2 --report-html "$tmp/pts.html" \
	--report-points "$tmp/good.tsv" >"$tmp/pts.log" 2>&1 || { cat "$tmp/pts.log"; bad "--report-points"; }
render "$tmp/pts.html" || bad "chromium could not render the points page"
/usr/bin/python3 - "$tmp/dom.html" <<'PY' || bad "the points page: 4 runs expected in the plot and the table"
import re, sys
dom = open(sys.argv[1]).read()
m = re.search(r'<svg id="pareto".*?</svg>', dom, re.S)
assert m and m.group(0).count('class="pt"') == 4
t = re.search(r'<table id="runs">.*?</table>', dom, re.S)
assert t and t.group(0).count("<tr") == 5 and "QGT 4-bit" in t.group(0)
PY
printf 'FP32\tfp32\t97576\t90.33\nnot a point\n' >"$tmp/bad.tsv"
"$QGTC" eval "$MODEL" --data "$DATA" --limit 200 -b 2 --report-html "$tmp/badpts.html" \
	--report-points "$tmp/bad.tsv" >"$tmp/badpts.log" 2>&1
[ $? -eq 1 ] && grep -q "bad.tsv: error: line 2: expected LABEL" "$tmp/badpts.log" && ! grep -q "^top-1" "$tmp/badpts.log" &&
	[ ! -e "$tmp/badpts.html" ] || { cat "$tmp/badpts.log"; bad "a malformed --report-points file"; }

mkdir "$tmp/ro" && chmod 500 "$tmp/ro"
if [ "$(id -u)" != 0 ]; then
	"$QGTC" eval "$MODEL" --data "$DATA" --limit 100 -b 4 --report-html "$tmp/ro/r.html" >"$tmp/ro.log" 2>&1
	[ $? -eq 1 ] && grep -q "cannot open" "$tmp/ro.log" && [ -z "$(ls "$tmp/ro")" ] || bad "an unwritable report path"
fi
"$QGTC" eval "$MODEL" --data "$DATA" --limit 100 -b 4 --report-html "$tmp/no-such-dir/r.html" >"$tmp/nd.log" 2>&1
[ $? -eq 1 ] && grep -q "cannot open" "$tmp/nd.log" || { cat "$tmp/nd.log"; bad "a report path in a missing directory"; }
[ $fail -eq 0 ] && echo "report_html: all checks passed"
exit $fail
