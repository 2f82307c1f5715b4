# Finds the dependencies listed in third_party/manifest. CivetWeb is compiled from the Debian source package that
# scripts/fetch-deps.sh unpacked into DESTEK_DEPS; the others come from Debian's -dev packages, linked statically
# where the design asks for it (SQLite, Lua, mbedTLS) so that the binary carries them.

set(CIVETWEB_DIR "${DESTEK_DEPS}/civetweb")
if(NOT EXISTS "${CIVETWEB_DIR}/src/civetweb.c")
  message(FATAL_ERROR "CivetWeb source not found in ${CIVETWEB_DIR}: run scripts/fetch-deps.sh (build.sh does)")
endif()

add_library(destek_civetweb STATIC "${CIVETWEB_DIR}/src/civetweb.c")
target_include_directories(destek_civetweb PUBLIC "${CIVETWEB_DIR}/include")
# PUBLIC: civetweb.h's structs (mg_callbacks) change with these, so both sides must see the same set.
target_compile_definitions(destek_civetweb PUBLIC USE_MBEDTLS USE_IPV6 USE_WEBSOCKET NO_CGI)
# A websocket left silent for 20 s (websocket_timeout_ms) is pinged; after more than 3 unanswered pings it is closed.
# CivetWeb's threads look at the stop flag every SOCKET_TIMEOUT_QUANTUM ms (2000 by default): 500 lets SIGTERM end
# the server within half a second, for an idle wakeup twice a second per open connection.
# ALTERNATIVE_QUEUE: a new connection goes to the idle worker thread with the lowest index (an eventfd each) instead of
# whichever the condition variable wakes (in turn, all of them): with the few hundred threads a module's public
# websocket adds (core/wspub.c), requests keep reusing the first threads, and the others never open a database
# connection or a Lua state.
target_compile_definitions(destek_civetweb PRIVATE MG_MAX_UNANSWERED_PING=3 SOCKET_TIMEOUT_QUANTUM=500 ALTERNATIVE_QUEUE)
target_compile_options(destek_civetweb PRIVATE -w)

set(CJSON_DIR "${DESTEK_DEPS}/cjson")
if(NOT EXISTS "${CJSON_DIR}/cJSON.c")
  message(FATAL_ERROR "cJSON source not found in ${CJSON_DIR}: run scripts/fetch-deps.sh (build.sh does)")
endif()
# Plugins include <cjson/cJSON.h>: give the header that path.
file(COPY "${CJSON_DIR}/cJSON.h" DESTINATION "${CMAKE_BINARY_DIR}/cjson-include/cjson")
set(CJSON_INCLUDE "${CMAKE_BINARY_DIR}/cjson-include")
add_library(destek_cjson STATIC "${CJSON_DIR}/cJSON.c")
target_include_directories(destek_cjson PUBLIC "${CJSON_INCLUDE}")
set_target_properties(destek_cjson PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_compile_options(destek_cjson PRIVATE -w)

function(destek_static_lib var name)
  find_library(${var} NAMES ${name} PATHS /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu NO_CACHE)
  if(NOT ${var})
    message(FATAL_ERROR "static library ${name} not found: install the Debian -dev package named in third_party/manifest")
  endif()
  set(${var} ${${var}} PARENT_SCOPE)
endfunction()

destek_static_lib(SQLITE_A libsqlite3.a)
destek_static_lib(LUA_A liblua5.4.a)
# cmark-gfm (help-centre Markdown with tables, core/lua_markdown.c), static: the binary carries it as it carries SQLite
# and Lua. The extensions' library first: it uses the core library's functions.
destek_static_lib(CMARK_GFM_EXT_A libcmark-gfm-extensions.a)
destek_static_lib(CMARK_GFM_A libcmark-gfm.a)
set(CMARK_A ${CMARK_GFM_EXT_A} ${CMARK_GFM_A})
destek_static_lib(MBEDTLS_A libmbedtls.a)
destek_static_lib(MBEDX509_A libmbedx509.a)
destek_static_lib(MBEDCRYPTO_A libmbedcrypto.a)

find_package(PkgConfig REQUIRED)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
# GMime 3 (inbound MIME, core/mail*.c) is linked dynamically: a static GMime drags in a static GIO, GLib, PCRE2 and
# GPGME (+4.5 MB stripped, measured), needs libgpgme-dev and libassuan-dev for their .a files, and still cannot be
# fully static because Debian 12 ships no libmount.a for GIO. Runtime: libgmime-3.0-0 (GLib, GPGME).
pkg_check_modules(GMIME REQUIRED IMPORTED_TARGET gmime-3.0)
find_path(LUA_INCLUDE lua.h PATHS /usr/include/lua5.4 REQUIRED NO_DEFAULT_PATH)

add_library(destek_deps INTERFACE)
# libcurl's headers only: the binary loads libcurl.so.4 at its first outbound call (core/curl_lazy.c); a module
# built as a .so links it (CMakeLists.txt, destek_module_flags).
target_include_directories(destek_deps INTERFACE ${LUA_INCLUDE} ${CJSON_INCLUDE} ${CURL_INCLUDE_DIRS})
target_compile_options(destek_deps INTERFACE ${CURL_CFLAGS_OTHER})
target_link_libraries(destek_deps INTERFACE
  ${SQLITE_A} ${LUA_A} ${CMARK_A} ${MBEDTLS_A} ${MBEDX509_A} ${MBEDCRYPTO_A}
  destek_cjson PkgConfig::GMIME pthread m dl)
