/* Growable arrays: the one reserve helper the analyzer's modules share. */
#ifndef HP_ARRAY_H
#define HP_ARRAY_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Makes room for `need` elements of `elem` bytes in *p, whose capacity is *cap: the
 * capacity doubles from `first` (or from *cap) until it holds `need`, and the new room is
 * zeroed. Returns 0, or -ENOMEM (with *p and *cap unchanged). Not thread-safe. */
static inline int hp_array_reserve(void **p, size_t *cap, size_t need, size_t elem, size_t first)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : first;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return -ENOMEM;
		n *= 2;
	}
	if (n > SIZE_MAX / elem)
		return -ENOMEM;
	void *q = realloc(*p, n * elem);
	if (!q)
		return -ENOMEM;
	memset((char *)q + *cap * elem, 0, (n - *cap) * elem);
	*p = q;
	*cap = n;
	return 0;
}

#ifdef __cplusplus
}
#endif
#endif
