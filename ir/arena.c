/* arena.c: bump allocator owning everything of one graph (QBE's freeall).
 * Built with QGTC_ARENA_MALLOC (the fuzz and sanitizer builds), every
 * object gets a malloc of its own, of its exact size, so AddressSanitizer
 * sees an overflow past one object instead of a write into the next. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

typedef struct chunk {
	struct chunk *next;
	size_t used, size;
	_Alignas(16) unsigned char mem[];
} chunk;

struct ir_arena {
	chunk *head;
	bool failed;            /* an allocation failed (ir_arena_failed) */
};

enum { CHUNK_MIN = 64 * 1024 };

ir_arena *ir_arena_create(void)
{
	return calloc(1, sizeof(ir_arena));
}

void ir_arena_destroy(ir_arena *a)
{
	if (!a)
		return;
	for (chunk *c = a->head, *n; c; c = n) {
		n = c->next;
		free(c);
	}
	free(a);
}

#ifdef QGTC_ARENA_MALLOC
void *ir_arena_alloc(ir_arena *a, size_t n)
{
	chunk *c = n > SIZE_MAX - sizeof(chunk) ? NULL : malloc(sizeof(chunk) + (n ? n : 1));
	if (!c) {
		a->failed = true;
		return NULL;
	}
	c->used = c->size = n;
	c->next = a->head;
	a->head = c;
	memset(c->mem, 0, n);
	return c->mem;
}
#else
void *ir_arena_alloc(ir_arena *a, size_t n)
{
	if (n > SIZE_MAX - sizeof(chunk) - 15) {
		a->failed = true;
		return NULL;
	}
	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	chunk *c = a->head;
	if (!c || c->size - c->used < n) {
		/* Big requests get a chunk of their own behind the current one,
		 * so the current chunk's free space is not wasted. */
		size_t sz = n > CHUNK_MIN / 4 ? n : CHUNK_MIN;
		chunk *nc = malloc(sizeof(chunk) + sz);
		if (!nc) {
			a->failed = true;
			return NULL;
		}
		nc->used = 0;
		nc->size = sz;
		if (c && sz != CHUNK_MIN) {
			nc->next = c->next;
			c->next = nc;
		} else {
			nc->next = c;
			a->head = nc;
		}
		c = nc;
	}
	void *p = c->mem + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}
#endif

bool ir_arena_failed(const ir_arena *a)
{
	return a && a->failed;
}

char *ir_arena_strdup(ir_arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = ir_arena_alloc(a, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

char *ir_arena_printf(ir_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *p = ir_arena_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
