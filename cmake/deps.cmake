# Third-party dependencies, each found through pkg-config. A missing one stops the configure
# step with the Debian package that provides it (docs/dependencies.md says why each is here).
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config")
endif()

function(mvot_require_pkg var module debpkg)
  pkg_check_modules(${var} IMPORTED_TARGET ${module})
  if(NOT ${var}_FOUND)
    message(FATAL_ERROR "${module} not found: apt-get install ${debpkg}")
  endif()
endfunction()

mvot_require_pkg(PNG libpng libpng-dev)
mvot_require_pkg(ZSTD libzstd libzstd-dev)
mvot_require_pkg(XXHASH libxxhash libxxhash-dev)
mvot_require_pkg(ARCHIVE libarchive libarchive-dev)
mvot_require_pkg(PCRE2 libpcre2-8 libpcre2-dev)
mvot_require_pkg(JANSSON jansson libjansson-dev)
mvot_require_pkg(UTF8PROC libutf8proc libutf8proc-dev)
mvot_require_pkg(OPENBLAS openblas libopenblas-dev)

find_package(Threads REQUIRED)
find_library(MATH_LIB m)
