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

/* The distance between name and candidate when the candidate is near enough to suggest (at
 * most two edits, and fewer edits than `name` has characters: as many would turn anything
 * into anything), else (size_t)-1. Lengths further apart than two edits are not compared:
 * every unknown key or option is measured against every setting, and the fuzzer's long
 * garbage names made that the costliest part of loading settings. */
static size_t near_distance(const char *name, size_t length, const char *candidate,
                            size_t candidate_length) {
  size_t gap = length > candidate_length ? length - candidate_length : candidate_length - length;
  if (gap > 2)
    return (size_t)-1;
  size_t distance = settings_edit_distance(name, length, candidate, candidate_length);
  return distance <= 2 && distance < length ? distance : (size_t)-1;
}

bool settings_name_is_near(const char *name, size_t length, const char *candidate) {
  return near_distance(name, length, candidate, strlen(candidate)) != (size_t)-1;
}

void settings_guess_offer(settings_guess *guess, const char *candidate) {
  size_t distance = near_distance(guess->name, guess->length, candidate, strlen(candidate));
  if (distance != (size_t)-1 && (!guess->nearest || distance < guess->nearest_distance)) {
    guess->nearest = candidate;
    guess->nearest_distance = distance;
  }
}

/* Whether `text` begins with the `length` bytes of `prefix`, case, '-' and '_' ignored. */
static bool begins_alike(const char *text, const char *prefix, size_t length) {
  for (size_t i = 0; i < length; i++)
    if (text[i] == '\0' || folded(text[i]) != folded(prefix[i]))
      return false;
  return true;
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
        begins_alike(settings_descriptors[i].name, name, length))
      return &settings_descriptors[i];
  return NULL;
}
