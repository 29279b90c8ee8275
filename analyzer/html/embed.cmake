# Turns a file into a C array, so the HTML report's script and style ship inside
# heapprof-analyze (the report must open with no network and no installed files).
# With IN, OUT and NAME set, include(embed.cmake) (or cmake -DIN=.. -DOUT=.. -DNAME=..
# -P embed.cmake) writes OUT defining `const unsigned char NAME[]` (NUL-terminated) and
# `const size_t NAME_len`, touching OUT only when its text changes.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){32})" "\\1\n" body "${body}")
get_filename_component(src ${IN} NAME)
file(WRITE ${OUT}.tmp "/* Generated from analyzer/html/${src} by embed.cmake; do not edit. */\n"
  "#include \"report_html_assets.h\"\n"
  "const unsigned char ${NAME}[] = {\n${body}0};\n"
  "const size_t ${NAME}_len = sizeof ${NAME} - 1;\n")
configure_file(${OUT}.tmp ${OUT} COPYONLY)
