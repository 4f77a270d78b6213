/*
 * log_line.c - building one log line in a fixed buffer: appending, escaping.
 *
 * Lines are built on the caller's stack, so logging never allocates and works when memory is
 * short; only a growable line (a multi-line entry) moves to the heap when it outgrows it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log_internal.h"
#include "platform/platform.h"

static const char truncation_mark[] = "...";
#define MARK_LEN (sizeof truncation_mark - 1)

/* Sets the buffer and the limits that follow from its size; keeps the content. */
static void set_buffer(log_line *line, char *buf, size_t size) {
  line->buf = buf;
  line->size = size;
  line->room = size > 2 ? size - 2 : 0;
  line->marked_room = line->room > MARK_LEN ? line->room - MARK_LEN : 0;
}

void log_line_init(log_line *line, char *buf, size_t size) {
  set_buffer(line, buf, size);
  line->len = 0;
  line->cut_len = 0;
  line->truncated = false;
  line->growable = false;
  line->heap = NULL;
}

void log_line_init_growable(log_line *line, char *buf, size_t size) {
  log_line_init(line, buf, size);
  line->growable = true;
}

void log_line_release(log_line *line) {
  free(line->heap);
  line->heap = NULL;
}

/* Moves a growable line to a heap buffer with room for `more` bytes of content beyond its
 * length (at least twice the size, so appending stays linear). Returns false when the
 * allocation fails; the line is then unchanged. */
static bool grow(log_line *line, size_t more) {
  size_t need = line->len + more + 2; /* the newline and the NUL */
  if (more > SIZE_MAX / 4 || line->size > SIZE_MAX / 4)
    return false;
  size_t size = line->size * 2 > need ? line->size * 2 : need;
  char *heap = malloc(size);
  if (heap == NULL)
    return false;
  memcpy(heap, line->buf, line->len);
  free(line->heap);
  line->heap = heap;
  set_buffer(line, heap, size);
  return true;
}

/* Goes back to the last piece that leaves room for "..." and drops all later pieces. */
static void cut(log_line *line) {
  line->truncated = true;
  line->len = line->cut_len;
}

/* Reserves len bytes at the end of the line, or cuts it. Returns where they go or NULL. */
static char *reserve(log_line *line, size_t len) {
  if (line->truncated)
    return NULL;
  if (len > line->room - line->len && !(line->growable && grow(line, len))) {
    cut(line);
    return NULL;
  }
  char *at = line->buf + line->len;
  line->len += len;
  if (line->len <= line->marked_room)
    line->cut_len = line->len;
  return at;
}

void log_line_append(log_line *line, const char *bytes, size_t len) {
  char *at = reserve(line, len);
  if (at != NULL && len > 0)
    memcpy(at, bytes, len);
}

void log_line_append_str(log_line *line, const char *text) {
  log_line_append(line, text, strlen(text));
}

void log_line_append_uint(log_line *line, uint64_t value) {
  char digits[20]; /* UINT64_MAX has 20 decimal digits */
  size_t start = sizeof digits;
  do {
    digits[--start] = (char)('0' + value % 10);
    value /= 10;
  } while (value > 0);
  log_line_append(line, digits + start, sizeof digits - start);
}

/* How many bytes `byte` takes once escaped, and writes them to out (room for 4). */
static size_t escape_byte(unsigned char byte, log_escape escape, char out[4]) {
  static const char hex[] = "0123456789abcdef";
  bool as_hex = byte < 0x20 || byte == 0x7f || (escape == LOG_ESCAPE_QUOTED && byte >= 0x80);
  if (as_hex) {
    out[0] = '\\';
    out[1] = 'x';
    out[2] = hex[byte >> 4];
    out[3] = hex[byte & 0xf];
    return 4;
  }
  if (escape == LOG_ESCAPE_QUOTED && (byte == '"' || byte == '\\')) {
    out[0] = '\\';
    out[1] = (char)byte;
    return 2;
  }
  out[0] = (char)byte;
  return 1;
}

/* ------------------------------------------------------------------ JSON strings */

/* The length of the well-formed UTF-8 sequence at s (len > 0 bytes, s[0] >= 0x80), or 0 when
 * there is none, with *invalid set to the length of the maximal subpart that one U+FFFD
 * replaces: the lead byte and the continuation bytes that were still possible (Unicode 15,
 * 3.9, table 3-7: no overlong form, no surrogate, nothing above U+10FFFF). */
