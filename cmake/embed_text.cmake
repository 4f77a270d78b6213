# Writes INPUT's bytes into OUTPUT as `const char python_glue_source[]`, NUL-terminated.
# Bytes rather than a string literal: no escaping rules to get wrong.
file(READ "${INPUT}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUTPUT}" "/* Generated from ${INPUT} by cmake/embed_text.cmake. */\n"
                       "const char python_glue_source[] = {${bytes}0x00};\n")
