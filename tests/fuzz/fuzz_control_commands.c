/*
 * fuzz_control_commands.c - the master's reader of an asgid --control line
 * (src/master/control_commands.c), driven as control_server.c drives it: the bytes arrive in
 * reads the fuzzer cuts (fuzz_reads.h) into a buffer of CONTROL_LINE_MAX bytes, the line is
 * parsed after each read, and once more, as complete, when the stream ends undecided.
 *
 * The outcome is compared with a model of the contract in control_commands.h: the line is
 * the bytes before the first newline (or all of them at the end), without one '\r' before
 * the newline; longer than CONTROL_LINE_MAX with its newline, it is refused as too long as
 * soon as the buffer is full; otherwise it is a command exactly when it is a command's word.
 * Every refusal is one line of printable ASCII, the reason an answer carries.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_reads.h"
#include "master/control_commands.h"

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

static void check_reason(const char *why) {
  FUZZ_CHECK(why[0] != '\0');
  for (const char *p = why; *p; p++) FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
}

/* What the reader must decide for the whole stream: the command, or NULL with too_long. */
static const control_command *model(const uint8_t *stream, size_t size, int *too_long) {
  *too_long = 0;
  if (size == 0) return NULL; /* an empty command */
  const uint8_t *newline = memchr(stream, '\n', size);
  size_t end = newline ? (size_t)(newline - stream) : size;
  *too_long = end + 1 > CONTROL_LINE_MAX;
  if (*too_long) return NULL;
  if (end > 0 && stream[end - 1] == '\r') end--;
  for (size_t i = 0; i < control_command_count; i++)
    if (strlen(control_commands[i].word) == end &&
        memcmp(control_commands[i].word, stream, end) == 0)
      return &control_commands[i];
  return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
  fuzz_reads reads;
  fuzz_reads_init(&reads, input, size);
  char line[CONTROL_LINE_MAX];
  size_t len = 0;
  char why[CONTROL_ANSWER_MAX];
  const control_command *command = NULL;
  int decided = 0;
  size_t n;
  while (!decided && (n = fuzz_reads_next(&reads)) > 0) {
    /* libuv reads at most the room the buffer has left; the rest waits for the next read */
    size_t from = reads.arrived - n;
    while (n > 0 && !decided) {
      size_t take = n < sizeof line - len ? n : sizeof line - len;
      memcpy(line + len, reads.stream + from, take);
      len += take;
      from += take;
      n -= take;
      command = control_command_parse(line, len, 0, why, sizeof why);
      decided = command || why[0];
      FUZZ_CHECK(decided || len < sizeof line); /* a full buffer is always decided */
    }
  }
  if (!decided) {
    command = control_command_parse(line, len, 1, why, sizeof why);
    FUZZ_CHECK(command || why[0]);
  }
  int too_long;
  const control_command *expected = model(reads.stream, reads.size, &too_long);
  FUZZ_CHECK(command == expected);
  if (!command) check_reason(why);
  FUZZ_CHECK(!too_long || strstr(why, "longer than") != NULL);
  return 0;
}
