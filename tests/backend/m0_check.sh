#!/bin/bash
# m0_check.sh: the integer path on a Cortex-M0 (thumbv6m: no FPU, no DSP).
# Each QDQ model of make_int_models.py, compiled with --io int for
# cortex-m0, must import no floating-point helper (__aeabi_f*, __aeabi_d*,
# libm) and must link into an image with only libgcc's integer helpers and
# a memcpy/memset of our own: no float library at all.  The header's
# "Link needs" must list exactly the object's imports.
# usage: m0_check.sh QGTC WORKDIR
set -u
QGTC=${1:?usage: m0_check.sh QGTC WORKDIR}
WORK=${2:?usage: m0_check.sh QGTC WORKDIR}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../skip.sh"
CC=arm-none-eabi-gcc
command -v $CC >/dev/null || skip_test "m0_check: $CC not found (tools/setup.sh installs it)"
mkdir -p "$WORK"
/usr/bin/python3 "$HERE/make_int_models.py" "$WORK" >/dev/null || exit 1
cat >"$WORK/stub.c" <<'C'
/* The only library code the image gets besides libgcc: byte copies. */
typedef unsigned long size_t;
void *memcpy(void *d, const void *s, size_t n) { char *p = d; const char *q = s; while (n--) *p++ = *q++; return d; }
void *memset(void *d, int c, size_t n) { char *p = d; while (n--) *p++ = (char)c; return d; }
void __aeabi_memcpy(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memcpy4(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memcpy8(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memset(void *d, size_t n, int c) { memset(d, c, n); }
void __aeabi_memclr(void *d, size_t n) { memset(d, 0, n); }
void __aeabi_memclr4(void *d, size_t n) { memset(d, 0, n); }
void __aeabi_memclr8(void *d, size_t n) { memset(d, 0, n); }
C
fail=0 n=0
for m in "$WORK"/*.onnx; do
	name=$(basename "$m" .onnx)
	# quant_edges checks the float input's quantize, which --io int has not
	[ "$name" = quant_edges ] && continue
	o="$WORK/$name.m0.o"
	if ! "$QGTC" "$m" -a 8 --io int --target thumbv6m-none-eabi -mcpu=cortex-m0 --name "$name" \
		-o "$o" 2>"$WORK/$name.err"; then
		echo "FAIL $name: compile"; cat "$WORK/$name.err"; fail=1; continue
	fi
	bad=$(nm -u "$o" | awk '{print $2}' | grep -Ev '^(memcpy|memset|memmove|__aeabi_mem(cpy|set|clr|move)[48]?|__aeabi_lmul|__aeabi_u?idiv(mod)?|__aeabi_(u)?ldivmod|__aeabi_l(asr|lsl|lsr))$')
	if [ -n "$bad" ]; then
		echo "FAIL $name: the object imports" $bad; fail=1; continue
	fi
	if ! $CC -mcpu=cortex-m0 -mthumb -nostdlib -nostartfiles -Wl,-e,"${name}_run" \
		"$WORK/stub.c" "$o" -lgcc -o "$WORK/$name.elf" 2>"$WORK/$name.lderr"; then
		echo "FAIL $name: link"; cat "$WORK/$name.lderr"; fail=1; continue
	fi
	flt=$(arm-none-eabi-nm "$WORK/$name.elf" | awk '{print $3}' | grep -E '^__aeabi_(f|d|[iul]+2[fd])|^__.*(sf|df)[0-9]?$|^(expf|logf|tanhf|sqrtf)$' || true)
	if [ -n "$flt" ]; then
		echo "FAIL $name: the image holds float code:" $flt; fail=1; continue
	fi
	# the header's "Link needs" lists exactly what the object imports
	# (nm -u, an independent reader), and says no libm
	hdr=$(tr '\n' ' ' <"$WORK/$name.m0.h" | sed -n 's/.*Link needs: the object imports\([^;]*\);.*/\1/p' |
		tr -d '*' | tr -s ' ' '\n' | grep -v '^$' | sort)
	objs=$(nm -u "$o" | awk '{print $2}' | sort)
	if [ "$hdr" != "$objs" ] || ! grep -q '^ \* no libm' "$WORK/$name.m0.h"; then
		echo "FAIL $name: the header's link needs [$(echo $hdr)] are not the object's imports [$(echo $objs)]"
		fail=1; continue
	fi
	echo "ok   $name: $(arm-none-eabi-size -B "$WORK/$name.elf" | awk 'NR==2 {print $1+$2 " bytes flash"}'), imports (as the header says):" $objs
	n=$((n + 1))
done
[ $n -gt 0 ] || { echo "FAIL: no model checked"; fail=1; }
[ $fail = 0 ] && echo "m0_check: ok ($n models)"
exit $fail
