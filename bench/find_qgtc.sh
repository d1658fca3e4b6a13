# find_qgtc.sh: sourced by the benchmark scripts.  find_qgtc NAME [QGTC]
# sets qgtc to QGTC, or to the first built qgtc of the repository ($root),
# and exits 2 naming the script NAME when there is none.
find_qgtc() {
  qgtc=${2:-}
  if [ -z "$qgtc" ]; then
    for c in "$root/build/tools/qgtc" "$root/build-sp/tools/qgtc"; do
      [ -x "$c" ] && qgtc=$c && break
    done
  fi
  [ -x "${qgtc:-}" ] || { echo "$1: no qgtc binary (pass its path)" >&2; exit 2; }
}
