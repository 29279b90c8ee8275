/* 8 threads x 100,000 events with cross-thread frees (threads.expect).
 *
 * Worker i allocates PER_THREAD blocks of size 3001 + i and hands each to worker
 * (i + 1) % 8 through that worker's queue; every worker frees the PER_THREAD blocks
 * it receives, so every block is freed by a thread other than its allocator. Each
 * worker also leaks one block of 3100 bytes. The sizes tag the test's blocks so the
 * --dump lines can be counted exactly, whatever the runtime allocates itself.
 *
 *   allocations  8 x 50,000 + 8 = 400,008      frees 400,000
 *   bytes        50,000 x (3001 + ... + 3008) + 8 x 3100 = 1,201,824,800
 *   leaked       8 blocks, 24,800 bytes */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NTHREADS 8
#define PER_THREAD 50000
#define QCAP 256

struct queue {
	pthread_mutex_t lock;
	void *slot[QCAP];
	unsigned head, tail; /* head - tail blocks queued */
};

static struct queue queues[NTHREADS];
void *volatile leaked[NTHREADS];

static int push(struct queue *q, void *p)
{
	int ok;
	pthread_mutex_lock(&q->lock);
	ok = q->head - q->tail < QCAP;
	if (ok)
		q->slot[q->head++ % QCAP] = p;
	pthread_mutex_unlock(&q->lock);
	return ok;
}

static void *pop(struct queue *q)
{
	void *p = NULL;
	pthread_mutex_lock(&q->lock);
	if (q->head != q->tail)
		p = q->slot[q->tail++ % QCAP];
	pthread_mutex_unlock(&q->lock);
	return p;
}

/* Frees one block from our queue if there is one; returns 1 if it did. */
static int drain_one(struct queue *q)
{
	void *p = pop(q);
	if (!p)
		return 0;
	free(p);
	return 1;
}

static __attribute__((noinline)) void *worker(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	struct queue *mine = &queues[i], *next = &queues[(i + 1) % NTHREADS];
	size_t size = 3001 + i;
	unsigned freed = 0;

	for (unsigned n = 0; n < PER_THREAD; n++) {
		void *p = malloc(size); /* @THREAD_ALLOC */
		memset(p, (int)i, 16);
		/* When the next queue is full, make room in ours: no cycle can block. */
		while (!push(next, p)) {
			if (drain_one(mine))
				freed++;
			else
				sched_yield();
		}
		if (drain_one(mine))
			freed++;
	}
	while (freed < PER_THREAD) {
		if (drain_one(mine))
			freed++;
		else
			sched_yield();
	}
	leaked[i] = malloc(3100); /* @THREAD_LEAK */
	return NULL;
}

int main(void)
{
	pthread_t tid[NTHREADS];
	for (unsigned i = 0; i < NTHREADS; i++)
		pthread_mutex_init(&queues[i].lock, NULL);
	for (unsigned i = 0; i < NTHREADS; i++)
		if (pthread_create(&tid[i], NULL, worker, (void *)(uintptr_t)i) != 0)
			return 2;
	for (unsigned i = 0; i < NTHREADS; i++)
		pthread_join(tid[i], NULL);
	return 0;
}
