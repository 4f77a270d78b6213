/* request_scope.c - the ASGI scope of a request head. See request_scope.h. */
#include "http/request_scope.h"

#include <stdlib.h>
#include <string.h>

#include "http/target.h"

/* Copies len bytes to *cursor as a NUL-terminated string and advances the cursor. */
static const char *put_string(char **cursor, const char *bytes, size_t len) {
  char *start = *cursor;
  if (len) memcpy(start, bytes, len);
  start[len] = '\0';
  *cursor += len + 1;
  return start;
}

char *http_request_scope_build(asgid_scope *scope, const http_head *head, const transport *t,
                               const asgid_settings *settings) {
  const char *target = head->arena + head->target_offset;
  const char *path, *query;
  size_t path_len, query_len;
  http_target_split(target, head->target_len, &path, &path_len, &query, &query_len);

  size_t headers_size = head->field_count * sizeof(asgid_header);
  size_t size = headers_size + (head->method_len + 1) + 2 * (path_len + 1) + (query_len + 1);
  char *storage = malloc(size);
  if (!storage) return NULL;
  asgid_header *headers = (asgid_header *)storage;
  for (size_t i = 0; i < head->field_count; i++) {
    const http_field *f = &head->fields[i];
    headers[i] = (asgid_header){head->arena + f->name_offset, f->name_len,
                                head->arena + f->value_offset, f->value_len};
  }
  char *cursor = storage + headers_size;

  scope->type = ASGID_SCOPE_HTTP;
  scope->type_name = "http";
  scope->http_version = head->http_minor ? "1.1" : "1.0";
  scope->scheme = "http";
  scope->method = put_string(&cursor, head->arena + head->method_offset, head->method_len);
  scope->raw_path = put_string(&cursor, path, path_len);
  scope->raw_path_len = path_len;
  char *decoded = cursor;
  scope->path_len = http_percent_decode(path, path_len, decoded);
  decoded[scope->path_len] = '\0';
  scope->path = decoded;
  cursor += path_len + 1;
  scope->query_string = put_string(&cursor, query, query_len);
  scope->query_string_len = query_len;
  scope->root_path = settings->root_path;
  scope->root_path_len = strlen(scope->root_path);
  scope->headers = headers;
  scope->header_count = head->field_count;
  if (t->listener->kind == LISTENER_TCP) {
    scope->client = (asgid_address){1, t->client_host, t->client_port};
    scope->server = (asgid_address){1, t->listener->host, t->listener->port};
  } else {
    scope->client = (asgid_address){0, NULL, 0};
    scope->server = (asgid_address){1, t->listener->host, -1};
  }
  return storage;
}
