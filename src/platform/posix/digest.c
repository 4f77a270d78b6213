/* digest.c - SHA-1 from OpenSSL's libcrypto (see platform.h). */
#include <openssl/evp.h>
#include <string.h>

#include "platform/platform.h"

int platform_sha1(const void *data, size_t len, unsigned char digest[20]) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  if (EVP_Digest(data, len, out, &out_len, EVP_sha1(), NULL) != 1 || out_len != 20) return -1;
  memcpy(digest, out, 20);
  return 0;
}
