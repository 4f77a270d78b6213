# CMake toolchain: cross-build for 64-bit Windows with Debian's mingw-w64 (gcc-mingw-w64-x86-64),
# as scripts/test-windows.sh does. Everything links statically, so asgid.exe, the unit tests and
# the native app DLLs need no MinGW runtime DLL beside them: a DLL searched next to the program
# could be planted there.
#
# ASGID_WIN_DEPS names the prefix the dependencies were cross-built into (libuv, inih, cmocka,
# llhttp: scripts/test-windows.sh builds them from Debian's source packages); pkg-config looks
# there and in Debian's own mingw-w64 packages (zlib: libz-mingw-w64-dev), never on the host.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(mingw_triplet x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${mingw_triplet}-gcc)
set(CMAKE_RC_COMPILER ${mingw_triplet}-windres)

if(NOT ASGID_WIN_DEPS AND DEFINED ENV{ASGID_WIN_DEPS})
  set(ASGID_WIN_DEPS "$ENV{ASGID_WIN_DEPS}")
endif()

set(CMAKE_FIND_ROOT_PATH /usr/${mingw_triplet} ${ASGID_WIN_DEPS})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config: the target's .pc files only, with their static link lines (Libs.private).
# (try_compile projects read this file again, without ASGID_WIN_DEPS: the environment they
# share with the main project must stay as the main project set it.)
if(ASGID_WIN_DEPS)
  set(ENV{PKG_CONFIG_LIBDIR} "${ASGID_WIN_DEPS}/lib/pkgconfig:/usr/${mingw_triplet}/lib/pkgconfig")
  set(ENV{PKG_CONFIG_PATH} "")
endif()
set(PKG_CONFIG_ARGN --static)

set(CMAKE_EXE_LINKER_FLAGS_INIT -static)
set(CMAKE_SHARED_LINKER_FLAGS_INIT -static)
set(CMAKE_MODULE_LINKER_FLAGS_INIT -static)

# ctest runs the cross-built tests through Wine (the caller sets WINEPREFIX and friends).
if(NOT CMAKE_CROSSCOMPILING_EMULATOR)
  set(CMAKE_CROSSCOMPILING_EMULATOR wine)
endif()
