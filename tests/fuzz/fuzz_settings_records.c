/*
 * fuzz_settings_records.c - a spawned worker's decoder of the settings its master sends
 * (asgid_settings_deserialize, src/settings/settings_serialize.c): length-prefixed records,
 * "NAME LENGTH\n" then LENGTH bytes. The input is the records, applied to the defaults as
 * bootstrap_reader.c applies them.
 *
 * Checked: every error is one line of the error stream and the count matches them; records
 * that load without error serialize and load again to the same values.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "settings/settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

/* Applies `len` bytes of records to defaults; returns the errors, checked against the lines
 * written. */
static int load(asgid_settings *s, const char *data, size_t len) {
  FUZZ_CHECK(asgid_settings_init_defaults(s) == 0);
  char *text = NULL;
  size_t text_size = 0;
  FILE *err = open_memstream(&text, &text_size);
  FUZZ_CHECK(err);
  int errors = asgid_settings_deserialize(s, data, len, err);
  FUZZ_CHECK(fclose(err) == 0);
  size_t lines = 0;
  for (size_t i = 0; i < text_size; i++) lines += text[i] == '\n';
  FUZZ_CHECK(errors >= 0 && (size_t)errors == lines);
  FUZZ_CHECK(text_size == 0 || text[text_size - 1] == '\n');
  free(text);
  return errors;
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
  /* an exact-size copy: a read past the records shows under ASan */
  char *data = malloc(size ? size : 1);
  FUZZ_CHECK(data);
  memcpy(data, input, size);
  asgid_settings s;
  if (load(&s, data, size) == 0) {
    size_t len;
    char *serialized = asgid_settings_serialize(&s, &len);
    FUZZ_CHECK(serialized);
    asgid_settings copy;
    FUZZ_CHECK(load(&copy, serialized, len) == 0);
    size_t again_len;
    char *again = asgid_settings_serialize(&copy, &again_len);
    FUZZ_CHECK(again && again_len == len && memcmp(serialized, again, len) == 0);
    free(again);
    free(serialized);
    asgid_settings_free(&copy);
  }
  asgid_settings_free(&s);
  free(data);
  return 0;
}
