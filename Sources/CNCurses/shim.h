// Wide-character ncurses for Swift. The A_* attributes, KEY_F(n) and getmaxyx are macros
// that Swift cannot import, so they are wrapped here as static inline functions.
#ifndef CNCURSES_SHIM_H
#define CNCURSES_SHIM_H
#define NCURSES_WIDECHAR 1   /* cchar_t, get_wch, mvaddnwstr; must precede the include */
#include <locale.h>
#include <langinfo.h>
#include <wchar.h>
#include <stdio.h>
#include <unistd.h>
#include <pty.h>
#include <ncursesw/curses.h>

static inline attr_t cn_a_normal(void)    { return A_NORMAL; }
static inline attr_t cn_a_bold(void)      { return A_BOLD; }
static inline attr_t cn_a_dim(void)       { return A_DIM; }
static inline attr_t cn_a_reverse(void)   { return A_REVERSE; }
static inline attr_t cn_a_underline(void) { return A_UNDERLINE; }
static inline int cn_key_f(int n)         { return KEY_F(n); }
static inline void cn_getmaxyx(WINDOW *w, int *y, int *x) { getmaxyx(w, *y, *x); }
static inline WINDOW *cn_stdscr(void)     { return stdscr; }
/// A pseudo-terminal pair (for tests that need a real terminal without a TTY); 0 on success.
static inline int cn_openpty(int *master, int *slave) { return openpty(master, slave, NULL, NULL, NULL); }
/// True when the current locale's codeset is UTF-8.
static inline int cn_locale_is_utf8(void) {
    const char *cs = nl_langinfo(CODESET);
    return cs && (cs[0] == 'U' || cs[0] == 'u') && (cs[1] == 'T' || cs[1] == 't') && (cs[2] == 'F' || cs[2] == 'f');
}

/// Reads the wide character at (y, x) of a window; 0 when the cell cannot be read.
static inline wchar_t cn_wide_char_at(WINDOW *w, int y, int x) {
    cchar_t c;
    if (mvwin_wch(w, y, x, &c) == ERR) return 0;
    wchar_t wch[CCHARW_MAX + 1] = {0};
    attr_t attrs; short pair;
    if (getcchar(&c, wch, &attrs, &pair, NULL) == ERR) return 0;
    return wch[0];
}
#endif
