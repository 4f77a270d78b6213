/*
 * fuzz_settings.c - the settings loaders (src/settings/): INI text, the command line and the
 * environment, stacked as asgid_settings_load_args stacks them.
 *
 * Input layout: parts separated by NUL bytes. The first part is INI text; the next ones are
 * command-line arguments, up to an empty part; the rest are environment entries
 * ("ASGID_WORKERS=4"). The INI text reaches load_args as the configuration file through an
 * in-memory file (memfd), so the target never touches a real file: arguments that name a
 * configuration file (-c, --config) and ASGID_CONFIG are left out of what is fuzzed.
 *
 * Checked: every error is one line of the error stream and the INI loader's count matches
 * them; whatever loaded without error survives the trip a spawned worker's settings make
 * (asgid_settings_serialize, then asgid_settings_deserialize on defaults) value for value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_check.h"
#include "settings/settings.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

static int config_fd = -1;
static char config_path[64];
static FILE *print_config_output;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  config_fd = memfd_create("fuzz-asgid.ini", MFD_CLOEXEC);
  FUZZ_CHECK(config_fd >= 0);
  snprintf(config_path, sizeof config_path, "/proc/self/fd/%d", config_fd);
  print_config_output = fopen("/dev/null", "w");
  FUZZ_CHECK(print_config_output);
  return 0;
}

/* The error stream of one call, in memory. */
typedef struct error_stream {
  FILE *file;
  char *text;
  size_t size;
} error_stream;

static void errors_open(error_stream *e) {
  *e = (error_stream){0};
  e->file = open_memstream(&e->text, &e->size);
  FUZZ_CHECK(e->file);
}

/* The length of the UTF-8 sequence at text[0..size), or 0 when it is not one (overlong
 * forms, surrogates and code points above U+10FFFF are not). */
static size_t utf8_length(const unsigned char *text, size_t size) {
  unsigned c = text[0];
  size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
           : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n == 0 || n > size) return 0;
  for (size_t i = 1; i < n; i++)
    if ((text[i] & 0xc0) != 0x80) return 0;
  if ((c == 0xe0 && text[1] < 0xa0) || (c == 0xed && text[1] > 0x9f) ||
      (c == 0xf0 && text[1] < 0x90) || (c == 0xf4 && text[1] > 0x8f))
    return 0;
  return n;
}

/* Closes the stream and returns how many lines it holds. An error message is one line, and
 * it shows what it quotes escaped (src/settings: settings_escaped): valid UTF-8 with no
 * control character but the newline that ends each line. */
static size_t errors_close(error_stream *e) {
  FUZZ_CHECK(fclose(e->file) == 0);
  const unsigned char *text = (const unsigned char *)e->text;
  size_t lines = 0;
  for (size_t i = 0; i < e->size;) {
    size_t n = utf8_length(text + i, e->size - i);
    FUZZ_CHECK(n > 0);
    unsigned c = text[i];
    FUZZ_CHECK(c == '\n' || (c >= 0x20 && c != 0x7f));
    FUZZ_CHECK(!(c == 0xc2 && text[i + 1] < 0xa0)); /* C1 controls */
    if (c == '\n') lines++;
    i += n;
  }
  FUZZ_CHECK(e->size == 0 || text[e->size - 1] == '\n');
  free(e->text);
  return lines;
}

/* A spawned worker gets the master's settings serialized: they must load without error into
 * the same values. */
static void check_round_trip(const asgid_settings *s) {
  size_t len;
  char *data = asgid_settings_serialize(s, &len);
  FUZZ_CHECK(data);
  asgid_settings copy;
  FUZZ_CHECK(asgid_settings_init_defaults(&copy) == 0);
  error_stream e;
  errors_open(&e);
  int errors = asgid_settings_deserialize(&copy, data, len, e.file);
  size_t lines = errors_close(&e);
  FUZZ_CHECK(errors == 0 && lines == 0);
  size_t again_len;
  char *again = asgid_settings_serialize(&copy, &again_len);
  FUZZ_CHECK(again && again_len == len && memcmp(data, again, len) == 0);
  free(again);
  free(data);
  asgid_settings_free(&copy);
}

static int names_config_file(const char *arg) {
  return (arg[0] == '-' && arg[1] == 'c') || strncmp(arg, "--config", 8) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
  /* NUL-terminated parts: a copy with a NUL after the last one */
  char *text = malloc(size + 1);
  FUZZ_CHECK(text);
  memcpy(text, input, size);
  text[size] = '\0';
  char **argv = malloc(sizeof *argv * (size + 4));
  char **envp = malloc(sizeof *envp * (size + 2));
  FUZZ_CHECK(argv && envp);
  int argc = 0;
  size_t envc = 0;
  argv[argc++] = "asgid";
  argv[argc++] = "-c";
  argv[argc++] = config_path;
  const char *ini = text;
  int in_environment = 0;
  for (char *part = text + strlen(text) + 1; part <= text + size; part += strlen(part) + 1) {
    if (!in_environment && !*part)
      in_environment = 1;
    else if (!in_environment && !names_config_file(part))
      argv[argc++] = part;
    else if (in_environment && *part && strncmp(part, "ASGID_CONFIG=", 13) != 0)
      envp[envc++] = part;
  }
  argv[argc] = NULL;
  envp[envc] = NULL;

  /* the INI text alone */
  asgid_settings s;
  FUZZ_CHECK(asgid_settings_init_defaults(&s) == 0);
  error_stream e;
  errors_open(&e);
  int errors = asgid_settings_apply_ini(&s, ini, "fuzz.ini", ASGID_SOURCE_FILE, e.file);
  FUZZ_CHECK(errors >= 0 && (size_t)errors == errors_close(&e));
  if (errors == 0) check_round_trip(&s);
  asgid_settings_free(&s);

  /* every layer */
  size_t ini_len = strlen(ini);
  FUZZ_CHECK(ftruncate(config_fd, 0) == 0);
  FUZZ_CHECK(pwrite(config_fd, ini, ini_len, 0) == (ssize_t)ini_len);
  errors_open(&e);
  asgid_settings_action action = asgid_settings_load_args(&s, argc, argv, envp, e.file);
  if (action == ASGID_ACTION_RUN || action == ASGID_ACTION_PRINT_CONFIG ||
      action == ASGID_ACTION_CHECK_CONFIG) {
    /* values as they parse (raw bytes included, as a file holds them): not error messages */
    asgid_settings_print_config(&s, print_config_output);
    check_round_trip(&s);
  }
  size_t lines = errors_close(&e);
  FUZZ_CHECK(action != ASGID_ACTION_ERROR || lines > 0);
  asgid_settings_free(&s);

  free(envp);
  free(argv);
  free(text);
  return 0;
}
