/*
 * date.h - the Date header value (RFC 9110 §5.6.7), formatted at most once per second.
 * Loop thread only.
 */
#ifndef ASGID_HTTP_DATE_H
#define ASGID_HTTP_DATE_H

/* "Sat, 21 Nov 2026 13:25:43 GMT" for the current second (29 characters). */
const char *http_date_now(void);

#endif /* ASGID_HTTP_DATE_H */
