/* heapprof_mark (markers.expect): four marks between allocations of known sizes, each
 * 2 ms apart so that a mark and an event never share a time unit. The heap at each mark
 * is exact: nothing else is live before main, and stdio runs only at the end.
 *
 *   mark "start"                       heap 0
 *   a = 1000 B; mark "one"             heap 1000
 *   b = 2000 B; mark "two"             heap 3000
 *   free(a);    mark "three\nignored"  heap 2000, label cut at the newline
 *   mark 300 x 'x'                     heap 2000, label cut to 255 bytes
 * Then it prints what heapprof_mark returned for NULL (-EINVAL) and "ok". Without the
 * preload (the symbols are weak) it says "no recorder" and exits 0. */
#include <heapprof/heapprof.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void nap(void)
{
	struct timespec ts = {0, 2 * 1000 * 1000};
	nanosleep(&ts, NULL);
}

static void mark(const char *label)
{
	nap();
	if (heapprof_mark(label))
		exit(3);
	nap();
}

int main(void)
{
	if (!heapprof_mark) {
		puts("no recorder");
		return 0;
	}
	char long_label[301];
	memset(long_label, 'x', 300);
	long_label[300] = '\0';
	mark("start");
	void *a = malloc(1000); /* @MARK_A */
	mark("one");
	void *b = malloc(2000); /* @MARK_B */
	mark("two");
	free(a);
	mark("three\nignored");
	mark(long_label);
	int null_rc = heapprof_mark(NULL);
	free(b);
	printf("null=%d ok\n", null_rc);
	return 0;
}
