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
#include <poll.h>
#include <termios.h>
#include <sys/ioctl.h>
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

/// The terminal's size in cells and pixels (TIOCGWINSZ); 0 on success. Pixels are 0 when the
/// terminal does not report them.
static inline int cn_window_size(int fd, int *rows, int *cols, int *xpixel, int *ypixel) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0) return -1;
    *rows = ws.ws_row; *cols = ws.ws_col; *xpixel = ws.ws_xpixel; *ypixel = ws.ws_ypixel;
    return 0;
}

/// Writes `query` to `out_fd`, then reads replies from `in_fd` (in raw mode, echo off) until the
/// reply contains `sentinel_final` after an ESC [ ? (a DA1 answer ends in 'c'), `cap` bytes, or
/// `timeout_ms` pass. Returns the number of bytes read into `reply`, or -1 when the terminal
/// modes cannot be set (not a terminal). The terminal modes are restored before returning.
static inline int cn_probe(int in_fd, int out_fd, const char *query, int query_len, char *reply, int cap, int timeout_ms) {
    struct termios saved, raw;
    if (tcgetattr(in_fd, &saved) != 0) return -1;
    raw = saved;
    raw.c_lflag &= ~(ICANON | ECHO);
    raw.c_cc[VMIN] = 0; raw.c_cc[VTIME] = 0;
    if (tcsetattr(in_fd, TCSANOW, &raw) != 0) return -1;
    int written = 0;
    while (written < query_len) {
        ssize_t w = write(out_fd, query + written, query_len - written);
        if (w <= 0) break;
        written += (int)w;
    }
    int n = 0, waited = 0;
    while (n < cap && waited < timeout_ms) {
        struct pollfd p = { in_fd, POLLIN, 0 };
        int r = poll(&p, 1, 20);
        if (r <= 0) { waited += 20; continue; }
        ssize_t got = read(in_fd, reply + n, cap - n);
        if (got <= 0) break;
        n += (int)got;
        /* Done once a DA1 answer (ESC [ ? … c) has arrived. */
        for (int i = 0; i + 2 < n; i++) {
            if (reply[i] == 27 && reply[i + 1] == '[' && reply[i + 2] == '?') {
                for (int j = i + 3; j < n; j++) if (reply[j] == 'c') { tcsetattr(in_fd, TCSANOW, &saved); return n; }
            }
        }
    }
    tcsetattr(in_fd, TCSANOW, &saved);
    return n;
}
#endif
