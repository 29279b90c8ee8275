/*
 * measure: run a command and report its wall time, the CPU time of its whole process
 * tree and its peak RSS, as one line of key=value pairs.
 *
 *   measure [-o FILE] [-s SIDE_CMD] [-k SECONDS] [-t SECONDS] -- PROG [ARG]...
 *
 * -s starts SIDE_CMD with /bin/sh -c before PROG, in its own process group; it is how
 *    heaptrack's interpreter and compressor run (they read a FIFO the program writes).
 *    The clock stops when PROG and every side process have exited.
 * -k kills the side processes this many seconds after PROG exits (default 300), so a
 *    side command stuck on a FIFO nobody opened cannot hang a benchmark.
 * -t kills PROG and the side processes after this many seconds in all; the result line
 *    then says timed_out=1.
 * -o appends the result line to FILE instead of writing it to stdout, so the program's
 *    own stdout can be redirected freely.
 *
 * measure is a child subreaper: descendants that outlive their parent are reparented to
 * it and reaped here, so RUSAGE_CHILDREN covers the whole tree. prog_maxrss_kb is PROG's
 * own peak (from wait4); tree_maxrss_kb is the largest of any process in the tree.
 *
 * Exit status: PROG's (128+signal if it was killed), 125 for a usage or system error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t side_pgid, prog_pid;
static volatile sig_atomic_t timed_out;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double tv_s(struct timeval tv)
{
	return tv.tv_sec + tv.tv_usec * 1e-6;
}

static void on_alarm(int sig)
{
	(void)sig;
	if (prog_pid > 0) {
		timed_out = 1;
		kill(prog_pid, SIGKILL);
	}
	if (side_pgid > 0) {
		timed_out = 1;
		kill(-side_pgid, SIGKILL);
	}
}

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: measure [-o FILE] [-s SIDE_CMD] [-k SECONDS] [-t SECONDS] -- PROG [ARG]...\n");
	exit(125);
}

static pid_t spawn(char *const argv[], int own_group)
{
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "measure: cannot fork: %s\n", strerror(errno));
		exit(125);
	}
	if (pid == 0) {
		if (own_group)
			setpgid(0, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "measure: cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (own_group)
		setpgid(pid, pid);
	return pid;
}

int main(int argc, char **argv)
{
	const char *out_path = NULL, *side = NULL;
	unsigned kill_after = 300, limit = 0;
	int opt;

	while ((opt = getopt(argc, argv, "+o:s:k:t:h")) != -1) {
		switch (opt) {
		case 'o':
			out_path = optarg;
			break;
		case 's':
			side = optarg;
			break;
		case 'k':
			kill_after = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 't':
			limit = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
		fprintf(stderr, "measure: cannot become a subreaper: %s\n", strerror(errno));
		return 125;
	}
	signal(SIGALRM, on_alarm);

	double t0 = now_s();
	if (side) {
		char *sargv[] = {"/bin/sh", "-c", (char *)side, NULL};
		side_pgid = spawn(sargv, 1);
	}
	pid_t prog = spawn(argv + optind, 0);
	prog_pid = prog;
	if (limit)
		alarm(limit);

	int status = 0;
	struct rusage prog_ru;
	memset(&prog_ru, 0, sizeof(prog_ru));
	while (wait4(prog, &status, 0, &prog_ru) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "measure: wait4: %s\n", strerror(errno));
			return 125;
		}
	}
	double t_prog = now_s();

	prog_pid = 0;
	if (side) {
		unsigned left = alarm(0);
		alarm(limit && left ? (left < kill_after ? left : kill_after) : kill_after);
	}
	/* Reap the side processes and any orphans reparented to us. */
	for (;;) {
		pid_t p = wait(NULL);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			break;
	}
	alarm(0);
	double t1 = now_s();

	struct rusage all;
	getrusage(RUSAGE_CHILDREN, &all);

	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	FILE *out = stdout;
	if (out_path && !(out = fopen(out_path, "a"))) {
		fprintf(stderr, "measure: cannot open '%s': %s\n", out_path, strerror(errno));
		return 125;
	}
	fprintf(out,
		"wall_s=%.6f prog_wall_s=%.6f cpu_s=%.6f user_s=%.6f sys_s=%.6f "
		"prog_cpu_s=%.6f prog_maxrss_kb=%ld tree_maxrss_kb=%ld status=%d timed_out=%d\n",
		t1 - t0, t_prog - t0, tv_s(all.ru_utime) + tv_s(all.ru_stime), tv_s(all.ru_utime),
		tv_s(all.ru_stime), tv_s(prog_ru.ru_utime) + tv_s(prog_ru.ru_stime),
		prog_ru.ru_maxrss, all.ru_maxrss, code, (int)timed_out);
	if (out != stdout)
		fclose(out);
	return code;
}
