/* status.h - reason phrases for HTTP status codes. */
#ifndef ASGID_HTTP_STATUS_H
#define ASGID_HTTP_STATUS_H

/* The RFC 9110 reason phrase of status, or "Unknown" for a code without one. */
const char *http_status_reason(int status);

#endif /* ASGID_HTTP_STATUS_H */
