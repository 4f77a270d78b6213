/*
 * test_ws_utf8.c - the incremental UTF-8 validator: agrees with a decoder written another way
 * on every 1- to 3-byte sequence and on the 4-byte forms that matter, fails at the first byte
 * that can never be valid (Autobahn 6.x "fail fast"), whatever the pieces the text arrives in,
 * and tells an incomplete end from a complete one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "websocket/utf8.h"

/* A reference: decodes each code point arithmetically and checks its range. */
static int reference_valid(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t b = s[i];
    size_t need;
    uint32_t cp, min;
    if (b < 0x80) {
      i++;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      need = 1, cp = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      need = 2, cp = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      need = 3, cp = b & 0x07, min = 0x10000;
    } else {
      return 0;
    }
    if (n - i <= need) return 0;
    for (size_t k = 1; k <= need; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return 0;
      cp = cp << 6 | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    i += need + 1;
  }
  return 1;
}

static void test_agrees_with_a_reference_decoder(void **state) {
  (void)state;
  uint8_t s[4];
  for (unsigned a = 0; a < 256; a++) {
    s[0] = (uint8_t)a;
    assert_int_equal(ws_utf8_valid(s, 1), reference_valid(s, 1));
    for (unsigned b = 0; b < 256; b++) {
      s[1] = (uint8_t)b;
      assert_int_equal(ws_utf8_valid(s, 2), reference_valid(s, 2));
      if (a < 0xC0) continue; /* longer sequences only matter after a lead byte */
      for (unsigned c = 0; c < 256; c++) {
        s[2] = (uint8_t)c;
        if (ws_utf8_valid(s, 3) != reference_valid(s, 3)) fail_msg("%02x %02x %02x", a, b, c);
        if (a < 0xF0) continue;
        static const uint8_t fourth[] = {0x41, 0x7F, 0x80, 0x9F, 0xA0, 0xBF, 0xC0, 0xF4};
        for (size_t d = 0; d < sizeof fourth; d++) {
          s[3] = fourth[d];
          if (ws_utf8_valid(s, 4) != reference_valid(s, 4))
            fail_msg("%02x %02x %02x %02x", a, b, c, s[3]);
        }
      }
    }
  }
}

