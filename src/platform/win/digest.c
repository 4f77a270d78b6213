/* digest.c - SHA-1 from Windows' own crypto provider, CNG (see platform.h): no third-party
 * crypto library to build or ship. */
#include "platform/platform.h"

#include <windows.h>
#include <bcrypt.h>

int platform_sha1(const void *data, size_t len, unsigned char digest[20]) {
  if (len > ULONG_MAX) return -1;
  BCRYPT_ALG_HANDLE alg = NULL;
  BCRYPT_HASH_HANDLE hash = NULL;
  int rc = -1;
  if (BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA1_ALGORITHM, NULL, 0) < 0) return -1;
  if (BCryptCreateHash(alg, &hash, NULL, 0, NULL, 0, 0) >= 0 &&
      BCryptHashData(hash, (PUCHAR)data, (ULONG)len, 0) >= 0 &&
      BCryptFinishHash(hash, digest, 20, 0) >= 0)
    rc = 0;
  if (hash) BCryptDestroyHash(hash);
  BCryptCloseAlgorithmProvider(alg, 0);
  return rc;
}
