/* test_intadd.c: the interpreter's integer add and mul (TFLite's quantized
 * Add and Mul) against values worked through the formula by hand, one
 * broadcast case, and the diagnostics of a node without its attributes.
 *
 * Every case: input 1 scale 0.5 zero point 2, input 2 scale 0.25 zero
 * point -1, output scale 0.5 zero point 5, i8.  The multipliers, from
 * TFLite's derivation with left_shift 20 (ir_requant_multiplier: mult in
 * [2^30, 2^31), real = mult * 2^(shift - 31)):
 *   add: twice_max = 2 * max(0.5, 0.25) = 1
 *        input 1: 0.5 / 1 = 0.5           -> mult 2^30, shift 0
 *        input 2: 0.25 / 1 = 0.25         -> mult 2^30, shift -1
 *        output:  1 / (2^20 * 0.5) = 2^-19 -> mult 2^30, shift -18
 *   mul: 0.5 * 0.25 / 0.5 = 0.25          -> mult 2^30, shift -1 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ir.h"

#define M30 (1 << 30)

static ir_value *qvalue(ir_graph *g, const char *name, int rank, const int64_t *d, float scale,
                        int32_t zp)
{
	ir_shape s = ir_shape_make(rank, d);
	ir_value *v = ir_graph_add_value(g, name, IR_DT_I8, &s);
	v->quant = ir_quant_act_create(g, IR_DT_I8, -1, 1);
	assert_non_null(v->quant);
	v->quant->scale[0] = scale;
	v->quant->zero_point[0] = zp;
	return v;
}

/* y = op(a, b) with a [na], b [nb] (rank 1; nrows > 0 makes a [nrows, na
 * / nrows]); rq: whether to set the attributes.  The output goes to y
 * (ny elements), the diagnostics to msg.  Returns ir_interp_run's status,
 * or -1 when inference fails. */
static int run_op(ir_op op, const int8_t *a, int64_t na, int64_t nrows, const int8_t *b,
                  int64_t nb, bool rq, int8_t *y, int64_t ny, char *msg, size_t nmsg)
{
	ir_graph *g = ir_graph_create("t");
	int64_t da[2] = {nrows > 0 ? nrows : na, nrows > 0 ? na / nrows : 0};
	int ra = nrows > 0 ? 2 : 1;
	ir_value *va = qvalue(g, "a", ra, da, 0.5f, 2);
	ir_value *vb = qvalue(g, "b", 1, &nb, 0.25f, -1);
	ir_graph_add_input(g, va);
	ir_graph_add_input(g, vb);
	ir_value *vy = ir_graph_add_value(g, "y", IR_DT_UNDEF, NULL);
	vy->quant = ir_quant_act_create(g, IR_DT_I8, -1, 1);
	assert_non_null(vy->quant);
	vy->quant->scale[0] = 0.5f;
	vy->quant->zero_point[0] = 5;
	ir_value *ins[2] = {va, vb};
	ir_node *n = ir_graph_add_node(g, op, "A", 2, ins, 1, &vy);
	if (rq && op == IR_OP_ADD) {
		int64_t m[3] = {M30, M30, M30}, s[3] = {0, -1, -18};
		ir_node_set_ints(g, n, "rq_mult", m, 3);
		ir_node_set_ints(g, n, "rq_shift", s, 3);
		ir_node_set_int(g, n, "left_shift", 20);
	} else if (rq) {
		int64_t m = M30, s = -1;
		ir_node_set_ints(g, n, "rq_mult", &m, 1);
		ir_node_set_ints(g, n, "rq_shift", &s, 1);
	}
	ir_graph_add_output(g, vy);
	diag_sink ds;
	diag_sink_init_capture(&ds);
	int rc = -1;
	if (ir_graph_toposort(g, &ds) == 0 && ir_infer_shapes(g, &ds) == 0) {
		assert_int_equal(vy->dt, IR_DT_I8);
		assert_non_null(vy->quant);
		assert_int_equal(vy->quant->zero_point[0], 5);
		assert_int_equal(ir_shape_numel(&vy->shape), ny);
		ir_tensor in[2] = {{IR_DT_I8, va->shape, (void *)a}, {IR_DT_I8, vb->shape, (void *)b}};
		ir_tensor out;
		rc = ir_interp_run(g, in, &out, &ds);
		if (rc == 0) {
			assert_int_equal(out.dt, IR_DT_I8);
			memcpy(y, out.data, (size_t)ny);
			ir_tensor_free(&out);
		}
	}
	snprintf(msg, nmsg, "%s", ds.buf ? ds.buf : "");
	diag_sink_fini(&ds);
	ir_graph_destroy(g);
	return rc;
}

/* add: a = R((q1 - 2) << 20, 2^30, 0), b = R((q2 + 1) << 20, 2^30, -1),
 * y = sat(R(a + b, 2^30, -18) + 5). */
