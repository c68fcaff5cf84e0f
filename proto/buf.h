/*
 * The one growable byte buffer (after curl's dynbuf): created with a
 * maximum, it refuses to grow past it, so every buffer filled from the
 * network has a stated bound.  Appends return 0 or -1 (out of memory or the
 * maximum would be exceeded); after a failure the buffer keeps its previous
 * content.  The data is always followed by a NUL byte that is not counted
 * in len, so a buffer holding text can be used as a C string.
 */
#ifndef EASD_PROTO_BUF_H
#define EASD_PROTO_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data; /* owned; NULL until the first append */
	size_t len;
	size_t cap;
	size_t max; /* hard bound on len */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* Forget the content but keep the allocation. */
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *data, size_t len);
int buf_append_byte(struct buf *b, uint8_t byte);
int buf_append_str(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Make room for at least extra more bytes. */
int buf_reserve(struct buf *b, size_t extra);
/* Take ownership of the data (NUL-terminated); the buffer becomes empty. */
uint8_t *buf_steal(struct buf *b, size_t *len_r);
/* Drop the first n bytes (a consumed prefix). */
void buf_consume(struct buf *b, size_t n);
/* The content as a C string ("" when empty). */
const char *buf_str(const struct buf *b);

#endif
