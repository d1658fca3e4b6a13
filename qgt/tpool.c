/* tpool.c: a small persistent thread pool for the trainer's parallel
 * loops.  Work is split into fixed contiguous chunks, one per thread, so
 * every run computes the same thing in the same order. */
#include <pthread.h>
#include <stdlib.h>

#include "train_internal.h"

struct qgt_pool {
	int n;                   /* threads, the caller included */
	pthread_t *th;
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	uint64_t gen;            /* bumped per job */
	int pending;             /* workers still running the job */
	bool quit;
	qgt_task_fn fn;
	void *ctx;
	int64_t total;
};

typedef struct {
	qgt_pool *p;
	int tid;
} worker_arg;

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
		pthread_mutex_lock(&p->mu);
		while (p->gen == seen && !p->quit)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->quit) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		seen = p->gen;
		qgt_task_fn fn = p->fn;
		void *ctx = p->ctx;
		int64_t total = p->total;
		pthread_mutex_unlock(&p->mu);
		int64_t lo, hi;
		chunk(total, p->n, tid, &lo, &hi);
		if (lo < hi)
			fn(ctx, tid, lo, hi);
		pthread_mutex_lock(&p->mu);
		if (--p->pending == 0)
			pthread_cond_signal(&p->done);
		pthread_mutex_unlock(&p->mu);
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
	p->quit = true;
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
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->ctx = ctx;
	p->total = n;
	p->pending = p->n - 1;
	p->gen++;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	int64_t lo, hi;
	chunk(n, p->n, 0, &lo, &hi);
	if (lo < hi)
		fn(ctx, 0, lo, hi);
	pthread_mutex_lock(&p->mu);
	while (p->pending > 0)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}
