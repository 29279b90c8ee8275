/* The bottom layer; see state.h. */
#include "state.h"

#include <limits.h>
#include <string.h>

#include "os.h"

_Atomic int hp_state;
__thread struct hp_guard hp_guard;

static atomic_int failed_once;
static void (*fail_hook)(const char *msg);

void hp_state_set_fail_hook(void (*hook)(const char *msg))
{
	fail_hook = hook;
}

void hp_state_fail(const char *what, int err)
{
	atomic_store(&hp_state, HP_STATE_OFF);
	if (atomic_exchange(&failed_once, 1))
		return;
	char msg[PATH_MAX + 128];
	size_t n = strnlen(what, PATH_MAX + 32);
	memcpy(msg, what, n);
	const char *reason = hp_os_strerror(err);
	size_t rl = strnlen(reason, 64);
	memcpy(msg + n, ": ", 2);
	memcpy(msg + n + 2, reason, rl);
	msg[n + 2 + rl] = '\0';
	hp_os_say(msg, "; not recording", NULL);
	if (fail_hook)
		fail_hook(msg);
}
