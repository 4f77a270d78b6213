/* text_capture.c - a stream whose text is read back, on Windows: there is no open_memstream,
 * so the text goes to a temporary file in the user's temporary directory (not tmpfile(),
 * which msvcrt creates in the root of the current drive, where a user may not write) that
 * is deleted when closed, and is read back at close. See platform.h. */
#include "platform/platform.h"

#include <winsock2.h>
#include <windows.h>
#include <stdlib.h>

int platform_text_capture_open(platform_text_capture *capture) {
  wchar_t dir[MAX_PATH + 1], path[MAX_PATH + 1];
  capture->text = NULL;
  capture->len = 0;
  capture->stream = NULL;
  DWORD n = GetTempPathW(MAX_PATH + 1, dir);
  if (n == 0 || n > MAX_PATH || GetTempFileNameW(dir, L"asg", 0, path) == 0) return -1;
  /* "D": deleted when closed; "T": kept in the cache rather than written out if it can be. */
  capture->stream = _wfopen(path, L"w+bTD");
  if (!capture->stream) DeleteFileW(path);
  return capture->stream ? 0 : -1;
}

char *platform_text_capture_close(platform_text_capture *capture) {
  FILE *f = capture->stream;
  capture->stream = NULL;
  long size = fflush(f) == 0 && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  char *text = size >= 0 ? malloc((size_t)size + 1) : NULL;
  if (text) {
    rewind(f);
    size_t got = fread(text, 1, (size_t)size, f);
    text[got] = '\0';
    capture->len = got;
  }
  fclose(f);
  return text;
}
