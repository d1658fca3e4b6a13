/* tpool.c: a small persistent thread pool for the trainer's parallel
 * loops.  Work is split into fixed contiguous chunks, one per thread, so
 * every run computes the same thing in the same order. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "train_internal.h"

/* Jobs come back to back (one per op, a few dozen per step), each a
 * millisecond or so: a waiting thread polls this many times before it
 * sleeps, since a futex wake-up costs about as much as a small job. */
enum { POOL_SPIN = 4000 };

struct qgt_pool {
	int n;                   /* threads, the caller included */
	pthread_t *th;
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	atomic_uint_fast64_t gen; /* bumped per job */
	atomic_int pending;      /* workers still running the job */
	atomic_bool quit;
	qgt_task_fn fn;          /* the job: written before gen is bumped */
	void *ctx;
	int64_t total;
};

typedef struct {
	qgt_pool *p;
	int tid;
} worker_arg;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static void chunk(int64_t total, int n, int tid, int64_t *lo, int64_t *hi)
{
	int64_t q = total / n, r = total % n;
	*lo = tid * q + (tid < r ? tid : r);
	*hi = *lo + q + (tid < r);
}

static void *worker(void *arg)
{
	worker_arg *wa = arg;
	qgt_pool *p = wa->p;
	int tid = wa->tid;
	free(wa);
	uint64_t seen = 0;
	for (;;) {
		uint64_t g = seen;
		for (int i = 0; i < POOL_SPIN && g == seen && !atomic_load(&p->quit); i++) {
			cpu_relax();
			g = atomic_load_explicit(&p->gen, memory_order_acquire);
		}
		if (g == seen) {
			pthread_mutex_lock(&p->mu);
			while ((g = atomic_load(&p->gen)) == seen && !atomic_load(&p->quit))
				pthread_cond_wait(&p->go, &p->mu);
			pthread_mutex_unlock(&p->mu);
		}
		if (atomic_load(&p->quit))
			return NULL;
		seen = g;
		int64_t lo, hi;
		chunk(p->total, p->n, tid, &lo, &hi);
		if (lo < hi)
			p->fn(p->ctx, tid, lo, hi);
		if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
			/* The caller may be asleep: wake it under the lock, so the
			 * signal cannot fall between its check and its wait. */
			pthread_mutex_lock(&p->mu);
			pthread_cond_signal(&p->done);
			pthread_mutex_unlock(&p->mu);
		}
	}
}

qgt_pool *qgt_pool_create(int nthreads)
{
	qgt_pool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->n = nthreads < 1 ? 1 : nthreads;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->done, NULL);
	atomic_init(&p->gen, 0);
	atomic_init(&p->pending, 0);
	atomic_init(&p->quit, false);
	p->th = calloc((size_t)p->n, sizeof *p->th);
	if (!p->th) {
		free(p);
		return NULL;
	}
	for (int i = 1; i < p->n; i++) {
		worker_arg *wa = malloc(sizeof *wa);
		if (wa) {
			wa->p = p;
			wa->tid = i;
		}
		if (!wa || pthread_create(&p->th[i], NULL, worker, wa)) {
			free(wa);
			p->n = i; /* run with what we have */
			break;
		}
	}
	return p;
}

void qgt_pool_destroy(qgt_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->quit, true);
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (int i = 1; i < p->n; i++)
		pthread_join(p->th[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->go);
	pthread_cond_destroy(&p->done);
	free(p->th);
	free(p);
}

int qgt_pool_size(const qgt_pool *p)
{
	return p->n;
}

void qgt_pool_run(qgt_pool *p, int64_t n, qgt_task_fn fn, void *ctx)
{
	if (p->n == 1 || n < 2) {
		if (n > 0)
			fn(ctx, 0, 0, n);
		return;
	}
	/* Workers are all idle here (the last run waited for them), so the
	 * job's fields are theirs to read once gen moves. */
	p->fn = fn;
	p->ctx = ctx;
	p->total = n;
	atomic_store_explicit(&p->pending, p->n - 1, memory_order_relaxed);
	pthread_mutex_lock(&p->mu);
	atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	int64_t lo, hi;
	chunk(n, p->n, 0, &lo, &hi);
	if (lo < hi)
		fn(ctx, 0, lo, hi);
	for (int i = 0; i < POOL_SPIN && atomic_load_explicit(&p->pending, memory_order_acquire) > 0; i++)
		cpu_relax();
	if (atomic_load_explicit(&p->pending, memory_order_acquire) > 0) {
		pthread_mutex_lock(&p->mu);
		while (atomic_load(&p->pending) > 0)
			pthread_cond_wait(&p->done, &p->mu);
		pthread_mutex_unlock(&p->mu);
	}
}
