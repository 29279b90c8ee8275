/* fork and exec: every process image writes its own complete trace.
 *
 *   fork_exec fork   the parent allocates 11 x 1111 bytes in parent_work (5 freed),
 *                    forks; the child allocates 22 x 2222 in child_work (10 freed) and
 *                    exits with exit(0); the parent waits, then exits 0.
 *                    Two traces: the child's header names the parent as ppid.
 *   fork_exec exec   allocates 5 x 500 in before_exec (all live at the exec), then
 *                    execs itself as "fork_exec after"; that image allocates 7 x 700
 *                    in after_exec (3 freed) and exits 0. Two traces, one pid.
 * No stdio: the counts under each function are exact (fork_exec*.expect). */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile keep[32];

static __attribute__((noinline)) void alloc_n(int n, size_t size, int nfree)
{
	for (int i = 0; i < n; i++) {
		keep[i] = malloc(size); /* @FORK_EXEC_ALLOC */
		memset(keep[i], 1, size);
	}
	for (int i = 0; i < nfree; i++)
		free(keep[i]);
}

static __attribute__((noinline)) void parent_work(void)
{
	alloc_n(11, 1111, 5);
}

static __attribute__((noinline)) void child_work(void)
{
	alloc_n(22, 2222, 10);
}

static __attribute__((noinline)) void before_exec(void)
{
	alloc_n(5, 500, 0);
}

static __attribute__((noinline)) void after_exec(void)
{
	alloc_n(7, 700, 3);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "fork") == 0) {
		parent_work();
		pid_t pid = fork();
		if (pid < 0)
			return 2;
		if (pid == 0) {
			child_work();
			exit(0);
		}
		int status;
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
			return 3;
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "exec") == 0) {
		before_exec();
		char *args[] = {argv[0], "after", NULL};
		execv("/proc/self/exe", args);
		return 4;
	}
	if (argc == 2 && strcmp(argv[1], "after") == 0) {
		after_exec();
		return 0;
	}
	return 1;
}