static size_t utf8_sequence(const unsigned char *s, size_t len, size_t *invalid) {
  unsigned char lead = s[0];
  size_t need;
  unsigned char low = 0x80, high = 0xbf; /* the second byte's range */
  if (lead >= 0xc2 && lead <= 0xdf) {
    need = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    need = 3;
    if (lead == 0xe0)
      low = 0xa0; /* overlong below U+0800 */
    else if (lead == 0xed)
      high = 0x9f; /* surrogates U+D800-U+DFFF */
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    need = 4;
    if (lead == 0xf0)
      low = 0x90; /* overlong below U+10000 */
    else if (lead == 0xf4)
      high = 0x8f; /* above U+10FFFF */
  } else {
    *invalid = 1; /* a continuation byte, C0, C1 (overlong ASCII) or F5-FF */
    return 0;
  }
  size_t i = 1;
  while (i < need && i < len && s[i] >= low && s[i] <= high) {
    i++;
    low = 0x80;
    high = 0xbf;
  }
  if (i == need)
    return need;
  *invalid = i;
  return 0;
}

/* Bytes that go into a JSON string as they are: printable ASCII but '"' and '\'. */
static bool json_plain(unsigned char byte) {
  return byte >= 0x20 && byte < 0x7f && byte != '"' && byte != '\\';
}

void log_line_append_json(log_line *line, const char *bytes, size_t len) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *)bytes;
  size_t i = 0;
  while (i < len && !line->truncated) {
    size_t run = i;
    while (run < len && json_plain(s[run]))
      run++;
    if (run > i) { /* a run of plain ASCII at once: the common case */
      log_line_append(line, bytes + i, run - i);
      i = run;
      continue;
    }
    unsigned char byte = s[i];
    size_t invalid = 0;
    size_t sequence = byte >= 0x80 ? utf8_sequence(s + i, len - i, &invalid) : 1;
    /* The code point when it is a control (C1 included: U+0080-U+009F is C2 80-C2 9F). */
    unsigned code = byte < 0x80 ? byte : 0xa0;
    if (sequence == 2 && byte == 0xc2 && s[i + 1] < 0xa0)
      code = s[i + 1];
    if (sequence == 0) {
      log_line_append_str(line, "\xef\xbf\xbd"); /* U+FFFD */
      i += invalid;
      continue;
    }
    if (byte == '"' || byte == '\\') {
      char escaped[2] = {'\\', (char)byte};
      log_line_append(line, escaped, 2);
    } else if (byte == '\n') {
      log_line_append_str(line, "\\n");
    } else if (byte == '\t') {
      log_line_append_str(line, "\\t");
    } else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) {
      char escaped[6] = {'\\', 'u', '0', '0', hex[code >> 4], hex[code & 0xf]};
      log_line_append(line, escaped, sizeof escaped);
    } else {
      log_line_append(line, bytes + i, sequence);
    }
    i += sequence;
  }
}

/* Appends bytes that need no escaping. A run that ends within marked_room goes in with one
 * copy (the access log appends one per request field); one that may be cut goes in byte by
 * byte, so that the line is cut exactly where byte-wise appending would cut it. */
static void append_plain_run(log_line *line, const char *bytes, size_t len) {
  if (!line->truncated && line->len <= line->marked_room && len <= line->marked_room - line->len) {
    log_line_append(line, bytes, len);
    return;
  }
  for (size_t i = 0; i < len && !line->truncated; i++)
    log_line_append(line, bytes + i, 1);
}

void log_line_append_escaped(log_line *line, const char *bytes, size_t len, log_escape escape) {
  size_t run_start = 0;
  for (size_t i = 0; i < len && !line->truncated; i++) {
    char escaped[4];
    size_t escaped_len = escape_byte((unsigned char)bytes[i], escape, escaped);
    if (escaped_len == 1)
      continue;
    append_plain_run(line, bytes + run_start, i - run_start);
    log_line_append(line, escaped, escaped_len);
    run_start = i + 1;
  }
  append_plain_run(line, bytes + run_start, len - run_start);
}

size_t log_line_finish(log_line *line) {
  if (line->size == 0)
    return 0;
  /* room and marked_room guarantee the tail fits whenever the buffer can hold it at all. */
  size_t tail_room = line->size - 1 - line->len;
  if (line->truncated && tail_room > MARK_LEN) {
    memcpy(line->buf + line->len, truncation_mark, MARK_LEN);
    line->len += MARK_LEN;
    tail_room -= MARK_LEN;
  }
  if (tail_room > 0)
    line->buf[line->len++] = '\n';
  line->buf[line->len] = '\0';
  return line->len;
}

void log_line_append_json_key(log_line *line, const char *name, bool first) {
  log_line_append_str(line, first ? "\"" : ",\"");
  log_line_append_str(line, name);
  log_line_append_str(line, "\":");
}
