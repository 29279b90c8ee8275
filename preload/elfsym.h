/* Looks up a symbol in the main executable's own symbol table (.symtab), for the few
 * program hooks that plain executables define without exporting them. */
#ifndef HP_ELFSYM_H
#define HP_ELFSYM_H

/* Returns the run-time address of the function `name` defined in the main executable,
 * or NULL (no such symbol, stripped binary, unreadable file). Reads /proc/self/exe
 * through a private read-only mapping: no malloc, no stdio. Not async-signal-safe. */
void *hp_elfsym_exe_function(const char *name);

#endif
