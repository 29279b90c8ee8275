/* heapprof_pause and heapprof_resume (pause.expect). Blocks have sizes 1001..1006 that
 * nothing else allocates, so the dump's count of them is exact:
 *
 *   a = 1001 B, r = 1004 B         recorded
 *   pause, pause (nested)
 *   b = 1002 B                     not recorded
 *   free(a)                        recorded: releases are recorded while paused
 *   r = realloc(r, 50000)          the old block is released, the new one unknown
 *   resume                         still paused (one pause left)
 *   b2 = 1005 B                    not recorded
 *   resume                         recording again; a third resume is -EINVAL
 *   free(b), free(b2), free(r)     frees of blocks the trace never saw: count nothing
 *   d = 1006 B, free(d)            recorded
 * Sized 1001..1006: 3 allocations (a, r, d) and 3 releases (a, r, d). */
#include <heapprof/heapprof.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	if (!heapprof_pause) {
		puts("no recorder");
		return 0;
	}
	void *a = malloc(1001); /* @PAUSE_A */
	void *r = malloc(1004); /* @PAUSE_R */
	int p1 = heapprof_pause(), p2 = heapprof_pause();
	void *b = malloc(1002); /* @PAUSE_B */
	free(a);
	r = realloc(r, 50000);
	int r1 = heapprof_resume();
	void *b2 = malloc(1005); /* @PAUSE_B2 */
	int r2 = heapprof_resume(), r3 = heapprof_resume();
	free(b);
	free(b2);
	free(r);
	void *d = malloc(1006); /* @PAUSE_D */
	free(d);
	printf("pause=%d,%d resume=%d,%d,%d\n", p1, p2, r1, r2, r3);
	return 0;
}
