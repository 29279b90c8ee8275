/* The table of output formats (output.h). */
#include "output.h"

#include <string.h>

/* Every format, in the order --help and messages list them: X(name) for each
 * `const struct hp_output hp_output_<name>` defined in its own report_*.c or dump.c. */
#define HP_OUTPUTS(X)                                                                              \
	X(text)                                                                                    \
	X(json)                                                                                    \
	X(lsan)                                                                                    \
	X(leaks)                                                                                   \
	X(collapsed)                                                                               \
	X(pprof)                                                                                   \
	X(massif)                                                                                  \
	X(dhat)                                                                                    \
	X(dump)                                                                                    \
	X(html)                                                                                    \
	X(svg_flamegraph)                                                                          \
	X(svg_timeline)

#define DECLARE(name) extern const struct hp_output hp_output_##name;
HP_OUTPUTS(DECLARE)
#undef DECLARE

#define ENTRY(name) &hp_output_##name,
static const struct hp_output *const outputs[] = {HP_OUTPUTS(ENTRY)};
#undef ENTRY

#define NOUTPUTS (sizeof outputs / sizeof outputs[0])

const struct hp_output *hp_output_find(const char *name)
{
	for (size_t i = 0; i < NOUTPUTS; i++)
		if (strcmp(outputs[i]->name, name) == 0)
			return outputs[i];
	return NULL;
}

const struct hp_output *hp_output_get(size_t i)
{
	return i < NOUTPUTS ? outputs[i] : NULL;
}

const char *hp_output_names(char *buf, size_t size, const char *sep, const char *last)
{
	size_t len = 0, shown = 0, visible = 0;
	for (size_t i = 0; i < NOUTPUTS; i++)
		visible += !(outputs[i]->flags & HP_OUTPUT_HIDDEN);
	buf[0] = 0;
	for (size_t i = 0; i < NOUTPUTS; i++) {
		if (outputs[i]->flags & HP_OUTPUT_HIDDEN)
			continue;
		const char *s = !shown ? "" : shown + 1 == visible ? last : sep;
		int n =
		    snprintf(buf + len, len < size ? size - len : 0, "%s%s", s, outputs[i]->name);
		len += n > 0 ? (size_t)n : 0;
		shown++;
	}
	return buf;
}
