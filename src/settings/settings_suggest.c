/*
 * settings_suggest.c - "did you mean ...?": the setting nearest to a name that is none.
 *
 * Typos are measured as Damerau-Levenshtein distance (optimal string alignment: an insertion,
 * a deletion, a substitution or two adjacent characters swapped each count 1), with case,
 * '-' and '_' ignored so that INI keys, --long-options and ASGID_* variables compare alike.
 * Two edits catch the usual slips ("worker", "keepalive_timout", "loglevel", "errorlog")
 * without suggesting something unrelated for a short name.
 */
#include "settings/settings_descriptor.h"

#include <ctype.h>
#include <string.h>

/* Longer names are never compared: no setting is anywhere near that long. */
enum { LONGEST_COMPARED = SETTINGS_ENV_NAME_SIZE };

/* The shortest name taken as the beginning of a longer one. */
enum { SHORTEST_PREFIX = 4 };

static char folded(char c) { return c == '-' ? '_' : (char)tolower((unsigned char)c); }

size_t settings_edit_distance(const char *a, size_t a_length, const char *b, size_t b_length) {
  if (a_length > LONGEST_COMPARED || b_length > LONGEST_COMPARED)
    return (size_t)-1;
  /* three rows of the dynamic-programming table: i-2, i-1 and i */
  size_t rows[3][LONGEST_COMPARED + 1];
  for (size_t j = 0; j <= b_length; j++)
    rows[0][j] = j;
  size_t *before = NULL, *previous = rows[0], *current = rows[1];
  for (size_t i = 1; i <= a_length; i++) {
    current[0] = i;
    for (size_t j = 1; j <= b_length; j++) {
      size_t cost = folded(a[i - 1]) == folded(b[j - 1]) ? 0 : 1;
      size_t best = previous[j - 1] + cost;
      if (previous[j] + 1 < best)
        best = previous[j] + 1;
      if (current[j - 1] + 1 < best)
        best = current[j - 1] + 1;
      if (before && i > 1 && j > 1 && folded(a[i - 1]) == folded(b[j - 2]) &&
          folded(a[i - 2]) == folded(b[j - 1]) && before[j - 2] + 1 < best)
        best = before[j - 2] + 1;
      current[j] = best;
    }
    size_t *free_row = before ? before : rows[2];
    before = previous;
    previous = current;
    current = free_row;
  }
  return previous[b_length];
}

bool settings_name_is_near(const char *name, size_t length, const char *candidate) {
  size_t distance = settings_edit_distance(name, length, candidate, strlen(candidate));
  /* as many edits as the name has characters would turn anything into anything */
  return distance <= 2 && distance < length;
}

void settings_guess_offer(settings_guess *guess, const char *candidate) {
  size_t distance = settings_edit_distance(guess->name, guess->length, candidate, strlen(candidate));
  if ((!guess->nearest || distance < guess->nearest_distance) &&
      settings_name_is_near(guess->name, guess->length, candidate)) {
    guess->nearest = candidate;
    guess->nearest_distance = distance;
  }
}

const settings_descriptor *settings_nearest(const char *name, size_t length) {
  settings_guess guess = {.name = name, .length = length};
  for (size_t i = 0; i < ASGID_SETTING_COUNT; i++)
    settings_guess_offer(&guess, settings_descriptors[i].name);
  if (guess.nearest)
    return settings_find(guess.nearest, strlen(guess.nearest));
  /* a shortened name ("keepalive" for keepalive_timeout): the first setting it begins; not
   * for a name of a few letters, which begins too many */
  for (size_t i = 0; length >= SHORTEST_PREFIX && i < ASGID_SETTING_COUNT; i++)
    if (strlen(settings_descriptors[i].name) > length &&
        settings_edit_distance(name, length, settings_descriptors[i].name, length) == 0)
      return &settings_descriptors[i];
  return NULL;
}