static void test_boundaries_of_the_code_space(void **state) {
  (void)state;
  static const struct {
    const char *bytes;
    int valid;
  } cases[] = {
      {"\xC2\x80", 1},         {"\xDF\xBF", 1},         {"\xE0\xA0\x80", 1},
      {"\xEF\xBF\xBF", 1},     {"\xED\x9F\xBF", 1},     {"\xEE\x80\x80", 1},
      {"\xF0\x90\x80\x80", 1}, {"\xF4\x8F\xBF\xBF", 1}, {"\xEF\xBF\xBE", 1}, /* U+FFFE */
      {"\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5", 1},                    /* κόσμε */
      {"\xC0\x80", 0},         {"\xC1\xBF", 0},         {"\xE0\x9F\xBF", 0},
      {"\xED\xA0\x80", 0},     {"\xED\xBF\xBF", 0},     {"\xF0\x8F\xBF\xBF", 0},
      {"\xF4\x90\x80\x80", 0}, {"\xF5\x80\x80\x80", 0}, {"\xFF", 0},
      {"\x80", 0},             {"\xC2", 0},             {"\xF0\x90\x80", 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const uint8_t *b = (const uint8_t *)cases[i].bytes;
    if (ws_utf8_valid(b, strlen(cases[i].bytes)) != cases[i].valid) fail_msg("case %zu", i);
  }
  assert_true(ws_utf8_valid(NULL, 0));
}

/* Where each invalid text must fail: the first byte after which no continuation is valid. */
static const struct {
  const char *text;
  size_t fails_at;
} fail_fast_cases[] = {
    {"\xC0\x80", 0},           /* overlong lead: never valid */
    {"\x80", 0},               /* continuation with no lead */
    {"\xF5\x80\x80\x80", 0},   /* past U+10FFFF already in the lead */
    {"a\xE0\x80\x80", 2},      /* overlong: E0 needs A0..BF */
    {"ab\xED\xA0\x80", 3},     /* surrogate */
    {"\xF0\x8F\xBF\xBF", 1},   /* overlong 4-byte */
    {"\xF4\x90\x80\x80", 1},   /* past U+10FFFF */
    {"\xC2\x41", 1},           /* lead followed by ASCII */
    {"\xE1\x80\xC2\x80", 2},   /* lead where a continuation must stand */
    /* Autobahn 6.4.1: κόσμε, then a code point past U+10FFFF, then "edited" */
    {"\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\xF4\x90\x80\x80\x65\x64\x69\x74\x65\x64", 12},
    /* Autobahn 6.4.3: κόσμε, then a surrogate */
    {"\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\xED\xA0\x80", 12},
};

static void test_fails_at_the_first_impossible_byte(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof fail_fast_cases / sizeof fail_fast_cases[0]; i++) {
    const uint8_t *t = (const uint8_t *)fail_fast_cases[i].text;
    size_t len = strlen(fail_fast_cases[i].text);
    /* whole */
    ws_utf8 v;
    ws_utf8_init(&v);
    size_t at = 999;
    assert_int_equal(ws_utf8_feed(&v, t, len, &at), -1);
    if (at != fail_fast_cases[i].fails_at) fail_msg("case %zu failed at %zu", i, at);
    /* one byte at a time: every byte before the position passes */
    ws_utf8_init(&v);
    for (size_t k = 0; k < len; k++) {
      int rc = ws_utf8_feed(&v, t + k, 1, &at);
      if (k < fail_fast_cases[i].fails_at) {
        if (rc != 0) fail_msg("case %zu: byte %zu refused early", i, k);
      } else {
        if (rc != -1 || at != 0) fail_msg("case %zu: byte %zu not refused", i, k);
        break;
      }
    }
    /* a failed validator stays failed, even on valid bytes */
    assert_int_equal(ws_utf8_feed(&v, (const uint8_t *)"a", 1, NULL), -1);
    assert_false(ws_utf8_complete(&v));
  }
}

static void test_position_past_the_ascii_fast_path(void **state) {
  (void)state;
  uint8_t text[64];
  for (size_t bad = 0; bad < 40; bad++) {
    memset(text, 'x', sizeof text);
    text[bad] = 0xFF;
    ws_utf8 v;
    ws_utf8_init(&v);
    size_t at = 0;
    assert_int_equal(ws_utf8_feed(&v, text, sizeof text, &at), -1);
    assert_int_equal(at, bad);
  }
  memset(text, 'x', sizeof text);
  assert_true(ws_utf8_valid(text, sizeof text));
}

static void test_split_sequences_carry_across_pieces(void **state) {
  (void)state;
  /* U+10348 (4 bytes), U+20AC (3), U+00E9 (2), 'a': split at every pair of points */
  static const uint8_t text[] = {0xF0, 0x90, 0x8D, 0x88, 0xE2, 0x82, 0xAC, 0xC3, 0xA9, 'a'};
  size_t len = sizeof text;
  for (size_t i = 0; i <= len; i++) {
    for (size_t j = i; j <= len; j++) {
      ws_utf8 v;
      ws_utf8_init(&v);
      assert_int_equal(ws_utf8_feed(&v, text, i, NULL), 0);
      assert_int_equal(ws_utf8_feed(&v, text + i, j - i, NULL), 0);
      assert_int_equal(ws_utf8_feed(&v, text + j, len - j, NULL), 0);
      assert_true(ws_utf8_complete(&v));
    }
  }
  /* ending inside a code point is incomplete, not invalid */
  for (size_t cut = 1; cut < 4; cut++) {
    ws_utf8 v;
    ws_utf8_init(&v);
    assert_int_equal(ws_utf8_feed(&v, text, cut, NULL), 0);
    assert_false(ws_utf8_complete(&v));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_agrees_with_a_reference_decoder),
      cmocka_unit_test(test_boundaries_of_the_code_space),
      cmocka_unit_test(test_fails_at_the_first_impossible_byte),
      cmocka_unit_test(test_position_past_the_ascii_fast_path),
      cmocka_unit_test(test_split_sequences_carry_across_pieces),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
