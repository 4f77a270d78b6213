/*
 * decoy.c - a program the Windows integration tests plant where a careless asgid.exe would
 * start one: C:\Program.exe (an unquoted path with spaces, CWE-428), asgid.exe in the working
 * directory and on PATH. If it ever runs it leaves "<its own path>.ran" beside itself, which
 * the tests look for, and exits with status 99.
 */
#include <windows.h>

int main(void) {
  wchar_t path[MAX_PATH + 8];
  DWORD n = GetModuleFileNameW(NULL, path, MAX_PATH);
  if (n == 0 || n >= MAX_PATH) return 98;
  lstrcpyW(path + n, L".ran");
  HANDLE h = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
  if (h != INVALID_HANDLE_VALUE) CloseHandle(h);
  return 99;
}
