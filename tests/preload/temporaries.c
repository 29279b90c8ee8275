/* Temporary allocations: freed by the allocating thread with no allocation in between
 * (temporaries.expect).
 *
 *   make_temp      1000 x malloc(64), each freed at once          1000 temporaries
 *   keep_block      500 x malloc(32), freed after all of them and
 *                   after make_sentinel's allocation                  0
 *   make_sentinel     1 x malloc(16), leaked                          0
 *   worker_alloc    100 x malloc(80) in a thread, each freed at once by
 *                   the main thread (handshake, no allocation between)  0: another thread
 * No stdio: nothing else allocates between these calls. */
#include <pthread.h>
#include <stdlib.h>

static void *volatile keep[500];
void *volatile sentinel;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static void *slot;
static int done_count;

static __attribute__((noinline)) void make_temp(void)
{
	void *p = malloc(64); /* @TEMP */
	*(volatile char *)p = 1;
	free(p);
}

static __attribute__((noinline)) void *keep_block(void)
{
	return malloc(32); /* @KEEP */
}

static __attribute__((noinline)) void make_sentinel(void)
{
	sentinel = malloc(16); /* @SENTINEL */
}

static __attribute__((noinline)) void *worker_alloc(void)
{
	return malloc(80); /* @WORKER */
}

static void *worker(void *arg)
{
	for (int i = 0; i < 100; i++) {
		void *p = worker_alloc();
		pthread_mutex_lock(&lock);
		slot = p;
		pthread_cond_broadcast(&cond);
		while (slot)
			pthread_cond_wait(&cond, &lock);
		pthread_mutex_unlock(&lock);
	}
	return arg;
}

int main(void)
{
	for (int i = 0; i < 1000; i++)
		make_temp();
	for (int i = 0; i < 500; i++)
		keep[i] = keep_block();
	make_sentinel();
	for (int i = 0; i < 500; i++)
		free(keep[i]);

	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL) != 0)
		return 2;
	pthread_mutex_lock(&lock);
	while (done_count < 100) {
		while (!slot)
			pthread_cond_wait(&cond, &lock);
		free(slot);
		slot = NULL;
		done_count++;
		pthread_cond_broadcast(&cond);
	}
	pthread_mutex_unlock(&lock);
	pthread_join(t, NULL);
	return 0;
}