static void test_intadd_add(void **state)
{
	(void)state;
	char msg[512];
	static const int8_t q1[5] = {10, 3, 1, 127, 2};
	static const int8_t q2[5] = {-3, 0, -2, 127, -1};
	int8_t y[5];
	assert_int_equal(run_op(IR_OP_ADD, q1, 5, 0, q2, 5, true, y, 5, msg, sizeof msg), 0);
	/* [0] d1 8 (real 4), d2 -2 (real -0.5): 8<<20 = 8388608 -> 4194304;
	 *     -2<<20 = -2097152 -> high mul -1048576, >>1 -> -524288; sum
	 *     3670016 -> high mul 1835008, / 2^18 = 7 exactly; 7 + 5 = 12
	 *     (real 3.5 = 7 * 0.5) */
	assert_int_equal(y[0], 12);
	/* [1] d1 1, d2 1 (0.5 + 0.25 = 0.75 = 1.5 steps): 2^20 -> 2^19;
	 *     2^20 -> 2^19 -> 2^18; sum 786432 -> 393216, / 2^18 = 1.5,
	 *     rounded half away from zero: 2; 2 + 5 = 7 */
	assert_int_equal(y[1], 7);
	/* [2] d1 -1, d2 -1 (-0.75): -2^19 and -2^18 (the high multiply is
	 *     exact), sum -786432 -> -393216, / 2^18 = -1.5 -> -2; 3 */
	assert_int_equal(y[2], 3);
	/* [3] d1 125 (62.5), d2 128 (32): 65536000 + 33554432 = 99090432
	 *     -> 49545216, / 2^18 = 189 exactly; 194 saturates to 127 */
	assert_int_equal(y[3], 127);
	/* [4] both at their zero points: 0 + 5 = 5 */
	assert_int_equal(y[4], 5);
}

/* mul: y = sat(R((q1 - 2) * (q2 + 1), 2^30, -1) + 5); R first rounds the
 * high multiply (x / 2) half up, then shifts (/ 2) half away from zero:
 * TFLite's double rounding. */
static void test_intadd_mul(void **state)
{
	(void)state;
	char msg[512];
	static const int8_t q1[5] = {10, 5, -1, 127, -100};
	static const int8_t q2[5] = {-3, 0, 0, 127, -1};
	int8_t y[5];
	assert_int_equal(run_op(IR_OP_MUL, q1, 5, 0, q2, 5, true, y, 5, msg, sizeof msg), 0);
	/* [0] 8 * -2 = -16: high mul -8, >>1 -4; -4 + 5 = 1 (real 4 * -0.5
	 *     = -2 = -4 * 0.5) */
	assert_int_equal(y[0], 1);
	/* [1] 3 * 1 = 3 (real 0.75 = 1.5 steps): high mul 1.5 -> 2 (half
	 *     up), 2 / 2 = 1; 6 */
	assert_int_equal(y[1], 6);
	/* [2] -3 * 1 = -3: high mul -1.5 -> -1 (half up), -1 / 2 = -0.5
	 *     rounds away from zero only above the half: -1 >> 1 = -1,
	 *     remainder 1 is not above the threshold 1 -> -1; 4 */
	assert_int_equal(y[2], 4);
	/* [3] 125 * 128 = 16000 -> 8000 -> 4000; saturates to 127 */
	assert_int_equal(y[3], 127);
	/* [4] -102 * 0 = 0; 5 */
	assert_int_equal(y[4], 5);
}

/* a [2,2] against b [2]: b runs along the last axis of each row. */
static void test_intadd_broadcast(void **state)
{
	(void)state;
	char msg[512];
	static const int8_t q1[4] = {10, 3, 1, 127}; /* d1: 8, 1, -1, 125 */
	static const int8_t q2[2] = {-3, 0};         /* d2: -2, 1 */
	int8_t y[4];
	assert_int_equal(run_op(IR_OP_ADD, q1, 4, 2, q2, 2, true, y, 4, msg, sizeof msg), 0);
	/* (8,-2) 12 as above; (1,1) 7 as above; (-1,-2): -2^19 + -2^19 =
	 * -2^20 -> -2^19, / 2^18 = -2; 3; (125,1): 65536000 + 262144 =
	 * 65798144 -> 32899072, / 2^18 = 125.5 -> 126; 131 saturates */
	static const int8_t want_add[4] = {12, 7, 3, 127};
	assert_memory_equal(y, want_add, 4);
	assert_int_equal(run_op(IR_OP_MUL, q1, 4, 2, q2, 2, true, y, 4, msg, sizeof msg), 0);
	/* (8,-2) -16 -> 1; (1,1) 1: high mul 0.5 -> 1, 1 / 2 = 0.5 -> 1; 6;
	 * (-1,-2) 2 -> 1 -> 0.5 -> 1; 6; (125,1) 125 -> 62.5 -> 63, 31.5 ->
	 * 32; 37 (the real 31.25 rounds twice up) */
	static const int8_t want_mul[4] = {1, 6, 6, 37};
	assert_memory_equal(y, want_mul, 4);
}

/* Without rq_mult/rq_shift the node is refused, naming it; plain i8
 * arithmetic (operand 0 without quant) is untouched elsewhere. */
static void test_intadd_missing_attrs(void **state)
{
	(void)state;
	char msg[512];
	static const int8_t q[2] = {1, 2};
	int8_t y[2];
	assert_int_equal(run_op(IR_OP_ADD, q, 2, 0, q, 2, false, y, 2, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "node 0 'A' (add)"));
	assert_non_null(strstr(msg, "needs rq_mult and rq_shift with 3 entries each"));
	assert_int_equal(run_op(IR_OP_MUL, q, 2, 0, q, 2, false, y, 2, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "node 0 'A' (mul)"));
	assert_non_null(strstr(msg, "needs rq_mult and rq_shift with 1 entry each"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intadd_add),
		cmocka_unit_test(test_intadd_mul),
		cmocka_unit_test(test_intadd_broadcast),
		cmocka_unit_test(test_intadd_missing_attrs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
