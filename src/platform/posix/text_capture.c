/* text_capture.c - a stream whose text is read back, on POSIX: open_memstream, which keeps the
 * text in memory. See platform.h. */
#include "platform/platform.h"

int platform_text_capture_open(platform_text_capture *capture) {
  capture->text = NULL;
  capture->len = 0;
  capture->stream = open_memstream(&capture->text, &capture->len);
  return capture->stream ? 0 : -1;
}

char *platform_text_capture_close(platform_text_capture *capture) {
  /* fclose stores the final buffer and length (NULL when it ran out of memory). */
  fclose(capture->stream);
  capture->stream = NULL;
  return capture->text;
}
