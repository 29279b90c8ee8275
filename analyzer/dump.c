/* --dump: one line per decoded record, events in file order (not merged by time). */
#include "dump.h"

#include <heapprof/trace_codec.h>

#include <inttypes.h>

#include "output.h"

void hp_dump_string(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\')
			fputs("\\\\", out);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			putc(c, out);
	}
}

static void cmdline(FILE *out, const char *s, size_t n)
{
	while (n && s[n - 1] == 0)
		n--;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == 0) {
			if (start)
				putc(' ', out);
			hp_dump_string(out, s + start, i - start);
			start = i + 1;
		}
	}
}

/* Version 2 events: blocks by slot; a raw address only for a block the trace never saw. */
static void event_v2(FILE *o, const struct hp_item *it)
{
	uint32_t th = it->u.ev.thread, stack = it->u.ev.stack;
	uint64_t t = it->u.ev.time, size = it->u.ev.size;
	uint64_t slot = hp_reader_key_to_slot(it->u.ev.addr), raw = it->u.ev.unknown_addr;
	switch (it->kind) {
	case HP_ITEM_ALLOC:
		fprintf(o,
			"alloc thread=%" PRIu32 " t=%" PRIu64 " size=%" PRIu64 " stack=%" PRIu32
			" block=%" PRIu64 "%s\n",
			th, t, size, stack, slot, it->u.ev.hint ? " hint=1" : "");
		break;
	case HP_ITEM_FREE:
		if (it->u.ev.addr)
			fprintf(o, "free thread=%" PRIu32 " t=%" PRIu64 " block=%" PRIu64 "\n", th,
				t, slot);
		else
			fprintf(o,
				"free thread=%" PRIu32 " t=%" PRIu64 " addr=0x%" PRIx64
				" unknown=1\n",
				th, t, raw);
		break;
	default:
		if (it->u.ev.old)
			fprintf(o,
				"realloc thread=%" PRIu32 " t=%" PRIu64 " block=%" PRIu64
				" size=%" PRIu64 " stack=%" PRIu32 "\n",
				th, t, slot, size, stack);
		else
			fprintf(o,
				"realloc thread=%" PRIu32 " t=%" PRIu64 " old=0x%" PRIx64
				" size=%" PRIu64 " stack=%" PRIu32 " block=%" PRIu64 " unknown=1\n",
				th, t, raw, size, stack, slot);
		break;
	}
}

/* Version 3 events: blocks by key, printed THREAD:SEQ (the allocating thread and its
 * allocation number); a raw address only for a block the trace never saw. */
static void key(FILE *o, const char *name, uint64_t k)
{
	fprintf(o, " %s=%" PRIu64 ":%" PRIu64, name, hp_ev3_key_thread(k), hp_ev3_key_seq(k));
}

static void event_v3(FILE *o, const struct hp_item *it)
{
	uint32_t th = it->u.ev.thread, stack = it->u.ev.stack;
	uint64_t t = it->u.ev.time, size = it->u.ev.size, raw = it->u.ev.unknown_addr;
	switch (it->kind) {
	case HP_ITEM_ALLOC:
		fprintf(o, "alloc thread=%" PRIu32 " t=%" PRIu64 " size=%" PRIu64 " stack=%" PRIu32,
			th, t, size, stack);
		key(o, "block", it->u.ev.addr);
		fputs(it->u.ev.hint ? " hint=1\n" : "\n", o);
		break;
	case HP_ITEM_FREE:
		fprintf(o, "free thread=%" PRIu32 " t=%" PRIu64, th, t);
		if (it->u.ev.addr)
			key(o, "block", it->u.ev.addr);
		else
			fprintf(o, " addr=0x%" PRIx64 " unknown=1", raw);
		putc('\n', o);
		break;
	default:
		fprintf(o, "realloc thread=%" PRIu32 " t=%" PRIu64, th, t);
		if (it->u.ev.old)
			key(o, "old", it->u.ev.old);
		else
			fprintf(o, " old=0x%" PRIx64, raw);
		fprintf(o, " size=%" PRIu64 " stack=%" PRIu32, size, stack);
		key(o, "block", it->u.ev.addr);
		fputs(it->u.ev.old ? "\n" : " unknown=1\n", o);
		break;
	}
}

