/* A thread's allocation kinds (preload/kinds.c): numbered from 1 in order of first use,
 * found again however many there are, forgotten by clear. */
#include <stdint.h>

#include "check.h"
#include "kinds.h"

int main(void)
{
	struct hp_kinds k = {0};
	int nomem = 0, bad = 0;
	CHECK_U64(hp_kinds_find(&k, 16, 1, &nomem), 0); /* new: kind 1 */
	CHECK_U64(k.count, 1);
	CHECK_U64(hp_kinds_find(&k, 16, 1, &nomem), 1);
	CHECK_U64(hp_kinds_find(&k, 16, 2, &nomem), 0); /* same size, another stack */
	CHECK_U64(hp_kinds_find(&k, 17, 1, &nomem), 0);
	CHECK_U64(hp_kinds_find(&k, 16, 2, &nomem), 2);
	CHECK_U64(hp_kinds_find(&k, 17, 1, &nomem), 3);
	/* Many kinds: the table grows and keeps every number. */
	for (uint64_t i = 0; i < 100000; i++)
		bad |= hp_kinds_find(&k, 1000 + i, (uint32_t)(i % 7), &nomem) != 0;
	CHECK(!bad);
	for (uint64_t i = 0; i < 100000; i++)
		bad |= hp_kinds_find(&k, 1000 + i, (uint32_t)(i % 7), &nomem) != 4 + i;
	CHECK(!bad && !nomem);
	CHECK_U64(k.count, 100003);
	hp_kinds_clear(&k);
	CHECK_U64(k.count, 0);
	CHECK_U64(hp_kinds_find(&k, 17, 1, &nomem), 0);
	CHECK_U64(hp_kinds_find(&k, 17, 1, &nomem), 1);
	hp_kinds_release(&k);
	return check_done();
}
