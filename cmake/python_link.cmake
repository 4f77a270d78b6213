# How the embedded CPython is linked into asgid (docs/architecture.md, "Linking the
# interpreter"). Included by CMakeLists.txt once python3-embed has been found.
#
# In:  ASGID_PYTHON_EXECUTABLE (the interpreter of the installation python3-embed describes),
#      ASGID_PYTHON_LINK (AUTO, STATIC or SHARED), ASGID_SANITIZE, PkgConfig::PYTHON_EMBED.
# Out: the INTERFACE target asgid_python, which everything embedding Python links against;
#      ASGID_PYTHON_STATIC (ON or OFF).
#
# Static: the distribution's libpython archive, linked whole into a non-PIE executable that
# exports the Python API (Py*, _Py*) for C extension modules. That is how python3 itself is
# built on Debian: pure Python code runs ~15% faster than through the shared libpython, whose
# position-independent code pays for every global access and for semantic interposition
# (calls between API functions cannot be inlined or made direct). Shared: the
# library python3-embed names, the fallback where no archive is shipped.

set(ASGID_PYTHON_LINK_CHOICES AUTO STATIC SHARED)
if(NOT ASGID_PYTHON_LINK IN_LIST ASGID_PYTHON_LINK_CHOICES)
  message(FATAL_ERROR "ASGID_PYTHON_LINK=${ASGID_PYTHON_LINK}: choose AUTO, STATIC or SHARED")
endif()

add_library(asgid_python INTERFACE)
set(ASGID_PYTHON_STATIC OFF)
set(static_unusable "")

# What the interpreter's own build says: where its archive is and what it links with.
execute_process(
  COMMAND "${ASGID_PYTHON_EXECUTABLE}" -c
          "import sysconfig\nfor v in ('LIBPL', 'LIBRARY', 'MODLIBS', 'LIBS', 'SYSLIBS'): print(sysconfig.get_config_var(v) or '')"
  OUTPUT_VARIABLE python_build_vars RESULT_VARIABLE python_rc ERROR_QUIET
  OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT python_rc EQUAL 0)
  set(static_unusable "${ASGID_PYTHON_EXECUTABLE} cannot be run to ask sysconfig for its archive")
else()
  string(REPLACE "\n" ";" python_build_vars "${python_build_vars}")
  list(GET python_build_vars 0 python_libpl)
  list(GET python_build_vars 1 python_library)
  list(SUBLIST python_build_vars 2 3 python_syslibs)
  string(JOIN " " python_syslibs ${python_syslibs})
  separate_arguments(python_syslibs UNIX_COMMAND "${python_syslibs}")
  list(REMOVE_DUPLICATES python_syslibs)
  set(python_archive "${python_libpl}/${python_library}")
  # What the archive links with must be flags or files that exist: CPython 3.13's MODLIBS
  # names Modules/_hacl/libHacl_Hash_SHA2.a of its own build tree, which Debian 13 does not
  # ship though its archive needs it (docs/architecture.md).
  set(python_missing_input "")
  foreach(input IN LISTS python_syslibs)
    if(NOT input MATCHES "^-" AND NOT EXISTS "${input}")
      set(python_missing_input "${input}")
    endif()
  endforeach()
  if(NOT python_library MATCHES "\\.a$" OR NOT EXISTS "${python_archive}")
    set(static_unusable "no static libpython archive (${python_archive}) in this installation")
  elseif(python_missing_input)
    string(CONCAT static_unusable "${python_archive} needs ${python_missing_input} "
           "(sysconfig's MODLIBS), a file of CPython's build tree this installation lacks")
  elseif(ASGID_SANITIZE)
    set(static_unusable "sanitizer build: the shared library keeps ASan's view of libpython simple")
  endif()
endif()

if(ASGID_PYTHON_LINK STREQUAL "STATIC" AND static_unusable)
  message(FATAL_ERROR "ASGID_PYTHON_LINK=STATIC: ${static_unusable}")
endif()

if(NOT static_unusable AND NOT ASGID_PYTHON_LINK STREQUAL "SHARED")
  # The whole archive: extension modules may call API functions asgid itself never does.
  set(python_static_link
      -Wl,--whole-archive "${python_archive}" -Wl,--no-whole-archive ${python_syslibs}
      -Wl,--export-dynamic-symbol=Py* -Wl,--export-dynamic-symbol=_Py*)
  # The archive's objects are position-dependent on Debian: the executable is not PIE, and
  # asgid's own code is compiled for a fixed address too.
  set(python_static_compile_options -fno-pie)
  set(python_static_options -no-pie)
  # Proof that it links and starts an interpreter, before the build depends on it.
  set(probe_dir "${CMAKE_BINARY_DIR}/python_link_probe")
  file(WRITE "${probe_dir}/probe.c"
       "#include <Python.h>\nint main(void) { Py_Initialize(); return Py_FinalizeEx(); }\n")
  try_compile(python_static_links "${probe_dir}/build" SOURCES "${probe_dir}/probe.c"
              CMAKE_FLAGS "-DINCLUDE_DIRECTORIES=${PYTHON_EMBED_INCLUDE_DIRS}"
              COMPILE_DEFINITIONS ${python_static_compile_options}
              LINK_OPTIONS ${python_static_options}
              LINK_LIBRARIES ${python_static_link} Threads::Threads
              OUTPUT_VARIABLE probe_output)
  if(python_static_links)
    set(ASGID_PYTHON_STATIC ON)
  elseif(ASGID_PYTHON_LINK STREQUAL "STATIC")
    message(FATAL_ERROR "ASGID_PYTHON_LINK=STATIC: linking ${python_archive} failed:\n${probe_output}")
  else()
    set(static_unusable
        "linking ${python_archive} failed (configure with -DASGID_PYTHON_LINK=STATIC to see why)")
  endif()
endif()

if(ASGID_PYTHON_STATIC)
  target_include_directories(asgid_python INTERFACE ${PYTHON_EMBED_INCLUDE_DIRS})
  target_link_libraries(asgid_python INTERFACE ${python_static_link})
  target_compile_options(asgid_python INTERFACE ${python_static_compile_options})
  target_link_options(asgid_python INTERFACE ${python_static_options})
  if(ASGID_PYTHON_LINK STREQUAL "STATIC")
    set(why "asked for")
  else()
    set(why "the installation ships its archive, the fastest link")
  endif()
  message(STATUS "asgid: Python linked statically from ${python_archive} (${why}; a non-PIE "
                 "executable, see docs/architecture.md)")
else()
  target_link_libraries(asgid_python INTERFACE PkgConfig::PYTHON_EMBED)
  if(ASGID_PYTHON_LINK STREQUAL "SHARED")
    message(STATUS "asgid: Python linked as a shared library (ASGID_PYTHON_LINK=SHARED)")
  else()
    message(STATUS "asgid: Python linked as a shared library: ${static_unusable}")
  endif()
endif()
