/* A long-running program for the wrapper's signal tests (wrapper_signals.py).
 *
 *   sigprog handle   catches SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2, says
 *                    "got <NAME>" on stdout for each; after SIGTERM allocates one block of
 *                    AFTER_SIZE bytes, frees everything and exits 0
 *   sigprog die      leaves every disposition alone: SIGTERM kills it
 *
 * Both say "ready <pid>" on stdout once the handlers are in place, then allocate and free
 * blocks of LOOP_SIZE bytes until the signal. stdout is flushed after every line. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOOP_SIZE 1234
#define AFTER_SIZE 4321

static volatile sig_atomic_t got[NSIG];

static void on_signal(int sig)
{
	got[sig] = 1;
}

static const struct {
	int sig;
	const char *name;
} sigs[] = {{SIGINT, "INT"},   {SIGTERM, "TERM"}, {SIGHUP, "HUP"},
	    {SIGQUIT, "QUIT"}, {SIGUSR1, "USR1"}, {SIGUSR2, "USR2"}};

int main(int argc, char **argv)
{
	int handle = argc > 1 && strcmp(argv[1], "handle") == 0;
	if (!handle && !(argc > 1 && strcmp(argv[1], "die") == 0)) {
		fprintf(stderr, "usage: sigprog handle|die\n");
		return 2;
	}
	for (size_t i = 0; handle && i < sizeof sigs / sizeof sigs[0]; i++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i].sig, &sa, NULL);
	}
	printf("ready %ld\n", (long)getpid());
	fflush(stdout);
	void *keep[16] = {0};
	for (unsigned long n = 0; !got[SIGTERM]; n++) {
		free(keep[n % 16]);
		keep[n % 16] = malloc(LOOP_SIZE);
		for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
			if (got[sigs[i].sig] == 1) {
				got[sigs[i].sig] = 2;
				printf("got %s\n", sigs[i].name);
				fflush(stdout);
			}
		}
		struct timespec nap = {0, 2 * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
	printf("got TERM\n");
	free(malloc(AFTER_SIZE));
	for (int i = 0; i < 16; i++)
		free(keep[i]);
	return 0;
}