static void item(FILE *o, const struct hp_item *it, int version)
{
	int v2 = version >= 2;
	if (v2 && it->kind >= HP_ITEM_ALLOC && it->kind <= HP_ITEM_REALLOC) {
		if (version >= 3)
			event_v3(o, it);
		else
			event_v2(o, it);
		return;
	}
	switch (it->kind) {
	case HP_ITEM_ALLOC:
		fprintf(o,
			"alloc thread=%" PRIu32 " t=%" PRIu64 " size=%" PRIu64 " stack=%" PRIu32
			" addr=0x%" PRIx64 "\n",
			it->u.ev.thread, it->u.ev.time, it->u.ev.size, it->u.ev.stack,
			it->u.ev.addr);
		break;
	case HP_ITEM_FREE:
		fprintf(o, "free thread=%" PRIu32 " t=%" PRIu64 " addr=0x%" PRIx64 "\n",
			it->u.ev.thread, it->u.ev.time, it->u.ev.addr);
		break;
	case HP_ITEM_REALLOC:
		fprintf(o,
			"realloc thread=%" PRIu32 " t=%" PRIu64 " old=0x%" PRIx64 " size=%" PRIu64
			" stack=%" PRIu32 " new=0x%" PRIx64 "\n",
			it->u.ev.thread, it->u.ev.time, it->u.ev.old, it->u.ev.size, it->u.ev.stack,
			it->u.ev.addr);
		break;
	case HP_REC_HEADER: {
		const struct hp_header *h = &it->u.header;
		fprintf(o,
			"header version=%" PRIu64 " pid=%" PRIu64 " ppid=%" PRIu64 " flags=%" PRIu64
			" ticks_per_second=%" PRIu64 " time_shift=%" PRIu64 " max_frames=%" PRIu64
			" sample_bytes=%" PRIu64 " exe=",
			h->version, h->pid, h->ppid, h->flags, h->ticks_per_second, h->time_shift,
			h->max_frames, h->sample_bytes);
		hp_dump_string(o, h->exe, h->exe_len);
		fputs(" cmdline=", o);
		cmdline(o, h->cmdline, h->cmdline_len);
		putc('\n', o);
		break;
	}
	case HP_REC_MODULE:
		fprintf(o, "module id=%" PRIu64 " path=", it->u.module.id);
		hp_dump_string(o, it->u.module.path, it->u.module.path_len);
		fputs(" build_id=", o);
		for (size_t i = 0; i < it->u.module.build_id_len; i++)
			fprintf(o, "%02x", it->u.module.build_id[i]);
		fprintf(o, " bias=0x%" PRIx64 " segments=%" PRIu32 "\n", it->u.module.bias,
			it->u.module.nseg);
		break;
	case HP_REC_MODULE_UNLOAD:
		fprintf(o, "module_unload id=%" PRIu64 " t=%" PRIu64 "\n", it->u.module_unload.id,
			it->u.module_unload.time);
		break;
	case HP_REC_STACK:
		fprintf(o, "stack id=%" PRIu64 " frames=", it->u.stack.id);
		for (uint32_t i = 0; i < it->u.stack.nframes; i++)
			fprintf(o, "%s0x%" PRIx64, i ? "," : "", it->u.stack.ips[i]);
		putc('\n', o);
		break;
	case HP_REC_THREAD:
		fprintf(o, "thread index=%" PRIu64 " tid=%" PRIu64 " t=%" PRIu64 "\n",
			it->u.thread.index, it->u.thread.tid, it->u.thread.time);
		break;
	case HP_REC_THREAD_NAME:
		fprintf(o, "thread_name index=%" PRIu64 " name=", it->u.thread_name.index);
		hp_dump_string(o, it->u.thread_name.name, it->u.thread_name.name_len);
		putc('\n', o);
		break;
	case HP_REC_THREAD_EXIT:
		fprintf(o, "thread_exit index=%" PRIu64 " t=%" PRIu64 "\n", it->u.thread_exit.index,
			it->u.thread_exit.time);
		break;
	case HP_REC_ROUND:
		fprintf(o, "round watermark=%" PRIu64 "\n", it->u.round.watermark);
		break;
	case HP_REC_RSS:
		fprintf(o, "rss t=%" PRIu64 " bytes=%" PRIu64 "\n", it->u.rss.time,
			it->u.rss.bytes);
		break;
	case HP_REC_CLOCK_SYNC:
		fprintf(o, "clock_sync ticks=%" PRIu64 " mono_ns=%" PRIu64 "\n",
			it->u.clock_sync.ticks, it->u.clock_sync.mono_ns);
		break;
	case HP_REC_FORK:
		fprintf(o, "fork t=%" PRIu64 " child=%" PRIu64 "\n", it->u.fork.time,
			it->u.fork.child_pid);
		break;
	case HP_REC_EXEC:
		fprintf(o, "exec t=%" PRIu64 " path=", it->u.exec.time);
		hp_dump_string(o, it->u.exec.path, it->u.exec.path_len);
		putc('\n', o);
		break;
	case HP_REC_EXIT:
		fprintf(o, "exit t=%" PRIu64 " status=%" PRId64 "\n", it->u.exit.time,
			it->u.exit.status);
		break;
	case HP_REC_END:
		fprintf(o, "end t=%" PRIu64 " events=%" PRIu64 " lost=%" PRIu64 "\n",
			it->u.end.time, it->u.end.events, it->u.end.lost);
		break;
	case HP_REC_ERROR:
		fprintf(o, "error t=%" PRIu64 " message=", it->u.error.time);
		hp_dump_string(o, it->u.error.message, it->u.error.message_len);
		putc('\n', o);
		break;
	case HP_REC_LEAK_SCAN: {
		const uint64_t *b = it->u.leak_scan.bytes, *n = it->u.leak_scan.blocks;
		fprintf(o,
			"leak_scan t=%" PRIu64 " flags=%" PRIu64 " definite=%" PRIu64 "/%" PRIu64
			" indirect=%" PRIu64 "/%" PRIu64 " possible=%" PRIu64 "/%" PRIu64
			" reachable=%" PRIu64 "/%" PRIu64 " nblocks=%" PRIu64 "\n",
			it->u.leak_scan.time, it->u.leak_scan.flags, b[0], n[0], b[1], n[1], b[2],
			n[2], b[3], n[3], it->u.leak_scan.nblocks);
		break;
	}
	case HP_REC_LEAK_BLOCKS:
		fprintf(o, "leak_blocks count=%" PRIu32 " %s=", it->u.leak_blocks.count,
			version >= 3 ? "keys"
			: v2	     ? "slots"
				     : "blocks");
		for (uint32_t i = 0; i < it->u.leak_blocks.count; i++) {
			uint64_t a = it->u.leak_blocks.addr[i];
			if (version >= 3)
				fprintf(o, "%s%" PRIu64 ":%" PRIu64 ":%u", i ? "," : "",
					hp_ev3_key_thread(a), hp_ev3_key_seq(a),
					it->u.leak_blocks.cls[i]);
			else if (v2)
				fprintf(o, "%s%" PRIu64 ":%u", i ? "," : "",
					hp_reader_key_to_slot(a), it->u.leak_blocks.cls[i]);
			else
				fprintf(o, "%s0x%" PRIx64 ":%u", i ? "," : "", a,
					it->u.leak_blocks.cls[i]);
		}
		putc('\n', o);
		break;
	case HP_REC_MARK:
		fprintf(o, "mark t=%" PRIu64 " label=", it->u.mark.time);
		hp_dump_string(o, it->u.mark.label, it->u.mark.label_len);
		putc('\n', o);
		break;
	case HP_REC_SUPPRESSIONS: {
		/* Multi-line text on one line: each newline as \n, the rest as elsewhere. */
		const char *s = it->u.suppressions.text;
		size_t n = it->u.suppressions.text_len, start = 0;
		fprintf(o, "suppressions t=%" PRIu64 " text=", it->u.suppressions.time);
		for (size_t i = 0; i <= n; i++) {
			if (i < n && s[i] != '\n')
				continue;
			hp_dump_string(o, s + start, i - start);
			if (i < n)
				fputs("\\n", o);
			start = i + 1;
		}
		putc('\n', o);
		break;
	}
	default:
		break;
	}
}

int hp_dump(FILE *out, struct hp_reader *r)
{
	struct hp_item it;
	int rc;
	while ((rc = hp_reader_next(r, &it)) > 0)
		item(out, &it, (int)hp_reader_version(r));
	return rc;
}

static int write_records(struct hp_reader *r, const struct hp_output_options *o)
{
	return hp_dump(o->out, r) < 0 ? -1 : 0;
}

const struct hp_output hp_output_dump = {
    .name = "dump", .flags = HP_OUTPUT_HIDDEN, .write_records = write_records};
