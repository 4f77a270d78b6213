/*
 * utf8.c - see utf8.h.
 *
 * The automaton follows the table of well-formed byte sequences in the Unicode Standard
 * (chapter 3, table 3-7): each byte is sorted into a class by the ranges that table uses,
 * and the state says what the next byte may be. Written out here rather than generated, so
 * that each rule is visible.
 */
#include "websocket/utf8.h"

#include <string.h>

enum utf8_state {
  S_ACCEPT,  /* between code points */
  S_TAIL1,   /* one more 80..BF */
  S_TAIL2,   /* two more 80..BF */
  S_TAIL3,   /* three more 80..BF */
  S_E0,      /* after E0: A0..BF (below is overlong), then one */
  S_ED,      /* after ED: 80..9F (above are surrogates), then one */
  S_F0,      /* after F0: 90..BF (below is overlong), then two */
  S_F4,      /* after F4: 80..8F (above is past U+10FFFF), then two */
  S_REJECT,
  STATE_COUNT
};

enum utf8_class {
  C_ASCII,   /* 00..7F */
  C_80_8F,
  C_90_9F,
  C_A0_BF,
  C_NEVER,   /* C0, C1 (overlong two-byte forms), F5..FF (past U+10FFFF) */
  C_C2_DF,   /* lead of two */
  C_E0,
  C_E1_EF,   /* lead of three except E0 and ED */
  C_ED,
  C_F0,
  C_F1_F3,
  C_F4,
  CLASS_COUNT
};

#define ROW16(c) c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c
static const uint8_t byte_class[256] = {
    ROW16(C_ASCII), ROW16(C_ASCII), ROW16(C_ASCII), ROW16(C_ASCII),  /* 00..3F */
    ROW16(C_ASCII), ROW16(C_ASCII), ROW16(C_ASCII), ROW16(C_ASCII),  /* 40..7F */
    ROW16(C_80_8F), ROW16(C_90_9F), ROW16(C_A0_BF), ROW16(C_A0_BF),  /* 80..BF */
    C_NEVER, C_NEVER, C_C2_DF, C_C2_DF, C_C2_DF, C_C2_DF, C_C2_DF, C_C2_DF, /* C0..C7 */
    C_C2_DF, C_C2_DF, C_C2_DF, C_C2_DF, C_C2_DF, C_C2_DF, C_C2_DF, C_C2_DF, /* C8..CF */
    ROW16(C_C2_DF),                                                  /* D0..DF */
    C_E0, C_E1_EF, C_E1_EF, C_E1_EF, C_E1_EF, C_E1_EF, C_E1_EF, C_E1_EF,    /* E0..E7 */
    C_E1_EF, C_E1_EF, C_E1_EF, C_E1_EF, C_E1_EF, C_ED, C_E1_EF, C_E1_EF,    /* E8..EF */
    C_F0, C_F1_F3, C_F1_F3, C_F1_F3, C_F4, C_NEVER, C_NEVER, C_NEVER,       /* F0..F7 */
    C_NEVER, C_NEVER, C_NEVER, C_NEVER, C_NEVER, C_NEVER, C_NEVER, C_NEVER, /* F8..FF */
};
#undef ROW16

#define R S_REJECT
static const uint8_t transition[STATE_COUNT][CLASS_COUNT] = {
    /*            ASCII    80..8F   90..9F   A0..BF   never  C2..DF   E0    E1..EF   ED    F0    F1..F3   F4 */
    [S_ACCEPT] = {S_ACCEPT, R,      R,       R,       R, S_TAIL1, S_E0, S_TAIL2, S_ED, S_F0, S_TAIL3, S_F4},
    [S_TAIL1] =  {R, S_ACCEPT, S_ACCEPT, S_ACCEPT,    R, R,       R,    R,       R,    R,    R,       R},
    [S_TAIL2] =  {R, S_TAIL1,  S_TAIL1,  S_TAIL1,     R, R,       R,    R,       R,    R,    R,       R},
    [S_TAIL3] =  {R, S_TAIL2,  S_TAIL2,  S_TAIL2,     R, R,       R,    R,       R,    R,    R,       R},
    [S_E0] =     {R, R,        R,        S_TAIL1,     R, R,       R,    R,       R,    R,    R,       R},
    [S_ED] =     {R, S_TAIL1,  S_TAIL1,  R,           R, R,       R,    R,       R,    R,    R,       R},
    [S_F0] =     {R, R,        S_TAIL2,  S_TAIL2,     R, R,       R,    R,       R,    R,    R,       R},
    [S_F4] =     {R, S_TAIL2,  R,        R,           R, R,       R,    R,       R,    R,    R,       R},
    [S_REJECT] = {R, R,        R,        R,           R, R,       R,    R,       R,    R,    R,       R},
};
#undef R

void ws_utf8_init(ws_utf8 *v) { v->state = S_ACCEPT; }

int ws_utf8_feed(ws_utf8 *v, const uint8_t *data, size_t len, size_t *invalid_at) {
  uint8_t state = v->state;
  if (state == S_REJECT) {
    if (invalid_at) *invalid_at = 0;
    return -1;
  }
  size_t i = 0;
  while (i < len) {
    /* Text is mostly ASCII: between code points, skip eight ASCII bytes at a time. */
    if (state == S_ACCEPT) {
      while (len - i >= 8) {
        uint64_t word;
        memcpy(&word, data + i, 8);
        if (word & UINT64_C(0x8080808080808080)) break;
        i += 8;
      }
      if (i == len) break;
    }
    state = transition[state][byte_class[data[i]]];
    if (state == S_REJECT) {
      v->state = S_REJECT;
      if (invalid_at) *invalid_at = i;
      return -1;
    }
    i++;
  }
  v->state = state;
  return 0;
}

int ws_utf8_complete(const ws_utf8 *v) { return v->state == S_ACCEPT; }

int ws_utf8_valid(const uint8_t *data, size_t len) {
  ws_utf8 v;
  ws_utf8_init(&v);
  return ws_utf8_feed(&v, data, len, NULL) == 0 && ws_utf8_complete(&v);
}
