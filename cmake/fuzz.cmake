# The libFuzzer build (-DASGID_FUZZ=ON): every source of the project is compiled with
# libFuzzer's coverage instrumentation and ASan+UBSan, so the targets of tests/fuzz/ (linked
# with libFuzzer's driver) see which branches of asgid's code an input reached. Needs clang
# and Debian's libFuzzer runtime (libclang-rt-<version>-dev, which scripts/setup.sh installs).
if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "ASGID_FUZZ needs clang (libFuzzer is part of clang's runtime): configure "
                      "with CC=clang, after installing the Debian package clang")
endif()
string(REGEX MATCH "^[0-9]+" ASGID_CLANG_MAJOR "${CMAKE_C_COMPILER_VERSION}")

include(CheckCSourceCompiles)
set(CMAKE_REQUIRED_FLAGS "-fsanitize=fuzzer")
check_c_source_compiles("
  #include <stddef.h>
  #include <stdint.h>
  int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
  int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { (void)data; return (int)size * 0; }"
  ASGID_HAVE_LIBFUZZER)
unset(CMAKE_REQUIRED_FLAGS)
if(NOT ASGID_HAVE_LIBFUZZER)
  message(FATAL_ERROR "clang ${CMAKE_C_COMPILER_VERSION} cannot link -fsanitize=fuzzer: install "
                      "the Debian package libclang-rt-${ASGID_CLANG_MAJOR}-dev (libFuzzer)")
endif()

# fuzzer-no-link: the instrumentation only; the targets add the driver (-fsanitize=fuzzer).
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                    -fno-sanitize-recover=undefined)
add_link_options(-fsanitize=address,undefined)
