/* qemu_icount.c: a QEMU TCG plugin (API version 1) that counts executed
 * guest instructions, for instruction counts on AArch64 under
 * qemu-aarch64, which has no -icount (`qgtc validate --target aarch64`,
 * bench/icount_a72.sh).  Debian's QEMU 7.2 loads plugins
 * (`qemu-aarch64 -plugin ./libqgtc_icount.so prog`) but ships no
 * qemu-plugin.h, so the few functions used are declared here as QEMU
 * 7.2's include/qemu/qemu-plugin.h defines them.
 *
 * Each translation block adds its instruction count to one counter with
 * an inline add when it starts (no helper call), so the total is exact for
 * blocks that run to their end, which every block of user-mode code
 * without faults does, and identical on every run of a static binary.
 * At exit it prints to stderr
 *     icount: TOTAL
 *     icount-mark K COUNT     (for each mark, in order)
 *     icount-node ID COUNT    (for each node seen, its instructions)
 * where a mark is an executed `hint #85` (a NOP on every Armv8 core): the
 * count then includes the whole block the hint is in, so the difference
 * of two marks placed alike (a call of the same noinline function) is
 * the instructions between them, to within a few.  A node is what an
 * object compiled with `qgtc --profile` runs after `movz xzr, #ID` (a
 * NOP naming node ID) until the next such mark or `hint #85`. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t, struct qemu_plugin_tb *);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t, void *);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int, void *);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t, qemu_plugin_vcpu_tb_trans_cb_t);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *, size_t);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *, enum qemu_plugin_op, void *,
					      uint64_t);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *, qemu_plugin_vcpu_udata_cb_t,
					    enum qemu_plugin_cb_flags, void *);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t, qemu_plugin_udata_cb_t, void *);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

enum { HINT_85 = 0xD503201Fu | (85u << 5), MOVZ_XZR = 0xD280001Fu, MAX_MARKS = 1 << 16, NODES = 1 << 16 };

static uint64_t count, marks[MAX_MARKS], node_count[NODES], node_start;
static size_t nmarks;
static long node = -1; /* the node running since node_start, or -1 */

/* The running node ends here. */
static void node_end(void)
{
	if (node >= 0)
		node_count[node] += count - node_start;
	node = -1;
}

static void on_mark(unsigned int vcpu, void *p)
{
	(void)vcpu;
	(void)p;
	node_end();
	if (nmarks < MAX_MARKS)
		marks[nmarks++] = count;
}

static void on_node(unsigned int vcpu, void *p)
{
	(void)vcpu;
	node_end();
	node = (long)(uintptr_t)p;
	node_start = count;
}

static void on_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	(void)id;
	size_t n = qemu_plugin_tb_n_insns(tb);
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &count, n);
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		uint32_t word;
		if (qemu_plugin_insn_size(insn) != 4)
			continue;
		memcpy(&word, qemu_plugin_insn_data(insn), 4);
		if (word == HINT_85)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark, QEMU_PLUGIN_CB_NO_REGS, NULL);
		else if ((word & 0xFFE0001Fu) == MOVZ_XZR) /* movz xzr, #imm16 (no shift) */
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_node, QEMU_PLUGIN_CB_NO_REGS,
							       (void *)(uintptr_t)((word >> 5) & 0xFFFFu));
	}
}

static void on_exit_(qemu_plugin_id_t id, void *p)
{
	(void)id;
	(void)p;
	fprintf(stderr, "icount: %" PRIu64 "\n", count);
	for (size_t i = 0; i < nmarks; i++)
		fprintf(stderr, "icount-mark %zu %" PRIu64 "\n", i, marks[i]);
	for (size_t i = 0; i < NODES; i++)
		if (node_count[i])
			fprintf(stderr, "icount-node %zu %" PRIu64 "\n", i, node_count[i]);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
							       int argc, char **argv)
{
	(void)info;
	(void)argc;
	(void)argv;
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_trans);
	qemu_plugin_register_atexit_cb(id, on_exit_, NULL);
	return 0;
}
