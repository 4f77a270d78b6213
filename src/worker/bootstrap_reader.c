/* bootstrap_reader.c - decoding a spawned worker's bootstrap. See bootstrap_reader.h.
 *
 * Every number is checked against the bounds of bootstrap_format.h before it sizes or
 * offsets anything, and lines are scanned from a bounded, NUL-terminated copy: sscanf on the
 * receive buffer itself read on past the received bytes (to the first NUL it met), a record
 * length near SIZE_MAX wrapped the "has it all arrived" sum, and a listener count of -1 or
 * 10^8 sized one allocation. tests/fuzz (fuzz_bootstrap) found all three. */
#include "worker/bootstrap_reader.h"

#include <stdlib.h>
#include <string.h>

#include "platform/platform.h"
#include "worker/bootstrap_format.h"
#include "worker/channel_codec.h"

/* The line at the front of `available` bytes, NUL-terminated in `line` without its newline.
 * Returns its length with the newline; 0 when its end has not arrived; -1 when it is longer
 * than any bootstrap line. */
static long take_line(const char *start, size_t available, char line[BOOTSTRAP_LINE_MAX]) {
  size_t scan = available < BOOTSTRAP_LINE_MAX ? available : BOOTSTRAP_LINE_MAX;
  const char *newline = memchr(start, '\n', scan);
  if (!newline) return available < BOOTSTRAP_LINE_MAX ? 0 : -1;
  size_t len = (size_t)(newline - start);
  memcpy(line, start, len);
  line[len] = '\0';
  return (long)len + 1;
}

/* A binary replaced on disk (a package upgrade) while its master runs is spawned by a master
 * that speaks another channel protocol: say so, rather than fail as on garbage. */
static int check_version(int version, FILE *err) {
  if (version == CHANNEL_VERSION) return 0;
  fprintf(err, "asgid --spawned-worker: the master speaks channel protocol version %d, this "
          "binary version %d: the asgid binary was replaced since the master started; restart "
          "the service (or send USR2 to start the new binary's master)\n", version,
          CHANNEL_VERSION);
  return -1;
}

static int decode_header(bootstrap_reader *r, const char *line, FILE *err) {
  int end = -1, version = 0;
  if (sscanf(line, BOOTSTRAP_UNVERSIONED_HEADER_SCAN "%n", &end) == 0 && end >= 0 &&
      line[end] == '\0')
    return check_version(0, err);
  end = -1;
  if (sscanf(line, BOOTSTRAP_HEADER_SCAN "%n", &version, &r->id, &r->listener_count,
             &r->settings_len, &end) != 4 ||
      end < 0 || line[end] != '\0' || r->listener_count > BOOTSTRAP_LISTENERS_MAX)
    return -1;
  if (check_version(version, err) != 0) return -1;
  r->listeners.items = calloc(r->listener_count ? r->listener_count : 1,
                              sizeof *r->listeners.items);
  if (!r->listeners.items) return -1;
  for (size_t i = 0; i < r->listener_count; i++)
    r->listeners.items[i].socket = PLATFORM_INVALID_SOCKET;
  r->listeners.count = r->listener_count;
  r->header_done = 1;
  return 0;
}

static int decode_settings(bootstrap_reader *r, const char *data, FILE *err) {
  if (asgid_settings_init_defaults(&r->settings) != 0 ||
      asgid_settings_deserialize(&r->settings, data, r->settings_len, err) != 0)
    return -1;
  r->settings_loaded = 1;
  return 0;
}

/* One listener record whose line is `line` (line_len bytes with its newline) at `start`.
 * Returns the record's length, 0 when it has not all arrived, -1 when it is malformed. */
static long decode_record(bootstrap_reader *r, const char *line, size_t line_len,
                          const char *start, size_t available) {
  char kind[8];
  int port, end = -1;
  size_t name_len, host_len;
  if (sscanf(line, BOOTSTRAP_LISTENER_SCAN "%n", kind, &port, &name_len, &host_len, &end) != 4 ||
      end < 0)
    return -1;
  int proxy_protocol = strcmp(line + end, BOOTSTRAP_PROXY_PROTOCOL) == 0;
  if (line[end] != '\0' && !proxy_protocol) return -1;
  int is_unix = strcmp(kind, "unix") == 0;
  if ((!is_unix && strcmp(kind, "tcp") != 0) || port < -1 || port > 65535 ||
      name_len > BOOTSTRAP_RECORD_MAX || host_len > BOOTSTRAP_RECORD_MAX - name_len ||
      line_len > BOOTSTRAP_RECORD_MAX - name_len - host_len)
    return -1;
  size_t record_len = line_len + name_len + host_len;
  if (available < record_len) return 0;
  const char *name = start + line_len, *host = name + name_len;
  if (memchr(name, '\0', name_len + host_len)) return -1;
  listener *l = &r->listeners.items[r->records++];
  l->kind = is_unix ? LISTENER_UNIX : LISTENER_TCP;
  l->port = port;
  l->proxy_protocol = proxy_protocol;
  l->name = platform_strndup(name, name_len);
  l->host = platform_strndup(host, host_len);
  if (!l->name || !l->host) return -1;
  return (long)record_len;
}

int bootstrap_reader_decode(bootstrap_reader *r, const char *stream, size_t len, FILE *err) {
  for (;;) {
    const char *start = stream + r->parsed;
    size_t available = len - r->parsed;
    if (r->header_done && !r->settings_loaded) {
      if (available < r->settings_len) return 0;
      if (decode_settings(r, start, err) != 0) return -1;
      r->parsed += r->settings_len;
      continue;
    }
    if (r->header_done && r->records == r->listener_count) return 0;
    char line[BOOTSTRAP_LINE_MAX];
    long line_len = take_line(start, available, line);
    if (line_len <= 0) return (int)line_len;
    if (!r->header_done) {
      if (decode_header(r, line, err) != 0) return -1;
      r->parsed += (size_t)line_len;
      continue;
    }
    long record_len = decode_record(r, line, (size_t)line_len, start, available);
    if (record_len <= 0) return (int)record_len;
    r->parsed += (size_t)record_len;
  }
}

int bootstrap_reader_complete(const bootstrap_reader *r) {
  return r->header_done && r->settings_loaded && r->records == r->listener_count;
}

void bootstrap_reader_free(bootstrap_reader *r) {
  listener_set_close(&r->listeners, 0);
  asgid_settings_free(&r->settings);
  memset(r, 0, sizeof *r);
}
