/* exitwith LEAK CODE: leaks one 16 B block when LEAK is 1, then exits with CODE, or
 * kills itself with SIGTERM when CODE is "term". */
#include <signal.h>
#include <string.h>

#include "leakprog.h"

__attribute__((noinline)) static void lose(void)
{
	leak_sink = leak_alloc(16);
	leak_sink = NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 100;
	if (atoi(argv[1]))
		lose();
	scrub_stack();
	if (strcmp(argv[2], "term") == 0)
		raise(SIGTERM);
	return atoi(argv[2]);
}
